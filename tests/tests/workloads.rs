//! The platform's workloads on EKS as the Services page and `vigil eks` show them, against the
//! emulator with the bundle deployed and the harness's fake Kubernetes API server (no real one
//! can run here; its kubelet runs the worker's pods as real pj-worker processes): the rollout,
//! its history and what each revision changed, pods with their zones and their own /readyz
//! through the API server's proxy, events captured past the cluster's own retention and
//! watched as they come, logs as a window and followed; restart, rollback and scale, each
//! confirmed and logged, scale within the tier's bounds; the cause of a stuck rollout for each
//! cause, and a rollback out of one; faults on both the AWS and the Kubernetes side, and a
//! cluster that no longer exists.

mod common;

use common::{deployed, faulted};
use std::sync::Arc;
use std::time::Duration;
use vigil_core::progress::Progress;
use vigil_core::App;
use vigil_dto::eks::{KubeEvent, LogLine, ServiceWorkload, WorkloadAction};
use vigil_tests::faults::Fault;
use vigil_tests::kube::{RolloutMode, Stuck};

const NS: &str = "patient-journey";
const WORKER: &str = "/apis/apps/v1/namespaces/patient-journey/deployments/pj-worker";

async fn logged(app: &App) -> Vec<String> {
    app.oplog().list(1000, None).await.unwrap().into_iter().map(|e| e.action).collect()
}

async fn worker(app: &App) -> ServiceWorkload {
    let w = app.eks().workloads().await.unwrap();
    assert_eq!(w.services.len(), 1);
    w.services[0].clone()
}

/// The worker after a change has rolled out: the fake's controller moves one step per read
/// (the first read after a change shows it rolling out).
async fn rolled_out(app: &App) -> ServiceWorkload {
    let first = worker(app).await;
    assert_eq!(first.state, "progressing", "{first:#?}");
    worker(app).await
}

/// How long a stream may take to hand over what was just written (a bound, not a timing).
const SOON: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_its_history_pods_readyz_events_and_logs() {
    let (moto, kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;

    let w = worker(&app).await;
    assert_eq!((w.service.as_str(), w.deployment.as_str(), w.state.as_str()), ("worker", "pj-worker", "rolled_out"), "{w:#?}");
    assert_eq!((w.revision, w.desired, w.min_replicas, w.max_replicas), (Some(1), 2, Some(2), Some(4)), "the small tier's bounds");
    assert!(w.images[0].starts_with("pj-worker:") && w.cause.is_none(), "{w:#?}");
    assert_eq!(w.history.len(), 1);
    assert_eq!((w.history[0].current, w.history[0].changes.as_slice()), (true, &["first revision".to_string()][..]));
    // Two pods in two zones, each the real worker: its /readyz answered through the proxy.
    assert_eq!(w.pods.len(), 2, "{:#?}", w.pods);
    let mut running = kube.pods();
    running.sort();
    assert_eq!(w.pods.iter().map(|p| p.name.clone()).collect::<Vec<_>>(), running);
    for p in &w.pods {
        assert!(p.ready && p.revision == Some(1) && p.zone.as_deref().is_some_and(|z| z.starts_with("us-east-1")), "{p:#?}");
        let (code, body) = p.readyz.clone().expect("the pod's /readyz");
        assert!(matches!(code, 200 | 503) && body.contains("\"ready\""), "the worker's own answer: {code} {body}");
    }
    assert_ne!(w.pods[0].zone, w.pods[1].zone, "spread over zones");

    // Events: the rollout's, as the cluster keeps them.
    let events = app.eks().workloads().await.unwrap().events;
    assert!(events.iter().any(|e| e.reason == "ScalingReplicaSet" && e.object == "Deployment/pj-worker"), "{events:#?}");
    assert!(events.iter().any(|e| e.reason == "Scheduled") && events.iter().all(|e| e.in_cluster), "{events:#?}");
    // The cluster drops them (EKS after about an hour): Vigil still has what it captured.
    kube.expire_events();
    let kept = app.eks().workloads().await.unwrap().events;
    assert_eq!(kept.len(), events.len());
    assert!(kept.iter().all(|e| !e.in_cluster), "{kept:#?}");

    // A new event while Vigil watches: handed over and captured.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let progress = Arc::new(Progress::default());
    let watch = {
        let (app, progress) = (app.clone(), progress.clone());
        tokio::spawn(async move { app.eks().watch_events(&move |e: KubeEvent| tx.send(e).unwrap_or_default(), progress).await })
    };
    kube.watched().await;
    kube.record_event(NS, "Pod", &running[0], "Warning", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500");
    let e = tokio::time::timeout(SOON, rx.recv()).await.expect("the watched event").unwrap();
    assert_eq!((e.reason.as_str(), e.object), ("Unhealthy", format!("Pod/{}", running[0])));
    progress.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    tokio::time::timeout(SOON, watch).await.expect("the watch stops when cancelled").unwrap().unwrap();
    assert!(app.eks().workloads().await.unwrap().events.iter().any(|e| e.reason == "Unhealthy" && e.in_cluster));

    // Logs: both pods' output, merged in time order; then followed.
    let lines = app.eks().logs(Some(3600), None).await.unwrap();
    let mut pods: Vec<String> = lines.iter().map(|l| l.pod.clone()).collect();
    pods.dedup();
    pods.sort();
    pods.dedup();
    assert_eq!(pods, running, "{lines:#?}");
    assert!(lines.windows(2).all(|w| w[0].time <= w[1].time) && lines.iter().all(|l| !l.time.is_empty()));
    let tail = app.eks().logs(None, Some(1)).await.unwrap();
    assert_eq!(tail.len(), 2, "one line of each pod: {tail:#?}");
    assert_eq!(app.eks().logs(Some(0), None).await.unwrap_err().kind(), "validation");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let progress = Arc::new(Progress::default());
    let follow = {
        let (app, progress) = (app.clone(), progress.clone());
        tokio::spawn(async move { app.eks().follow_logs(Some(0), &move |l: LogLine| tx.send(l).unwrap_or_default(), progress).await })
    };
    // Written once the follow is open: it comes through (the worker may print lines of its own).
    kube.followed(&running[1]).await;
    kube.log(&running[1], "{\"level\":\"INFO\",\"message\":\"followed line\"}");
    loop {
        let l = tokio::time::timeout(SOON, rx.recv()).await.expect("a followed line").unwrap();
        if l.text.contains("followed line") {
            assert_eq!(l.pod, running[1]);
            break;
        }
    }
    progress.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    tokio::time::timeout(SOON, follow).await.expect("the follow stops when cancelled").unwrap().unwrap();

    // Restart: the environment's name must be typed; then every pod is replaced.
    let e = app.eks().act(&WorkloadAction::Restart, "staging").await.unwrap_err();
    assert_eq!(e.kind(), "confirmation_required", "{e}");
    assert!(e.hint().unwrap().contains("prod"));
    assert!(!logged(&app).await.iter().any(|a| a.starts_with("eks.")));
    let c = app.eks().act(&WorkloadAction::Restart, "prod").await.unwrap();
    assert!(c.summary.starts_with("restarted at"), "{c:?}");
    let w = worker(&app).await;
    assert_eq!(w.revision, Some(2));
    assert!(w.history[0].changes[0].starts_with("restarted at"), "{:#?}", w.history);
    assert!(w.pods.iter().all(|p| p.revision == Some(2) && !running.contains(&p.name)), "{:#?}", w.pods);

    // Rollback: to revision 1's template, which Kubernetes numbers 3.
    for (revision, says) in [(2, "already runs revision 2"), (9, "keeps 2, 1")] {
        let e = app.eks().act(&WorkloadAction::Rollback { revision }, "prod").await.unwrap_err();
        assert_eq!(e.kind(), "validation", "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
    let c = app.eks().act(&WorkloadAction::Rollback { revision: 1 }, "prod").await.unwrap();
    assert!(c.summary.contains("from revision 2 to revision 1"), "{c:?}");
    let w = worker(&app).await;
    assert_eq!(w.history.iter().map(|r| (r.revision, r.current)).collect::<Vec<_>>(), [(3, true), (2, false)]);
    assert!(kube.object(WORKER).unwrap()["spec"]["template"]["metadata"]["annotations"]["vigil.io/restarted-at"].is_null());

    // Scale: within the tier's bounds only.
    for (replicas, says) in [(5, "runs 2 to 4 replicas"), (1, "runs 2 to 4 replicas"), (2, "already runs 2 replicas")] {
        let e = app.eks().act(&WorkloadAction::Scale { replicas }, "prod").await.unwrap_err();
        assert_eq!(e.kind(), "validation", "{replicas}: {e}");
        assert!(e.to_string().contains(says), "{e}");
    }
    let c = app.eks().act(&WorkloadAction::Scale { replicas: 3 }, "prod").await.unwrap();
    assert_eq!(c.summary, "scaled from 2 to 3 replicas");
    let w = worker(&app).await;
    assert_eq!((w.desired, w.pods.len(), kube.pods().len()), (3, 3, 3));
    assert_eq!(w.revision, Some(3), "scaling is no new revision");

    let log = app.oplog().list(1000, None).await.unwrap();
    let eks: Vec<_> = log.iter().filter(|r| r.action.starts_with("eks.")).collect();
    // Newest first.
    assert_eq!(eks.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["eks.scale", "eks.rollback", "eks.restart"]);
    let rollback: serde_json::Value = serde_json::from_str(&eks[1].details).unwrap();
    assert_eq!((rollback["from"].as_i64(), rollback["to"].as_i64(), rollback["environment"].as_str()), (Some(2), Some(1), Some("prod")));

    // A console started read-only may look, not change.
    let ro = common::open(data.path()).await.read_only(true);
    assert_eq!(ro.eks().workloads().await.unwrap().services[0].desired, 3);
    assert_eq!(ro.eks().act(&WorkloadAction::Restart, "prod").await.unwrap_err().kind(), "read_only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_rollout_names_its_cause_and_a_rollback_gets_out_of_it() {
    let (moto, kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    assert_eq!(worker(&app).await.state, "rolled_out");

    for (stuck, kind, says) in [
        (Stuck::ImagePull, "image_pull", "ImagePullBackOff: pj-worker:"),
        (Stuck::CrashLoop, "crash_loop", "container worker restarted 5 times, last ended Error, exit code 1"),
        (Stuck::Config, "config", "configmap \"pj-worker\" not found"),
        (Stuck::Unschedulable, "unschedulable", "Insufficient memory"),
        (Stuck::Readiness, "readiness", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
    ] {
        kube.break_current(stuck);
        let w = worker(&app).await;
        assert_eq!(w.state, "stuck", "{stuck:?}: {w:#?}");
        assert!(w.failed.as_deref().unwrap().contains("has timed out progressing"), "{w:#?}");
        let cause = w.cause.clone().unwrap_or_else(|| panic!("{stuck:?}: no cause in {w:#?}"));
        assert_eq!(cause.kind, kind, "{stuck:?}: {cause:#?}");
        assert!(cause.detail.contains(says), "{stuck:?}: {cause:#?}");
        assert!(!cause.hint.is_empty());
        // The failing pod is listed with its problem; the old ones still serve (maxUnavailable 0).
        let failing = w.pods.iter().find(|p| p.name == cause.pod).unwrap();
        assert!(!failing.ready && failing.problem.is_some(), "{failing:#?}");
        assert_eq!(w.pods.iter().filter(|p| p.ready).count(), 2, "{:#?}", w.pods);
        if stuck == Stuck::CrashLoop {
            // What the crashing container printed is in its log.
            let lines = app.eks().logs(Some(600), None).await.unwrap();
            assert!(lines.iter().any(|l| l.pod == cause.pod && l.text.contains("startup failed")), "{lines:#?}");
        }
        // Fixed: the template rolls out, no cause.
        kube.set_rollout(RolloutMode::Progress);
        let w = rolled_out(&app).await;
        assert_eq!((w.state.as_str(), w.cause.as_ref()), ("rolled_out", None), "{stuck:?}: {w:#?}");
    }

    // A new template that cannot come up (an image that is not there), then a rollback to the
    // revision before it, which still can.
    kube.set_rollout(RolloutMode::Stuck(Stuck::ImagePull));
    // The deploy's own validation says the cause too.
    app.eks().act(&WorkloadAction::Restart, "prod").await.unwrap();
    let w = worker(&app).await;
    assert_eq!((w.state.as_str(), w.revision), ("stuck", Some(2)));
    assert_eq!(w.cause.as_ref().unwrap().kind, "image_pull");
    let v = app.deploy().validate("prod").await.unwrap();
    let check = v.checks.iter().find(|c| c.id == "worker").unwrap();
    assert!(check.detail.contains("ImagePullBackOff"), "{check:?}");
    app.eks().act(&WorkloadAction::Rollback { revision: 1 }, "prod").await.unwrap();
    let w = rolled_out(&app).await;
    assert_eq!((w.state.as_str(), w.revision, w.cause.as_ref()), ("rolled_out", Some(3), None), "{w:#?}");
    assert_eq!(w.pods.iter().filter(|p| p.ready).count(), 2, "{:#?}", w.pods);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_either_side_are_classified_change_nothing_and_it_recovers() {
    let (moto, kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let (proxy, app) = faulted(data.path(), &moto.endpoint()).await;

    // AWS: describing the cluster (for its endpoint and CA) fails.
    for (fault, kind) in [
        (Fault::Throttle { retry_after: None }, "throttled"),
        (Fault::Status(500), "aws_error"),
        (Fault::ExpiredToken, "expired_credentials"),
        (Fault::Reset, "endpoint_unreachable"),
    ] {
        proxy.inject_after("eks", None, 0, fault.clone(), 100);
        let e = app.eks().workloads().await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        let e = app.eks().act(&WorkloadAction::Scale { replicas: 3 }, "prod").await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        proxy.clear();
    }
    // Kubernetes: no access for these credentials, a role without the permission, a failing
    // API server; nothing is changed or logged.
    for (status, kind, hint) in
        [(401, "unauthorized", "aws eks create-access-entry --cluster-name pj-"), (403, "forbidden", "access entry"), (500, "api", "try again")]
    {
        kube.deny(Some(status));
        let e = app.eks().workloads().await.unwrap_err();
        assert_eq!(e.kind(), kind, "{status}: {e}");
        assert!(e.hint().unwrap().contains(hint), "{status}: {:?}", e.hint());
        if status == 401 {
            // Who the cluster refused, by the principal an access entry would name.
            assert!(e.to_string().contains("does not let arn:aws:iam::"), "{e}");
        }
        let e = app.eks().act(&WorkloadAction::Scale { replicas: 3 }, "prod").await.unwrap_err();
        assert_eq!(e.kind(), kind, "{status}: {e}");
        assert_eq!(app.eks().logs(Some(60), None).await.unwrap_err().kind(), kind);
        kube.deny(None);
    }
    assert!(!logged(&app).await.iter().any(|a| a.starts_with("eks.")));
    assert_eq!(kube.object(WORKER).unwrap()["spec"]["replicas"], 2);

    // Recovered.
    app.eks().act(&WorkloadAction::Scale { replicas: 3 }, "prod").await.unwrap();
    assert_eq!(worker(&app).await.desired, 3);
    assert!(logged(&app).await.contains(&"eks.scale".to_string()));

    // The cluster no longer exists: said so, with what to do.
    let mut input = app.environments().get("prod").await.unwrap().to_input();
    input.deployment.insert("cluster_name".into(), "pj-gone".into());
    app.environments().update("prod", &input).await.unwrap();
    let e = app.eks().workloads().await.unwrap_err();
    assert_eq!(e.kind(), "cluster_missing", "{e}");
    assert!(e.to_string().contains("pj-gone") && e.hint().is_some(), "{e}");
}

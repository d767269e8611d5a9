//! The DR area against the AWS emulator: the bundle's runbooks read from the signed bundle (a
//! runbook changed after signing, or signed malformed, refused with its line), and the DR lease
//! held in the platform's bucket with S3's conditional writes — one console at a time, a
//! console taking its own lease back to resume, a stale lease broken only with the
//! environment's name typed (logged), a lost lease found at renewal, a read-only console
//! refused, and the fault injector on the lease's S3 calls. Runs against a platform deployed into
//! the emulator (its Aurora cluster on the tests' PostgreSQL, its worker under the fake
//! kubelet): the in-region failover and its failback end to end, a dry run catching a failing
//! precheck with its fix, and faults mid-run that pause it and a resume that does nothing twice.

mod common;

use std::path::Path;
use std::time::Duration;
use vigil_core::error::Error;
use vigil_core::App;
use vigil_tests::faults::{Fault, FaultProxy};
use vigil_tests::signed_bundle;

const BUCKET: &str = "pj-prod-documents";

/// A console (its own store) whose environment "prod" reaches AWS through `endpoint`, with the
/// documents bucket as its only deployment parameter, giving up on AWS quickly.
async fn console(dir: &Path, endpoint: &str) -> App {
    common::quick(common::console(dir, endpoint, [("bucket".to_string(), BUCKET.to_string())].into_iter().collect()).await)
}

async fn make_bucket(endpoint: &str) -> aws_sdk_s3::Client {
    let conf = vigil_tests::emulator_sdk_config(endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    s3
}

async fn lease_object(s3: &aws_sdk_s3::Client) -> Option<serde_json::Value> {
    match s3.get_object().bucket(BUCKET).key(vigil_core::dr::lease::KEY).send().await {
        Ok(o) => Some(serde_json::from_slice(&o.body.collect().await.unwrap().into_bytes()).unwrap()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => None,
        Err(e) => panic!("{e:?}"),
    }
}

async fn actions(app: &App) -> Vec<String> {
    app.oplog().list(100, None).await.unwrap().into_iter().map(|e| e.action).collect()
}

fn kind(e: &Error) -> &'static str {
    e.kind()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundles_runbooks_are_listed_with_their_steps_and_expected_time() {
    let moto = vigil_tests::Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let app = console(dir.path(), &moto.endpoint()).await;
    let bundle = signed_bundle("1.0.0", |_| {});

    let list = app.dr().runbooks(Some(bundle.path())).await.unwrap();
    let ids: Vec<&str> = list.iter().map(|r| r.id.as_str()).collect();
    for id in [
        "aurora-failover",
        "aurora-failover-failback",
        "aurora-global-switchover",
        "aurora-global-failover",
        "aurora-pitr-restore",
        "aurora-backup-restore",
        "worker-failover",
        "platform-repoint",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for r in &list {
        assert!(r.expected_secs > 0 && r.expected_secs < 3600, "{}: {} s", r.id, r.expected_secs);
        assert_eq!(r.sha256.len(), 64);
    }
    let fo = app.dr().runbook(Some(bundle.path()), "aurora-failover").await.unwrap();
    assert_eq!(fo.failback.as_deref(), Some("aurora-failover-failback"));
    let steps: Vec<(&str, &str, bool)> = fo.steps.iter().map(|s| (s.id.as_str(), s.kind.as_str(), s.destructive)).collect();
    assert_eq!(steps, [("find-target", "action", false), ("approve", "approval", false), ("failover", "action", true), ("reconnect", "wait", false)]);
    assert!(fo.steps[2].does.starts_with("rds.failover_cluster(cluster=${env.db_cluster_id}"), "{:?}", fo.steps[2]);
    assert!(fo.steps[2].rollback.as_deref().unwrap().contains("${steps.failover.from}"));
    assert!(fo.iam_actions.contains(&"rds:FailoverDBCluster".to_string()), "{:?}", fo.iam_actions);
    let back = app.dr().runbook(Some(bundle.path()), "aurora-failover-failback").await.unwrap();
    assert_eq!(back.failback_of.as_deref(), Some("aurora-failover"));
    assert_eq!(back.params[0].from_forward.as_deref(), Some("${forward.failover.from}"));

    let e = app.dr().runbook(Some(bundle.path()), "nope").await.unwrap_err();
    assert_eq!(kind(&e), "no_runbook");
    assert!(e.hint().unwrap().contains("aurora-failover"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_changed_after_signing_or_signed_malformed_is_refused() {
    let moto = vigil_tests::Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let app = console(dir.path(), &moto.endpoint()).await;

    // Changed after signing: the bundle's verification refuses it before any runbook is read.
    let bundle = signed_bundle("1.0.0", |_| {});
    let file = bundle.path().join("runbooks/aurora-failover.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("timeout = \"15m\"", "timeout = \"150m\"")).unwrap();
    let e = app.dr().runbooks(Some(bundle.path())).await.unwrap_err();
    assert!(matches!(e, Error::Bundle(_)), "{e:?}");
    assert!(e.to_string().contains("runbooks/aurora-failover.toml"), "{e}");

    // Signed, but malformed: refused with the file, line and field.
    let bundle = signed_bundle("1.0.0", |root| {
        let file = root.join("runbooks/aurora-failover.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace("rds.failover_cluster\", cluster", "rds.failover_clustre\", cluster")).unwrap();
    });
    let e = app.dr().runbooks(Some(bundle.path())).await.unwrap_err();
    assert_eq!(kind(&e), "runbook_invalid");
    let line = std::fs::read_to_string(bundle.path().join("runbooks/aurora-failover.toml"))
        .unwrap()
        .lines()
        .position(|l| l.contains("rds.failover_clustre"))
        .unwrap()
        + 1;
    assert!(e.to_string().contains(&format!("runbooks/aurora-failover.toml:{line}:")), "{e}");
    assert!(e.to_string().contains("steps[2].action.call: there is no action `rds.failover_clustre`"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_console_at_a_time_holds_the_lease_and_takes_its_own_back() {
    let moto = vigil_tests::Moto::start();
    let s3 = make_bucket(&moto.endpoint()).await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (console(da.path(), &moto.endpoint()).await, console(db.path(), &moto.endpoint()).await);
    assert_ne!(a.dr().console_id().await.unwrap(), b.dr().console_id().await.unwrap());
    assert_eq!(a.dr().console_id().await.unwrap(), a.dr().console_id().await.unwrap());
    assert_eq!(a.dr().lease().await.unwrap(), None);

    let mut lease = a.dr().take_lease("aurora-failover", "run-1").await.unwrap();
    let held = lease_object(&s3).await.expect("the lease is in the platform's bucket");
    assert_eq!((held["run_id"].as_str(), held["runbook"].as_str()), (Some("run-1"), Some("aurora-failover")));

    // The second console is refused, told who holds it.
    let e = b.dr().take_lease("aurora-pitr-restore", "run-9").await.unwrap_err();
    assert_eq!(kind(&e), "lease_held");
    assert!(e.to_string().contains("run run-1 of aurora-failover"), "{e}");
    assert!(!actions(&b).await.contains(&"dr.lease_taken".to_string()));
    let seen = b.dr().lease().await.unwrap().unwrap();
    assert!(!seen.stale && seen.location == format!("s3://{BUCKET}/vigil/dr/lease.json"), "{seen:?}");

    // The holder renews it; the same console takes it back for the same run (a resume), not
    // for another.
    let before = lease.body.expires_at;
    a.dr().renew_lease(&mut lease).await.unwrap();
    assert!(lease.body.expires_at >= before);
    let again = a.dr().take_lease("aurora-failover", "run-1").await.unwrap();
    assert_eq!(again.body.acquired_at, lease.body.acquired_at);
    assert_eq!(kind(&a.dr().take_lease("aurora-failover", "run-2").await.unwrap_err()), "lease_held");
    // The first handle's ETag is outdated now: renewing with it finds the lease changed.
    assert_eq!(kind(&a.dr().renew_lease(&mut lease).await.unwrap_err()), "lease_lost");

    // Released, the other console takes it.
    assert!(a.dr().release_lease(&again).await.unwrap());
    assert_eq!(lease_object(&s3).await, None);
    let theirs = b.dr().take_lease("aurora-pitr-restore", "run-9").await.unwrap();
    assert_eq!(theirs.body.run_id, "run-9");
    let logged = actions(&a).await;
    assert!(logged.contains(&"dr.lease_taken".to_string()) && logged.contains(&"dr.lease_released".to_string()), "{logged:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_lease_is_broken_only_with_the_environments_name_typed() {
    let moto = vigil_tests::Moto::start();
    let s3 = make_bucket(&moto.endpoint()).await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (console(da.path(), &moto.endpoint()).await, console(db.path(), &moto.endpoint()).await);

    // A live lease cannot be broken.
    let mut lease = a.dr().take_lease("aurora-failover", "run-1").await.unwrap();
    let e = b.dr().break_lease("prod").await.unwrap_err();
    assert_eq!(kind(&e), "lease_not_stale");
    assert!(lease_object(&s3).await.is_some());

    // The holding console stopped: its lease expired an hour ago (written as it left it).
    let mut stale = lease_object(&s3).await.unwrap();
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    stale["renewed_at"] = past.clone().into();
    stale["expires_at"] = past.into();
    s3.put_object().bucket(BUCKET).key(vigil_core::dr::lease::KEY).body(serde_json::to_vec(&stale).unwrap().into()).send().await.unwrap();
    assert!(b.dr().lease().await.unwrap().unwrap().stale);
    let e = b.dr().take_lease("aurora-failover", "run-2").await.unwrap_err();
    assert_eq!(kind(&e), "lease_held");
    assert!(e.hint().unwrap().contains("break the lease"), "{e:?}");

    // Without the name typed: refused, nothing changed or logged.
    for wrong in ["", "staging"] {
        assert_eq!(kind(&b.dr().break_lease(wrong).await.unwrap_err()), "confirmation_required");
    }
    assert!(lease_object(&s3).await.is_some());
    assert!(!actions(&b).await.contains(&"dr.lease_broken".to_string()));

    let broken = b.dr().break_lease("prod").await.unwrap();
    assert_eq!(broken.run_id, "run-1");
    assert_eq!(lease_object(&s3).await, None);
    let entry = b.oplog().list(10, None).await.unwrap().into_iter().find(|e| e.action == "dr.lease_broken").expect("logged");
    let details: serde_json::Value = serde_json::from_str(&entry.details).unwrap();
    assert_eq!(details["run_id"], "run-1");
    assert!(details["holder"].as_str().unwrap().contains(" on "), "{details}");

    // The console that held it finds out at its next renewal; the other takes it.
    assert_eq!(kind(&a.dr().renew_lease(&mut lease).await.unwrap_err()), "lease_lost");
    b.dr().take_lease("aurora-failover", "run-2").await.unwrap();
    assert_eq!(kind(&b.dr().break_lease("prod").await.unwrap_err()), "lease_not_stale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_console_and_an_environment_without_a_bucket_take_no_lease() {
    let moto = vigil_tests::Moto::start();
    let s3 = make_bucket(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = console(dir.path(), &moto.endpoint()).await.read_only(true);
    assert_eq!(kind(&app.dr().take_lease("aurora-failover", "run-1").await.unwrap_err()), "read_only");
    assert_eq!(kind(&app.dr().break_lease("prod").await.unwrap_err()), "read_only");
    assert_eq!(lease_object(&s3).await, None);
    assert_eq!(app.dr().lease().await.unwrap(), None);

    let dir = tempfile::tempdir().unwrap();
    let app = console(dir.path(), &moto.endpoint()).await;
    let mut input = app.environments().get("prod").await.unwrap().to_input();
    input.deployment.clear();
    app.environments().update("prod", &input).await.unwrap();
    let e = app.dr().take_lease("aurora-failover", "run-1").await.unwrap_err();
    assert_eq!(kind(&e), "no_lease_bucket");
    assert!(e.hint().unwrap().contains("dr_lease_bucket"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_the_lease_are_classified_and_leave_no_lease_behind() {
    let moto = vigil_tests::Moto::start();
    let s3 = make_bucket(&moto.endpoint()).await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = console(dir.path(), &proxy.endpoint()).await;

    let cases = [
        (Fault::Throttle { retry_after: None }, "throttled"),
        (Fault::Status(503), "service_unavailable"),
        (Fault::ExpiredToken, "expired_credentials"),
        (Fault::Reset, "endpoint_unreachable"),
        (Fault::Hang, "timeout"),
    ];
    for (fault, expected) in cases {
        proxy.inject("s3", Some("PutObject"), fault.clone(), 10);
        let e = app.dr().take_lease("aurora-failover", "run-1").await.unwrap_err();
        assert_eq!(kind(&e), expected, "{fault:?}: {e:?}");
        assert!(e.hint().is_some());
        proxy.clear();
        assert_eq!(lease_object(&s3).await, None, "{fault:?}");
        assert!(!actions(&app).await.contains(&"dr.lease_taken".to_string()));
    }
    // Reading who holds it.
    proxy.inject("s3", Some("GetObject"), Fault::Status(500), 10);
    assert_eq!(kind(&app.dr().lease().await.unwrap_err()), "aws_error");
    proxy.clear();

    // A renewal throttled says so, and the lease is still this console's afterwards.
    let mut lease = app.dr().take_lease("aurora-failover", "run-1").await.unwrap();
    proxy.inject("s3", Some("PutObject"), Fault::Throttle { retry_after: None }, 10);
    assert_eq!(kind(&app.dr().renew_lease(&mut lease).await.unwrap_err()), "throttled");
    proxy.clear();
    app.dr().renew_lease(&mut lease).await.unwrap();
    // A release whose answer was lost (the SDK asks again, and finds it gone): the lease is
    // gone, and releasing again is no error.
    proxy.inject("s3", Some("DeleteObject"), Fault::Lost, 1);
    let _ = app.dr().release_lease(&lease).await;
    proxy.clear();
    assert_eq!(lease_object(&s3).await, None);
    assert!(app.dr().release_lease(&lease).await.unwrap());
}

/// The deployed platform's console, signed in to the platform database as the server's
/// superuser (the emulator's PostgreSQL has no IAM authentication; as scripts/run does), its
/// runbook waits polling every 20 ms.
async fn platform_console(dir: &Path, moto: &str, endpoint: &str) -> App {
    let app = common::quick(common::deployed(dir, moto, endpoint).await).dr_poll(Duration::from_millis(20));
    common::as_superuser(&app).await;
    app
}

async fn writer(endpoint: &str, cluster: &str) -> String {
    let rds = aws_sdk_rds::Client::new(&vigil_tests::emulator_sdk_config(endpoint).await);
    let c = rds.describe_db_clusters().db_cluster_identifier(cluster).send().await.unwrap();
    c.db_clusters()[0]
        .db_cluster_members()
        .iter()
        .find(|m| m.is_cluster_writer() == Some(true))
        .unwrap()
        .db_instance_identifier()
        .unwrap()
        .to_string()
}

/// A deployed platform, its console (AWS through a fault injector, or not), the signed bundle
/// and the platform's Aurora cluster. Kept whole while a test runs: its parts stop when dropped.
struct Platform {
    moto: vigil_tests::Moto,
    _kube: vigil_tests::kube::FakeKube,
    proxy: FaultProxy,
    data: tempfile::TempDir,
    app: App,
    bundle: tempfile::TempDir,
    db: String,
}

async fn platform(through_proxy: bool) -> Platform {
    let (moto, kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let endpoint = if through_proxy { proxy.endpoint() } else { moto.endpoint() };
    let app = platform_console(data.path(), &moto.endpoint(), &endpoint).await;
    let db = app.environments().get("prod").await.unwrap().deployment["db_cluster_id"].clone();
    Platform { moto, _kube: kube, proxy, data, app, bundle: signed_bundle("1.0.0", |_| {}), db }
}

fn req(runbook: &str) -> vigil_dto::dr::RunRequest {
    vigil_dto::dr::RunRequest { runbook: runbook.into(), params: Default::default(), drill: true }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_region_failover_and_its_failback_run_end_to_end() {
    let p = platform(true).await;
    let Platform { moto, proxy, data, app, bundle, db, .. } = &p;
    let b = Some(bundle.path());
    let first = writer(&moto.endpoint(), db).await;
    let progress = vigil_core::progress::Progress::default();

    // The dry run: every precheck passes against the live account, IAM allows each action.
    let dry = app.dr().dry_run(b, &req("aurora-failover")).await.unwrap();
    assert!(dry.ready, "{dry:#?}");
    assert!(dry.checks.iter().any(|c| c.check.phase == "iam" && c.check.check == "rds:FailoverDBCluster" && c.check.ok), "{dry:#?}");
    assert!(dry.checks.iter().any(|c| c.step == "find-target" && c.check.check.starts_with("rds.reader_in_other_zone") && c.check.ok), "{dry:#?}");
    assert!(dry.expected_secs > 0);

    // The run stops for its typed confirmation, having found the reader to promote.
    let run = app.dr().start(b, &req("aurora-failover"), &progress).await.unwrap();
    assert_eq!(run.state, "awaiting_approval", "{run:#?}");
    let target = run.steps[0].outputs["target"].clone();
    assert_ne!(target, first);
    assert_ne!(run.steps[0].outputs["target_zone"], run.steps[0].outputs["writer_zone"]);
    assert_eq!(&run.awaiting.as_ref().unwrap().confirm, db);
    assert_eq!(proxy.count("rds", Some("FailoverDBCluster")), 0);
    let e = app.dr().approve(b, &run.id, "yes", &progress).await.unwrap_err();
    assert_eq!(kind(&e), "confirmation_required");
    // Another console cannot start a runbook meanwhile.
    let other_dir = tempfile::tempdir().unwrap();
    let other = console(other_dir.path(), &moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let mut input = other.environments().get("prod").await.unwrap().to_input();
    input.deployment = env.deployment.clone();
    other.environments().update("prod", &input).await.unwrap();
    assert_eq!(kind(&other.dr().start(b, &req("aurora-failover"), &progress).await.unwrap_err()), "lease_held");

    let run = app.dr().approve(b, &run.id, db, &progress).await.unwrap();
    assert_eq!(run.state, "succeeded", "{run:#?}");
    assert_eq!(writer(&moto.endpoint(), db).await, target);
    assert_eq!(proxy.count("rds", Some("FailoverDBCluster")), 1);
    let failover = run.steps.iter().find(|s| s.path == "failover").unwrap();
    assert_eq!((failover.outputs["from"].as_str(), failover.outputs["to"].as_str()), (first.as_str(), target.as_str()));
    // The wait polled the cluster until the failover ended (the emulator takes a read).
    let waited = failover.checks.iter().find(|c| c.phase == "wait").unwrap();
    assert!(waited.ok && waited.detail.contains("after 2 reads"), "{waited:?}");
    let reconnect = run.steps.iter().find(|s| s.path == "reconnect").unwrap();
    assert!(reconnect.checks.iter().any(|c| c.phase == "verify" && c.check == "ledger.writable()" && c.ok), "{reconnect:?}");
    assert_eq!(run.rpo_ms, Some(0));
    assert!(run.rto_ms.unwrap() > 0);
    assert_eq!(app.dr().lease().await.unwrap(), None, "the lease is released");
    // Every step and decision in the operator log, the action's record with its op id.
    let log = app.oplog().list(200, None).await.unwrap();
    let acting = log.iter().find(|e| e.action == "dr.step_acting" && e.details.contains("rds.failover_cluster")).expect("logged");
    assert_eq!(Some(&acting.op_id), failover.op_id.as_ref());
    for a in [
        "dr.run_started",
        "dr.awaiting_approval",
        "dr.approved",
        "dr.step_acted",
        "dr.step_done",
        "dr.run_succeeded",
        "dr.lease_taken",
        "dr.lease_released",
    ] {
        assert!(log.iter().any(|e| e.action == a), "{a} not logged");
    }

    // The drill report: what ran, on what, the measured times against the targets, every step,
    // the confirmation and who gave it; its SHA-256 in the operator log.
    let out = data.path().join("drill.pdf");
    let report = app.dr().write_report(&run.id, &out).await.unwrap();
    let bytes = std::fs::read(&out).unwrap();
    use sha2::Digest;
    assert_eq!(report.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
    assert_eq!((report.rto_met, report.rpo_met), (Some(true), Some(true)));
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    for needle in [
        "Patient Journey DR drill report",
        "the sandbox platform",
        &run.sha256[..16],
        "Recovery targets",
        "confirmed by",
        "dr.approved",
        "Fail the writer over",
    ] {
        assert!(text.contains(needle), "{needle} not in the report:\n{text}");
    }
    let logged = app.oplog().list(5, None).await.unwrap().into_iter().find(|e| e.action == "dr.drill_report").unwrap();
    assert!(logged.details.contains(&report.sha256));

    // The failback moves the writer back to the instance that wrote before.
    let back = app.dr().start(b, &req("aurora-failover-failback"), &progress).await.unwrap();
    assert_eq!(back.params["target"], first);
    assert_eq!(back.forward_run.as_deref(), Some(run.id.as_str()));
    let back = app.dr().approve(b, &back.id, db, &progress).await.unwrap();
    assert_eq!(back.state, "succeeded", "{back:#?}");
    assert_eq!(writer(&moto.endpoint(), db).await, first);
    assert_eq!(app.dr().runs().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_catches_each_failing_precheck_with_its_fix_and_changes_nothing() {
    let p = platform(false).await;
    let Platform { moto, app, bundle, db, .. } = &p;
    let b = Some(bundle.path());
    let rds = aws_sdk_rds::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    let first = writer(&moto.endpoint(), db).await;

    // No reader in another zone: the only reader deleted.
    let reader = rds.describe_db_clusters().db_cluster_identifier(db.as_str()).send().await.unwrap().db_clusters()[0]
        .db_cluster_members()
        .iter()
        .find(|m| m.is_cluster_writer() == Some(false))
        .unwrap()
        .db_instance_identifier()
        .unwrap()
        .to_string();
    rds.delete_db_instance().db_instance_identifier(&reader).skip_final_snapshot(true).send().await.unwrap();
    let dry = app.dr().dry_run(b, &req("aurora-failover")).await.unwrap();
    assert!(!dry.ready);
    let failed: Vec<_> = dry.checks.iter().filter(|c| !c.check.ok).collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].step, "find-target");
    assert!(failed[0].check.check.starts_with("rds.reader_in_other_zone"));
    assert!(failed[0].check.fix.as_deref().unwrap().contains("add a reader in another zone"), "{failed:?}");

    // A run stops at the same precheck before acting, paused with the fix; nothing moved.
    let progress = vigil_core::progress::Progress::default();
    let run = app.dr().start(b, &req("aurora-failover"), &progress).await.unwrap();
    assert_eq!(run.state, "paused");
    assert!(run.paused.as_deref().unwrap().contains("add a reader in another zone"), "{run:?}");
    assert_eq!(writer(&moto.endpoint(), db).await, first);

    // The worker's move to a region where the platform has no cluster and no secrets: each
    // precheck says what to do there.
    let mut input = app.environments().get("prod").await.unwrap().to_input();
    input.deployment.insert("secondary_region".into(), "eu-west-2".into());
    input.deployment.insert("secondary_queue_url".into(), "https://sqs.eu-west-2.amazonaws.com/123456789012/pj-prod-work".into());
    app.environments().update("prod", &input).await.unwrap();
    let dry = app.dr().dry_run(b, &req("worker-failover")).await.unwrap();
    let failed = |check: &str| dry.checks.iter().find(|c| c.check.check.starts_with(check) && !c.check.ok).cloned();
    let eks = failed("eks.cluster_active(region=eu-west-2)").expect("the missing cluster caught");
    assert!(eks.check.fix.as_deref().unwrap().contains("deploy the platform's cluster stack in that region"), "{eks:?}");
    let secret = failed("secrets.present(region=eu-west-2, secret=pj-prod/worker-keys)").expect("the missing secret caught");
    assert!(secret.check.fix.as_deref().unwrap().contains("replicate"), "{secret:?}");

    // A cluster that is not there: the first precheck says so.
    let mut input = app.environments().get("prod").await.unwrap().to_input();
    input.deployment.insert("db_cluster_id".into(), "gone".into());
    app.environments().update("prod", &input).await.unwrap();
    let dry = app.dr().dry_run(b, &req("aurora-failover")).await.unwrap();
    let c = dry.checks.iter().find(|c| c.check.check == "rds.cluster_available(cluster=gone)").unwrap();
    assert!(!c.check.ok && c.check.detail.contains("there is no Aurora cluster gone"), "{c:?}");
    // The lease another run holds is a failing check too.
    assert!(dry.checks.iter().any(|c| c.check.phase == "lease" && !c.check.ok), "{dry:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_mid_failover_pause_the_run_and_resume_does_nothing_twice() {
    let p = platform(true).await;
    let Platform { moto, proxy, app, bundle, db, .. } = &p;
    let b = Some(bundle.path());
    let progress = vigil_core::progress::Progress::default();
    let run = app.dr().start(b, &req("aurora-failover"), &progress).await.unwrap();
    let target = run.steps[0].outputs["target"].clone();

    // Throttled on the failover itself: paused at "acting", saying why.
    proxy.inject("rds", Some("FailoverDBCluster"), Fault::Throttle { retry_after: None }, 10);
    let run = app.dr().approve(b, &run.id, db, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().to_lowercase().contains("throttl"), "{:?}", run.paused);
    assert_eq!(run.steps.iter().find(|s| s.path == "failover").unwrap().state, "acting");
    proxy.clear();

    // The answer lost after the emulator failed the writer over: the SDK's retry is refused
    // (the cluster is failing over), the run pauses; the resume finds the failover done and
    // does not send it again.
    proxy.inject("rds", Some("FailoverDBCluster"), Fault::Lost, 1);
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    proxy.clear();
    let sent = proxy.count("rds", Some("FailoverDBCluster"));
    // Credentials expire while it waits (the read after the one that found the failover sent):
    // paused again, then resumed to the end.
    proxy.inject_after("rds", Some("DescribeDBClusters"), 1, Fault::ExpiredToken, 1);
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().contains("expired"), "{:?}", run.paused);
    proxy.clear();
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "succeeded", "{run:#?}");
    let failover = run.steps.iter().find(|s| s.path == "failover").unwrap();
    assert!(failover.found_done, "{failover:?}");
    assert_eq!(proxy.count("rds", Some("FailoverDBCluster")), sent, "not sent again");
    assert_eq!(writer(&moto.endpoint(), db).await, target);
    let log = app.oplog().list(200, None).await.unwrap();
    assert!(log.iter().filter(|e| e.action == "dr.run_paused").count() >= 3);
    assert!(log.iter().any(|e| e.action == "dr.run_resumed"));
}

/// The worker's database secret: (cluster, database).
async fn worker_secret(endpoint: &str, app: &App) -> (String, String) {
    let platform = app.environments().get("prod").await.unwrap().deployment["environment"].clone();
    let ctx = vigil_tests::emulator_context(endpoint).await;
    let secret = vigil_aws::secretsmanager::SecretsManager::new(&ctx, "test").value(&format!("pj-{platform}/aurora-worker")).await.unwrap().unwrap();
    let secret: serde_json::Value = serde_json::from_str(&secret).unwrap();
    (secret["dbClusterIdentifier"].as_str().unwrap().to_string(), secret["dbname"].as_str().unwrap().to_string())
}

/// Runs `runbook` from its start through each typed confirmation it asks for, checking each
/// asks for what `confirms` names, in order.
async fn run_through(app: &App, b: Option<&Path>, runbook: &str, confirms: &[&str]) -> vigil_dto::dr::RunView {
    let progress = vigil_core::progress::Progress::default();
    let mut run = app.dr().start(b, &req(runbook), &progress).await.unwrap();
    for confirm in confirms {
        assert_eq!(run.state, "awaiting_approval", "{run:#?}");
        assert_eq!(run.awaiting.as_ref().unwrap().confirm, *confirm, "{run:#?}");
        run = app.dr().approve(b, &run.id, confirm, &progress).await.unwrap();
    }
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_in_time_restore_runs_the_platform_on_the_new_cluster_and_its_failback_points_it_back() {
    let p = platform(true).await;
    let Platform { moto, proxy, app, bundle, db, .. } = &p;
    let b = Some(bundle.path());
    let progress = vigil_core::progress::Progress::default();
    // A job in the ledger before the restore: the restored cluster must have it.
    assert!(common::smoke_passed(&app.deploy().validate("prod").await.unwrap()));
    let before = common::smoke_key(app).await;
    let (_, source_db) = worker_secret(&moto.endpoint(), app).await;

    let dry = app.dr().dry_run(b, &req("aurora-pitr-restore")).await.unwrap();
    assert!(dry.ready, "{dry:#?}");
    for check in ["rds.restorable_within", "rds.capacity_for", "rds:RestoreDBClusterToPointInTime"] {
        assert!(dry.checks.iter().any(|c| c.check.check.starts_with(check) && c.check.ok), "{check}: {dry:#?}");
    }

    // Approved, RDS fails (500), then does not answer at all: paused each time, saying which
    // call, and no cluster made. Then the restore call's answer is lost after the emulator made
    // the cluster: the SDK's retry finds the name taken and the run pauses. The resume finds the
    // restore it began and goes on from there without asking RDS again.
    let run = app.dr().start(b, &req("aurora-pitr-restore"), &progress).await.unwrap();
    assert_eq!(run.awaiting.as_ref().unwrap().confirm, "prod");
    let rds = aws_sdk_rds::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    let clusters = || async { rds.describe_db_clusters().send().await.unwrap().db_clusters().len() };
    let n = clusters().await;
    proxy.inject("rds", Some("RestoreDBClusterToPointInTime"), Fault::Status(500), 10);
    let run = app.dr().approve(b, &run.id, "prod", &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().contains("rds:RestoreDBClusterToPointInTime failed"), "{:?}", run.paused);
    proxy.clear();
    proxy.inject("rds", Some("RestoreDBClusterToPointInTime"), Fault::Hang, 10);
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().contains("no answer"), "{:?}", run.paused);
    assert_eq!(clusters().await, n);
    proxy.clear();
    proxy.inject("rds", Some("RestoreDBClusterToPointInTime"), Fault::Lost, 1);
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert_eq!(run.steps.iter().find(|s| s.path == "restore").unwrap().state, "acting");
    proxy.clear();
    let sent = proxy.count("rds", Some("RestoreDBClusterToPointInTime"));
    // Throttled while it adds the restored cluster's instances: paused again, then resumed.
    proxy.inject("rds", Some("CreateDBInstance"), Fault::Throttle { retry_after: None }, 10);
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().to_lowercase().contains("throttl"), "{:?}", run.paused);
    proxy.clear();
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(proxy.count("rds", Some("RestoreDBClusterToPointInTime")), sent, "not sent again");

    // The nested runbook points the platform at the restored cluster, with its name typed.
    let restored = run.steps.iter().find(|s| s.path == "restore").unwrap().outputs["cluster"].clone();
    assert!(restored.starts_with(&format!("{db}-pitr-")), "{restored}");
    assert_eq!(run.state, "awaiting_approval", "{run:#?}");
    assert_eq!(run.awaiting.as_ref().unwrap().confirm, restored);
    let run = app.dr().approve(b, &run.id, &restored, &progress).await.unwrap();
    assert_eq!(run.state, "succeeded", "{run:#?}");
    let point = run.steps.iter().find(|s| s.path.ends_with("point") && s.outputs.contains_key("previous")).unwrap();
    assert_eq!(&point.outputs["previous"], db);
    assert!(point.checks.iter().any(|c| c.phase == "verify" && c.check == "ledger.writable()" && c.ok), "{point:?}");
    // The data-loss window measured from the time restored to.
    assert!(run.rpo_ms.is_some_and(|ms| ms < 15 * 60 * 1000), "{:?}", run.rpo_ms);

    // The restore is a Backups restore (RTO evidence), and the platform runs on its cluster: the
    // worker's secret, the environment, a note through the worker into the restored ledger.
    let r = app.backups().restores(10).await.unwrap().into_iter().find(|r| r.target == restored).unwrap();
    assert!(r.point_in_time && r.state == "restored" && r.instances.len() == 2, "{r:#?}");
    let env = app.environments().get("prod").await.unwrap();
    assert_eq!((env.deployment["db_cluster_id"].as_str(), env.deployment["db_cluster_stack"].as_str()), (restored.as_str(), db.as_str()));
    let (secret_cluster, restored_db) = worker_secret(&moto.endpoint(), app).await;
    assert_eq!(secret_cluster, restored);
    assert_ne!(restored_db, source_db);
    assert!(common::smoke_passed(&app.deploy().validate("prod").await.unwrap()));
    let after = common::smoke_key(app).await;
    let (old, new) = (common::database(&source_db).await, common::database(&restored_db).await);
    assert_eq!((common::jobs_of(&new, &before).await, common::jobs_of(&new, &after).await, common::jobs_of(&old, &after).await), (1, 1, 0));
    let log = app.oplog().list(300, None).await.unwrap();
    let acting = log.iter().find(|e| e.action == "dr.step_acting" && e.details.contains("rds.restore_to_time")).unwrap();
    let started = log.iter().find(|e| e.action == "backup.restore_started").unwrap();
    assert_eq!(acting.op_id, started.op_id, "the restore under the step's operation id");
    assert!(log.iter().any(|e| e.action == "backup.use_cluster"));

    // The failback points the platform back at the stack's own cluster.
    let back = run_through(app, b, "aurora-pitr-restore-failback", &[db.as_str()]).await;
    assert_eq!(back.state, "succeeded", "{back:#?}");
    let env = app.environments().get("prod").await.unwrap();
    assert_eq!(&env.deployment["db_cluster_id"], db);
    assert!(!env.deployment.contains_key("db_cluster_stack"));
    assert_eq!(worker_secret(&moto.endpoint(), app).await, (db.clone(), source_db));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_from_aws_backup_runs_the_platform_on_the_new_cluster_and_its_failback_points_it_back() {
    let p = platform(false).await;
    let Platform { moto, app, bundle, db, .. } = &p;
    let b = Some(bundle.path());
    let (_, source_db) = worker_secret(&moto.endpoint(), app).await;
    let backup = vigil_dto::backup::BackupRequest { resource: "aurora".into(), confirm: Some(db.clone()), ..Default::default() };
    let point = app.backups().start_backup(&backup).await.unwrap().recovery_point.unwrap();

    let dry = app.dr().dry_run(b, &req("aurora-backup-restore")).await.unwrap();
    assert!(dry.ready, "{dry:#?}");
    let run = run_through(app, b, "aurora-backup-restore", &["prod"]).await;
    let restore = run.steps.iter().find(|s| s.path == "restore").unwrap();
    let restored = restore.outputs["cluster"].clone();
    assert!(restored.starts_with(&format!("{db}-restored-")), "{restored}");
    assert_eq!(restore.before["point"], point, "the newest completed point");
    let run = app.dr().approve(b, &run.id, &restored, &vigil_core::progress::Progress::default()).await.unwrap();
    assert_eq!(run.state, "succeeded", "{run:#?}");
    assert!(run.rpo_ms.is_some(), "{run:#?}");
    let r = app.backups().restores(10).await.unwrap().into_iter().find(|r| r.target == restored).unwrap();
    assert!(!r.point_in_time && r.state == "restored" && r.point == point, "{r:#?}");
    assert_eq!(worker_secret(&moto.endpoint(), app).await.0, restored);

    let back = run_through(app, b, "aurora-backup-restore-failback", &[db.as_str()]).await;
    assert_eq!(back.state, "succeeded", "{back:#?}");
    assert_eq!(worker_secret(&moto.endpoint(), app).await, (db.clone(), source_db));
}

const SECONDARY: &str = "eu-west-2";

/// The worker's Deployment in the fake Kubernetes API.
const WORKER_PATH: &str = "/apis/apps/v1/namespaces/patient-journey/deployments/pj-worker";

fn replicas(kube: &vigil_tests::kube::FakeKube) -> i64 {
    kube.object(WORKER_PATH).expect("the worker's Deployment")["spec"]["replicas"].as_i64().unwrap()
}

/// The queue's messages' S3 keys, read without taking them (each hidden while read, then made
/// visible again).
async fn queued_keys(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut keys = vec![];
    let mut handles = vec![];
    loop {
        let got = sqs.receive_message().queue_url(url).max_number_of_messages(10).visibility_timeout(60).send().await.unwrap();
        if got.messages().is_empty() {
            break;
        }
        for m in got.messages() {
            let body: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            // (S3 sends keys URL-encoded; these hold no other character that needs it.)
            keys.extend(body["Records"].as_array().into_iter().flatten().map(|r| r["s3"]["object"]["key"].as_str().unwrap().replace("%2F", "/")));
            handles.push(m.receipt_handle().unwrap().to_string());
        }
    }
    for h in handles {
        sqs.change_message_visibility().queue_url(url).receipt_handle(h).visibility_timeout(0).send().await.unwrap();
    }
    keys.sort();
    keys
}

/// The SDK's configuration for the secondary region.
fn in_secondary(conf: &aws_config::SdkConfig) -> aws_config::SdkConfig {
    conf.to_builder().region(aws_config::Region::new(SECONDARY)).build()
}

/// A deployed platform (its console behind the fault injector) and the secondary region's: an EKS
/// cluster of the same name whose API is a second fake server (it runs no pods; its rollouts
/// are the fake controller's), the worker's Deployment there scaled to none, the worker's
/// secrets replicated, a work queue of its own; the environment names the region and the queue.
struct TwoRegions {
    moto: vigil_tests::Moto,
    kube: vigil_tests::kube::FakeKube,
    proxy: FaultProxy,
    _data: tempfile::TempDir,
    app: App,
    secondary: vigil_tests::kube::FakeKube,
    queue2: String,
}

async fn with_secondary() -> TwoRegions {
    let (moto, kube, mut others) = vigil_tests::platform_in(&[SECONDARY]).await;
    let secondary = others.remove(0);
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let app = platform_console(data.path(), &moto.endpoint(), &proxy.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let (platform, cluster) = (env.deployment["environment"].clone(), env.deployment["cluster_name"].clone());
    let conf = vigil_tests::emulator_sdk_config(&moto.endpoint()).await;
    let conf2 = in_secondary(&conf);
    let primary = aws_sdk_eks::Client::new(&conf).describe_cluster().name(&cluster).send().await.unwrap().cluster.unwrap();
    let template = serde_json::json!({"Resources": {"Cluster": {"Type": "AWS::EKS::Cluster", "Properties": {
        "Name": cluster, "RoleArn": primary.role_arn().unwrap(),
        "ResourcesVpcConfig": {"SubnetIds": primary.resources_vpc_config().unwrap().subnet_ids()}}}}});
    aws_sdk_cloudformation::Client::new(&conf2)
        .create_stack()
        .stack_name("pj-prod-secondary")
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();
    let mut worker = kube.object(WORKER_PATH).unwrap();
    worker["spec"]["replicas"] = serde_json::json!(0);
    worker.as_object_mut().unwrap().remove("status");
    secondary.insert(WORKER_PATH, worker);
    let (sm, sm2) = (aws_sdk_secretsmanager::Client::new(&conf), aws_sdk_secretsmanager::Client::new(&conf2));
    for secret in ["aurora-worker", "worker-keys"] {
        let name = format!("pj-{platform}/{secret}");
        let value = sm.get_secret_value().secret_id(&name).send().await.unwrap().secret_string().unwrap().to_string();
        sm2.create_secret().name(&name).secret_string(value).send().await.unwrap();
    }
    aws_sdk_sqs::Client::new(&conf2).create_queue().queue_name(format!("pj-{platform}-work")).send().await.unwrap();
    // As AWS gives it (the emulator reads only the name).
    let queue2 = format!("https://sqs.{SECONDARY}.amazonaws.com/123456789012/pj-{platform}-work");
    let mut input = env.to_input();
    input.deployment.insert("secondary_region".into(), SECONDARY.into());
    input.deployment.insert("secondary_queue_url".into(), queue2.clone());
    app.environments().update("prod", &input).await.unwrap();
    TwoRegions { moto, kube, proxy, _data: data, app, secondary, queue2 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_moves_to_the_secondary_region_with_its_waiting_work_and_fails_back() {
    // On the heap: in a debug build this test's future outgrows the test thread's stack.
    Box::pin(the_worker_moves_to_the_secondary_region_with_its_waiting_work_and_fails_back_body()).await
}

async fn the_worker_moves_to_the_secondary_region_with_its_waiting_work_and_fails_back_body() {
    let t = with_secondary().await;
    let TwoRegions { moto, kube, proxy, app, secondary, queue2, .. } = &t;
    let bundle = signed_bundle("1.0.0", |_| {});
    let b = Some(bundle.path());
    let env = app.environments().get("prod").await.unwrap();
    let (bucket, queue) = (env.deployment["bucket"].clone(), env.deployment["queue_url"].clone());
    let conf = vigil_tests::emulator_sdk_config(&moto.endpoint()).await;
    let sqs2 = aws_sdk_sqs::Client::new(&in_secondary(&conf));
    // This region's worker cannot run; documents keep arriving and wait in its queue.
    kube.stop_pods();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
    let mut keys = vec![];
    for i in 0..12 {
        let key = format!("input/dr-{i:02}-{}.txt", uuid::Uuid::new_v4().simple());
        s3.put_object().bucket(&bucket).key(&key).body(format!("Note {i} for the worker.").into_bytes().into()).send().await.unwrap();
        keys.push(key);
    }
    keys.sort();
    let sqs = aws_sdk_sqs::Client::new(&conf);

    let dry = app.dr().dry_run(b, &req("worker-failover")).await.unwrap();
    assert!(dry.ready, "{dry:#?}");
    assert!(dry.checks.iter().any(|c| c.check.check == format!("eks.cluster_active(region={SECONDARY})") && c.check.ok), "{dry:#?}");

    // The other region's Kubernetes API failing: paused before anything moved, saying why.
    let progress = vigil_core::progress::Progress::default();
    let run = app.dr().start(b, &req("worker-failover"), &progress).await.unwrap();
    assert_eq!(run.awaiting.as_ref().unwrap().confirm, SECONDARY);
    secondary.deny(Some(500));
    let run = app.dr().approve(b, &run.id, SECONDARY, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().contains("pj-worker"), "{:?}", run.paused);
    assert_eq!((replicas(secondary), replicas(kube)), (0, 2));
    secondary.deny(None);
    // Throttled while sending the work on, and the messages' release failing too: paused, with
    // the messages still here (hidden until their visibility ends).
    proxy.inject("sqs", Some("SendMessageBatch"), Fault::Throttle { retry_after: None }, 10);
    proxy.inject("sqs", Some("ChangeMessageVisibilityBatch"), Fault::Status(500), 10);
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().to_lowercase().contains("throttl"), "{:?}", run.paused);
    assert_eq!(run.steps.iter().find(|s| s.path == "move-work").unwrap().state, "acting");
    assert_eq!((replicas(secondary), replicas(kube)), (2, 0), "the worker moved before its work");
    assert!(queued_keys(&sqs2, queue2).await.is_empty());
    proxy.clear();
    // The source queue failing to answer: paused again, nothing moved.
    proxy.inject("sqs", Some("ReceiveMessage"), Fault::Status(500), 10);
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().contains("ReceiveMessage"), "{:?}", run.paused);
    proxy.clear();
    // Sent on but not deleted here: paused; those messages are in both queues.
    proxy.inject("sqs", Some("DeleteMessageBatch"), Fault::Status(503), 10);
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().contains("DeleteMessageBatch"), "{:?}", run.paused);
    let sent_once = queued_keys(&sqs2, queue2).await;
    assert!(!sent_once.is_empty() && sent_once.len() < keys.len(), "{sent_once:?}");
    proxy.clear();
    // Counting the messages still in flight failing: paused again, nothing lost.
    proxy.inject("sqs", Some("GetQueueAttributes"), Fault::Status(500), 10);
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().contains("GetQueueAttributes"), "{:?}", run.paused);
    proxy.clear();
    // (What became visible again before the count failed was moved then.)
    let there_before = queued_keys(&sqs2, queue2).await.len();
    // Resumed, the move waits for the hidden messages to come back and moves every one.
    let run = app.dr().resume(b, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "succeeded", "{run:#?}");
    let start = run.steps.iter().find(|s| s.path == "start").unwrap();
    assert_eq!(start.outputs["replicas"], "2", "the tier's replicas");
    assert_eq!(run.steps.iter().find(|s| s.path == "stop").unwrap().outputs["previous_replicas"], "2");
    let moved = (keys.len() + sent_once.len() - there_before).to_string();
    assert_eq!(run.steps.iter().find(|s| s.path == "move-work").unwrap().outputs["moved"], moved);
    // Every waiting document is in the other region's queue — those sent but not deleted twice
    // (at least once); none is left here.
    let mut there = queued_keys(&sqs2, queue2).await;
    assert_eq!(there.len(), keys.len() + sent_once.len());
    there.dedup();
    assert_eq!(there, keys);
    assert!(queued_keys(&sqs, &queue).await.is_empty());
    assert_eq!(kube.object(WORKER_PATH).unwrap()["metadata"]["annotations"]["vigil.io/replicas-before-stop"], "2");

    // The failback: this region's worker started again with the replicas it had, the other's
    // stopped, the work moved back — and processed here by the worker (a job per document).
    let back = run_through(app, b, "worker-failover-failback", &["us-east-1"]).await;
    assert_eq!(back.state, "succeeded", "{back:#?}");
    assert_eq!(back.params["to_queue"], queue);
    assert_eq!((replicas(kube), replicas(secondary)), (2, 0));
    let before_stop =
        |k: &vigil_tests::kube::FakeKube| k.object(WORKER_PATH).unwrap()["metadata"]["annotations"]["vigil.io/replicas-before-stop"].clone();
    assert_eq!((before_stop(kube), before_stop(secondary)), (serde_json::Value::Null, serde_json::json!("2")));
    assert!(queued_keys(&sqs2, queue2).await.is_empty());
    let ledger = common::database(&worker_secret(&moto.endpoint(), app).await.1).await;
    for key in &keys {
        let mut polls = 0;
        while common::jobs_of(&ledger, key).await == 0 {
            polls += 1;
            assert!(polls < 600, "{key} was not processed after the failback");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let log = app.oplog().list(300, None).await.unwrap();
    assert!(log.iter().filter(|e| e.action == "dr.run_succeeded").count() == 2);
}

/// The global database `pj-prod-global` made from cluster `primary` (an ARN), with the secondary
/// cluster `pj-prod-dr` in the secondary region; returns the secondary's ARN.
async fn make_global(conf: &aws_config::SdkConfig, primary: &str) -> String {
    aws_sdk_rds::Client::new(conf)
        .create_global_cluster()
        .global_cluster_identifier("pj-prod-global")
        .source_db_cluster_identifier(primary)
        .send()
        .await
        .unwrap();
    let rds2 = aws_sdk_rds::Client::new(&in_secondary(conf));
    let b = rds2
        .create_db_cluster()
        .db_cluster_identifier("pj-prod-dr")
        .engine("aurora-postgresql")
        .global_cluster_identifier("pj-prod-global")
        .send()
        .await
        .unwrap();
    rds2.describe_db_clusters().db_cluster_identifier("pj-prod-dr").send().await.unwrap(); // past moto's "creating"
    b.db_cluster().unwrap().db_cluster_arn().unwrap().to_string()
}

/// A global database in the emulator: its primary in us-east-1 (the environment's region) and a
/// secondary in eu-west-2, with the environment's DR parameters naming them.
async fn global_database(endpoint: &str) -> (String, std::collections::BTreeMap<String, String>) {
    let conf = vigil_tests::emulator_sdk_config(endpoint).await;
    let primary = aws_sdk_rds::Client::new(&conf);
    let a = primary
        .create_db_cluster()
        .db_cluster_identifier("pj-prod")
        .engine("aurora-postgresql")
        .master_username("u")
        .master_user_password("password1")
        .send()
        .await
        .unwrap();
    let a = a.db_cluster().unwrap().db_cluster_arn().unwrap().to_string();
    let b = make_global(&conf, &a).await;
    let deployment = [
        ("bucket", BUCKET),
        ("db_cluster_id", "pj-prod"),
        ("global_cluster_id", "pj-prod-global"),
        ("secondary_cluster_arn", b.as_str()),
        ("secondary_region", "eu-west-2"),
        ("queue_url", "https://sqs.us-east-1.amazonaws.com/123456789012/pj-prod-work"),
        ("secondary_queue_url", "https://sqs.eu-west-2.amazonaws.com/123456789012/pj-prod-work"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    (b, deployment)
}

/// The secondary's replication lag as Aurora reports it (CloudWatch, in the secondary's region).
async fn put_lag(endpoint: &str, ms: f64) {
    put_lag_of(endpoint, "eu-west-2", "pj-prod-dr", ms).await
}

/// Cluster `cluster`'s replication lag behind its global database's writer, reported in `region`.
async fn put_lag_of(endpoint: &str, region: &str, cluster: &str, ms: f64) {
    let conf = vigil_tests::emulator_sdk_config(endpoint).await;
    let cw = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(&conf).region(aws_sdk_cloudwatch::config::Region::new(region.to_string())).build(),
    );
    let dim = aws_sdk_cloudwatch::types::Dimension::builder().name("DBClusterIdentifier").value(cluster).build();
    let datum = aws_sdk_cloudwatch::types::MetricDatum::builder()
        .metric_name("AuroraGlobalDBRPOLag")
        .dimensions(dim)
        .value(ms)
        .unit(aws_sdk_cloudwatch::types::StandardUnit::Milliseconds)
        .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(chrono::Utc::now().timestamp()))
        .build();
    cw.put_metric_data().namespace("AWS/RDS").metric_data(datum).send().await.unwrap();
}

/// The deployed platform's cluster made the primary of a global database whose secondary is
/// `pj-prod-dr` in the secondary region, named in the environment; returns both ARNs.
async fn join_global(app: &App, endpoint: &str) -> (String, String) {
    let conf = vigil_tests::emulator_sdk_config(endpoint).await;
    let env = app.environments().get("prod").await.unwrap();
    let db = env.deployment["db_cluster_id"].clone();
    let rds = aws_sdk_rds::Client::new(&conf);
    let a = rds.describe_db_clusters().db_cluster_identifier(&db).send().await.unwrap().db_clusters()[0].db_cluster_arn().unwrap().to_string();
    let b = make_global(&conf, &a).await;
    let mut input = env.to_input();
    input.deployment.insert("global_cluster_id".into(), "pj-prod-global".into());
    input.deployment.insert("secondary_cluster_arn".into(), b.clone());
    app.environments().update("prod", &input).await.unwrap();
    (a, b)
}

async fn global_writer(endpoint: &str) -> String {
    let rds = aws_sdk_rds::Client::new(&vigil_tests::emulator_sdk_config(endpoint).await);
    let g = rds.describe_global_clusters().global_cluster_identifier("pj-prod-global").send().await.unwrap();
    let g = &g.global_clusters()[0];
    assert_eq!(g.status(), Some("available"));
    g.global_cluster_members().iter().find(|m| m.is_writer() == Some(true)).unwrap().db_cluster_arn().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_switchover_moves_the_writer_and_the_worker_and_switches_back() {
    // On the heap: in a debug build this test's future outgrows the test thread's stack.
    Box::pin(a_global_switchover_moves_the_writer_and_the_worker_and_switches_back_body()).await
}

async fn a_global_switchover_moves_the_writer_and_the_worker_and_switches_back_body() {
    let t = with_secondary().await;
    let TwoRegions { moto, kube, proxy, app, secondary, queue2, .. } = &t;
    let (a, b) = join_global(app, &moto.endpoint()).await;
    assert!(common::smoke_passed(&app.deploy().validate("prod").await.unwrap()));
    let home = app.environments().get("prod").await.unwrap();
    let jobs = app.jobs().list(&Default::default(), None, 100).await.unwrap().rows.len();
    assert!(jobs > 0, "the smoke test's note left a job");
    put_lag(&moto.endpoint(), 1_500.0).await;
    let bundle = signed_bundle("1.0.0", |_| {});
    let bd = Some(bundle.path());
    let progress = vigil_core::progress::Progress::default();
    let dry = app.dr().dry_run(bd, &req("aurora-global-switchover")).await.unwrap();
    assert!(dry.ready, "{dry:#?}");

    // Throttled on the switchover itself, then credentials expire while it waits for the
    // writer: paused each time, saying why; resumed, it is sent once.
    let run = app.dr().start(bd, &req("aurora-global-switchover"), &progress).await.unwrap();
    assert_eq!(run.steps[0].outputs["lag_seconds"], "1.500");
    assert_eq!(run.awaiting.as_ref().unwrap().confirm, "pj-prod-global");
    proxy.inject("rds", Some("SwitchoverGlobalCluster"), Fault::Throttle { retry_after: None }, 10);
    let run = app.dr().approve(bd, &run.id, "pj-prod-global", &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().to_lowercase().contains("throttl"), "{:?}", run.paused);
    proxy.clear();
    proxy.inject_after("rds", Some("DescribeGlobalClusters"), 1, Fault::ExpiredToken, 1);
    let run = app.dr().resume(bd, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().contains("expired"), "{:?}", run.paused);
    proxy.clear();
    let run = app.dr().resume(bd, &run.id, &progress).await.unwrap();
    // The worker's move it nests asks for its own confirmation.
    assert_eq!(run.awaiting.as_ref().unwrap().confirm, SECONDARY, "{run:#?}");
    // The new writer's region failing to describe it when the environment follows: paused on
    // that step, the environment unchanged; resumed, it follows.
    proxy.inject("rds", Some("DescribeDBClusters"), Fault::Status(500), 10);
    let run = app.dr().approve(bd, &run.id, SECONDARY, &progress).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert!(run.paused.as_deref().unwrap().contains("DescribeDBClusters"), "{:?}", run.paused);
    assert_eq!(run.steps.iter().find(|s| s.path == "follow").unwrap().state, "acting", "{run:#?}");
    assert_eq!(app.environments().get("prod").await.unwrap().to_input(), home.to_input());
    assert_eq!((replicas(secondary), replicas(kube)), (2, 0), "the worker moved before");
    proxy.clear();
    let run = app.dr().resume(bd, &run.id, &progress).await.unwrap();
    assert_eq!(run.state, "succeeded", "{run:#?}");
    let sent = proxy.seen().iter().filter(|r| r.service == "rds" && r.action == "SwitchoverGlobalCluster" && r.fault.is_none()).count();
    assert_eq!(sent, 1);
    assert_eq!(global_writer(&moto.endpoint()).await, b);
    assert_eq!((replicas(secondary), replicas(kube)), (2, 0));
    assert_eq!(run.rpo_ms, Some(0), "a switchover loses nothing");
    // The environment follows the writer: its region is the DR one, where the console reads the
    // job ledger now (the emulator's secondary shares the writer's database), and a deploy waits.
    let away = app.environments().get("prod").await.unwrap();
    assert_eq!(away.region, SECONDARY);
    assert_eq!((away.deployment["db_cluster_id"].as_str(), away.deployment["secondary_cluster_arn"].as_str()), ("pj-prod-dr", a.as_str()));
    assert_eq!((&away.deployment["queue_url"], &away.deployment["secondary_queue_url"]), (queue2, &home.deployment["queue_url"]));
    assert_eq!((away.deployment["secondary_region"].as_str(), away.deployment["home_region"].as_str()), ("us-east-1", "us-east-1"));
    let moved = app.oplog().list(200, None).await.unwrap().into_iter().find(|r| r.action == "dr.use_region").expect("logged");
    let details: serde_json::Value = serde_json::from_str(&moved.details).unwrap();
    assert_eq!((details["to"]["region"].as_str(), details["console_follows"].as_bool()), (Some(SECONDARY), Some(true)), "{details}");
    assert_eq!(Some(&moved.op_id), run.steps.iter().find(|s| s.path == "follow").unwrap().op_id.as_ref());
    assert_eq!(app.jobs().list(&Default::default(), None, 100).await.unwrap().rows.len(), jobs);
    let deploy = vigil_dto::deploy::DeployRequest { environment: "prod".into(), tier: "small".into(), ..Default::default() };
    let refused = app.deploy().preflight(&deploy, bd).await.unwrap_err();
    assert_eq!(kind(&refused), "platform_away", "{refused}");

    // The switchback: the old primary catches up, then writes again; the worker comes home.
    put_lag_of(&moto.endpoint(), "us-east-1", a.rsplit(':').next().unwrap(), 800.0).await;
    let back = run_through(app, bd, "aurora-global-switchover-failback", &["pj-prod-global", "us-east-1"]).await;
    assert_eq!(back.state, "succeeded", "{back:#?}");
    assert_eq!(back.params["target"], a);
    assert_eq!(global_writer(&moto.endpoint()).await, a);
    assert_eq!((replicas(kube), replicas(secondary)), (2, 0));
    assert_eq!(app.environments().get("prod").await.unwrap().to_input(), home.to_input(), "home exactly as before");
    assert!(app.deploy().preflight(&deploy, bd).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_failover_promotes_the_secondary_with_its_lag_as_the_rpo() {
    let t = with_secondary().await;
    let TwoRegions { moto, kube, proxy, app, secondary, .. } = &t;
    let (a, b) = join_global(app, &moto.endpoint()).await;
    put_lag(&moto.endpoint(), 4_250.0).await;
    let bundle = signed_bundle("1.0.0", |_| {});
    let bd = Some(bundle.path());
    let run = run_through(app, bd, "aurora-global-failover", &["pj-prod-global", SECONDARY]).await;
    assert_eq!(run.state, "succeeded", "{run:#?}");
    assert_eq!(run.rpo_ms, Some(4_250), "the lag measured before the failover");
    assert_eq!(proxy.count("rds", Some("FailoverGlobalCluster")), 1);
    assert_eq!(global_writer(&moto.endpoint()).await, b);
    assert_eq!((replicas(secondary), replicas(kube)), (2, 0));
    let away = app.environments().get("prod").await.unwrap();
    assert_eq!((away.region.as_str(), away.deployment["db_cluster_id"].as_str()), (SECONDARY, "pj-prod-dr"));
    // Its failback is a planned switchover back to the old primary.
    put_lag_of(&moto.endpoint(), "us-east-1", a.rsplit(':').next().unwrap(), 500.0).await;
    let back = run_through(app, bd, "aurora-global-failover-failback", &["pj-prod-global", "us-east-1"]).await;
    assert_eq!(back.state, "succeeded", "{back:#?}");
    assert_eq!(global_writer(&moto.endpoint()).await, a);
    assert_eq!(proxy.count("rds", Some("SwitchoverGlobalCluster")), 1);
    let home = app.environments().get("prod").await.unwrap();
    assert_eq!((home.region.as_str(), home.deployment.get("home_region")), ("us-east-1", None));
    assert_eq!(home.deployment["secondary_cluster_arn"], b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_switchovers_dry_run_judges_the_secondarys_lag_and_its_region_against_the_rpo() {
    let moto = vigil_tests::Moto::start();
    make_bucket(&moto.endpoint()).await;
    let (secondary, deployment) = global_database(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = common::quick(common::console(dir.path(), &moto.endpoint(), deployment).await);
    let bundle = signed_bundle("1.0.0", |_| {});
    let b = Some(bundle.path());
    let lag_check = |d: &vigil_dto::dr::DryRunView| {
        d.checks.iter().find(|c| c.check.check.starts_with("rds.global_lag_within")).cloned().expect("the lag is checked")
    };

    // Nothing reported yet: the lag cannot be judged, and the dry run says what to look at.
    let dry = app.dr().dry_run(b, &req("aurora-global-switchover")).await.unwrap();
    assert!(!dry.ready);
    assert_eq!(dry.params["target"], secondary);
    let c = lag_check(&dry);
    assert!(!c.check.ok && c.check.detail.contains("no replication lag"), "{c:?}");
    // The worker's secret is not in the secondary's region: caught, with the fix.
    let secret =
        dry.checks.iter().find(|c| c.check.check.starts_with("secrets.present(region=eu-west-2, secret=pj-prod/aurora-worker)")).expect("checked");
    assert!(!secret.check.ok && secret.check.fix.as_deref().unwrap().contains("replicate"), "{secret:?}");
    assert!(dry.checks.iter().any(|c| c.check.check.starts_with("rds.cluster_available(cluster=arn:") && c.check.ok), "{dry:#?}");

    // Two seconds behind: within the RPO.
    put_lag(&moto.endpoint(), 2_000.0).await;
    let c = lag_check(&app.dr().dry_run(b, &req("aurora-global-switchover")).await.unwrap());
    assert!(c.check.ok && c.check.detail.contains("2.0 s behind"), "{c:?}");
    // Twenty minutes behind: a failover now would lose more than the RPO.
    put_lag(&moto.endpoint(), 1_200_000.0).await;
    let c = lag_check(&app.dr().dry_run(b, &req("aurora-global-switchover")).await.unwrap());
    assert!(!c.check.ok && c.check.detail.contains("1200.0 s behind, over 900 s"), "{c:?}");
    assert!(c.check.fix.as_deref().unwrap().contains("RPO"), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_dry_run_needs_a_recovery_point_within_the_rpo() {
    let moto = vigil_tests::Moto::start();
    make_bucket(&moto.endpoint()).await;
    let (_, deployment) = global_database(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = common::quick(common::console(dir.path(), &moto.endpoint(), deployment).await);
    let bundle = signed_bundle("1.0.0", |_| {});
    let b = Some(bundle.path());
    let point = |d: &vigil_dto::dr::DryRunView| d.checks.iter().find(|c| c.check.check.starts_with("backup.point_within")).cloned().expect("checked");
    let c = point(&app.dr().dry_run(b, &req("aurora-backup-restore")).await.unwrap());
    assert!(!c.check.ok && c.check.detail.contains("no completed AWS Backup recovery point"), "{c:?}");
    assert!(c.check.fix.as_deref().unwrap().contains("Back up now"), "{c:?}");

    // Backed up now (the emulator's job completes at once): within the RPO.
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let backup = vigil_aws::backup::Backup::new(&ctx, "test");
    let conf = vigil_tests::emulator_sdk_config(&moto.endpoint()).await;
    aws_sdk_backup::Client::new(&conf).create_backup_vault().backup_vault_name("pj-prod").send().await.unwrap();
    let arn = aws_sdk_rds::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await)
        .describe_db_clusters()
        .db_cluster_identifier("pj-prod")
        .send()
        .await
        .unwrap()
        .db_clusters()[0]
        .db_cluster_arn()
        .unwrap()
        .to_string();
    backup.start_backup("pj-prod", &arn, "arn:aws:iam::123456789012:role/backup", Some(35), &uuid::Uuid::new_v4().to_string()).await.unwrap();
    let c = point(&app.dr().dry_run(b, &req("aurora-backup-restore")).await.unwrap());
    assert!(c.check.ok && c.check.detail.contains("its newest recovery point is"), "{c:?}");
}

/// A console of a second person: their own store, signed in as the IAM user `name` (keys made
/// in the emulator, from their AWS files), the same environment.
async fn second_person(dir: &Path, endpoint: &str, deployment: std::collections::BTreeMap<String, String>, name: &str) -> App {
    let conf = vigil_tests::emulator_sdk_config(endpoint).await;
    let iam = aws_sdk_iam::Client::new(&conf);
    iam.create_user().user_name(name).send().await.unwrap();
    let key = iam.create_access_key().user_name(name).send().await.unwrap();
    let key = key.access_key().unwrap();
    let config = format!("[profile {name}]\nregion = us-east-1\n");
    let credentials = format!("[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n", key.access_key_id(), key.secret_access_key());
    let app = common::open_with(dir, vigil_core::aws::profiles::ProfileSource::from_contents(&config, &credentials)).await;
    common::add_prod(&app, endpoint, deployment, vigil_dto::Credentials::Profile { name: name.into() }).await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_four_eyes_a_destructive_step_waits_for_a_second_persons_one_time_code() {
    let p = platform(true).await;
    let Platform { moto, proxy, data, app, bundle, db, .. } = &p;
    let b = Some(bundle.path());
    let mut input = app.environments().get("prod").await.unwrap().to_input();
    input.deployment.insert("dr_four_eyes".into(), "on".into());
    app.environments().update("prod", &input).await.unwrap();
    let progress = vigil_core::progress::Progress::default();

    // The operator's own typed approval, then the failover waits for a second person.
    let run = app.dr().start(b, &req("aurora-failover"), &progress).await.unwrap();
    let run = app.dr().approve(b, &run.id, db, &progress).await.unwrap();
    assert_eq!(run.state, "awaiting_approval", "{run:#?}");
    let awaiting = run.awaiting.clone().unwrap();
    assert!(awaiting.second && awaiting.step == "failover", "{awaiting:?}");
    assert!(awaiting.prompt.contains(&format!("vigil dr second-approve {} failover", run.id)), "{awaiting:?}");
    assert_eq!(proxy.count("rds", Some("FailoverDBCluster")), 0);

    // Not the operator themselves, and not before anyone approved.
    assert_eq!(kind(&app.dr().second_approve(&run.id, "failover").await.unwrap_err()), "four_eyes_same_person");
    assert_eq!(kind(&app.dr().approve(b, &run.id, "ABCDEFGH", &progress).await.unwrap_err()), "no_second_approval");

    // A second person, as another AWS identity, gets a one-time code.
    let other_dir = tempfile::tempdir().unwrap();
    let deployment = app.environments().get("prod").await.unwrap().deployment;
    let bob = second_person(other_dir.path(), &moto.endpoint(), deployment, "bob").await;
    assert_eq!(kind(&bob.dr().second_approve(&run.id, "reconnect").await.unwrap_err()), "not_found");
    let given = bob.dr().second_approve(&run.id, "failover").await.unwrap();
    assert_eq!(given.code.len(), 8);
    assert!(given.action.starts_with("rds.failover_cluster("), "{given:?}");
    assert_eq!(kind(&bob.dr().second_approve(&run.id, "failover").await.unwrap_err()), "already_approved");
    assert!(bob.oplog().list(10, None).await.unwrap().iter().any(|e| e.action == "dr.second_approval_given" && e.details.contains("user/bob")));

    // A wrong code is refused; the right one lets the failover go on, once.
    assert_eq!(kind(&app.dr().approve(b, &run.id, "WRONGCOD", &progress).await.unwrap_err()), "confirmation_required");
    assert_eq!(proxy.count("rds", Some("FailoverDBCluster")), 0);
    let run = app.dr().approve(b, &run.id, &given.code.to_lowercase(), &progress).await.unwrap();
    assert_eq!(run.state, "succeeded", "{run:#?}");
    assert_eq!(proxy.count("rds", Some("FailoverDBCluster")), 1);
    let failover = run.steps.iter().find(|s| s.path == "failover").unwrap();
    assert!(failover.before["_second_by"].contains("user/bob"), "{failover:?}");
    let log = app.oplog().list(100, None).await.unwrap();
    let second = log.iter().find(|e| e.action == "dr.second_approved").expect("logged");
    assert!(second.details.contains("user/bob") && second.details.contains("user/moto"), "{}", second.details);
    // The code was used once: nothing is left to approve with.
    let report = app.dr().write_report(&run.id, &data.path().join("r.pdf")).await.unwrap();
    let text = pdf_extract::extract_text_from_mem(&std::fs::read(&report.path).unwrap()).unwrap();
    // (the PDF's text extraction drops some spaces)
    assert!(text.contains("approval by") && text.contains("user/bob"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_in_a_dry_run_fail_only_their_own_checks_with_the_classified_message() {
    let moto = vigil_tests::Moto::start();
    make_bucket(&moto.endpoint()).await;
    let (_, deployment) = global_database(&moto.endpoint()).await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let dir = tempfile::tempdir().unwrap();
    let app = common::quick(common::console(dir.path(), &proxy.endpoint(), deployment).await);
    let bundle = signed_bundle("1.0.0", |_| {});
    let b = Some(bundle.path());
    let find = |d: &vigil_dto::dr::DryRunView, prefix: &str| {
        d.checks.iter().find(|c| c.check.check.starts_with(prefix)).cloned().unwrap_or_else(|| panic!("{prefix} not in {d:#?}"))
    };

    // The lag's CloudWatch read throttled, the caller's identity expired: those checks fail,
    // classified; the others are still judged.
    proxy.inject("monitoring", Some("GetMetricData"), Fault::Throttle { retry_after: None }, 10);
    proxy.inject("sts", Some("GetCallerIdentity"), Fault::ExpiredToken, 10);
    let dry = app.dr().dry_run(b, &req("aurora-global-switchover")).await.unwrap();
    let lag = find(&dry, "rds.global_lag_within");
    assert!(!lag.check.ok && lag.check.detail.to_lowercase().contains("rate"), "{lag:?}");
    let iam = dry.checks.iter().find(|c| c.check.phase == "iam").unwrap();
    assert!(!iam.check.ok && iam.check.detail.contains("expired"), "{iam:?}");
    assert!(find(&dry, "rds.cluster_available(cluster=pj-prod)").check.ok);
    proxy.clear();

    // AWS Backup answering 500: the recovery point's check fails, saying so.
    proxy.inject("backup", None, Fault::Status(500), 10);
    let c = find(&app.dr().dry_run(b, &req("aurora-backup-restore")).await.unwrap(), "backup.point_within");
    assert!(!c.check.ok && c.check.detail.contains("ListRecoveryPointsByResource") && c.check.fix.is_some(), "{c:?}");
    proxy.clear();

    // Recovered: the same checks are judged on what AWS says.
    let lag = find(&app.dr().dry_run(b, &req("aurora-global-switchover")).await.unwrap(), "rds.global_lag_within");
    assert!(lag.check.detail.contains("no replication lag"), "{lag:?}");
}

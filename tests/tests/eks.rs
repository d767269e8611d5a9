//! The platform's EKS cluster as the Services page and `vigil eks` show it, against the emulator
//! with the bundle deployed (its EKS extension serves add-ons, versions and insights): support
//! dates and the next version, node groups, add-ons that do not run on the next version and the
//! insight naming them, an insights refresh in the operator log; a cluster that no longer exists and
//! an environment with none; who may use the cluster (access entries) and the fix when the
//! console's credentials have none; AWS faults classified, nothing logged for a refresh that
//! failed, and recovery.

mod common;

use common::{deployed, faulted};
use vigil_core::progress::Progress;
use vigil_core::App;
use vigil_tests::faults::Fault;

/// Installs add-on `name` at `version` in the environment's cluster, as an operator would.
async fn add_addon(app: &App, moto: &str, name: &str, version: &str) {
    let cluster = app.environments().get("prod").await.unwrap().deployment["cluster_name"].clone();
    eks_client(moto).create_addon().cluster_name(cluster).addon_name(name).addon_version(version).send().await.unwrap();
}

/// A deployed platform whose console calls AWS through a fault injector and polls runbook
/// waits quickly, the tests' signed bundle, and the cluster's name.
struct Upgradable {
    moto: vigil_tests::Moto,
    kube: vigil_tests::kube::FakeKube,
    proxy: vigil_tests::faults::FaultProxy,
    app: App,
    bundle: tempfile::TempDir,
    cluster: String,
    _data: tempfile::TempDir,
}

async fn upgradable() -> Upgradable {
    let (moto, kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let (proxy, app) = faulted(data.path(), &moto.endpoint()).await;
    let app = app.dr_poll(std::time::Duration::from_millis(20));
    let cluster = app.environments().get("prod").await.unwrap().deployment["cluster_name"].clone();
    Upgradable { moto, kube, proxy, app, bundle: vigil_tests::signed_bundle("1.0.0", |_| {}), cluster, _data: data }
}

async fn logged(app: &App) -> Vec<String> {
    app.oplog().list(1000, None).await.unwrap().into_iter().map(|e| e.action).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_its_support_node_groups_add_ons_and_insights() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();

    let c = app.eks().overview().await.unwrap();
    assert_eq!(c.name, env.deployment["cluster_name"]);
    assert_eq!((c.status.as_str(), c.version.as_str()), ("ACTIVE", "1.35"));
    assert_eq!(c.next.as_deref(), Some("1.36"));
    assert_eq!(c.support.status, "STANDARD_SUPPORT", "{:?}", c.support);
    assert!(c.support.end_of_standard < c.support.end_of_extended, "{:?}", c.support);
    assert!(c.support.days_left.is_some());
    assert!(c.secrets_key.is_some(), "the bundle encrypts Kubernetes secrets");
    assert_eq!(c.logging.len(), 5, "{:?}", c.logging);
    assert_eq!(c.nodegroups.len(), 1, "{:?}", c.nodegroups);
    assert_eq!(c.nodegroups[0].version, "1.35");
    assert!(c.nodegroups[0].release_version.starts_with("1.35."), "{:?}", c.nodegroups[0]);
    assert!(c.addons.is_empty(), "the bundle installs no EKS add-on: {:?}", c.addons);
    assert!(c.insights.iter().all(|i| i.status == "PASSING" && i.kubernetes_version == "1.36"), "{:#?}", c.insights);
    // Access: the credentials that made the cluster have cluster admin from the start.
    let me = c.access.caller.clone();
    assert!(me.starts_with("arn:aws:iam::"), "{me}");
    let entries = c.access.entries.clone().unwrap();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert!(entries[0].is_caller && entries[0].principal == me, "{entries:#?}");
    assert_eq!(entries[0].policies, [("AmazonEKSClusterAdminPolicy".to_string(), "cluster".to_string())]);
    assert_eq!((c.access.caller_has_access, c.access.fix.as_ref()), (Some(true), None));

    // coredns v1.12.1 does not run on the next version (v1.12.4 runs on both); snapshot-controller
    // has no version for both; kube-proxy may lag the control plane: the add-ons show which
    // versions run on the next one, and the compatibility insight names the two.
    add_addon(&app, &moto.endpoint(), "coredns", "v1.12.1-eksbuild.2").await;
    add_addon(&app, &moto.endpoint(), "snapshot-controller", "v8.2.0-eksbuild.1").await;
    add_addon(&app, &moto.endpoint(), "kube-proxy", "v1.35.0-eksbuild.1").await;
    add_addon(&app, &moto.endpoint(), "vpc-cni", "v1.21.1-eksbuild.1").await;
    let c = app.eks().overview().await.unwrap();
    let dns = c.addons.iter().find(|a| a.name == "coredns").unwrap();
    assert_eq!(
        (dns.fits_next, dns.next_versions.as_slice()),
        (Some(false), ["v1.13.0-eksbuild.1".to_string(), "v1.12.4-eksbuild.1".to_string()].as_slice())
    );
    for fits in ["vpc-cni", "kube-proxy"] {
        assert_eq!(c.addons.iter().find(|a| a.name == fits).unwrap().fits_next, Some(true), "{fits}");
    }
    let blocking: Vec<_> = c.insights.iter().filter(|i| i.status == "ERROR").collect();
    assert_eq!(blocking.len(), 1, "{blocking:#?}");
    let named: Vec<&str> = blocking[0].addons.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(named, ["coredns", "snapshot-controller"]);
    assert!(blocking[0].refreshed.is_some());

    // A refresh is logged; a second while the first runs starts nothing (and says so).
    assert!(app.eks().refresh_insights().await.unwrap());
    assert_eq!(app.eks().overview().await.unwrap().insights_refresh.as_deref(), Some("IN_PROGRESS"));
    assert!(!app.eks().refresh_insights().await.unwrap());
    assert_eq!(logged(&app).await.iter().filter(|a| *a == "eks.insights_refresh").count(), 2);
    assert_eq!(app.eks().overview().await.unwrap().insights_refresh.as_deref(), Some("COMPLETED"));

    // Someone removed the console's access entry: the page says so, with the commands that
    // give it back.
    let cluster = env.deployment["cluster_name"].clone();
    eks_client(&moto.endpoint()).delete_access_entry().cluster_name(&cluster).principal_arn(&me).send().await.unwrap();
    let access = app.eks().overview().await.unwrap().access;
    assert_eq!((access.caller_has_access, access.entries.as_deref().map(<[_]>::len)), (Some(false), Some(0)));
    let fix = access.fix.unwrap();
    assert!(
        fix.contains(&format!("create-access-entry --cluster-name {cluster} --principal-arn {me}")) && fix.contains("AmazonEKSClusterAdminPolicy"),
        "{fix}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_no_longer_exists_and_an_environment_without_one_are_named() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    let mut input = app.environments().get("prod").await.unwrap().to_input();
    input.deployment.insert("cluster_name".into(), "pj-gone".into());
    app.environments().update("prod", &input).await.unwrap();
    let e = app.eks().overview().await.unwrap_err();
    assert_eq!(e.kind(), "cluster_missing", "{e}");
    assert!(e.to_string().contains("'pj-gone'") && e.hint().is_some(), "{e}");
    let e = app.eks().refresh_insights().await.unwrap_err();
    assert_eq!(e.kind(), "cluster_missing", "{e}");

    input.deployment.remove("cluster_name");
    app.environments().update("prod", &input).await.unwrap();
    let e = app.eks().overview().await.unwrap_err();
    assert_eq!(e.kind(), "not_deployed", "{e}");
    assert!(!logged(&app).await.contains(&"eks.insights_refresh".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_faults_are_classified_a_failed_refresh_logs_nothing_and_it_recovers() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let (proxy, app) = faulted(data.path(), &moto.endpoint()).await;
    let bundle = vigil_tests::signed_bundle("1.0.0", |_| {});
    for (fault, kind) in [
        (Fault::Throttle { retry_after: None }, "throttled"),
        (Fault::Status(500), "aws_error"),
        (Fault::ExpiredToken, "expired_credentials"),
        (Fault::Reset, "endpoint_unreachable"),
    ] {
        // The overview's reads fail part-way (after the cluster and its versions were read).
        proxy.inject_after("eks", None, 2, fault.clone(), 100);
        let e = app.eks().overview().await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        assert!(e.hint().is_some(), "{e:?}");
        proxy.clear();
        // The refresh is asked for after the cluster was found: it fails, and nothing is logged.
        proxy.inject_after("eks", None, 1, fault.clone(), 100);
        let e = app.eks().refresh_insights().await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        proxy.clear();
        assert!(!logged(&app).await.contains(&"eks.insights_refresh".to_string()), "{fault:?}");
        // Who the console is (for the access entries) cannot be asked: the overview says so.
        proxy.inject_after("sts", None, 0, fault.clone(), 100);
        let e = app.eks().overview().await.unwrap_err();
        assert_eq!(e.kind(), kind, "sts {fault:?}: {e}");
        proxy.clear();
        // Each access-entry read on its own, and the upgrade cockpit's reads.
        for op in ["ListAccessEntries", "DescribeAccessEntry", "ListAssociatedAccessPolicies"] {
            proxy.inject("eks", Some(op), fault.clone(), 100);
            let e = app.eks().overview().await.unwrap_err();
            assert_eq!(e.kind(), kind, "{op} {fault:?}: {e}");
            assert!(proxy.count("eks", Some(op)) > 0, "{op} was asked");
            proxy.clear();
        }
        for op in ["DescribeClusterVersions", "ListAddons", "ListInsights", "ListNodegroups"] {
            proxy.inject("eks", Some(op), fault.clone(), 100);
            let e = app.eks().upgrade_plan(Some(bundle.path()), None).await.unwrap_err();
            assert_eq!(e.kind(), kind, "{op} {fault:?}: {e}");
            proxy.clear();
        }
    }
    // Recovered.
    assert_eq!(app.eks().overview().await.unwrap().version, "1.35");
    assert!(app.eks().refresh_insights().await.unwrap());
    assert!(logged(&app).await.contains(&"eks.insights_refresh".to_string()));
    assert_eq!(app.eks().upgrade_plan(Some(bundle.path()), None).await.unwrap().blockers, vec![]);
}

/// The upgrade cockpit before anything starts — each kind of blocker named with its fix, bad
/// versions refused — then the upgrade as the bundle's runbook: add-ons that would not run on
/// the new version first, the control plane, the add-ons to its defaults, the node groups; a
/// fault at each kind of call pauses it and a resume goes on without sending anything twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_cockpit_names_what_blocks_and_the_runbook_upgrades_the_cluster() {
    // Boxed: the runbook engine's futures outgrow the test thread's stack in a debug build.
    Box::pin(upgrade_cockpit()).await;
}

async fn upgrade_cockpit() {
    // Every field bound: the emulators and the data directory live as long as the test.
    let Upgradable { moto, kube, proxy, app, bundle, cluster, _data } = upgradable().await;
    let b = Some(bundle.path());

    // As deployed: the next version, nothing in the way, the worker's budget leaves room.
    let p = Box::pin(app.eks().upgrade_plan(b, None)).await.unwrap();
    assert_eq!((p.from.as_str(), p.to.as_str(), p.targets[0].as_str()), ("1.35", "1.36", "1.36"));
    assert_eq!(p.blockers, vec![], "{p:#?}");
    assert_eq!((p.runbook.as_str(), p.confirm.as_str()), ("eks-upgrade", cluster.as_str()));
    assert!(p.expected_secs > 0);
    assert_eq!(p.nodegroups.len(), 1);
    let worker = p.budgets.iter().find(|b| b.namespace == "patient-journey").expect("the worker's budget");
    assert_eq!((worker.allowed, worker.pods.len()), (1, 2), "{worker:?}");

    // Bad versions: one EKS does not offer, one that goes down; two minor versions at once.
    for bad in ["1.99", "1.34", "x"] {
        let e = Box::pin(app.eks().upgrade_plan(b, Some(bad))).await.unwrap_err();
        assert_eq!(e.kind(), "validation", "{bad}: {e}");
    }
    let p = Box::pin(app.eks().upgrade_plan(b, Some("1.37"))).await.unwrap();
    assert_eq!(p.blockers[0].kind, "version", "{p:#?}");
    assert!(p.blockers[0].fix.contains("1.36"), "{:?}", p.blockers[0]);

    // Each blocker: an add-on with no version for both (and the insight naming it), a budget
    // with no room, a manifest whose API Kubernetes removed. coredns has a version for both: it
    // is updated first; kube-proxy may lag, then moves to 1.36's default.
    add_addon(&app, &moto.endpoint(), "coredns", "v1.12.1-eksbuild.2").await;
    add_addon(&app, &moto.endpoint(), "snapshot-controller", "v8.2.0-eksbuild.1").await;
    add_addon(&app, &moto.endpoint(), "kube-proxy", "v1.35.0-eksbuild.1").await;
    kube.budgeted_pod("kube-system", "metrics", 1);
    let old_api = vigil_tests::signed_bundle("1.0.0", |dir| {
        let small = dir.join("k8s/rendered/small.yaml");
        let text = std::fs::read_to_string(&small).unwrap()
            + "---\napiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata:\n  name: pj-worker\nspec:\n  priorityLevelConfiguration:\n    name: workload-low\n";
        std::fs::write(small, text).unwrap();
    });
    let p = Box::pin(app.eks().upgrade_plan(Some(old_api.path()), None)).await.unwrap();
    let mut kinds: Vec<(&str, &str)> = p.blockers.iter().map(|i| (i.kind.as_str(), i.subject.as_str())).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("addon", "snapshot-controller"),
            ("api", "FlowSchema/pj-worker"),
            ("budget", "kube-system/metrics"),
            ("insight", "EKS add-on version compatibility")
        ],
        "{p:#?}"
    );
    assert!(p.blockers.iter().all(|i| !i.fix.is_empty()));
    let budget = p.blockers.iter().find(|i| i.kind == "budget").unwrap();
    assert!(budget.detail.contains("metrics-0"), "{budget:?}");
    let step = |name: &str| p.addons.iter().find(|a| a.name == name).unwrap().clone();
    assert_eq!((step("coredns").before.as_deref(), step("coredns").after.as_deref()), (Some("v1.12.4-eksbuild.1"), Some("v1.13.0-eksbuild.1")));
    assert_eq!((step("kube-proxy").before, step("kube-proxy").after.as_deref()), (None, Some("v1.36.0-eksbuild.1")));

    // Refused while blocked, or without the cluster's name typed: nothing starts.
    let e = Box::pin(app.eks().upgrade(b, "1.36", &cluster, &Progress::default())).await.unwrap_err();
    assert_eq!(e.kind(), "upgrade_blocked", "{e}");
    let e = Box::pin(app.eks().upgrade(b, "1.36", "yes", &Progress::default())).await.unwrap_err();
    assert_eq!(e.kind(), "confirmation_required", "{e}");
    assert!(app.dr().runs().await.unwrap().is_empty());
    assert_eq!(proxy.count("eks", Some("UpdateAddon")) + proxy.count("eks", Some("UpdateClusterVersion")), 0);

    // Resolved: the add-on removed, the budget given room. The insight's add-on (coredns) is
    // the run's first step: a warning now.
    eks_client(&moto.endpoint()).delete_addon().cluster_name(&cluster).addon_name("snapshot-controller").send().await.unwrap();
    kube.budgeted_pod("kube-system", "metrics", 0);
    let p = Box::pin(app.eks().upgrade_plan(b, None)).await.unwrap();
    assert_eq!(p.blockers, vec![], "{p:#?}");
    assert!(p.warnings.iter().any(|w| w.kind == "insight"), "{:#?}", p.warnings);

    // The upgrade, paused by a fault at each kind of call and resumed: UpdateAddon answering
    // 500 (nothing changed), the update's state unreadable with expired credentials while
    // waiting, then UpdateClusterVersion throttled past the SDK's retries.
    let at = |r: &vigil_dto::dr::RunView, path: &str| r.steps.iter().find(|s| s.path == path).unwrap().state.clone();
    proxy.inject("eks", Some("UpdateAddon"), Fault::Status(500), 100);
    let run = Box::pin(app.eks().upgrade(b, "1.36", &cluster, &Progress::default())).await.unwrap();
    assert_eq!((run.state.as_str(), at(&run, "addons-before").as_str()), ("paused", "acting"), "{run:#?}");
    let coredns = app.eks().overview().await.unwrap().addons.into_iter().find(|a| a.name == "coredns").unwrap();
    assert_eq!((coredns.version.as_str(), coredns.status.as_str()), ("v1.12.1-eksbuild.2", "ACTIVE"));
    proxy.clear();
    proxy.inject("eks", Some("DescribeUpdate"), Fault::ExpiredToken, 100);
    let run = Box::pin(app.dr().resume(b, &run.id, &Progress::default())).await.unwrap();
    assert_eq!((run.state.as_str(), at(&run, "addons-before").as_str()), ("paused", "waiting"), "{run:#?}");
    assert!(run.paused.as_deref().unwrap_or_default().contains("expired"), "{:?}", run.paused);
    proxy.clear();
    proxy.inject("eks", Some("UpdateClusterVersion"), Fault::Throttle { retry_after: None }, 100);
    let run = Box::pin(app.dr().resume(b, &run.id, &Progress::default())).await.unwrap();
    assert_eq!(run.state, "paused", "{run:#?}");
    assert_eq!((at(&run, "addons-before").as_str(), at(&run, "control-plane").as_str()), ("done", "acting"), "{run:#?}");
    assert!(run.paused.as_deref().unwrap_or_default().to_lowercase().contains("throttl"), "{:?}", run.paused);
    let coredns = app.eks().overview().await.unwrap().addons.into_iter().find(|a| a.name == "coredns").unwrap();
    assert_eq!(coredns.version, "v1.12.4-eksbuild.1", "updated before the control plane: {run:#?}");
    assert_eq!(app.eks().overview().await.unwrap().version, "1.35", "the control plane was not upgraded");
    let throttled = proxy.count("eks", Some("UpdateClusterVersion"));
    assert!(throttled > 0);
    proxy.clear();

    // The node groups' update carried out but its answer lost: paused, and on resume the node
    // group (updating) is not sent again.
    proxy.inject("eks", Some("UpdateNodegroupVersion"), Fault::Lost, 100);
    let run = Box::pin(app.dr().resume(b, &run.id, &Progress::default())).await.unwrap();
    assert_eq!((run.state.as_str(), at(&run, "nodegroups").as_str()), ("paused", "acting"), "{run:#?}");
    assert_eq!(proxy.count("eks", Some("UpdateClusterVersion")), throttled + 1, "sent once after the pause");
    let lost = proxy.count("eks", Some("UpdateNodegroupVersion"));
    proxy.clear();
    let run = Box::pin(app.dr().resume(b, &run.id, &Progress::default())).await.unwrap();
    assert_eq!(run.state, "succeeded", "{run:#?}");
    assert_eq!(proxy.count("eks", Some("UpdateNodegroupVersion")), lost, "not sent again");
    let c = app.eks().overview().await.unwrap();
    assert_eq!((c.version.as_str(), c.status.as_str()), ("1.36", "ACTIVE"));
    assert_eq!((c.nodegroups[0].version.as_str(), c.nodegroups[0].status.as_str()), ("1.36", "ACTIVE"));
    let versions: Vec<(&str, &str)> = c.addons.iter().map(|a| (a.name.as_str(), a.version.as_str())).collect();
    assert_eq!(versions, [("coredns", "v1.13.0-eksbuild.1"), ("kube-proxy", "v1.36.0-eksbuild.1")]);
    let ran = app.dr().run(&run.id).await.unwrap();
    assert_eq!(
        ran.steps.iter().find(|s| s.path == "addons-after").unwrap().outputs["updated"],
        "coredns v1.13.0-eksbuild.1, kube-proxy v1.36.0-eksbuild.1"
    );
    assert_eq!(ran.steps.iter().find(|s| s.path == "nodegroups").unwrap().outputs["updated"], c.nodegroups[0].name);
    let log = logged(&app).await;
    for action in ["dr.run_started", "dr.step_done"] {
        assert!(log.iter().any(|a| a == action), "{action} in {log:?}");
    }
    // The next step from here is 1.37.
    assert_eq!(Box::pin(app.eks().upgrade_plan(b, None)).await.unwrap().to, "1.37");
}

fn eks_client(moto: &str) -> aws_sdk_eks::Client {
    let conf = aws_sdk_eks::Config::builder()
        .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
        .region(aws_sdk_eks::config::Region::new("us-east-1"))
        .endpoint_url(moto)
        .credentials_provider(aws_sdk_eks::config::Credentials::new("test", "test", None, None, "test"))
        .build();
    aws_sdk_eks::Client::from_conf(conf)
}

/// The environment's timeline (`app.timeline()`) joins every source, newest first: the deploy's
/// CloudFormation events, EKS's updates, the worker's revisions, a runbook run's steps, an
/// alarm's state changes; one source alone; bad input refused; a source that cannot be read is
/// named with its class while the others are still shown, and the next read recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeline_joins_every_source_and_names_one_it_cannot_read() {
    Box::pin(timeline()).await;
}

async fn timeline() {
    let Upgradable { moto, kube: _kube, proxy, app, bundle, cluster, _data } = upgradable().await;

    // What happens: the worker restarted (revision 2), an alarm fires and clears, the upgrade runs.
    app.eks().act(&vigil_dto::eks::WorkloadAction::Restart, "prod").await.unwrap();
    let conf = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new("test", "test", None, None, "test"))
        .build();
    let cw = aws_sdk_cloudwatch::Client::from_conf(conf);
    let alarm = app.alarms().list(None).await.unwrap().into_iter().find(|a| a.name.ends_with("-failed-jobs")).expect("the failed-jobs alarm").name;
    for (state, why) in [("ALARM", "3 jobs failed"), ("OK", "no failed job")] {
        cw.set_alarm_state().alarm_name(&alarm).state_value(state.into()).state_reason(why).send().await.unwrap();
    }
    let run = Box::pin(app.eks().upgrade(Some(bundle.path()), "1.36", &cluster, &Progress::default())).await.unwrap();
    assert_eq!(run.state, "succeeded", "{run:#?}");

    let t = Box::pin(app.timeline().read(None, 24, &[])).await.unwrap();
    assert_eq!(t.environment, "prod");
    for s in &t.sources {
        assert!(s.error.is_none() && s.entries > 0, "{s:?}");
    }
    assert_eq!(t.sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["cloudformation", "eks", "rollout", "runbook", "alarm"]);
    assert!(t.entries.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    let find = |source: &str, f: &dyn Fn(&vigil_dto::TimelineEntry) -> bool| t.entries.iter().find(|e| e.source == source && f(e)).cloned();
    let update = find("eks", &|e| e.subject == format!("cluster {cluster}")).expect("the control plane's update");
    assert!(update.what.contains("VersionUpdate") && update.what.contains("Version 1.36") && update.what.ends_with("Successful"), "{update:?}");
    assert_eq!(update.level, "ok");
    assert!(find("eks", &|e| e.subject.starts_with("node group ")).is_some());
    let restart = find("rollout", &|e| e.what.starts_with("revision 2")).expect("the restart's revision");
    assert!(restart.detail.unwrap_or_default().contains("restart"), "the restart is what revision 2 changed");
    assert!(find("runbook", &|e| e.subject == "eks-upgrade control-plane" && e.level == "ok").is_some());
    let fired = find("alarm", &|e| e.subject == alarm && e.what.ends_with("to ALARM")).expect("the alarm firing");
    assert_eq!(fired.level, "bad");
    assert!(find("cloudformation", &|e| e.what == "CREATE_COMPLETE" && e.level == "ok").is_some());

    // One source; bad input.
    let only = Box::pin(app.timeline().read(None, 24, &["alarm".to_string()])).await.unwrap();
    assert!(only.entries.iter().all(|e| e.source == "alarm") && only.sources.len() == 1 && only.entries.len() >= 2);
    for (hours, sources) in [(0, vec![]), (24 * 91, vec![]), (24, vec!["logs".to_string()])] {
        let e = Box::pin(app.timeline().read(None, hours, &sources)).await.unwrap_err();
        assert_eq!(e.kind(), "validation", "{hours} {sources:?}: {e}");
    }
    let e = Box::pin(app.timeline().read(Some("nope"), 24, &[])).await.unwrap_err();
    assert_eq!(e.kind(), "not_found", "{e}");

    // A source that cannot be read: named with its class, the others shown; then recovered.
    for (service, action, fault, kind) in [
        ("monitoring", "DescribeAlarmHistory", Fault::Throttle { retry_after: None }, "throttled"),
        ("eks", "ListUpdates", Fault::Status(500), "aws_error"),
        ("cloudformation", "DescribeStackEvents", Fault::ExpiredToken, "expired_credentials"),
    ] {
        proxy.inject(service, Some(action), fault, 100);
        let t = Box::pin(app.timeline().read(None, 24, &[])).await.unwrap();
        let failed: Vec<(&str, &str)> = t.sources.iter().filter_map(|s| s.error.as_ref().map(|e| (s.name.as_str(), e.kind.as_str()))).collect();
        assert_eq!(failed.len(), 1, "{action}: {failed:?}");
        assert_eq!(failed[0].1, kind, "{action}");
        assert!(t.entries.iter().any(|e| e.source == "runbook"), "the other sources are shown");
        proxy.clear();
    }
    let t = Box::pin(app.timeline().read(None, 24, &[])).await.unwrap();
    assert!(t.sources.iter().all(|s| s.error.is_none()), "{:?}", t.sources);
}

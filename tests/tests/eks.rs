//! The platform's EKS cluster as the Services page and `vigil eks` show it, against the emulator
//! with the bundle deployed (its EKS extension serves add-ons, versions and insights): support
//! dates and the next version, node groups, an add-on that blocks the next version and the
//! insight naming it, an insights refresh in the operator log; a cluster that no longer exists and
//! an environment with none; who may use the cluster (access entries) and the fix when the
//! console's credentials have none; AWS faults classified, nothing logged for a refresh that
//! failed, and recovery.

mod common;

use common::{deployed, faulted};
use vigil_core::App;
use vigil_tests::faults::Fault;

/// Installs add-on `name` at `version` in the environment's cluster, as an operator would.
async fn add_addon(app: &App, moto: &str, name: &str, version: &str) {
    let cluster = app.environments().get("prod").await.unwrap().deployment["cluster_name"].clone();
    let conf = aws_sdk_eks::Config::builder()
        .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
        .region(aws_sdk_eks::config::Region::new("us-east-1"))
        .endpoint_url(moto)
        .credentials_provider(aws_sdk_eks::config::Credentials::new("test", "test", None, None, "test"))
        .build();
    aws_sdk_eks::Client::from_conf(conf).create_addon().cluster_name(cluster).addon_name(name).addon_version(version).send().await.unwrap();
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
    assert_eq!((c.status.as_str(), c.version.as_str()), ("ACTIVE", "1.31"));
    assert_eq!(c.next.as_deref(), Some("1.32"));
    assert!(["STANDARD_SUPPORT", "EXTENDED_SUPPORT", "UNSUPPORTED"].contains(&c.support.status.as_str()), "{:?}", c.support);
    assert!(c.support.end_of_standard < c.support.end_of_extended, "{:?}", c.support);
    assert!(c.support.days_left.is_some());
    assert!(c.secrets_key.is_some(), "the bundle encrypts Kubernetes secrets");
    assert_eq!(c.logging.len(), 5, "{:?}", c.logging);
    assert_eq!(c.nodegroups.len(), 1, "{:?}", c.nodegroups);
    assert_eq!(c.nodegroups[0].version, "1.31");
    assert!(c.nodegroups[0].release_version.starts_with("1.31."), "{:?}", c.nodegroups[0]);
    assert!(c.addons.is_empty(), "the bundle installs no EKS add-on: {:?}", c.addons);
    assert!(c.insights.iter().all(|i| i.status == "PASSING" && i.kubernetes_version == "1.32"), "{:#?}", c.insights);
    // Access: the credentials that made the cluster have cluster admin from the start.
    let me = c.access.caller.clone();
    assert!(me.starts_with("arn:aws:iam::"), "{me}");
    let entries = c.access.entries.clone().unwrap();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert!(entries[0].is_caller && entries[0].principal == me, "{entries:#?}");
    assert_eq!(entries[0].policies, [("AmazonEKSClusterAdminPolicy".to_string(), "cluster".to_string())]);
    assert_eq!((c.access.caller_has_access, c.access.fix.as_ref()), (Some(true), None));

    // kube-proxy at the control plane's version does not run on the next one: the add-on shows
    // which version does, and the compatibility insight names it.
    add_addon(&app, &moto.endpoint(), "kube-proxy", "v1.31.0-eksbuild.1").await;
    add_addon(&app, &moto.endpoint(), "vpc-cni", "v1.20.4-eksbuild.2").await;
    let c = app.eks().overview().await.unwrap();
    let proxy = c.addons.iter().find(|a| a.name == "kube-proxy").unwrap();
    assert_eq!((proxy.fits_next, proxy.next_versions.as_slice()), (Some(false), ["v1.32.0-eksbuild.1".to_string()].as_slice()));
    let cni = c.addons.iter().find(|a| a.name == "vpc-cni").unwrap();
    assert_eq!(cni.fits_next, Some(true));
    let blocking: Vec<_> = c.insights.iter().filter(|i| i.status == "ERROR").collect();
    assert_eq!(blocking.len(), 1, "{blocking:#?}");
    assert_eq!(blocking[0].addons, [("kube-proxy".to_string(), vec!["v1.32.0-eksbuild.1".to_string()])]);
    assert!(blocking[0].refreshed.is_some());

    // A refresh is logged; a second while the first runs starts nothing (and says so).
    assert!(app.eks().refresh_insights().await.unwrap());
    assert_eq!(app.eks().overview().await.unwrap().insights_refresh.as_deref(), Some("IN_PROGRESS"));
    assert!(!app.eks().refresh_insights().await.unwrap());
    assert_eq!(logged(&app).await.iter().filter(|a| *a == "eks.insights_refresh").count(), 2);
    assert_eq!(app.eks().overview().await.unwrap().insights_refresh.as_deref(), Some("COMPLETED"));

    // Someone removed the console's access entry: the page says so, with the commands that
    // give it back.
    let conf = aws_sdk_eks::Config::builder()
        .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
        .region(aws_sdk_eks::config::Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_eks::config::Credentials::new("test", "test", None, None, "test"))
        .build();
    let cluster = env.deployment["cluster_name"].clone();
    aws_sdk_eks::Client::from_conf(conf).delete_access_entry().cluster_name(&cluster).principal_arn(&me).send().await.unwrap();
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
    }
    // Recovered.
    assert_eq!(app.eks().overview().await.unwrap().version, "1.31");
    assert!(app.eks().refresh_insights().await.unwrap());
    assert!(logged(&app).await.contains(&"eks.insights_refresh".to_string()));
}

//! The Backups area against a platform deployed into the AWS emulator (moto with Vigil's
//! extensions: backup jobs make recovery points through moto's RDS and S3): each component's
//! coverage against the RPO, vaults and plans, jobs with what a failure means, recovery points,
//! bad input, and the fault injector on its AWS calls.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use vigil_aws::backup::Backup;
use vigil_core::App;
use vigil_dto::deploy::{CheckStatus, DeployRequest};
use vigil_dto::{Credentials, EnvironmentInput};
use vigil_tests::faults::{Fault, FaultProxy};
use vigil_tests::{bundle_public_key, signed_bundle};

/// A console whose environment "prod" (AWS through `endpoint`) has the platform deployed.
async fn deployed(dir: &Path, moto_endpoint: &str, endpoint: &str) -> App {
    let app = App::open_with_secrets(
        &dir.join("vigil.db"),
        vigil_core::aws::profiles::ProfileSource::from_contents("", ""),
        "test",
        Arc::new(vigil_core::secrets::MemoryStore::default()),
    )
    .await
    .unwrap()
    .deploy_poll(Duration::from_millis(20));
    let env = |url: &str| EnvironmentInput {
        name: "prod".into(),
        credentials: Credentials::Emulator,
        region: "us-east-1".into(),
        endpoint_url: Some(url.into()),
        deployment: Default::default(),
        platform_db: None,
    };
    app.environments().add(&env(moto_endpoint)).await.unwrap();
    app.environments().select("prod").await.unwrap();
    app.deploy().trust("Patient Journey test releases", &bundle_public_key()).await.unwrap();
    let bundle = signed_bundle("1.0.0", |_| {});
    let plan = app
        .deploy()
        .plan(&DeployRequest { environment: "prod".into(), tier: "small".into(), ..Default::default() }, Some(bundle.path()))
        .await
        .unwrap();
    assert_eq!(app.deploy().apply(&plan.id, None, &|_| {}).await.unwrap().state, "succeeded");
    if endpoint != moto_endpoint {
        // From here on, through the fault injector.
        let mut input = app.environments().get("prod").await.unwrap().to_input();
        input.endpoint_url = Some(endpoint.into());
        app.environments().update("prod", &input).await.unwrap();
    }
    app
}

/// Starts an on-demand backup of `arn` into the environment's vault, as AWS Backup's console does.
async fn back_up(endpoint: &str, vault: &str, arn: &str) -> (String, Option<String>) {
    let ctx = vigil_tests::emulator_context(endpoint).await;
    Backup::new(&ctx, "test")
        .start_backup(vault, arn, "arn:aws:iam::123456789012:role/backup", Some(35), &uuid::Uuid::new_v4().to_string())
        .await
        .unwrap()
}

fn component<'a>(o: &'a vigil_dto::backup::BackupOverview, id: &str) -> &'a vigil_dto::backup::ComponentCoverage {
    o.components.iter().find(|c| c.component == id).unwrap_or_else(|| panic!("no {id} in {o:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_component_is_judged_against_the_rpo_and_a_backup_brings_the_data_in() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let vault = env.deployment["backup_vault"].clone();

    // Deployed, nothing backed up yet: both are covered by the plan; the database is
    // restorable by its own point-in-time recovery, the bucket has no recovery point.
    let o = app.backups().overview().await.unwrap();
    assert!(o.problems.is_empty(), "{:?}", o.problems);
    assert_eq!((o.rpo_minutes, o.rto_minutes), (15, 60));
    for id in ["aurora", "documents"] {
        let c = component(&o, id);
        assert!(c.continuous && !c.protected_by.is_empty(), "{c:?}");
    }
    let aurora = component(&o, "aurora");
    assert_eq!(aurora.status, CheckStatus::Pass, "{aurora:?}");
    assert!(aurora.detail.contains("by point-in-time recovery") && aurora.latest_restorable_ms.is_some(), "{aurora:?}");
    let documents = component(&o, "documents");
    assert_eq!(documents.status, CheckStatus::Fail, "{documents:?}");
    assert!(documents.detail.contains("no completed recovery point"), "{documents:?}");
    assert!(component(&o, "aurora").resource.as_deref().unwrap().starts_with("arn:aws:rds:"), "{o:#?}");
    for id in ["cache", "queue", "secrets"] {
        let c = component(&o, id);
        assert!(!c.by_aws_backup && c.status == CheckStatus::Pass && c.recovery.starts_with("not protected by AWS Backup"), "{c:?}");
    }
    assert_eq!(component(&o, "eks").status, CheckStatus::Pass);
    let v = o.vaults.iter().find(|v| v.name == vault).expect("the platform's vault");
    assert!(v.encryption_key.is_some(), "{v:?}");
    let plan = o.plans.iter().find(|p| p.rules.iter().any(|r| r.continuous)).expect("the platform's plan");
    assert!(!plan.selections.is_empty());
    let scheduled = plan.rules.iter().find(|r| r.schedule.is_some()).expect("a scheduled rule");
    assert!(scheduled.next_run_ms.unwrap() > o.checked_at_ms, "{scheduled:?}");

    // On-demand backups of the database and the bucket: both now meet the RPO.
    let aurora_arn = component(&o, "aurora").resource.clone().unwrap();
    let bucket_arn = component(&o, "documents").resource.clone().unwrap();
    let (_, point) = back_up(&moto.endpoint(), &vault, &aurora_arn).await;
    back_up(&moto.endpoint(), &vault, &bucket_arn).await;
    // A resource that is gone: its job fails.
    let gone = aurora_arn.replace(":cluster:", ":cluster:gone-");
    let (failed_id, _) = back_up(&moto.endpoint(), &vault, &gone).await;
    let o = app.backups().overview().await.unwrap();
    for id in ["aurora", "documents"] {
        let c = component(&o, id);
        assert_eq!(c.status, CheckStatus::Pass, "{c:?}");
        assert_eq!(c.last_point_age_minutes, Some(0), "{c:?}");
    }
    assert_eq!(o.failed_jobs, Some(1));
    assert_eq!(o.vaults.iter().find(|v| v.name == vault).unwrap().recovery_points, 2);

    // The failed job, with what it means; the completed ones.
    let failed = app.backups().jobs("backup", Some("failed"), 7, 100).await.unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!((failed[0].id.as_str(), failed[0].resource.as_str()), (failed_id.as_str(), gone.as_str()));
    assert!(failed[0].message.as_deref().unwrap_or_default().contains("not found"), "{:?}", failed[0]);
    assert!(failed[0].meaning.as_deref().unwrap_or_default().contains("no longer exists"), "{:?}", failed[0]);
    let all = app.backups().jobs("backup", None, 7, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].created_ms >= w[1].created_ms), "newest first");
    assert!(all.iter().filter(|j| j.state == "COMPLETED").all(|j| j.meaning.is_none() && j.duration_seconds.is_some()));

    // Recovery points of the vault, and of one resource.
    let points = app.backups().recovery_points(None, None).await.unwrap();
    assert_eq!(points.len(), 2);
    let mine = app.backups().recovery_points(None, Some(&aurora_arn)).await.unwrap();
    assert_eq!(mine.iter().map(|p| Some(p.arn.clone())).collect::<Vec<_>>(), [point]);
    assert_eq!((mine[0].status.as_str(), mine[0].delete_after_days, mine[0].encrypted), ("COMPLETED", Some(35), true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_what_to_use() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    for (kind, state, days, field) in
        [("snapshot", None, 7, "kind"), ("backup", Some("DONE"), 7, "state"), ("restore", Some("EXPIRED"), 7, "state"), ("copy", None, 0, "days")]
    {
        let e = app.backups().jobs(kind, state, days, 10).await.unwrap_err();
        assert_eq!(e.kind(), "validation", "{kind} {state:?} {days}: {e}");
        assert!(e.to_string().starts_with(field), "{e}");
    }
    let e = app.backups().recovery_points(Some("no-such-vault"), None).await.unwrap_err();
    assert_eq!(e.kind(), "not_found", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_faults_are_classified_the_overview_shows_what_it_could_read_and_recovers() {
    let (moto, _kube) = vigil_tests::platform().await;
    let proxy = FaultProxy::start(&moto.endpoint()).await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &proxy.endpoint()).await.aws_settings(vigil_core::aws::AwsSettings {
        connect_timeout: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(2),
        operation_timeout: Duration::from_secs(6),
        max_attempts: 2,
    });
    let vault = app.environments().get("prod").await.unwrap().deployment["backup_vault"].clone();
    let before = app.backups().overview().await.unwrap();
    for id in ["aurora", "documents"] {
        back_up(&moto.endpoint(), &vault, &component(&before, id).resource.clone().unwrap()).await;
    }

    for (service, action, fault, kind) in [
        ("backup", None, Fault::Status(500), "aws_error"),
        ("backup", Some("ListRecoveryPointsByResource"), Fault::Throttle { retry_after: None }, "throttled"),
        ("rds", None, Fault::Status(503), "service_unavailable"),
        ("backup", Some("ListBackupJobs"), Fault::ExpiredToken, "expired_credentials"),
        ("backup", None, Fault::Hang, "timeout"),
    ] {
        proxy.inject(service, action, fault.clone(), 100);
        let o = app.backups().overview().await.unwrap();
        assert!(!o.problems.is_empty(), "{service} {action:?}: {o:#?}");
        assert!(o.problems.iter().all(|p| p.contains(&format!("{service}:"))), "{service}: {:?}", o.problems);
        // What AWS Backup does not protect is still shown; the data whose protection could not
        // be read is not claimed to be safe.
        assert_eq!(component(&o, "queue").status, CheckStatus::Pass);
        if action == Some("ListBackupJobs") {
            assert_eq!(o.failed_jobs, None, "unknown, not none");
        } else {
            let unread = if service == "rds" { "aurora" } else { "documents" };
            assert_ne!(component(&o, unread).status, CheckStatus::Pass, "{service} {action:?}");
        }
        if service == "backup" && action.is_none_or(|a| a == "ListBackupJobs") {
            let e = app.backups().jobs("backup", None, 7, 10).await.unwrap_err();
            assert_eq!(e.kind(), kind, "{service} {action:?}: {e}");
            assert!(e.hint().is_some(), "{e:?}");
        }
        if service == "backup" && action.is_none() {
            let e = app.backups().recovery_points(None, None).await.unwrap_err();
            assert_eq!(e.kind(), kind, "{service}: {e}");
        }
        proxy.clear();
    }
    // Recovered: the data meets its RPO again.
    let o = app.backups().overview().await.unwrap();
    assert!(o.problems.is_empty(), "{:?}", o.problems);
    for id in ["aurora", "documents"] {
        assert_eq!(component(&o, id).status, CheckStatus::Pass, "{:?}", component(&o, id));
    }
}

//! The Backups area against a platform deployed into the AWS emulator (moto with Vigil's
//! extensions: backup jobs make recovery points through moto's RDS and S3): each component's
//! coverage against the RPO, vaults and plans, jobs with what a failure means, recovery points,
//! an on-demand backup, restores of Aurora (instances added, settings checked) and S3 to new
//! resources, the platform pointed at a restored cluster (the deployed worker — real pj-worker
//! processes under the fake kubelet — restarted onto it) and back, restore tests that validate
//! and delete what they made, bad input, read-only refusals, and the fault injector on its AWS
//! calls.

mod common;

use common::{database, deployed, faulted, jobs_of, smoke_key, smoke_passed};
use std::path::Path;
use std::sync::Arc;
use vigil_aws::backup::Backup;
use vigil_core::progress::Progress;
use vigil_core::App;
use vigil_dto::backup::{BackupRequest, RestoreRecord, RestoreRequest, RestoreTestRequest, UseClusterRequest};
use vigil_dto::deploy::{CheckStatus, DeployRequest};
use vigil_tests::faults::Fault;
use vigil_tests::signed_bundle;

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
    let data = tempfile::tempdir().unwrap();
    let (proxy, app) = faulted(data.path(), &moto.endpoint()).await;
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

/// The operator log's actions, oldest first.
async fn logged(app: &App) -> Vec<String> {
    app.oplog().list(1000, None).await.unwrap().into_iter().rev().map(|e| e.action).collect()
}

/// The same console's store opened read-only, as a compliance officer's console.
async fn read_only(dir: &Path) -> App {
    App::open_with_secrets(
        &dir.join("vigil.db"),
        vigil_core::aws::profiles::ProfileSource::from_contents("", ""),
        "auditor",
        Arc::new(vigil_core::secrets::MemoryStore::default()),
    )
    .await
    .unwrap()
    .read_only(true)
}

fn start(resource: &str, days: Option<i64>, confirm: Option<&str>) -> BackupRequest {
    BackupRequest { resource: resource.into(), retention_days: days, confirm: confirm.map(str::to_string) }
}

async fn restore(app: &App, point: &str, target: &str, prefixes: &[&str]) -> vigil_core::error::Result<RestoreRecord> {
    let req = RestoreRequest {
        point: point.into(),
        vault: None,
        target: target.into(),
        prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
        confirm: Some(target.into()),
    };
    app.backups().restore(&req, &Progress::default()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_demand_backup_needs_the_name_typed_keeps_within_the_vault_lock_and_is_logged() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let (db, bucket, vault) = (env.deployment["db_cluster_id"].clone(), env.deployment["bucket"].clone(), env.deployment["backup_vault"].clone());
    let before = logged(&app).await;

    // Refused, with what to do, before anything is asked of AWS Backup.
    let e = app.backups().start_backup(&start("aurora", None, None)).await.unwrap_err();
    assert_eq!(e.kind(), "confirmation_required", "{e}");
    assert_eq!(e.hint().unwrap(), format!("confirm with {db}"));
    for (resource, says) in [
        ("", "name what to back up"),
        ("nope", "is not a resource of the platform"),
        ("arn:aws:rds:us-east-1:123456789012:cluster:someone-elses", "is not a resource of the platform"),
        ("cache", "is not backed up by AWS Backup"),
    ] {
        let e = app.backups().start_backup(&start(resource, None, Some(resource))).await.unwrap_err();
        assert_eq!(e.kind(), "validation", "{resource}: {e}");
        assert!(e.to_string().contains(says), "{resource}: {e}");
    }
    // A vault lock's minimum retention bounds what a backup may ask for.
    let sdk = aws_sdk_backup::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    sdk.put_backup_vault_lock_configuration().backup_vault_name(&vault).min_retention_days(7).max_retention_days(400).send().await.unwrap();
    let e = app.backups().start_backup(&start("aurora", Some(3), Some(&db))).await.unwrap_err();
    assert_eq!(e.kind(), "validation", "{e}");
    assert!(e.to_string().contains(&format!("below the lock of vault {vault}")) && e.to_string().contains("at least 7 days"), "{e}");
    let e = app.backups().start_backup(&start("documents", Some(500), Some(&bucket))).await.unwrap_err();
    assert!(e.to_string().contains("at most 400 days"), "{e}");
    // Read-only: refused whatever was typed.
    let ro = read_only(data.path()).await;
    assert_eq!(ro.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap_err().kind(), "read_only");
    assert_eq!(logged(&app).await, before, "nothing refused was logged");
    assert!(app.backups().jobs("backup", None, 1, 10).await.unwrap().is_empty(), "no job was started");

    // By component and by ARN: each job completes into the vault, kept as the plan keeps it
    // unless told, and is logged.
    let job = app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap();
    assert_eq!((job.state.as_str(), job.vault.as_str()), ("COMPLETED", vault.as_str()), "{job:?}");
    let arn = format!("arn:aws:s3:::{bucket}");
    let job2 = app.backups().start_backup(&start(&arn, Some(30), Some(&bucket))).await.unwrap();
    assert_eq!((job2.state.as_str(), job2.resource.as_str()), ("COMPLETED", arn.as_str()));
    let points = app.backups().recovery_points(None, None).await.unwrap();
    let kept: Vec<_> = points.iter().map(|p| (p.resource_type.as_str(), p.delete_after_days)).collect();
    assert!(kept.contains(&("S3", Some(30))), "{kept:?}");
    let plan_days = app.backups().overview().await.unwrap().plans[0].rules.iter().find(|r| !r.continuous).and_then(|r| r.delete_after_days);
    assert!(kept.contains(&("Aurora", plan_days)), "{kept:?} vs the plan's {plan_days:?}");
    let log = app.oplog().list(2, None).await.unwrap();
    assert!(log.iter().all(|e| e.action == "backup.start"), "{log:?}");
    assert!(log[0].details.contains(&job2.id) && log[1].details.contains(&job.id), "{log:?}");
    // Read-only still sees the jobs.
    assert_eq!(ro.backups().jobs("backup", None, 1, 10).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aurora_restore_finishes_with_instances_and_checked_settings_and_is_kept_as_rto_evidence() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    let db = app.environments().get("prod").await.unwrap().deployment["db_cluster_id"].clone();
    let job = app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap();
    let point = job.recovery_point.clone().expect("a recovery point");
    let target = format!("{db}-restored");

    // Refused: the running cluster, an existing cluster, a bad name, no confirmation, prefixes
    // for a cluster, read-only, a point that is not there.
    let req = |target: &str, confirm: Option<&str>| RestoreRequest {
        point: point.clone(),
        target: target.into(),
        confirm: confirm.map(str::to_string),
        ..Default::default()
    };
    let refused = |r: vigil_core::error::Result<RestoreRecord>, kind: &str, says: &str| {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.to_string().contains(says), "{e}");
    };
    refused(restore(&app, &point, &db, &[]).await, "validation", "never writes over the running one");
    refused(restore(&app, &point, "1-bad--name", &[]).await, "validation", "is not a cluster identifier");
    refused(app.backups().restore(&req(&target, None), &Progress::default()).await, "confirmation_required", "type that name");
    refused(restore(&app, &point, &target, &["input/"]).await, "validation", "restored whole");
    refused(restore(&app, &format!("{point}-gone"), &target, &[]).await, "not_found", "no recovery point");
    refused(read_only(data.path()).await.backups().restore(&req(&target, Some(&target)), &Progress::default()).await, "read_only", "restoring");
    let rds = aws_sdk_rds::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    let source = rds.describe_db_clusters().db_cluster_identifier(&db).send().await.unwrap().db_clusters()[0].clone();
    let other = format!("{db}-other");
    rds.create_db_cluster()
        .db_cluster_identifier(&other)
        .engine("aurora-postgresql")
        .master_username("x")
        .master_user_password("password1")
        .send()
        .await
        .unwrap();
    refused(restore(&app, &point, &other, &[]).await, "target_exists", "already exists");
    assert!(app.backups().restores(10).await.unwrap().is_empty(), "nothing refused is kept");
    assert!(app.backups().jobs("restore", None, 1, 10).await.unwrap().is_empty(), "no restore job was started");

    // The restore: a new cluster with the source's instances, its settings as the source's.
    let r = restore(&app, &point, &target, &[]).await.unwrap();
    assert_eq!((r.state.as_str(), r.component.as_str(), r.target.as_str()), ("restored", "aurora", target.as_str()), "{r:#?}");
    assert_eq!(r.instances.len(), source.db_cluster_members().len(), "{r:#?}");
    assert!(r.instances.iter().all(|i| i.starts_with(&format!("{target}-"))), "{r:?}");
    let names: Vec<&str> = r.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["engine_version", "parameter_group", "security_groups", "kms_key", "iam_auth", "storage_encrypted"]);
    assert!(r.checks.iter().all(|c| c.matches), "{:#?}", r.checks);
    assert_eq!((r.rto_met, r.restore_seconds.is_some(), r.total_seconds.is_some()), (Some(true), true, true), "{r:?}");
    let restored = rds.describe_db_clusters().db_cluster_identifier(&target).send().await.unwrap().db_clusters()[0].clone();
    assert_eq!(Some(restored.db_cluster_arn().unwrap()), r.created_resource.as_deref());
    let members: Vec<&str> = restored.db_cluster_members().iter().filter_map(|m| m.db_instance_identifier()).collect();
    assert_eq!(members, r.instances.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(restored.iam_database_authentication_enabled(), source.iam_database_authentication_enabled());
    // The running cluster is as it was.
    let now = rds.describe_db_clusters().db_cluster_identifier(&db).send().await.unwrap().db_clusters()[0].clone();
    assert_eq!(now.db_cluster_members().len(), source.db_cluster_members().len());

    // Kept as evidence (read-only sees it), every step logged; asked again, refused.
    let kept = read_only(data.path()).await.backups().restores(10).await.unwrap();
    assert_eq!(kept, std::slice::from_ref(&r));
    let log = logged(&app).await;
    let tail: Vec<&str> = log.iter().rev().take(4).rev().map(String::as_str).collect();
    assert_eq!(tail, ["backup.start", "backup.restore_started", "backup.restore_instances", "backup.restored"]);
    refused(restore(&app, &point, &target, &[]).await, "target_exists", "already exists");
    let jobs = app.backups().jobs("restore", None, 1, 10).await.unwrap();
    assert_eq!(jobs.iter().map(|j| (j.state.as_str(), j.created_resource.clone())).collect::<Vec<_>>(), [("COMPLETED", r.created_resource.clone())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_restore_brings_back_the_prefixes_asked_for_into_a_new_bucket() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    let bucket = app.environments().get("prod").await.unwrap().deployment["bucket"].clone();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await).force_path_style(true).build(),
    );
    for key in ["input/a.txt", "input/b.txt", "output/a.txt"] {
        s3.put_object().bucket(&bucket).key(key).body(key.as_bytes().to_vec().into()).send().await.unwrap();
    }
    let job = app.backups().start_backup(&start("documents", None, Some(&bucket))).await.unwrap();
    let point = job.recovery_point.unwrap();
    // Deleted after the backup: the restore brings them back, elsewhere.
    s3.delete_object().bucket(&bucket).key("input/a.txt").send().await.unwrap();
    let e = restore(&app, &point, "Not_A_Bucket", &[]).await.unwrap_err();
    assert!(e.to_string().contains("is not a bucket name"), "{e}");
    let target = format!("{bucket}-restored");
    let r = restore(&app, &point, &target, &["input/"]).await.unwrap();
    assert_eq!((r.state.as_str(), r.component.as_str()), ("restored", "documents"), "{r:#?}");
    assert!(r.instances.is_empty());
    assert_eq!((r.checks.len(), r.checks[0].matches, r.checks[0].restored.as_str()), (1, true, "2 restored"), "{:?}", r.checks);
    let keys: Vec<String> =
        s3.list_objects_v2().bucket(&target).send().await.unwrap().contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
    assert_eq!(keys, ["input/a.txt", "input/b.txt"]);
    assert_eq!(s3.list_objects_v2().bucket(&bucket).prefix("input/").send().await.unwrap().contents().len(), 1, "the source is untouched");
    let e = restore(&app, &point, &target, &[]).await.unwrap_err();
    assert_eq!(e.kind(), "target_exists", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_in_a_backup_or_restore_leave_it_whole_and_a_restore_continues_where_it_stopped() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let (proxy, app) = faulted(data.path(), &moto.endpoint()).await;
    let db = app.environments().get("prod").await.unwrap().deployment["db_cluster_id"].clone();
    let before = logged(&app).await;

    // The start of a backup fails: classified, nothing started, nothing logged; then it works.
    for (action, fault, kind) in [
        ("StartBackupJob", Fault::Status(500), "aws_error"),
        ("StartBackupJob", Fault::ExpiredToken, "expired_credentials"),
        ("GetBackupSelection", Fault::Throttle { retry_after: None }, "throttled"),
        ("DescribeBackupVault", Fault::Hang, "timeout"),
    ] {
        proxy.inject("backup", Some(action), fault, 100);
        let e = app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{action}: {e}");
        assert!(e.hint().is_some(), "{e:?}");
        proxy.clear();
        assert_eq!(logged(&app).await, before, "{action}");
        assert!(app.backups().jobs("backup", None, 1, 10).await.unwrap().is_empty(), "{action}");
    }
    // Its answer lost: the retry is the same job (AWS Backup's idempotency token).
    proxy.inject("backup", Some("StartBackupJob"), Fault::Lost, 1);
    let job = app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap();
    proxy.clear();
    assert_eq!(app.backups().jobs("backup", None, 1, 10).await.unwrap().len(), 1);
    // Started, its description then unreadable (throttled): the start stands, logged, its job said
    // as created with the id to follow it by.
    proxy.inject("backup", Some("DescribeBackupJob"), Fault::Throttle { retry_after: None }, 100);
    let second = app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap();
    proxy.clear();
    assert_eq!(second.state, "CREATED", "{second:?}");
    let jobs = app.backups().jobs("backup", None, 1, 10).await.unwrap();
    assert!(jobs.len() == 2 && jobs.iter().any(|j| j.id == second.id && j.state == "COMPLETED"), "{jobs:#?}");
    assert_eq!(logged(&app).await.iter().filter(|a| *a == "backup.start").count(), 2);
    let point = job.recovery_point.unwrap();
    let target = format!("{db}-restored");

    // Before the restore job starts: nothing kept, nothing logged.
    for (action, fault, kind) in
        [("GetRecoveryPointRestoreMetadata", Fault::ExpiredToken, "expired_credentials"), ("DescribeRecoveryPoint", Fault::Status(500), "aws_error")]
    {
        proxy.inject("backup", Some(action), fault, 100);
        assert_eq!(restore(&app, &point, &target, &[]).await.unwrap_err().kind(), kind, "{action}");
        proxy.clear();
        assert!(app.backups().restores(10).await.unwrap().is_empty(), "{action}");
    }
    // The start's answer lost: one restore job all the same. Then following it fails (throttled):
    // the restore is kept where it stands and says how to continue.
    proxy.inject("backup", Some("StartRestoreJob"), Fault::Lost, 1);
    proxy.inject("backup", Some("DescribeRestoreJob"), Fault::Throttle { retry_after: None }, 100);
    let e = restore(&app, &point, &target, &[]).await.unwrap_err();
    assert_eq!(e.kind(), "throttled", "{e}");
    proxy.clear();
    let kept = app.backups().restores(10).await.unwrap();
    assert_eq!((kept.len(), kept[0].state.as_str()), (1, "restoring"), "{kept:#?}");
    assert!(kept[0].next.as_deref().unwrap().contains("again to continue"), "{kept:?}");
    // Continued: the instances' creation fails (RDS 503), then succeeds.
    proxy.inject("rds", Some("CreateDBInstance"), Fault::Status(503), 100);
    let e = restore(&app, &point, &target, &[]).await.unwrap_err();
    assert_eq!(e.kind(), "service_unavailable", "{e}");
    proxy.clear();
    assert_eq!(app.backups().restores(10).await.unwrap()[0].state, "instances");
    // Waiting for the instances fails (throttled): still at that step.
    proxy.inject("rds", Some("DescribeDBInstances"), Fault::Throttle { retry_after: None }, 100);
    assert_eq!(restore(&app, &point, &target, &[]).await.unwrap_err().kind(), "throttled");
    proxy.clear();
    assert_eq!(app.backups().restores(10).await.unwrap()[0].state, "instances");
    let r = restore(&app, &point, &target, &[]).await.unwrap();
    assert_eq!(r.state, "restored", "{r:#?}");
    assert!(r.checks.iter().all(|c| c.matches), "{:?}", r.checks);
    assert_eq!(app.backups().jobs("restore", None, 1, 10).await.unwrap().len(), 1, "one restore job in all");
    let restores = app.backups().restores(10).await.unwrap();
    assert_eq!(restores.len(), 1, "one record, continued");
    let log = logged(&app).await;
    assert_eq!(log.iter().filter(|a| *a == "backup.restore_started").count(), 1);
    assert_eq!(log.iter().filter(|a| *a == "backup.restored").count(), 1);
}

fn control<'a>(r: &'a vigil_dto::backup::ComplianceReport, id: &str) -> &'a vigil_dto::backup::ControlResult {
    r.controls.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}"))
}

/// A control's verdict for one resource.
fn verdict(r: &vigil_dto::backup::ComplianceReport, id: &str, resource: &str) -> (CheckStatus, String) {
    let c = control(r, id);
    let x = c.results.iter().find(|x| x.resource == resource).unwrap_or_else(|| panic!("{resource} not under {id}: {c:#?}"));
    (x.status, x.evidence.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_controls_follow_the_platforms_state_and_frameworks_are_evaluated_with_their_parameters() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let (db, bucket, vault) = (env.deployment["db_cluster_id"].clone(), env.deployment["bucket"].clone(), env.deployment["backup_vault"].clone());
    let docs = format!("arn:aws:s3:::{bucket}");

    // Deployed, nothing backed up: in the plan, but no recovery point; the database is
    // restorable by its point-in-time recovery; nothing was ever restored.
    let r = app.backups().compliance().await.unwrap();
    assert!(r.complete(), "{:?}", r.problems);
    assert_eq!(r.controls.len(), 13);
    let db_arn = component(&app.backups().overview().await.unwrap(), "aurora").resource.clone().unwrap();
    for arn in [&db_arn, &docs] {
        assert_eq!(verdict(&r, "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN", arn).0, CheckStatus::Pass);
        assert_eq!(verdict(&r, "BACKUP_LAST_RECOVERY_POINT_CREATED", arn), (CheckStatus::Fail, "no recovery point".into()));
        assert_eq!(verdict(&r, "PJ_RESTORE_TEST_WITHIN_30_DAYS", arn).0, CheckStatus::Fail);
    }
    assert_eq!(verdict(&r, "PJ_RPO_ACHIEVABLE", &db_arn).0, CheckStatus::Pass);
    assert_eq!(verdict(&r, "PJ_RPO_ACHIEVABLE", &docs), (CheckStatus::Fail, "nothing to restore from; continuous backup on".into()));
    assert_eq!(control(&r, "BACKUP_RECOVERY_POINT_ENCRYPTED").status, CheckStatus::Warn, "no point: nothing to judge");
    assert_eq!(control(&r, "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK").status, CheckStatus::Pass);
    let (status, why) = verdict(&r, "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", &vault);
    assert_eq!(status, CheckStatus::Fail, "{why}");

    // Backed up (encrypted by the vault's key), the vault locked and its deletions denied, the
    // database restored: those controls pass for what they cover.
    app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap();
    let point = app.backups().start_backup(&start("documents", None, Some(&bucket))).await.unwrap().recovery_point.unwrap();
    let sdk = aws_sdk_backup::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    sdk.put_backup_vault_lock_configuration().backup_vault_name(&vault).min_retention_days(7).max_retention_days(400).send().await.unwrap();
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoManualDeletion","Effect":"Deny","Principal":"*","Action":"backup:DeleteRecoveryPoint","Resource":"*"}]}"#;
    sdk.put_backup_vault_access_policy().backup_vault_name(&vault).policy(deny).send().await.unwrap();
    restore(&app, &point, &format!("{bucket}-restored"), &[]).await.unwrap();
    let r = app.backups().compliance().await.unwrap();
    assert!(r.complete(), "{:?}", r.problems);
    for arn in [&db_arn, &docs] {
        for id in ["BACKUP_LAST_RECOVERY_POINT_CREATED", "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK", "PJ_RPO_ACHIEVABLE"] {
            assert_eq!(verdict(&r, id, arn).0, CheckStatus::Pass, "{id} {arn}: {:?}", verdict(&r, id, arn));
        }
    }
    assert_eq!(control(&r, "BACKUP_RECOVERY_POINT_ENCRYPTED").status, CheckStatus::Pass);
    assert_eq!(control(&r, "BACKUP_RECOVERY_POINT_ENCRYPTED").evaluated, 2);
    assert_eq!(verdict(&r, "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", &vault).0, CheckStatus::Pass);
    let (status, why) = verdict(&r, "PJ_RESTORE_TEST_WITHIN_30_DAYS", &docs);
    assert!(status == CheckStatus::Pass && why.starts_with(&format!("restored to {bucket}-restored")), "{why}");
    assert_eq!(verdict(&r, "PJ_RESTORE_TEST_WITHIN_30_DAYS", &db_arn).0, CheckStatus::Fail);
    assert_eq!(verdict(&r, "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET", &docs).0, CheckStatus::Pass);
    assert_eq!(verdict(&r, "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET", &db_arn).0, CheckStatus::Warn);
    // No copy anywhere else, no air-gapped vault: those fail with why.
    let (status, why) = verdict(&r, "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION", &db_arn);
    assert!(status == CheckStatus::Fail && why.contains("no rule copies it"), "{why}");
    assert_eq!(verdict(&r, "RESOURCES_IN_LOGICALLY_AIR_GAPPED_VAULT", &docs).0, CheckStatus::Fail);

    // The account's framework, beside Vigil's verdict with its own parameters and scope.
    let param = |n: &str, v: &str| aws_sdk_backup::types::ControlInputParameter::builder().parameter_name(n).parameter_value(v).build();
    let scope = aws_sdk_backup::types::ControlScope::builder().compliance_resource_types("Aurora").build();
    let controls = [
        aws_sdk_backup::types::FrameworkControl::builder()
            .control_name("BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK")
            .control_input_parameters(param("requiredRetentionDays", "3650"))
            .control_scope(scope)
            .build()
            .unwrap(),
        aws_sdk_backup::types::FrameworkControl::builder().control_name("BACKUP_RECOVERY_POINT_ENCRYPTED").build().unwrap(),
        aws_sdk_backup::types::FrameworkControl::builder().control_name("SOMETHING_NEW").build().unwrap(),
    ];
    sdk.create_framework().framework_name("hipaa").set_framework_controls(Some(controls.to_vec())).send().await.unwrap();
    let r = app.backups().compliance().await.unwrap();
    let f = &r.frameworks[0];
    assert_eq!((f.name.as_str(), f.status.as_str(), f.controls.len()), ("hipaa", "ACTIVE", 3));
    let retention = f.controls[0].vigil.as_ref().unwrap();
    assert_eq!((retention.status, retention.evaluated, f.controls[0].scope.as_str()), (CheckStatus::Fail, 1, "types Aurora"), "{retention:#?}");
    assert!(retention.results[0].evidence.contains("(at least 3650 required)"), "{retention:#?}");
    assert_eq!(f.controls[1].vigil.as_ref().unwrap().status, CheckStatus::Pass);
    assert!(f.controls[2].vigil.is_none(), "a control Vigil does not know is said so");

    // Exported by a read-only console: each file's SHA-256 in the operator log.
    let ro = read_only(data.path()).await;
    let pdf = ro.backups().export_compliance(&data.path().join("c.pdf"), "pdf").await.unwrap();
    let csv = ro.backups().export_compliance(&data.path().join("c.csv"), "csv").await.unwrap();
    use sha2::Digest;
    for x in [&pdf, &csv] {
        let bytes = std::fs::read(&x.path).unwrap();
        assert_eq!(x.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
        assert!(x.complete && x.failing > 0, "{x:?}");
    }
    assert!(std::fs::read(&pdf.path).unwrap().starts_with(b"%PDF-"));
    let text = std::fs::read_to_string(&csv.path).unwrap();
    assert!(text.starts_with("environment,checked_at,control,title,source,parameters,control_status,resource,kind,status,evidence"), "{text}");
    assert!(text.lines().any(|l| l.contains("PJ_RESTORE_TEST_WITHIN_30_DAYS") && l.contains(&docs) && l.contains(",pass,")), "{text}");
    let logged: Vec<_> = app.oplog().list(2, None).await.unwrap();
    assert!(logged.iter().all(|e| e.action == "backup.compliance_export" && e.details.contains(r#""client":"auditor""#)), "{logged:?}");
    assert!(logged[0].details.contains(&csv.sha256) && logged[1].details.contains(&pdf.sha256));
    let e = app.backups().export_compliance(&data.path().join("c.txt"), "txt").await.unwrap_err();
    assert_eq!(e.kind(), "validation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_under_faults_says_it_is_incomplete_and_recovers() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let (proxy, app) = faulted(data.path(), &moto.endpoint()).await;
    for (service, action, fault) in [
        ("backup", Some("ListRecoveryPointsByBackupVault"), Fault::Status(500)),
        ("backup", Some("ListFrameworks"), Fault::Throttle { retry_after: None }),
        ("backup", Some("ListCopyJobs"), Fault::ExpiredToken),
        ("sts", None, Fault::Reset),
        ("backup", Some("DescribeFramework"), Fault::Hang),
    ] {
        proxy.inject(service, action, fault.clone(), 100);
        if action == Some("DescribeFramework") {
            let sdk = aws_sdk_backup::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
            let c = aws_sdk_backup::types::FrameworkControl::builder().control_name("BACKUP_RECOVERY_POINT_ENCRYPTED").build().unwrap();
            sdk.create_framework().framework_name("f").framework_controls(c).send().await.unwrap();
        }
        let r = app.backups().compliance().await.unwrap();
        assert!(!r.complete(), "{service} {action:?}");
        assert!(r.problems.iter().all(|p| p.contains(&format!("{service}:"))), "{service} {action:?}: {:?}", r.problems);
        let x = app.backups().export_compliance(&data.path().join("c.pdf"), "pdf").await.unwrap();
        assert!(!x.complete, "the export says it is incomplete");
        proxy.clear();
    }
    let r = app.backups().compliance().await.unwrap();
    assert!(r.complete(), "{:?}", r.problems);
    assert_eq!(r.frameworks.len(), 1);
}

/// The platform database `name` on the test's PostgreSQL server.
fn use_cluster(cluster: &str, confirm: Option<&str>) -> UseClusterRequest {
    UseClusterRequest { cluster: cluster.into(), confirm: confirm.map(str::to_string) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_is_pointed_at_a_restored_cluster_runs_there_and_is_pointed_back() {
    let (moto, kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let (proxy, app) = faulted(data.path(), &moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let (db, platform) = (env.deployment["db_cluster_id"].clone(), env.deployment["environment"].clone());
    // The emulator's PostgreSQL has no IAM database authentication: the console signs in as its
    // superuser, as in the sandbox (scripts/run); use_cluster must still move host and database.
    let mut console = env.platform_db.clone().unwrap();
    (console.user, console.auth) = ("postgres".into(), vigil_dto::DbAuth::Trust);
    app.platform_db().set("prod", Some(console)).await.unwrap();
    // A note through the running platform before the backup: the ledger has a job to restore.
    assert!(smoke_passed(&app.deploy().validate("prod").await.unwrap()));
    let before_backup = smoke_key(&app).await;
    let point = app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap().recovery_point.unwrap();
    let target = format!("{db}-r");
    restore(&app, &point, &target, &[]).await.unwrap();
    let rds = aws_sdk_rds::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    let name_of = |c: &aws_sdk_rds::types::DbCluster| c.database_name().unwrap().to_string();
    let source_db = name_of(&rds.describe_db_clusters().db_cluster_identifier(&db).send().await.unwrap().db_clusters()[0]);
    let restored_db = name_of(&rds.describe_db_clusters().db_cluster_identifier(&target).send().await.unwrap().db_clusters()[0]);
    assert_ne!(source_db, restored_db);

    // Refused before anything changes: a cluster Vigil did not restore, no name typed, read-only.
    let log_before = logged(&app).await;
    let refused = |r: vigil_core::error::Result<vigil_dto::backup::UseClusterResult>, kind: &str, says: &str| {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.to_string().contains(says), "{e}");
    };
    refused(app.backups().use_cluster(&use_cluster("pj-other", Some("pj-other")), &Progress::default()).await, "validation", "neither");
    refused(app.backups().use_cluster(&use_cluster(&target, None), &Progress::default()).await, "confirmation_required", "type that name");
    refused(
        read_only(data.path()).await.backups().use_cluster(&use_cluster(&target, Some(&target)), &Progress::default()).await,
        "read_only",
        "pointing the platform",
    );
    assert_eq!(logged(&app).await, log_before);
    assert_eq!(app.environments().get("prod").await.unwrap().deployment["db_cluster_id"], db);

    // AWS failing before anything changed (reading the cluster or the secret, writing the
    // secret): classified, nothing changed, nothing logged.
    for (service, action, fault, kind) in [
        ("rds", "DescribeDBClusters", Fault::Throttle { retry_after: None }, "throttled"),
        ("secretsmanager", "GetSecretValue", Fault::ExpiredToken, "expired_credentials"),
        ("secretsmanager", "PutSecretValue", Fault::Status(500), "aws_error"),
        ("secretsmanager", "PutSecretValue", Fault::Hang, "timeout"),
    ] {
        proxy.inject(service, Some(action), fault, 100);
        let e = app.backups().use_cluster(&use_cluster(&target, Some(&target)), &Progress::default()).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{action}: {e}");
        assert!(e.hint().is_some(), "{e}");
        proxy.clear();
        assert_eq!(logged(&app).await, log_before, "{action}");
        assert_eq!(app.environments().get("prod").await.unwrap().deployment["db_cluster_id"], db, "{action}");
    }

    // Pointed at the restored cluster: its data read first, then the secret, the environment and
    // the worker (every pod replaced).
    let pods = kube.pods();
    let r = app.backups().use_cluster(&use_cluster(&target, Some(&target)), &Progress::default()).await.unwrap();
    assert_eq!((r.cluster.as_str(), r.previous.as_str(), r.console_follows), (target.as_str(), db.as_str(), true), "{r:#?}");
    assert_eq!(
        r.checks.iter().map(|c| (c.name.as_str(), c.matches)).collect::<Vec<_>>(),
        [("schema_version", true), ("job_ledger", true), ("audit_log", true)]
    );
    assert!(r.checks[1].restored.starts_with("1 rows"), "{:?}", r.checks);
    let env = app.environments().get("prod").await.unwrap();
    assert_eq!((env.deployment["db_cluster_id"].as_str(), env.deployment["db_cluster_stack"].as_str()), (target.as_str(), db.as_str()));
    assert_eq!(env.platform_db.as_ref().unwrap().database, restored_db);
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let secret = vigil_aws::secretsmanager::SecretsManager::new(&ctx, "test").value(&format!("pj-{platform}/aurora-worker")).await.unwrap().unwrap();
    let secret: serde_json::Value = serde_json::from_str(&secret).unwrap();
    assert_eq!((secret["dbClusterIdentifier"].as_str(), secret["dbname"].as_str()), (Some(target.as_str()), Some(restored_db.as_str())));
    let now = kube.pods();
    assert!(!now.is_empty() && now.iter().all(|p| !pods.contains(p)), "restarted: {pods:?} → {now:?}");
    let log = logged(&app).await;
    assert_eq!(log[log.len() - 2..], ["backup.use_cluster", "backup.worker_restarted"]);
    app.environments().update("prod", &env.to_input()).await.expect("an environment on a restored cluster can still be edited");

    // The platform runs on it: a note goes through the restarted worker into the restored
    // ledger (read by this console there), not into the old one; the restored ledger has the
    // job from before the backup.
    assert!(smoke_passed(&app.deploy().validate("prod").await.unwrap()));
    let after = smoke_key(&app).await;
    let (old, new) = (database(&source_db).await, database(&restored_db).await);
    assert_eq!((jobs_of(&new, &after).await, jobs_of(&old, &after).await), (1, 0));
    assert_eq!((jobs_of(&new, &before_backup).await, jobs_of(&old, &before_backup).await), (1, 1));
    assert_eq!(app.jobs().list(&Default::default(), None, 100).await.unwrap().rows.len(), 2, "the console reads the restored ledger");

    // A deploy would point it back: refused until the platform is pointed back.
    let e = app
        .deploy()
        .plan(&DeployRequest { environment: "prod".into(), tier: "small".into(), ..Default::default() }, Some(signed_bundle("1.0.0", |_| {}).path()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "platform_moved", "{e}");

    // Back at the stack's own: fewer rows there (what ran since is not) is accepted and said;
    // the schema is checked.
    let back = app.backups().use_cluster(&use_cluster(&db, Some(&db)), &Progress::default()).await.unwrap();
    assert_eq!((back.cluster.as_str(), back.previous.as_str()), (db.as_str(), target.as_str()));
    assert!(back.checks.iter().all(|c| c.matches), "{:?}", back.checks);
    assert_eq!((back.checks[1].restored.as_str(), back.checks[1].source.as_str()), ("1 rows", "2 rows now"));
    let env = app.environments().get("prod").await.unwrap();
    assert_eq!((env.deployment["db_cluster_id"].as_str(), env.deployment.get("db_cluster_stack")), (db.as_str(), None));
    assert_eq!(env.platform_db.as_ref().unwrap().database, source_db);
    assert!(smoke_passed(&app.deploy().validate("prod").await.unwrap()));
    assert_eq!(jobs_of(&old, &smoke_key(&app).await).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_test_restores_validates_times_and_deletes_what_it_made() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let app = deployed(data.path(), &moto.endpoint(), &moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let (db, bucket) = (env.deployment["db_cluster_id"].clone(), env.deployment["bucket"].clone());
    let test = |components: &[&str], confirm: Option<&str>| RestoreTestRequest {
        components: components.iter().map(|c| c.to_string()).collect(),
        confirm: confirm.map(str::to_string),
    };
    // Nothing to test before any backup: said per component.
    let none = app.backups().restore_test(&test(&[], Some("prod")), &Progress::default()).await.unwrap();
    assert!(none.tests.is_empty() && !none.passed(), "{none:?}");
    assert!(none.skipped.iter().any(|(c, why)| c == "aurora" && why.contains("no completed recovery point")), "{none:?}");

    assert!(smoke_passed(&app.deploy().validate("prod").await.unwrap()));
    app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap();
    app.backups().start_backup(&start("documents", None, Some(&bucket))).await.unwrap();

    // Refused: no name typed, an unknown component, read-only.
    for (req, kind) in [(test(&[], None), "confirmation_required"), (test(&["cache"], Some("prod")), "validation")] {
        assert_eq!(app.backups().restore_test(&req, &Progress::default()).await.unwrap_err().kind(), kind);
    }
    let ro = read_only(data.path()).await.backups().restore_test(&test(&[], Some("prod")), &Progress::default()).await;
    assert_eq!(ro.unwrap_err().kind(), "read_only");

    // The server is shared with tests running alongside: a database this test left is one made
    // since, holding this platform's ledger (the note of its smoke test).
    let admin = vigil_tests::platform_db::admin_pool().await;
    let names = || async { sqlx::query_scalar::<_, String>("SELECT datname FROM pg_database").fetch_all(&admin).await.unwrap() };
    let before = names().await;
    let key = smoke_key(&app).await;
    let left_by_this_test = || async {
        let mut left = vec![];
        for name in names().await.into_iter().filter(|n| !before.contains(n)) {
            let Ok(db) = sqlx::PgPool::connect(&vigil_tests::platform_db::url_for(&name)).await else { continue };
            let held: Option<i64> =
                sqlx::query_scalar("SELECT count(*) FROM jobs WHERE source_uri LIKE '%' || $1").bind(&key).fetch_one(&db).await.ok();
            if held.unwrap_or(0) > 0 {
                left.push(name);
            }
        }
        left
    };
    let report = app.backups().restore_test(&test(&[], Some("prod")), &Progress::default()).await.unwrap();
    assert!(report.passed(), "{report:#?}");
    let by = |c: &str| report.tests.iter().find(|t| t.component == c).unwrap_or_else(|| panic!("{c} tested: {report:#?}"));
    let (aurora, docs) = (by("aurora"), by("documents"));
    for t in [aurora, docs] {
        assert!(t.test && t.state == "tested" && t.cleaned_ms.is_some() && t.total_seconds.is_some() && t.rto_met == Some(true), "{t:#?}");
        assert!(t.target.contains("-rt-"), "{t:?}");
    }
    assert_eq!(
        aurora.validation.iter().map(|c| (c.name.as_str(), c.matches)).collect::<Vec<_>>(),
        [("schema_version", true), ("job_ledger", true), ("audit_log", true)]
    );
    assert!(aurora.validation[1].restored.starts_with("1 rows"), "{:?}", aurora.validation);
    assert!(report.skipped.iter().any(|(c, _)| c == "eks"), "{report:?}");

    // What the test made is gone (the restored cluster's database with it); the sources are not.
    let rds = aws_sdk_rds::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    assert!(rds.describe_db_clusters().db_cluster_identifier(&aurora.target).send().await.is_err());
    assert!(rds.describe_db_clusters().db_cluster_identifier(&db).send().await.is_ok());
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await).force_path_style(true).build(),
    );
    assert!(s3.head_bucket().bucket(&docs.target).send().await.is_err());
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_ok());
    assert_eq!(left_by_this_test().await, Vec::<String>::new());

    // Logged and counted by the compliance control; kept for read-only consoles.
    assert_eq!(logged(&app).await.iter().filter(|a| *a == "backup.restore_test").count(), 2);
    let c = app.backups().compliance().await.unwrap();
    for t in [aurora, docs] {
        let (status, evidence) = verdict(&c, "PJ_RESTORE_TEST_WITHIN_30_DAYS", &t.source);
        assert_eq!(status, CheckStatus::Pass, "{evidence}");
        assert!(evidence.contains("restore test") && evidence.contains("deleted"), "{evidence}");
    }
    assert_eq!(read_only(data.path()).await.backups().restores(10).await.unwrap().iter().filter(|r| r.test).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_test_stopped_by_a_fault_is_finished_by_the_next_run_and_a_broken_validation_fails_it() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let (proxy, app) = faulted(data.path(), &moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let (db, bucket) = (env.deployment["db_cluster_id"].clone(), env.deployment["bucket"].clone());
    // A note through the platform first: the restored bucket has objects to delete.
    assert!(smoke_passed(&app.deploy().validate("prod").await.unwrap()));
    app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap();
    app.backups().start_backup(&start("documents", None, Some(&bucket))).await.unwrap();
    let tests = |component: &str| RestoreTestRequest { components: vec![component.into()], confirm: Some("prod".into()) };
    let req = tests("aurora");
    let config = vigil_tests::emulator_sdk_config(&moto.endpoint()).await;
    let rds = aws_sdk_rds::Client::new(&config);
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());

    // The clean-up refused (RDS: 500, expired credentials; S3: the versions' listing throttled, a
    // batch of deletions (DeleteObjects) 503, the bucket's deletion reset; RDS not answering): the test stops, classified, its
    // record at "cleaning", what it made still there; the next run deletes it and finishes.
    for (component, service, action, fault, kind) in [
        ("aurora", "rds", "DeleteDBCluster", Fault::Status(500), "aws_error"),
        ("aurora", "rds", "DeleteDBInstance", Fault::ExpiredToken, "expired_credentials"),
        ("documents", "s3", "GET versions", Fault::Throttle { retry_after: None }, "throttled"),
        ("documents", "s3", "POST delete", Fault::Status(503), "service_unavailable"),
        ("documents", "s3", "DELETE", Fault::Reset, "endpoint_unreachable"),
        ("aurora", "rds", "DeleteDBCluster", Fault::Hang, "timeout"),
    ] {
        proxy.inject(service, Some(action), fault, 100);
        let e = app.backups().restore_test(&tests(component), &Progress::default()).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{action}: {e}");
        assert!(e.hint().is_some());
        assert!(proxy.seen().iter().any(|s| s.action == action && s.fault.is_some()), "{action} was refused");
        proxy.clear();
        let left: Vec<_> = app.backups().restores(10).await.unwrap().into_iter().filter(|r| r.test && r.state != "tested").collect();
        assert_eq!(left.len(), 1, "{left:#?}");
        assert_eq!(left[0].state, "cleaning");
        let there = |target: &str| {
            let (rds, s3, target) = (rds.clone(), s3.clone(), target.to_string());
            async move {
                match component {
                    "aurora" => rds.describe_db_clusters().db_cluster_identifier(&target).send().await.is_ok(),
                    _ => s3.head_bucket().bucket(&target).send().await.is_ok(),
                }
            }
        };
        assert!(there(&left[0].target).await, "{} is left after {action}", left[0].target);
        let report = app.backups().restore_test(&tests(component), &Progress::default()).await.unwrap();
        assert_eq!(report.tests.len(), 2, "the one left, then a new one: {report:#?}");
        assert_eq!(report.tests[0].target, left[0].target);
        assert!(report.tests.iter().all(|t| t.state == "tested" && t.passed()), "{report:#?}");
        for t in &report.tests {
            assert!(!there(&t.target).await, "{} deleted", t.target);
        }
    }

    // The worker's secret unreadable: the restored data cannot be vouched for — the test fails
    // (a failing check, not a pass), and what it made is still deleted.
    let platform = app.environments().get("prod").await.unwrap().deployment["environment"].clone();
    let ctx = vigil_tests::emulator_context(&moto.endpoint()).await;
    let sm = vigil_aws::secretsmanager::SecretsManager::new(&ctx, "test");
    let name = format!("pj-{platform}/aurora-worker");
    let real = sm.value(&name).await.unwrap().unwrap();
    let mut wrong: serde_json::Value = serde_json::from_str(&real).unwrap();
    wrong["username"] = "nobody".into();
    wrong["password"] = "wrong".into();
    sm.put(&name, &wrong.to_string()).await.unwrap();
    let report = app.backups().restore_test(&req, &Progress::default()).await.unwrap();
    sm.put(&name, &real).await.unwrap();
    let t = &report.tests[0];
    assert!(!report.passed() && t.state == "tested" && t.cleaned_ms.is_some(), "{report:#?}");
    assert_eq!(t.validation.iter().map(|c| (c.name.as_str(), c.matches)).collect::<Vec<_>>(), [("connect", false)], "{t:#?}");
    assert!(t.next.as_deref().unwrap().contains("failed connect"), "{t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_events_are_read_from_the_backup_stacks_log_group_and_faults_are_classified() {
    let (moto, _kube) = vigil_tests::platform().await;
    let data = tempfile::tempdir().unwrap();
    let (proxy, app) = faulted(data.path(), &moto.endpoint()).await;
    let env = app.environments().get("prod").await.unwrap();
    let (db, vault) = (env.deployment["db_cluster_id"].clone(), env.deployment["backup_vault"].clone());
    let group = format!("/pj/{}/backup-events", env.deployment["environment"]);
    assert_eq!(env.deployment["backup_events"], group, "the deploy names the backup stack's log group");

    // A backup that completes, one of a cluster that is gone (started outside Vigil), a restore.
    let job = app.backups().start_backup(&start("aurora", None, Some(&db))).await.unwrap();
    let rds = aws_sdk_rds::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    let arn = rds.describe_db_clusters().db_cluster_identifier(&db).send().await.unwrap().db_clusters()[0].db_cluster_arn().unwrap().to_string();
    let (gone, _) = back_up(&moto.endpoint(), &vault, &format!("{arn}-gone")).await;
    let restored = restore(&app, job.recovery_point.as_deref().unwrap(), &format!("{db}-ev"), &[]).await.unwrap();

    let states = |e: &vigil_dto::backup::BackupJobEvents| e.events.iter().map(|e| (e.kind.clone(), e.state.clone())).collect::<Vec<_>>();
    let backup_change = |s: &str| ("Backup Job State Change".to_string(), s.to_string());
    let ok = app.backups().job_events(&job.id, Some(job.created_ms)).await.unwrap();
    assert_eq!((ok.job.as_str(), ok.log_group.as_str()), (job.id.as_str(), group.as_str()));
    assert_eq!(states(&ok), [backup_change("RUNNING"), backup_change("COMPLETED")]);
    assert_eq!(ok.events[1].percent_done.as_deref(), Some("100.0"));
    assert!(ok.events[1].detail.contains(&arn), "{}", ok.events[1].detail);
    let failed = app.backups().job_events(&gone, None).await.unwrap();
    assert_eq!(states(&failed), [backup_change("RUNNING"), backup_change("FAILED")]);
    assert!(failed.events[1].message.as_deref().unwrap().contains("not found"), "{:?}", failed.events[1]);
    let restore_job = restored.job.clone().unwrap();
    let r = app.backups().job_events(&restore_job, Some(restored.started_ms)).await.unwrap();
    assert_eq!(r.events.last().map(|e| (e.kind.as_str(), e.state.as_str())), Some(("Restore Job State Change", "COMPLETED")), "{r:#?}");
    // A job id no event names: none (the jobs of other ids are not shown).
    assert!(app.backups().job_events("0000-NOT-A-JOB", None).await.unwrap().events.is_empty());

    // A bad id is refused before anything is read.
    let asked = proxy.seen().len();
    assert_eq!(app.backups().job_events("x y\"", None).await.unwrap_err().kind(), "validation");
    assert_eq!(proxy.seen().len(), asked);

    // Faults on FilterLogEvents: classified, then read again once they pass.
    for (fault, kind) in [
        (Fault::Throttle { retry_after: None }, "throttled"),
        (Fault::Status(500), "aws_error"),
        (Fault::ExpiredToken, "expired_credentials"),
        (Fault::Reset, "endpoint_unreachable"),
        (Fault::Hang, "timeout"),
    ] {
        proxy.inject("logs", Some("FilterLogEvents"), fault.clone(), 100);
        let e = app.backups().job_events(&job.id, None).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{fault:?}: {e}");
        assert!(e.hint().is_some(), "{e}");
        proxy.clear();
    }
    assert_eq!(states(&app.backups().job_events(&job.id, None).await.unwrap()).len(), 2);

    // An environment deployed before the bundle kept events: said, with what to do.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    logs.delete_log_group().log_group_name(&group).send().await.unwrap();
    let e = app.backups().job_events(&job.id, None).await.unwrap_err();
    assert_eq!(e.kind(), "no_job_events", "{e}");
    assert!(e.hint().unwrap().contains("update the platform"), "{e}");
}

//! Job failures against PostgreSQL (the ledger) and the AWS emulator (the work queue, the log
//! group): failures grouped by class, a job's log lines, retries re-queued and logged, and
//! permanent failures refused with the reason; the sandbox's log shipper puts the worker's
//! lines where a job's detail reads them.

use std::sync::Arc;
use vigil_core::App;
use vigil_dto::{EnvironmentInput, JobFilter};
use vigil_tests::platform_db::{insert_job, TestDb};
use vigil_tests::Moto;

const GROUP: &str = "/pj/sandbox/worker";

/// A console whose current environment is the emulator and `db`, with these deployment parameters.
async fn console(dir: &tempfile::TempDir, moto: &Moto, db: &TestDb, deployment: &[(&str, &str)]) -> App {
    let c = App::open_with_secrets(
        &dir.path().join("vigil.db"),
        vigil_core::aws::profiles::ProfileSource::from_contents("", ""),
        "test",
        Arc::new(vigil_core::secrets::MemoryStore::default()),
    )
    .await
    .unwrap();
    c.environments()
        .add(&EnvironmentInput {
            name: "sandbox".into(),
            credentials: vigil_dto::Credentials::Emulator,
            region: "us-east-1".into(),
            endpoint_url: Some(moto.endpoint()),
            deployment: deployment.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            platform_db: Some(db.trust_settings()),
        })
        .await
        .unwrap();
    c.environments().select("sandbox").await.unwrap();
    c
}

#[tokio::test]
async fn failures_group_by_class_show_their_logs_and_retry_through_the_queue() {
    let moto = Moto::start();
    let db = TestDb::create("vigil_jobs").await;
    let sdk = vigil_tests::emulator_sdk_config(&moto.endpoint()).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs.create_queue().queue_name("pj-work").send().await.unwrap().queue_url().unwrap().to_string();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    logs.create_log_group().log_group_name(GROUP).send().await.unwrap();
    logs.create_log_stream().log_group_name(GROUP).log_stream_name("pj-worker-0").send().await.unwrap();

    let corrupt = [
        insert_job(&db, "failed", Some("corrupt"), true, "bad-1.pdf", 30).await,
        insert_job(&db, "failed", Some("corrupt"), true, "bad-2.pdf", 20).await,
    ];
    let mut slow = Vec::new();
    for (i, m) in [50, 40, 10].into_iter().enumerate() {
        slow.push(insert_job(&db, "failed", Some("ocr_timeout"), false, &format!("scan-{i}.tiff"), m).await);
    }
    insert_job(&db, "succeeded", None, false, "ok-1.txt", 5).await;
    insert_job(&db, "succeeded", None, false, "ok-2.txt", 4).await;
    // The worker's JSON lines: two about slow[2], one about another job.
    let now = chrono::Utc::now().timestamp_millis();
    let line = |job: uuid::Uuid, msg: &str| {
        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(now - 600_000)
            .message(serde_json::json!({ "level": "WARN", "message": msg, "span": { "job_id": job.to_string() } }).to_string())
            .build()
            .unwrap()
    };
    logs.put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("pj-worker-0")
        .log_events(line(slow[2], "ocr started"))
        .log_events(line(slow[2], "job failed: ocr_timeout"))
        .log_events(line(slow[0], "job failed: ocr_timeout"))
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, &moto, &db, &[("queue_url", &queue), ("log_group", GROUP)]).await;

    // The list, newest first, and the failures by class with the latest example.
    let failed = c.jobs().list(&JobFilter { status: Some("failed".into()), ..Default::default() }, None, 50).await.unwrap();
    assert_eq!(failed.rows.len(), 5);
    assert_eq!(failed.rows[0].id, slow[2].to_string());
    let page = c.jobs().list(&JobFilter::default(), None, 4).await.unwrap();
    let rest = c.jobs().list(&JobFilter::default(), page.next.as_ref(), 4).await.unwrap();
    assert_eq!(page.rows.len() + rest.rows.len(), 7);
    assert!(rest.next.is_none());
    let groups = c.jobs().failures(&JobFilter::default()).await.unwrap();
    assert_eq!(
        groups.iter().map(|g| (g.error_class.as_str(), g.count, g.permanent)).collect::<Vec<_>>(),
        [("ocr_timeout", 3, false), ("corrupt", 2, true)]
    );
    assert_eq!(groups[0].latest.id, slow[2].to_string());
    assert_eq!(groups[1].latest.id, corrupt[1].to_string());
    assert!(groups[1].meaning.contains("upload a good copy"));

    // A job's detail carries its own log lines, not another job's.
    let d = c.jobs().detail(&slow[2].to_string()).await.unwrap();
    assert_eq!(d.logs_error, None);
    assert_eq!(d.logs.len(), 2, "{:?}", d.logs);
    assert!(d.logs.iter().all(|l| l.message.contains(&slow[2].to_string())));

    // A permanent failure is refused with why; a class is re-queued, permanent ones skipped.
    let e = c.jobs().retry(Some(&corrupt[0].to_string()), None).await.unwrap_err();
    assert!(e.to_string().contains("failed for good (corrupt)"), "{e}");
    let r = c.jobs().retry(None, Some("ocr_timeout")).await.unwrap();
    assert_eq!(r.requeued.len(), 3);
    assert!(r.skipped.is_empty());
    let r2 = c.jobs().retry(None, Some("corrupt")).await.unwrap();
    assert!(r2.requeued.is_empty() && r2.skipped.len() == 2);
    let mut keys = Vec::new();
    while keys.len() < 3 {
        let got = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
        let msgs = got.messages();
        assert!(!msgs.is_empty(), "the retries are in the queue");
        for m in msgs {
            let body: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            assert_eq!(body["bucket"], "pj-documents");
            keys.push(body["key"].as_str().unwrap().to_string());
        }
    }
    keys.sort();
    assert_eq!(keys, ["input/scan-0.tiff", "input/scan-1.tiff", "input/scan-2.tiff"]);
    let log = c.oplog().list(10, None).await.unwrap();
    assert_eq!(log[0].action, "jobs.retry");
    assert!(log[0].details.contains(&slow[0].to_string()));

    // Without a log group the detail still shows the job and says what is missing.
    let mut input = vigil_core::environments::to_input(&c.environments().get("sandbox").await.unwrap());
    input.deployment.remove("log_group");
    c.environments().update("sandbox", &input).await.unwrap();
    let d = c.jobs().detail(&slow[0].to_string()).await.unwrap();
    assert!(d.logs_error.unwrap().contains("log_group"));
    db.drop_db().await;
}

#[tokio::test]
async fn the_sandbox_ships_the_worker_log_where_a_job_detail_reads_it() {
    let moto = Moto::start();
    let db = TestDb::create("vigil_jobs").await;
    let job = insert_job(&db, "failed", Some("ocr_timeout"), false, "scan.tiff", 5).await;
    let other = uuid::Uuid::new_v4();
    let dir = tempfile::tempdir().unwrap();
    // Lines as pj-worker writes them: JSON, the job span's fields flattened in.
    let at = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let line =
        |job: uuid::Uuid, msg: &str| serde_json::json!({ "timestamp": at, "level": "WARN", "message": msg, "job_id": job.to_string() }).to_string();
    let log = dir.path().join("worker.log");
    std::fs::write(&log, format!("{}\n{}\n", line(job, "job failed: ocr_timeout"), line(other, "job done"))).unwrap();

    const SANDBOX_GROUP: &str = "/aws/containerinsights/pj-sandbox/application";
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/lib/sandbox_platform.py");
    let _shipper = vigil_tests::spawn(
        std::process::Command::new(vigil_tests::cache_dir().join("venv/bin/python"))
            .args([script, "ship-logs", SANDBOX_GROUP, "sandbox-worker-1", log.to_str().unwrap()])
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", "sandbox")
            .env("AWS_SECRET_ACCESS_KEY", "sandbox")
            .env("AWS_REGION", "us-east-1"),
        "the sandbox's log shipper",
    );
    let c = console(&dir, &moto, &db, &[("log_group", SANDBOX_GROUP)]).await;

    // The shipper follows the file: the job's line arrives, the other job's does not show.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let d = loop {
        let d = c.jobs().detail(&job.to_string()).await.unwrap();
        if !d.logs.is_empty() || std::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(d.logs.len(), 1, "{d:?}");
    assert!(d.logs[0].message.contains("job failed: ocr_timeout"));
    assert_eq!(d.logs[0].stream, "sandbox-worker-1");
    db.drop_db().await;
}

/// Retry all of a class: a job whose source is not an S3 object is skipped with the reason (it
/// used to end the command), the retry names the job it retries, and a job the worker has marked
/// retried is not sent again.
#[tokio::test]
async fn retry_all_skips_what_cannot_be_retried_and_what_was_retried() {
    let moto = Moto::start();
    let db = TestDb::create("vigil_jobs_retried").await;
    let sdk = vigil_tests::emulator_sdk_config(&moto.endpoint()).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs.create_queue().queue_name("pj-work").send().await.unwrap().queue_url().unwrap().to_string();
    let fresh = insert_job(&db, "failed", Some("ocr_failed"), false, "scan-a.tiff", 30).await;
    let done = insert_job(&db, "failed", Some("ocr_failed"), false, "scan-b.tiff", 20).await;
    let local = insert_job(&db, "failed", Some("ocr_failed"), false, "scan-c.tiff", 10).await;
    sqlx::query("UPDATE jobs SET source_uri = 'file:///mnt/scans/c.tiff' WHERE id = $1").bind(local).execute(&db.pool).await.unwrap();
    // The worker took an earlier retry of `done` (pj-worker's Db::job_retried writes this).
    let retry_job = insert_job(&db, "succeeded", None, false, "scan-b.tiff", 5).await;
    sqlx::query("UPDATE jobs SET retried_by = $2 WHERE id = $1").bind(done).bind(retry_job).execute(&db.pool).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let c = console(&dir, &moto, &db, &[("queue_url", &queue)]).await;
    let groups = c.jobs().failures(&JobFilter::default()).await.unwrap();
    assert_eq!(groups.iter().map(|g| (g.error_class.as_str(), g.count)).collect::<Vec<_>>(), [("ocr_failed", 2)], "a retried failure waits no more");
    let r = c.jobs().retry(None, Some("ocr_failed")).await.unwrap();
    assert_eq!(r.requeued.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), [fresh.to_string()]);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].0, local.to_string());
    assert!(r.skipped[0].1.contains("not an s3:// object"), "{:?}", r.skipped);
    let e = c.jobs().retry(Some(&done.to_string()), None).await.unwrap_err();
    assert!(e.to_string().contains(&format!("retried already, as job {retry_job}")), "{e}");

    let got = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.unwrap();
    let bodies: Vec<pj_contract::queue::RetryRequest> = got.messages().iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()).collect();
    assert_eq!(bodies.len(), 1);
    assert_eq!((bodies[0].key.as_str(), bodies[0].retry_of.clone()), ("input/scan-a.tiff", Some(fresh.to_string())));
    db.drop_db().await;
}

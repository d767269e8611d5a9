//! The worker end to end against the AWS emulator (S3, SQS, Secrets-free keys file, CloudWatch)
//! and the real PostgreSQL: a batch of real files, crashes, poison files and a database outage.

mod common;

use common::{corpus, wait_for, Platform, BUCKET};
use pj_audit::BreakKind;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(120);

const SUCCEEDS: &[&str] = &[
    "discharge-summary-gonzalez.txt",
    "progress-note-nguyen.txt",
    "ed-triage-zelinsky.txt",
    "referral-letter-patel.pdf",
    "cardiology-consult-haddad.pdf",
    "scanned-note-thorvaldsen.png",
    "fax-scan-thorvaldsen.tiff",
    "phone-photo-thorvaldsen.jpg",
];
const FAILS: &[(&str, &str)] = &[
    ("empty-upload.txt", "empty"),
    ("corrupt-truncated.pdf", "corrupt"),
    ("corrupt-image.png", "corrupt"),
    ("encrypted-lab-report.pdf", "encrypted"),
    ("unsupported-letter.docx", "unsupported_type"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_ends_in_ledger_documents_outputs_and_a_verified_audit_chain() {
    let p = Platform::new(3).await;
    for name in SUCCEEDS.iter().chain(FAILS.iter().map(|(n, _)| n)) {
        p.upload(name, corpus(name)).await;
    }
    // The same event twice, and the same content under another name: no second document.
    p.notify("input/discharge-summary-gonzalez.txt").await;
    p.upload("copy of discharge.txt", corpus("discharge-summary-gonzalez.txt")).await;
    let mut w = p.start_worker("worker-a", &[]);
    let total = (SUCCEEDS.len() + FAILS.len() + 2) as i64;
    p.wait_finished(total, LONG, &w).await;
    assert_eq!(w.get("/readyz").map(|r| r.0), Some(200));
    assert_eq!(w.get("/healthz").map(|r| r.0), Some(200));

    let jobs = p.jobs().await;
    let failed: Vec<(String, Option<String>)> =
        jobs.iter().filter(|j| j.1 == "failed").map(|j| (j.0.rsplit('/').next().unwrap().to_string(), j.2.clone())).collect();
    let mut expected: Vec<(String, Option<String>)> = FAILS.iter().map(|(n, c)| (n.to_string(), Some(c.to_string()))).collect();
    expected.sort();
    assert_eq!(failed, expected, "{jobs:?}");
    assert_eq!(p.scalar("SELECT count(*) FROM jobs WHERE status = 'succeeded'").await, SUCCEEDS.len() as i64 + 2);
    assert_eq!(p.scalar("SELECT count(*) FROM jobs WHERE status = 'failed' AND permanent").await, FAILS.len() as i64);
    assert_eq!(p.scalar("SELECT count(*) FROM documents").await, SUCCEEDS.len() as i64);
    assert_eq!(p.scalar("SELECT count(*) FROM audit_log WHERE action = 'deidentify'").await, SUCCEEDS.len() as i64);
    assert_eq!(p.scalar("SELECT pages::bigint FROM documents WHERE source_uri LIKE '%cardiology%'").await, 2);
    assert_eq!(p.scalar("SELECT count(*) FROM documents WHERE media_type = 'image/tiff'").await, 1);

    // Outputs exist and carry no identifiers; failures sit in quarantine with their reason.
    let outputs = p.object_keys("deidentified/").await;
    assert_eq!(outputs.len(), SUCCEEDS.len(), "{outputs:?}");
    let summary = p.object_text("deidentified/discharge-summary-gonzalez.txt.deid.txt").await;
    for phi in [
        "Gonzalez",
        "00482913",
        "(413) 555-0199",
        "413-555-0100",
        "12 Elm Street",
        "Springfield",
        "XQH449201",
        "lucia.gonzalez",
        "03/14/2023",
        "Okafor",
        "92 year",
    ] {
        assert!(!summary.contains(phi), "{phi} left in:\n{summary}");
    }
    assert!(summary.contains("pneumonia") && summary.contains("011**"), "{summary}");
    let scan = p.object_text("deidentified/scanned-note-thorvaldsen.png.deid.txt").await;
    assert!(!scan.contains("Thorvaldsen") && !scan.contains("90817265") && scan.contains("knee pain") && scan.contains("MRN:"), "{scan}");
    let quarantined = p.object_keys("quarantine/").await;
    for (name, class) in FAILS {
        assert!(quarantined.contains(&format!("quarantine/{name}")), "{name} not in {quarantined:?}");
        let reason: serde_json::Value = serde_json::from_str(&p.object_text(&format!("quarantine/{name}.reason.json")).await).unwrap();
        assert_eq!(reason["error_class"], *class);
    }

    // Every log line of a job carries its id.
    let log = w.log_text();
    let job_lines: Vec<&str> =
        log.lines().filter(|l| l.contains("\"message\":\"de-identified\"") || l.contains("\"message\":\"job failed\"")).collect();
    assert_eq!(job_lines.len() as i64, total - 2, "{log}");
    assert!(job_lines.iter().all(|l| l.contains("\"job_id\":")), "{log}");

    // Metrics reached CloudWatch in the platform's namespace.
    let cw = aws_sdk_cloudwatch::Client::new(&p.sdk);
    wait_for("metrics in CloudWatch", LONG, || {
        let cw = cw.clone();
        async move {
            let m = cw.list_metrics().namespace("PatientJourney").send().await.unwrap();
            let names: Vec<&str> = m.metrics().iter().filter_map(|m| m.metric_name()).collect();
            ["DocumentsIngested", "PhiEntities", "ProcessingLatency", "FailedJobs", "Throughput"].iter().all(|n| names.contains(n))
        }
    })
    .await;

    // SIGTERM: a clean exit, with a final signed checkpoint.
    assert_eq!(w.terminate(LONG), Some(0));
    let reports = p.db.verify_audit(&p.trusted_keys()).await.unwrap();
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!((r.first_break.as_ref(), r.records, r.unsigned_tail), (None, SUCCEEDS.len() as u64, 0), "{r:?}");
    assert!(r.checkpoints >= 1);
    let (code, out) = verify_cli(&p);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("worker-a: ok, 8 records"), "{out}");

    // The auditor role sees the audit log and nothing else.
    let mut tx = p.db.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL ROLE pj_auditor").execute(&mut *tx).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(n, SUCCEEDS.len() as i64);
    let denied = sqlx::query("SELECT count(*) FROM jobs").fetch_one(&mut *tx).await.unwrap_err();
    assert!(denied.to_string().contains("permission denied"), "{denied}");
    tx.rollback().await.unwrap();

    // A modified row breaks the chain exactly there.
    sqlx::query("UPDATE audit_log SET category_counts = jsonb_set(category_counts, '{name}', '0') WHERE seq = 3").execute(&p.db.pool).await.unwrap();
    let b = p.db.verify_audit(&p.trusted_keys()).await.unwrap()[0].first_break.clone().expect("the change is detected");
    assert_eq!((b.seq, b.kind), (3, BreakKind::Modified));
    let (code, out) = verify_cli(&p);
    assert_eq!(code, Some(5), "{out}");
    assert!(out.contains("worker-a: BROKEN at record 3: modified"), "{out}");
    p.drop_database().await;
}

/// `pj-worker verify-audit` with the deployment's public key: (exit code, stdout).
fn verify_cli(p: &Platform) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pj-worker"))
        .args(["verify-audit", "--public-key", &p.public_key])
        .env("DATABASE_URL", &p.db_url)
        .env("AWS_REGION", "us-east-1")
        .env("PJ_LOG_FORMAT", "text")
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_database_credentials_come_from_secrets_manager() {
    let p = Platform::new(3).await;
    let aws_env = p.worker_env(0);
    let aws = |c: &mut std::process::Command| {
        for k in ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
            c.env(k, &aws_env[k]);
        }
    };
    let mut keygen = std::process::Command::new(env!("CARGO_BIN_EXE_pj-worker"));
    keygen.args(["keygen", "--put-secret", "patient-journey/worker-keys"]);
    aws(&mut keygen);
    let out = keygen.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let public = printed["audit_public_key"].as_str().unwrap().to_string();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("audit_signing_key"), "the private key is never printed");

    // The database secret in the RDS format; the URL only carries options. As a deploy leaves
    // it: migrations applied by the owner, the worker's own login (password authentication)
    // may read and write rows but create nothing, so the worker must not try to migrate.
    let db = p.db_url.rsplit('/').next().unwrap();
    p.db.migrate().await.unwrap();
    let login = format!("{db}_worker");
    for sql in [
        format!("CREATE ROLE {login} LOGIN PASSWORD 'worker-secret-pw'"),
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC".to_string(),
        format!("GRANT USAGE ON SCHEMA public TO {login}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {login}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {login}"),
    ] {
        p.execute(&sql).await;
    }
    let (host, port) = vigil_tests::platform_db::server_addr();
    let secret = serde_json::json!({"username": login, "password": "worker-secret-pw", "host": host, "port": port, "dbname": db});
    let sm = aws_sdk_secretsmanager::Client::new(&p.sdk);
    sm.create_secret().name("patient-journey/db").secret_string(secret.to_string()).send().await.unwrap();

    p.upload("progress-note-nguyen.txt", corpus("progress-note-nguyen.txt")).await;
    let mut w = p.start_worker(
        "worker-s",
        &[
            ("PJ_KEYS_FILE", ""),
            ("PJ_KEYS_SECRET_ID", "patient-journey/worker-keys"),
            ("DATABASE_URL", "postgres://localhost/?sslmode=disable"),
            ("PJ_DATABASE_SECRET_ID", "patient-journey/db"),
        ],
    );
    p.wait_finished(1, LONG, &w).await;
    assert_eq!(w.terminate(LONG), Some(0));
    let k = pj_audit::verifying_key_from_hex(&public).unwrap();
    let reports = p.db.verify_audit(&[(pj_audit::key_id(&k), k)].into_iter().collect()).await.unwrap();
    assert_eq!((reports[0].first_break.as_ref(), reports[0].records, reports[0].unsigned_tail), (None, 1, 0));
    assert!(reports[0].checkpoints >= 1);
    p.drop_database().await;
    common::admin_execute(&format!("DROP ROLE IF EXISTS {login}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_leaves_the_message_to_be_processed_once() {
    let p = Platform::new(5).await;
    let marker = p.keys_dir.path().join("ocr-started");
    let hang = p.keys_dir.path().join("hanging-ocr.sh");
    std::fs::write(&hang, format!("#!/bin/sh\ntouch '{}'\nexec sleep 600\n", marker.display())).unwrap();
    std::fs::set_permissions(&hang, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p.upload("scanned-note-thorvaldsen.png", corpus("scanned-note-thorvaldsen.png")).await;
    let mut first = p.start_worker("worker-a", &[("PJ_OCR_COMMAND", hang.to_str().unwrap()), ("PJ_VISIBILITY_TIMEOUT", "2s")]);
    wait_for("the first worker is inside OCR", LONG, || async { marker.exists() }).await;
    first.kill();
    assert_eq!(p.jobs().await.iter().map(|j| (j.1.as_str(), j.3)).collect::<Vec<_>>(), vec![("running", 1)]);

    let second = p.start_worker("worker-b", &[]);
    p.wait_finished(1, LONG, &second).await;
    let jobs = p.jobs().await;
    assert_eq!(jobs.iter().map(|j| (j.1.as_str(), j.3)).collect::<Vec<_>>(), vec![("succeeded", 2)], "{jobs:?}");
    assert_eq!(p.scalar("SELECT count(*) FROM documents").await, 1);
    assert_eq!(p.scalar("SELECT count(*) FROM audit_log").await, 1);
    wait_for("the message is deleted", LONG, || async { p.queue_depth(&p.queue_url).await == (0, 0) }).await;
    assert_eq!(p.queue_depth(&p.dlq_url).await, (0, 0));
    drop(second);
    p.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_file_lands_in_the_dead_letter_queue_after_the_attempt_limit() {
    let p = Platform::new(3).await;
    p.upload("scanned-note-thorvaldsen.png", corpus("scanned-note-thorvaldsen.png")).await;
    p.upload("progress-note-nguyen.txt", corpus("progress-note-nguyen.txt")).await;
    // An OCR engine that always fails: a transient error class, retried until the limit.
    let w = p.start_worker("worker-a", &[("PJ_OCR_COMMAND", "/bin/false")]);
    wait_for("the poison message in the dead-letter queue", LONG, || async { p.queue_depth(&p.dlq_url).await.0 == 1 }).await;
    // The good document is processed beside it, finishing before or after.
    wait_for("the text document done", LONG, || async {
        p.jobs().await.iter().any(|j| j.0.ends_with(".txt") && j.1 != "running" && j.1 != "queued")
    })
    .await;
    let jobs = p.jobs().await;
    let png = jobs.iter().find(|j| j.0.ends_with(".png")).unwrap();
    assert_eq!((png.1.as_str(), png.2.as_deref(), png.3), ("failed", Some("ocr_failed"), 3), "{jobs:?}");
    let txt = jobs.iter().find(|j| j.0.ends_with(".txt")).unwrap();
    assert_eq!(txt.1, "succeeded");
    assert_eq!(p.scalar("SELECT count(*) FROM jobs WHERE permanent").await, 0);
    let msg: String = sqlx::query_scalar("SELECT error_message FROM jobs WHERE error_class = 'ocr_failed'").fetch_one(&p.db.pool).await.unwrap();
    assert!(msg.contains("attempt 3 of 3") && msg.contains("dead-letter"), "{msg}");
    assert!(p.object_keys("quarantine/").await.contains(&"quarantine/scanned-note-thorvaldsen.png".to_string()));
    assert_eq!(p.queue_depth(&p.queue_url).await, (0, 0));
    drop(w);
    p.drop_database().await;
}

/// A TCP proxy to PostgreSQL that can be cut: while down it drops every connection.
struct Cut {
    port: u16,
    up: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
}

impl Cut {
    async fn start() -> Cut {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(AtomicU64::new(0));
        let (u, g) = (up.clone(), generation.clone());
        let (host, pg_port) = vigil_tests::platform_db::server_addr();
        let server = format!("{host}:{pg_port}");
        tokio::spawn(async move {
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                if !u.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused in effect
                }
                let (mine, g, server) = (g.load(Ordering::SeqCst), g.clone(), server.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&server).await else { return };
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let cut = async {
                        while g.load(Ordering::SeqCst) == mine {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! { _ = copy => {}, _ = cut => {} }
                });
            }
        });
        Cut { port, up, generation }
    }

    fn set(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_pauses_work_and_loses_no_message() {
    let p = Platform::new(3).await;
    let cut = Cut::start().await;
    let (_, pg_port) = vigil_tests::platform_db::server_addr();
    let url = p.db_url.replace(&format!(":{pg_port}/"), &format!(":{}/", cut.port));
    let names = ["discharge-summary-gonzalez.txt", "progress-note-nguyen.txt", "ed-triage-zelinsky.txt"];
    for n in names {
        p.upload(n, corpus(n)).await;
    }
    let w = p.start_worker("worker-a", &[("DATABASE_URL", &url)]);
    wait_for("not ready while the database is down", LONG, || async {
        w.get("/readyz").is_some_and(|(code, body)| code == 503 && body.contains("database unavailable"))
    })
    .await;
    // No work was taken: every message (three documents and S3's test event) still waits in
    // the queue, none used an attempt.
    assert_eq!(p.queue_depth(&p.queue_url).await, (4, 0));
    cut.set(true);
    p.wait_finished(3, LONG, &w).await;

    // Down again while new work arrives, then back.
    cut.set(false);
    for n in ["referral-letter-patel.pdf", "cardiology-consult-haddad.pdf"] {
        p.upload(n, corpus(n)).await;
    }
    wait_for("not ready during the second outage", LONG, || async { w.get("/readyz").is_some_and(|(code, _)| code == 503) }).await;
    cut.set(true);
    p.wait_finished(5, LONG, &w).await;
    wait_for("the queue drained", LONG, || async { p.queue_depth(&p.queue_url).await == (0, 0) }).await;
    assert_eq!(p.scalar("SELECT count(*) FROM documents").await, 5);
    assert_eq!(p.scalar("SELECT count(*) FROM audit_log").await, 5);
    assert_eq!(p.scalar("SELECT count(*) FROM jobs WHERE status = 'succeeded'").await, 5);
    assert_eq!(p.queue_depth(&p.dlq_url).await, (0, 0));
    let _ = BUCKET;
    drop(w);
    p.drop_database().await;
}

/// A retry request naming the failed job it retries (what Vigil sends) marks that job retried,
/// so Vigil does not send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_request_marks_the_job_it_retries() {
    let p = Platform::new(3).await;
    // The ledger exists before the worker starts (it would migrate it itself).
    p.db.migrate().await.unwrap();
    let original = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO jobs (id, kind, source_uri, status, attempts, max_attempts, error_class, error_message, finished_at)
         VALUES ($1, 'deidentify', $2, 'failed', 3, 3, 'ocr_timeout', 'took too long', now())",
    )
    .bind(original)
    .bind(format!("s3://{BUCKET}/input/progress-note-nguyen.txt"))
    .execute(&p.db.pool)
    .await
    .unwrap();
    p.upload("progress-note-nguyen.txt", corpus("progress-note-nguyen.txt")).await;
    let request = pj_contract::queue::RetryRequest {
        bucket: BUCKET.into(),
        key: "input/progress-note-nguyen.txt".into(),
        retry_of: Some(original.to_string()),
    };
    p.sqs.send_message().queue_url(&p.queue_url).message_body(request.body()).send().await.unwrap();
    let mut w = p.start_worker("worker-r", &[]);
    // The failed row, the upload's job and the retry's job.
    p.wait_finished(3, LONG, &w).await;
    assert_eq!(w.terminate(LONG), Some(0));
    let by: Option<uuid::Uuid> = sqlx::query_scalar("SELECT retried_by FROM jobs WHERE id = $1").bind(original).fetch_one(&p.db.pool).await.unwrap();
    let by = by.expect("the original job names its retry");
    let (status, source): (String, String) =
        sqlx::query_as("SELECT status, source_uri FROM jobs WHERE id = $1").bind(by).fetch_one(&p.db.pool).await.unwrap();
    assert_eq!((status.as_str(), source.as_str()), ("succeeded", format!("s3://{BUCKET}/input/progress-note-nguyen.txt").as_str()));
    p.drop_database().await;
}

//! A throw-away platform for one test: the AWS emulator with a bucket, a work queue and its
//! dead-letter queue, a fresh PostgreSQL database, worker keys in a file, and the worker
//! binary started against them. Conditions are polled, never slept for.

#![allow(dead_code)]

use aws_sdk_s3::primitives::ByteStream;
use pj_worker::db::Db;
use sqlx::{Connection, PgConnection};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use vigil_tests::{free_port, Moto};

pub const BUCKET: &str = "pj-documents";

pub use vigil_tests::platform_db::admin_url;

pub fn corpus(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sandbox-corpus").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    use aws_sdk_sqs::types::QueueAttributeName::QueueArn;
    let out = sqs.get_queue_attributes().queue_url(url).attribute_names(QueueArn).send().await.unwrap();
    out.attributes().unwrap()[&QueueArn].clone()
}

pub struct Platform {
    pub moto: Moto,
    pub db_name: String,
    pub db_url: String,
    pub db: Db,
    pub sdk: aws_config::SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub dlq_url: String,
    pub keys_dir: tempfile::TempDir,
    pub public_key: String,
}

impl Platform {
    /// `max_receive`: the queue's attempt limit before the dead-letter queue.
    pub async fn new(max_receive: i32) -> Platform {
        let moto = Moto::start();
        let db_name = format!("pj_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url()).await.expect("PostgreSQL is running (scripts/test starts it)");
        sqlx::query(&format!("CREATE DATABASE {db_name}")).execute(&mut admin).await.unwrap();
        let db_url = vigil_tests::platform_db::url_for(&db_name);
        let db = Db::new(db_url.parse().unwrap(), 4);
        let sdk = vigil_tests::emulator_sdk_config(&moto.endpoint()).await;
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        let dlq_url = sqs.create_queue().queue_name("pj-work-dlq").send().await.unwrap().queue_url().unwrap().to_string();
        let dlq_arn = queue_arn(&sqs, &dlq_url).await;
        let queue_url = sqs
            .create_queue()
            .queue_name("pj-work")
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
                serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive}).to_string(),
            )
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_string();
        // New objects under input/ notify the queue, as the bundle configures the bucket.
        let queue_arn = queue_arn(&sqs, &queue_url).await;
        use aws_sdk_s3::types::{
            Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
        };
        let filter = NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value("input/").build()).build())
            .build();
        let queue_conf = QueueConfiguration::builder().queue_arn(queue_arn).events(Event::S3ObjectCreated).filter(filter).build().unwrap();
        s3.put_bucket_notification_configuration()
            .bucket(BUCKET)
            .notification_configuration(NotificationConfiguration::builder().queue_configurations(queue_conf).build())
            .send()
            .await
            .unwrap();
        let keys_dir = tempfile::tempdir().unwrap();
        let (json, public_key) = pj_worker::keys::generate().unwrap();
        std::fs::write(keys_dir.path().join("keys.json"), json).unwrap();
        Platform { moto, db_name, db_url, db, sdk, s3, sqs, queue_url, dlq_url, keys_dir, public_key }
    }

    /// Puts `bytes` under `input/<name>`; the bucket notification queues its event.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) {
        let key = format!("input/{name}");
        self.s3.put_object().bucket(BUCKET).key(&key).body(ByteStream::from(bytes)).send().await.unwrap();
    }

    /// Sends another S3 ObjectCreated event for `key` (as S3 may deliver one twice).
    pub async fn notify(&self, key: &str) -> String {
        let event = serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": BUCKET}, "object": {"key": key.replace(' ', "+")}}}]});
        let out = self.sqs.send_message().queue_url(&self.queue_url).message_body(event.to_string()).send().await.unwrap();
        out.message_id().unwrap().to_string()
    }

    pub fn worker_env(&self, health_port: u16) -> HashMap<String, String> {
        [
            ("AWS_ENDPOINT_URL", self.moto.endpoint()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("DATABASE_URL", self.db_url.clone()),
            ("PJ_QUEUE_URL", self.queue_url.clone()),
            ("PJ_KEYS_FILE", self.keys_dir.path().join("keys.json").display().to_string()),
            ("PJ_S3_PATH_STYLE", "true".into()),
            ("PJ_LISTEN", format!("127.0.0.1:{health_port}")),
            ("PJ_RECEIVE_WAIT", "1s".into()),
            ("PJ_RETRY_BASE_DELAY", "0s".into()),
            ("PJ_CONCURRENCY", "2".into()),
            ("PJ_METRICS_INTERVAL", "1s".into()),
            ("PJ_ENVIRONMENT", "test".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Starts the worker binary; `overrides` replace or add environment variables (an empty
    /// value removes one).
    pub fn start_worker(&self, id: &str, overrides: &[(&str, &str)]) -> WorkerProc {
        let port = free_port();
        let mut env = self.worker_env(port);
        env.insert("PJ_WORKER_ID".into(), id.into());
        for (k, v) in overrides {
            if v.is_empty() {
                env.remove(*k);
            } else {
                env.insert(k.to_string(), v.to_string());
            }
        }
        let log = self.keys_dir.path().join(format!("{id}.log"));
        let out = std::fs::File::create(&log).unwrap();
        use std::os::unix::process::CommandExt;
        let child = Command::new(env!("CARGO_BIN_EXE_pj-worker"))
            .arg("run")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(env)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("the pj-worker binary");
        WorkerProc { child: Some(child), health_port: port, log }
    }

    pub async fn execute(&self, sql: &str) {
        sqlx::query(sql).execute(&self.db.pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql).fetch_one(&self.db.pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Rows of (source key, status, error class, attempts) in the job ledger.
    pub async fn jobs(&self) -> Vec<(String, String, Option<String>, i32)> {
        sqlx::query_as("SELECT source_uri, status, error_class, attempts FROM jobs ORDER BY source_uri")
            .fetch_all(&self.db.pool)
            .await
            .unwrap_or_default()
    }

    /// Polls until `n` jobs are finished (succeeded or failed).
    pub async fn wait_finished(&self, n: i64, timeout: Duration, worker: &WorkerProc) {
        let q = "SELECT count(*) FROM jobs WHERE status IN ('succeeded', 'failed')";
        let start = Instant::now();
        loop {
            let done = sqlx::query_scalar::<_, i64>(q).fetch_one(&self.db.pool).await.unwrap_or(0);
            if done >= n {
                return;
            }
            assert!(start.elapsed() < timeout, "only {done} of {n} jobs finished in {timeout:?}; worker log:\n{}", worker.log_text());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// (visible, in flight) messages of a queue.
    pub async fn queue_depth(&self, url: &str) -> (i64, i64) {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let a = out.attributes().unwrap();
        let n = |k: &A| a.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        (n(&A::ApproximateNumberOfMessages), n(&A::ApproximateNumberOfMessagesNotVisible))
    }

    pub async fn object_keys(&self, prefix: &str) -> Vec<String> {
        let out = self.s3.list_objects_v2().bucket(BUCKET).prefix(prefix).send().await.unwrap();
        let mut keys: Vec<String> = out.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
        keys.sort();
        keys
    }

    pub async fn object_text(&self, key: &str) -> String {
        let out = self.s3.get_object().bucket(BUCKET).key(key).send().await.unwrap();
        String::from_utf8(out.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
    }

    pub fn trusted_keys(&self) -> HashMap<String, pj_audit::Ed25519VerifyingKey> {
        let k = pj_audit::verifying_key_from_hex(&self.public_key).unwrap();
        [(pj_audit::key_id(&k), k)].into_iter().collect()
    }

    pub async fn drop_database(self) {
        self.db.pool.close().await;
        let mut admin = PgConnection::connect(&admin_url()).await.unwrap();
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db_name)).execute(&mut admin).await;
    }
}

/// Runs `sql` on the tests' PostgreSQL as its superuser (cluster-wide statements).
pub async fn admin_execute(sql: &str) {
    let mut admin = PgConnection::connect(&admin_url()).await.unwrap();
    sqlx::query(sql).execute(&mut admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

pub struct WorkerProc {
    child: Option<Child>,
    pub health_port: u16,
    pub log: PathBuf,
}

impl WorkerProc {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill").args([sig, "--", &format!("-{}", c.id())]).status();
        }
    }

    /// SIGTERM, then waits for the worker to exit by itself; returns its exit status code.
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
        let start = Instant::now();
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s.code();
            }
            if start.elapsed() > timeout {
                let _ = c.kill();
                panic!("the worker did not stop within {timeout:?} after SIGTERM:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL to the worker and everything it started (a crash, an OOM kill).
    pub fn kill(&mut self) {
        self.signal("-KILL");
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    /// GET a health endpoint: (status code, body).
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.health_port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
        let mut buf = String::new();
        s.read_to_string(&mut buf).ok()?;
        let code = buf.split_whitespace().nth(1)?.parse().ok()?;
        Some((code, buf.split("\r\n\r\n").nth(1).unwrap_or("").to_string()))
    }
}

impl Drop for WorkerProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `cond` (async) every 100 ms until it holds; panics with `what` after `timeout`.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(start.elapsed() < timeout, "{what}: not reached within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

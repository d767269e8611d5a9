//! A throwaway platform database on the tests' PostgreSQL with the bundle's migrations, and
//! a generator of signed audit chains written with COPY (millions of records in seconds).

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use pj_audit::{chain_next, sign_checkpoint, AuditRecord, NewRecord, SpanRef};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::collections::BTreeMap;
use std::path::Path;

/// The superuser URL of the PostgreSQL the tests use: `VIGIL_PG_URL`, which scripts/test sets to
/// a private cluster it starts (never the machine's own service).
pub fn admin_url() -> String {
    std::env::var("VIGIL_PG_URL").unwrap_or_else(|_| {
        panic!("VIGIL_PG_URL is not set: run the tests through scripts/test, which starts a private PostgreSQL cluster and sets it")
    })
}

/// A small pool on the tests' PostgreSQL as its superuser.
pub async fn admin_pool() -> PgPool {
    PgPoolOptions::new().max_connections(1).connect(&admin_url()).await.expect("the tests' PostgreSQL (scripts/test starts it)")
}

/// `admin_url()` with another database.
pub fn url_for(database: &str) -> String {
    let base: PgConnectOptions = admin_url().parse().expect("VIGIL_PG_URL is a postgres:// URL");
    format!("postgres://{}@{}:{}/{database}", base.get_username(), base.get_host(), base.get_port())
}

/// The host and port of the tests' PostgreSQL.
pub fn server_addr() -> (String, u16) {
    let base: PgConnectOptions = admin_url().parse().expect("VIGIL_PG_URL is a postgres:// URL");
    (base.get_host().to_string(), base.get_port())
}

/// A new database with the bundle's migrations; dropped with [`TestDb::drop_db`] (or left for
/// inspection when a test fails).
pub struct TestDb {
    pub name: String,
    pub pool: PgPool,
    pub options: PgConnectOptions,
}

impl TestDb {
    pub async fn create(prefix: &str) -> TestDb {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url()).await.expect("PostgreSQL is running (scripts/test starts it)");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        let options: PgConnectOptions = admin_url().parse::<PgConnectOptions>().unwrap().database(&name).disable_statement_logging();
        let pool = PgPoolOptions::new().max_connections(4).connect_with(options.clone()).await.unwrap();
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy-bundles/migrations");
        sqlx::migrate::Migrator::new(migrations).await.unwrap().run(&pool).await.unwrap();
        TestDb { name, pool, options }
    }

    /// Vigil's settings for this database: its superuser on loopback, no password (the tests'
    /// cluster trusts only that user).
    pub fn trust_settings(&self) -> vigil_dto::PlatformDb {
        vigil_dto::PlatformDb {
            host: "127.0.0.1".into(),
            port: self.options.get_port(),
            database: self.name.clone(),
            user: self.options.get_username().into(),
            auth: vigil_dto::DbAuth::Trust,
            ca_file: None,
        }
    }

    pub async fn drop_db(self) {
        self.pool.close().await;
        let mut admin = PgConnection::connect(&admin_url()).await.unwrap();
        if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut admin).await {
            eprintln!("test database {} was not dropped: {e}", self.name);
        }
    }
}

const CATEGORIES: [&str; 6] = ["name", "date", "address", "phone", "ssn", "mrn"];

/// The body of the `i`th generated record: varied actors, actions, categories and spans.
pub fn body(i: u64, at: DateTime<Utc>) -> NewRecord {
    let mut counts = BTreeMap::new();
    let mut spans = Vec::new();
    for (k, c) in CATEGORIES.iter().enumerate() {
        if (i + k as u64).is_multiple_of(k as u64 + 2) {
            let n = 1 + (i % 3) as i64;
            counts.insert(c.to_string(), n);
            for j in 0..n as u32 {
                let start = (k as u32) * 100 + j * 10;
                spans.push(SpanRef(start, start + 5, c.to_string()));
            }
        }
    }
    spans.sort_by_key(|s| s.0);
    NewRecord {
        id: uuid::Uuid::from_u64_pair(0x5eed, i),
        at,
        actor: if i.is_multiple_of(97) { "user:o'brien".into() } else { format!("worker:pj-worker-{}", i % 3) },
        action: ["deidentify", "deidentify", "deidentify", "view", "export"][(i % 5) as usize].into(),
        document_id: Some(uuid::Uuid::from_u64_pair(0xd0c, i / 2)),
        job_id: Some(uuid::Uuid::from_u64_pair(0x70b, i)),
        detector_version: "deid-1".into(),
        category_counts: counts,
        spans,
        input_sha256: Some([(i % 251) as u8; 32]),
        output_sha256: Some([(i % 241) as u8; 32]),
    }
}

fn copy_field(out: &mut String, v: &str) {
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

fn copy_row(out: &mut String, r: &AuditRecord) {
    let opt_uuid = |u: Option<uuid::Uuid>| u.map(|u| u.to_string()).unwrap_or_else(|| "\\N".into());
    let opt_hash = |h: Option<[u8; 32]>| h.map(|h| format!("\\\\x{}", hex::encode(h))).unwrap_or_else(|| "\\N".into());
    let fields =
        [r.stream_id.clone(), r.seq.to_string(), r.body.id.to_string(), pj_audit::format_at(&r.body.at), r.body.actor.clone(), r.body.action.clone()];
    for f in &fields {
        copy_field(out, f);
        out.push('\t');
    }
    out.push_str(&opt_uuid(r.body.document_id));
    out.push('\t');
    out.push_str(&opt_uuid(r.body.job_id));
    out.push('\t');
    copy_field(out, &r.body.detector_version);
    out.push('\t');
    copy_field(out, &pj_audit::counts_json(&r.body.category_counts));
    out.push('\t');
    copy_field(out, &pj_audit::spans_json(&r.body.spans));
    out.push('\t');
    out.push_str(&opt_hash(r.body.input_sha256));
    out.push('\t');
    out.push_str(&opt_hash(r.body.output_sha256));
    out.push('\t');
    out.push_str(&format!("\\\\x{}\t\\\\x{}\n", hex::encode(r.prev_hash), hex::encode(r.hash)));
}

/// Writes `per_stream` chained records to each of `streams` streams (one record a second of
/// each stream, ending now), a checkpoint signed with `key` every `checkpoint_every` records
/// and at each head. Returns the records' time span.
pub async fn generate(
    pool: &PgPool,
    streams: usize,
    per_stream: u64,
    checkpoint_every: u64,
    key: &pj_audit::Ed25519SigningKey,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let end = pj_audit::truncate_at(Utc::now());
    let start = end - ChronoDuration::seconds(per_stream as i64);
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("INSERT INTO audit_signing_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(pj_audit::key_id(&key.verifying_key()))
        .bind(&key.verifying_key().to_bytes()[..])
        .execute(&mut *conn)
        .await
        .unwrap();
    for s in 0..streams {
        let stream_id = format!("pj-worker-{s}");
        let (mut seq, mut head) = (0i64, pj_audit::GENESIS);
        let mut checkpoints = Vec::new();
        sqlx::query("INSERT INTO audit_streams (stream_id) VALUES ($1)").bind(&stream_id).execute(pool).await.unwrap();
        let mut copy = conn.copy_in_raw(&format!("COPY audit_log ({}) FROM STDIN", pj_audit::pg::RECORD_COLUMNS)).await.unwrap();
        let mut buf = String::with_capacity(4 << 20);
        for i in 0..per_stream {
            let at = start + ChronoDuration::seconds(i as i64) + ChronoDuration::microseconds(s as i64);
            let r = chain_next(&stream_id, seq, head, body(i * streams as u64 + s as u64, at));
            (seq, head) = (r.seq, r.hash);
            copy_row(&mut buf, &r);
            if (i + 1) % checkpoint_every == 0 || i + 1 == per_stream {
                checkpoints.push(sign_checkpoint(key, &stream_id, seq, head, at));
            }
            if buf.len() > (4 << 20) - 4096 {
                copy.send(buf.as_bytes()).await.unwrap();
                buf.clear();
            }
        }
        copy.send(buf.as_bytes()).await.unwrap();
        copy.finish().await.unwrap();
        sqlx::query("UPDATE audit_streams SET head_seq = $2, head_hash = $3 WHERE stream_id = $1")
            .bind(&stream_id)
            .bind(seq)
            .bind(&head[..])
            .execute(pool)
            .await
            .unwrap();
        for cp in checkpoints {
            pj_audit::pg::insert_checkpoint(pool, &cp).await.unwrap();
        }
    }
    sqlx::query("ANALYZE audit_log").execute(pool).await.unwrap();
    (start, end)
}

/// A job in the ledger with `status` (and, when failed, its error class), created, started and
/// finished `minutes_ago`, for the object `input/<key>` of the bucket pj-documents.
pub async fn insert_job(db: &TestDb, status: &str, class: Option<&str>, permanent: bool, key: &str, minutes_ago: i32) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO jobs (id, kind, source_uri, status, attempts, max_attempts, error_class, error_message, permanent, created_at, started_at, finished_at)
         VALUES ($1, 'deidentify', $2, $3, 1, 3, $4, $5, $6, now() - make_interval(mins => $7), now() - make_interval(mins => $7), now() - make_interval(mins => $7))",
    )
    .bind(id)
    .bind(format!("s3://pj-documents/input/{key}"))
    .bind(status)
    .bind(class)
    .bind(class.map(|c| format!("{c}: details")))
    .bind(permanent)
    .bind(minutes_ago)
    .execute(&db.pool)
    .await
    .unwrap();
    id
}

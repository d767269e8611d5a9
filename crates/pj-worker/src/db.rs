//! The platform database: migrations (from the bundle), the job ledger, documents and the
//! de-ID audit log with its per-stream hash chains and signed checkpoints.

use crate::deid::Category;
use chrono::Utc;
use pj_audit::{chain_next, AuditRecord, Checkpoint, Hash, NewRecord, StreamReport};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row, Transaction};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use uuid::Uuid;

/// The bundle's migrations, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../deploy-bundles/migrations");

pub type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Clone)]
pub struct Db {
    pub pool: PgPool,
}

/// A job as the worker starts it.
#[derive(Debug, Clone)]
pub struct JobStart<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub source_uri: &'a str,
    pub attempt: i32,
    pub max_attempts: i32,
    pub worker_id: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Newly started (or restarted after a failed attempt).
    Started,
    /// Already succeeded: a redelivery after the work was committed.
    AlreadyDone,
}

/// A de-identified document ready to be recorded.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub source_uri: String,
    pub source_sha256: Hash,
    pub detector_version: String,
    pub media_type: String,
    pub pages: i32,
    pub characters: i64,
    pub output_uri: String,
    pub output_sha256: Hash,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    Created(Uuid),
    /// The same content was already de-identified by this detector version.
    Duplicate(Uuid),
}

impl Db {
    /// A pool that connects lazily, so the worker starts (and reports not ready) while the
    /// database is down.
    pub fn new(options: PgConnectOptions, max_connections: u32) -> Db {
        let pool = PgPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(5)).connect_lazy_with(options);
        Db { pool }
    }

    /// Applies the migrations not applied yet. When every one is already applied (a deploy ran
    /// them as the database's owner), nothing is run: the worker's own login has no right to
    /// create anything, and needs none.
    pub async fn migrate(&self) -> std::result::Result<(), sqlx::migrate::MigrateError> {
        if self.migrations_current().await {
            return Ok(());
        }
        MIGRATOR.run(&self.pool).await
    }

    /// Every migration of this build is applied, with the same checksum.
    pub async fn migrations_current(&self) -> bool {
        let Ok(applied) =
            sqlx::query_as::<_, (i64, Vec<u8>)>("SELECT version, checksum FROM _sqlx_migrations WHERE success").fetch_all(&self.pool).await
        else {
            return false;
        };
        MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .all(|m| applied.iter().any(|(v, c)| *v == m.version && c[..] == m.checksum[..]))
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Records the start of an attempt. A job that already succeeded is left as it is.
    pub async fn job_started(&self, j: &JobStart<'_>) -> Result<JobState> {
        let row = sqlx::query(
            "INSERT INTO jobs (id, kind, source_uri, status, attempts, max_attempts, started_at, worker_id)
             VALUES ($1, $2, $3, 'running', $4, $5, now(), $6)
             ON CONFLICT (id) DO UPDATE SET
               status = CASE WHEN jobs.status = 'succeeded' THEN jobs.status ELSE 'running' END,
               attempts = CASE WHEN jobs.status = 'succeeded' THEN jobs.attempts ELSE GREATEST(jobs.attempts + 1, EXCLUDED.attempts) END,
               max_attempts = EXCLUDED.max_attempts,
               started_at = CASE WHEN jobs.status = 'succeeded' THEN jobs.started_at ELSE now() END,
               worker_id = CASE WHEN jobs.status = 'succeeded' THEN jobs.worker_id ELSE EXCLUDED.worker_id END,
               finished_at = CASE WHEN jobs.status = 'succeeded' THEN jobs.finished_at ELSE NULL END
             RETURNING status",
        )
        .bind(j.id)
        .bind(j.kind)
        .bind(j.source_uri)
        .bind(j.attempt)
        .bind(j.max_attempts)
        .bind(j.worker_id)
        .fetch_one(&self.pool)
        .await?;
        let status: String = row.get(0);
        Ok(if status == "succeeded" { JobState::AlreadyDone } else { JobState::Started })
    }

    /// A failed attempt. `final_` marks the job failed; otherwise it waits for a retry (queued),
    /// keeping the error of the last attempt.
    pub async fn job_failed(&self, id: Uuid, class: &str, message: &str, permanent: bool, final_: bool) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET status = CASE WHEN $5 THEN 'failed' ELSE 'queued' END,
               error_class = $2, error_message = $3, permanent = $4,
               finished_at = CASE WHEN $5 THEN now() ELSE NULL END,
               duration_ms = CASE WHEN $5 THEN (extract(epoch FROM now() - started_at) * 1000)::bigint ELSE duration_ms END
             WHERE id = $1 AND status <> 'succeeded'",
        )
        .bind(id)
        .bind(class)
        .bind(message)
        .bind(permanent)
        .bind(final_)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks the failed job `original` as retried by `by` (once: a later retry does not move it).
    pub async fn job_retried(&self, original: Uuid, by: Uuid) -> Result<()> {
        sqlx::query("UPDATE jobs SET retried_by = $2 WHERE id = $1 AND status = 'failed' AND retried_by IS NULL")
            .bind(original)
            .bind(by)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Puts a running job back in the queue (graceful shutdown released its message).
    pub async fn job_released(&self, id: Uuid) -> Result<()> {
        sqlx::query("UPDATE jobs SET status = 'queued' WHERE id = $1 AND status = 'running'").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn find_document(&self, sha: &Hash, detector_version: &str) -> Result<Option<Uuid>> {
        sqlx::query_scalar("SELECT id FROM documents WHERE source_sha256 = $1 AND detector_version = $2")
            .bind(&sha[..])
            .bind(detector_version)
            .fetch_optional(&self.pool)
            .await
    }

    /// Marks a job done with an existing document (the content was processed before).
    pub async fn job_duplicate(&self, job_id: Uuid, doc: Uuid, sha: &Hash, detector_version: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        succeed(&mut tx, job_id, doc, sha, detector_version).await?;
        tx.commit().await
    }

    /// Records the document, its audit record and the job's success in one transaction.
    /// A concurrent replica that recorded the same content first makes this a duplicate.
    pub async fn complete(&self, job_id: Uuid, doc: &NewDocument, stream_id: &str, audit: NewRecord) -> Result<(Completion, Option<AuditRecord>)> {
        let mut tx = self.pool.begin().await?;
        let doc_id = audit.document_id.expect("a de-identify record names its document");
        let inserted: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO documents (id, source_uri, source_sha256, detector_version, media_type, pages, characters, output_uri, output_sha256, job_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (source_sha256, detector_version) DO NOTHING RETURNING id",
        )
        .bind(doc_id)
        .bind(&doc.source_uri)
        .bind(&doc.source_sha256[..])
        .bind(&doc.detector_version)
        .bind(&doc.media_type)
        .bind(doc.pages)
        .bind(doc.characters)
        .bind(&doc.output_uri)
        .bind(&doc.output_sha256[..])
        .bind(job_id)
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            tx.rollback().await?;
            let existing = self.find_document(&doc.source_sha256, &doc.detector_version).await?.ok_or(sqlx::Error::RowNotFound)?;
            self.job_duplicate(job_id, existing, &doc.source_sha256, &doc.detector_version).await?;
            return Ok((Completion::Duplicate(existing), None));
        }
        let record = append_audit(&mut tx, stream_id, audit).await?;
        succeed(&mut tx, job_id, doc_id, &doc.source_sha256, &doc.detector_version).await?;
        tx.commit().await?;
        Ok((Completion::Created(doc_id), Some(record)))
    }

    pub async fn ensure_stream(&self, stream_id: &str) -> Result<()> {
        sqlx::query("INSERT INTO audit_streams (stream_id) VALUES ($1) ON CONFLICT DO NOTHING").bind(stream_id).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn register_key(&self, key_id: &str, public_key: &[u8; 32]) -> Result<()> {
        sqlx::query("INSERT INTO audit_signing_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(key_id)
            .bind(&public_key[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Appends an audit record on its own (view, export, re-identification request).
    pub async fn append(&self, stream_id: &str, body: NewRecord) -> Result<AuditRecord> {
        let mut tx = self.pool.begin().await?;
        let r = append_audit(&mut tx, stream_id, body).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Signs the stream's head if it moved since the last checkpoint.
    pub async fn checkpoint(&self, stream_id: &str, key: &pj_audit::Ed25519SigningKey) -> Result<Option<Checkpoint>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT s.head_seq, s.head_hash, (SELECT max(seq) FROM audit_checkpoints c WHERE c.stream_id = s.stream_id)
             FROM audit_streams s WHERE s.stream_id = $1 FOR UPDATE",
        )
        .bind(stream_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (seq, hash, last): (i64, Vec<u8>, Option<i64>) = (row.get(0), row.get(1), row.get(2));
        if seq == 0 || last == Some(seq) {
            return Ok(None);
        }
        let cp = pj_audit::sign_checkpoint(key, stream_id, seq, to_hash(&hash)?, Utc::now());
        pj_audit::pg::insert_checkpoint(&mut *tx, &cp).await?;
        tx.commit().await?;
        Ok(Some(cp))
    }

    /// Verifies every stream (records, links, checkpoints, heads) against trusted public keys.
    pub async fn verify_audit(&self, keys: &HashMap<String, pj_audit::Ed25519VerifyingKey>) -> Result<Vec<StreamReport>> {
        let streams = sqlx::query("SELECT stream_id, head_seq, head_hash FROM audit_streams ORDER BY stream_id").fetch_all(&self.pool).await?;
        let mut out = Vec::new();
        for s in streams {
            let (stream_id, head_seq, head_hash): (String, i64, Vec<u8>) = (s.get(0), s.get(1), s.get(2));
            let records = self.stream_records(&stream_id).await?;
            let checkpoints = self.stream_checkpoints(&stream_id).await?;
            out.push(pj_audit::verify_stream(&stream_id, records, None, &checkpoints, keys, Some((head_seq, to_hash(&head_hash)?))));
        }
        Ok(out)
    }

    pub async fn stream_records(&self, stream_id: &str) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(&format!("SELECT {} FROM audit_log WHERE stream_id = $1 ORDER BY seq", pj_audit::pg::RECORD_COLUMNS))
            .bind(stream_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_from_row).collect()
    }

    pub async fn stream_checkpoints(&self, stream_id: &str) -> Result<Vec<Checkpoint>> {
        let rows = sqlx::query(&format!("SELECT {} FROM audit_checkpoints WHERE stream_id = $1 ORDER BY seq", pj_audit::pg::CHECKPOINT_COLUMNS))
            .bind(stream_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(checkpoint_from_row).collect()
    }
}

async fn succeed(tx: &mut Transaction<'_, Postgres>, job_id: Uuid, doc: Uuid, sha: &Hash, detector_version: &str) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'succeeded', finished_at = now(), error_class = NULL, error_message = NULL, permanent = false,
           duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint,
           document_id = $2, source_sha256 = $3, detector_version = $4
         WHERE id = $1",
    )
    .bind(job_id)
    .bind(doc)
    .bind(&sha[..])
    .bind(detector_version)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Links `body` to the stream's head. The head row is locked, so appends to one stream are
/// serialised; each replica writes its own stream, so replicas never wait on each other.
async fn append_audit(tx: &mut Transaction<'_, Postgres>, stream_id: &str, body: NewRecord) -> Result<AuditRecord> {
    let row =
        sqlx::query("SELECT head_seq, head_hash FROM audit_streams WHERE stream_id = $1 FOR UPDATE").bind(stream_id).fetch_one(&mut **tx).await?;
    let (seq, hash): (i64, Vec<u8>) = (row.get(0), row.get(1));
    let r = chain_next(stream_id, seq, to_hash(&hash)?, body);
    pj_audit::pg::insert_record(&mut **tx, &r).await?;
    sqlx::query("UPDATE audit_streams SET head_seq = $2, head_hash = $3 WHERE stream_id = $1")
        .bind(stream_id)
        .bind(r.seq)
        .bind(&r.hash[..])
        .execute(&mut **tx)
        .await?;
    Ok(r)
}

use pj_audit::pg::{checkpoint_from_row, record_from_row, to_hash};

/// Per-category counts as the audit log stores them.
pub fn counts_by_name(counts: &BTreeMap<Category, i64>) -> BTreeMap<String, i64> {
    counts.iter().map(|(c, n)| (c.as_str().to_string(), *n)).collect()
}

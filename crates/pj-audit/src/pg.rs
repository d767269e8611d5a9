//! Reading records and checkpoints from the platform's PostgreSQL tables (feature `pg`),
//! shared by the worker and Vigil so both decode a row the same way.

use crate::{AuditRecord, Checkpoint, Hash, NewRecord, SpanRef};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::collections::BTreeMap;

/// The columns [`record_from_row`] reads, in its order.
pub const RECORD_COLUMNS: &str = "stream_id, seq, id, at, actor, action, document_id, job_id, detector_version, \
     category_counts, spans, input_sha256, output_sha256, prev_hash, hash";

/// The columns [`checkpoint_from_row`] reads, in its order.
pub const CHECKPOINT_COLUMNS: &str = "stream_id, seq, head_hash, at, key_id, signature";

fn decode_err(msg: impl Into<String>) -> sqlx::Error {
    sqlx::Error::Decode(msg.into().into())
}

pub fn to_hash(v: &[u8]) -> Result<Hash, sqlx::Error> {
    v.try_into().map_err(|_| decode_err("hash is not 32 bytes"))
}

/// A row selected with [`RECORD_COLUMNS`].
pub fn record_from_row(r: &PgRow) -> Result<AuditRecord, sqlx::Error> {
    let counts: serde_json::Value = r.try_get(9)?;
    let spans: serde_json::Value = r.try_get(10)?;
    let opt_hash = |v: Option<Vec<u8>>| v.map(|v| to_hash(&v)).transpose();
    let at: DateTime<Utc> = r.try_get(3)?;
    Ok(AuditRecord {
        stream_id: r.try_get(0)?,
        seq: r.try_get(1)?,
        body: NewRecord {
            id: r.try_get(2)?,
            at,
            actor: r.try_get(4)?,
            action: r.try_get(5)?,
            document_id: r.try_get(6)?,
            job_id: r.try_get(7)?,
            detector_version: r.try_get(8)?,
            category_counts: serde_json::from_value::<BTreeMap<String, i64>>(counts).map_err(|e| decode_err(e.to_string()))?,
            spans: serde_json::from_value::<Vec<SpanRef>>(spans).map_err(|e| decode_err(e.to_string()))?,
            input_sha256: opt_hash(r.try_get(11)?)?,
            output_sha256: opt_hash(r.try_get(12)?)?,
        },
        prev_hash: to_hash(&r.try_get::<Vec<u8>, _>(13)?)?,
        hash: to_hash(&r.try_get::<Vec<u8>, _>(14)?)?,
    })
}

/// A row selected with [`CHECKPOINT_COLUMNS`].
pub fn checkpoint_from_row(r: &PgRow) -> Result<Checkpoint, sqlx::Error> {
    let sig: Vec<u8> = r.try_get(5)?;
    Ok(Checkpoint {
        stream_id: r.try_get(0)?,
        seq: r.try_get(1)?,
        head_hash: to_hash(&r.try_get::<Vec<u8>, _>(2)?)?,
        at: r.try_get(3)?,
        key_id: r.try_get(4)?,
        signature: sig.try_into().map_err(|_| decode_err("signature is not 64 bytes"))?,
    })
}

/// Inserts `r` as it is (the worker after linking it; tests forging a record).
pub async fn insert_record<'e>(ex: impl sqlx::PgExecutor<'e>, r: &AuditRecord) -> Result<(), sqlx::Error> {
    let counts = serde_json::to_value(&r.body.category_counts).map_err(|e| decode_err(e.to_string()))?;
    let spans = serde_json::to_value(&r.body.spans).map_err(|e| decode_err(e.to_string()))?;
    sqlx::query(&format!("INSERT INTO audit_log ({RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"))
        .bind(&r.stream_id)
        .bind(r.seq)
        .bind(r.body.id)
        .bind(r.body.at)
        .bind(&r.body.actor)
        .bind(&r.body.action)
        .bind(r.body.document_id)
        .bind(r.body.job_id)
        .bind(&r.body.detector_version)
        .bind(counts)
        .bind(spans)
        .bind(r.body.input_sha256.map(|h| h.to_vec()))
        .bind(r.body.output_sha256.map(|h| h.to_vec()))
        .bind(&r.prev_hash[..])
        .bind(&r.hash[..])
        .execute(ex)
        .await?;
    Ok(())
}

/// Inserts a signed checkpoint.
pub async fn insert_checkpoint<'e>(ex: impl sqlx::PgExecutor<'e>, cp: &Checkpoint) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO audit_checkpoints ({CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
        .bind(&cp.stream_id)
        .bind(cp.seq)
        .bind(&cp.head_hash[..])
        .bind(cp.at)
        .bind(&cp.key_id)
        .bind(&cp.signature[..])
        .execute(ex)
        .await?;
    Ok(())
}

//! Evidence exports of the audit log: the filtered records as CSV, streamed from the database
//! row by row into the file (memory stays flat at any size), with the SHA-256 of what was
//! written computed on the way.

use super::query::Query;
use crate::error::Result;
use crate::platform_db::connect::query_error;
use futures_util::TryStreamExt;
use pj_audit::pg::{record_from_row, RECORD_COLUMNS};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, QueryBuilder};
use std::io::Write;
use std::sync::atomic::Ordering;

pub use crate::progress::Progress;

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What an export wrote.
pub use vigil_dto::ExportSummary as Written;

pub const CSV_HEADER: [&str; 15] = [
    "stream_id",
    "seq",
    "id",
    "at",
    "actor",
    "action",
    "document_id",
    "job_id",
    "detector_version",
    "category_counts",
    "spans",
    "input_sha256",
    "output_sha256",
    "prev_hash",
    "hash",
];

/// Rows handed from the database reader to the file writer at a time.
const BATCH: usize = 512;

/// Writes the records matching `q`, oldest first (the order of the chains), as CSV to `out`,
/// and gives `out` back flushed. The rows are read on the async side and written on a blocking
/// thread, a few batches apart (memory stays flat); a write error stops the read.
pub async fn csv<W: Write + Send + 'static>(pool: &PgPool, q: &Query, out: W, progress: &Progress) -> Result<(Written, W)> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<[String; 15]>>(4);
    // Spawned now (not when awaited): the reader below fills the channel only as far as the
    // writer empties it.
    let writer = tokio::task::spawn_blocking(move || -> Result<(u64, String, W)> {
        let io = |e: csv::Error| crate::Error::Io(std::io::Error::other(e.to_string()));
        let mut w = csv::Writer::from_writer(Hashing { inner: std::io::BufWriter::with_capacity(1 << 20, out), hash: Sha256::new(), bytes: 0 });
        w.write_record(CSV_HEADER).map_err(io)?;
        while let Some(batch) = rx.blocking_recv() {
            for record in batch {
                w.write_record(&record).map_err(io)?;
            }
        }
        let Hashing { inner, hash, bytes } = w.into_inner().map_err(|e| crate::Error::Io(std::io::Error::other(e.to_string())))?;
        let out = inner.into_inner().map_err(|e| crate::Error::Io(e.into_error()))?;
        Ok((bytes, hex::encode(hash.finalize()), out))
    });
    let read = read(pool, q, progress, tx).await;
    // The writer ends when the sender is dropped (read returned): its error is the cause of a
    // failed send, so it comes first.
    let (bytes, sha256, out) = writer.await.map_err(|e| crate::Error::Io(std::io::Error::other(format!("the CSV writer failed: {e}"))))??;
    let (rows, cancelled) = read?;
    Ok((Written { rows, bytes, sha256, cancelled }, out))
}

/// Reads the rows for [`csv`] and sends them in batches; returns the row count and whether the
/// export was cancelled. Stops quietly when the writer has gone (its error is reported).
async fn read(pool: &PgPool, q: &Query, progress: &Progress, tx: tokio::sync::mpsc::Sender<Vec<[String; 15]>>) -> Result<(u64, bool)> {
    let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {RECORD_COLUMNS} FROM audit_log"));
    super::query::push_filter(&mut qb, q);
    qb.push(" ORDER BY at, stream_id, seq");
    let query = qb.build();
    let mut rows = query.fetch(pool);
    let mut n = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    let opt_uuid = |u: Option<uuid::Uuid>| u.map(|u| u.hyphenated().to_string()).unwrap_or_default();
    let opt_hash = |h: Option<pj_audit::Hash>| h.map(hex::encode).unwrap_or_default();
    while let Some(row) = rows.try_next().await.map_err(query_error)? {
        if progress.cancelled() {
            return Ok((n, true));
        }
        let r = record_from_row(&row).map_err(query_error)?;
        batch.push([
            r.stream_id,
            r.seq.to_string(),
            r.body.id.hyphenated().to_string(),
            pj_audit::format_at(&r.body.at),
            r.body.actor,
            r.body.action,
            opt_uuid(r.body.document_id),
            opt_uuid(r.body.job_id),
            r.body.detector_version,
            pj_audit::counts_json(&r.body.category_counts),
            pj_audit::spans_json(&r.body.spans),
            opt_hash(r.body.input_sha256),
            opt_hash(r.body.output_sha256),
            hex::encode(r.prev_hash),
            hex::encode(r.hash),
        ]);
        n += 1;
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if tx.send(full).await.is_err() {
                return Ok((n, false));
            }
            progress.done.store(n, Ordering::Relaxed);
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(batch).await;
    }
    progress.done.store(n, Ordering::Relaxed);
    Ok((n, false))
}

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

/// Writes the records matching `q`, oldest first (the order of the chains), as CSV to `out`.
pub async fn csv<W: Write>(pool: &PgPool, q: &Query, out: W, progress: &Progress) -> Result<Written> {
    let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {RECORD_COLUMNS} FROM audit_log"));
    super::query::push_filter(&mut qb, q);
    qb.push(" ORDER BY at, stream_id, seq");
    let mut w = csv::Writer::from_writer(Hashing { inner: std::io::BufWriter::with_capacity(1 << 20, out), hash: Sha256::new(), bytes: 0 });
    let io = |e: csv::Error| crate::Error::Io(std::io::Error::other(e.to_string()));
    w.write_record(CSV_HEADER).map_err(io)?;
    let query = qb.build();
    let mut rows = query.fetch(pool);
    let mut n = 0u64;
    let mut cancelled = false;
    while let Some(row) = rows.try_next().await.map_err(query_error)? {
        if progress.cancelled() {
            cancelled = true;
            break;
        }
        let r = record_from_row(&row).map_err(query_error)?;
        let opt_uuid = |u: Option<uuid::Uuid>| u.map(|u| u.hyphenated().to_string()).unwrap_or_default();
        let opt_hash = |h: Option<pj_audit::Hash>| h.map(hex::encode).unwrap_or_default();
        w.write_record([
            r.stream_id.as_str(),
            &r.seq.to_string(),
            &r.body.id.hyphenated().to_string(),
            &pj_audit::format_at(&r.body.at),
            &r.body.actor,
            &r.body.action,
            &opt_uuid(r.body.document_id),
            &opt_uuid(r.body.job_id),
            &r.body.detector_version,
            &pj_audit::counts_json(&r.body.category_counts),
            &pj_audit::spans_json(&r.body.spans),
            &opt_hash(r.body.input_sha256),
            &opt_hash(r.body.output_sha256),
            &hex::encode(r.prev_hash),
            &hex::encode(r.hash),
        ])
        .map_err(io)?;
        n += 1;
        if n.is_multiple_of(1024) {
            progress.done.store(n, Ordering::Relaxed);
        }
    }
    progress.done.store(n, Ordering::Relaxed);
    let hashing = w.into_inner().map_err(|e| crate::Error::Io(std::io::Error::other(e.to_string())))?;
    let Hashing { mut inner, hash, bytes } = hashing;
    inner.flush()?;
    Ok(Written { rows: n, bytes, sha256: hex::encode(hash.finalize()), cancelled })
}

//! Verify: walks each stream's hash chain over the chosen range and checks its signed
//! checkpoints and stored head against the public keys the deployment names (never keys from
//! the database). Records are streamed page by page into the verifier, so memory stays flat
//! at any size; progress is counted as pages arrive and a cancel stops the reading.
//!
//! A range that starts after a stream's first record trusts the link into its first record;
//! the checkpoints inside the range still pin the chain to what was signed.

use crate::error::Result;
use crate::platform_db::connect::query_error;
pub use crate::progress::{Progress, Stage};
use chrono::{DateTime, Utc};
use pj_audit::pg::{checkpoint_from_row, record_from_row, to_hash, CHECKPOINT_COLUMNS, RECORD_COLUMNS};
use pj_audit::AuditRecord;
use pj_audit::Ed25519VerifyingKey as VerifyingKey;
use sqlx::{PgPool, Row};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};
use vigil_dto::{AuditBreak, AuditVerification, StreamVerification};

/// Records read per query.
pub const PAGE: i64 = 5000;

struct Stream {
    id: String,
    head_seq: i64,
    head_hash: pj_audit::Hash,
    /// First seq in the range and the hash it links to.
    start: Option<(i64, pj_audit::Hash)>,
}

/// Verifies every stream from `since` (all of it when absent).
pub async fn verify(
    pool: &PgPool,
    since: Option<DateTime<Utc>>,
    keys: &HashMap<String, VerifyingKey>,
    progress: Arc<Progress>,
) -> Result<AuditVerification> {
    let mut streams = Vec::new();
    for r in sqlx::query("SELECT stream_id, head_seq, head_hash FROM audit_streams ORDER BY stream_id").fetch_all(pool).await.map_err(query_error)? {
        let id: String = r.try_get(0).map_err(query_error)?;
        let head_seq: i64 = r.try_get(1).map_err(query_error)?;
        let head_hash = to_hash(&r.try_get::<Vec<u8>, _>(2).map_err(query_error)?).map_err(query_error)?;
        let first = match since {
            None => sqlx::query("SELECT seq, prev_hash FROM audit_log WHERE stream_id = $1 ORDER BY seq LIMIT 1").bind(&id),
            Some(t) => sqlx::query("SELECT seq, prev_hash FROM audit_log WHERE stream_id = $1 AND at >= $2 ORDER BY seq LIMIT 1").bind(&id).bind(t),
        }
        .fetch_optional(pool)
        .await
        .map_err(query_error)?;
        let start = match first {
            Some(f) => {
                let seq: i64 = f.try_get(0).map_err(query_error)?;
                let prev = to_hash(&f.try_get::<Vec<u8>, _>(1).map_err(query_error)?).map_err(query_error)?;
                // From the stream's start the first record must link to the genesis hash.
                Some(if since.is_none() { (1, pj_audit::GENESIS) } else { (seq, prev) })
            }
            None => None,
        };
        streams.push(Stream { id, head_seq, head_hash, start });
    }
    let total: i64 = streams.iter().filter_map(|s| s.start.map(|(seq, _)| (s.head_seq - seq + 1).max(0))).sum();
    progress.start(Stage::Verifying, total as u64);

    let mut out = AuditVerification { ok: true, cancelled: false, since: since.map(|t| pj_audit::format_at(&t)), streams: vec![], records: 0 };
    for s in streams {
        if progress.cancelled() {
            out.cancelled = true;
            break;
        }
        let Some((start_seq, start_link)) = s.start else {
            // Nothing in the range. A stream whose head says it has records but has none is
            // truncated to nothing.
            if since.is_none() && s.head_seq > 0 {
                out.ok = false;
                out.streams.push(StreamVerification {
                    stream_id: s.id.clone(),
                    records: 0,
                    checkpoints: 0,
                    first_seq: 0,
                    last_seq: 0,
                    unsigned_tail: 0,
                    first_break: Some(AuditBreak {
                        seq: 1,
                        kind: "truncated".into(),
                        detail: format!("the head is at #{} but the stream has no records", s.head_seq),
                    }),
                });
            }
            continue;
        };
        let checkpoints = sqlx::query(&format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE stream_id = $1 AND seq >= $2 ORDER BY seq"))
            .bind(&s.id)
            .bind(start_seq)
            .fetch_all(pool)
            .await
            .map_err(query_error)?
            .iter()
            .map(checkpoint_from_row)
            .collect::<Result<Vec<_>, _>>()
            .map_err(query_error)?;
        let n_checkpoints = checkpoints.len() as u64;
        // The reader sends pages; the verifier (a blocking thread) walks them as they come.
        let (tx, rx) = mpsc::sync_channel::<Vec<AuditRecord>>(2);
        let failed: Arc<Mutex<Option<crate::Error>>> = Arc::default();
        let (keys2, id2, head) = (keys.clone(), s.id.clone(), (s.head_seq, s.head_hash));
        let anchor = (start_seq > 1 || since.is_some()).then_some((start_seq - 1, start_link));
        let verifier =
            tokio::task::spawn_blocking(move || pj_audit::verify_stream(&id2, rx.into_iter().flatten(), anchor, &checkpoints, &keys2, Some(head)));
        let mut next = start_seq;
        loop {
            if progress.cancelled() {
                break;
            }
            let page = sqlx::query(&format!("SELECT {RECORD_COLUMNS} FROM audit_log WHERE stream_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3"))
                .bind(&s.id)
                .bind(next)
                .bind(PAGE)
                .fetch_all(pool)
                .await
                .map_err(query_error)
                .and_then(|rows| rows.iter().map(record_from_row).collect::<Result<Vec<_>, _>>().map_err(query_error));
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    *failed.lock().expect("error slot") = Some(e);
                    break;
                }
            };
            let Some(last) = page.last() else { break };
            next = last.seq + 1;
            let n = page.len();
            progress.done.fetch_add(n as u64, Ordering::Relaxed);
            if tx.send(page).is_err() || (n as i64) < PAGE {
                break;
            }
        }
        drop(tx);
        let report = verifier.await.map_err(|e| crate::Error::PlatformDb {
            kind: "internal",
            message: format!("verification stopped: {e}"),
            hint: "see the log file".into(),
        })?;
        if let Some(e) = failed.lock().expect("error slot").take() {
            return Err(e);
        }
        if progress.cancelled() {
            out.cancelled = true;
            break;
        }
        out.records += report.records;
        if report.first_break.is_some() {
            out.ok = false;
        }
        out.streams.push(StreamVerification {
            stream_id: report.stream_id,
            records: report.records,
            checkpoints: n_checkpoints,
            first_seq: start_seq,
            last_seq: report.last_seq,
            unsigned_tail: report.unsigned_tail,
            first_break: report.first_break.map(|b| AuditBreak { seq: b.seq, kind: b.kind.as_str().into(), detail: b.detail }),
        });
    }
    if out.cancelled {
        out.ok = false;
    }
    Ok(out)
}

/// Public keys from hex (comma or space separated), keyed by their key id.
pub fn keys_from_hex(list: &str) -> std::result::Result<HashMap<String, VerifyingKey>, String> {
    list.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|h| pj_audit::verifying_key_from_hex(h).map(|k| (pj_audit::key_id(&k), k)).map_err(|e| format!("`{h}`: {e}")))
        .collect()
}

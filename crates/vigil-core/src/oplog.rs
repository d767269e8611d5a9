//! The operator log: every mutating action, appended as a SHA-256 hash chain.
//!
//! Encoding (version 1): `hash = hex(SHA-256("vigil-oplog/1\n" ‖ field…))`, where each field of
//! `at, actor, action, target, details, op_id, prev_hash` is written as `<byte length>:<bytes>\n`.
//! `details` is canonical JSON (keys sorted, no spaces). The first record links to 64 zeros.
//! `seq` is the record's position; the chain, not `seq`, is what proves order. The head
//! (last seq and hash) is kept in `oplog_head`, updated in the same transaction, so a cut tail
//! is noticed. A writer with full access to the database can still rewrite the whole chain;
//! signed checkpoints (as the platform's de-ID audit log has) are what would close that gap.

use crate::error::Result;
use sha2::{Digest, Sha256};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::collections::HashMap;
use vigil_dto::{BreakKind, ChainBreak, OplogEntry, VerifyReport};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A mutating action about to be recorded.
#[derive(Debug, Clone)]
pub struct Action {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
    pub op_id: String,
}

/// Compact JSON with object keys sorted at every level. Written out explicitly: serde_json's
/// own key order depends on a cargo feature (`preserve_order`) that any dependency may turn on.
pub fn canonical_json(v: &serde_json::Value) -> String {
    use serde_json::Value;
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// The hash of one record over its canonical encoding.
pub fn record_hash(at: &str, actor: &str, action: &str, target: &str, details: &str, op_id: &str, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"vigil-oplog/1\n");
    for field in [at, actor, action, target, details, op_id, prev_hash] {
        h.update(field.len().to_string().as_bytes());
        h.update(b":");
        h.update(field.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

fn entry_hash(e: &OplogEntry) -> String {
    record_hash(&e.at, &e.actor, &e.action, &e.target, &e.details, &e.op_id, &e.prev_hash)
}

/// Appends `action` inside `tx`: the mutation and its record commit together or not at all.
pub async fn append(tx: &mut Transaction<'static, Sqlite>, action: &Action) -> Result<OplogEntry> {
    let (head_seq, head_hash): (i64, String) = sqlx::query_as("SELECT seq, hash FROM oplog_head WHERE id = 1").fetch_one(&mut **tx).await?;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let details = canonical_json(&action.details);
    let hash = record_hash(&at, &action.actor, &action.action, &action.target, &details, &action.op_id, &head_hash);
    let entry = OplogEntry {
        seq: head_seq + 1,
        at,
        actor: action.actor.clone(),
        action: action.action.clone(),
        target: action.target.clone(),
        details,
        op_id: action.op_id.clone(),
        prev_hash: head_hash,
        hash,
    };
    sqlx::query("INSERT INTO oplog (seq, at, actor, action, target, details, op_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(entry.seq)
        .bind(&entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.details)
        .bind(&entry.op_id)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE oplog_head SET seq = ?, hash = ? WHERE id = 1").bind(entry.seq).bind(&entry.hash).execute(&mut **tx).await?;
    tracing::info!(seq = entry.seq, action = %entry.action, target = %entry.target, op_id = %entry.op_id, "operator log");
    Ok(entry)
}

type Row = (i64, String, String, String, String, String, String, String, String);

fn to_entry(r: Row) -> OplogEntry {
    OplogEntry { seq: r.0, at: r.1, actor: r.2, action: r.3, target: r.4, details: r.5, op_id: r.6, prev_hash: r.7, hash: r.8 }
}

const COLUMNS: &str = "seq, at, actor, action, target, details, op_id, prev_hash, hash";

/// The newest records first; `before` pages backwards from a seq.
pub async fn list(pool: &SqlitePool, limit: u32, before: Option<i64>) -> Result<Vec<OplogEntry>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM oplog WHERE seq < ? ORDER BY seq DESC LIMIT ?"))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 1000))
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(to_entry).collect())
}

/// Checks the whole chain and names the first record where it does not hold.
pub async fn verify(pool: &SqlitePool) -> Result<VerifyReport> {
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM oplog ORDER BY seq")).fetch_all(pool).await?;
    let records: Vec<OplogEntry> = rows.into_iter().map(to_entry).collect();
    let head: (i64, String) = sqlx::query_as("SELECT seq, hash FROM oplog_head WHERE id = 1").fetch_one(pool).await?;
    Ok(verify_records(&records, head))
}

/// The verification itself, over records sorted by seq and the stored head.
pub fn verify_records(records: &[OplogEntry], head: (i64, String)) -> VerifyReport {
    let report = |first_break: Option<ChainBreak>| VerifyReport {
        ok: first_break.is_none(),
        records: records.len() as u64,
        head_hash: records.last().map(|r| r.hash.clone()),
        first_break,
    };
    let position: HashMap<&str, usize> = records.iter().enumerate().map(|(i, r)| (r.hash.as_str(), i)).collect();
    let mut expected_prev = GENESIS;
    let mut expected_seq = 1;
    for (i, r) in records.iter().enumerate() {
        if entry_hash(r) != r.hash {
            return report(Some(brk(
                r.seq,
                BreakKind::Modified,
                format!("record #{} was changed after it was written: its content no longer matches its hash", r.seq),
            )));
        }
        if r.prev_hash != expected_prev {
            let b = match position.get(r.prev_hash.as_str()) {
                Some(&j) if j > i => brk(
                    r.seq,
                    BreakKind::Reordered,
                    format!("record #{} is out of order: it was written after record #{}, which now comes later", r.seq, records[j].seq),
                ),
                Some(&j) => {
                    let first = &records[j + 1];
                    brk(
                        first.seq,
                        BreakKind::Inserted,
                        format!("record #{} was inserted: record #{} links past it to record #{}", first.seq, r.seq, records[j].seq),
                    )
                }
                None if r.seq > expected_seq => brk(r.seq, BreakKind::Missing, missing_msg(expected_seq, r.seq)),
                None if i == 0 || records.get(i + 1).is_some_and(|n| n.prev_hash == expected_prev) => {
                    brk(r.seq, BreakKind::Inserted, format!("record #{} was inserted: it links to no record of this log", r.seq))
                }
                None => brk(
                    records[i - 1].seq,
                    BreakKind::Modified,
                    format!("record #{} was rewritten: record #{} links to a different version of it", records[i - 1].seq, r.seq),
                ),
            };
            return report(Some(b));
        }
        if r.seq != expected_seq {
            let b = if r.seq > expected_seq {
                brk(r.seq, BreakKind::Missing, missing_msg(expected_seq, r.seq))
            } else {
                brk(r.seq, BreakKind::Reordered, format!("record #{} is numbered out of sequence", r.seq))
            };
            return report(Some(b));
        }
        expected_prev = &r.hash;
        expected_seq = r.seq + 1;
    }
    let last_seq = records.last().map_or(0, |r| r.seq);
    let (head_seq, head_hash) = head;
    if head_seq > last_seq {
        return report(Some(brk(
            last_seq + 1,
            BreakKind::Truncated,
            format!("records #{}–#{} are missing: the log was cut after record #{last_seq}", last_seq + 1, head_seq),
        )));
    }
    if head_seq < last_seq {
        return report(Some(brk(
            head_seq + 1,
            BreakKind::Inserted,
            format!("record #{} was added outside Vigil: the log's head still points at record #{head_seq}", head_seq + 1),
        )));
    }
    if head_hash != expected_prev {
        return report(Some(brk(
            last_seq,
            BreakKind::Modified,
            format!("record #{last_seq} was rewritten: it does not match the log's recorded head"),
        )));
    }
    report(None)
}

fn missing_msg(from: i64, to_exclusive: i64) -> String {
    if to_exclusive - from == 1 {
        format!("record #{from} is missing (deleted); record #{to_exclusive} links to it")
    } else {
        format!("records #{from}–#{} are missing (deleted); record #{to_exclusive} links to the last of them", to_exclusive - 1)
    }
}

fn brk(seq: i64, kind: BreakKind, message: String) -> ChainBreak {
    ChainBreak { seq, kind, message }
}

crate::app::area!(
    /// The operator log as the Activity page and `vigil oplog` read it (`app.oplog()`).
    Activity
);

impl Activity<'_> {
    /// Newest first, `limit` records before `before` (an id) when given.
    pub async fn list(&self, limit: u32, before: Option<i64>) -> Result<Vec<vigil_dto::OplogEntry>> {
        list(self.store().pool(), limit, before).await
    }

    /// Walks the whole chain and names its first break.
    pub async fn verify(&self) -> Result<vigil_dto::VerifyReport> {
        verify(self.store().pool()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    async fn store_with(n: usize) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("vigil.db")).await.unwrap();
        for i in 0..n {
            let mut tx = store.write().await.unwrap();
            append(
                &mut tx,
                &Action {
                    actor: "tester".into(),
                    action: "environment.add".into(),
                    target: format!("env-{i}"),
                    details: serde_json::json!({"region": "eu-west-1", "n": i}),
                    op_id: format!("op-{i}"),
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        (dir, store)
    }

    async fn exec(store: &Store, sql: &str) {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }

    async fn first_break(store: &Store) -> ChainBreak {
        let r = verify(store.pool()).await.unwrap();
        assert!(!r.ok);
        r.first_break.expect("a broken chain names its first break")
    }

    /// Writes a record with a correct hash over `prev_hash`, as a forger with SQL access would.
    async fn forge(store: &Store, seq: i64, prev_hash: &str) -> String {
        let hash = record_hash("2026-01-01T00:00:00.000Z", "mallory", "environment.remove", "prod", "{}", "op-x", prev_hash);
        sqlx::query(&format!(
            "INSERT INTO oplog ({COLUMNS}) VALUES (?, '2026-01-01T00:00:00.000Z', 'mallory', 'environment.remove', 'prod', '{{}}', 'op-x', ?, ?)"
        ))
        .bind(seq)
        .bind(prev_hash)
        .bind(&hash)
        .execute(store.pool())
        .await
        .unwrap();
        hash
    }

    async fn hash_of(store: &Store, seq: i64) -> String {
        sqlx::query_scalar("SELECT hash FROM oplog WHERE seq = ?").bind(seq).fetch_one(store.pool()).await.unwrap()
    }

    #[tokio::test]
    async fn an_intact_chain_verifies() {
        let (_d, store) = store_with(5).await;
        let r = verify(store.pool()).await.unwrap();
        assert!(r.ok, "{r:?}");
        assert_eq!(r.records, 5);
        assert_eq!(r.head_hash, Some(hash_of(&store, 5).await));
    }

    #[tokio::test]
    async fn an_empty_log_verifies() {
        let (_d, store) = store_with(0).await;
        assert!(verify(store.pool()).await.unwrap().ok);
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = serde_json::json!({"z": 1, "a": {"y": [3, {"b": "x\"y", "a": null}], "b": true}});
        assert_eq!(canonical_json(&v), r#"{"a":{"b":true,"y":[3,{"a":null,"b":"x\"y"}]},"z":1}"#);
    }

    #[tokio::test]
    async fn records_link_to_their_predecessor() {
        let (_d, store) = store_with(3).await;
        let all = list(store.pool(), 10, None).await.unwrap();
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 2, 1]);
        assert_eq!(all[2].prev_hash, GENESIS);
        assert_eq!(all[1].prev_hash, all[2].hash);
        assert_eq!(all[0].prev_hash, all[1].hash);
        assert_eq!(all[1].details, r#"{"n":1,"region":"eu-west-1"}"#);
        let page = list(store.pool(), 1, Some(3)).await.unwrap();
        assert_eq!(page[0].seq, 2);
    }

    #[tokio::test]
    async fn a_modified_field_is_located() {
        let (_d, store) = store_with(5).await;
        exec(&store, "UPDATE oplog SET target = 'other' WHERE seq = 3").await;
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (3, BreakKind::Modified));
    }

    #[tokio::test]
    async fn a_rewritten_record_with_a_recomputed_hash_is_located() {
        let (_d, store) = store_with(5).await;
        let prev = hash_of(&store, 2).await;
        let new_hash = record_hash("2026-01-01T00:00:00.000Z", "x", "y", "z", "{}", "op", &prev);
        sqlx::query(
            "UPDATE oplog SET at='2026-01-01T00:00:00.000Z', actor='x', action='y', target='z', details='{}', op_id='op', hash=? WHERE seq=3",
        )
        .bind(&new_hash)
        .execute(store.pool())
        .await
        .unwrap();
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (3, BreakKind::Modified), "{}", b.message);
    }

    #[tokio::test]
    async fn a_deleted_record_is_located() {
        let (_d, store) = store_with(5).await;
        exec(&store, "DELETE FROM oplog WHERE seq = 2").await;
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (3, BreakKind::Missing));
        assert!(b.message.contains("#2"), "{}", b.message);
    }

    #[tokio::test]
    async fn a_deleted_first_record_is_located() {
        let (_d, store) = store_with(3).await;
        exec(&store, "DELETE FROM oplog WHERE seq = 1").await;
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (2, BreakKind::Missing));
    }

    #[tokio::test]
    async fn a_cut_tail_is_located() {
        let (_d, store) = store_with(5).await;
        exec(&store, "DELETE FROM oplog WHERE seq >= 4").await;
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (4, BreakKind::Truncated));
    }

    #[tokio::test]
    async fn swapped_records_are_located() {
        let (_d, store) = store_with(5).await;
        exec(&store, "UPDATE oplog SET seq = -1 WHERE seq = 2").await;
        exec(&store, "UPDATE oplog SET seq = 2 WHERE seq = 3").await;
        exec(&store, "UPDATE oplog SET seq = 3 WHERE seq = -1").await;
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (2, BreakKind::Reordered), "{}", b.message);
    }

    #[tokio::test]
    async fn a_record_moved_to_the_end_is_located() {
        let (_d, store) = store_with(5).await;
        exec(&store, "UPDATE oplog SET seq = 6 WHERE seq = 2").await;
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (3, BreakKind::Reordered), "{}", b.message);
    }

    #[tokio::test]
    async fn an_inserted_record_that_links_correctly_is_located() {
        let (_d, store) = store_with(5).await;
        // Make room after #2 and insert a well-formed record linked to #2.
        for seq in (3..=5).rev() {
            exec(&store, &format!("UPDATE oplog SET seq = {} WHERE seq = {seq}", seq + 1)).await;
        }
        let prev = hash_of(&store, 2).await;
        forge(&store, 3, &prev).await;
        exec(&store, "UPDATE oplog_head SET seq = 6").await;
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (3, BreakKind::Inserted), "{}", b.message);
    }

    #[tokio::test]
    async fn an_inserted_record_linked_to_nothing_is_located() {
        let (_d, store) = store_with(4).await;
        for seq in (3..=4).rev() {
            exec(&store, &format!("UPDATE oplog SET seq = {} WHERE seq = {seq}", seq + 1)).await;
        }
        forge(&store, 3, &"ab".repeat(32)).await;
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (3, BreakKind::Inserted), "{}", b.message);
    }

    #[tokio::test]
    async fn a_record_appended_outside_vigil_is_located() {
        let (_d, store) = store_with(3).await;
        let prev = hash_of(&store, 3).await;
        forge(&store, 4, &prev).await;
        let b = first_break(&store).await;
        assert_eq!((b.seq, b.kind), (4, BreakKind::Inserted), "{}", b.message);
    }

    #[test]
    fn the_encoding_separates_fields() {
        // Moving a character from one field to the next must change the hash.
        let a = record_hash("t", "ab", "c", "x", "{}", "o", GENESIS);
        let b = record_hash("t", "a", "bc", "x", "{}", "o", GENESIS);
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
    }
}

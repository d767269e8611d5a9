//! Verification of one stream: the hash of every record, the links between them, the signed
//! checkpoints and the stored head. The first break is located and classified.

use crate::{checkpoint_signature_ok, record_hash, AuditRecord, Checkpoint, Hash, GENESIS};
use ed25519_dalek::VerifyingKey;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// How a chain is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// A record's content no longer matches its hash, or its successor recorded another hash.
    Modified,
    /// Sequence numbers skip: records were deleted.
    Missing,
    /// A record was written at another position of the stream.
    Reordered,
    /// A record that is not part of the original chain sits between two that are.
    Inserted,
    /// Records after the last one present were removed (the head or a checkpoint is further).
    Truncated,
    /// A signed checkpoint names another head hash: the chain was rewritten up to here.
    CheckpointMismatch,
    /// A checkpoint's signature does not verify, or its key is not one the verifier trusts.
    BadSignature,
}

impl BreakKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakKind::Modified => "modified",
            BreakKind::Missing => "missing",
            BreakKind::Reordered => "reordered",
            BreakKind::Inserted => "inserted",
            BreakKind::Truncated => "truncated",
            BreakKind::CheckpointMismatch => "checkpoint_mismatch",
            BreakKind::BadSignature => "bad_signature",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub stream_id: String,
    pub seq: i64,
    pub kind: BreakKind,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamReport {
    pub stream_id: String,
    pub records: u64,
    pub checkpoints: u64,
    pub last_seq: i64,
    /// Records after the newest valid checkpoint: chained, but not yet covered by a signature.
    pub unsigned_tail: u64,
    pub first_break: Option<Break>,
}

/// How far around a record's position a moved record is looked for.
const REORDER_WINDOW: i64 = 16;
/// How many recent hashes are remembered to recognise a link to an earlier record.
const SEEN_WINDOW: usize = 4096;

/// Verifies `records` of `stream_id`, given in `seq` order. `anchor` is the (seq, hash) the
/// first record links to (None: the stream's start). `head` is the stored head, if known.
/// Checkpoints signed with a key not in `keys` count as bad signatures.
pub fn verify_stream(
    stream_id: &str,
    records: impl IntoIterator<Item = AuditRecord>,
    anchor: Option<(i64, Hash)>,
    checkpoints: &[Checkpoint],
    keys: &HashMap<String, VerifyingKey>,
    head: Option<(i64, Hash)>,
) -> StreamReport {
    let (mut prev_seq, mut prev_hash) = anchor.unwrap_or((0, GENESIS));
    let by_seq: BTreeMap<i64, &Checkpoint> = checkpoints.iter().map(|c| (c.seq, c)).collect();
    let mut report =
        StreamReport { stream_id: stream_id.to_string(), records: 0, checkpoints: 0, last_seq: prev_seq, unsigned_tail: 0, first_break: None };
    let brk = |seq: i64, kind: BreakKind, detail: String| Break { stream_id: stream_id.to_string(), seq, kind, detail };
    // Recent (seq, hash) pairs, and the same as a lookup from hash to seq.
    let mut recent: VecDeque<(i64, Hash)> = VecDeque::new();
    let mut seen: HashMap<Hash, i64> = HashMap::new();
    let mut last_signed = prev_seq;

    for r in records {
        report.records += 1;
        let expected = prev_seq + 1;
        let found = if !r.hash_matches() {
            let moved = (r.seq - REORDER_WINDOW..=r.seq + REORDER_WINDOW)
                .filter(|s| *s != r.seq && *s > 0)
                .find(|s| record_hash(&r.stream_id, *s, &r.body, &r.prev_hash) == r.hash);
            Some(match moved {
                Some(s) => brk(r.seq, BreakKind::Reordered, format!("record {} was written as record {s}", r.seq)),
                None => brk(r.seq, BreakKind::Modified, format!("record {} does not match its hash", r.seq)),
            })
        } else if r.seq > expected {
            Some(brk(expected, BreakKind::Missing, format!("records {expected} to {} are missing", r.seq - 1)))
        } else if r.prev_hash != prev_hash {
            let two_back = recent.len().checked_sub(2).map(|i| recent[i].1);
            if two_back == Some(r.prev_hash) {
                Some(brk(prev_seq, BreakKind::Inserted, format!("record {prev_seq} is not part of the original chain")))
            } else if let Some(s) = seen.get(&r.prev_hash) {
                Some(brk(r.seq, BreakKind::Reordered, format!("record {} links to record {s}, not to {prev_seq}", r.seq)))
            } else {
                Some(brk(
                    prev_seq,
                    BreakKind::Modified,
                    format!("record {prev_seq} was changed and re-hashed: record {} recorded another hash for it", r.seq),
                ))
            }
        } else {
            None
        };
        if let Some(b) = found {
            report.first_break = Some(b);
            return report;
        }
        if let Some(cp) = by_seq.get(&r.seq) {
            report.checkpoints += 1;
            if let Some(b) = check_checkpoint(cp, keys, &brk) {
                report.first_break = Some(b);
                return report;
            }
            if cp.head_hash != r.hash {
                report.first_break = Some(brk(
                    r.seq,
                    BreakKind::CheckpointMismatch,
                    format!("the signed checkpoint at record {} names another hash: the chain was rewritten", r.seq),
                ));
                return report;
            }
            last_signed = r.seq;
        }
        recent.push_back((r.seq, r.hash));
        seen.insert(r.hash, r.seq);
        if recent.len() > SEEN_WINDOW {
            if let Some((_, h)) = recent.pop_front() {
                seen.remove(&h);
            }
        }
        prev_seq = r.seq;
        prev_hash = r.hash;
    }
    report.last_seq = prev_seq;
    report.unsigned_tail = (prev_seq - last_signed).max(0) as u64;

    // Checkpoints past the last record, or a head past it, mean the tail was cut.
    if let Some((&seq, cp)) = by_seq.range(prev_seq + 1..).next() {
        report.first_break = check_checkpoint(cp, keys, &brk).or(Some(brk(
            prev_seq + 1,
            BreakKind::Truncated,
            format!("a signed checkpoint covers record {seq}, but the stream ends at {prev_seq}"),
        )));
        return report;
    }
    if let Some((head_seq, head_hash)) = head {
        if head_seq > prev_seq {
            report.first_break =
                Some(brk(prev_seq + 1, BreakKind::Truncated, format!("the stream's head is record {head_seq}, but the records end at {prev_seq}")));
        } else if head_seq == prev_seq && head_hash != prev_hash {
            report.first_break = Some(brk(prev_seq, BreakKind::Modified, format!("record {prev_seq} does not match the stream's head")));
        }
    }
    report
}

fn check_checkpoint(cp: &Checkpoint, keys: &HashMap<String, VerifyingKey>, brk: &impl Fn(i64, BreakKind, String) -> Break) -> Option<Break> {
    match keys.get(&cp.key_id) {
        None => Some(brk(cp.seq, BreakKind::BadSignature, format!("checkpoint {} is signed by unknown key {}", cp.seq, cp.key_id))),
        Some(k) if !checkpoint_signature_ok(cp, k) => {
            Some(brk(cp.seq, BreakKind::BadSignature, format!("checkpoint {} has an invalid signature", cp.seq)))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{chain_next, key_id, sign_checkpoint, NewRecord, SpanRef};
    use chrono::{TimeZone, Utc};
    use ed25519_dalek::SigningKey;
    use uuid::Uuid;

    fn body(i: u32) -> NewRecord {
        NewRecord {
            id: Uuid::from_u128(i as u128 + 1),
            at: Utc.timestamp_opt(1_700_000_000 + i as i64, 123_456_789).unwrap(),
            actor: "worker-a".into(),
            action: "deidentify".into(),
            document_id: Some(Uuid::from_u128(1000 + i as u128)),
            job_id: Some(Uuid::from_u128(2000 + i as u128)),
            detector_version: "deid/1".into(),
            category_counts: [("name".to_string(), 2), ("date".to_string(), i as i64)].into_iter().collect(),
            spans: vec![SpanRef(0, 4, "name".into()), SpanRef(10, 20, "date".into())],
            input_sha256: Some([i as u8; 32]),
            output_sha256: Some([7; 32]),
        }
    }

    fn chain(n: u32) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let (s, h) = out.last().map(|r| (r.seq, r.hash)).unwrap_or((0, GENESIS));
            out.push(chain_next("s1", s, h, body(i)));
        }
        out
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    fn keys() -> HashMap<String, VerifyingKey> {
        let k = key().verifying_key();
        [(key_id(&k), k)].into_iter().collect()
    }

    fn run(records: Vec<AuditRecord>, cps: &[Checkpoint]) -> StreamReport {
        let head = records.last().map(|r| (r.seq, r.hash));
        verify_stream("s1", records, None, cps, &keys(), head)
    }

    #[test]
    fn intact_chain_verifies_with_checkpoints() {
        let c = chain(50);
        let cps = vec![sign_checkpoint(&key(), "s1", 25, c[24].hash, Utc::now())];
        let r = run(c, &cps);
        assert_eq!(r.first_break, None);
        assert_eq!((r.records, r.checkpoints, r.last_seq, r.unsigned_tail), (50, 1, 50, 25));
    }

    #[test]
    fn modified_record_is_located() {
        let mut c = chain(20);
        c[7].body.category_counts.insert("name".into(), 3);
        let b = run(c, &[]).first_break.unwrap();
        assert_eq!((b.seq, b.kind), (8, BreakKind::Modified));
    }

    #[test]
    fn rehashed_record_is_located_by_its_successor() {
        let mut c = chain(20);
        c[7].body.actor = "mallory".into();
        c[7].hash = record_hash("s1", 8, &c[7].body, &c[7].prev_hash);
        let b = run(c, &[]).first_break.unwrap();
        assert_eq!((b.seq, b.kind), (8, BreakKind::Modified));
    }

    #[test]
    fn deleted_records_are_missing() {
        let mut c = chain(20);
        c.drain(4..6);
        let b = run(c, &[]).first_break.unwrap();
        assert_eq!((b.seq, b.kind), (5, BreakKind::Missing));
    }

    #[test]
    fn inserted_record_is_found() {
        let c = chain(10);
        // A forged record 5 linked to record 4; the original 5.. renumbered after it.
        let mut forged: Vec<AuditRecord> = c[..4].to_vec();
        forged.push(chain_next("s1", 4, c[3].hash, body(99)));
        for r in &c[4..] {
            let mut r = r.clone();
            r.seq += 1;
            r.hash = record_hash("s1", r.seq, &r.body, &r.prev_hash);
            forged.push(r);
        }
        let b = run(forged, &[]).first_break.unwrap();
        assert_eq!((b.seq, b.kind), (5, BreakKind::Inserted));
    }

    #[test]
    fn swapped_records_are_reordered() {
        let mut c = chain(10);
        let (a, b) = (c[3].clone(), c[4].clone());
        c[3] = AuditRecord { seq: 4, ..b };
        c[4] = AuditRecord { seq: 5, ..a };
        let br = run(c, &[]).first_break.unwrap();
        assert_eq!((br.seq, br.kind), (4, BreakKind::Reordered));
    }

    #[test]
    fn whole_rewrite_is_caught_by_checkpoint() {
        let c = chain(10);
        let cps = vec![sign_checkpoint(&key(), "s1", 6, c[5].hash, Utc::now())];
        // Rewrite every record from scratch with a changed field: each hash and link is valid.
        let mut rewritten: Vec<AuditRecord> = Vec::new();
        for (i, r) in c.iter().enumerate() {
            let mut b = r.body.clone();
            if i == 2 {
                b.actor = "mallory".into();
            }
            let (s, h) = rewritten.last().map(|r| (r.seq, r.hash)).unwrap_or((0, GENESIS));
            rewritten.push(chain_next("s1", s, h, b));
        }
        let br = run(rewritten, &cps).first_break.unwrap();
        assert_eq!((br.seq, br.kind), (6, BreakKind::CheckpointMismatch));
    }

    #[test]
    fn forged_checkpoint_is_a_bad_signature() {
        let c = chain(10);
        let mut cp = sign_checkpoint(&key(), "s1", 6, c[5].hash, Utc::now());
        cp.signature[0] ^= 1;
        assert_eq!(run(c.clone(), &[cp]).first_break.unwrap().kind, BreakKind::BadSignature);
        let other = sign_checkpoint(&SigningKey::from_bytes(&[1; 32]), "s1", 6, c[5].hash, Utc::now());
        assert_eq!(run(c, &[other]).first_break.unwrap().kind, BreakKind::BadSignature);
    }

    #[test]
    fn truncated_tail_is_found_from_head_and_checkpoints() {
        let c = chain(10);
        let head = Some((10, c[9].hash));
        let r = verify_stream("s1", c[..8].to_vec(), None, &[], &keys(), head);
        assert_eq!(r.first_break.unwrap().kind, BreakKind::Truncated);
        let cps = vec![sign_checkpoint(&key(), "s1", 10, c[9].hash, Utc::now())];
        let r = verify_stream("s1", c[..8].to_vec(), None, &cps, &keys(), None);
        assert_eq!(r.first_break.unwrap().kind, BreakKind::Truncated);
    }

    #[test]
    fn encoding_is_stable() {
        // Pins the canonical encoding: a change here breaks every stored chain.
        let r = chain_next("s1", 0, GENESIS, body(0));
        assert_eq!(crate::format_at(&r.body.at), "2023-11-14T22:13:20.123456Z");
        assert_eq!(hex::encode(r.hash), hex::encode(record_hash("s1", 1, &r.body, &GENESIS)));
        assert_ne!(r.hash, chain_next("s2", 0, GENESIS, body(0)).hash);
    }
}

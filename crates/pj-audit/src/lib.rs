//! The de-ID audit log's contract, shared by the platform worker (writer) and Vigil (verifier).
//!
//! Record hash (version 1): `SHA-256("pj-audit/1\n" ‖ field…)` where each field is written as
//! `<byte length>:<bytes>\n`, in this order: stream_id, seq, id, at, actor, action, document_id,
//! job_id, detector_version, category_counts, spans, input_sha256, output_sha256, prev_hash.
//! Numbers are decimal; `at` is RFC 3339 UTC with exactly 6 fraction digits; ids are lower-case
//! hyphenated UUIDs or empty; hashes are lower-case hex or empty; `category_counts` is compact JSON
//! with keys sorted; `spans` is compact JSON `[[start,end,"category"],…]` in document order.
//! The first record of a stream links to 32 zero bytes.
//!
//! Checkpoint (version 1): Ed25519 over `"pj-audit-checkpoint/1\n" ‖ stream_id, seq, head_hash,
//! at` (same field encoding). `key_id` = first 16 hex digits of SHA-256(public key).

pub mod keys;
#[cfg(feature = "pg")]
pub mod pg;
mod verify;

pub use verify::{verify_stream, Break, BreakKind, StreamReport};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

pub type Hash = [u8; 32];
pub const GENESIS: Hash = [0u8; 32];

/// One offset range of detected PHI: start and end are character offsets in the extracted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanRef(pub u32, pub u32, pub String);

/// What a writer supplies for a new record; the chain fields are added by [`chain_next`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub document_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub detector_version: String,
    pub category_counts: BTreeMap<String, i64>,
    pub spans: Vec<SpanRef>,
    pub input_sha256: Option<Hash>,
    pub output_sha256: Option<Hash>,
}

/// A record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub stream_id: String,
    pub seq: i64,
    pub body: NewRecord,
    pub prev_hash: Hash,
    pub hash: Hash,
}

/// Timestamps are kept to the microsecond, as PostgreSQL stores them.
pub fn truncate_at(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

pub fn format_at(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn counts_json(counts: &BTreeMap<String, i64>) -> String {
    serde_json::to_string(counts).expect("a map of numbers serializes")
}

pub fn spans_json(spans: &[SpanRef]) -> String {
    serde_json::to_string(spans).expect("spans serialize")
}

struct Encoder(Sha256);

impl Encoder {
    fn new(tag: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(tag);
        Encoder(h)
    }
    fn field(&mut self, value: &str) -> &mut Self {
        self.0.update(value.len().to_string().as_bytes());
        self.0.update(b":");
        self.0.update(value.as_bytes());
        self.0.update(b"\n");
        self
    }
    fn finish(self) -> Hash {
        self.0.finalize().into()
    }
}

fn opt_uuid(u: &Option<Uuid>) -> String {
    u.map(|u| u.hyphenated().to_string()).unwrap_or_default()
}

fn opt_hash(h: &Option<Hash>) -> String {
    h.map(hex::encode).unwrap_or_default()
}

/// The hash of a record at `seq` of `stream_id` whose predecessor hashed to `prev_hash`.
pub fn record_hash(stream_id: &str, seq: i64, body: &NewRecord, prev_hash: &Hash) -> Hash {
    let mut e = Encoder::new(b"pj-audit/1\n");
    e.field(stream_id)
        .field(&seq.to_string())
        .field(&body.id.hyphenated().to_string())
        .field(&format_at(&body.at))
        .field(&body.actor)
        .field(&body.action)
        .field(&opt_uuid(&body.document_id))
        .field(&opt_uuid(&body.job_id))
        .field(&body.detector_version)
        .field(&counts_json(&body.category_counts))
        .field(&spans_json(&body.spans))
        .field(&opt_hash(&body.input_sha256))
        .field(&opt_hash(&body.output_sha256))
        .field(&hex::encode(prev_hash));
    e.finish()
}

/// Links `body` after a head at (`head_seq`, `head_hash`).
pub fn chain_next(stream_id: &str, head_seq: i64, head_hash: Hash, mut body: NewRecord) -> AuditRecord {
    body.at = truncate_at(body.at);
    let seq = head_seq + 1;
    let hash = record_hash(stream_id, seq, &body, &head_hash);
    AuditRecord { stream_id: stream_id.to_string(), seq, body, prev_hash: head_hash, hash }
}

impl AuditRecord {
    /// Whether the stored hash matches the record's content.
    pub fn hash_matches(&self) -> bool {
        record_hash(&self.stream_id, self.seq, &self.body, &self.prev_hash) == self.hash
    }
}

/// A signed statement that `stream_id`'s head was `head_hash` at `seq`.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub stream_id: String,
    pub seq: i64,
    pub head_hash: Hash,
    pub at: DateTime<Utc>,
    pub key_id: String,
    pub signature: [u8; 64],
}

fn checkpoint_message(stream_id: &str, seq: i64, head_hash: &Hash, at: &DateTime<Utc>) -> Hash {
    let mut e = Encoder::new(b"pj-audit-checkpoint/1\n");
    e.field(stream_id).field(&seq.to_string()).field(&hex::encode(head_hash)).field(&format_at(at));
    e.finish()
}

/// The key id of a public key: the first 16 hex digits of its SHA-256.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))[..16].to_string()
}

/// Signs the head of a stream.
pub fn sign_checkpoint(key: &SigningKey, stream_id: &str, seq: i64, head_hash: Hash, at: DateTime<Utc>) -> Checkpoint {
    let at = truncate_at(at);
    let msg = checkpoint_message(stream_id, seq, &head_hash, &at);
    Checkpoint { stream_id: stream_id.to_string(), seq, head_hash, at, key_id: key_id(&key.verifying_key()), signature: key.sign(&msg).to_bytes() }
}

/// Whether `cp` carries a valid signature by `key`.
pub fn checkpoint_signature_ok(cp: &Checkpoint, key: &VerifyingKey) -> bool {
    let msg = checkpoint_message(&cp.stream_id, cp.seq, &cp.head_hash, &cp.at);
    key.verify(&msg, &Signature::from_bytes(&cp.signature)).is_ok()
}

/// Parses a 32-byte Ed25519 seed given as 64 hex digits.
pub fn signing_key_from_hex(seed_hex: &str) -> Result<SigningKey, String> {
    let bytes = hex::decode(seed_hex.trim()).map_err(|e| format!("the signing key is not hex: {e}"))?;
    let seed: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| format!("the signing key must be 32 bytes (64 hex digits), got {}", b.len()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Parses a 32-byte Ed25519 public key given as 64 hex digits.
pub fn verifying_key_from_hex(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes = hex::decode(hex_key.trim()).map_err(|e| format!("the public key is not hex: {e}"))?;
    let raw: [u8; 32] = bytes.try_into().map_err(|_| "the public key must be 32 bytes (64 hex digits)".to_string())?;
    VerifyingKey::from_bytes(&raw).map_err(|e| format!("not an Ed25519 public key: {e}"))
}

pub use ed25519_dalek::{SigningKey as Ed25519SigningKey, VerifyingKey as Ed25519VerifyingKey};

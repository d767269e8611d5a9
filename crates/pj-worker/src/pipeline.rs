//! One queue message: which objects it names, and each object's job from S3 through
//! extraction and de-identification to the documents table, the audit log and the output
//! prefix. Failures are classified: permanent ones quarantine the file and end the job,
//! transient ones leave the message for a later attempt (and the dead-letter queue after the
//! queue's attempt limit).

use crate::aws::s3::{decode_event_key, GetError, S3};
use crate::db::{counts_by_name, Completion, Db, JobStart, JobState, NewDocument};
use crate::deid::{self, DETECTOR_VERSION};
use crate::extract::{self, Ocr};
use crate::metrics::Metrics;
use chrono::Utc;
use pj_audit::{NewRecord, SpanRef};
use pj_contract::jobs;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{info, warn, Instrument};
use uuid::Uuid;

/// Namespace for job ids: a job id is derived from the queue message id, so a redelivered
/// message continues the same job.
const JOB_NAMESPACE: Uuid = Uuid::from_u128(0x7f3c_2a1e_5b9d_4c61_9e0a_3d2f_6b8c_1a47);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    /// The failed job a retry request retries (`retry_of`), when it names one.
    pub retry_of: Option<Uuid>,
}

impl ObjectRef {
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// The objects a message names: an S3 event notification (`Records[].s3`), or a retry
/// request `{"bucket": "...", "key": "..."}`. S3's test event names none.
pub fn parse_message(body: &str) -> Result<Vec<ObjectRef>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("the message is not JSON ({e})"))?;
    if v.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    if let Some(records) = v.get("Records").and_then(|r| r.as_array()) {
        return records
            .iter()
            .filter(|r| r.get("eventName").and_then(|n| n.as_str()).is_none_or(|n| n.starts_with("ObjectCreated")))
            .map(|r| {
                let bucket = r.pointer("/s3/bucket/name").and_then(|b| b.as_str());
                let key = r.pointer("/s3/object/key").and_then(|k| k.as_str());
                match (bucket, key) {
                    (Some(b), Some(k)) => Ok(ObjectRef { bucket: b.to_string(), key: decode_event_key(k), retry_of: None }),
                    _ => Err("an S3 event record without bucket name or object key".to_string()),
                }
            })
            .collect();
    }
    match pj_contract::queue::RetryRequest::parse(&v) {
        Some(r) => {
            let retry_of = match r.retry_of.as_deref().map(Uuid::parse_str).transpose() {
                Ok(id) => id,
                Err(_) => return Err(format!("the retry request's retry_of `{}` is not a job id", r.retry_of.unwrap_or_default())),
            };
            Ok(vec![ObjectRef { bucket: r.bucket, key: r.key, retry_of }])
        }
        None => Err("the message is neither an S3 event nor a {bucket, key} request".into()),
    }
}

pub fn job_id(message_id: &str, index: usize) -> Uuid {
    Uuid::new_v5(&JOB_NAMESPACE, format!("{message_id}#{index}").as_bytes())
}

/// Where things go, and how documents are de-identified.
#[derive(Debug, Clone)]
pub struct Layout {
    pub input_prefix: String,
    pub output_bucket: Option<String>,
    pub output_prefix: String,
    pub quarantine_prefix: String,
    pub max_bytes: u64,
}

impl Layout {
    fn relative<'k>(&self, key: &'k str) -> &'k str {
        key.strip_prefix(&self.input_prefix).unwrap_or(key)
    }
    fn out_bucket<'a>(&'a self, obj: &'a ObjectRef) -> &'a str {
        self.output_bucket.as_deref().unwrap_or(&obj.bucket)
    }
    pub fn output_key(&self, key: &str) -> String {
        format!("{}{}.deid.txt", self.output_prefix, self.relative(key))
    }
    pub fn quarantine_key(&self, key: &str) -> String {
        format!("{}{}", self.quarantine_prefix, self.relative(key))
    }
}

pub struct Context {
    pub s3: S3,
    pub db: Db,
    pub metrics: Arc<Metrics>,
    pub layout: Layout,
    pub ocr: Ocr,
    pub deid: deid::Options,
    pub worker_id: String,
    pub stream_id: String,
    /// Audit records this worker appended (drives checkpoints every N records).
    pub appended: AtomicU64,
}

/// Why a job's attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub class: String,
    pub message: String,
    pub permanent: bool,
}

impl JobError {
    /// A failure of `class` (the contract says whether a retry can help).
    fn of(class: pj_contract::jobs::ErrorClass, message: impl Into<String>) -> JobError {
        JobError { class: class.name.into(), message: message.into(), permanent: class.permanent }
    }
}

/// What to do with the message once its objects were handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Delete,
    /// Leave it for another attempt after this delay.
    Retry(Duration),
}

/// Delay before attempt `attempt + 1`: doubling from `base`, at most 15 minutes.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let factor = 1u32 << attempt.clamp(0, 10) as u32;
    (base * factor).min(Duration::from_secs(900))
}

/// Handles one message delivered for the `attempt`-th time.
pub async fn handle(ctx: &Context, message_id: &str, body: &str, attempt: i32, max_attempts: i32, retry_base: Duration) -> Disposition {
    let objects = match parse_message(body) {
        Ok(o) => o,
        Err(e) => {
            // Nothing to record it against: left for the dead-letter queue, where it can be read.
            warn!(message_id, attempt, error = %e, "unreadable message; it goes to the dead-letter queue after {max_attempts} attempts");
            return Disposition::Retry(backoff(retry_base, attempt));
        }
    };
    let mut retry = false;
    for (i, obj) in objects.iter().enumerate() {
        let id = job_id(message_id, i);
        let span = tracing::info_span!("job", job_id = %id, source = %obj.uri(), attempt);
        let ok = handle_object(ctx, id, obj, attempt, max_attempts).instrument(span).await;
        retry |= !ok;
    }
    if retry {
        Disposition::Retry(backoff(retry_base, attempt))
    } else {
        Disposition::Delete
    }
}

/// Returns false when the object needs another attempt.
async fn handle_object(ctx: &Context, id: Uuid, obj: &ObjectRef, attempt: i32, max_attempts: i32) -> bool {
    let uri = obj.uri();
    let start = JobStart { id, kind: "deidentify", source_uri: &uri, attempt, max_attempts, worker_id: &ctx.worker_id };
    match ctx.db.job_started(&start).await {
        Ok(JobState::AlreadyDone) => {
            info!("already done (redelivered after commit)");
            return true;
        }
        Ok(JobState::Started) => {}
        Err(e) => {
            warn!(error = %e, "database unavailable; the message will be retried");
            return false;
        }
    }
    if let Some(original) = obj.retry_of {
        if let Err(e) = ctx.db.job_retried(original, id).await {
            warn!(error = %e, "database unavailable; the message will be retried");
            return false;
        }
    }
    let started = Instant::now();
    match process(ctx, id, obj).await {
        Ok((Completion::Created(doc), bytes, phi)) => {
            ctx.metrics.document(started.elapsed(), bytes, &phi);
            info!(document_id = %doc, ms = started.elapsed().as_millis() as u64, "de-identified");
            true
        }
        Ok((Completion::Duplicate(doc), _, _)) => {
            info!(document_id = %doc, "same content already de-identified; no new document");
            true
        }
        Err(e) => fail(ctx, id, obj, attempt, max_attempts, e).await,
    }
}

async fn fail(ctx: &Context, id: Uuid, obj: &ObjectRef, attempt: i32, max_attempts: i32, e: JobError) -> bool {
    let last = e.permanent || attempt >= max_attempts;
    ctx.metrics.failure(&e.class);
    if last {
        let reason = serde_json::json!({
            "job_id": id.to_string(), "source": obj.uri(), "error_class": e.class, "error": e.message,
            "permanent": e.permanent, "attempts": attempt, "at": Utc::now().to_rfc3339(),
        });
        let dest = ctx.layout.quarantine_key(&obj.key);
        if let Err(q) = ctx.s3.quarantine(&obj.bucket, &obj.key, ctx.layout.out_bucket(obj), &dest, &reason).await {
            // Never drop a file unrecorded: without its quarantine copy, the message stays.
            if e.class != "source_missing" {
                warn!(error = %q, "quarantine copy failed; the message will be retried");
                let _ = ctx.db.job_failed(id, &e.class, &e.message, e.permanent, false).await;
                return false;
            }
        }
    }
    let msg = if !e.permanent && last {
        format!("{} (attempt {attempt} of {max_attempts}; the message goes to the dead-letter queue)", e.message)
    } else {
        e.message.clone()
    };
    if let Err(db) = ctx.db.job_failed(id, &e.class, &msg, e.permanent, last).await {
        warn!(error = %db, "could not record the failure; the message will be retried");
        return false;
    }
    warn!(error_class = %e.class, permanent = e.permanent, final_attempt = last, error = %msg, "job failed");
    // Permanent failures are done with (quarantined); transient ones go back to the queue.
    e.permanent
}

type Processed = (Completion, u64, BTreeMap<&'static str, u64>);

async fn process(ctx: &Context, job_id: Uuid, obj: &ObjectRef) -> Result<Processed, JobError> {
    let object = ctx.s3.get(&obj.bucket, &obj.key, ctx.layout.max_bytes).await.map_err(|e| match e {
        GetError::Missing => JobError::of(jobs::SOURCE_MISSING, e.to_string()),
        GetError::TooLarge(_) => JobError::of(jobs::TOO_LARGE, e.to_string()),
        GetError::Unavailable(m) => JobError::of(jobs::S3_UNAVAILABLE, m),
    })?;
    let bytes = object.bytes.len() as u64;
    let sha: [u8; 32] = Sha256::digest(&object.bytes).into();
    let db_err = |e: sqlx::Error| JobError::of(jobs::DATABASE, e.to_string());
    if let Some(doc) = ctx.db.find_document(&sha, DETECTOR_VERSION).await.map_err(db_err)? {
        ctx.db.job_duplicate(job_id, doc, &sha, DETECTOR_VERSION).await.map_err(db_err)?;
        return Ok((Completion::Duplicate(doc), bytes, BTreeMap::new()));
    }
    let extracted = extract::extract(object.bytes, &ctx.ocr).await.map_err(|e| JobError {
        class: e.class().into(),
        message: e.to_string(),
        permanent: e.permanent(),
    })?;
    let patient = object.metadata.get("patient-id").cloned();
    let opts = ctx.deid.clone();
    let text = extracted.text;
    let d = tokio::task::spawn_blocking(move || {
        let d = deid::deidentify(&text, &opts, patient.as_deref(), &sha);
        let spans = char_spans(&text, &d.spans);
        (d, spans, text.chars().count())
    })
    .await
    .map_err(|e| JobError::of(jobs::INTERNAL, format!("de-identification stopped: {e}")))?;
    let (deidentified, spans, characters) = d;
    let out_key = ctx.layout.output_key(&obj.key);
    let out_bucket = ctx.layout.out_bucket(obj).to_string();
    let out_bytes = deidentified.text.into_bytes();
    let out_sha: [u8; 32] = Sha256::digest(&out_bytes).into();
    ctx.s3
        .put(
            &out_bucket,
            &out_key,
            out_bytes,
            "text/plain; charset=utf-8",
            &[("detector-version", DETECTOR_VERSION), ("job-id", &job_id.to_string())],
        )
        .await
        .map_err(|e| JobError::of(jobs::S3_UNAVAILABLE, e))?;
    let counts = counts_by_name(&deidentified.counts);
    let phi: BTreeMap<&'static str, u64> = deidentified.counts.iter().map(|(c, n)| (c.as_str(), *n as u64)).collect();
    let doc = NewDocument {
        source_uri: obj.uri(),
        source_sha256: sha,
        detector_version: DETECTOR_VERSION.into(),
        media_type: extracted.media.mime().into(),
        pages: extracted.pages as i32,
        characters: characters as i64,
        output_uri: format!("s3://{out_bucket}/{out_key}"),
        output_sha256: out_sha,
    };
    let audit = NewRecord {
        id: Uuid::new_v4(),
        at: Utc::now(),
        actor: format!("worker:{}", ctx.worker_id),
        action: "deidentify".into(),
        document_id: Some(Uuid::new_v4()),
        job_id: Some(job_id),
        detector_version: DETECTOR_VERSION.into(),
        category_counts: counts,
        spans,
        input_sha256: Some(sha),
        output_sha256: Some(out_sha),
    };
    let (completion, record) = ctx.db.complete(job_id, &doc, &ctx.stream_id, audit).await.map_err(db_err)?;
    if record.is_some() {
        ctx.appended.fetch_add(1, Ordering::Relaxed);
    }
    Ok((completion, bytes, phi))
}

/// Byte spans as character offsets, with the category name (never the text).
fn char_spans(text: &str, spans: &[deid::Span]) -> Vec<SpanRef> {
    let mut out = Vec::with_capacity(spans.len());
    let (mut byte, mut chars) = (0usize, 0u32);
    let mut advance = |to: usize| {
        chars += text[byte..to].chars().count() as u32;
        byte = to;
        chars
    };
    for s in spans {
        let start = advance(s.start);
        let end = advance(s.end);
        out.push(SpanRef(start, end, s.category.as_str().to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_parse() {
        let ev = r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"pj"},"object":{"key":"input/a+note.txt","size":5}}}]}"#;
        assert_eq!(parse_message(ev).unwrap(), vec![ObjectRef { bucket: "pj".into(), key: "input/a note.txt".into(), retry_of: None }]);
        assert_eq!(parse_message(r#"{"Event":"s3:TestEvent"}"#).unwrap(), vec![]);
        assert_eq!(parse_message(r#"{"bucket":"b","key":"k"}"#).unwrap().len(), 1);
        let id = Uuid::new_v4();
        let retry = pj_contract::queue::RetryRequest { bucket: "b".into(), key: "k".into(), retry_of: Some(id.to_string()) };
        assert_eq!(parse_message(&retry.body()).unwrap()[0].retry_of, Some(id));
        assert!(parse_message(r#"{"bucket":"b","key":"k","retry_of":"nope"}"#).unwrap_err().contains("not a job id"));
        assert!(parse_message("not json").is_err());
        assert!(parse_message(r#"{"hello":1}"#).is_err());
        let removed = r#"{"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"pj"},"object":{"key":"x"}}}]}"#;
        assert_eq!(parse_message(removed).unwrap(), vec![]);
    }

    #[test]
    fn job_ids_follow_the_message() {
        assert_eq!(job_id("m-1", 0), job_id("m-1", 0));
        assert_ne!(job_id("m-1", 0), job_id("m-1", 1));
        assert_ne!(job_id("m-1", 0), job_id("m-2", 0));
    }

    #[test]
    fn layout_keys() {
        let l = Layout {
            input_prefix: "input/".into(),
            output_bucket: None,
            output_prefix: "deidentified/".into(),
            quarantine_prefix: "quarantine/".into(),
            max_bytes: 1,
        };
        assert_eq!(l.output_key("input/2024/n.pdf"), "deidentified/2024/n.pdf.deid.txt");
        assert_eq!(l.quarantine_key("input/2024/n.pdf"), "quarantine/2024/n.pdf");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_secs(10);
        assert_eq!(backoff(b, 1), Duration::from_secs(20));
        assert_eq!(backoff(b, 3), Duration::from_secs(80));
        assert_eq!(backoff(b, 30), Duration::from_secs(900));
    }

    #[test]
    fn spans_become_character_offsets() {
        let t = "é Dr. Okafor";
        let spans = deid::detect(t);
        assert_eq!(char_spans(t, &spans), vec![SpanRef(6, 12, "name".into())]);
    }
}

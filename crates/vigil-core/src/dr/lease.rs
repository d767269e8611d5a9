//! The DR lease: one console at a time runs a runbook on an environment. The lease is an object
//! in the platform's own account — `s3://<bucket>/vigil/dr/lease.json` in the environment's
//! documents bucket, or the bucket named by the deployment parameter `dr_lease_bucket` — written
//! only with S3's conditional writes: created with If-None-Match (two consoles cannot both
//! create it), renewed and released with If-Match on the holder's ETag (a console that lost it
//! finds out at its next renewal). It is never on the desktop, and never in the database a
//! runbook may be failing over.
//!
//! A lease not renewed for [`TTL`] is stale: its console stopped. Only a stale lease can be
//! broken, with the environment's name typed, and the break is logged with the holder it
//! displaced. The console that held it may take it back to resume its own run.

use crate::error::{Error, Result};
use chrono::{DateTime, Duration as Span, Utc};
use serde::{Deserialize, Serialize};
use vigil_aws::s3::S3;
use vigil_aws::AwsContext;
use vigil_dto::dr::LeaseView;
use vigil_dto::Environment;

/// Where the lease lives in its bucket.
pub const KEY: &str = "vigil/dr/lease.json";
/// A lease not renewed for this long is stale.
pub const TTL: Span = Span::minutes(5);
/// How often a running console renews it.
pub const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The lease object's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    pub environment: String,
    /// The operator and machine ("alice on ops-laptop-3").
    pub holder: String,
    /// The holding console's installation id (kept in its store).
    pub console: String,
    pub run_id: String,
    pub runbook: String,
    pub acquired_at: DateTime<Utc>,
    pub renewed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Body {
    pub fn new(env: &str, holder: &str, console: &str, run_id: &str, runbook: &str, now: DateTime<Utc>) -> Body {
        Body {
            environment: env.to_string(),
            holder: holder.to_string(),
            console: console.to_string(),
            run_id: run_id.to_string(),
            runbook: runbook.to_string(),
            acquired_at: now,
            renewed_at: now,
            expires_at: now + TTL,
        }
    }

    pub fn stale(&self, now: DateTime<Utc>) -> bool {
        self.expires_at < now
    }

    pub fn view(&self, location: &str, now: DateTime<Utc>) -> LeaseView {
        LeaseView {
            environment: self.environment.clone(),
            location: location.to_string(),
            holder: self.holder.clone(),
            console: self.console.clone(),
            run_id: self.run_id.clone(),
            runbook: self.runbook.clone(),
            acquired_at: self.acquired_at.to_rfc3339(),
            renewed_at: self.renewed_at.to_rfc3339(),
            expires_at: self.expires_at.to_rfc3339(),
            stale: self.stale(now),
        }
    }

    fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a lease serialises")
    }
}

/// The bucket the environment's lease lives in.
pub fn bucket(env: &Environment) -> Result<String> {
    env.deployment.get("dr_lease_bucket").or(env.deployment.get("bucket")).cloned().ok_or_else(|| Error::Dr {
        kind: "no_lease_bucket",
        message: format!("{} names no bucket for the DR lease (neither dr_lease_bucket nor the documents bucket)", env.name),
        hint: "deploy the platform (Deploy page), or set the deployment parameter dr_lease_bucket to a bucket of the platform's account".into(),
    })
}

/// A lease this console holds.
#[derive(Debug, Clone)]
pub struct Lease {
    pub bucket: String,
    pub etag: String,
    pub body: Body,
}

/// What trying to take the lease found.
#[derive(Debug)]
pub enum Taken {
    Held(Lease),
    /// Another run holds it (this console's other run, or another console's).
    Refused(Body),
}

fn read(text: &str, bucket: &str) -> Result<Body> {
    serde_json::from_str(text).map_err(|e| Error::Dr {
        kind: "lease_unreadable",
        message: format!("s3://{bucket}/{KEY} is not a Vigil DR lease ({e})"),
        hint: "someone wrote it by hand: check who, then remove it (aws s3 rm) if no runbook is running".into(),
    })
}

/// The lease as it stands, with its ETag.
pub async fn current(ctx: &AwsContext, op: &str, bucket: &str) -> Result<Option<(Body, String)>> {
    match S3::new(ctx, op).get_text(bucket, KEY).await? {
        None => Ok(None),
        Some((text, etag)) => Ok(Some((read(&text, bucket)?, etag))),
    }
}

/// Takes the lease for `body`'s run: creates it if there is none; takes it back if it is this
/// console's lease for the same run (a resume after a crash); else says who holds it.
pub async fn take(ctx: &AwsContext, op: &str, bucket: &str, body: Body) -> Result<Taken> {
    let s3 = S3::new(ctx, op);
    // Two rounds: the lease may be released between our create and our read.
    for _ in 0..2 {
        if let Some(etag) = s3.put_text_if(bucket, KEY, &body.json(), None).await? {
            return Ok(Taken::Held(Lease { bucket: bucket.to_string(), etag, body }));
        }
        let Some((held, etag)) = current(ctx, op, bucket).await? else { continue };
        if held.console == body.console && held.run_id == body.run_id {
            let mut body = body.clone();
            body.acquired_at = held.acquired_at;
            if let Some(etag) = s3.put_text_if(bucket, KEY, &body.json(), Some(&etag)).await? {
                return Ok(Taken::Held(Lease { bucket: bucket.to_string(), etag, body }));
            }
            continue;
        }
        return Ok(Taken::Refused(held));
    }
    Err(lost(bucket))
}

fn lost(bucket: &str) -> Error {
    Error::Dr {
        kind: "lease_lost",
        message: format!("the DR lease in s3://{bucket}/{KEY} changed under this console: another console broke or took it"),
        hint: "the run is paused where it stands; see who holds the lease (`vigil dr lease`) before resuming".into(),
    }
}

impl Lease {
    /// Renews it until `now + TTL`; fails with `lease_lost` when it is no longer this one.
    pub async fn renew(&mut self, ctx: &AwsContext, op: &str, now: DateTime<Utc>) -> Result<()> {
        let mut body = self.body.clone();
        body.renewed_at = now;
        body.expires_at = now + TTL;
        match S3::new(ctx, op).put_text_if(&self.bucket, KEY, &body.json(), Some(&self.etag)).await? {
            Some(etag) => {
                self.etag = etag;
                self.body = body;
                Ok(())
            }
            None => Err(lost(&self.bucket)),
        }
    }

    /// Gives it up (only if it is still this one).
    pub async fn release(&self, ctx: &AwsContext, op: &str) -> Result<bool> {
        Ok(S3::new(ctx, op).delete_if(&self.bucket, KEY, &self.etag).await?)
    }
}

/// Breaks a stale lease (`confirm` must be the environment's name): removed only if it is still
/// the one read. Returns the lease that was broken.
pub async fn break_stale(ctx: &AwsContext, op: &str, env: &Environment, confirm: &str, now: DateTime<Utc>) -> Result<(Body, String)> {
    let bucket = bucket(env)?;
    if !confirm.trim().eq_ignore_ascii_case(&env.name) {
        return Err(Error::Dr {
            kind: "confirmation_required",
            message: format!("breaking the DR lease needs the environment's name typed: `{}`", env.name),
            hint: format!("type {} to confirm", env.name),
        });
    }
    let Some((held, etag)) = current(ctx, op, &bucket).await? else {
        return Err(Error::Dr {
            kind: "no_lease",
            message: format!("no console holds the DR lease of {}", env.name),
            hint: "nothing to break".into(),
        });
    };
    if !held.stale(now) {
        return Err(Error::Dr {
            kind: "lease_not_stale",
            message: format!(
                "{} holds the DR lease for {} (run {}), renewed at {}: it is not stale until {}",
                held.holder,
                held.runbook,
                held.run_id,
                held.renewed_at.to_rfc3339(),
                held.expires_at.to_rfc3339()
            ),
            hint: format!("ask {} to finish or stop the run; a lease can be broken only once its console stopped renewing it", held.holder),
        });
    }
    if !S3::new(ctx, op).delete_if(&bucket, KEY, &etag).await? {
        return Err(lost(&bucket));
    }
    Ok((held, format!("s3://{bucket}/{KEY}")))
}

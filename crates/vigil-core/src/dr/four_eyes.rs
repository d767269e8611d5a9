//! Four eyes: where the environment asks for it (deployment parameter `dr_four_eyes=on`), a
//! destructive step waits, after its operator's typed approval, for a second person. The run
//! writes its request into the platform's bucket beside the lease
//! (`vigil/dr/approvals/<run>/<step>.json`: what is approved, who asked, their AWS identity, a
//! nonce); the second person, on another console or the CLI (`vigil dr second-approve`), signed
//! in as another AWS identity, gets a one-time code, of which only a hash (with the nonce) is
//! written back (`….approval.json`, created once). The operator types the code; the run checks
//! it against the hash and that the two identities differ, then removes both objects.

use super::Dr;
use crate::aws::{self, AwsContext};
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use vigil_aws::s3::S3;
use vigil_dto::dr::SecondApproval;
use vigil_dto::Environment;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub run: String,
    pub step: String,
    pub runbook: String,
    pub action: String,
    pub requested_by: String,
    pub requester_arn: String,
    pub nonce: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Given {
    approver: String,
    approver_arn: String,
    code_sha256: String,
    at: String,
}

/// Whether the environment asks for four eyes.
pub fn wanted(env: &Environment) -> bool {
    env.deployment.get("dr_four_eyes").is_some_and(|v| crate::policy::parse_flag(v) == Some(true))
}

fn key(run: &str, step: &str) -> String {
    format!("vigil/dr/approvals/{run}/{}.json", step.replace('/', "_"))
}

fn given_key(run: &str, step: &str) -> String {
    format!("vigil/dr/approvals/{run}/{}.approval.json", step.replace('/', "_"))
}

fn hash(nonce: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{nonce}:{}", code.trim().to_ascii_uppercase()).as_bytes()))
}

fn random(n: usize, alphabet: &[u8]) -> String {
    let mut out = String::new();
    while out.len() < n {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < n {
                out.push(alphabet[*b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// Asks for the second approval of `step` (again, after a resume: the request stands).
pub async fn ask(ctx: &AwsContext, op: &str, bucket: &str, mut req: Request) -> Result<Request> {
    let s3 = S3::new(ctx, op);
    if let Some((text, _)) = s3.get_text(bucket, &key(&req.run, &req.step)).await? {
        if let Ok(existing) = serde_json::from_str::<Request>(&text) {
            return Ok(existing);
        }
    }
    req.requester_arn = vigil_aws::sts::caller_identity(ctx, op).await?.arn;
    req.nonce = random(32, b"0123456789abcdef");
    s3.put_text_if(bucket, &key(&req.run, &req.step), &serde_json::to_string_pretty(&req).expect("serialises"), None).await?;
    Ok(req)
}

/// The request for `step` of `run`, if one stands.
pub async fn request(ctx: &AwsContext, op: &str, bucket: &str, run: &str, step: &str) -> Result<Option<Request>> {
    match S3::new(ctx, op).get_text(bucket, &key(run, step)).await? {
        None => Ok(None),
        Some((text, _)) => Ok(serde_json::from_str(&text).ok()),
    }
}

/// Checks the code typed for `req` against the second person's approval; Ok(approver) when it
/// holds, and both objects are removed (the code is used once).
pub async fn check(ctx: &AwsContext, op: &str, bucket: &str, req: &Request, typed: &str) -> Result<(String, String)> {
    let s3 = S3::new(ctx, op);
    let Some((text, etag)) = s3.get_text(bucket, &given_key(&req.run, &req.step)).await? else {
        return Err(Error::Dr {
            kind: "no_second_approval",
            message: format!("nobody has approved step {} of run {} yet", req.step, req.run),
            hint: format!(
                "a second person, signed in as another AWS identity, runs `vigil dr second-approve {} {}` and gives you its code",
                req.run, req.step
            ),
        });
    };
    let given: Given = serde_json::from_str(&text).map_err(|e| Error::validation("approval", format!("the second approval cannot be read: {e}")))?;
    if given.approver_arn == req.requester_arn {
        return Err(Error::Dr {
            kind: "four_eyes_same_person",
            message: "the approval was given by the identity that asked for it".into(),
            hint: "a second person must approve".into(),
        });
    }
    if hash(&req.nonce, typed) != given.code_sha256 {
        return Err(Error::Dr {
            kind: "confirmation_required",
            message: format!("that is not the code {} was given", given.approver),
            hint: "type the one-time code the second person read out".into(),
        });
    }
    s3.delete_if(bucket, &given_key(&req.run, &req.step), &etag).await?;
    if let Some((_, etag)) = s3.get_text(bucket, &key(&req.run, &req.step)).await? {
        s3.delete_if(bucket, &key(&req.run, &req.step), &etag).await?;
    }
    Ok((given.approver, given.approver_arn))
}

impl Dr<'_> {
    /// Gives the second approval of `step` of run `run` (asked for by another console): refused
    /// to the identity that asked. Returns the one-time code for the operator.
    pub async fn second_approve(&self, run: &str, step: &str) -> Result<SecondApproval> {
        self.policy().require(Change::RunRunbook)?;
        let env = self.current().await?;
        let bucket = super::lease::bucket(&env)?;
        let ctx = self.lease_context(&env).await;
        let op = aws::new_op_id();
        let s3 = S3::new(&ctx, &op);
        let Some((text, _)) = s3.get_text(&bucket, &key(run, step)).await? else {
            return Err(Error::Dr {
                kind: "not_found",
                message: format!("no approval of step {step} of run {run} is asked for on {}", env.name),
                hint: "check the run and step the operator named (`vigil dr runs` on their console)".into(),
            });
        };
        let req: Request = serde_json::from_str(&text).map_err(|e| Error::validation("approval", format!("the request cannot be read: {e}")))?;
        let me = vigil_aws::sts::caller_identity(&ctx, &op).await?;
        if me.arn == req.requester_arn {
            return Err(Error::Dr {
                kind: "four_eyes_same_person",
                message: format!("{} asked for this approval as {}: a second person must give it", req.requested_by, req.requester_arn),
                hint: "sign in as your own AWS identity (another profile) on your own console or CLI".into(),
            });
        }
        let code = random(8, b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789");
        let given = Given {
            approver: self.actor.clone(),
            approver_arn: me.arn.clone(),
            code_sha256: hash(&req.nonce, &code),
            at: chrono::Utc::now().to_rfc3339(),
        };
        if s3.put_text_if(&bucket, &given_key(run, step), &serde_json::to_string_pretty(&given).expect("serialises"), None).await?.is_none() {
            return Err(Error::Dr {
                kind: "already_approved",
                message: format!("step {step} of run {run} is already approved"),
                hint: "the operator has its code".into(),
            });
        }
        self.log(Record::new("dr.second_approval_given", &env.name, json!({ "run": run, "step": step, "action": req.action, "requested_by": req.requested_by, "requester_arn": req.requester_arn, "approver_arn": me.arn })).op(&op)).await?;
        Ok(SecondApproval { run: run.into(), step: step.into(), action: req.action, requested_by: req.requested_by, code })
    }
}

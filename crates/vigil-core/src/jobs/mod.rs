//! Job failures: the platform's job ledger, failures grouped by error class with what each
//! means (the contract, `pj_contract::jobs`), a job's log lines from CloudWatch Logs, and
//! retries through the platform's work queue. Operator-log action: `jobs.retry`.
//!
//! `ledger` reads the jobs table and holds the retry rules.

pub mod ledger;

use crate::app::area;
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::platform_db::with_db;
use crate::policy::Change;
use serde_json::json;

area!(
    /// The jobs area (`app.jobs()`).
    Jobs
);

impl Jobs<'_> {
    pub async fn list(&self, filter: &vigil_dto::JobFilter, cursor: Option<&(String, String)>, limit: u32) -> Result<vigil_dto::JobPage> {
        let q = ledger::parse(filter)?;
        with_db(self.core, |_env, pool| async move { ledger::list(&pool, &q, cursor, limit).await }).await
    }

    pub async fn failures(&self, filter: &vigil_dto::JobFilter) -> Result<Vec<vigil_dto::FailureGroup>> {
        let q = ledger::parse(filter)?;
        with_db(self.core, |_env, pool| async move { ledger::failure_groups(&pool, &q).await }).await
    }

    /// One job and its log lines from the environment's log group (a failure to read them is
    /// reported beside the job, not instead of it).
    pub async fn detail(&self, id: &str) -> Result<vigil_dto::JobDetail> {
        with_db(self.core, |env, pool| async move {
            let job = ledger::get(&pool, id).await?;
            let (logs, logs_error) = match env.deployment.get("log_group") {
                None => (vec![], Some(format!("no log group is named for {}: set `log_group` under Environments → Edit → Deployment", env.name))),
                Some(group) => {
                    let ms =
                        |s: &Option<String>| s.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|d| d.timestamp_millis());
                    let start = ms(&Some(job.created_at.clone())).unwrap_or(0) - 60_000;
                    let end = ms(&job.finished_at).map(|t| t + 60_000).unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
                    let ctx = self.aws_context(&env).await;
                    match aws::logs::job_lines(&ctx, &aws::new_op_id(), group, &job.id, start, end, 500).await {
                        Ok(lines) => (lines, None),
                        Err(e) => {
                            let hint = e.hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
                            (vec![], Some(format!("the log lines could not be read from {group}: {e}{hint}")))
                        }
                    }
                }
            };
            let meaning = job.error_class.as_deref().map(|c| ledger::meaning(c).to_string());
            Ok(vigil_dto::JobDetail { job, meaning, logs, logs_error })
        })
        .await
    }

    /// Re-queues failed jobs through the platform's queue: `job` alone, or every failed job of
    /// `class`. Jobs a retry cannot help are skipped with the reason; everything sent is in the
    /// operator log.
    pub async fn retry(&self, job: Option<&str>, class: Option<&str>) -> Result<vigil_dto::RetryReport> {
        self.policy().require(Change::RetryJobs)?;
        with_db(self.core, |env, pool| async move {
            let (candidates, mut skipped) = match (job, class) {
                (Some(id), None) => {
                    let j = ledger::get(&pool, id).await?;
                    match ledger::not_retryable(&j) {
                        Some(why) => return Err(Error::validation("job", format!("job {} will not be retried: {why}", j.id))),
                        None => (vec![j], vec![]),
                    }
                }
                (None, Some(c)) => {
                    let (ok, permanent) = ledger::retryable_of_class(&pool, c).await?;
                    if ok.is_empty() && permanent.is_empty() {
                        return Err(Error::validation("class", format!("no failed job of the error class `{c}` waits for a retry")));
                    }
                    let skipped = permanent.iter().map(|j| (j.id.clone(), ledger::not_retryable(j).unwrap_or_default())).collect();
                    (ok, skipped)
                }
                _ => return Err(Error::validation("job", "name one job, or one error class")),
            };
            // Checked after the jobs, so a job a retry cannot help is refused with its own reason.
            let queue = env.deployment.get("queue_url").cloned().ok_or_else(|| Error::PlatformDb {
                kind: "no_queue",
                message: format!("no work queue is named for {}", env.name),
                hint: format!(
                    "set `queue_url` (the platform's SQS queue URL) under Environments → Edit → Deployment, or `vigil env edit {} --param queue_url=…`",
                    env.name
                ),
            })?;
            let op_id = aws::new_op_id();
            let sqs = aws::sqs::Sqs::new(&self.aws_context(&env).await, &op_id);
            let mut requeued = Vec::new();
            let mut failure = None;
            for j in &candidates {
                let Some((bucket, key)) = ledger::s3_parts(&j.source_uri) else {
                    skipped.push((j.id.clone(), format!("its source `{}` is not an s3:// object", j.source_uri)));
                    continue;
                };
                let request = pj_contract::queue::RetryRequest { bucket, key, retry_of: Some(j.id.clone()) };
                match sqs.send_retry(&queue, &request).await {
                    Ok(message_id) => requeued.push((j.id.clone(), message_id)),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            // What was sent is logged even when a later send failed.
            if !requeued.is_empty() {
                let details = json!({ "queue_url": queue, "class": class, "requeued": requeued });
                self.log(Record::new("jobs.retry", &env.name, details).op(&op_id)).await?;
            }
            if let Some(e) = failure {
                let sent = requeued.len();
                return Err(Error::Aws(e.during(&format!("sending to the work queue stopped after {sent} of {} jobs (those are in the operator log)", candidates.len()))));
            }
            skipped.sort();
            Ok(vigil_dto::RetryReport { requeued, skipped })
        })
        .await
    }
}

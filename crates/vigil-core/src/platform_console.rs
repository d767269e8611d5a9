//! `Console` methods for the platform's database: where it is (per environment, in the
//! operator log), its password (OS keychain only), a pool per environment, and the check.

use crate::aws;
use crate::console::Console;
use crate::environments;
use crate::error::{Error, Result};
use crate::metrics::render;
use crate::oplog;
use crate::platform::connect::{self, DbCheck};
use crate::platform::Progress;
use crate::secrets::db_password_account;
use chrono::Timelike;
use serde_json::json;
use sha2::Digest;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_dto::{DbAuth, Environment, PlatformDb};

/// Pools are reused while their settings hold; IAM tokens live 15 minutes, so an IAM pool is
/// rebuilt after 10 (connections it already holds stay signed in).
pub struct CachedPool {
    settings: PlatformDb,
    made: Instant,
    pool: sqlx::PgPool,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const IAM_POOL_LIFE: Duration = Duration::from_secs(600);

impl Console {
    /// Sets (or with `None` removes) where `env`'s platform database is.
    pub async fn set_platform_db(&self, env: &str, db: Option<PlatformDb>) -> Result<Environment> {
        self.writable("changing the platform database settings")?;
        let before = self.environment(env).await?;
        let mut input = environments::to_input(&before);
        input.platform_db = db.as_ref().map(connect::validate).transpose()?;
        let mut tx = self.store().write().await?;
        let after = environments::update(&mut tx, before.id, &input).await?;
        let details = json!({ "before": before.platform_db, "after": input.platform_db });
        oplog::append(&mut tx, &self.action_for("platform_db.set", &before.name, details)).await?;
        tx.commit().await?;
        self.pools.lock().await.remove(&before.name.to_lowercase());
        Ok(after)
    }

    /// Keeps `password` in the OS keychain for `env`'s platform database (never on disk).
    pub async fn set_db_password(&self, env: &str, password: &str) -> Result<()> {
        self.writable("storing a database password")?;
        let env = self.environment(env).await?;
        if password.is_empty() {
            return Err(Error::validation("password", "the password is empty"));
        }
        self.secrets.set(&db_password_account(&env.name), password).map_err(keychain_error)?;
        let mut tx = self.store().write().await?;
        oplog::append(&mut tx, &self.action_for("platform_db.password", &env.name, json!({ "stored_in": "os_keychain" }))).await?;
        tx.commit().await?;
        self.pools.lock().await.remove(&env.name.to_lowercase());
        Ok(())
    }

    /// Removes the keychain password of `env`'s platform database.
    pub async fn forget_db_password(&self, env: &str) -> Result<()> {
        self.writable("removing a database password")?;
        let env = self.environment(env).await?;
        self.secrets.delete(&db_password_account(&env.name)).map_err(keychain_error)?;
        let mut tx = self.store().write().await?;
        oplog::append(&mut tx, &self.action_for("platform_db.forget_password", &env.name, json!({}))).await?;
        tx.commit().await?;
        self.pools.lock().await.remove(&env.name.to_lowercase());
        Ok(())
    }

    /// A renamed environment keeps its password under the new name.
    pub(crate) fn move_db_password(&self, from: &str, to: &str) {
        let (a, b) = (db_password_account(from), db_password_account(to));
        if let Ok(Some(p)) = self.secrets.get(&a) {
            if self.secrets.set(&b, &p).is_ok() {
                let _ = self.secrets.delete(&a);
            }
        }
    }

    /// A connection pool to the current environment's platform database.
    pub async fn platform_pool(&self) -> Result<(Environment, sqlx::PgPool)> {
        let env = self.current_environment().await?.ok_or(Error::NoCurrentEnvironment)?;
        let db = env.platform_db.clone().ok_or_else(|| Error::PlatformDb {
            kind: "db_not_configured",
            message: format!("no platform database is set for {}", env.name),
            hint: format!("set it on the Audit page (Database) or with `vigil db set --host … --database … --user …` for {}", env.name),
        })?;
        let key = env.name.to_lowercase();
        let mut pools = self.pools.lock().await;
        if let Some(c) = pools.get(&key) {
            if c.settings == db && (db.auth != DbAuth::Iam || c.made.elapsed() < IAM_POOL_LIFE) {
                return Ok((env, c.pool.clone()));
            }
        }
        let password = match db.auth {
            DbAuth::Trust => None,
            DbAuth::Password => {
                Some(self.secrets.get(&db_password_account(&env.name)).map_err(keychain_error)?.ok_or_else(|| Error::PlatformDb {
                    kind: "db_no_password",
                    message: format!("no password is stored for {}'s platform database", env.name),
                    hint: format!("enter it on the Audit page (Database) or with `vigil db password {}`; it is kept in the OS keychain", env.name),
                })?)
            }
            DbAuth::Iam => {
                let cfg = aws::sdk_config(&env, self.profile_source()).await;
                let creds = aws::credentials(&cfg, &env, self.profile_source()).await.map_err(|e| Error::PlatformDb {
                    kind: "db_iam",
                    message: format!("no AWS credentials to sign the IAM token: {}", e.message),
                    hint: e.hint.unwrap_or_else(|| "check the environment's credentials (Check connection)".into()),
                })?;
                Some(connect::iam_token(&db, &env.region, &creds, std::time::SystemTime::now())?)
            }
        };
        let pool = connect::pool(&db, password.as_deref(), CONNECT_TIMEOUT).await?;
        pools.insert(key, CachedPool { settings: db, made: Instant::now(), pool: pool.clone() });
        Ok((env, pool))
    }

    /// Connects to the current environment's platform database and says what it can read.
    pub async fn check_platform_db(&self) -> Result<DbCheck> {
        let (env, pool) = self.platform_pool().await?;
        let db = env.platform_db.expect("platform_pool checked it");
        connect::check(&pool, &db).await
    }
}

fn keychain_error(message: String) -> Error {
    Error::PlatformDb {
        kind: "keychain",
        message,
        hint: "Vigil keeps database passwords only in the OS keychain (Keychain, Credential Manager, Secret Service); on Linux a Secret Service such as GNOME Keyring must be running, or use IAM authentication".into(),
    }
}

/// The deployment parameter naming the platform's audit checkpoint public keys.
pub const AUDIT_KEYS_PARAM: &str = "audit_public_keys";

impl Console {
    /// A page of the current environment's audit log, newest first.
    pub async fn audit_search(
        &self,
        filter: &vigil_dto::AuditFilter,
        cursor: Option<&vigil_dto::AuditCursor>,
        limit: u32,
    ) -> Result<vigil_dto::AuditPage> {
        let q = crate::platform::audit::parse(filter)?;
        let (_, pool) = self.platform_pool().await?;
        crate::platform::audit::search(&pool, &q, cursor, limit).await
    }

    pub async fn audit_record(&self, stream: &str, seq: i64) -> Result<vigil_dto::AuditRecordDetail> {
        let (_, pool) = self.platform_pool().await?;
        crate::platform::audit::record(&pool, stream, seq).await
    }

    pub async fn audit_summary(&self, filter: &vigil_dto::AuditFilter) -> Result<vigil_dto::AuditSummary> {
        let q = crate::platform::audit::parse(filter)?;
        let (_, pool) = self.platform_pool().await?;
        crate::platform::audit::summary(&pool, &q).await
    }

    /// The summary and its records-over-time chart drawn for the ui (local time zone).
    pub async fn audit_summary_view(
        &self,
        filter: &vigil_dto::AuditFilter,
        width: u32,
        height: u32,
        dark: bool,
    ) -> Result<(vigil_dto::AuditSummary, vigil_dto::ChartView)> {
        let s = self.audit_summary(filter).await?;
        let (chart, start, end) = crate::platform::audit::summary_chart(&s);
        let drawn = crate::metrics::render::svg(
            &chart,
            start,
            end,
            crate::metrics::render::Style { bars: true, ..crate::metrics::render::Style::ui(width, height, dark) },
            &chrono::Local,
        )
        .map_err(|e| Error::validation("chart", e))?;
        let view = vigil_dto::ChartView { data: chart, svg: drawn.image, plot: drawn.plot, colors: vec![crate::metrics::render::color_hex(0)] };
        Ok((s, view))
    }

    /// Writes the filtered audit records as CSV to `path` (through a temporary file renamed at
    /// the end, so a failed or cancelled export leaves nothing), and records the export, its row
    /// count and SHA-256 in the operator log.
    pub async fn export_audit_csv(
        &self,
        filter: &vigil_dto::AuditFilter,
        path: &std::path::Path,
        progress: &Progress,
    ) -> Result<crate::platform::export::Written> {
        let q = crate::platform::audit::parse(filter)?;
        let (env, pool) = self.platform_pool().await?;
        let tmp = crate::metrics::export::temp_beside(path)?;
        let written = crate::platform::export::csv(&pool, &q, tmp.as_file(), progress).await?;
        if written.cancelled {
            return Ok(written);
        }
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        let details = json!({
            "format": "csv", "path": path.display().to_string(), "rows": written.rows, "bytes": written.bytes,
            "sha256": written.sha256, "filter": filter,
        });
        let mut tx = self.store().write().await?;
        oplog::append(&mut tx, &self.action_for("audit.export", &env.name, details)).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Verifies the audit chains from `since` with the environment's pinned public keys.
    pub async fn verify_audit(&self, since: Option<&str>, progress: Arc<Progress>) -> Result<vigil_dto::AuditVerification> {
        let since = crate::platform::audit::parse_time("since", &since.map(String::from))?;
        let (env, pool) = self.platform_pool().await?;
        let keys = audit_keys(&env)?;
        let report = crate::platform::verify::verify(&pool, since, &keys, progress).await?;
        tracing::info!(environment = %env.name, ok = report.ok, records = report.records, cancelled = report.cancelled, "audit verified");
        Ok(report)
    }

    /// Writes the PDF evidence report of the filtered records to `path`: the summary, a fresh
    /// verification of the chains from the filter's start (or why none could run), and the
    /// SHA-256 of the records' CSV export. A filter open to the future is closed at the moment
    /// the report is made, so every figure in it is about the same records. The PDF's own SHA-256
    /// goes to the operator log. Nothing is left at `path` on failure or cancel.
    pub async fn export_audit_pdf(&self, filter: &vigil_dto::AuditFilter, path: &Path, progress: Arc<Progress>) -> Result<vigil_dto::ReportSummary> {
        use crate::platform::{audit, export, report, Stage};
        let generated_at = chrono::Utc::now().with_nanosecond(0).expect("whole second");
        let mut q = audit::parse(filter)?;
        // Records after now may still come: the report stops at now, so it can be reproduced.
        if q.to.is_none_or(|t| t > generated_at) {
            if q.from.is_some_and(|f| f >= generated_at) {
                return Err(Error::validation("from", "the range starts in the future"));
            }
            q.to = Some(generated_at);
        }
        let (env, pool) = self.platform_pool().await?;
        let db = env.platform_db.clone().expect("platform_pool checked it");
        let to = q.to.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)).unwrap_or_default();
        let cancelled = || vigil_dto::ReportSummary { cancelled: true, to: to.clone(), ..Default::default() };

        progress.start(Stage::Summarising, 0);
        let summary = audit::summary(&pool, &q).await?;
        let verification = match audit_keys(&env) {
            Err(Error::PlatformDb { message, hint, .. }) => report::Verification::NotRun(format!("{message}. {hint}.")),
            Err(e) => return Err(e),
            Ok(keys) => {
                let v = crate::platform::verify::verify(&pool, q.from, &keys, progress.clone()).await?;
                if v.cancelled {
                    return Ok(cancelled());
                }
                report::Verification::Done(v)
            }
        };
        progress.start(Stage::Exporting, summary.records.max(0) as u64);
        let data = export::csv(&pool, &q, std::io::sink(), &progress).await?;
        if data.cancelled {
            return Ok(cancelled());
        }
        if data.rows != summary.records as u64 {
            return Err(Error::PlatformDb {
                kind: "audit_changed",
                message: format!("the records changed while the report was made ({} counted, then {} read)", summary.records, data.rows),
                hint: "make the report again; if it keeps happening, give an end time (To) in the past".into(),
            });
        }
        let (chart, start, end) = audit::summary_chart(&summary);
        let chart_png = if summary.records > 0 {
            Some(render::png(&chart, start, end, report::CHART_STYLE, &chrono::Utc).map_err(|e| Error::validation("chart", e))?.image)
        } else {
            None
        };
        let verified = match &verification {
            report::Verification::Done(v) if v.ok => "intact",
            report::Verification::Done(_) => "broken",
            report::Verification::NotRun(_) => "not_verified",
        };
        let r = report::Report {
            generated_at,
            generated_by: format!("{}, with the Vigil {}", self.actor, if self.client == "cli" { "CLI" } else { "app" }),
            vigil_version: env!("CARGO_PKG_VERSION").into(),
            environment: env.name.clone(),
            region: env.region.clone(),
            database: format!("{}:{}/{} as {}", db.host, db.port, db.database, db.user),
            filters: report::filter_lines(&q),
            summary,
            data_sha256: data.sha256.clone(),
            reproduce: report::reproduce(&env.name, &q),
            verification,
            chart_png,
            bucket: report::bucket_label(chart.period as i64),
        };
        let records = r.summary.records as u64;
        let (bytes, pages) = tokio::task::spawn_blocking(move || report::pdf(&r))
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
        crate::metrics::export::write_atomically(path, &bytes)?;
        let summary = vigil_dto::ReportSummary {
            records,
            data_sha256: data.sha256,
            sha256,
            bytes: bytes.len() as u64,
            pages: pages as u32,
            verification: verified.into(),
            to,
            cancelled: false,
        };
        let details = json!({
            "format": "pdf", "path": path.display().to_string(), "rows": records, "bytes": summary.bytes, "pages": summary.pages,
            "sha256": summary.sha256, "data_sha256": summary.data_sha256, "verification": verified, "filter": filter, "to": summary.to,
        });
        let mut tx = self.store().write().await?;
        oplog::append(&mut tx, &self.action_for("audit.export", &env.name, details)).await?;
        tx.commit().await?;
        Ok(summary)
    }
}

/// The environment's pinned audit checkpoint keys; none is an error that says how to add one.
fn audit_keys(env: &Environment) -> Result<std::collections::HashMap<String, pj_audit::Ed25519VerifyingKey>> {
    let keys_hex = env.deployment.get(AUDIT_KEYS_PARAM).cloned().unwrap_or_default();
    let keys = crate::platform::verify::keys_from_hex(&keys_hex).map_err(|e| Error::validation("audit_public_keys", e))?;
    if keys.is_empty() {
        return Err(Error::PlatformDb {
            kind: "no_audit_key",
            message: format!("{} names no audit public key, so signed checkpoints cannot be checked", env.name),
            hint: format!("add the platform's key (pj-worker keygen prints it) with `vigil env edit {} --param {AUDIT_KEYS_PARAM}=<hex>` or under Environments → Edit → Deployment", env.name),
        });
    }
    Ok(keys)
}

impl Console {
    pub async fn jobs_list(&self, filter: &vigil_dto::JobFilter, cursor: Option<&(String, String)>, limit: u32) -> Result<vigil_dto::JobPage> {
        let q = crate::platform::jobs::parse(filter)?;
        let (_, pool) = self.platform_pool().await?;
        crate::platform::jobs::list(&pool, &q, cursor, limit).await
    }

    pub async fn job_failures(&self, filter: &vigil_dto::JobFilter) -> Result<Vec<vigil_dto::FailureGroup>> {
        let q = crate::platform::jobs::parse(filter)?;
        let (_, pool) = self.platform_pool().await?;
        crate::platform::jobs::failure_groups(&pool, &q).await
    }

    /// One job and its log lines from the environment's log group (a failure to read them is
    /// reported beside the job, not instead of it).
    pub async fn job_detail(&self, id: &str) -> Result<vigil_dto::JobDetail> {
        let (env, pool) = self.platform_pool().await?;
        let job = crate::platform::jobs::get(&pool, id).await?;
        let (logs, logs_error) = match env.deployment.get("log_group") {
            None => (vec![], Some(format!("no log group is named for {}: set `log_group` under Environments → Edit → Deployment", env.name))),
            Some(group) => {
                let ms = |s: &Option<String>| s.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|d| d.timestamp_millis());
                let start = ms(&Some(job.created_at.clone())).unwrap_or(0) - 60_000;
                let end = ms(&job.finished_at).map(|t| t + 60_000).unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
                let cfg = aws::sdk_config(&env, self.profile_source()).await;
                let client = aws::logs::client(&cfg, &aws::new_op_id());
                match aws::logs::job_lines(&client, group, &job.id, start, end, 500).await {
                    Ok(lines) => (lines, None),
                    Err(e) => (vec![], Some(format!("the log lines could not be read from {group}: {e}"))),
                }
            }
        };
        let meaning = job.error_class.as_deref().map(|c| crate::platform::jobs::meaning(c).to_string());
        Ok(vigil_dto::JobDetail { job, meaning, logs, logs_error })
    }

    /// Re-queues failed jobs through the platform's queue: `job` alone, or every failed job of
    /// `class`. Jobs a retry cannot help are skipped with the reason; everything sent is in the
    /// operator log.
    pub async fn retry_jobs(&self, job: Option<&str>, class: Option<&str>) -> Result<vigil_dto::RetryReport> {
        self.writable("retrying jobs")?;
        let (env, pool) = self.platform_pool().await?;
        let (candidates, mut skipped) = match (job, class) {
            (Some(id), None) => {
                let j = crate::platform::jobs::get(&pool, id).await?;
                match crate::platform::jobs::not_retryable(&j) {
                    Some(why) => return Err(Error::validation("job", format!("job {} will not be retried: {why}", j.id))),
                    None => (vec![j], vec![]),
                }
            }
            (None, Some(c)) => {
                let (ok, permanent) = crate::platform::jobs::retryable_of_class(&pool, c).await?;
                if ok.is_empty() && permanent.is_empty() {
                    return Err(Error::validation("class", format!("no failed job has the error class `{c}`")));
                }
                let skipped = permanent.iter().map(|j| (j.id.clone(), crate::platform::jobs::not_retryable(j).unwrap_or_default())).collect();
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
        let cfg = aws::sdk_config(&env, self.profile_source()).await;
        let client = aws::sqs::client(&cfg, &op_id);
        let mut requeued = Vec::new();
        let mut failure = None;
        for j in &candidates {
            let (bucket, key) = crate::platform::jobs::s3_parts(&j.source_uri).expect("checked retryable");
            match aws::sqs::send_retry(&client, &queue, &bucket, &key).await {
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
            let mut tx = self.store().write().await?;
            oplog::append(&mut tx, &self.action("jobs.retry", &env.name, details, op_id.clone())).await?;
            tx.commit().await?;
        }
        if let Some(e) = failure {
            let sent = requeued.len();
            return Err(Error::Aws(format!("sending to the work queue failed after {sent} of {} jobs: {e}", candidates.len())));
        }
        skipped.sort();
        Ok(vigil_dto::RetryReport { requeued, skipped })
    }
}

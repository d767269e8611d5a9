//! The de-ID audit log (for compliance officers): filtered search with keyset pages, a record
//! with its chain links, the summary, the verification of every stream's chain and signed
//! checkpoints, and evidence exports (CSV, the PDF report). Operator-log action: `audit.export`.
//!
//! `query` (filters, pages, summary), `verify` (chains, streamed), `export` (CSV, hashed as
//! written), `report` (the PDF evidence report).

pub mod export;
pub mod query;
pub mod report;
pub mod verify;

use crate::app::area;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::platform_db::with_db;
use crate::progress::Progress;
use chrono::Timelike;
use serde_json::json;
use sha2::Digest;
use std::path::Path;
use std::sync::Arc;
use vigil_dto::Environment;

area!(
    /// The audit area (`app.audit()`).
    Audit
);

/// The deployment parameter naming the platform's audit checkpoint public keys.
pub const AUDIT_KEYS_PARAM: &str = "audit_public_keys";

impl Audit<'_> {
    /// A page of the current environment's audit log, newest first.
    pub async fn search(&self, filter: &vigil_dto::AuditFilter, cursor: Option<&vigil_dto::AuditCursor>, limit: u32) -> Result<vigil_dto::AuditPage> {
        let q = query::parse(filter)?;
        with_db(self.core, |_env, pool| async move { query::search(&pool, &q, cursor, limit).await }).await
    }

    pub async fn record(&self, stream: &str, seq: i64) -> Result<vigil_dto::AuditRecordDetail> {
        with_db(self.core, |_env, pool| async move { query::record(&pool, stream, seq).await }).await
    }

    pub async fn summary(&self, filter: &vigil_dto::AuditFilter) -> Result<vigil_dto::AuditSummary> {
        let q = query::parse(filter)?;
        with_db(self.core, |_env, pool| async move { query::summary(&pool, &q).await }).await
    }

    /// The summary and its records-over-time chart drawn for the ui (local time zone).
    pub async fn summary_view(
        &self,
        filter: &vigil_dto::AuditFilter,
        width: u32,
        height: u32,
        dark: bool,
    ) -> Result<(vigil_dto::AuditSummary, vigil_dto::ChartView)> {
        crate::metrics::check_size(width, height)?;
        let s = self.summary(filter).await?;
        let (chart, start, end) = query::summary_chart(&s);
        let drawn = vigil_evidence::chart::svg(
            &chart,
            start,
            end,
            vigil_evidence::chart::Style { bars: true, ..vigil_evidence::chart::Style::ui(width, height, dark) },
            &chrono::Local,
        )
        .map_err(|e| Error::validation("chart", e))?;
        let view = vigil_dto::ChartView { data: chart, svg: drawn.image, plot: drawn.plot, colors: vec![vigil_evidence::chart::color_hex(0)] };
        Ok((s, view))
    }

    /// Writes the filtered audit records as CSV to `path` (through a temporary file renamed at
    /// the end, so a failed or cancelled export leaves nothing), and records the export, its row
    /// count and SHA-256 in the operator log.
    pub async fn export_csv(&self, filter: &vigil_dto::AuditFilter, path: &std::path::Path, progress: &Progress) -> Result<export::Written> {
        let q = query::parse(filter)?;
        with_db(self.core, |env, pool| async move {
            let target = path.to_path_buf();
            let tmp = crate::error::blocking(move || Ok(vigil_evidence::files::temp_beside(&target)?)).await?;
            let (written, tmp) = export::csv(&pool, &q, tmp, progress).await?;
            let (keep, target) = (!written.cancelled, path.to_path_buf());
            // Syncing, renaming and removing block too.
            crate::error::blocking(move || {
                if keep {
                    tmp.as_file().sync_all()?;
                    tmp.persist(&target).map_err(|e| e.error)?;
                }
                Ok(())
            })
            .await?;
            if written.cancelled {
                return Ok(written);
            }
            let details = json!({
                "format": "csv", "path": path.display().to_string(), "rows": written.rows, "bytes": written.bytes,
                "sha256": written.sha256, "filter": filter,
            });
            self.log(Record::new("audit.export", &env.name, details)).await?;
            Ok(written)
        })
        .await
    }

    /// Verifies the audit chains from `since` with the environment's pinned public keys.
    pub async fn verify(&self, since: Option<&str>, progress: Arc<Progress>) -> Result<vigil_dto::AuditVerification> {
        let since = query::parse_time("since", &since.map(String::from))?;
        with_db(self.core, |env, pool| async move {
            let keys = audit_keys(&env)?;
            let report = verify::verify(&pool, since, &keys, progress).await?;
            tracing::info!(environment = %env.name, ok = report.ok, records = report.records, cancelled = report.cancelled, "audit verified");
            Ok(report)
        })
        .await
    }

    /// Writes the PDF evidence report of the filtered records to `path`: the summary, a fresh
    /// verification of the chains from the filter's start (or why none could run), and the
    /// SHA-256 of the records' CSV export. A filter open to the future is closed at the moment
    /// the report is made, so every figure in it is about the same records. The PDF's own SHA-256
    /// goes to the operator log. Nothing is left at `path` on failure or cancel.
    pub async fn export_pdf(&self, filter: &vigil_dto::AuditFilter, path: &Path, progress: Arc<Progress>) -> Result<vigil_dto::ReportSummary> {
        use crate::progress::Stage;
        use query as audit;
        let generated_at = chrono::Utc::now().with_nanosecond(0).expect("whole second");
        let mut q = audit::parse(filter)?;
        // Records after now may still come: the report stops at now, so it can be reproduced.
        if q.to.is_none_or(|t| t > generated_at) {
            if q.from.is_some_and(|f| f >= generated_at) {
                return Err(Error::validation("from", "the range starts in the future"));
            }
            q.to = Some(generated_at);
        }
        with_db(self.core, |env, pool| async move {
            let db = env.platform_db.clone().expect("the pool is made from it");
            let to = q.to.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)).unwrap_or_default();
            let cancelled = || vigil_dto::ReportSummary { cancelled: true, to: to.clone(), ..Default::default() };

            progress.start(Stage::Summarising, 0);
            let summary = audit::summary(&pool, &q).await?;
            let verification = match audit_keys(&env) {
                Err(Error::PlatformDb { message, hint, .. }) => report::Verification::NotRun(format!("{message}. {hint}.")),
                Err(e) => return Err(e),
                Ok(keys) => {
                    let v = verify::verify(&pool, q.from, &keys, progress.clone()).await?;
                    if v.cancelled {
                        return Ok(cancelled());
                    }
                    report::Verification::Done(v)
                }
            };
            progress.start(Stage::Exporting, summary.records.max(0) as u64);
            let (data, _) = export::csv(&pool, &q, std::io::sink(), &progress).await?;
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
                Some(
                    vigil_evidence::chart::png(&chart, start, end, report::CHART_STYLE, &chrono::Utc)
                        .map_err(|e| Error::validation("chart", e))?
                        .image,
                )
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
            // Drawing and writing block: off the async threads.
            let target = path.to_path_buf();
            let (bytes, pages) = crate::error::blocking(move || {
                let (bytes, pages) = report::pdf(&r).map_err(|e| Error::Io(std::io::Error::other(e)))?;
                vigil_evidence::files::write_atomically(&target, &bytes)?;
                Ok((bytes, pages))
            })
            .await?;
            let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
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
            self.log(Record::new("audit.export", &env.name, details)).await?;
            Ok(summary)
        })
        .await
    }
}

/// The environment's pinned audit checkpoint keys; none is an error that says how to add one.
pub(crate) fn audit_keys(env: &Environment) -> Result<std::collections::HashMap<String, pj_audit::Ed25519VerifyingKey>> {
    let keys_hex = env.deployment.get(AUDIT_KEYS_PARAM).cloned().unwrap_or_default();
    let keys = verify::keys_from_hex(&keys_hex).map_err(|e| Error::validation("audit_public_keys", e))?;
    if keys.is_empty() {
        return Err(Error::PlatformDb {
            kind: "no_audit_key",
            message: format!("{} names no audit public key, so signed checkpoints cannot be checked", env.name),
            hint: format!("add the platform's key (pj-worker keygen prints it) with `vigil env edit {} --param {AUDIT_KEYS_PARAM}=<hex>` or under Environments → Edit → Deployment", env.name),
        });
    }
    Ok(keys)
}

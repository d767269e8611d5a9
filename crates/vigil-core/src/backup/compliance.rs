//! The compliance report: what the controls ([`super::controls`]) need, read from AWS Backup in
//! as few calls as it takes (each vault's recovery points in one paged listing, the copy and
//! restore jobs of the lookback, the plans once), the controls evaluated, and the account's
//! Backup Audit Manager frameworks side by side (each framework control evaluated by Vigil with
//! the framework's parameters over its scope). Exported as CSV (a row per control and
//! resource) or PDF (the controls, per-resource results, their evidence, the restore times),
//! each file's SHA-256 in the operator log (`backup.compliance_export`).

use super::controls::{self, Inventory, Resource};
use super::{coverage, read_component, read_plans, Backups};
use crate::audit::report::utc;
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use serde_json::json;
use std::path::Path;
use vigil_aws::backup::{Backup, FrameworkControlInfo, JobFilter, JobKind};
use vigil_dto::backup::{ComplianceExport, ComplianceReport, FrameworkControlView, FrameworkView};
use vigil_dto::deploy::CheckStatus;
use vigil_evidence::pdf::{Cell, Face, Faces, Layout, Meta, BAD, GOOD, INK, MARGIN, MUTED, WIDTH};

/// How far back copy and restore jobs are read (the longest lookback a control uses).
const LOOKBACK_DAYS: i64 = 35;

/// The AWS Backup resource type of a platform component.
fn resource_type(component: &str) -> &'static str {
    match component {
        "aurora" => "Aurora",
        "documents" => "S3",
        _ => "EKS",
    }
}

/// The inventory narrowed to a framework control's scope (types, ids, tags; none: everything).
pub fn scoped(inv: &Inventory, c: &FrameworkControlInfo) -> Inventory {
    let mut out = inv.clone();
    out.resources.retain(|r| {
        (c.resource_types.is_empty() || c.resource_types.iter().any(|t| t.eq_ignore_ascii_case(&r.resource_type)))
            && (c.resource_ids.is_empty() || c.resource_ids.iter().any(|id| *id == r.arn || r.arn.ends_with(&format!(":{id}"))))
            && c.tags.iter().all(|(k, v)| r.tags.iter().any(|(tk, tv)| tk == k && (v.is_empty() || tv == v)))
    });
    out
}

fn scope_text(c: &FrameworkControlInfo) -> String {
    let mut parts = vec![];
    if !c.resource_types.is_empty() {
        parts.push(format!("types {}", c.resource_types.join(", ")));
    }
    if !c.resource_ids.is_empty() {
        parts.push(format!("resources {}", c.resource_ids.join(", ")));
    }
    if !c.tags.is_empty() {
        parts.push(format!("tags {}", c.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")));
    }
    if parts.is_empty() {
        "all resources".into()
    } else {
        parts.join("; ")
    }
}

impl Backups<'_> {
    /// Reads what the controls need for the current environment.
    pub async fn inventory(&self) -> Result<(Inventory, Vec<String>)> {
        let env = self.current().await?;
        let ctx = self.aws_context(&env).await;
        let op = aws::new_op_id();
        let backup = Backup::new(&ctx, &op);
        let now = chrono::Utc::now().timestamp_millis();
        let mut problems = vec![];
        let (plans, unread) = read_plans(&backup).await;
        problems.extend(unread.into_iter().map(|e| e.message));
        let (vaults, unread) = super::read_vaults(&backup).await;
        problems.extend(unread.into_iter().map(|e| e.message));
        let mut resources = vec![];
        let mut restorable = std::collections::HashMap::new();
        for mut c in coverage::components(&env.deployment).into_iter().filter(|c| c.by_aws_backup && c.resource.is_some()) {
            if let Err(e) = read_component(&ctx, &op, &mut c).await {
                problems.push(e.message);
            }
            let arn = c.resource.clone().unwrap_or_default();
            if let Some(t) = c.latest_restorable_ms {
                restorable.insert(arn.clone(), t);
            }
            resources.push(Resource { arn, resource_type: resource_type(c.id).into(), tags: c.tags, holds_data: c.holds_data });
        }
        let mut points = vec![];
        for v in &vaults {
            match backup.recovery_points(&v.name, None).await {
                Ok(p) => points.extend(p),
                Err(e) => problems.push(e.message),
            }
        }
        let since = JobFilter { created_after_ms: Some(now - LOOKBACK_DAYS * 86_400_000), ..Default::default() };
        let copies = backup.jobs(JobKind::Copy, &since).await.unwrap_or_else(|e| {
            problems.push(e.message);
            vec![]
        });
        let restore_jobs = backup.jobs(JobKind::Restore, &since).await.unwrap_or_else(|e| {
            problems.push(e.message);
            vec![]
        });
        let account = match vigil_aws::sts::caller_identity(&ctx, &op).await {
            Ok(id) => Some(id.account),
            Err(e) => {
                problems.push(e.message);
                None
            }
        };
        let restores = super::restore::list(self.store().pool(), &env.name, 1000).await?;
        problems.dedup();
        let inv = Inventory {
            now_ms: now,
            home: coverage::Home { region: env.region.clone(), account },
            resources,
            plans,
            vaults,
            points,
            copies,
            restore_jobs,
            restores,
            restorable,
        };
        Ok((inv, problems))
    }

    /// Every control evaluated now, with the account's frameworks beside them.
    pub async fn compliance(&self) -> Result<ComplianceReport> {
        let env = self.current().await?;
        let (inv, mut problems) = self.inventory().await?;
        let controls = controls::evaluate_all(&inv);
        let backup = Backup::new(&self.aws_context(&env).await, &aws::new_op_id());
        let frameworks = match backup.frameworks().await {
            Ok(f) => f
                .into_iter()
                .map(|f| FrameworkView {
                    name: f.name,
                    arn: f.arn,
                    status: f.status,
                    controls: f
                        .controls
                        .iter()
                        .map(|c| FrameworkControlView {
                            name: c.name.clone(),
                            parameters: c.parameters.clone(),
                            scope: scope_text(c),
                            vigil: (!controls::title(&c.name).is_empty()).then(|| controls::evaluate(&scoped(&inv, c), &c.name, &c.parameters)),
                        })
                        .collect(),
                })
                .collect(),
            Err(e) => {
                problems.push(e.message);
                vec![]
            }
        };
        Ok(ComplianceReport {
            environment: env.name.clone(),
            region: env.region.clone(),
            checked_at_ms: inv.now_ms,
            controls,
            frameworks,
            resources: inv.resources.len(),
            recovery_points: inv.points.len(),
            vaults: inv.vaults.len(),
            problems,
        })
    }

    /// Evaluates the controls and writes the report to `path` as `format` (pdf or csv); the
    /// file's SHA-256 goes into the operator log.
    pub async fn export_compliance(&self, path: &Path, format: &str) -> Result<ComplianceExport> {
        check_format(format)?;
        let report = self.compliance().await?;
        self.write_compliance(report, path, format).await
    }

    /// Writes `report` to `path` as `format` (pdf or csv); the file's SHA-256 goes into the
    /// operator log.
    pub async fn write_compliance(&self, report: ComplianceReport, path: &Path, format: &str) -> Result<ComplianceExport> {
        check_format(format)?;
        let generated_by = format!("{}, with the Vigil {}", self.actor, if self.client == "cli" { "CLI" } else { "app" });
        let target = path.to_path_buf();
        let pdf = format == "pdf";
        let (bytes, report) = crate::error::blocking(move || {
            let bytes =
                if pdf { compliance_pdf(&report, &generated_by).map_err(|e| Error::Io(std::io::Error::other(e)))? } else { compliance_csv(&report)? };
            vigil_evidence::files::write_atomically(&target, &bytes)?;
            Ok((bytes, report))
        })
        .await?;
        use sha2::Digest;
        let out = ComplianceExport {
            path: path.display().to_string(),
            format: format.into(),
            sha256: hex::encode(sha2::Sha256::digest(&bytes)),
            bytes: bytes.len() as u64,
            controls: report.controls.len(),
            failing: report.controls.iter().filter(|c| c.status == CheckStatus::Fail).count(),
            complete: report.complete(),
        };
        let failing: Vec<&str> = report.controls.iter().filter(|c| c.status == CheckStatus::Fail).map(|c| c.id.as_str()).collect();
        self.log(Record::new(
            "backup.compliance_export",
            &report.environment,
            json!({ "path": out.path, "format": out.format, "sha256": out.sha256, "bytes": out.bytes, "failing": failing, "complete": out.complete }),
        ))
        .await?;
        Ok(out)
    }
}

fn check_format(format: &str) -> Result<()> {
    if matches!(format, "pdf" | "csv") {
        Ok(())
    } else {
        Err(Error::validation("format", format!("`{format}`: write the compliance report as pdf or csv")))
    }
}

fn status_text(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "pass",
        CheckStatus::Warn => "not applicable",
        CheckStatus::Fail => "FAIL",
    }
}

fn params_text(p: &[(String, String)]) -> String {
    p.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

/// The report as CSV: a row per control and resource (a control with none has one row).
pub fn compliance_csv(r: &ComplianceReport) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![]);
    let io = |e: csv::Error| Error::Io(std::io::Error::other(e));
    w.write_record([
        "environment",
        "checked_at",
        "control",
        "title",
        "source",
        "parameters",
        "control_status",
        "resource",
        "kind",
        "status",
        "evidence",
    ])
    .map_err(io)?;
    let at = chrono::DateTime::from_timestamp_millis(r.checked_at_ms).map(|t| t.to_rfc3339()).unwrap_or_default();
    for c in &r.controls {
        let head = [
            r.environment.clone(),
            at.clone(),
            c.id.clone(),
            c.title.clone(),
            c.source.clone(),
            params_text(&c.parameters),
            status_text(c.status).into(),
        ];
        if c.results.is_empty() {
            w.write_record(head.iter().cloned().chain(["".into(), "".into(), "".into(), "nothing in scope".into()])).map_err(io)?;
        }
        for x in &c.results {
            w.write_record(head.iter().cloned().chain([x.resource.clone(), x.kind.clone(), status_text(x.status).into(), x.evidence.clone()]))
                .map_err(io)?;
        }
    }
    w.into_inner().map_err(|e| Error::Io(std::io::Error::other(e.to_string())))
}

const WARN: (u8, u8, u8) = (0xb4, 0x53, 0x09);

fn status_cell(s: CheckStatus) -> Cell {
    let color = match s {
        CheckStatus::Pass => GOOD,
        CheckStatus::Warn => WARN,
        CheckStatus::Fail => BAD,
    };
    (status_text(s).into(), color)
}

/// The report as a PDF (PDF/A-2u): the verdicts, each control's per-resource results with
/// their evidence, the frameworks side by side, the restores' measured times.
pub fn compliance_pdf(r: &ComplianceReport, generated_by: &str) -> std::result::Result<Vec<u8>, String> {
    let faces = Faces::load();
    let mut l = Layout::new(&faces);
    let at = chrono::DateTime::from_timestamp_millis(r.checked_at_ms).unwrap_or_default();
    l.text(MARGIN, 18.0, Face::Bold, INK, "Patient Journey backup compliance report");
    l.y += 26.0;
    l.paragraph(10.0, Face::Regular, MUTED, &format!("environment {} · {} · RPO 15 min, RTO 60 min", r.environment, r.region));
    l.y += 4.0;
    l.heading("Report");
    l.field("Evaluated at", &utc(&at), Face::Regular, INK);
    l.field("Generated by", generated_by, Face::Regular, INK);
    l.field("Evaluated over", &format!("{} resources, {} recovery points, {} vaults", r.resources, r.recovery_points, r.vaults), Face::Regular, INK);
    l.field(
        "This file",
        "Its SHA-256 is recorded in Vigil's operator log (action backup.compliance_export) when it is written; compare it with the file you hold.",
        Face::Regular,
        INK,
    );
    let failing = r.controls.iter().filter(|c| c.status == CheckStatus::Fail).count();
    let (verdict, color) = match (r.complete(), failing) {
        (false, _) => (format!("INCOMPLETE: {} could not be read; the verdicts below may be wrong", r.problems.len()), BAD),
        (true, 0) => ("every control passes".to_string(), GOOD),
        (true, n) => (format!("{n} of {} controls fail", r.controls.len()), BAD),
    };
    l.field("Verdict", &verdict, Face::Bold, color);
    for p in &r.problems {
        l.paragraph(9.0, Face::Regular, BAD, &format!("could not read: {p}"));
    }
    l.heading("Controls");
    let rows: Vec<Vec<Cell>> = r
        .controls
        .iter()
        .map(|c| {
            vec![
                (c.title.clone(), INK),
                (params_text(&c.parameters), MUTED),
                (format!("{} of {}", c.evaluated - c.failing, c.evaluated), INK),
                status_cell(c.status),
            ]
        })
        .collect();
    l.table(WIDTH, &["Control", "Parameters", "Compliant", "Status"], &[2.4, 1.6, 0.7, 0.7], &[false, false, true, false], &rows);
    for c in &r.controls {
        l.heading(&c.title);
        l.paragraph(8.5, Face::Mono, MUTED, &format!("{} · {}", c.id, c.source));
        if c.results.is_empty() {
            l.paragraph(9.0, Face::Regular, MUTED, "nothing in scope");
            continue;
        }
        let rows: Vec<Vec<Cell>> =
            c.results.iter().map(|x| vec![(format!("{} ({})", x.resource, x.kind), INK), status_cell(x.status), (x.evidence.clone(), INK)]).collect();
        l.table(WIDTH, &["Resource", "Status", "Evidence"], &[2.0, 0.6, 2.6], &[false, false, false], &rows);
    }
    if !r.frameworks.is_empty() {
        l.heading("AWS Backup Audit Manager frameworks, evaluated by Vigil with their parameters");
        for f in &r.frameworks {
            l.paragraph(10.0, Face::Bold, INK, &format!("{} ({})", f.name, f.status));
            let rows: Vec<Vec<Cell>> = f
                .controls
                .iter()
                .map(|c| {
                    vec![
                        (c.name.clone(), INK),
                        (format!("{} · {}", params_text(&c.parameters), c.scope), MUTED),
                        c.vigil.as_ref().map(|v| status_cell(v.status)).unwrap_or_else(|| ("unknown control".into(), MUTED)),
                    ]
                })
                .collect();
            l.table(WIDTH, &["Control", "Parameters and scope", "Vigil"], &[2.0, 2.4, 0.8], &[false, false, false], &rows);
        }
    }
    let meta = Meta {
        title: format!("Patient Journey backup compliance report: {}", r.environment),
        author: generated_by.to_string(),
        creator: format!("Vigil {}", env!("CARGO_PKG_VERSION")),
        keywords: vec![format!("failing-controls:{failing}")],
        created: at,
        footer: format!("Vigil · backup compliance · {} · {}", r.environment, utc(&at)),
    };
    vigil_evidence::pdf::render(&l, &[], &meta).map(|(bytes, _)| bytes)
}

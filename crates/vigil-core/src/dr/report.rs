//! The drill report: a PDF (PDF/A-2u, through vigil-evidence) of one run — what it acted on,
//! the runbook's id, version and SHA-256 with the bundle's version, the measured RTO and RPO
//! against the platform's targets, every step with its times, prechecks, waits and
//! verifications, the confirmations and who gave them, and the run's operator-log records.
//! Written atomically; its SHA-256 goes into the operator log (`dr.drill_report`).

use super::Dr;
use crate::audit::report::utc;
use crate::core::Record;
use crate::error::{Error, Result};
use serde_json::json;
use std::path::Path;
use vigil_dto::backup::{RPO_MINUTES, RTO_MINUTES};
use vigil_dto::dr::{DrillReportFile, RunView};
use vigil_dto::OplogEntry;
use vigil_evidence::pdf::{Cell, Face, Faces, Layout, Meta, BAD, GOOD, INK, MARGIN, MUTED, WIDTH};

fn at(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| utc(&t)).unwrap_or_default()
}

fn secs(ms: i64) -> String {
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// Whether the run met RTO and RPO (None: not measured, or the run did not succeed).
pub fn met(run: &RunView) -> (Option<bool>, Option<bool>) {
    (run.rto_ms.map(|t| t <= RTO_MINUTES * 60_000), run.rpo_ms.map(|t| t <= RPO_MINUTES * 60_000))
}

/// The report's bytes.
pub fn drill_pdf(run: &RunView, log: &[OplogEntry], generated_by: &str) -> std::result::Result<Vec<u8>, String> {
    let faces = Faces::load();
    let mut l = Layout::new(&faces);
    let title = if run.drill { "Patient Journey DR drill report" } else { "Patient Journey DR run report" };
    l.text(MARGIN, 18.0, Face::Bold, INK, title);
    l.y += 26.0;
    l.paragraph(
        10.0,
        Face::Regular,
        MUTED,
        &format!("{} · environment {} · RPO {RPO_MINUTES} min, RTO {RTO_MINUTES} min", run.title, run.environment),
    );
    l.y += 4.0;

    l.heading("What ran");
    l.field("Target", &run.target, Face::Bold, INK);
    l.field("Runbook", &format!("{} version {} (bundle {})", run.runbook, run.version, run.bundle_version), Face::Regular, INK);
    l.field("Runbook SHA-256", &run.sha256, Face::Mono, INK);
    l.field("Run", &run.id, Face::Mono, INK);
    l.field("Operator", &run.operator, Face::Regular, INK);
    if let Some(f) = &run.forward_run {
        l.field("Undoes", &format!("run {f}"), Face::Regular, INK);
    }
    let params: Vec<String> = run.params.iter().map(|(k, v)| format!("{k} = {}", if v.is_empty() { "(none)" } else { v })).collect();
    l.field("Parameters", &if params.is_empty() { "none".into() } else { params.join("; ") }, Face::Regular, INK);
    l.field("Started", &at(run.started_ms), Face::Regular, INK);
    l.field("Ended", &run.ended_ms.map(at).unwrap_or_else(|| "not ended".into()), Face::Regular, INK);
    l.field("Result", &run.state, Face::Bold, if run.state == "succeeded" { GOOD } else { BAD });
    if let Some(p) = &run.paused {
        l.paragraph(9.0, Face::Regular, BAD, p);
    }

    l.heading("Recovery targets");
    let (rto_met, rpo_met) = met(run);
    let verdict = |m: Option<bool>| match m {
        Some(true) => ("met", GOOD),
        Some(false) => ("NOT met", BAD),
        None => ("not measured", MUTED),
    };
    let (v, c) = verdict(rto_met);
    l.field(
        "RTO",
        &format!(
            "{} measured (start to the platform healthy again), target {RTO_MINUTES} min: {v}; expected {}",
            run.rto_ms.map(secs).unwrap_or_else(|| "—".into()),
            secs(run.expected_secs as i64 * 1000)
        ),
        Face::Bold,
        c,
    );
    let (v, c) = verdict(rpo_met);
    let how = if run.rpo_ms == Some(0) { "the runbook loses no data" } else { "the data-loss window measured before the switch" };
    l.field("RPO", &format!("{} ({how}), target {RPO_MINUTES} min: {v}", run.rpo_ms.map(secs).unwrap_or_else(|| "—".into())), Face::Bold, c);

    l.heading("Steps");
    let rows: Vec<Vec<Cell>> = run
        .steps
        .iter()
        .map(|s| {
            let took = match (s.started_ms, s.ended_ms) {
                (Some(a), Some(b)) => secs(b - a),
                _ => "—".into(),
            };
            let color = match s.state.as_str() {
                "done" => GOOD,
                "failed" => BAD,
                _ => MUTED,
            };
            vec![
                (format!("{} — {}", s.path, s.title), INK),
                (s.kind.clone(), MUTED),
                (s.started_ms.map(at).unwrap_or_default(), MUTED),
                (took, INK),
                (s.state.clone(), color),
            ]
        })
        .collect();
    l.table(WIDTH, &["Step", "Kind", "Started", "Took", "State"], &[2.6, 0.7, 1.4, 0.8, 0.7], &[false, false, false, true, false], &rows);

    l.heading("Checks");
    let rows: Vec<Vec<Cell>> = run
        .steps
        .iter()
        .flat_map(|s| {
            s.checks.iter().map(move |c| {
                vec![
                    (s.path.clone(), MUTED),
                    (c.phase.clone(), MUTED),
                    (format!("{} — {}", c.check, c.detail), INK),
                    (if c.ok { "pass" } else { "FAIL" }.into(), if c.ok { GOOD } else { BAD }),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        l.paragraph(9.0, Face::Regular, MUTED, "no check ran");
    } else {
        l.table(WIDTH, &["Step", "Phase", "Check", "Result"], &[1.1, 0.6, 3.5, 0.5], &[false, false, false, false], &rows);
    }

    l.heading("Confirmations and actions");
    let rows: Vec<Vec<Cell>> = run
        .steps
        .iter()
        .filter(|s| s.confirmed_by.is_some() || !s.outputs.is_empty() || (s.op_id.is_some() && s.kind == "action"))
        .map(|s| {
            let what = match &s.confirmed_by {
                Some(who) => format!("confirmed by {who}"),
                None => s.outputs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "),
            };
            let what = match s.before.get("_second_by") {
                Some(by) => format!("{what}; second approval by {by}"),
                None => what,
            };
            let resumed = if s.found_done { " (found done on resume: not sent again)" } else { "" };
            vec![(s.path.clone(), INK), (format!("{what}{resumed}"), INK), (s.op_id.clone().unwrap_or_default(), MUTED)]
        })
        .collect();
    l.table(WIDTH, &["Step", "Recorded", "Operation id (CloudTrail userAgent vigil-op/…)"], &[1.1, 2.6, 2.0], &[false, false, false], &rows);

    l.heading("Operator log");
    let rows: Vec<Vec<Cell>> = log
        .iter()
        .map(|e| {
            vec![
                (e.seq.to_string(), MUTED),
                (e.at.clone(), MUTED),
                (e.action.clone(), INK),
                (e.actor.clone(), MUTED),
                (e.hash.get(..16).unwrap_or_default().to_string(), MUTED),
            ]
        })
        .collect();
    l.table(WIDTH, &["#", "At", "Action", "Actor", "Hash"], &[0.4, 1.5, 1.5, 1.2, 1.2], &[true, false, false, false, false], &rows);
    l.paragraph(
        8.5,
        Face::Regular,
        MUTED,
        "This file's SHA-256 is recorded in Vigil's operator log (action dr.drill_report) when it is written; compare it with the file you hold.",
    );

    let created = chrono::DateTime::from_timestamp_millis(run.ended_ms.unwrap_or(run.started_ms)).unwrap_or_default();
    let meta = Meta {
        title: format!("{title}: {} on {}", run.runbook, run.environment),
        author: generated_by.to_string(),
        creator: format!("Vigil {}", env!("CARGO_PKG_VERSION")),
        keywords: vec![format!("run:{}", run.id), format!("state:{}", run.state)],
        created,
        footer: format!("Vigil · DR {} · {} · {}", if run.drill { "drill" } else { "run" }, run.environment, run.id),
    };
    vigil_evidence::pdf::render(&l, &[], &meta).map(|(bytes, _)| bytes)
}

impl Dr<'_> {
    /// The operator-log records of run `id` (its own and its lease's), oldest first.
    async fn records_of(&self, run: &RunView) -> Result<Vec<OplogEntry>> {
        let mut out = vec![];
        let mut before = None;
        loop {
            let page = self.oplog_page(500, before).await?;
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            let done = page.iter().any(|e| chrono::DateTime::parse_from_rfc3339(&e.at).is_ok_and(|t| t.timestamp_millis() < run.started_ms - 60_000));
            out.extend(page.into_iter().filter(|e| {
                serde_json::from_str::<serde_json::Value>(&e.details).is_ok_and(|d| d["run"] == json!(run.id) || d["run_id"] == json!(run.id))
            }));
            if done {
                break;
            }
        }
        out.reverse();
        Ok(out)
    }

    async fn oplog_page(&self, limit: u32, before: Option<i64>) -> Result<Vec<OplogEntry>> {
        crate::oplog::list(self.store().pool(), limit, before).await
    }

    /// Writes run `id`'s report to `path` (a PDF); its SHA-256 goes into the operator log.
    pub async fn write_report(&self, run_id: &str, path: &Path) -> Result<DrillReportFile> {
        let run = self.run(run_id).await?;
        if matches!(run.state.as_str(), "running") {
            return Err(Error::Dr {
                kind: "run_in_progress",
                message: format!("run {run_id} is still running"),
                hint: "write its report once it ends or pauses".into(),
            });
        }
        let log = self.records_of(&run).await?;
        let generated_by = format!("{}, with the Vigil {}", self.actor, if self.client == "cli" { "CLI" } else { "app" });
        let target = path.to_path_buf();
        let r = run.clone();
        let bytes = crate::error::blocking(move || {
            let bytes = drill_pdf(&r, &log, &generated_by).map_err(|e| Error::Io(std::io::Error::other(e)))?;
            vigil_evidence::files::write_atomically(&target, &bytes)?;
            Ok(bytes)
        })
        .await?;
        use sha2::Digest;
        let (rto_met, rpo_met) = met(&run);
        let out = DrillReportFile {
            path: path.display().to_string(),
            sha256: hex::encode(sha2::Sha256::digest(&bytes)),
            bytes: bytes.len() as u64,
            run: run.id.clone(),
            rto_met,
            rpo_met,
        };
        self.log(Record::new(
            "dr.drill_report",
            &run.environment,
            json!({ "run": run.id, "runbook": run.runbook, "path": out.path, "sha256": out.sha256, "bytes": out.bytes, "rto_ms": run.rto_ms, "rpo_ms": run.rpo_ms, "rto_met": rto_met, "rpo_met": rpo_met }),
        ))
        .await?;
        Ok(out)
    }
}

//! `vigil backup …`: the platform's AWS Backup state over the same `app.backups()` as the
//! Backups page — each component's coverage against the RPO, the vaults and plans, jobs and
//! recovery points; an on-demand backup, a restore to a new resource, the platform pointed at
//! a restored cluster, and restore tests (each with the name typed as `--confirm`).

use crate::{print_json, Failure};
use clap::Subcommand;
use vigil_core::App;
use vigil_dto::backup::{BackupRequest, RestoreRecord, RestoreRequest, RestoreTestRequest, TimeRestoreRequest, UseClusterRequest};
use vigil_dto::deploy::CheckStatus;

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Each component's protection and RPO, the vaults and plans; exit 9 when a component
    /// holding data fails its RPO.
    Status,
    /// Backup, copy or restore jobs, newest first.
    Jobs {
        /// backup, copy or restore.
        #[arg(long, default_value = "backup")]
        kind: String,
        /// Only jobs in this state (FAILED, EXPIRED, COMPLETED…).
        #[arg(long)]
        state: Option<String>,
        /// How many days back.
        #[arg(long, default_value_t = 7)]
        days: i64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// A backup, copy or restore job's events (AWS Backup's state changes, kept by the bundle).
    Events {
        /// The job's id (`vigil backup jobs`).
        job: String,
        /// How many days back to look.
        #[arg(long, default_value_t = 35)]
        days: i64,
    },
    /// Recovery points in a vault (the environment's own by default), newest first.
    Points {
        #[arg(long)]
        vault: Option<String>,
        /// Only the points of this resource ARN.
        #[arg(long)]
        resource: Option<String>,
    },
    /// Backs up a platform resource now (aurora, documents, eks, or its ARN).
    Start {
        resource: String,
        /// Keep the recovery point this many days (the covering rule's retention by default).
        #[arg(long)]
        retention_days: Option<i64>,
        /// The resource's name, typed to confirm (without it, the command says what it would do).
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Restores a recovery point to a new cluster or bucket, and follows it to its end; asked
    /// again after an interruption, it continues.
    Restore {
        /// The recovery point's ARN (`vigil backup points`).
        point: String,
        /// The new resource's name (never an existing one).
        #[arg(long)]
        target: String,
        /// The point's vault (the environment's by default).
        #[arg(long)]
        vault: Option<String>,
        /// S3: restore only the objects under this prefix (repeatable).
        #[arg(long = "prefix")]
        prefixes: Vec<String>,
        /// The target's name, typed to confirm.
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Restores the platform's Aurora cluster (or the one named) as it was at a time to a new
    /// cluster with its instances, and follows it to its end; asked again, it continues.
    RestoreTime {
        /// "latest" or an RFC 3339 time within the cluster's restore window.
        time: String,
        /// The new cluster's identifier (never an existing one).
        #[arg(long)]
        target: String,
        /// The cluster to restore (the environment's by default).
        #[arg(long)]
        source: Option<String>,
        /// The target's name, typed to confirm.
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Points the platform (the worker's secret, then a restart) at a cluster Vigil restored, or
    /// back at its own; the cluster's data is validated first.
    UseCluster {
        cluster: String,
        /// The cluster's identifier, typed to confirm.
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Restores the latest recovery point of each protected resource to a new one, validates it,
    /// records its time, and deletes it; exit 9 when a test fails. Run it from cron or Task
    /// Scheduler to keep PJ_RESTORE_TEST_WITHIN_30_DAYS passing.
    RestoreTest {
        /// Only this component (aurora, documents; repeatable).
        #[arg(long = "component")]
        components: Vec<String>,
        /// The environment's name, typed to confirm.
        #[arg(long)]
        confirm: Option<String>,
    },
    /// The restores made from this console, newest first: their measured time against the RTO.
    Restores {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// The compliance controls (AWS Backup Audit Manager's eleven and the platform's own), each
    /// resource with its evidence, and the account's frameworks; exit 9 when one fails, 1 when
    /// something could not be read.
    Controls {
        /// Also write the report as PDF to this file (its SHA-256 goes into the operator log).
        #[arg(long)]
        pdf: Option<std::path::PathBuf>,
        /// Also write it as CSV to this file.
        #[arg(long)]
        csv: Option<std::path::PathBuf>,
    },
}

fn print_restore(r: &RestoreRecord) {
    let took = r.total_seconds.map(|s| format!(" in {}", minutes(s))).unwrap_or_default();
    let rto = match r.rto_met {
        Some(true) => " (within the RTO)",
        Some(false) => " (PAST the RTO)",
        None => "",
    };
    println!("{}  {:<9} {} → {}{took}{rto}", when(r.started_ms), r.state, r.source, r.target);
    if r.point_in_time {
        println!("    restored to {} (writes after it are not in {})", when(r.point_created_ms), r.target);
    }
    if let Some(s) = r.restore_seconds {
        match &r.job {
            Some(job) => println!("    restore job {job} took {}", minutes(s)),
            None => println!("    the restore took {}", minutes(s)),
        }
    }
    if !r.instances.is_empty() {
        println!("    instances  {}", r.instances.join(", "));
    }
    for c in r.checks.iter().chain(&r.validation) {
        println!("    {} {:<17} source {}, restored {}", if c.matches { "ok  " } else { "DIFF" }, c.name, c.source, c.restored);
    }
    if let Some(at) = r.cleaned_ms {
        println!("    deleted {}", when(at));
    }
    if let Some(m) = &r.message {
        println!("    {m}");
    }
    if let Some(n) = &r.next {
        println!("    → {n}");
    }
}

/// A task's progress on one line of stderr (nothing when `show` is false: JSON output).
/// Runs long work as a task of `app`, its progress on one line of stderr unless `json`.
async fn with_progress<T, F, Fut>(app: &App, kind: &'static str, json: bool, work: F) -> Result<T, Failure>
where
    F: FnOnce(std::sync::Arc<vigil_core::progress::Progress>) -> Fut,
    Fut: std::future::Future<Output = vigil_core::error::Result<T>>,
{
    let line = move |w: vigil_dto::WorkProgress| {
        if !json && w.total > 0 {
            eprint!("\r{:<10} {:>3}/{:<3}", w.stage, w.done, w.total);
        }
    };
    let done = app.tasks().run(kind, line, work).await;
    if !json {
        eprintln!();
    }
    Ok(done?)
}

fn minutes(seconds: i64) -> String {
    if seconds < 120 {
        format!("{seconds} s")
    } else {
        format!("{} min {} s", seconds / 60, seconds % 60)
    }
}

/// `2026-12-01 04:05 UTC` of milliseconds since the epoch.
fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_else(|| "?".into())
}

pub async fn run(app: &App, cmd: BackupCommand, json: bool) -> Result<u8, Failure> {
    let backups = app.backups();
    match cmd {
        BackupCommand::Status => {
            let o = backups.overview().await?;
            let failing = o.components.iter().any(|c| c.status == CheckStatus::Fail);
            if json {
                print_json(&o);
                return Ok(if failing { 9 } else { 0 });
            }
            println!("{} ({}): RPO {} min, RTO {} min", o.environment, o.region, o.rpo_minutes, o.rto_minutes);
            for c in &o.components {
                let mark = match c.status {
                    CheckStatus::Pass => "ok  ",
                    CheckStatus::Warn => "warn",
                    CheckStatus::Fail => "FAIL",
                };
                println!("{mark}  {:<10} {}", c.component, c.detail);
                if let Some(r) = &c.resource {
                    println!("      resource  {r}");
                }
                if !c.protected_by.is_empty() {
                    let extra = [(c.continuous, "continuous"), (c.cross_region_copy, "cross-region copy")]
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, w)| *w)
                        .collect::<Vec<_>>();
                    println!(
                        "      by        {}{}",
                        c.protected_by.join(", "),
                        if extra.is_empty() { String::new() } else { format!(" ({})", extra.join(", ")) }
                    );
                }
                if let Some(at) = c.last_point_ms {
                    println!("      latest    {} ({} min ago)", when(at), c.last_point_age_minutes.unwrap_or_default());
                }
                if c.status != CheckStatus::Pass || !c.by_aws_backup {
                    println!("      recovery  {}", c.recovery);
                }
            }
            for v in &o.vaults {
                let lock = if v.locked {
                    format!(
                        "locked, retention {}–{} days",
                        v.min_retention_days.map(|d| d.to_string()).unwrap_or("?".into()),
                        v.max_retention_days.map(|d| d.to_string()).unwrap_or("?".into())
                    )
                } else {
                    "not locked".into()
                };
                println!(
                    "vault {}: {} recovery points, {}, {}",
                    v.name,
                    v.recovery_points,
                    v.encryption_key.as_deref().map(|k| format!("key {k}")).unwrap_or("no KMS key".into()),
                    lock
                );
            }
            for p in &o.plans {
                println!("plan {} ({})", p.name, p.id);
                for r in &p.rules {
                    let schedule = if r.continuous { "continuous".to_string() } else { r.schedule.clone().unwrap_or_else(|| "on demand".into()) };
                    let next = r.next_run_ms.map(|n| format!(", next {}", when(n))).unwrap_or_default();
                    let keep = r.delete_after_days.map(|d| format!(", kept {d} days")).unwrap_or_default();
                    println!("  rule {} → {}: {schedule}{next}{keep}, {} copies", r.name, r.vault, r.copies.len());
                }
            }
            match o.failed_jobs {
                Some(0) => {}
                Some(n) => println!("{n} backup or copy jobs did not complete in the last 7 days: `vigil backup jobs --state FAILED`"),
                None => println!("the backup jobs could not be read (below)"),
            }
            for p in &o.problems {
                println!("could not read: {p}");
            }
            Ok(if failing { 9 } else { 0 })
        }
        BackupCommand::Events { job, days } => {
            let since = chrono::Utc::now().timestamp_millis() - days.clamp(1, 365) * 86_400_000;
            let r = backups.job_events(&job, Some(since)).await?;
            if json {
                print_json(&r);
            } else if r.events.is_empty() {
                println!("no events of job {} in {} in the last {days} days", r.job, r.log_group);
            } else {
                for e in &r.events {
                    let done = e.percent_done.as_deref().map(|p| format!(" ({p} %)")).unwrap_or_default();
                    println!("{}  {:<9} {}{done}", e.at, e.state, e.kind);
                    if let Some(m) = &e.message {
                        println!("    {m}");
                    }
                }
            }
            Ok(0)
        }
        BackupCommand::Jobs { kind, state, days, limit } => {
            let jobs = backups.jobs(&kind, state.as_deref(), days, limit).await?;
            if json {
                print_json(&jobs);
            } else if jobs.is_empty() {
                println!("no {kind} jobs{} in the last {days} days", state.map(|s| format!(" in state {s}")).unwrap_or_default());
            } else {
                for j in &jobs {
                    let took = j.duration_seconds.map(|s| format!(" in {s} s")).unwrap_or_default();
                    println!("{}  {:<9} {}  {}{took}", when(j.created_ms), j.state, j.id, j.resource);
                    if let Some(m) = &j.message {
                        println!("    {m}");
                    }
                    if let Some(m) = &j.meaning {
                        println!("    → {m}");
                    }
                }
            }
            Ok(0)
        }
        BackupCommand::Points { vault, resource } => {
            let points = backups.recovery_points(vault.as_deref(), resource.as_deref()).await?;
            if json {
                print_json(&points);
            } else if points.is_empty() {
                println!("no recovery points");
            } else {
                for p in &points {
                    let keep = p.delete_at_ms.map(|d| format!(", deleted {}", when(d))).unwrap_or_default();
                    println!("{}  {:<9} {}  {}{keep}", when(p.created_ms), p.status, p.resource, p.arn);
                }
            }
            Ok(0)
        }
        BackupCommand::Start { resource, retention_days, confirm } => {
            let job = backups.start_backup(&BackupRequest { resource, retention_days, confirm }).await?;
            if json {
                print_json(&job);
            } else {
                println!("backup job {} of {}: {} (vault {})", job.id, job.resource, job.state, job.vault);
                if let Some(p) = &job.recovery_point {
                    println!("    recovery point {p}");
                }
                if let Some(m) = &job.meaning {
                    println!("    → {m}");
                }
                println!("follow it with `vigil backup jobs`");
            }
            Ok(if matches!(job.state.as_str(), "FAILED" | "ABORTED" | "EXPIRED") { 1 } else { 0 })
        }
        BackupCommand::Restore { point, target, vault, prefixes, confirm } => {
            let req = RestoreRequest { point, vault, target, prefixes, confirm };
            let r = with_progress(app, "restore", json, |p| async move { backups.restore(&req, &p).await }).await?;
            if json {
                print_json(&r);
            } else {
                print_restore(&r);
            }
            Ok(if r.checks.iter().all(|c| c.matches) { 0 } else { 9 })
        }
        BackupCommand::RestoreTime { time, target, source, confirm } => {
            let req = TimeRestoreRequest { source, time, target, confirm };
            let r = with_progress(app, "restore", json, |p| async move { backups.restore_to_time(&req, &p).await }).await?;
            if json {
                print_json(&r);
            } else {
                print_restore(&r);
            }
            Ok(if r.checks.iter().all(|c| c.matches) { 0 } else { 9 })
        }
        BackupCommand::Controls { pdf, csv } => {
            let r = backups.compliance().await?;
            let mut written = vec![];
            for (path, format) in [(pdf, "pdf"), (csv, "csv")] {
                if let Some(path) = path {
                    written.push(backups.write_compliance(r.clone(), &path, format).await?);
                }
            }
            let failing = r.controls.iter().any(|c| c.status == CheckStatus::Fail);
            if json {
                print_json(&serde_json::json!({ "report": r, "written": written }));
            } else {
                println!("{} ({}): {} resources, {} recovery points, {} vaults", r.environment, r.region, r.resources, r.recovery_points, r.vaults);
                for c in &r.controls {
                    let mark = match c.status {
                        CheckStatus::Pass => "ok  ",
                        CheckStatus::Warn => "n/a ",
                        CheckStatus::Fail => "FAIL",
                    };
                    let params = c.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
                    println!("{mark}  {:<50} {}/{} {}", c.id, c.evaluated - c.failing, c.evaluated, params);
                    for x in c.results.iter().filter(|x| x.status != CheckStatus::Pass) {
                        println!("      {}  {}", x.resource, x.evidence);
                    }
                }
                for f in &r.frameworks {
                    println!("framework {} ({})", f.name, f.status);
                    for c in &f.controls {
                        let vigil = c.vigil.as_ref().map(|v| format!("{:?}", v.status).to_lowercase()).unwrap_or_else(|| "unknown control".into());
                        println!("  {:<50} Vigil: {vigil}  ({})", c.name, c.scope);
                    }
                }
                for w in &written {
                    println!("wrote {} ({} bytes, SHA-256 {})", w.path, w.bytes, w.sha256);
                }
                for p in &r.problems {
                    println!("could not read: {p}");
                }
            }
            Ok(if !r.complete() {
                1
            } else if failing {
                9
            } else {
                0
            })
        }
        BackupCommand::UseCluster { cluster, confirm } => {
            let req = UseClusterRequest { cluster, confirm };
            let r = with_progress(app, "use_cluster", json, |p| async move { backups.use_cluster(&req, &p).await }).await?;
            if json {
                print_json(&r);
            } else {
                println!("{}'s platform now uses {} ({}), was {}", r.environment, r.cluster, r.endpoint, r.previous);
                for c in &r.checks {
                    println!("    {}  {:<17} {} ({})", if c.matches { "ok  " } else { "diff" }, c.name, c.restored, c.source);
                }
                println!("    worker restarted: {}", r.worker);
                println!("    secret {} points at it{}", r.secret, if r.console_follows { "; so does this console" } else { "" });
                if let Some(n) = &r.next {
                    println!("    → {n}");
                }
            }
            Ok(0)
        }
        BackupCommand::RestoreTest { components, confirm } => {
            let req = RestoreTestRequest { components, confirm };
            let r = with_progress(app, "restore_test", json, |p| async move { backups.restore_test(&req, &p).await }).await?;
            if json {
                print_json(&r);
            } else {
                r.tests.iter().for_each(print_restore);
                for (c, why) in &r.skipped {
                    println!("not tested: {c}: {why}");
                }
                if r.tests.is_empty() {
                    println!("nothing was tested");
                }
            }
            Ok(if r.passed() { 0 } else { 9 })
        }
        BackupCommand::Restores { limit } => {
            let all = backups.restores(limit).await?;
            if json {
                print_json(&all);
            } else if all.is_empty() {
                println!("no restores from this console yet");
            } else {
                all.iter().for_each(print_restore);
            }
            Ok(0)
        }
    }
}

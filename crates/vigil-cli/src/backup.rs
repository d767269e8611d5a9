//! `vigil backup …`: the platform's AWS Backup state over the same `app.backups()` as the
//! Backups page — each component's coverage against the RPO, the vaults and plans, jobs and
//! recovery points.

use crate::{print_json, Failure};
use clap::Subcommand;
use vigil_core::App;
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
    /// Recovery points in a vault (the environment's own by default), newest first.
    Points {
        #[arg(long)]
        vault: Option<String>,
        /// Only the points of this resource ARN.
        #[arg(long)]
        resource: Option<String>,
    },
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
    }
}

//! Backups: the platform's AWS Backup state for the current environment — what each component's
//! recovery rests on against the RPO ([`coverage`]), the vaults and plans, the backup, copy and
//! restore jobs (failures with what they mean) with their CloudWatch events ([`events`]), and
//! the recovery points; an on-demand backup (`ondemand`), a restore that finishes
//! ([`restore`]; to a point in time, [`pitr`]), the platform pointed at a restored cluster ([`use_cluster`]), restore tests
//! that validate and clean up (`restore_test`, with [`platform_data`]); the compliance controls
//! ([`controls`]) evaluated over what AWS Backup says ([`compliance`]).

pub mod compliance;
pub mod controls;
pub mod coverage;
pub mod events;
mod ondemand;
pub mod pitr;
pub mod platform_data;
pub mod restore;
mod restore_test;
pub mod use_cluster;

use crate::app::area;
use crate::aws;
use crate::error::{Error, Result};
use vigil_aws::backup::{Backup, JobFilter, JobKind, PlanInfo, SelectionInfo};
use vigil_aws::AwsError;
use vigil_dto::backup::{BackupJobView, BackupOverview, PlanView, RecoveryPointView, SelectionView, RPO_MINUTES, RTO_MINUTES};

area!(
    /// The backups area (`app.backups()`).
    Backups
);

/// How far back the overview counts failed jobs.
const FAILED_JOBS_DAYS: i64 = 7;

/// The job states that mean a backup did not happen.
const FAILED: [&str; 4] = ["FAILED", "EXPIRED", "ABORTED", "PARTIAL"];

impl Backups<'_> {
    /// The current environment's components, vaults and plans. What cannot be read is listed in
    /// `problems` with the classified AWS error; the rest is still shown.
    pub async fn overview(&self) -> Result<BackupOverview> {
        let env = self.current().await?;
        let ctx = self.aws_context(&env).await;
        let op = aws::new_op_id();
        let backup = Backup::new(&ctx, &op);
        let now = chrono::Utc::now().timestamp_millis();
        let mut problems = vec![];

        let (plans, unread) = read_plans(&backup).await;
        problems.extend(unread.into_iter().map(|e| e.message));
        let (vaults, unread) = read_vaults(&backup).await;
        problems.extend(unread.into_iter().map(|e| e.message));

        let mut components = coverage::components(&env.deployment);
        for c in components.iter_mut() {
            if c.resource.is_none() {
                continue;
            }
            if let Err(e) = read_component(&ctx, &op, c).await {
                problems.push(e.message);
                continue;
            }
            if c.by_aws_backup {
                match backup.points_of(c.resource.as_deref().unwrap_or_default(), 20).await {
                    Ok(points) => c.points = points,
                    Err(e) => problems.push(e.message),
                }
            }
        }
        let home = coverage::Home { region: env.region.clone(), account: None };
        let components = components.iter().map(|c| coverage::coverage(c, &plans, &home, now)).collect();

        let since = now - FAILED_JOBS_DAYS * 86_400_000;
        let mut failed_jobs = Some(0);
        for kind in [JobKind::Backup, JobKind::Copy] {
            match backup.jobs(kind, &JobFilter { created_after_ms: Some(since), ..Default::default() }).await {
                Ok(jobs) => failed_jobs = failed_jobs.map(|n| n + jobs.iter().filter(|j| FAILED.contains(&j.state.as_str())).count()),
                Err(e) => {
                    problems.push(e.message);
                    failed_jobs = None;
                }
            }
        }
        problems.dedup();
        Ok(BackupOverview {
            environment: env.name.clone(),
            region: env.region.clone(),
            checked_at_ms: now,
            rpo_minutes: RPO_MINUTES,
            rto_minutes: RTO_MINUTES,
            components,
            vaults,
            plans: plans
                .iter()
                .map(|(p, selections)| PlanView {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    rules: p.rules.iter().map(|r| coverage::rule_view(r, now)).collect(),
                    selections: selections
                        .iter()
                        .map(|s| SelectionView { name: s.name.clone(), resources: s.resources.clone(), conditions: s.conditions.clone() })
                        .collect(),
                })
                .collect(),
            failed_jobs,
            problems,
        })
    }

    /// Backup, copy and restore jobs of the last `days` days, newest first; `state` filters
    /// (e.g. FAILED), at most `limit`.
    pub async fn jobs(&self, kind: &str, state: Option<&str>, days: i64, limit: usize) -> Result<Vec<BackupJobView>> {
        let kind = match kind {
            "backup" => JobKind::Backup,
            "copy" => JobKind::Copy,
            "restore" => JobKind::Restore,
            other => return Err(Error::validation("kind", format!("`{other}` is not a kind of job; use backup, copy or restore"))),
        };
        if !(1..=365).contains(&days) {
            return Err(Error::validation("days", format!("{days} days: look back between 1 and 365 days")));
        }
        let state = state.map(str::to_ascii_uppercase);
        let states: &[&str] = match kind {
            JobKind::Restore => &["PENDING", "RUNNING", "COMPLETED", "ABORTED", "FAILED"],
            _ => &["CREATED", "PENDING", "RUNNING", "ABORTING", "ABORTED", "COMPLETED", "FAILED", "EXPIRED", "PARTIAL"],
        };
        if let Some(s) = &state {
            if !states.contains(&s.as_str()) {
                return Err(Error::validation("state", format!("`{s}` is not a job state; use one of {}", states.join(", "))));
            }
        }
        let env = self.current().await?;
        let backup = Backup::new(&self.aws_context(&env).await, &aws::new_op_id());
        let since = chrono::Utc::now().timestamp_millis() - days * 86_400_000;
        let filter = JobFilter { state, created_after_ms: Some(since), limit: Some(limit), ..Default::default() };
        let jobs = backup.jobs(kind, &filter).await?;
        Ok(jobs.into_iter().map(|j| explained(kind, j)).collect())
    }

    /// The recovery points of `vault` (the environment's own when none is given), newest first.
    pub async fn recovery_points(&self, vault: Option<&str>, resource: Option<&str>) -> Result<Vec<RecoveryPointView>> {
        let env = self.current().await?;
        let vault = match vault.or(env.deployment.get("backup_vault").map(String::as_str)) {
            Some(v) if !v.trim().is_empty() => v.trim().to_string(),
            _ => {
                return Err(Error::validation(
                    "vault",
                    "no vault given and the environment names none: pass --vault, or set backup_vault in Environments → Edit → Deployment"
                        .to_string(),
                ))
            }
        };
        let backup = Backup::new(&self.aws_context(&env).await, &aws::new_op_id());
        let points = backup.recovery_points(&vault, None).await?;
        Ok(points.into_iter().filter(|p| resource.is_none_or(|r| p.resource == r)).collect())
    }
}

/// Every plan with its selections; what could not be read is returned beside them.
pub(crate) async fn read_plans(backup: &Backup) -> (Vec<(PlanInfo, Vec<SelectionInfo>)>, Vec<AwsError>) {
    let mut plans = vec![];
    let mut problems = vec![];
    match backup.plan_ids().await {
        Ok(ids) => {
            for id in ids {
                match (backup.plan(&id).await, backup.selections(&id).await) {
                    (Ok(Some(plan)), Ok(selections)) => plans.push((plan, selections)),
                    (Ok(None), _) => {}
                    (Err(e), _) | (_, Err(e)) => problems.push(e),
                }
            }
        }
        Err(e) => problems.push(e),
    }
    (plans, problems)
}

/// Every vault with its lock and access policy; what could not be read is returned beside them.
pub(crate) async fn read_vaults(backup: &Backup) -> (Vec<vigil_dto::backup::VaultView>, Vec<AwsError>) {
    let mut vaults = vec![];
    let mut problems = vec![];
    match backup.vault_names().await {
        Ok(names) => {
            for name in names {
                match backup.vault_detail(&name).await {
                    Ok(Some(v)) => vaults.push(v),
                    Ok(None) => {}
                    Err(e) => problems.push(e),
                }
            }
        }
        Err(e) => problems.push(e),
    }
    (vaults, problems)
}

/// Fills in a component's ARN and tags (and Aurora's restorable time) from AWS.
pub(crate) async fn read_component(ctx: &aws::AwsContext, op: &str, c: &mut coverage::Component) -> std::result::Result<(), AwsError> {
    match c.id {
        "aurora" => {
            if let Some(cluster) = vigil_aws::rds::Rds::new(ctx, op).cluster(&c.name).await? {
                c.resource = Some(cluster.arn.clone()).filter(|a| !a.is_empty()).or(c.resource.take());
                c.tags = cluster.tags;
                c.latest_restorable_ms = cluster.latest_restorable_ms;
            }
        }
        "documents" => {
            if let Some(tags) = vigil_aws::s3::S3::new(ctx, op).tags(&c.name).await? {
                c.tags = tags;
            }
        }
        "eks" => {
            if let Some(cluster) = vigil_aws::eks::Eks::new(ctx, op).cluster(&c.name).await? {
                c.resource = Some(cluster.arn.clone()).filter(|a| !a.is_empty()).or(c.resource.take());
                c.tags = cluster.tags;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A job with how long it took and, when it did not complete, what that means.
pub(crate) fn explained(kind: JobKind, mut j: BackupJobView) -> BackupJobView {
    j.meaning = meaning(kind, &j.state, j.message.as_deref());
    j.duration_seconds = j.completed_ms.map(|c| (c - j.created_ms).max(0) / 1000);
    j
}

/// What a job that did not complete means, and what to do (the seed's "failed backups" alert).
pub fn meaning(kind: JobKind, state: &str, message: Option<&str>) -> Option<String> {
    let m = message.unwrap_or_default().to_ascii_lowercase();
    let what = match state {
        "EXPIRED" => "the job did not start within its start window (the resource was busy, or too many jobs ran at once): widen the rule's start window or move its schedule",
        "ABORTED" => "someone or something stopped the job: see CloudTrail for StopBackupJob; the next scheduled run tries again",
        "PARTIAL" => "only part of the resource was backed up (for S3: objects that could not be read, e.g. in Glacier or encrypted with a key the role may not use)",
        "FAILED" if m.contains("access denied") || m.contains("not authorized") || m.contains("accessdenied") => {
            "the backup role may not read the resource or use its KMS key: allow it in the role's policy and the key's policy"
        }
        "FAILED" if m.contains("not found") || m.contains("does not exist") => "the resource no longer exists: take it out of the plan's selection, or restore it",
        "FAILED" if m.contains("kms") || m.contains("key") => "a KMS key the job needs is disabled, pending deletion, or denies the backup role",
        "FAILED" if m.contains("already exists") => "the restore's target already exists: restore under a new name",
        "FAILED" if m.contains("limit") || m.contains("quota") => "an AWS limit was reached (snapshots per cluster, concurrent jobs): raise the quota or prune old recovery points",
        "FAILED" => match kind {
            JobKind::Restore => "the restore did not finish: see the message; nothing was replaced",
            _ => "the backup did not happen: see the message; until a run succeeds the RPO is not met",
        },
        _ => return None,
    };
    Some(what.into())
}

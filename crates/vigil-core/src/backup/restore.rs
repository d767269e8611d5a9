//! A restore that finishes: a recovery point of Aurora or S3 restored to a new resource, never
//! over an existing one. AWS Backup's restore job is started and followed; for Aurora the
//! restored cluster (which AWS Backup makes without instances) gets as many instances as the
//! source has, of its classes, and its settings are checked against the source's (engine
//! version, parameter group, security groups, KMS key, IAM auth, encryption); for S3 the
//! restored objects are counted. The target's name is typed; every step is logged
//! (`backup.restore_started`, `backup.restore_instances`, `backup.restored`,
//! `backup.restore_failed`) and saved in the store (table `restores`) as it goes, so a restore
//! interrupted (a fault, Vigil closed) is continued by asking for the same restore again. The
//! measured time is kept with the record as evidence for the RTO.

use super::Backups;
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use crate::progress::{Progress, Stage};
use serde_json::json;
use sqlx::SqlitePool;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use vigil_aws::backup::Backup;
use vigil_aws::rds::{ClusterInfo, Rds};
use vigil_aws::s3::S3;
use vigil_dto::backup::{RestoreCheck, RestoreRecord, RestoreRequest, RTO_MINUTES};
use vigil_dto::Environment;

/// What a recovery point restores to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Aurora,
    S3,
}

/// The point's resource type as Vigil restores it.
pub fn kind_of(resource_type: &str) -> Result<Kind> {
    match resource_type {
        "Aurora" => Ok(Kind::Aurora),
        "S3" => Ok(Kind::S3),
        other => Err(Error::validation("point", format!("a recovery point of {other}: Vigil restores Aurora clusters and S3 buckets"))),
    }
}

/// The name a resource has in its ARN (a cluster's identifier, a bucket's name).
pub fn name_in(arn: &str) -> &str {
    arn.rsplit([':', '/']).next().unwrap_or(arn)
}

/// A new resource's name as AWS accepts it, or what is wrong with it.
pub fn check_target(kind: Kind, target: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::validation("target", format!("`{target}` {why}")));
    match kind {
        Kind::Aurora => {
            if target.is_empty() || target.len() > 63 {
                return bad("is not a cluster identifier: use 1 to 63 letters, digits and hyphens");
            }
            if !target.starts_with(|c: char| c.is_ascii_alphabetic()) {
                return bad("is not a cluster identifier: it must begin with a letter");
            }
            if !target.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || target.contains("--") || target.ends_with('-') {
                return bad("is not a cluster identifier: letters, digits and single hyphens only, not ending in a hyphen");
            }
        }
        Kind::S3 => {
            if target.len() < 3 || target.len() > 63 {
                return bad("is not a bucket name: use 3 to 63 characters");
            }
            let edge = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
            if !target.chars().all(|c| edge(c) || c == '-' || c == '.')
                || !target.starts_with(edge)
                || !target.ends_with(edge)
                || target.contains("..")
            {
                return bad("is not a bucket name: lowercase letters, digits, hyphens and dots, beginning and ending with a letter or digit");
            }
        }
    }
    Ok(())
}

/// The restore metadata AWS Backup is given: the point's own, with the new name (and, for S3,
/// a new bucket and the prefixes to restore).
pub fn metadata_for(kind: Kind, mut metadata: BTreeMap<String, String>, source: &str, target: &str, prefixes: &[String]) -> BTreeMap<String, String> {
    match kind {
        Kind::Aurora => {
            metadata.insert("DBClusterIdentifier".into(), target.into());
        }
        Kind::S3 => {
            metadata.insert("DestinationBucketName".into(), target.into());
            metadata.insert("NewBucket".into(), "true".into());
            if !prefixes.is_empty() {
                let items: Vec<String> = prefixes.iter().map(|p| format!("s3://{source}/{}", p.trim_start_matches('/'))).collect();
                metadata.insert("ItemsToRestore".into(), serde_json::to_string(&items).unwrap_or_default());
            }
        }
    }
    metadata
}

/// The restored cluster's settings against the source's.
pub fn compare(source: &ClusterInfo, restored: &ClusterInfo) -> Vec<RestoreCheck> {
    let check = |name: &str, s: String, r: String| RestoreCheck { name: name.into(), matches: s == r, source: s, restored: r };
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v.join(", ")
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    vec![
        check("engine_version", source.engine_version.clone(), restored.engine_version.clone()),
        check("parameter_group", opt(&source.parameter_group), opt(&restored.parameter_group)),
        check("security_groups", sorted(&source.security_groups), sorted(&restored.security_groups)),
        check("kms_key", opt(&source.kms_key), opt(&restored.kms_key)),
        check("iam_auth", source.iam_auth.to_string(), restored.iam_auth.to_string()),
        check("storage_encrypted", source.storage_encrypted.to_string(), restored.storage_encrypted.to_string()),
    ]
}

/// The instances a restored cluster gets: one per source instance, of its class, named after
/// the target (the writer first); one of `fallback` when the source has none left.
pub fn instances_for(target: &str, source: &[(String, String, bool)], fallback: &str) -> Vec<(String, String)> {
    let mut classes: Vec<(bool, String)> = source.iter().map(|(_, class, writer)| (!writer, class.clone())).collect();
    classes.sort();
    if classes.is_empty() {
        classes.push((false, fallback.to_string()));
    }
    classes.iter().enumerate().map(|(i, (_, class))| (format!("{target}-{}", i + 1), class.clone())).collect()
}

const SELECT: &str = "SELECT record FROM restores";

pub(super) async fn save(pool: &SqlitePool, r: &RestoreRecord) -> Result<()> {
    let now = crate::deploy::journal::now();
    let record = serde_json::to_string(r).map_err(|e| Error::Io(std::io::Error::other(e)))?;
    sqlx::query(
        "INSERT INTO restores (id, environment, target, state, record, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, record = excluded.record, updated_at = excluded.updated_at",
    )
    .bind(&r.id)
    .bind(&r.environment)
    .bind(&r.target)
    .bind(&r.state)
    .bind(record)
    .bind(&now)
    .bind(&now)
    .execute(pool)
    .await?;
    Ok(())
}

fn parse(rows: Vec<String>) -> Vec<RestoreRecord> {
    rows.iter().filter_map(|r| serde_json::from_str(r).ok()).collect()
}

/// The unfinished restore of `environment` to `target`, if any.
pub(super) async fn unfinished(pool: &SqlitePool, environment: &str, target: &str) -> Result<Option<RestoreRecord>> {
    let rows: Vec<String> = sqlx::query_scalar(&format!(
        "{SELECT} WHERE environment = ? COLLATE NOCASE AND target = ? AND state NOT IN ('restored', 'failed', 'tested') ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(environment)
    .bind(target)
    .fetch_all(pool)
    .await?;
    Ok(parse(rows).pop())
}

/// The restores of `environment`, newest first.
pub async fn list(pool: &SqlitePool, environment: &str, limit: i64) -> Result<Vec<RestoreRecord>> {
    let rows: Vec<String> =
        sqlx::query_scalar(&format!("{SELECT} WHERE environment = ? COLLATE NOCASE ORDER BY created_at DESC, rowid DESC LIMIT ?"))
            .bind(environment)
            .bind(limit)
            .fetch_all(pool)
            .await?;
    Ok(parse(rows))
}

pub(super) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A restore's outcome, its record kept as it stands: an error after the restore was asked of AWS
/// says how to continue it.
pub(super) async fn kept(pool: &SqlitePool, outcome: Result<()>, mut rec: RestoreRecord, started: bool) -> Result<RestoreRecord> {
    match outcome {
        Ok(()) => Ok(rec),
        Err(e) if !started => Err(e),
        Err(e) => {
            if rec.state != "failed" {
                rec.message = Some(e.to_string());
                rec.next = Some(format!("restore {} to {} again to continue from here ({})", rec.point, rec.target, rec.state));
            }
            save(pool, &rec).await?;
            Err(e)
        }
    }
}

/// The class of the instances of a restored cluster whose source has none left.
const FALLBACK_CLASS: &str = "db.r6g.large";

impl Backups<'_> {
    /// The current environment's restores, newest first (the RTO evidence).
    pub async fn restores(&self, limit: i64) -> Result<Vec<RestoreRecord>> {
        let env = self.current().await?;
        list(self.store().pool(), &env.name, limit.clamp(1, 1000)).await
    }

    /// Restores a recovery point to a new resource and follows it to its end (see the module).
    /// Asked again for the same point and target after an interruption, it continues.
    pub async fn restore(&self, req: &RestoreRequest, progress: &Progress) -> Result<RestoreRecord> {
        self.policy().require(Change::Restore)?;
        self.restore_as(req, false, progress).await
    }

    /// As [`Self::restore`]; `test` marks a restore test's (validated, then deleted).
    pub(super) async fn restore_as(&self, req: &RestoreRequest, test: bool, progress: &Progress) -> Result<RestoreRecord> {
        let env = self.current().await?;
        self.restore_in(&env, req, test, None, progress).await
    }

    /// As [`Self::restore_as`] for `env`, under operation id `op` when given (a DR step's).
    pub(crate) async fn restore_in(
        &self,
        env: &Environment,
        req: &RestoreRequest,
        test: bool,
        op: Option<&str>,
        progress: &Progress,
    ) -> Result<RestoreRecord> {
        let point_arn = req.point.trim();
        if point_arn.is_empty() {
            return Err(Error::validation("point", "name the recovery point to restore (its ARN: Backups → Recovery points lists them)"));
        }
        let target = req.target.trim();
        let vault = match req.vault.as_deref().or(env.deployment.get("backup_vault").map(String::as_str)).map(str::trim) {
            Some(v) if !v.is_empty() => v.to_string(),
            _ => return Err(Error::validation("vault", "no vault given and the environment names none: name the point's vault")),
        };
        let ctx = self.aws_context(env).await;
        let op = op.map(str::to_string).unwrap_or_else(aws::new_op_id);
        let backup = Backup::new(&ctx, &op);
        let Some(point) = backup.point(&vault, point_arn).await? else {
            return Err(Error::Backup {
                kind: "not_found",
                message: format!("no recovery point {point_arn} in vault {vault}"),
                hint: "Backups → Recovery points (or `vigil backup points`) lists the vault's points".into(),
            });
        };
        let kind = kind_of(&point.view.resource_type)?;
        check_target(kind, target)?;
        if kind == Kind::Aurora && !req.prefixes.is_empty() {
            return Err(Error::validation("prefixes", "prefixes restore part of a bucket; an Aurora cluster is restored whole"));
        }
        if !matches!(point.view.status.as_str(), "COMPLETED" | "AVAILABLE") {
            return Err(Error::Backup {
                kind: "point_not_ready",
                message: format!("the recovery point is {}: only a completed point can be restored", point.view.status),
                hint: "choose a completed point (Backups → Recovery points)".into(),
            });
        }
        let source = name_in(&point.view.resource).to_string();
        if target == source {
            return Err(Error::validation(
                "target",
                format!("{target} is the resource this point was taken of: a restore never writes over the running one; name a new one"),
            ));
        }
        if req.confirm.as_deref().map(str::trim) != Some(target) {
            return Err(Error::Backup {
                kind: "confirmation_required",
                message: format!(
                    "to restore {source}'s recovery point of {} to a new {} named {target}, type that name",
                    ms_text(point.view.created_ms),
                    kind_word(kind)
                ),
                hint: format!("confirm with {target}"),
            });
        }
        let pool = self.store().pool();
        let mut rec = match unfinished(pool, &env.name, target).await? {
            Some(r) if r.point == point.view.arn => r,
            Some(r) => {
                return Err(Error::Backup {
                    kind: "target_exists",
                    message: format!("a restore of another point to {target} is not finished ({})", r.state),
                    hint: format!("continue it (restore {} to {target} again), or choose another name", r.point),
                })
            }
            None => {
                let exists = match kind {
                    Kind::Aurora => Rds::new(&ctx, &op).cluster(target).await?.is_some(),
                    Kind::S3 => S3::new(&ctx, &op).tags(target).await?.is_some(),
                };
                if exists {
                    return Err(Error::Backup {
                        kind: "target_exists",
                        message: format!("{target} already exists: a restore makes a new {} and never writes over one", kind_word(kind)),
                        hint: format!("name another, e.g. {source}-restored-{}", chrono::Utc::now().format("%Y%m%d%H%M")),
                    });
                }
                RestoreRecord {
                    id: op.clone(),
                    environment: env.name.clone(),
                    component: component_of(&env.deployment, kind, &source),
                    resource_type: point.view.resource_type.clone(),
                    source: point.view.resource.clone(),
                    point: point.view.arn.clone(),
                    point_created_ms: point.view.created_ms,
                    target: target.to_string(),
                    prefixes: req.prefixes.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
                    state: "restoring".into(),
                    started_ms: now_ms(),
                    test,
                    ..Default::default()
                }
            }
        };
        rec.message = None;
        rec.next = None;
        let outcome = self.run(&backup, &ctx, &op, kind, &vault, point.role.as_deref(), &mut rec, progress).await;
        // Nothing was asked of AWS Backup yet: nothing to keep or continue.
        let started = rec.job.is_some() || unfinished(pool, &env.name, target).await?.is_some();
        kept(pool, outcome, rec, started).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        backup: &Backup,
        ctx: &aws::AwsContext,
        op: &str,
        kind: Kind,
        vault: &str,
        role: Option<&str>,
        rec: &mut RestoreRecord,
        progress: &Progress,
    ) -> Result<()> {
        let pool = self.store().pool();
        let source = name_in(&rec.source).to_string();
        if rec.job.is_none() {
            let role = match role {
                Some(r) => r.to_string(),
                None => self.backup_role(backup).await?,
            };
            let metadata = metadata_for(kind, backup.restore_metadata(vault, &rec.point).await?, &source, &rec.target, &rec.prefixes);
            // Saved first: the record's id makes a retried start (an answer lost) the same job.
            save(pool, rec).await?;
            let job = backup.start_restore(&rec.point, &metadata, &role, &rec.id).await?;
            rec.job = Some(job.clone());
            save(pool, rec).await?;
            self.log(
                Record::new(
                    "backup.restore_started",
                    &rec.environment,
                    json!({ "point": rec.point, "source": rec.source, "target": rec.target, "prefixes": rec.prefixes, "job": job }),
                )
                .op(op),
            )
            .await?;
        }
        if rec.state == "restoring" {
            let job = self.follow(backup, rec, progress).await?;
            rec.created_resource = job.created_resource.clone();
            rec.restore_seconds = job.completed_ms.map(|c| (c - job.created_ms).max(0) / 1000);
            rec.state = if kind == Kind::Aurora { "instances" } else { "checking" }.into();
            save(pool, rec).await?;
        }
        self.complete(ctx, op, kind, rec, progress).await
    }

    /// A restore from its restored resource on: the instances (Aurora), the checks, the record.
    pub(super) async fn complete(&self, ctx: &aws::AwsContext, op: &str, kind: Kind, rec: &mut RestoreRecord, progress: &Progress) -> Result<()> {
        let pool = self.store().pool();
        let source = name_in(&rec.source).to_string();
        if rec.state == "instances" {
            self.add_instances(ctx, op, &source, rec, progress).await?;
            rec.state = "checking".into();
            save(pool, rec).await?;
        }
        progress.start(Stage::Checking, 1);
        rec.checks = match kind {
            Kind::Aurora => {
                let rds = Rds::new(ctx, op);
                let restored = rds.cluster(&rec.target).await?.unwrap_or_default();
                match rds.cluster(&source).await? {
                    Some(s) => compare(&s, &restored),
                    None => vec![],
                }
            }
            Kind::S3 => {
                let s3 = S3::new(ctx, op);
                let prefixes = if rec.prefixes.is_empty() { vec![String::new()] } else { rec.prefixes.clone() };
                let (mut restored, mut now) = (0, 0);
                for p in &prefixes {
                    restored += s3.count(&rec.target, p).await?.unwrap_or(0);
                    now += s3.count(&source, p).await?.unwrap_or(0);
                }
                vec![RestoreCheck {
                    name: "objects".into(),
                    source: format!("{now} in {source} now"),
                    restored: format!("{restored} restored"),
                    // Nothing restored is wrong only where there was something to restore.
                    matches: restored > 0 || now == 0,
                }]
            }
        };
        progress.done.store(1, Ordering::Relaxed);
        let finished = now_ms();
        rec.finished_ms = Some(finished);
        rec.total_seconds = Some((finished - rec.started_ms).max(0) / 1000);
        rec.rto_met = rec.total_seconds.map(|s| s <= RTO_MINUTES * 60);
        rec.state = "restored".into();
        let differs: Vec<&str> = rec.checks.iter().filter(|c| !c.matches).map(|c| c.name.as_str()).collect();
        rec.next = Some(match (kind, differs.is_empty()) {
            (Kind::Aurora, true) => format!("{} is ready beside the running cluster; point the platform at it only when you mean to", rec.target),
            (Kind::Aurora, false) => {
                format!("{} differs from the source in {}: set those right before the platform uses it", rec.target, differs.join(", "))
            }
            (Kind::S3, true) => format!("the objects are in the new bucket {}", rec.target),
            (Kind::S3, false) => format!("no object was restored to {} while the source has some: check the prefixes and the point", rec.target),
        });
        save(pool, rec).await?;
        self.log(
            Record::new(
                "backup.restored",
                &rec.environment,
                json!({
                    "point": rec.point, "target": rec.target, "created": rec.created_resource, "instances": rec.instances,
                    "restore_seconds": rec.restore_seconds, "total_seconds": rec.total_seconds, "rto_met": rec.rto_met, "differs": differs,
                }),
            )
            .op(op),
        )
        .await
    }

    /// Follows the restore job until it ends; a failed or aborted job fails the restore.
    async fn follow(&self, backup: &Backup, rec: &mut RestoreRecord, progress: &Progress) -> Result<vigil_dto::backup::BackupJobView> {
        let id = rec.job.clone().unwrap_or_default();
        progress.start(Stage::Restoring, 100);
        loop {
            let Some(job) = backup.restore_job(&id).await? else {
                return Err(Error::Backup {
                    kind: "not_found",
                    message: format!("AWS Backup no longer knows restore job {id}"),
                    hint: "see Backups → Jobs (restore); start the restore again under a new name".into(),
                });
            };
            let percent = job.percent_done.as_deref().and_then(|p| p.parse::<f64>().ok()).unwrap_or(0.0);
            progress.done.store(percent.clamp(0.0, 100.0) as u64, Ordering::Relaxed);
            match job.state.as_str() {
                "COMPLETED" => return Ok(job),
                "FAILED" | "ABORTED" => {
                    let why = job.message.clone().unwrap_or_else(|| job.state.to_lowercase());
                    rec.state = "failed".into();
                    rec.finished_ms = Some(now_ms());
                    rec.message = Some(why.clone());
                    rec.next = super::meaning(vigil_aws::backup::JobKind::Restore, &job.state, job.message.as_deref());
                    self.log(
                        Record::new(
                            "backup.restore_failed",
                            &rec.environment,
                            json!({ "point": rec.point, "target": rec.target, "job": id, "why": why }),
                        )
                        .op(&rec.id),
                    )
                    .await?;
                    return Err(Error::Backup {
                        kind: "restore_failed",
                        message: format!("the restore to {} failed: {why}", rec.target),
                        hint: rec.next.clone().unwrap_or_default(),
                    });
                }
                _ => {}
            }
            if progress.cancelled() {
                return Err(Error::Backup {
                    kind: "cancelled",
                    message: format!("stopped following the restore to {}; AWS Backup's job {id} goes on", rec.target),
                    hint: format!("restore {} to {} again to follow it to its end", rec.point, rec.target),
                });
            }
            tokio::time::sleep(self.deploy_poll).await;
        }
    }

    /// Creates the restored cluster's instances and waits until they are available.
    async fn add_instances(&self, ctx: &aws::AwsContext, op: &str, source: &str, rec: &mut RestoreRecord, progress: &Progress) -> Result<()> {
        let rds = Rds::new(ctx, op);
        let Some(restored) = rds.cluster(&rec.target).await? else {
            return Err(Error::Backup {
                kind: "not_found",
                message: format!("the restored cluster {} is not there", rec.target),
                hint: "see Backups → Jobs (restore) for what the restore job made".into(),
            });
        };
        let source_instances: Vec<(String, String, bool)> = match rds.cluster(source).await? {
            Some(s) => {
                let classes = rds.instances(source).await?;
                s.members
                    .iter()
                    .map(|(id, writer)| (id.clone(), classes.iter().find(|i| &i.id == id).map(|i| i.class.clone()).unwrap_or_default(), *writer))
                    .collect()
            }
            None => vec![],
        };
        let wanted = instances_for(&rec.target, &source_instances, FALLBACK_CLASS);
        progress.start(Stage::Instances, wanted.len() as u64);
        let tags = [("pj:restored-from", rec.point.as_str())];
        for (id, class) in &wanted {
            let class = if class.is_empty() { FALLBACK_CLASS } else { class };
            rds.create_instance(&rec.target, &restored.engine, id, class, &tags).await?;
        }
        rec.instances = wanted.iter().map(|(id, _)| id.clone()).collect();
        save(self.store().pool(), rec).await?;
        self.log(Record::new("backup.restore_instances", &rec.environment, json!({ "cluster": rec.target, "instances": rec.instances })).op(op))
            .await?;
        loop {
            let now = rds.instances(&rec.target).await?;
            let ready = rec.instances.iter().filter(|id| now.iter().any(|i| &i.id == *id && i.status == "available")).count();
            progress.done.store(ready as u64, Ordering::Relaxed);
            if ready == rec.instances.len() {
                return Ok(());
            }
            if let Some(bad) = now
                .iter()
                .find(|i| rec.instances.contains(&i.id) && matches!(i.status.as_str(), "failed" | "incompatible-parameters" | "storage-full"))
            {
                return Err(Error::Backup {
                    kind: "instance_failed",
                    message: format!("instance {} of the restored cluster is {}", bad.id, bad.status),
                    hint: "see the instance's events in the RDS console; delete it, then restore again to make it anew".into(),
                });
            }
            tokio::time::sleep(self.deploy_poll).await;
        }
    }

    /// The role AWS Backup takes when the point does not name one: a selection's.
    async fn backup_role(&self, backup: &Backup) -> Result<String> {
        let (plans, unread) = super::read_plans(backup).await;
        if let Some(e) = unread.into_iter().next() {
            return Err(e.into());
        }
        plans.iter().flat_map(|(_, s)| s.iter()).map(|s| s.role.clone()).find(|r| !r.is_empty()).ok_or_else(|| Error::Backup {
            kind: "no_backup_role",
            message: "no backup role to restore as: the point names none and no backup plan has a selection".into(),
            hint: "deploy the platform's backup stack (it makes the role AWS Backup takes)".into(),
        })
    }
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Aurora => "cluster",
        Kind::S3 => "bucket",
    }
}

fn ms_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

/// Which platform component a source is (aurora, documents), or the resource type's name.
fn component_of(deployment: &BTreeMap<String, String>, kind: Kind, source: &str) -> String {
    match kind {
        Kind::Aurora if deployment.get("db_cluster_id").is_some_and(|c| c == source) => "aurora".into(),
        Kind::S3 if deployment.get("bucket").is_some_and(|b| b == source) => "documents".into(),
        Kind::Aurora => "Aurora".into(),
        Kind::S3 => "S3".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_follow_aws_rules() {
        assert!(check_target(Kind::Aurora, "pj-prod-db-restored-1").is_ok());
        for bad in ["", "1db", "db--x", "db-", "db_x", &"a".repeat(64)] {
            let e = check_target(Kind::Aurora, bad).unwrap_err();
            assert_eq!(e.kind(), "validation", "{bad}");
        }
        assert!(check_target(Kind::S3, "pj-prod-documents.restored").is_ok());
        for bad in ["ab", "Upper", "-x-y", "x..y", "x-y-", "x_y"] {
            assert!(check_target(Kind::S3, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_metadata_names_the_new_resource_and_the_prefixes() {
        let from =
            BTreeMap::from([("DBClusterIdentifier".to_string(), "pj-db".to_string()), ("Engine".to_string(), "aurora-postgresql".to_string())]);
        let m = metadata_for(Kind::Aurora, from, "pj-db", "pj-db-r", &[]);
        assert_eq!((m["DBClusterIdentifier"].as_str(), m["Engine"].as_str()), ("pj-db-r", "aurora-postgresql"));
        let m = metadata_for(Kind::S3, BTreeMap::new(), "docs", "docs-r", &["output/".into(), "/input/a".into()]);
        assert_eq!((m["DestinationBucketName"].as_str(), m["NewBucket"].as_str()), ("docs-r", "true"));
        assert_eq!(m["ItemsToRestore"], r#"["s3://docs/output/","s3://docs/input/a"]"#);
        assert!(!metadata_for(Kind::S3, BTreeMap::new(), "docs", "docs-r", &[]).contains_key("ItemsToRestore"));
    }

    #[test]
    fn a_restored_cluster_gets_the_sources_instances_writer_first() {
        let source = [("db-2".to_string(), "db.r6g.xlarge".to_string(), false), ("db-1".to_string(), "db.r6g.2xlarge".to_string(), true)];
        assert_eq!(
            instances_for("new", &source, "db.r6g.large"),
            [("new-1".to_string(), "db.r6g.2xlarge".to_string()), ("new-2".to_string(), "db.r6g.xlarge".to_string())]
        );
        assert_eq!(instances_for("new", &[], "db.r6g.large"), [("new-1".to_string(), "db.r6g.large".to_string())]);
    }

    #[test]
    fn differing_settings_are_named() {
        let source = ClusterInfo {
            engine_version: "16.4".into(),
            parameter_group: Some("pj".into()),
            security_groups: vec!["sg-2".into(), "sg-1".into()],
            kms_key: Some("k".into()),
            iam_auth: true,
            storage_encrypted: true,
            ..Default::default()
        };
        let same = ClusterInfo { security_groups: vec!["sg-1".into(), "sg-2".into()], ..source.clone() };
        assert!(compare(&source, &same).iter().all(|c| c.matches));
        let other = ClusterInfo { iam_auth: false, parameter_group: None, ..same };
        let differs: Vec<String> = compare(&source, &other).into_iter().filter(|c| !c.matches).map(|c| c.name).collect();
        assert_eq!(differs, ["parameter_group", "iam_auth"]);
        assert_eq!(name_in("arn:aws:rds:eu-west-1:1:cluster:pj-db"), "pj-db");
        assert_eq!(name_in("arn:aws:s3:::docs"), "docs");
    }
}

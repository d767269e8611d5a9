//! Restore tests: the latest completed recovery point of each resource AWS Backup protects
//! (Aurora, the documents bucket) restored to a new, dated resource (`<source>-rt-<time>`) as a
//! restore is ([`super::restore`]: Aurora gets its instances and its settings checked), then
//! validated — Aurora over a connection as the worker's login: the schema's migrations, the
//! job ledger's and the audit log's rows against the running database ([`super::platform_data`]);
//! S3 by its objects — its duration kept, and deleted (instances, then the cluster without a
//! final snapshot; every object version, then the bucket). Only what the test itself made is
//! ever deleted. A validation that cannot be done (the cluster not reachable from here) fails the
//! test, and it is still cleaned up.
//!
//! The environment's name is typed (a test makes resources that cost money while they run).
//! Every step is saved with the record and logged (`backup.restore_test` at the end); a run
//! interrupted is finished by the next run before it starts new tests. The compliance control
//! PJ_RESTORE_TEST_WITHIN_30_DAYS counts these records. Scheduling is the OS's: `vigil backup
//! restore-test --confirm <environment>` from cron or Task Scheduler.

use super::platform_data::{self, WorkerSecret};
use super::restore::{kind_of, list, name_in, now_ms, save, Kind};
use super::Backups;
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use crate::progress::{Progress, Stage};
use serde_json::json;
use std::sync::atomic::Ordering;
use vigil_aws::backup::Backup;
use vigil_aws::rds::Rds;
use vigil_aws::s3::S3;
use vigil_aws::secretsmanager::SecretsManager;
use vigil_dto::backup::{RestoreCheck, RestoreRecord, RestoreRequest, RestoreTestReport, RestoreTestRequest};

/// The name a restore test restores `source` to at `now`: within AWS's 63 characters, the
/// source's name cut (never ending in a hyphen or dot) to leave room for the time.
pub fn test_target(source: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let suffix = format!("-rt-{}", now.format("%Y%m%d%H%M%S"));
    let room = 63 - suffix.len();
    let head: String = source.chars().take(room).collect();
    format!("{}{suffix}", head.trim_end_matches(['-', '.']))
}

/// The states a restore test is finished in.
fn finished(state: &str) -> bool {
    matches!(state, "tested" | "failed")
}

impl Backups<'_> {
    /// Runs a restore test of each protected resource (see the module); unfinished tests of an
    /// earlier run are finished first.
    pub async fn restore_test(&self, req: &RestoreTestRequest, progress: &Progress) -> Result<RestoreTestReport> {
        self.policy().require(Change::RestoreTest)?;
        let env = self.current().await?;
        let unknown: Vec<&str> = req.components.iter().map(String::as_str).filter(|c| !matches!(*c, "aurora" | "documents")).collect();
        if !unknown.is_empty() {
            return Err(Error::validation(
                "components",
                format!("{}: a restore test restores aurora and documents (what AWS Backup protects and Vigil restores)", unknown.join(", ")),
            ));
        }
        if req.confirm.as_deref().map(str::trim) != Some(env.name.as_str()) {
            return Err(Error::Backup {
                kind: "confirmation_required",
                message: format!(
                    "a restore test of {} restores each protected resource's latest recovery point to a new resource, validates it and deletes it; type the environment's name",
                    env.name
                ),
                hint: format!("confirm with {}", env.name),
            });
        }
        let ctx = self.aws_context(&env).await;
        let op = aws::new_op_id();
        let backup = Backup::new(&ctx, &op);
        let pool = self.store().pool();
        let mut report = RestoreTestReport::default();

        // What an earlier run left (a fault, Vigil closed) is finished first.
        let left: Vec<RestoreRecord> = list(pool, &env.name, 1000).await?.into_iter().filter(|r| r.test && !finished(&r.state)).collect();
        for rec in left {
            let rec = if matches!(rec.state.as_str(), "restoring" | "instances" | "checking") {
                match self.restore_as(&request_for(&rec), true, progress).await {
                    Ok(r) => r,
                    Err(e) => return self.stopped(e, &env.name, &rec.target).await,
                }
            } else {
                rec
            };
            report.tests.push(self.finish_test(&ctx, &op, rec, progress).await?);
        }

        let mut components = super::coverage::components(&env.deployment);
        components.retain(|c| c.by_aws_backup && c.resource.is_some() && (req.components.is_empty() || req.components.iter().any(|r| r == c.id)));
        for mut c in components {
            if c.id == "eks" {
                report.skipped.push((c.id.into(), "EKS holds no platform data (its workloads come from the bundle): a deploy brings it back".into()));
                continue;
            }
            super::read_component(&ctx, &op, &mut c).await?;
            let arn = c.resource.clone().unwrap_or_default();
            let point = backup.points_of(&arn, 20).await?.into_iter().find(|p| matches!(p.status.as_str(), "COMPLETED" | "AVAILABLE"));
            let Some(point) = point else {
                report.skipped.push((c.id.into(), format!("{} has no completed recovery point to test", c.name)));
                continue;
            };
            // A name no earlier test used (RDS keeps a deleted cluster's snapshot names).
            let used: Vec<String> = list(pool, &env.name, 1000).await?.into_iter().map(|r| r.target).collect();
            let now = chrono::Utc::now();
            let target = (0..)
                .map(|s| test_target(name_in(&point.resource), now + chrono::Duration::seconds(s)))
                .find(|t| !used.contains(t))
                .unwrap_or_default();
            let rr = RestoreRequest {
                point: point.arn.clone(),
                vault: Some(point.vault.clone()).filter(|v| !v.is_empty()),
                target: target.clone(),
                prefixes: vec![],
                confirm: Some(target.clone()),
            };
            let rec = match self.restore_as(&rr, true, progress).await {
                Ok(r) => r,
                Err(e) => return self.stopped(e, &env.name, &target).await,
            };
            report.tests.push(self.finish_test(&ctx, &op, rec, progress).await?);
        }
        Ok(report)
    }

    /// A restore that did not finish: a failed restore job is the test's result (recorded); any
    /// other error stops the run, the record kept where it is for the next run to finish.
    async fn stopped(&self, e: Error, environment: &str, target: &str) -> Result<RestoreTestReport> {
        let failed = matches!(&e, Error::Backup { kind: "restore_failed", .. });
        if failed {
            if let Some(rec) = list(self.store().pool(), environment, 1000).await?.into_iter().find(|r| r.target == target && r.test) {
                self.log(Record::new("backup.restore_test", environment, test_details(&rec)).op(&rec.id)).await?;
            }
        }
        Err(e)
    }

    /// Validates a restored test resource, deletes it, and records how it went.
    async fn finish_test(&self, ctx: &aws::AwsContext, op: &str, mut rec: RestoreRecord, progress: &Progress) -> Result<RestoreRecord> {
        let pool = self.store().pool();
        let kind = kind_of(&rec.resource_type)?;
        let env = self.current().await?;
        // Never the platform's own: only a resource the test made goes.
        let own = [env.deployment.get("db_cluster_id"), env.deployment.get(super::use_cluster::STACK_CLUSTER), env.deployment.get("bucket")];
        if own.iter().flatten().any(|o| **o == rec.target) || name_in(&rec.source) == rec.target {
            return Err(Error::Backup {
                kind: "refused",
                message: format!("{} is the platform's own: a restore test deletes only what it made", rec.target),
                hint: "report this; nothing was deleted".into(),
            });
        }
        if rec.state == "restored" {
            progress.start(Stage::Validating, 1);
            rec.validation = match kind {
                Kind::Aurora => self.validate_aurora(ctx, op, &env, &rec).await?,
                // The objects were counted against the source's with the restore's checks.
                Kind::S3 => vec![],
            };
            progress.done.store(1, Ordering::Relaxed);
            rec.state = "cleaning".into();
            save(pool, &rec).await?;
        }
        if rec.state == "cleaning" {
            progress.start(Stage::Cleaning, 1);
            let removed = match kind {
                Kind::Aurora => self.delete_test_cluster(ctx, op, &rec, progress).await?,
                Kind::S3 => format!("{} object versions and the bucket", S3::new(ctx, op).delete_bucket(&rec.target).await?),
            };
            rec.cleaned_ms = Some(now_ms());
            rec.state = "tested".into();
            let bad: Vec<&str> = rec.checks.iter().chain(&rec.validation).filter(|c| !c.matches).map(|c| c.name.as_str()).collect();
            rec.next = Some(if bad.is_empty() {
                format!("{} restored, validated and deleted ({removed})", rec.target)
            } else {
                format!("the restored data failed {}: look at the recovery point before you need it", bad.join(", "))
            });
            save(pool, &rec).await?;
            self.log(Record::new("backup.restore_test", &rec.environment, test_details(&rec)).op(op)).await?;
        }
        Ok(rec)
    }

    /// The restored cluster's data against the running cluster's; a connection that cannot be
    /// made is a failed check (the test cannot vouch for the data), not an error.
    async fn validate_aurora(&self, ctx: &aws::AwsContext, op: &str, env: &vigil_dto::Environment, rec: &RestoreRecord) -> Result<Vec<RestoreCheck>> {
        let rds = Rds::new(ctx, op);
        let platform = crate::deploy::deployed_platform(env)?;
        let secret = WorkerSecret::read(&SecretsManager::new(ctx, op), &platform).await?;
        let ca_file = env.platform_db.as_ref().and_then(|d| d.ca_file.clone());
        let Some(restored) = rds.cluster(&rec.target).await? else {
            return Err(Error::Backup {
                kind: "not_found",
                message: format!("the restored cluster {} is gone", rec.target),
                hint: "run the restore test again".into(),
            });
        };
        let running = match rds.cluster(name_in(&rec.source)).await? {
            Some(c) => platform_data::read(&c, &secret, ca_file.clone()).await.map_err(|e| e.to_string()),
            None => Err(format!("{} is not there", name_in(&rec.source))),
        };
        Ok(match platform_data::read(&restored, &secret, ca_file).await {
            Ok(contents) => platform_data::checks(&contents, &running),
            Err(e) => vec![RestoreCheck { name: "connect".into(), source: "the worker's login".into(), restored: e.to_string(), matches: false }],
        })
    }

    /// Deletes the test cluster's instances, waits until they are gone, then the cluster.
    async fn delete_test_cluster(&self, ctx: &aws::AwsContext, op: &str, rec: &RestoreRecord, progress: &Progress) -> Result<String> {
        let rds = Rds::new(ctx, op);
        let Some(cluster) = rds.cluster(&rec.target).await? else {
            return Ok("already gone".into());
        };
        let members: Vec<String> = cluster.members.iter().map(|(id, _)| id.clone()).collect();
        progress.start(Stage::Cleaning, members.len() as u64 + 1);
        for id in &members {
            rds.delete_instance(id).await?;
        }
        loop {
            let left = rds.instances(&rec.target).await?.into_iter().filter(|i| members.contains(&i.id)).count();
            progress.done.store((members.len() - left) as u64, Ordering::Relaxed);
            if left == 0 {
                break;
            }
            if progress.cancelled() {
                return Err(Error::Backup {
                    kind: "cancelled",
                    message: format!("stopped waiting for {}'s instances to go", rec.target),
                    hint: "run the restore test again: it finishes the clean-up first".into(),
                });
            }
            tokio::time::sleep(self.deploy_poll).await;
        }
        if cluster.deletion_protection {
            rds.set_deletion_protection(&rec.target, false).await?;
        }
        rds.delete_cluster(&rec.target).await?;
        progress.done.store(members.len() as u64 + 1, Ordering::Relaxed);
        Ok(format!("{} instances and the cluster", members.len()))
    }
}

/// The request that continues `rec`'s restore.
fn request_for(rec: &RestoreRecord) -> RestoreRequest {
    RestoreRequest {
        point: rec.point.clone(),
        vault: None,
        target: rec.target.clone(),
        prefixes: rec.prefixes.clone(),
        confirm: Some(rec.target.clone()),
    }
}

fn test_details(rec: &RestoreRecord) -> serde_json::Value {
    json!({
        "component": rec.component, "point": rec.point, "target": rec.target, "state": rec.state, "passed": rec.passed(),
        "restore_seconds": rec.restore_seconds, "total_seconds": rec.total_seconds, "rto_met": rec.rto_met,
        "checks": rec.checks, "validation": rec.validation, "cleaned_ms": rec.cleaned_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_test_target_is_dated_and_within_aws_limits() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 5).unwrap();
        assert_eq!(test_target("pj-prod-db", now), "pj-prod-db-rt-20261201093005");
        // Cut to fit, never leaving a hyphen before the suffix's.
        assert_eq!(test_target(&format!("{}-x", "a".repeat(44)), now), format!("{}-rt-20261201093005", "a".repeat(44)));
        assert_eq!(test_target(&"b".repeat(63), now).len(), 63);
        assert!(finished("tested") && finished("failed") && !finished("cleaning"));
    }
}

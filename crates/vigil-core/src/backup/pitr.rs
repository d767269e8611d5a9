//! A point-in-time restore of Aurora: the cluster as it was at a time (or its latest restorable
//! time) restored to a new cluster with RestoreDBClusterToPointInTime, never over an existing one,
//! then finished as a recovery point's restore is ([`super::restore`]): the source's instances,
//! the settings checked, the record kept as RTO evidence (`point_in_time`, with the time restored
//! to as the point's time, so the data-loss window is measured). The time must lie in the
//! cluster's restore window; the target's name is typed. Interrupted, it continues when asked
//! again for the same target: the call is made only when the cluster is not there yet.

use super::restore::{check_target, kept, save, unfinished, Kind};
use super::Backups;
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use crate::progress::{Progress, Stage};
use serde_json::json;
use std::sync::atomic::Ordering;
use vigil_aws::rds::{ClusterInfo, Rds};
use vigil_dto::backup::{RestoreRecord, TimeRestoreRequest};
use vigil_dto::Environment;

/// The time a request names: None for "latest", else milliseconds since the epoch.
pub fn parse_time(text: &str) -> Result<Option<i64>> {
    match text.trim() {
        "" | "latest" => Ok(None),
        t => chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| Some(d.timestamp_millis()))
            .map_err(|_| Error::validation("time", format!("`{t}` is not a time: give \"latest\" or an RFC 3339 time such as 2026-12-01T09:30:00Z"))),
    }
}

/// Whether `at` lies in the cluster's restore window; what is wrong if not.
pub fn check_window(cluster: &ClusterInfo, at: Option<i64>) -> Result<()> {
    let text = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default();
    let Some(latest) = cluster.latest_restorable_ms else {
        return Err(Error::Backup {
            kind: "no_restore_window",
            message: format!("{} reports no latest restorable time: it has no point-in-time window", cluster.id),
            hint: "turn on its automated backups (BackupRetentionPeriod ≥ 1), or restore an AWS Backup recovery point".into(),
        });
    };
    let Some(at) = at else { return Ok(()) };
    let earliest = cluster.earliest_restorable_ms.unwrap_or(latest);
    if at < earliest || at > latest {
        return Err(Error::validation(
            "time",
            format!("{} is outside {}'s restore window, {} to {}", text(at), cluster.id, text(earliest), text(latest)),
        ));
    }
    Ok(())
}

/// The source's tags a restored cluster keeps (AWS refuses to set `aws:` ones), with where it
/// came from.
fn tags_for(source: &ClusterInfo) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = source.tags.iter().filter(|(k, _)| !k.starts_with("aws:") && k != "pj:restored-from").cloned().collect();
    tags.push(("pj:restored-from".into(), source.arn.clone()));
    tags
}

impl Backups<'_> {
    /// Restores the current environment's cluster (or the one named) to a time (see the module).
    pub async fn restore_to_time(&self, req: &TimeRestoreRequest, progress: &Progress) -> Result<RestoreRecord> {
        self.policy().require(Change::Restore)?;
        let env = self.current().await?;
        self.restore_to_time_in(&env, req, None, progress).await
    }

    /// As [`Self::restore_to_time`] for `env`, under operation id `op` when given (a DR step's).
    pub(crate) async fn restore_to_time_in(
        &self,
        env: &Environment,
        req: &TimeRestoreRequest,
        op: Option<&str>,
        progress: &Progress,
    ) -> Result<RestoreRecord> {
        let Some(source_id) =
            req.source.as_deref().map(str::trim).filter(|s| !s.is_empty()).or(env.deployment.get("db_cluster_id").map(String::as_str))
        else {
            return Err(Error::validation("source", format!("name the cluster to restore: {} names no platform database cluster", env.name)));
        };
        let at = parse_time(&req.time)?;
        let target = req.target.trim();
        check_target(Kind::Aurora, target)?;
        if target == source_id {
            return Err(Error::validation("target", format!("{target} is the cluster restored: a restore never writes over it; name a new one")));
        }
        if req.confirm.as_deref().map(str::trim) != Some(target) {
            return Err(Error::Backup {
                kind: "confirmation_required",
                message: format!("to restore {source_id} as it was at {} to a new cluster named {target}, type that name", req.time.trim()),
                hint: format!("confirm with {target}"),
            });
        }
        let ctx = self.aws_context(env).await;
        let op = op.map(str::to_string).unwrap_or_else(aws::new_op_id);
        let rds = Rds::new(&ctx, &op);
        let Some(source) = rds.cluster(source_id).await? else {
            return Err(Error::Backup {
                kind: "not_found",
                message: format!("there is no Aurora cluster {source_id}"),
                hint: "a cluster that is gone cannot be restored to a time: restore an AWS Backup recovery point instead".into(),
            });
        };
        let pool = self.store().pool();
        let mut rec = match unfinished(pool, &env.name, target).await? {
            Some(r) if r.point_in_time && r.source == source.arn => r,
            Some(r) => {
                return Err(Error::Backup {
                    kind: "target_exists",
                    message: format!("another restore to {target} is not finished ({})", r.state),
                    hint: format!("continue it, or choose another name than {target}"),
                })
            }
            None => {
                check_window(&source, at)?;
                if rds.cluster(target).await?.is_some() {
                    return Err(Error::Backup {
                        kind: "target_exists",
                        message: format!("{target} already exists: a restore makes a new cluster and never writes over one"),
                        hint: format!("name another, e.g. {source_id}-pitr-{}", chrono::Utc::now().format("%Y%m%d%H%M")),
                    });
                }
                let to = at.or(source.latest_restorable_ms).unwrap_or_default();
                let when = chrono::DateTime::from_timestamp_millis(to).map(|t| t.to_rfc3339()).unwrap_or_default();
                RestoreRecord {
                    id: op.clone(),
                    environment: env.name.clone(),
                    component: if env.deployment.get("db_cluster_id").is_some_and(|c| c == source_id) { "aurora" } else { "Aurora" }.into(),
                    resource_type: "Aurora".into(),
                    source: source.arn.clone(),
                    point: format!("{} at {when}", source.id),
                    point_created_ms: to,
                    target: target.to_string(),
                    state: "restoring".into(),
                    started_ms: super::restore::now_ms(),
                    point_in_time: true,
                    ..Default::default()
                }
            }
        };
        rec.message = None;
        rec.next = None;
        let outcome = self.run_time_restore(&ctx, &op, &rds, &source, at, &mut rec, progress).await;
        kept(pool, outcome, rec, true).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_time_restore(
        &self,
        ctx: &aws::AwsContext,
        op: &str,
        rds: &Rds,
        source: &ClusterInfo,
        at: Option<i64>,
        rec: &mut RestoreRecord,
        progress: &Progress,
    ) -> Result<()> {
        let pool = self.store().pool();
        if rec.state == "restoring" {
            // Saved before the call; the call made only while the cluster is not there (a crash
            // after it, or an answer lost, finds it made).
            save(pool, rec).await?;
            if rds.cluster(&rec.target).await?.is_none() {
                let tags = tags_for(source);
                let tags: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                // Logged before the call: an answer lost still leaves the restore on record.
                let details = json!({ "method": "point_in_time", "source": rec.source, "to": rec.point, "target": rec.target });
                self.log(Record::new("backup.restore_started", &rec.environment, details).op(op)).await?;
                rds.restore_to_time(source, &rec.target, at, &tags).await?;
            }
            progress.start(Stage::Restoring, 1);
            loop {
                let c = rds.cluster(&rec.target).await?;
                match c.as_ref().map(|c| c.status.as_str()) {
                    Some("available") => break,
                    None => {
                        rec.state = "failed".into();
                        rec.finished_ms = Some(super::restore::now_ms());
                        return Err(Error::Backup {
                            kind: "restore_failed",
                            message: format!("the restored cluster {} is gone", rec.target),
                            hint: "restore again under a new name".into(),
                        });
                    }
                    Some(_) => {}
                }
                if progress.cancelled() {
                    return Err(Error::Backup {
                        kind: "cancelled",
                        message: format!("stopped following the restore to {}; RDS goes on", rec.target),
                        hint: "ask for the same restore again to follow it to its end".into(),
                    });
                }
                tokio::time::sleep(self.deploy_poll).await;
            }
            progress.done.store(1, Ordering::Relaxed);
            let made = rds.cluster(&rec.target).await?.unwrap_or_default();
            rec.created_resource = Some(made.arn);
            rec.restore_seconds = Some((super::restore::now_ms() - rec.started_ms).max(0) / 1000);
            rec.state = "instances".into();
            save(pool, rec).await?;
        }
        self.complete(ctx, op, Kind::Aurora, rec, progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_latest_or_rfc3339_within_the_window() {
        assert_eq!(parse_time("latest").unwrap(), None);
        assert_eq!(parse_time(" ").unwrap(), None);
        assert_eq!(parse_time("2026-12-01T09:30:00Z").unwrap(), Some(1_796_117_400_000));
        let e = parse_time("yesterday").unwrap_err();
        assert!(e.to_string().contains("RFC 3339"), "{e}");
        let c = ClusterInfo { id: "db".into(), earliest_restorable_ms: Some(1_000), latest_restorable_ms: Some(5_000), ..Default::default() };
        assert!(check_window(&c, Some(1_000)).is_ok());
        assert!(check_window(&c, None).is_ok());
        for outside in [999, 5_001] {
            let e = check_window(&c, Some(outside)).unwrap_err();
            assert!(e.to_string().contains("outside db's restore window"), "{e}");
        }
        let none = ClusterInfo { latest_restorable_ms: None, ..c };
        assert_eq!(check_window(&none, None).unwrap_err().kind(), "no_restore_window");
    }

    #[test]
    fn a_restored_cluster_keeps_the_sources_own_tags_and_says_where_it_came_from() {
        let c = ClusterInfo {
            arn: "arn:db".into(),
            tags: vec![("pj:backup".into(), "true".into()), ("aws:cloudformation:stack-name".into(), "s".into())],
            ..Default::default()
        };
        assert_eq!(tags_for(&c), [("pj:backup".to_string(), "true".to_string()), ("pj:restored-from".to_string(), "arn:db".to_string())]);
    }
}

//! A backup, copy or restore job's CloudWatch events: AWS Backup sends each job's state changes
//! to EventBridge, and the bundle's backup stack keeps them in a log group
//! (`/pj/<env>/backup-events`, deployment parameter `backup_events`). They are read by the
//! job's id and kept only when the event's own id field names it.

use super::Backups;
use crate::aws;
use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use vigil_aws::error::Kind;
use vigil_dto::backup::{BackupJobEvent, BackupJobEvents};
use vigil_dto::LogLine;

/// How far back events are read when the job's creation time is not given.
const LOOK_BACK_DAYS: i64 = 365;

/// At most this many events of one job.
const MAX_EVENTS: usize = 500;

/// The log group holding the job events of a deployment (its parameters).
pub fn log_group(deployment: &BTreeMap<String, String>) -> Option<String> {
    deployment.get("backup_events").cloned().or_else(|| deployment.get("environment").map(|p| format!("/pj/{p}/backup-events")))
}

/// The events of `job` among `lines`, oldest first: lines that are AWS Backup events whose
/// backup, copy or restore job id is `job` (other lines mentioning it are left out).
pub fn parse(lines: &[LogLine], job: &str) -> Vec<BackupJobEvent> {
    let mut out: Vec<BackupJobEvent> = lines
        .iter()
        .filter_map(|l| {
            let e: Value = serde_json::from_str(&l.message).ok()?;
            let d = e.get("detail")?;
            let ids = ["backupJobId", "copyJobId", "restoreJobId"];
            if e["source"] != "aws.backup" || !ids.iter().any(|k| d[k] == job) {
                return None;
            }
            let text = |v: &Value| v.as_str().map(str::to_string).or_else(|| v.as_f64().map(|n| n.to_string()));
            Some(BackupJobEvent {
                at: e["time"].as_str().map(str::to_string).unwrap_or_else(|| l.at.clone()),
                kind: e["detail-type"].as_str().unwrap_or_default().to_string(),
                state: text(&d["state"]).or_else(|| text(&d["status"])).unwrap_or_default(),
                message: text(&d["statusMessage"]).filter(|m| !m.is_empty()),
                percent_done: text(&d["percentDone"]),
                detail: d.to_string(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.at.cmp(&b.at));
    out
}

fn valid_id(id: &str) -> Result<&str> {
    let id = id.trim();
    if id.is_empty() || id.len() > 100 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Error::validation("job", format!("`{id}` is not a job id: give the backup, copy or restore job's id (Backups → Jobs)")));
    }
    Ok(id)
}

impl Backups<'_> {
    /// The events of the job `id`, read from the environment's job-event log group from
    /// `since_ms` (the job's creation; a year back when not given).
    pub async fn job_events(&self, id: &str, since_ms: Option<i64>) -> Result<BackupJobEvents> {
        let id = valid_id(id)?;
        let env = self.current().await?;
        let Some(group) = log_group(&env.deployment) else {
            return Err(Error::Backup {
                kind: "not_deployed",
                message: format!("{} names no log group of backup job events", env.name),
                hint: "deploy the platform (its backup stack keeps the events), or name it: vigil env edit --param backup_events=…".into(),
            });
        };
        let now = chrono::Utc::now().timestamp_millis();
        let start = since_ms.map(|t| t - 60_000).unwrap_or(now - LOOK_BACK_DAYS * 86_400_000);
        let ctx = self.aws_context(&env).await;
        let lines = match aws::logs::job_lines(&ctx, &aws::new_op_id(), &group, id, start, now + 60_000, MAX_EVENTS).await {
            Ok(lines) => lines,
            Err(e) if e.kind == Kind::NotFound => {
                return Err(Error::Backup {
                    kind: "no_job_events",
                    message: format!("the log group {group} is not there: this environment does not keep AWS Backup's job events"),
                    hint: "update the platform (Deploy): the bundle's backup stack adds the log group and the EventBridge rule; jobs before that have no events kept".into(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        Ok(BackupJobEvents { job: id.to_string(), log_group: group, events: parse(&lines, id) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(message: &str) -> LogLine {
        LogLine { at: "2026-12-01T10:00:00.000Z".into(), stream: "s".into(), message: message.into() }
    }

    #[test]
    fn only_aws_backup_events_of_the_job_are_kept_oldest_first() {
        let event = |time: &str, kind: &str, detail: Value| {
            serde_json::json!({ "source": "aws.backup", "detail-type": kind, "time": time, "detail": detail }).to_string()
        };
        let lines = [
            line(&event(
                "2026-12-01T10:05:00Z",
                "Backup Job State Change",
                serde_json::json!({ "backupJobId": "J-1", "state": "FAILED", "statusMessage": "gone", "percentDone": "0.0" }),
            )),
            line(&event("2026-12-01T10:01:00Z", "Backup Job State Change", serde_json::json!({ "backupJobId": "J-1", "state": "RUNNING" }))),
            // Another job whose detail mentions J-1; another source; not JSON.
            line(&event(
                "2026-12-01T10:02:00Z",
                "Copy Job State Change",
                serde_json::json!({ "copyJobId": "C-9", "state": "RUNNING", "note": "J-1" }),
            )),
            line(&serde_json::json!({ "source": "aws.rds", "detail": { "backupJobId": "J-1" } }).to_string()),
            line("J-1 started"),
            line(&event("2026-12-01T10:03:00Z", "Restore Job State Change", serde_json::json!({ "restoreJobId": "R-2", "status": "COMPLETED" }))),
        ];
        let got = parse(&lines, "J-1");
        assert_eq!(
            got.iter().map(|e| (e.at.as_str(), e.state.as_str(), e.message.as_deref())).collect::<Vec<_>>(),
            [("2026-12-01T10:01:00Z", "RUNNING", None), ("2026-12-01T10:05:00Z", "FAILED", Some("gone"))]
        );
        assert_eq!(got[1].percent_done.as_deref(), Some("0.0"));
        // A restore's Status is its state.
        assert_eq!(parse(&lines, "R-2")[0].state, "COMPLETED");
    }

    #[test]
    fn job_ids_are_checked_before_anything_is_read() {
        for bad in ["", "a b", "x\"y", &"a".repeat(101)] {
            assert_eq!(valid_id(bad).unwrap_err().kind(), "validation", "{bad}");
        }
        assert_eq!(valid_id(" 8A1B-22 ").unwrap(), "8A1B-22");
    }

    #[test]
    fn the_log_group_is_the_deployments_or_the_bundles_name() {
        let mut deployment = BTreeMap::new();
        assert_eq!(log_group(&deployment), None);
        deployment.insert("environment".into(), "prod".into());
        assert_eq!(log_group(&deployment).as_deref(), Some("/pj/prod/backup-events"));
        deployment.insert("backup_events".into(), "/custom".into());
        assert_eq!(log_group(&deployment).as_deref(), Some("/custom"));
    }
}

//! One timeline per environment: what happened to its platform, joined from every source and
//! newest first — the platform stacks' CloudFormation events, EKS's updates of the cluster, its
//! node groups and add-ons, the worker's rollouts (its ReplicaSet revisions and what each
//! changed), the steps of runbook runs (DR and upgrades), and the platform alarms' state
//! changes. Each source is read on its own: one that cannot be read is named with why, and the
//! others are still shown. Reads only.

use crate::app::area;
use crate::aws::{self, cloudwatch};
use crate::deploy::templates::{stack_name, STACKS};
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use vigil_aws::eks::UpdateOf;
use vigil_dto::{Environment, Timeline, TimelineEntry, TimelineSource};

area!(
    /// The timeline area (`app.timeline()`).
    Timelines
);

/// The sources, in the order they are read and shown.
pub const SOURCES: [&str; 5] = ["cloudformation", "eks", "rollout", "runbook", "alarm"];

/// The longest window the timeline reads.
pub const MAX_HOURS: i64 = 24 * 90;

/// An entry with its time in milliseconds, for ordering.
struct At(i64, TimelineEntry);

fn entry(at_ms: i64, source: &str, subject: String, what: String, level: &str, detail: Option<String>) -> At {
    let at = DateTime::from_timestamp_millis(at_ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    At(at_ms, TimelineEntry { at, source: source.into(), subject, what, level: level.into(), detail: detail.filter(|d| !d.is_empty()) })
}

fn ms(rfc3339: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(rfc3339).ok().map(|t| t.timestamp_millis())
}

/// How a CloudFormation resource status reads on the timeline.
fn stack_level(status: &str) -> &'static str {
    if status.ends_with("FAILED") {
        "bad"
    } else if status.contains("ROLLBACK") {
        "warn"
    } else if status.ends_with("COMPLETE") {
        "ok"
    } else {
        "info"
    }
}

fn update_level(status: &str) -> &'static str {
    match status {
        "Successful" => "ok",
        "Failed" => "bad",
        "Cancelled" => "warn",
        _ => "info",
    }
}

impl Timelines<'_> {
    /// The timeline of environment `name` (the current one when None) over the last `hours`,
    /// only `sources` when some are named.
    pub async fn read(&self, name: Option<&str>, hours: i64, sources: &[String]) -> Result<Timeline> {
        if !(1..=MAX_HOURS).contains(&hours) {
            return Err(Error::validation("since", format!("the timeline reads from 1 hour to {} days back, not {hours} hours", MAX_HOURS / 24)));
        }
        if let Some(bad) = sources.iter().find(|s| !SOURCES.contains(&s.as_str())) {
            return Err(Error::validation("source", format!("`{bad}` is not a timeline source; the sources are {}", SOURCES.join(", "))));
        }
        let env = match name {
            Some(n) => self.environment(n).await?,
            None => self.current().await?,
        };
        let since = Utc::now().timestamp_millis() - hours * 3_600_000;
        let mut entries = vec![];
        let mut read = vec![];
        for source in SOURCES.iter().filter(|s| sources.is_empty() || sources.iter().any(|x| x == *s)) {
            let got = match *source {
                "cloudformation" => Box::pin(self.stacks(&env)).await,
                "eks" => Box::pin(self.eks_updates(&env)).await,
                "rollout" => Box::pin(self.rollouts(&env)).await,
                "runbook" => self.runbook_steps(&env).await,
                _ => Box::pin(self.alarm_changes(&env, since)).await,
            };
            match got {
                Ok(found) => {
                    let found: Vec<At> = found.into_iter().filter(|a| a.0 >= since).collect();
                    read.push(TimelineSource { name: source.to_string(), entries: found.len(), error: None });
                    entries.extend(found);
                }
                Err(e) => read.push(TimelineSource { name: source.to_string(), entries: 0, error: Some(e.info()) }),
            }
        }
        entries.sort_by_key(|a| std::cmp::Reverse(a.0));
        Ok(Timeline {
            environment: env.name.clone(),
            since: DateTime::from_timestamp_millis(since).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            entries: entries.into_iter().map(|a| a.1).collect(),
            sources: read,
        })
    }

    /// Every platform stack's events.
    async fn stacks(&self, env: &Environment) -> Result<Vec<At>> {
        let platform = crate::deploy::deployed_platform(env)?;
        let cf = vigil_aws::cloudformation::CloudFormation::new(&self.aws_context(env).await, &aws::new_op_id());
        let mut out = vec![];
        for stack in STACKS {
            let name = stack_name(&platform, stack);
            for e in cf.events_after(&name, None).await? {
                let subject = format!("{name} {}", e.logical_id);
                out.push(entry(e.at_ms, "cloudformation", subject, e.status.clone(), stack_level(&e.status), e.reason));
            }
        }
        Ok(out)
    }

    /// EKS's updates of the cluster, its node groups and its add-ons.
    async fn eks_updates(&self, env: &Environment) -> Result<Vec<At>> {
        let cluster = crate::eks::cluster_name(env)?;
        let eks = vigil_aws::eks::Eks::new(&self.aws_context(env).await, &aws::new_op_id());
        let groups: Vec<String> = eks.nodegroups(&cluster).await?.into_iter().map(|g| g.name).collect();
        let addons: Vec<String> = eks.addons(&cluster).await?.into_iter().map(|a| a.name).collect();
        let mut targets = vec![(format!("cluster {cluster}"), UpdateOf::Cluster)];
        targets.extend(groups.iter().map(|g| (format!("node group {g}"), UpdateOf::Nodegroup(g))));
        targets.extend(addons.iter().map(|a| (format!("add-on {a}"), UpdateOf::Addon(a))));
        let mut out = vec![];
        for (subject, of) in targets {
            for u in eks.updates(&cluster, of).await? {
                let params: Vec<String> = u.params.iter().map(|(k, v)| format!("{k} {v}")).collect();
                let what = format!("{} ({}): {}", u.kind, params.join(", "), u.status);
                let detail = (!u.errors.is_empty()).then(|| u.errors.join("; "));
                out.push(entry(u.created * 1000, "eks", subject.clone(), what, update_level(&u.status), detail));
            }
        }
        Ok(out)
    }

    /// The worker's revisions (when each ReplicaSet was made, and what it changed).
    async fn rollouts(&self, env: &Environment) -> Result<Vec<At>> {
        let cluster = crate::eks::cluster_name(env)?;
        let ctx = self.aws_context(env).await;
        let client = crate::deploy::setup::kube_client(&ctx, &aws::new_op_id(), &cluster).await?;
        let mut out = vec![];
        for (_, deployment) in crate::eks::workloads::SERVICES {
            let Some(snap) =
                vigil_kube::inspect::snapshot(&client, crate::deploy::NAMESPACE, deployment).await.map_err(crate::eks::workloads::kube_error)?
            else {
                continue;
            };
            for r in vigil_kube::inspect::history(&snap.deployment, &snap.replicasets) {
                let Some(at) = r.created.as_deref().and_then(ms) else { continue };
                let what = format!("revision {} ({}){}", r.revision, r.images.join(", "), if r.current { ", current" } else { "" });
                out.push(entry(at, "rollout", deployment.to_string(), what, "info", Some(r.changes.join("; "))));
            }
        }
        Ok(out)
    }

    /// Each step of the environment's runbook runs, when it ended (or began, if it has not).
    async fn runbook_steps(&self, env: &Environment) -> Result<Vec<At>> {
        let runs = crate::dr::Dr::new(self.core).runs().await?;
        let mut out = vec![];
        for run in runs.iter().filter(|r| r.environment.eq_ignore_ascii_case(&env.name)) {
            for s in &run.steps {
                let Some(at) = s.ended_ms.or(s.started_ms) else { continue };
                let level = match s.state.as_str() {
                    "done" => "ok",
                    "failed" => "bad",
                    "paused" | "awaiting_approval" => "warn",
                    _ => "info",
                };
                let recorded: Vec<String> = s.outputs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect();
                let detail = s.error.clone().or_else(|| (!recorded.is_empty()).then(|| recorded.join(", ")));
                out.push(entry(at, "runbook", format!("{} {}", run.runbook, s.path), format!("{}: {}", s.title, s.state), level, detail));
            }
        }
        Ok(out)
    }

    /// The platform alarms' state changes since `since` (ms).
    async fn alarm_changes(&self, env: &Environment, since: i64) -> Result<Vec<At>> {
        let platform = crate::deploy::deployed_platform(env)?;
        let cw = cloudwatch::CloudWatch::new(&self.aws_context(env).await, &aws::new_op_id());
        let prefix = format!("pj-{platform}-");
        let mut out = vec![];
        for alarm in cloudwatch::describe_alarms(&cw, None, &platform).await?.into_iter().filter(|a| a.name.starts_with(&prefix)) {
            for h in cloudwatch::alarm_history(&cw, &alarm.name, 100).await?.into_iter().filter(|h| h.kind == "StateUpdate") {
                let Some(at) = ms(&h.at) else { continue };
                if at < since {
                    break;
                }
                let level = if h.summary.ends_with("to ALARM") {
                    "bad"
                } else if h.summary.ends_with("to OK") {
                    "ok"
                } else {
                    "warn"
                };
                out.push(entry(at, "alarm", alarm.name.clone(), h.summary, level, None));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_as_an_operator_would() {
        assert_eq!(stack_level("CREATE_COMPLETE"), "ok");
        assert_eq!(stack_level("UPDATE_ROLLBACK_COMPLETE"), "warn");
        assert_eq!(stack_level("CREATE_FAILED"), "bad");
        assert_eq!(stack_level("UPDATE_ROLLBACK_FAILED"), "bad");
        assert_eq!(stack_level("CREATE_IN_PROGRESS"), "info");
        assert_eq!((update_level("Successful"), update_level("Failed"), update_level("InProgress")), ("ok", "bad", "info"));
        let e = entry(1_796_000_000_123, "eks", "cluster x".into(), "VersionUpdate".into(), "ok", Some(String::new()));
        assert_eq!((e.1.at.as_str(), e.1.detail), ("2026-11-30T00:53:20Z", None));
    }
}

//! What each platform component's recovery rests on, judged against the RPO: pure functions
//! over what was read from AWS (plans, selections, recovery points, the cluster's restorable
//! time), so every verdict is tested without AWS.

use crate::deploy::validate::covers;
use std::str::FromStr;
use vigil_aws::backup::{PlanInfo, RuleInfo, SelectionInfo};
use vigil_dto::backup::{ComponentCoverage, RecoveryPointView, RuleView, RPO_MINUTES};
use vigil_dto::deploy::CheckStatus;

/// A platform component as found in the environment.
#[derive(Debug, Clone, Default)]
pub struct Component {
    pub id: &'static str,
    pub title: &'static str,
    /// Its ARN (or name), None when the environment does not name it.
    pub resource: Option<String>,
    /// Its plain name (cluster identifier, bucket name), as an operator types it.
    pub name: String,
    pub tags: Vec<(String, String)>,
    pub by_aws_backup: bool,
    /// Needed for the platform's recovery (holds data that exists nowhere else).
    pub holds_data: bool,
    pub recovery: &'static str,
    /// Aurora: the latest restorable time.
    pub latest_restorable_ms: Option<i64>,
    /// Its newest recovery points, newest first.
    pub points: Vec<RecoveryPointView>,
}

/// The platform's components: what AWS Backup protects and how the rest comes back.
pub fn components(deployment: &std::collections::BTreeMap<String, String>) -> Vec<Component> {
    let has = |k: &str| deployment.get(k).filter(|v| !v.is_empty()).cloned();
    let name = |k: &str| has(k).unwrap_or_default();
    vec![
        Component {
            id: "aurora",
            name: name("db_cluster_id"),
            title: "Aurora PostgreSQL (job ledger, de-ID audit log)",
            resource: has("db_cluster_id"),
            by_aws_backup: true,
            holds_data: true,
            recovery: "restore the latest recovery point (or a point in time) to a new cluster, add instances, then point the platform at it",
            ..Default::default()
        },
        Component {
            id: "documents",
            name: name("bucket"),
            title: "S3 documents (in, out, quarantine)",
            resource: has("bucket").map(|b| format!("arn:aws:s3:::{b}")),
            by_aws_backup: true,
            holds_data: true,
            recovery: "restore the latest recovery point to a new bucket or prefix; versioning also keeps overwritten and deleted objects",
            ..Default::default()
        },
        Component {
            id: "eks",
            name: name("cluster_name"),
            title: "EKS (the worker)",
            resource: has("cluster_name"),
            by_aws_backup: true,
            holds_data: false,
            recovery: "stateless: the cluster and the worker's manifests are in the signed bundle; `vigil deploy` re-creates and re-applies them",
            ..Default::default()
        },
        Component {
            id: "cache",
            name: name("cache_cluster_id"),
            title: "ElastiCache Redis",
            resource: has("cache_cluster_id"),
            by_aws_backup: false,
            holds_data: false,
            recovery: "not protected by AWS Backup; a cache of Aurora's data, it starts empty and refills (ElastiCache's own snapshots exist but are not needed)",
            ..Default::default()
        },
        Component {
            id: "queue",
            name: name("queue_url"),
            title: "SQS work queue and DLQ",
            resource: has("queue_url"),
            by_aws_backup: false,
            holds_data: false,
            recovery: "not protected by AWS Backup; messages are transient: every job is in the ledger (Aurora), and failed ones are retried from the Jobs page",
            ..Default::default()
        },
        Component {
            id: "secrets",
            name: has("environment").map(|e| format!("pj-{e}/*")).unwrap_or_default(),
            title: "Secrets Manager (database logins, the worker's signing key)",
            resource: has("environment").map(|e| format!("pj-{e}/*")),
            by_aws_backup: false,
            holds_data: false,
            recovery: "not protected by AWS Backup; a deleted secret can be restored within its recovery window (7–30 days); the worker's public key stays pinned in Vigil, so records it signed still verify",
            ..Default::default()
        },
    ]
}

/// Which rules cover a resource: every rule of every plan with a selection that covers it.
pub fn covering<'a>(plans: &'a [(PlanInfo, Vec<SelectionInfo>)], arn: &str, tags: &[(String, String)]) -> Vec<(&'a PlanInfo, &'a RuleInfo)> {
    plans
        .iter()
        .filter(|(_, selections)| selections.iter().any(|s| covers(s, arn, tags)))
        .flat_map(|(plan, _)| plan.rules.iter().map(move |r| (plan, r)))
        .collect()
}

/// One component's coverage at `now_ms`.
pub fn coverage(c: &Component, plans: &[(PlanInfo, Vec<SelectionInfo>)], home: &Home, now_ms: i64) -> ComponentCoverage {
    let mut out = ComponentCoverage {
        component: c.id.into(),
        title: c.title.into(),
        resource: c.resource.clone(),
        name: c.name.clone(),
        by_aws_backup: c.by_aws_backup,
        protected_by: vec![],
        last_point_ms: None,
        last_point_age_minutes: None,
        continuous: false,
        latest_restorable_ms: c.latest_restorable_ms,
        cross_region_copy: false,
        status: CheckStatus::Pass,
        detail: String::new(),
        recovery: c.recovery.into(),
    };
    let Some(arn) = &c.resource else {
        out.status = if c.holds_data { CheckStatus::Fail } else { CheckStatus::Warn };
        out.detail = "the environment does not name it: deploy the platform, or set it in Environments → Edit → Deployment".into();
        return out;
    };
    if !c.by_aws_backup {
        out.detail = "recovered without a backup (see how)".into();
        return out;
    }
    let rules = covering(plans, arn, &c.tags);
    out.protected_by = rules.iter().map(|(p, r)| format!("{} / {}", p.name, r.name)).collect();
    out.continuous = rules.iter().any(|(_, r)| r.continuous);
    out.cross_region_copy = rules.iter().any(|(_, r)| r.copies.iter().any(|(dest, _)| home.is_elsewhere(dest)));
    let newest = c.points.iter().find(|p| matches!(p.status.as_str(), "COMPLETED" | "AVAILABLE"));
    out.last_point_ms = newest.map(|p| p.created_ms);
    out.last_point_age_minutes = newest.map(|p| (now_ms - p.created_ms).max(0) / 60_000);
    if !c.holds_data {
        out.detail =
            if rules.is_empty() { "not in a backup plan; none is needed".into() } else { format!("backed up by {}", out.protected_by.join(", ")) };
        return out;
    }
    if rules.is_empty() {
        out.status = CheckStatus::Fail;
        out.detail = "no backup plan's selection covers it: nothing protects this data".into();
        return out;
    }
    // The RPO: the newest moment that can be restored — the cluster's point-in-time recovery
    // (RDS keeps it whether or not AWS Backup's continuous rule manages it) or a recovery point.
    let restorable = c.latest_restorable_ms.into_iter().chain(out.last_point_ms).max();
    let Some(at) = restorable else {
        out.status = CheckStatus::Fail;
        out.detail = format!("covered by {}, but it has no completed recovery point yet", out.protected_by.join(", "));
        return out;
    };
    let age = (now_ms - at).max(0) / 60_000;
    let how = if c.latest_restorable_ms == Some(at) { "point-in-time recovery" } else { "recovery point" };
    if age <= RPO_MINUTES {
        out.detail = format!("restorable to {age} min ago by {how} (RPO {RPO_MINUTES} min)");
    } else {
        out.status = CheckStatus::Fail;
        out.detail = if out.continuous || c.latest_restorable_ms.is_some() {
            format!("the newest restorable moment is {age} min old, past the RPO of {RPO_MINUTES} min: see the backup jobs and the cluster's events for why continuous backup stopped")
        } else {
            format!(
                "the newest recovery point is {age} min old, past the RPO of {RPO_MINUTES} min: scheduled backups cannot meet it; add a continuous backup rule"
            )
        };
    }
    out
}

/// Where the platform runs: its region, and its account when known.
#[derive(Debug, Clone, Default)]
pub struct Home {
    pub region: String,
    pub account: Option<String>,
}

impl Home {
    /// A copy to this vault ARN leaves the region or the account.
    pub fn is_elsewhere(&self, vault_arn: &str) -> bool {
        let part = |i: usize| vault_arn.split(':').nth(i).unwrap_or_default();
        part(3) != self.region || self.account.as_deref().is_some_and(|a| a != part(4))
    }
}

/// A rule as the page shows it, with its next scheduled run after `now_ms`.
pub fn rule_view(r: &RuleInfo, now_ms: i64) -> RuleView {
    RuleView {
        name: r.name.clone(),
        vault: r.vault.clone(),
        schedule: r.schedule.clone(),
        start_window_minutes: r.start_window_minutes,
        completion_window_minutes: r.completion_window_minutes,
        continuous: r.continuous,
        delete_after_days: r.delete_after_days,
        cold_after_days: r.cold_after_days,
        copies: r.copies.clone(),
        next_run_ms: r.schedule.as_deref().filter(|_| r.timezone.as_deref().is_none_or(is_utc)).and_then(|s| next_run(s, now_ms)),
    }
}

fn is_utc(tz: &str) -> bool {
    matches!(tz, "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT")
}

/// The next time an AWS schedule expression (`cron(min hour dom month dow year)` in UTC, or
/// `rate(n unit)`, which has no fixed phase) fires after `now_ms`; None for what cannot be read.
pub fn next_run(expression: &str, now_ms: i64) -> Option<i64> {
    let inner = expression.trim().strip_prefix("cron(")?.strip_suffix(')')?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != 6 || fields.iter().any(|f| f.contains(['L', 'W', '#'])) {
        return None;
    }
    // The cron crate reads seconds first and `?` as AWS does not need: any.
    let spec = format!("0 {}", fields.iter().map(|f| if *f == "?" { "*" } else { f }).collect::<Vec<_>>().join(" "));
    let schedule = cron::Schedule::from_str(&spec).ok()?;
    let after = chrono::DateTime::from_timestamp_millis(now_ms)?;
    schedule.after(&after).next().map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000_000;
    const MIN: i64 = 60_000;

    fn home() -> Home {
        Home { region: "eu-west-1".into(), account: Some("111122223333".into()) }
    }

    fn plan(continuous: bool, copies: Vec<(String, Option<i64>)>) -> (PlanInfo, Vec<SelectionInfo>) {
        let rule = RuleInfo {
            name: if continuous { "continuous" } else { "daily" }.into(),
            vault: "pj-prod".into(),
            continuous,
            copies,
            ..Default::default()
        };
        let selection = SelectionInfo {
            name: "tagged".into(),
            resources: vec!["*".into()],
            conditions: vec![("aws:ResourceTag/pj:backup".into(), "true".into())],
            ..Default::default()
        };
        (PlanInfo { id: "p".into(), name: "pj-prod".into(), rules: vec![rule] }, vec![selection])
    }

    fn aurora(points_ago: &[i64], restorable_ago: Option<i64>) -> Component {
        let mut c =
            components(&[("db_cluster_id".to_string(), "arn:aws:rds:eu-west-1:111122223333:cluster:pj-prod".to_string())].into_iter().collect())
                .remove(0);
        c.tags = vec![("pj:backup".into(), "true".into())];
        c.points =
            points_ago.iter().map(|m| RecoveryPointView { status: "COMPLETED".into(), created_ms: NOW - m * MIN, ..Default::default() }).collect();
        c.latest_restorable_ms = restorable_ago.map(|m| NOW - m * MIN);
        c
    }

    #[test]
    fn data_with_continuous_backup_meets_the_rpo_by_its_restorable_time() {
        let c = aurora(&[600], Some(4));
        let got = coverage(&c, &[plan(true, vec![])], &home(), NOW);
        assert_eq!(got.status, CheckStatus::Pass, "{got:?}");
        assert!(got.continuous && got.detail.contains("4 min ago"), "{got:?}");
        assert_eq!((got.last_point_age_minutes, got.protected_by.as_slice()), (Some(600), &["pj-prod / continuous".to_string()][..]));
        // Continuous backup that stopped: the restorable time ages past the RPO.
        let stale = coverage(&aurora(&[600], Some(40)), &[plan(true, vec![])], &home(), NOW);
        assert_eq!(stale.status, CheckStatus::Fail);
        assert!(stale.detail.contains("40 min old") && stale.detail.contains("continuous backup stopped"), "{stale:?}");
    }

    #[test]
    fn scheduled_backups_alone_cannot_meet_a_15_minute_rpo() {
        let got = coverage(&aurora(&[90, 1500], None), &[plan(false, vec![])], &home(), NOW);
        assert_eq!(got.status, CheckStatus::Fail);
        assert!(got.detail.contains("90 min old") && got.detail.contains("add a continuous backup rule"), "{got:?}");
        // A fresh point passes, even from a schedule.
        assert_eq!(coverage(&aurora(&[10], None), &[plan(false, vec![])], &home(), NOW).status, CheckStatus::Pass);
    }

    #[test]
    fn data_no_selection_covers_or_with_no_point_fails_and_says_why() {
        let mut c = aurora(&[5], None);
        c.tags.clear();
        let got = coverage(&c, &[plan(true, vec![])], &home(), NOW);
        assert_eq!(got.status, CheckStatus::Fail);
        assert!(got.detail.contains("no backup plan's selection covers it"), "{got:?}");
        let got = coverage(&aurora(&[], None), &[plan(true, vec![])], &home(), NOW);
        assert!(got.status == CheckStatus::Fail && got.detail.contains("no completed recovery point"), "{got:?}");
        // A failed point does not count.
        let mut c = aurora(&[3], None);
        c.points[0].status = "PARTIAL".into();
        assert_eq!(coverage(&c, &[plan(false, vec![])], &home(), NOW).status, CheckStatus::Fail);
    }

    #[test]
    fn what_aws_backup_cannot_protect_says_how_it_is_recovered_and_unnamed_data_fails() {
        let all = components(
            &[("cache_cluster_id", "pj-prod-cache-001"), ("queue_url", "https://sqs/q"), ("environment", "prod")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        for c in all.iter().filter(|c| !c.by_aws_backup) {
            let got = coverage(c, &[], &home(), NOW);
            assert_eq!(got.status, CheckStatus::Pass, "{got:?}");
            assert!(got.recovery.starts_with("not protected by AWS Backup"), "{got:?}");
        }
        let aurora = coverage(&all[0], &[], &home(), NOW);
        assert_eq!(aurora.status, CheckStatus::Fail, "the database is not named: {aurora:?}");
        let eks = coverage(&all[2], &[], &home(), NOW);
        assert_eq!(eks.status, CheckStatus::Warn, "{eks:?}");
    }

    #[test]
    fn a_copy_to_another_region_counts_as_cross_region() {
        let west = "arn:aws:backup:us-west-2:111122223333:backup-vault:dr".to_string();
        let same = "arn:aws:backup:eu-west-1:111122223333:backup-vault:other".to_string();
        assert!(coverage(&aurora(&[5], None), &[plan(false, vec![(west, Some(35))])], &home(), NOW).cross_region_copy);
        assert!(!coverage(&aurora(&[5], None), &[plan(false, vec![(same, None)])], &home(), NOW).cross_region_copy);
    }

    #[test]
    fn the_next_run_of_an_aws_cron_schedule() {
        // 2026-05-28T20:26:40Z; daily at 05:00 UTC → the next morning.
        let next = next_run("cron(0 5 ? * * *)", NOW).unwrap();
        assert_eq!(chrono::DateTime::from_timestamp_millis(next).unwrap().to_rfc3339(), "2026-05-29T05:00:00+00:00");
        // Hourly at :30.
        let next = next_run("cron(30 * * * ? *)", NOW).unwrap();
        assert_eq!(chrono::DateTime::from_timestamp_millis(next).unwrap().to_rfc3339(), "2026-05-28T20:30:00+00:00");
        assert_eq!(next_run("rate(1 hour)", NOW), None);
        assert_eq!(next_run("cron(0 5 L * ? *)", NOW), None);
        assert_eq!(next_run("cron(nonsense)", NOW), None);
    }
}

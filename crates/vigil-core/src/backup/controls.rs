//! The compliance controls, evaluated live from what AWS Backup says (no AWS Config needed):
//! the eleven controls of AWS Backup Audit Manager with their parameters, and the platform's
//! own two — its RPO achievable for each component holding data, and a restore test within 30
//! days. Each control gives a verdict per resource (or plan, vault, recovery point) with the
//! evidence it used. Pure functions over an [`Inventory`]: every verdict is tested without
//! AWS, and the inventory is indexed once so that 1,000 resources and 50,000 recovery points
//! take one pass (see the benchmark).

use super::coverage::{covering, next_run, Home};
use std::collections::HashMap;
use vigil_aws::backup::{PlanInfo, SelectionInfo};
use vigil_dto::backup::{BackupJobView, ControlResource, ControlResult, RecoveryPointView, RestoreRecord, VaultView, RPO_MINUTES, RTO_MINUTES};
use vigil_dto::deploy::CheckStatus;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// A resource in the controls' scope.
#[derive(Debug, Clone, Default)]
pub struct Resource {
    pub arn: String,
    /// As AWS Backup names it: Aurora, S3, EKS…
    pub resource_type: String,
    pub tags: Vec<(String, String)>,
    /// It holds data that exists nowhere else (the platform's own controls apply to it).
    pub holds_data: bool,
}

/// Everything the controls look at, read once.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub now_ms: i64,
    pub home: Home,
    pub resources: Vec<Resource>,
    pub plans: Vec<(PlanInfo, Vec<SelectionInfo>)>,
    pub vaults: Vec<VaultView>,
    /// Every recovery point of every vault read.
    pub points: Vec<RecoveryPointView>,
    /// Copy jobs (the completed ones are evidence of copies elsewhere).
    pub copies: Vec<BackupJobView>,
    /// AWS Backup's restore jobs.
    pub restore_jobs: Vec<BackupJobView>,
    /// Restores made from Vigil (restore tests among them).
    pub restores: Vec<RestoreRecord>,
    /// Aurora clusters' latest restorable time (point-in-time recovery), by ARN.
    pub restorable: HashMap<String, i64>,
}

impl Inventory {
    /// The inventory without its resources, points, copies and restores.
    fn clone_without_lists(&self) -> Inventory {
        Inventory {
            now_ms: self.now_ms,
            home: self.home.clone(),
            plans: self.plans.clone(),
            vaults: self.vaults.clone(),
            restorable: self.restorable.clone(),
            ..Default::default()
        }
    }
}

/// A control's parameters, by the names AWS Backup Audit Manager gives them.
pub type Params = Vec<(String, String)>;

/// The controls of AWS Backup Audit Manager with their default parameters, then the
/// platform's own.
pub fn defaults() -> Vec<(&'static str, Params)> {
    let p = |v: &[(&str, &str)]| v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Params>();
    vec![
        ("BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN", vec![]),
        (
            "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
            p(&[("requiredFrequencyUnit", "days"), ("requiredFrequencyValue", "1"), ("requiredRetentionDays", "35")]),
        ),
        ("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", vec![]),
        ("BACKUP_RECOVERY_POINT_ENCRYPTED", vec![]),
        ("BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK", p(&[("requiredRetentionDays", "35")])),
        ("BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION", vec![]),
        ("BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT", vec![]),
        ("BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK", vec![]),
        ("BACKUP_LAST_RECOVERY_POINT_CREATED", p(&[("recoveryPointAgeUnit", "days"), ("recoveryPointAgeValue", "1")])),
        ("RESTORE_TIME_FOR_RESOURCES_MEET_TARGET", p(&[("maxRestoreTime", &RTO_MINUTES.to_string())])),
        ("RESOURCES_IN_LOGICALLY_AIR_GAPPED_VAULT", p(&[("recoveryPointAgeUnit", "days"), ("recoveryPointAgeValue", "1")])),
        ("PJ_RPO_ACHIEVABLE", p(&[("rpoMinutes", &RPO_MINUTES.to_string())])),
        ("PJ_RESTORE_TEST_WITHIN_30_DAYS", p(&[("days", "30")])),
    ]
}

/// What a control checks, as the page and the report name it.
pub fn title(id: &str) -> &'static str {
    match id {
        "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" => "Resources are in at least one backup plan",
        "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" => "Backup plans have a minimum frequency and retention",
        "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED" => "Vaults prevent manual deletion of recovery points",
        "BACKUP_RECOVERY_POINT_ENCRYPTED" => "Recovery points are encrypted",
        "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK" => "Recovery points are kept a minimum time",
        "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION" => "Resources have a copy in another region",
        "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT" => "Resources have a copy in another account",
        "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK" => "Resources are protected by a vault lock",
        "BACKUP_LAST_RECOVERY_POINT_CREATED" => "A recent recovery point exists",
        "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET" => "Restores finish within the target time",
        "RESOURCES_IN_LOGICALLY_AIR_GAPPED_VAULT" => "Resources have a recent point in a logically air-gapped vault",
        "PJ_RPO_ACHIEVABLE" => "The platform's RPO is achievable for every component holding data",
        "PJ_RESTORE_TEST_WITHIN_30_DAYS" => "Every component holding data was restored successfully within 30 days",
        _ => "",
    }
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn num(params: &Params, name: &str, default: i64) -> i64 {
    param(params, name).and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

fn list(params: &Params, name: &str) -> Vec<String> {
    param(params, name).map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
}

/// `recoveryPointAgeUnit` / `recoveryPointAgeValue` (or the frequency pair) in milliseconds.
fn age_ms(params: &Params, unit: &str, value: &str) -> i64 {
    let n = num(params, value, 1).max(1);
    match param(params, unit).unwrap_or("days") {
        "hours" => n * HOUR_MS,
        _ => n * DAY_MS,
    }
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

/// The part `i` of an ARN (3: region, 4: account).
fn arn_part(arn: &str, i: usize) -> &str {
    arn.split(':').nth(i).unwrap_or_default()
}

/// The inventory, indexed once.
struct Index<'a> {
    inv: &'a Inventory,
    /// Completed and available points by resource, newest first.
    points: HashMap<&'a str, Vec<&'a RecoveryPointView>>,
    vaults_by_name: HashMap<&'a str, &'a VaultView>,
    vaults_by_arn: HashMap<&'a str, &'a VaultView>,
    /// Completed copy jobs by resource, newest first.
    copies: HashMap<&'a str, Vec<&'a BackupJobView>>,
    restore_jobs: HashMap<&'a str, Vec<&'a BackupJobView>>,
    restores: HashMap<&'a str, Vec<&'a RestoreRecord>>,
    /// When each point was made, by its ARN.
    created: HashMap<&'a str, i64>,
}

impl<'a> Index<'a> {
    fn new(inv: &'a Inventory) -> Self {
        let mut points: HashMap<&str, Vec<&RecoveryPointView>> = HashMap::new();
        for p in inv.points.iter().filter(|p| matches!(p.status.as_str(), "COMPLETED" | "AVAILABLE")) {
            points.entry(p.resource.as_str()).or_default().push(p);
        }
        points.values_mut().for_each(|v| v.sort_by_key(|p| std::cmp::Reverse(p.created_ms)));
        let mut copies: HashMap<&str, Vec<&BackupJobView>> = HashMap::new();
        for c in inv.copies.iter().filter(|c| c.state == "COMPLETED") {
            copies.entry(c.resource.as_str()).or_default().push(c);
        }
        copies.values_mut().for_each(|v| v.sort_by_key(|c| std::cmp::Reverse(c.created_ms)));
        let mut restore_jobs: HashMap<&str, Vec<&BackupJobView>> = HashMap::new();
        for j in &inv.restore_jobs {
            restore_jobs.entry(j.resource.as_str()).or_default().push(j);
        }
        restore_jobs.values_mut().for_each(|v| v.sort_by_key(|j| std::cmp::Reverse(j.created_ms)));
        let mut restores: HashMap<&str, Vec<&RestoreRecord>> = HashMap::new();
        for r in &inv.restores {
            restores.entry(r.source.as_str()).or_default().push(r);
        }
        restores.values_mut().for_each(|v| v.sort_by_key(|r| std::cmp::Reverse(r.started_ms)));
        Index {
            inv,
            points,
            vaults_by_name: inv.vaults.iter().map(|v| (v.name.as_str(), v)).collect(),
            vaults_by_arn: inv.vaults.iter().map(|v| (v.arn.as_str(), v)).collect(),
            copies,
            restore_jobs,
            restores,
            created: inv.points.iter().map(|p| (p.arn.as_str(), p.created_ms)).collect(),
        }
    }

    fn points(&self, arn: &str) -> &[&'a RecoveryPointView] {
        self.points.get(arn).map(Vec::as_slice).unwrap_or_default()
    }

    fn copies(&self, arn: &str) -> &[&'a BackupJobView] {
        self.copies.get(arn).map(Vec::as_slice).unwrap_or_default()
    }

    fn vault_of(&self, p: &RecoveryPointView) -> Option<&'a VaultView> {
        self.vaults_by_name.get(p.vault.as_str()).copied()
    }
}

fn resource(arn: &str, kind: &str, status: CheckStatus, evidence: String) -> ControlResource {
    ControlResource { resource: arn.to_string(), kind: kind.to_string(), status, evidence }
}

fn pass(ok: bool) -> CheckStatus {
    if ok {
        CheckStatus::Pass
    } else {
        CheckStatus::Fail
    }
}

/// Evaluates control `id` with `params` over the inventory.
pub fn evaluate(inv: &Inventory, id: &str, params: &Params) -> ControlResult {
    let results = verdicts(&Index::new(inv), id, params, &inv.resources);
    finish(id, params, results)
}

/// Evaluates every control with its default parameters.
pub fn evaluate_all(inv: &Inventory) -> Vec<ControlResult> {
    let index = Index::new(inv);
    defaults().iter().map(|(id, params)| finish(id, params, verdicts(&index, id, params, &inv.resources))).collect()
}

/// The controls judged over plans or vaults rather than resources.
fn whole_account(id: &str) -> bool {
    matches!(id, "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" | "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED")
}

/// The naive evaluation the benchmark compares with: the same verdicts, but each resource
/// judged alone, for each control finding its points, copies and restores by going through all
/// of them (as asking resource by resource would). Gives what [`evaluate_all`] gives.
pub fn evaluate_naive(inv: &Inventory) -> Vec<ControlResult> {
    defaults()
        .iter()
        .map(|(id, params)| {
            let results = if whole_account(id) {
                verdicts(&Index::new(inv), id, params, &inv.resources)
            } else {
                inv.resources
                    .iter()
                    .flat_map(|r| {
                        let alone = Inventory {
                            resources: vec![r.clone()],
                            points: inv.points.iter().filter(|p| p.resource == r.arn).cloned().collect(),
                            copies: inv.copies.iter().filter(|c| c.resource == r.arn).cloned().collect(),
                            restore_jobs: inv.restore_jobs.iter().filter(|j| j.resource == r.arn).cloned().collect(),
                            restores: inv.restores.iter().filter(|t| t.source == r.arn).cloned().collect(),
                            ..inv.clone_without_lists()
                        };
                        verdicts(&Index::new(&alone), id, params, &alone.resources)
                    })
                    .collect()
            };
            finish(id, params, results)
        })
        .collect()
}

fn verdicts(ix: &Index, id: &str, params: &Params, resources: &[Resource]) -> Vec<ControlResource> {
    let inv = ix.inv;
    let now = inv.now_ms;
    let per_resource = |f: &dyn Fn(&Resource) -> (CheckStatus, String)| -> Vec<ControlResource> {
        resources
            .iter()
            .map(|r| {
                let (status, evidence) = f(r);
                resource(&r.arn, &r.resource_type, status, evidence)
            })
            .collect()
    };
    match id {
        "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" => per_resource(&|r| {
            let rules = covering(&inv.plans, &r.arn, &r.tags);
            match rules.first() {
                Some(_) => (
                    CheckStatus::Pass,
                    format!("in {}", rules.iter().map(|(p, r)| format!("{} / {}", p.name, r.name)).collect::<Vec<_>>().join(", ")),
                ),
                None => (CheckStatus::Fail, "no backup plan's selection covers it".into()),
            }
        }),
        "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK" => {
            let every = age_ms(params, "requiredFrequencyUnit", "requiredFrequencyValue");
            let keep = num(params, "requiredRetentionDays", 35);
            inv.plans
                .iter()
                .map(|(plan, _)| {
                    let good = plan.rules.iter().find(|r| {
                        let often = r.continuous || r.schedule.as_deref().and_then(|s| interval_ms(s, now)).is_some_and(|i| i <= every);
                        often && r.delete_after_days.is_none_or(|d| d >= keep)
                    });
                    let evidence = match good {
                        Some(r) => format!(
                            "rule {}: {}, kept {}",
                            r.name,
                            if r.continuous { "continuous".to_string() } else { r.schedule.clone().unwrap_or_default() },
                            r.delete_after_days.map(|d| format!("{d} days")).unwrap_or_else(|| "always".into())
                        ),
                        None => format!(
                            "no rule runs at least every {} and keeps points {keep} days or more ({})",
                            duration(every),
                            plan.rules
                                .iter()
                                .map(|r| format!(
                                    "{}: {}, kept {}",
                                    r.name,
                                    r.schedule.clone().unwrap_or_else(|| if r.continuous { "continuous".into() } else { "no schedule".into() }),
                                    r.delete_after_days.map(|d| format!("{d} days")).unwrap_or_else(|| "always".into())
                                ))
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                    };
                    resource(&plan.name, "plan", pass(good.is_some()), evidence)
                })
                .collect()
        }
        "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED" => {
            let allowed = list(params, "principalArnList");
            inv.vaults
                .iter()
                .map(|v| {
                    let (ok, evidence) = denies_deletion(v.access_policy.as_deref(), &allowed);
                    resource(&v.name, "vault", pass(ok), evidence)
                })
                .collect()
        }
        "BACKUP_RECOVERY_POINT_ENCRYPTED" => in_scope_points(ix, resources)
            .map(|p| {
                let evidence = match (&p.encryption_key, p.encrypted) {
                    (Some(k), true) => format!("encrypted with {k}"),
                    (None, true) => "encrypted".into(),
                    _ => "not encrypted".into(),
                };
                resource(&p.arn, "recovery point", pass(p.encrypted), evidence)
            })
            .collect(),
        "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK" => {
            let keep = num(params, "requiredRetentionDays", 35);
            in_scope_points(ix, resources)
                .map(|p| {
                    let days = p.delete_after_days.or_else(|| p.delete_at_ms.map(|d| (d - p.created_ms) / DAY_MS));
                    let ok = days.is_none_or(|d| d >= keep);
                    let evidence = days.map(|d| format!("kept {d} days (at least {keep} required)")).unwrap_or_else(|| "kept until deleted".into());
                    resource(&p.arn, "recovery point", pass(ok), evidence)
                })
                .collect()
        }
        "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION" | "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT" => {
            let (part, name, wanted) = if id.ends_with("REGION") {
                (3, "region", list(params, "crossRegionList"))
            } else {
                (4, "account", list(params, "crossAccountList"))
            };
            let home = if part == 3 { inv.home.region.clone() } else { inv.home.account.clone().unwrap_or_default() };
            per_resource(&|r| {
                let elsewhere = |dest: &str| {
                    let there = arn_part(dest, part);
                    !there.is_empty() && there != home && (wanted.is_empty() || wanted.iter().any(|w| w == there))
                };
                let copy = ix.copies(&r.arn).iter().find(|c| c.destination_vault.as_deref().is_some_and(elsewhere));
                match copy {
                    Some(c) => (
                        CheckStatus::Pass,
                        format!("copied to {} on {} (job {})", c.destination_vault.clone().unwrap_or_default(), when(c.created_ms), c.id),
                    ),
                    None => {
                        let planned = covering(&inv.plans, &r.arn, &r.tags).iter().any(|(_, rule)| rule.copies.iter().any(|(d, _)| elsewhere(d)));
                        let why = if planned { "a rule copies it, but no copy has completed yet" } else { "no rule copies it" };
                        (CheckStatus::Fail, format!("no completed copy to another {name}{}: {why}", list_text(&wanted)))
                    }
                }
            })
        }
        "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK" => {
            let min = param(params, "minRetentionDays").and_then(|v| v.parse::<i64>().ok());
            let max = param(params, "maxRetentionDays").and_then(|v| v.parse::<i64>().ok());
            per_resource(&|r| {
                let locked = ix.points(&r.arn).iter().filter_map(|p| ix.vault_of(p)).find(|v| {
                    v.locked
                        && min.is_none_or(|m| v.min_retention_days.is_some_and(|d| d >= m))
                        && max.is_none_or(|m| v.max_retention_days.is_some_and(|d| d <= m))
                });
                match locked {
                    Some(v) => (
                        CheckStatus::Pass,
                        format!("points in {} (locked, kept {}–{} days)", v.name, opt(v.min_retention_days), opt(v.max_retention_days)),
                    ),
                    None if ix.points(&r.arn).is_empty() => (CheckStatus::Fail, "no recovery point".into()),
                    None => (CheckStatus::Fail, "none of its points is in a vault locked within the bounds".into()),
                }
            })
        }
        "BACKUP_LAST_RECOVERY_POINT_CREATED" => {
            let within = age_ms(params, "recoveryPointAgeUnit", "recoveryPointAgeValue");
            per_resource(&|r| match ix.points(&r.arn).first() {
                Some(p) => {
                    let ok = now - p.created_ms <= within;
                    (pass(ok), format!("newest point {} ({} old; at most {})", when(p.created_ms), duration(now - p.created_ms), duration(within)))
                }
                None => (CheckStatus::Fail, "no recovery point".into()),
            })
        }
        "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET" => {
            let target = num(params, "maxRestoreTime", RTO_MINUTES);
            per_resource(&|r| {
                let newest = ix.restore_jobs.get(r.arn.as_str()).and_then(|v| v.iter().find(|j| j.state == "COMPLETED" && j.completed_ms.is_some()));
                match newest {
                    Some(j) => {
                        let minutes = (j.completed_ms.unwrap_or(j.created_ms) - j.created_ms) / 60_000;
                        (pass(minutes <= target), format!("restore job {} on {} took {minutes} min (target {target} min)", j.id, when(j.created_ms)))
                    }
                    None => (CheckStatus::Warn, "never restored: no restore time to judge".into()),
                }
            })
        }
        "RESOURCES_IN_LOGICALLY_AIR_GAPPED_VAULT" => {
            let within = age_ms(params, "recoveryPointAgeUnit", "recoveryPointAgeValue");
            let air_gapped = |vault: Option<&VaultView>| vault.is_some_and(|v| v.vault_type == "LOGICALLY_AIR_GAPPED_BACKUP_VAULT");
            per_resource(&|r| {
                let point = ix
                    .points(&r.arn)
                    .iter()
                    .find(|p| air_gapped(ix.vault_of(p)) && now - p.created_ms <= within)
                    .map(|p| (p.vault.clone(), p.created_ms));
                let copy = ix
                    .copies(&r.arn)
                    .iter()
                    .find(|c| {
                        air_gapped(c.destination_vault.as_deref().and_then(|d| ix.vaults_by_arn.get(d).copied())) && now - c.created_ms <= within
                    })
                    .map(|c| (c.destination_vault.clone().unwrap_or_default(), c.created_ms));
                match point.or(copy) {
                    Some((vault, at)) => (CheckStatus::Pass, format!("a point in {vault} from {}", when(at))),
                    None => (CheckStatus::Fail, format!("no point in a logically air-gapped vault within {}", duration(within))),
                }
            })
        }
        "PJ_RPO_ACHIEVABLE" => {
            let rpo = num(params, "rpoMinutes", RPO_MINUTES);
            resources
                .iter()
                .filter(|r| r.holds_data)
                .map(|r| {
                    let pitr = inv.restorable.get(&r.arn).copied();
                    let point = ix.points(&r.arn).first().map(|p| p.created_ms);
                    let continuous = covering(&inv.plans, &r.arn, &r.tags).iter().any(|(_, rule)| rule.continuous);
                    let lag = ix.copies(&r.arn).first().and_then(|c| {
                        let source = c.recovery_point.as_deref().and_then(|p| ix.created.get(p).copied()).unwrap_or(c.created_ms);
                        c.completed_ms.map(|done| (done - source).max(0))
                    });
                    let (status, mut evidence) = match pitr.into_iter().chain(point).max() {
                        Some(at) => {
                            let age = (now - at).max(0) / 60_000;
                            let how = if pitr == Some(at) { "point-in-time recovery" } else { "recovery point" };
                            (pass(age <= rpo), format!("restorable to {age} min ago by {how} (RPO {rpo} min)"))
                        }
                        None => (CheckStatus::Fail, "nothing to restore from".into()),
                    };
                    evidence.push_str(if continuous { "; continuous backup on" } else { "; no continuous backup rule" });
                    if let Some(lag) = lag {
                        evidence.push_str(&format!("; newest copy lag {}", duration(lag)));
                    }
                    resource(&r.arn, &r.resource_type, status, evidence)
                })
                .collect()
        }
        "PJ_RESTORE_TEST_WITHIN_30_DAYS" => {
            let days = num(params, "days", 30);
            resources
                .iter()
                .filter(|r| r.holds_data)
                .map(|r| {
                    let good = ix.restores.get(r.arn.as_str()).and_then(|v| v.iter().find(|t| t.passed() && now - t.started_ms <= days * DAY_MS));
                    let (status, evidence) = match good {
                        Some(t) => (
                            CheckStatus::Pass,
                            format!(
                                "{} to {} on {} in {} ({})",
                                if t.test { "restore test" } else { "restored" },
                                t.target,
                                when(t.started_ms),
                                t.total_seconds.map(|s| duration(s * 1000)).unwrap_or_else(|| "?".into()),
                                if t.test { "validated, then deleted" } else { "checks passed" }
                            ),
                        ),
                        None => (CheckStatus::Fail, format!("no successful restore in the last {days} days")),
                    };
                    resource(&r.arn, &r.resource_type, status, evidence)
                })
                .collect()
        }
        _ => vec![],
    }
}

/// A control's verdict from its results.
fn finish(id: &str, params: &Params, results: Vec<ControlResource>) -> ControlResult {
    let failing = results.iter().filter(|r| r.status == CheckStatus::Fail).count();
    let status = if results.is_empty() {
        CheckStatus::Warn
    } else if failing > 0 {
        CheckStatus::Fail
    } else if results.iter().all(|r| r.status == CheckStatus::Warn) {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    ControlResult {
        id: id.to_string(),
        title: title(id).to_string(),
        source: if id.starts_with("PJ_") { "Patient Journey" } else { "AWS Backup Audit Manager" }.to_string(),
        parameters: params.clone(),
        status,
        evaluated: results.len(),
        failing,
        results,
    }
}

/// The points of the resources in scope.
fn in_scope_points<'a>(ix: &'a Index<'a>, resources: &'a [Resource]) -> impl Iterator<Item = &'a RecoveryPointView> + 'a {
    resources.iter().flat_map(move |r| ix.points(&r.arn).iter().copied())
}

fn opt(v: Option<i64>) -> String {
    v.map(|d| d.to_string()).unwrap_or_else(|| "?".into())
}

fn list_text(wanted: &[String]) -> String {
    if wanted.is_empty() {
        String::new()
    } else {
        format!(" ({})", wanted.join(", "))
    }
}

fn duration(ms: i64) -> String {
    let m = ms / 60_000;
    match m {
        m if m < 120 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

/// How often a schedule runs: the time between its next two runs after `now_ms`.
pub fn interval_ms(expression: &str, now_ms: i64) -> Option<i64> {
    if let Some(rate) = expression.trim().strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut parts = rate.split_whitespace();
        let n: i64 = parts.next()?.parse().ok()?;
        return Some(match parts.next()?.trim_end_matches('s') {
            "minute" => n * 60_000,
            "hour" => n * HOUR_MS,
            "day" => n * DAY_MS,
            _ => return None,
        });
    }
    let first = next_run(expression, now_ms)?;
    let second = next_run(expression, first)?;
    Some(second - first)
}

/// Whether a vault's access policy denies deleting recovery points to everyone but `allowed`.
pub fn denies_deletion(policy: Option<&str>, allowed: &[String]) -> (bool, String) {
    let Some(policy) = policy else { return (false, "no access policy: anyone with IAM permission may delete recovery points".into()) };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(policy) else { return (false, "the access policy is not JSON".into()) };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(v) => v.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => vec![],
    };
    let as_list = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
            _ => vec![],
        }
    };
    for s in &statements {
        if s["Effect"] != "Deny" {
            continue;
        }
        let actions = as_list(&s["Action"]);
        if !actions.iter().any(|a| matches!(a.as_str(), "backup:DeleteRecoveryPoint" | "backup:*" | "*")) {
            continue;
        }
        let everyone = s["Principal"] == "*" || as_list(&s["Principal"]["AWS"]).iter().any(|p| p == "*");
        if !everyone {
            continue;
        }
        // Exceptions by condition must be only the allowed principals.
        let excepted: Vec<String> = s["Condition"]
            .as_object()
            .map(|c| c.values().flat_map(|m| m.as_object().map(|m| m.values().flat_map(as_list).collect::<Vec<_>>()).unwrap_or_default()).collect())
            .unwrap_or_default();
        if excepted.iter().all(|p| allowed.contains(p)) {
            let sid = s["Sid"].as_str().map(|s| format!(" ({s})")).unwrap_or_default();
            return (true, format!("the access policy denies backup:DeleteRecoveryPoint to everyone{sid}"));
        }
        return (false, format!("the deny excepts principals not allowed: {}", excepted.join(", ")));
    }
    (false, "the access policy does not deny backup:DeleteRecoveryPoint to everyone".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_aws::backup::RuleInfo;

    const NOW: i64 = 1_780_000_000_000;
    const MIN: i64 = 60_000;
    const DB: &str = "arn:aws:rds:eu-west-1:111122223333:cluster:pj-prod-db";
    const DOCS: &str = "arn:aws:s3:::pj-prod-documents";

    fn vault(name: &str, locked: bool, kind: &str) -> VaultView {
        VaultView {
            name: name.into(),
            arn: format!("arn:aws:backup:eu-west-1:111122223333:backup-vault:{name}"),
            locked,
            min_retention_days: locked.then_some(7),
            max_retention_days: locked.then_some(400),
            vault_type: kind.into(),
            ..Default::default()
        }
    }

    fn point(resource: &str, vault: &str, ago_min: i64, encrypted: bool, days: Option<i64>) -> RecoveryPointView {
        RecoveryPointView {
            arn: format!("{resource}/point-{ago_min}"),
            vault: vault.into(),
            resource: resource.into(),
            status: "COMPLETED".into(),
            created_ms: NOW - ago_min * MIN,
            encrypted,
            delete_after_days: days,
            ..Default::default()
        }
    }

    /// A platform that meets every control.
    fn good() -> Inventory {
        let rules = vec![
            RuleInfo { name: "continuous".into(), vault: "pj".into(), continuous: true, delete_after_days: Some(35), ..Default::default() },
            RuleInfo {
                name: "daily".into(),
                vault: "pj".into(),
                schedule: Some("cron(0 3 * * ? *)".into()),
                delete_after_days: Some(90),
                copies: vec![("arn:aws:backup:us-west-2:444455556666:backup-vault:dr".into(), Some(90))],
                ..Default::default()
            },
        ];
        let selection = SelectionInfo {
            resources: vec!["*".into()],
            conditions: vec![("aws:ResourceTag/pj:backup".into(), "true".into())],
            ..Default::default()
        };
        let tags = vec![("pj:backup".to_string(), "true".to_string())];
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":["backup:DeleteRecoveryPoint","backup:UpdateRecoveryPointLifecycle"],"Resource":"*"}]}"#;
        let mut pj = vault("pj", true, "BACKUP_VAULT");
        pj.access_policy = Some(policy.into());
        let mut lag = vault("lag", true, "LOGICALLY_AIR_GAPPED_BACKUP_VAULT");
        lag.access_policy = Some(policy.into());
        let copy = |resource: &str| BackupJobView {
            kind: "copy".into(),
            id: format!("copy-{resource}"),
            state: "COMPLETED".into(),
            resource: resource.into(),
            destination_vault: Some("arn:aws:backup:us-west-2:444455556666:backup-vault:dr".into()),
            recovery_point: Some(format!("{resource}/point-5")),
            created_ms: NOW - 4 * MIN,
            completed_ms: Some(NOW - 2 * MIN),
            ..Default::default()
        };
        let restore_job = BackupJobView {
            kind: "restore".into(),
            id: "r1".into(),
            state: "COMPLETED".into(),
            resource: DB.into(),
            created_ms: NOW - 3 * DAY_MS,
            completed_ms: Some(NOW - 3 * DAY_MS + 40 * MIN),
            ..Default::default()
        };
        let test = |source: &str| RestoreRecord {
            source: source.into(),
            target: "t".into(),
            state: "restored".into(),
            started_ms: NOW - 2 * DAY_MS,
            total_seconds: Some(1800),
            ..Default::default()
        };
        Inventory {
            now_ms: NOW,
            home: Home { region: "eu-west-1".into(), account: Some("111122223333".into()) },
            resources: vec![
                Resource { arn: DB.into(), resource_type: "Aurora".into(), tags: tags.clone(), holds_data: true },
                Resource { arn: DOCS.into(), resource_type: "S3".into(), tags, holds_data: true },
            ],
            plans: vec![(PlanInfo { id: "p".into(), name: "pj-prod".into(), rules }, vec![selection])],
            vaults: vec![pj, lag],
            points: vec![
                point(DB, "pj", 5, true, Some(35)),
                point(DOCS, "pj", 5, true, Some(35)),
                point(DB, "lag", 60, true, Some(35)),
                point(DOCS, "lag", 60, true, Some(35)),
            ],
            copies: vec![copy(DB), copy(DOCS)],
            restore_jobs: vec![restore_job, BackupJobView { resource: DOCS.into(), id: "r2".into(), ..restore_job_clone() }],
            restores: vec![test(DB), test(DOCS)],
            restorable: HashMap::from([(DB.to_string(), NOW - 3 * MIN)]),
        }
    }

    fn restore_job_clone() -> BackupJobView {
        BackupJobView {
            kind: "restore".into(),
            state: "COMPLETED".into(),
            created_ms: NOW - DAY_MS,
            completed_ms: Some(NOW - DAY_MS + 10 * MIN),
            ..Default::default()
        }
    }

    fn status(inv: &Inventory, id: &str) -> ControlResult {
        let (_, params) = defaults().into_iter().find(|(c, _)| *c == id).unwrap();
        evaluate(inv, id, &params)
    }

    #[test]
    fn a_platform_that_does_everything_passes_every_control_with_its_evidence() {
        let all = evaluate_all(&good());
        assert_eq!(all.len(), 13);
        for c in &all {
            assert_eq!(c.status, CheckStatus::Pass, "{c:#?}");
            assert!(c.evaluated > 0 && c.results.iter().all(|r| !r.evidence.is_empty()), "{c:#?}");
            assert!(!c.title.is_empty());
        }
        let rpo = all.iter().find(|c| c.id == "PJ_RPO_ACHIEVABLE").unwrap();
        assert!(rpo.results[0].evidence.contains("by point-in-time recovery") && rpo.results[0].evidence.contains("copy lag"), "{rpo:#?}");
    }

    #[test]
    fn each_control_fails_on_the_state_it_guards_against() {
        let fails = |edit: &dyn Fn(&mut Inventory), id: &str, says: &str| {
            let mut inv = good();
            edit(&mut inv);
            let c = status(&inv, id);
            assert_eq!(c.status, CheckStatus::Fail, "{id}: {c:#?}");
            assert!(c.results.iter().any(|r| r.status == CheckStatus::Fail && r.evidence.contains(says)), "{id}: {says:?} in {c:#?}");
            // The other controls are not affected by a state they do not look at (spot check).
            assert_eq!(status(&inv, "BACKUP_RECOVERY_POINT_ENCRYPTED").status == CheckStatus::Pass, id != "BACKUP_RECOVERY_POINT_ENCRYPTED");
        };
        fails(&|i| i.plans[0].1[0].conditions[0].1 = "false".into(), "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "no backup plan");
        fails(
            &|i| {
                i.plans[0].0.rules.retain(|r| !r.continuous);
                i.plans[0].0.rules[0].schedule = Some("cron(0 3 ? * 1 *)".into());
            },
            "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
            "at least every 24 h",
        );
        fails(&|i| i.vaults[0].access_policy = None, "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED", "no access policy");
        fails(&|i| i.points[0].encrypted = false, "BACKUP_RECOVERY_POINT_ENCRYPTED", "not encrypted");
        fails(&|i| i.points[1].delete_after_days = Some(7), "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK", "kept 7 days");
        fails(&|i| i.copies.retain(|c| c.resource != DB), "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION", "a rule copies it, but no copy");
        fails(
            &|i| i.copies.iter_mut().for_each(|c| c.destination_vault = Some("arn:aws:backup:us-west-2:111122223333:backup-vault:dr".into())),
            "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT",
            "no completed copy to another account",
        );
        fails(&|i| i.vaults.iter_mut().for_each(|v| v.locked = false), "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK", "locked within");
        fails(&|i| i.points.iter_mut().for_each(|p| p.created_ms -= 2 * DAY_MS), "BACKUP_LAST_RECOVERY_POINT_CREATED", "2 days old");
        fails(&|i| i.restore_jobs[0].completed_ms = Some(NOW - 3 * DAY_MS + 90 * MIN), "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET", "took 90 min");
        fails(&|i| i.points.retain(|p| p.vault != "lag"), "RESOURCES_IN_LOGICALLY_AIR_GAPPED_VAULT", "logically air-gapped");
        fails(
            &|i| {
                i.restorable.clear();
                i.points.iter_mut().for_each(|p| p.created_ms -= 30 * MIN);
            },
            "PJ_RPO_ACHIEVABLE",
            "35 min ago by recovery point",
        );
        fails(&|i| i.restores[1].started_ms = NOW - 31 * DAY_MS, "PJ_RESTORE_TEST_WITHIN_30_DAYS", "no successful restore in the last 30 days");
        fails(&|i| i.restores[0].checks.push(Default::default()), "PJ_RESTORE_TEST_WITHIN_30_DAYS", "no successful restore");
        // A restore test whose data did not validate is no success either.
        fails(
            &|i| {
                i.restores[0].test = true;
                i.restores[0].state = "tested".into();
                i.restores[0].validation.push(Default::default());
            },
            "PJ_RESTORE_TEST_WITHIN_30_DAYS",
            "no successful restore",
        );
    }

    #[test]
    fn parameters_change_the_verdict_as_audit_manager_reads_them() {
        let inv = good();
        let p = |v: &[(&str, &str)]| v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Params>();
        assert_eq!(evaluate(&inv, "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK", &p(&[("requiredRetentionDays", "36")])).status, CheckStatus::Fail);
        assert_eq!(
            evaluate(&inv, "BACKUP_LAST_RECOVERY_POINT_CREATED", &p(&[("recoveryPointAgeUnit", "hours"), ("recoveryPointAgeValue", "1")])).status,
            CheckStatus::Pass
        );
        let region = |list: &str| evaluate(&inv, "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION", &p(&[("crossRegionList", list)])).status;
        assert_eq!((region("us-west-2"), region("eu-central-1")), (CheckStatus::Pass, CheckStatus::Fail));
        let lock = |min: &str| evaluate(&inv, "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK", &p(&[("minRetentionDays", min)])).status;
        assert_eq!((lock("7"), lock("30")), (CheckStatus::Pass, CheckStatus::Fail));
        assert_eq!(evaluate(&inv, "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET", &p(&[("maxRestoreTime", "30")])).status, CheckStatus::Fail);
        // No resource restored yet: nothing to judge (neither pass nor fail).
        let mut none = good();
        none.restore_jobs.clear();
        assert_eq!(status(&none, "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET").status, CheckStatus::Warn);
    }

    #[test]
    fn a_deletion_deny_must_cover_everyone_but_the_allowed_principals() {
        let deny =
            |extra: &str| format!(r#"{{"Statement":[{{"Effect":"Deny","Principal":{{"AWS":"*"}},"Action":"backup:*","Resource":"*"{extra}}}]}}"#);
        assert!(denies_deletion(Some(&deny("")), &[]).0);
        let except = deny(r#","Condition":{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::1:role/admin"}}"#);
        assert!(!denies_deletion(Some(&except), &[]).0);
        assert!(denies_deletion(Some(&except), &["arn:aws:iam::1:role/admin".to_string()]).0);
        assert!(!denies_deletion(Some(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"backup:DeleteRecoveryPoint"}]}"#), &[]).0);
        assert!(!denies_deletion(Some("not json"), &[]).0);
    }

    #[test]
    fn the_naive_evaluation_gives_the_same_verdicts() {
        let mut inv = good();
        inv.points[0].encrypted = false;
        inv.copies.clear();
        assert_eq!(evaluate_naive(&inv), evaluate_all(&inv));
    }

    #[test]
    fn schedules_are_read_as_intervals() {
        assert_eq!(interval_ms("cron(0 3 * * ? *)", NOW), Some(DAY_MS));
        assert_eq!(interval_ms("cron(0 */6 * * ? *)", NOW), Some(6 * HOUR_MS));
        assert_eq!(interval_ms("rate(12 hours)", NOW), Some(12 * HOUR_MS));
        assert_eq!(interval_ms("at(2026-01-01T00:00:00)", NOW), None);
    }
}

//! An on-demand backup of one platform resource: into the vault of the rule that covers it (the
//! environment's vault otherwise), as the role of the selection that covers it, kept as long as
//! that rule keeps its points unless told otherwise — never outside the vault lock's bounds.
//! The resource's name is typed; the start is logged (`backup.start`).

use super::{coverage, explained, read_component, read_plans, Backups};
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use serde_json::json;
use vigil_aws::backup::{Backup, JobKind, PlanInfo, SelectionInfo};
use vigil_dto::backup::{BackupJobView, BackupRequest};

/// The longest retention AWS Backup accepts (100 years).
const MAX_RETENTION_DAYS: i64 = 36_500;

/// The vault, role and retention an on-demand backup of `arn` takes from the plans covering it
/// (the first covering selection's role; the first covering scheduled rule's vault and
/// retention), falling back to `default_vault`.
pub fn defaults(
    plans: &[(PlanInfo, Vec<SelectionInfo>)],
    arn: &str,
    tags: &[(String, String)],
    default_vault: Option<&str>,
) -> (Option<String>, Option<String>, Option<i64>) {
    let role = plans
        .iter()
        .flat_map(|(_, s)| s.iter())
        .find(|s| crate::deploy::validate::covers(s, arn, tags))
        .or_else(|| plans.iter().flat_map(|(_, s)| s.iter()).next())
        .map(|s| s.role.clone())
        .filter(|r| !r.is_empty());
    let rules = coverage::covering(plans, arn, tags);
    let rule = rules.iter().find(|(_, r)| !r.continuous).or(rules.first()).map(|(_, r)| *r);
    let vault = rule.map(|r| r.vault.clone()).or(default_vault.map(str::to_string)).filter(|v| !v.is_empty());
    (vault, role, rule.and_then(|r| r.delete_after_days))
}

/// A retention the vault's lock allows, or why not.
pub fn check_retention(days: i64, vault: &str, min: Option<i64>, max: Option<i64>) -> Result<()> {
    if !(1..=MAX_RETENTION_DAYS).contains(&days) {
        return Err(Error::validation("retention_days", format!("{days} days: keep a recovery point between 1 and {MAX_RETENTION_DAYS} days")));
    }
    if let Some(min) = min.filter(|m| days < *m) {
        return Err(Error::validation(
            "retention_days",
            format!(
                "{days} days is below the lock of vault {vault}: its recovery points must be kept at least {min} days; keep it {min} days or more"
            ),
        ));
    }
    if let Some(max) = max.filter(|m| days > *m) {
        return Err(Error::validation(
            "retention_days",
            format!("{days} days is above the lock of vault {vault}: it keeps recovery points at most {max} days; keep it {max} days or fewer"),
        ));
    }
    Ok(())
}

impl Backups<'_> {
    /// Starts an on-demand backup of a platform resource (`resource`: aurora, documents, eks or
    /// its ARN); `confirm` must be the resource's name. Returns the job as AWS Backup describes
    /// it right after the start.
    pub async fn start_backup(&self, req: &BackupRequest) -> Result<BackupJobView> {
        self.policy().require(Change::Backup)?;
        let wanted = req.resource.trim();
        if wanted.is_empty() {
            return Err(Error::validation("resource", "name what to back up: aurora, documents or eks, or the resource's ARN"));
        }
        let env = self.current().await?;
        let ctx = self.aws_context(&env).await;
        let op = aws::new_op_id();
        let mut components = coverage::components(&env.deployment);
        components.retain(|c| c.resource.is_some());
        let mut found = None;
        for mut c in components {
            let by_name = c.id == wanted || c.name == wanted;
            if by_name || (wanted.starts_with("arn:") && c.by_aws_backup) {
                read_component(&ctx, &op, &mut c).await?;
            }
            if by_name || c.resource.as_deref() == Some(wanted) {
                found = Some(c);
                break;
            }
        }
        let Some(c) = found else {
            return Err(Error::validation(
                "resource",
                format!("`{wanted}` is not a resource of the platform in {}: name aurora, documents or eks, or one of their ARNs (Backups → Coverage lists them)", env.name),
            ));
        };
        if !c.by_aws_backup {
            return Err(Error::validation("resource", format!("{} is not backed up by AWS Backup: {}", c.title, c.recovery)));
        }
        let arn = c.resource.clone().unwrap_or_default();
        if !arn.starts_with("arn:") {
            return Err(Error::Backup {
                kind: "not_found",
                message: format!("{} ({}) was not found in {}", c.title, c.name, env.region),
                hint: "deploy the platform, or correct the environment's deployment parameters (Environments → Edit)".into(),
            });
        }
        if req.confirm.as_deref().map(str::trim) != Some(c.name.as_str()) {
            return Err(Error::Backup {
                kind: "confirmation_required",
                message: format!("to back up {} ({}) now, type its name", c.name, c.title),
                hint: format!("confirm with {}", c.name),
            });
        }
        let backup = Backup::new(&ctx, &op);
        let (plans, unread) = read_plans(&backup).await;
        if let Some(e) = unread.into_iter().next() {
            return Err(e.into());
        }
        let (vault, role, rule_days) = defaults(&plans, &arn, &c.tags, env.deployment.get("backup_vault").map(String::as_str));
        let Some(vault) = vault else {
            return Err(Error::Backup {
                kind: "no_vault",
                message: format!("no backup vault to put a backup of {} in: no plan covers it and the environment names no vault", c.name),
                hint: "deploy the platform's backup stack, or set backup_vault in Environments → Edit → Deployment".into(),
            });
        };
        let Some(role) = role else {
            return Err(Error::Backup {
                kind: "no_backup_role",
                message: format!("no backup role to back up {} as: no backup plan has a selection", c.name),
                hint: "deploy the platform's backup stack (it makes the plan, its selection and the role AWS Backup takes)".into(),
            });
        };
        let Some(detail) = backup.vault_detail(&vault).await? else {
            return Err(Error::Backup {
                kind: "not_found",
                message: format!("backup vault {vault} does not exist in {}", env.region),
                hint: "deploy the platform's backup stack, or correct backup_vault in Environments → Edit → Deployment".into(),
            });
        };
        let days = req.retention_days.or(rule_days).or(detail.min_retention_days);
        if let Some(days) = days {
            check_retention(days, &vault, detail.min_retention_days, detail.max_retention_days)?;
        }
        let (job, point) = backup.start_backup(&vault, &arn, &role, days, &op).await?;
        self.log(
            Record::new("backup.start", &env.name, json!({ "resource": arn, "vault": vault, "job": job, "retention_days": days, "role": role }))
                .op(&op),
        )
        .await?;
        // The job has started: a description that cannot be read now is no failure of it.
        let view = match backup.backup_job(&job).await {
            Ok(Some(v)) => v,
            _ => BackupJobView {
                kind: "backup".into(),
                id: job,
                state: "CREATED".into(),
                resource: arn,
                vault,
                recovery_point: point,
                created_ms: chrono::Utc::now().timestamp_millis(),
                ..Default::default()
            },
        };
        Ok(explained(JobKind::Backup, view))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_aws::backup::RuleInfo;

    fn plans() -> Vec<(PlanInfo, Vec<SelectionInfo>)> {
        let rule = |name: &str, continuous: bool, days| RuleInfo {
            name: name.into(),
            vault: if continuous { "pitr".into() } else { "daily".into() },
            continuous,
            delete_after_days: Some(days),
            ..Default::default()
        };
        let selection = SelectionInfo {
            resources: vec!["*".into()],
            conditions: vec![("aws:ResourceTag/pj:backup".into(), "true".into())],
            role: "arn:aws:iam::1:role/backup".into(),
            ..Default::default()
        };
        vec![(PlanInfo { id: "p".into(), name: "pj".into(), rules: vec![rule("pitr", true, 35), rule("daily", false, 90)] }, vec![selection])]
    }

    #[test]
    fn a_covered_resource_takes_its_scheduled_rules_vault_retention_and_role() {
        let tags = [("pj:backup".to_string(), "true".to_string())];
        let (vault, role, days) = defaults(&plans(), "arn:aws:rds:x", &tags, Some("env-vault"));
        assert_eq!((vault.as_deref(), role.as_deref(), days), (Some("daily"), Some("arn:aws:iam::1:role/backup"), Some(90)));
        // Not covered: the environment's vault, still a role of the plan's, no retention.
        let (vault, role, days) = defaults(&plans(), "arn:aws:rds:x", &[], Some("env-vault"));
        assert_eq!((vault.as_deref(), role.as_deref(), days), (Some("env-vault"), Some("arn:aws:iam::1:role/backup"), None));
        assert_eq!(defaults(&[], "arn:aws:rds:x", &[], None), (None, None, None));
    }

    #[test]
    fn a_retention_outside_the_vault_lock_is_refused_with_the_bound() {
        assert!(check_retention(35, "v", Some(7), Some(365)).is_ok());
        let low = check_retention(3, "v", Some(7), None).unwrap_err();
        assert_eq!(low.kind(), "validation");
        assert!(low.to_string().contains("at least 7 days"), "{low}");
        let high = check_retention(400, "v", None, Some(365)).unwrap_err();
        assert!(high.to_string().contains("at most 365 days"), "{high}");
        assert!(check_retention(0, "v", None, None).is_err());
    }
}

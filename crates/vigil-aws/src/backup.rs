//! AWS Backup: the platform's vault, plan and selections as a deploy's validation reads them
//! (a continuous rule for point-in-time recovery, the scheduled rules, what each selection
//! covers, the vault's KMS key and lock).

use crate::error::AwsError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// A backup rule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleInfo {
    pub name: String,
    pub vault: String,
    /// Continuous backup (point-in-time restore) for the resources that support it.
    pub continuous: bool,
    pub schedule: Option<String>,
    pub delete_after_days: Option<i64>,
    /// How many copy actions (to other vaults, other regions) the rule has.
    pub copies: usize,
}

/// A backup plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanInfo {
    pub id: String,
    pub name: String,
    pub rules: Vec<RuleInfo>,
}

/// A selection of a plan: the resources it names and the tag conditions they must meet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SelectionInfo {
    pub id: String,
    pub name: String,
    pub resources: Vec<String>,
    /// (condition key, value) the resources must all match (StringEquals and list-of-tags).
    pub conditions: Vec<(String, String)>,
}

/// A backup vault.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VaultInfo {
    pub name: String,
    pub encryption_key: Option<String>,
    pub locked: bool,
    pub recovery_points: i64,
}

service_client!(
    /// AWS Backup for one operation of one environment.
    Backup,
    aws_sdk_backup
);

fn is_missing<E: ProvideErrorMetadata>(e: &aws_sdk_backup::error::SdkError<E>) -> bool {
    e.as_service_error().is_some_and(|s| s.code() == Some("ResourceNotFoundException"))
}

impl Backup {
    /// The plan `id`, or None when there is none.
    pub async fn plan(&self, id: &str) -> Result<Option<PlanInfo>, AwsError> {
        let out = match self.client.get_backup_plan().backup_plan_id(id).send().await {
            Ok(out) => out,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(crate::error::classify(&self.ctx, "backup", "GetBackupPlan", &e).await),
        };
        Ok(out.backup_plan().map(|p| PlanInfo {
            id: out.backup_plan_id().unwrap_or(id).to_string(),
            name: p.backup_plan_name().to_string(),
            rules: p
                .rules()
                .iter()
                .map(|r| RuleInfo {
                    name: r.rule_name().to_string(),
                    vault: r.target_backup_vault_name().to_string(),
                    continuous: r.enable_continuous_backup() == Some(true),
                    schedule: r.schedule_expression().map(str::to_string),
                    delete_after_days: r.lifecycle().and_then(|l| l.delete_after_days()),
                    copies: r.copy_actions().len(),
                })
                .collect(),
        }))
    }

    /// The plan's selections.
    pub async fn selections(&self, plan_id: &str) -> Result<Vec<SelectionInfo>, AwsError> {
        let mut ids = vec![];
        let mut pages = self.client.list_backup_selections().backup_plan_id(plan_id).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => ids.extend(p.backup_selections_list().iter().filter_map(|s| s.selection_id().map(str::to_string))),
                Err(e) => return Err(crate::error::classify(&self.ctx, "backup", "ListBackupSelections", &e).await),
            }
        }
        let mut out = vec![];
        for id in ids {
            let got = match self.client.get_backup_selection().backup_plan_id(plan_id).selection_id(&id).send().await {
                Ok(got) => got,
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(crate::error::classify(&self.ctx, "backup", "GetBackupSelection", &e).await),
            };
            let Some(s) = got.backup_selection() else { continue };
            let mut conditions: Vec<(String, String)> = s
                .conditions()
                .map(|c| {
                    c.string_equals()
                        .iter()
                        .map(|p| (p.condition_key().unwrap_or_default().to_string(), p.condition_value().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            conditions.extend(s.list_of_tags().iter().map(|t| (format!("aws:ResourceTag/{}", t.condition_key()), t.condition_value().to_string())));
            out.push(SelectionInfo { id, name: s.selection_name().to_string(), resources: s.resources().to_vec(), conditions });
        }
        Ok(out)
    }

    /// The vault `name`, or None when there is none.
    pub async fn vault(&self, name: &str) -> Result<Option<VaultInfo>, AwsError> {
        match self.client.describe_backup_vault().backup_vault_name(name).send().await {
            Ok(v) => Ok(Some(VaultInfo {
                name: v.backup_vault_name().unwrap_or(name).to_string(),
                encryption_key: v.encryption_key_arn().map(str::to_string),
                locked: v.locked() == Some(true),
                recovery_points: v.number_of_recovery_points(),
            })),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(crate::error::classify(&self.ctx, "backup", "DescribeBackupVault", &e).await),
        }
    }
}

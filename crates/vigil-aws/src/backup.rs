//! AWS Backup: the platform's vault, plan and selections as a deploy's validation reads them
//! (a continuous rule for point-in-time recovery, the scheduled rules, what each selection
//! covers, the vault's KMS key and lock); for the Backups area every plan and vault (lock,
//! access policy), the backup, copy and restore jobs, the recovery points, an on-demand backup,
//! and a restore (a point's restore metadata, the restore job, followed by its description);
//! Backup Audit Manager's frameworks with their controls.

use crate::error::AwsError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use vigil_dto::backup::{BackupJobView, RecoveryPointView, VaultView};

/// A backup rule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleInfo {
    pub name: String,
    pub vault: String,
    /// Continuous backup (point-in-time restore) for the resources that support it.
    pub continuous: bool,
    pub schedule: Option<String>,
    /// The schedule's time zone (UTC when none is given).
    pub timezone: Option<String>,
    pub start_window_minutes: Option<i64>,
    pub completion_window_minutes: Option<i64>,
    pub delete_after_days: Option<i64>,
    pub cold_after_days: Option<i64>,
    /// Copy actions (to other vaults, other regions or accounts): (destination vault ARN,
    /// retention days).
    pub copies: Vec<(String, Option<i64>)>,
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
    /// The role AWS Backup takes to back up (and restore) what it selects.
    pub role: String,
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
                    timezone: text(r.schedule_expression_timezone()),
                    start_window_minutes: r.start_window_minutes(),
                    completion_window_minutes: r.completion_window_minutes(),
                    delete_after_days: r.lifecycle().and_then(|l| l.delete_after_days()),
                    cold_after_days: r.lifecycle().and_then(|l| l.move_to_cold_storage_after_days()),
                    copies: r
                        .copy_actions()
                        .iter()
                        .map(|c| (c.destination_backup_vault_arn().to_string(), c.lifecycle().and_then(|l| l.delete_after_days())))
                        .collect(),
                })
                .collect(),
        }))
    }

    /// The ids of every backup plan of the account in the region.
    pub async fn plan_ids(&self) -> Result<Vec<String>, AwsError> {
        let mut out = vec![];
        let mut pages = self.client.list_backup_plans().into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => out.extend(p.backup_plans_list().iter().filter_map(|p| p.backup_plan_id().map(str::to_string))),
                Err(e) => return Err(crate::error::classify(&self.ctx, "backup", "ListBackupPlans", &e).await),
            }
        }
        Ok(out)
    }

    /// The names of every vault of the account in the region.
    pub async fn vault_names(&self) -> Result<Vec<String>, AwsError> {
        let mut out = vec![];
        let mut pages = self.client.list_backup_vaults().into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => out.extend(p.backup_vault_list().iter().filter_map(|v| v.backup_vault_name().map(str::to_string))),
                Err(e) => return Err(crate::error::classify(&self.ctx, "backup", "ListBackupVaults", &e).await),
            }
        }
        Ok(out)
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
            out.push(SelectionInfo {
                id,
                name: s.selection_name().to_string(),
                resources: s.resources().to_vec(),
                conditions,
                role: s.iam_role_arn().to_string(),
            });
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

/// Milliseconds since the epoch of an SDK time.
fn ms(t: Option<&aws_smithy_types::DateTime>) -> Option<i64> {
    t.and_then(|t| t.to_millis().ok())
}

fn time(ms: i64) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_millis(ms)
}

/// A backup job as the page shows it, from ListBackupJobs' members or DescribeBackupJob (their
/// fields are named alike).
macro_rules! backup_job_view {
    ($j:expr) => {{
        let j = $j;
        BackupJobView {
            kind: "backup".into(),
            id: j.backup_job_id().unwrap_or_default().to_string(),
            state: j.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
            message: text(j.status_message()),
            resource: j.resource_arn().unwrap_or_default().to_string(),
            resource_type: j.resource_type().unwrap_or_default().to_string(),
            vault: j.backup_vault_name().unwrap_or_default().to_string(),
            recovery_point: text(j.recovery_point_arn()),
            created_ms: ms(j.creation_date()).unwrap_or_default(),
            completed_ms: ms(j.completion_date()),
            size_bytes: j.backup_size_in_bytes(),
            percent_done: text(j.percent_done()),
            plan: text(j.created_by().and_then(|c| c.backup_plan_id())),
            ..Default::default()
        }
    }};
}

/// A recovery point as the page shows it, from any AWS Backup answer that describes one
/// (ListRecoveryPointsByBackupVault's members and DescribeRecoveryPoint name their fields alike).
macro_rules! point_view {
    ($p:expr, $vault:expr) => {{
        let (p, vault) = ($p, $vault);
        RecoveryPointView {
            arn: p.recovery_point_arn().unwrap_or_default().to_string(),
            vault: p.backup_vault_name().unwrap_or(vault).to_string(),
            source_vault: text(p.source_backup_vault_arn()),
            resource: p.resource_arn().unwrap_or_default().to_string(),
            resource_type: p.resource_type().unwrap_or_default().to_string(),
            status: p.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            message: text(p.status_message()),
            created_ms: ms(p.creation_date()).unwrap_or_default(),
            completed_ms: ms(p.completion_date()),
            size_bytes: p.backup_size_in_bytes(),
            encrypted: p.is_encrypted(),
            encryption_key: text(p.encryption_key_arn()),
            delete_after_days: p.lifecycle().and_then(|l| l.delete_after_days()),
            delete_at_ms: ms(p.calculated_lifecycle().and_then(|l| l.delete_at())),
            cold_at_ms: ms(p.calculated_lifecycle().and_then(|l| l.move_to_cold_storage_at())),
            plan: text(p.created_by().and_then(|c| c.backup_plan_id())),
            last_restore_ms: ms(p.last_restore_time()),
        }
    }};
}

/// What a job is: a backup, a copy to another vault, or a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Backup,
    Copy,
    Restore,
}

/// What to list jobs by (AWS Backup's own filters).
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub state: Option<String>,
    pub resource_arn: Option<String>,
    pub created_after_ms: Option<i64>,
    /// At most this many (newest first), over as many pages as it takes.
    pub limit: Option<usize>,
}

impl Backup {
    async fn fail<E>(
        &self,
        action: &str,
        e: aws_sdk_backup::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        crate::error::classify(&self.ctx, "backup", action, &e).await
    }

    /// Jobs of `kind`, newest first, by `filter`, every page up to its limit.
    pub async fn jobs(&self, kind: JobKind, filter: &JobFilter) -> Result<Vec<BackupJobView>, AwsError> {
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let (page, next) = match kind {
                JobKind::Backup => self.backup_jobs_page(filter, token.take()).await?,
                JobKind::Copy => self.copy_jobs_page(filter, token.take()).await?,
                JobKind::Restore => self.restore_jobs_page(filter, token.take()).await?,
            };
            out.extend(page);
            if out.len() >= limit || next.is_none() {
                break;
            }
            token = next;
        }
        out.sort_by_key(|p| std::cmp::Reverse(p.created_ms));
        out.truncate(limit);
        Ok(out)
    }

    async fn backup_jobs_page(&self, f: &JobFilter, token: Option<String>) -> Result<(Vec<BackupJobView>, Option<String>), AwsError> {
        let req = self
            .client
            .list_backup_jobs()
            .set_next_token(token)
            .set_by_state(f.state.as_deref().map(aws_sdk_backup::types::BackupJobState::from))
            .set_by_resource_arn(f.resource_arn.clone())
            .set_by_created_after(f.created_after_ms.map(time));
        let out = match req.send().await {
            Ok(o) => o,
            Err(e) => return Err(self.fail("ListBackupJobs", e).await),
        };
        let jobs = out.backup_jobs().iter().map(|j| backup_job_view!(j)).collect();
        Ok((jobs, text(out.next_token())))
    }

    async fn copy_jobs_page(&self, f: &JobFilter, token: Option<String>) -> Result<(Vec<BackupJobView>, Option<String>), AwsError> {
        let req = self
            .client
            .list_copy_jobs()
            .set_next_token(token)
            .set_by_state(f.state.as_deref().map(aws_sdk_backup::types::CopyJobState::from))
            .set_by_resource_arn(f.resource_arn.clone())
            .set_by_created_after(f.created_after_ms.map(time));
        let out = match req.send().await {
            Ok(o) => o,
            Err(e) => return Err(self.fail("ListCopyJobs", e).await),
        };
        let jobs = out
            .copy_jobs()
            .iter()
            .map(|j| BackupJobView {
                kind: "copy".into(),
                id: j.copy_job_id().unwrap_or_default().to_string(),
                state: j.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                message: text(j.status_message()),
                resource: j.resource_arn().unwrap_or_default().to_string(),
                resource_type: j.resource_type().unwrap_or_default().to_string(),
                vault: j.source_backup_vault_arn().unwrap_or_default().to_string(),
                destination_vault: text(j.destination_backup_vault_arn()),
                recovery_point: text(j.destination_recovery_point_arn()),
                created_ms: ms(j.creation_date()).unwrap_or_default(),
                completed_ms: ms(j.completion_date()),
                size_bytes: j.backup_size_in_bytes(),
                plan: text(j.created_by().and_then(|c| c.backup_plan_id())),
                ..Default::default()
            })
            .collect();
        Ok((jobs, text(out.next_token())))
    }

    async fn restore_jobs_page(&self, f: &JobFilter, token: Option<String>) -> Result<(Vec<BackupJobView>, Option<String>), AwsError> {
        let req = self
            .client
            .list_restore_jobs()
            .set_next_token(token)
            .set_by_status(f.state.as_deref().map(aws_sdk_backup::types::RestoreJobStatus::from))
            .set_by_created_after(f.created_after_ms.map(time));
        let out = match req.send().await {
            Ok(o) => o,
            Err(e) => return Err(self.fail("ListRestoreJobs", e).await),
        };
        let jobs = out.restore_jobs().iter().map(restore_job).filter(|j| f.resource_arn.as_ref().is_none_or(|r| *r == j.resource)).collect();
        Ok((jobs, text(out.next_token())))
    }

    /// The recovery points in `vault`, newest first (created after `since_ms` when given).
    pub async fn recovery_points(&self, vault: &str, since_ms: Option<i64>) -> Result<Vec<RecoveryPointView>, AwsError> {
        let mut out = vec![];
        let mut pages = self
            .client
            .list_recovery_points_by_backup_vault()
            .backup_vault_name(vault)
            .set_by_created_after(since_ms.map(time))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(self.fail("ListRecoveryPointsByBackupVault", e).await),
            };
            out.extend(page.recovery_points().iter().map(|p| point_view!(p, vault)));
        }
        out.sort_by_key(|p| std::cmp::Reverse(p.created_ms));
        Ok(out)
    }

    /// The newest recovery points of `resource_arn` across vaults (at most `limit`).
    pub async fn points_of(&self, resource_arn: &str, limit: usize) -> Result<Vec<RecoveryPointView>, AwsError> {
        let mut out = vec![];
        let mut pages = self.client.list_recovery_points_by_resource().resource_arn(resource_arn).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(self.fail("ListRecoveryPointsByResource", e).await),
            };
            out.extend(page.recovery_points().iter().map(|p| RecoveryPointView {
                arn: p.recovery_point_arn().unwrap_or_default().to_string(),
                vault: p.backup_vault_name().unwrap_or_default().to_string(),
                resource: resource_arn.to_string(),
                status: p.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                message: text(p.status_message()),
                created_ms: ms(p.creation_date()).unwrap_or_default(),
                size_bytes: p.backup_size_bytes(),
                encrypted: p.encryption_key_arn().is_some(),
                encryption_key: text(p.encryption_key_arn()),
                ..Default::default()
            }));
        }
        // AWS does not promise an order: every page is read, then the newest kept.
        out.sort_by_key(|p| std::cmp::Reverse(p.created_ms));
        out.truncate(limit);
        Ok(out)
    }

    /// The vault `name` with its lock and access policy, or None when there is none.
    pub async fn vault_detail(&self, name: &str) -> Result<Option<VaultView>, AwsError> {
        let v = match self.client.describe_backup_vault().backup_vault_name(name).send().await {
            Ok(v) => v,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(self.fail("DescribeBackupVault", e).await),
        };
        let access_policy = match self.client.get_backup_vault_access_policy().backup_vault_name(name).send().await {
            Ok(p) => text(p.policy()),
            Err(e) if is_missing(&e) => None,
            Err(e) => return Err(self.fail("GetBackupVaultAccessPolicy", e).await),
        };
        Ok(Some(VaultView {
            name: v.backup_vault_name().unwrap_or(name).to_string(),
            arn: v.backup_vault_arn().unwrap_or_default().to_string(),
            encryption_key: text(v.encryption_key_arn()),
            recovery_points: v.number_of_recovery_points(),
            locked: v.locked() == Some(true),
            min_retention_days: v.min_retention_days(),
            max_retention_days: v.max_retention_days(),
            lock_date_ms: ms(v.lock_date()),
            vault_type: v.vault_type().map(|t| t.as_str().to_string()).unwrap_or_else(|| "BACKUP_VAULT".into()),
            access_policy,
        }))
    }

    /// Starts an on-demand backup of `resource_arn` into `vault`, kept `delete_after_days` when
    /// given; (job id, recovery point ARN when AWS gave one).
    pub async fn start_backup(
        &self,
        vault: &str,
        resource_arn: &str,
        role_arn: &str,
        delete_after_days: Option<i64>,
        token: &str,
    ) -> Result<(String, Option<String>), AwsError> {
        let lifecycle = delete_after_days.map(|d| aws_sdk_backup::types::Lifecycle::builder().delete_after_days(d).build());
        let req = self
            .client
            .start_backup_job()
            .backup_vault_name(vault)
            .resource_arn(resource_arn)
            .iam_role_arn(role_arn)
            .set_lifecycle(lifecycle)
            .idempotency_token(token);
        match req.send().await {
            Ok(o) => Ok((o.backup_job_id().unwrap_or_default().to_string(), text(o.recovery_point_arn()))),
            Err(e) => Err(self.fail("StartBackupJob", e).await),
        }
    }
}

/// A recovery point as DescribeRecoveryPoint gives it, with the role that made it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointDetail {
    pub view: RecoveryPointView,
    pub role: Option<String>,
}

impl Backup {
    /// The backup job `id` (its state and what it made), or None when there is none.
    pub async fn backup_job(&self, id: &str) -> Result<Option<BackupJobView>, AwsError> {
        let j = match self.client.describe_backup_job().backup_job_id(id).send().await {
            Ok(j) => j,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(self.fail("DescribeBackupJob", e).await),
        };
        Ok(Some(backup_job_view!(j)))
    }

    /// The recovery point `arn` in `vault`, or None when there is none.
    pub async fn point(&self, vault: &str, arn: &str) -> Result<Option<PointDetail>, AwsError> {
        let p = match self.client.describe_recovery_point().backup_vault_name(vault).recovery_point_arn(arn).send().await {
            Ok(p) => p,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(self.fail("DescribeRecoveryPoint", e).await),
        };
        Ok(Some(PointDetail { view: point_view!(&p, vault), role: text(p.iam_role_arn()) }))
    }

    /// What AWS Backup needs to restore the point `arn` of `vault` (the source's settings), to
    /// be overridden where the restore differs (a new name).
    pub async fn restore_metadata(&self, vault: &str, arn: &str) -> Result<std::collections::BTreeMap<String, String>, AwsError> {
        match self.client.get_recovery_point_restore_metadata().backup_vault_name(vault).recovery_point_arn(arn).send().await {
            Ok(m) => Ok(m.restore_metadata().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()),
            Err(e) => Err(self.fail("GetRecoveryPointRestoreMetadata", e).await),
        }
    }

    /// Starts restoring the point `arn` with `metadata` as role `role_arn`; the restore job's id.
    /// `token` makes a retried start the same restore.
    pub async fn start_restore(
        &self,
        arn: &str,
        metadata: &std::collections::BTreeMap<String, String>,
        role_arn: &str,
        token: &str,
    ) -> Result<String, AwsError> {
        let req = self
            .client
            .start_restore_job()
            .recovery_point_arn(arn)
            .set_metadata(Some(metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
            .iam_role_arn(role_arn)
            .idempotency_token(token);
        match req.send().await {
            Ok(o) => Ok(o.restore_job_id().unwrap_or_default().to_string()),
            Err(e) => Err(self.fail("StartRestoreJob", e).await),
        }
    }

    /// The restore job `id` as it stands, or None when there is none.
    pub async fn restore_job(&self, id: &str) -> Result<Option<BackupJobView>, AwsError> {
        let j = match self.client.describe_restore_job().restore_job_id(id).send().await {
            Ok(j) => j,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(self.fail("DescribeRestoreJob", e).await),
        };
        Ok(Some(BackupJobView {
            kind: "restore".into(),
            id: j.restore_job_id().unwrap_or(id).to_string(),
            state: j.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            message: text(j.status_message()),
            resource: j.source_resource_arn().unwrap_or_default().to_string(),
            resource_type: j.resource_type().unwrap_or_default().to_string(),
            vault: j.backup_vault_arn().unwrap_or_default().to_string(),
            recovery_point: text(j.recovery_point_arn()),
            created_resource: text(j.created_resource_arn()),
            created_ms: ms(j.creation_date()).unwrap_or_default(),
            completed_ms: ms(j.completion_date()),
            size_bytes: j.backup_size_in_bytes(),
            percent_done: text(j.percent_done()),
            ..Default::default()
        }))
    }
}

/// A control of an AWS Backup Audit Manager framework as the account configured it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrameworkControlInfo {
    pub name: String,
    pub parameters: Vec<(String, String)>,
    /// The scope: resource types, resource ids, tags (all empty: every resource).
    pub resource_types: Vec<String>,
    pub resource_ids: Vec<String>,
    pub tags: Vec<(String, String)>,
}

/// An AWS Backup Audit Manager framework.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrameworkInfo {
    pub name: String,
    pub arn: String,
    pub description: String,
    /// ACTIVE, PARTIALLY_ACTIVE, INACTIVE, UNAVAILABLE (whether AWS Config records what it needs).
    pub status: String,
    pub deployment_status: String,
    pub controls: Vec<FrameworkControlInfo>,
}

impl Backup {
    /// Every Backup Audit Manager framework of the account in the region, with its controls.
    pub async fn frameworks(&self) -> Result<Vec<FrameworkInfo>, AwsError> {
        let mut names = vec![];
        let mut pages = self.client.list_frameworks().into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => names.extend(p.frameworks().iter().filter_map(|f| f.framework_name().map(str::to_string))),
                Err(e) => return Err(self.fail("ListFrameworks", e).await),
            }
        }
        let mut out = vec![];
        for name in names {
            let f = match self.client.describe_framework().framework_name(&name).send().await {
                Ok(f) => f,
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(self.fail("DescribeFramework", e).await),
            };
            out.push(FrameworkInfo {
                name: f.framework_name().unwrap_or(&name).to_string(),
                arn: f.framework_arn().unwrap_or_default().to_string(),
                description: f.framework_description().unwrap_or_default().to_string(),
                status: f.framework_status().unwrap_or_default().to_string(),
                deployment_status: f.deployment_status().unwrap_or_default().to_string(),
                controls: f
                    .framework_controls()
                    .iter()
                    .map(|c| {
                        let scope = c.control_scope();
                        let mut tags: Vec<(String, String)> =
                            scope.and_then(|s| s.tags()).map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
                        tags.sort();
                        FrameworkControlInfo {
                            name: c.control_name().to_string(),
                            parameters: c
                                .control_input_parameters()
                                .iter()
                                .map(|p| (p.parameter_name().unwrap_or_default().to_string(), p.parameter_value().unwrap_or_default().to_string()))
                                .collect(),
                            resource_types: scope.map(|s| s.compliance_resource_types().to_vec()).unwrap_or_default(),
                            resource_ids: scope.map(|s| s.compliance_resource_ids().to_vec()).unwrap_or_default(),
                            tags,
                        }
                    })
                    .collect(),
            });
        }
        Ok(out)
    }
}

fn text(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

fn restore_job(j: &aws_sdk_backup::types::RestoreJobsListMember) -> BackupJobView {
    BackupJobView {
        kind: "restore".into(),
        id: j.restore_job_id().unwrap_or_default().to_string(),
        state: j.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        message: text(j.status_message()),
        resource: j.source_resource_arn().unwrap_or_default().to_string(),
        resource_type: j.resource_type().unwrap_or_default().to_string(),
        vault: j.backup_vault_arn().unwrap_or_default().to_string(),
        recovery_point: text(j.recovery_point_arn()),
        created_resource: text(j.created_resource_arn()),
        created_ms: ms(j.creation_date()).unwrap_or_default(),
        completed_ms: ms(j.completion_date()),
        size_bytes: j.backup_size_in_bytes(),
        percent_done: text(j.percent_done()),
        ..Default::default()
    }
}

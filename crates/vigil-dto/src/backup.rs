//! AWS Backup as the Backups page and `vigil backup …` show it: what each platform component's
//! recovery rests on (against the RPO), the vaults and plans, the jobs and the recovery points.

use crate::deploy::CheckStatus;
use serde::{Deserialize, Serialize};

/// The recovery targets the platform promises.
pub const RPO_MINUTES: i64 = 15;
pub const RTO_MINUTES: i64 = 60;

/// The Backups page's first view: every component, the vaults and the plans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupOverview {
    pub environment: String,
    pub region: String,
    pub checked_at_ms: i64,
    pub rpo_minutes: i64,
    pub rto_minutes: i64,
    pub components: Vec<ComponentCoverage>,
    pub vaults: Vec<VaultView>,
    pub plans: Vec<PlanView>,
    /// Backup and copy jobs that failed, expired, were aborted or partial in the last 7 days
    /// (None when the jobs could not be read).
    pub failed_jobs: Option<usize>,
    /// What could not be read (each with the classified AWS error); the rest is still shown.
    pub problems: Vec<String>,
}

/// How one platform component can be recovered, and whether that meets the RPO now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentCoverage {
    /// aurora, documents, eks, cache, queue, secrets.
    pub component: String,
    pub title: String,
    /// The resource (ARN, or its name where AWS has no ARN to show).
    pub resource: Option<String>,
    /// Whether AWS Backup can protect it at all.
    pub by_aws_backup: bool,
    /// "plan / rule" of every rule whose selection covers it.
    pub protected_by: Vec<String>,
    pub last_point_ms: Option<i64>,
    pub last_point_age_minutes: Option<i64>,
    /// A continuous (point-in-time) backup rule covers it.
    pub continuous: bool,
    /// Aurora: the latest time it can be restored to.
    pub latest_restorable_ms: Option<i64>,
    /// A rule covering it copies to another region or account.
    pub cross_region_copy: bool,
    pub status: CheckStatus,
    pub detail: String,
    /// How it is recovered (for what AWS Backup cannot protect, what is done instead).
    pub recovery: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VaultView {
    pub name: String,
    pub arn: String,
    pub encryption_key: Option<String>,
    pub recovery_points: i64,
    pub locked: bool,
    pub min_retention_days: Option<i64>,
    pub max_retention_days: Option<i64>,
    pub lock_date_ms: Option<i64>,
    /// BACKUP_VAULT, LOGICALLY_AIR_GAPPED_BACKUP_VAULT, RESTORE_ACCESS_BACKUP_VAULT.
    pub vault_type: String,
    /// The access policy document, when the vault has one.
    pub access_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: String,
    pub name: String,
    pub rules: Vec<RuleView>,
    pub selections: Vec<SelectionView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleView {
    pub name: String,
    pub vault: String,
    pub schedule: Option<String>,
    pub start_window_minutes: Option<i64>,
    pub completion_window_minutes: Option<i64>,
    pub continuous: bool,
    pub delete_after_days: Option<i64>,
    pub cold_after_days: Option<i64>,
    /// Copy actions: (destination vault ARN, its retention in days).
    pub copies: Vec<(String, Option<i64>)>,
    /// When the schedule next runs (UTC), when it can be read.
    pub next_run_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionView {
    pub name: String,
    pub resources: Vec<String>,
    pub conditions: Vec<(String, String)>,
}

/// A backup, copy or restore job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupJobView {
    /// backup, copy, restore.
    pub kind: String,
    pub id: String,
    pub state: String,
    pub message: Option<String>,
    /// What a failure means and what to do (failed, expired, aborted or partial jobs).
    pub meaning: Option<String>,
    pub resource: String,
    pub resource_type: String,
    /// The vault (a copy: the source vault's ARN; a restore: the point's vault ARN).
    pub vault: String,
    /// A copy's destination vault ARN.
    pub destination_vault: Option<String>,
    /// The recovery point made (backup, copy) or restored from.
    pub recovery_point: Option<String>,
    /// A restore's new resource.
    pub created_resource: Option<String>,
    pub created_ms: i64,
    pub completed_ms: Option<i64>,
    pub duration_seconds: Option<i64>,
    pub size_bytes: Option<i64>,
    pub percent_done: Option<String>,
    /// The plan that started it; none when started on demand.
    pub plan: Option<String>,
}

/// A recovery point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoveryPointView {
    pub arn: String,
    pub vault: String,
    /// The vault it was copied from, when it is a copy.
    pub source_vault: Option<String>,
    pub resource: String,
    pub resource_type: String,
    /// COMPLETED, PARTIAL, DELETING, EXPIRED, AVAILABLE, STOPPED, CREATING.
    pub status: String,
    pub message: Option<String>,
    pub created_ms: i64,
    pub completed_ms: Option<i64>,
    pub size_bytes: Option<i64>,
    pub encrypted: bool,
    pub encryption_key: Option<String>,
    pub delete_after_days: Option<i64>,
    pub delete_at_ms: Option<i64>,
    pub cold_at_ms: Option<i64>,
    pub plan: Option<String>,
    pub last_restore_ms: Option<i64>,
}

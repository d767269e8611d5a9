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
    /// Its plain name (cluster identifier, bucket name): what an operator types to confirm.
    pub name: String,
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

/// One state change of a backup, copy or restore job, as AWS Backup sent it to EventBridge
/// (kept in the backup stack's log group).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupJobEvent {
    /// When it happened (RFC 3339).
    pub at: String,
    /// `Backup Job State Change`, `Copy Job State Change` or `Restore Job State Change`.
    pub kind: String,
    pub state: String,
    /// AWS Backup's status message (a failure's reason).
    pub message: Option<String>,
    pub percent_done: Option<String>,
    /// The event's detail as sent (JSON).
    pub detail: String,
}

/// A job's events, oldest first, and where they were read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupJobEvents {
    pub job: String,
    pub log_group: String,
    pub events: Vec<BackupJobEvent>,
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

/// An on-demand backup to start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BackupRequest {
    /// A component (aurora, documents, eks) or a resource ARN of the platform.
    pub resource: String,
    /// How long the recovery point is kept (the covering rule's retention when none).
    pub retention_days: Option<i64>,
    /// The resource's name, typed.
    pub confirm: Option<String>,
}

/// A restore of a recovery point to a new resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestoreRequest {
    /// The recovery point's ARN.
    pub point: String,
    /// Its vault (the environment's own when none).
    pub vault: Option<String>,
    /// The new resource's name: a cluster identifier or a bucket name. Never an existing one.
    pub target: String,
    /// S3 only: restore only the objects under these prefixes (all when empty).
    pub prefixes: Vec<String>,
    /// The target's name, typed.
    pub confirm: Option<String>,
}

/// A point-in-time restore of an Aurora cluster to a new cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeRestoreRequest {
    /// The cluster to restore (the environment's own when none).
    pub source: Option<String>,
    /// "latest" (its latest restorable time) or an RFC 3339 time within its restore window.
    pub time: String,
    /// The new cluster's identifier. Never an existing one.
    pub target: String,
    /// The target's name, typed.
    pub confirm: Option<String>,
}

/// One setting of a restored resource against its source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RestoreCheck {
    /// engine_version, parameter_group, security_groups, kms_key, iam_auth, storage_encrypted, objects.
    pub name: String,
    pub source: String,
    pub restored: String,
    pub matches: bool,
}

/// A restore: where it stands or how it ended. Kept in the console's store as evidence for the
/// RTO (the restore's measured time against `RTO_MINUTES`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestoreRecord {
    pub id: String,
    pub environment: String,
    /// aurora, documents (a platform component), or the point's resource type.
    pub component: String,
    pub resource_type: String,
    /// The resource the point was taken of.
    pub source: String,
    pub point: String,
    pub point_created_ms: i64,
    /// The new resource's name.
    pub target: String,
    pub prefixes: Vec<String>,
    /// The ARN AWS Backup gave the new resource.
    pub created_resource: Option<String>,
    /// The AWS Backup restore job.
    pub job: Option<String>,
    /// restoring, instances, checking, restored, failed; a restore test goes on through
    /// validating and cleaning to tested.
    pub state: String,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    /// How long AWS Backup's restore job took.
    pub restore_seconds: Option<i64>,
    /// From the start until the new resource was usable (instances available, checks done).
    pub total_seconds: Option<i64>,
    /// total_seconds within the RTO.
    pub rto_met: Option<bool>,
    /// Aurora: the instances Vigil made in the restored cluster.
    pub instances: Vec<String>,
    pub checks: Vec<RestoreCheck>,
    /// Why it failed, or what is left to do.
    pub message: Option<String>,
    pub next: Option<String>,
    /// A restore test: validated, then deleted.
    pub test: bool,
    /// Restored from the cluster's point-in-time window (RestoreDBClusterToPointInTime), not from
    /// an AWS Backup recovery point; `point_created_ms` is then the time restored to.
    pub point_in_time: bool,
    /// What the restored data held (Aurora: the schema's migrations, the job ledger's and the
    /// audit log's rows, read over a connection to the restored cluster).
    pub validation: Vec<RestoreCheck>,
    /// When a restore test's resource was deleted.
    pub cleaned_ms: Option<i64>,
}

impl RestoreRecord {
    /// Finished with every check and validation as expected (the restore-test control's test).
    pub fn passed(&self) -> bool {
        matches!(self.state.as_str(), "restored" | "tested") && self.checks.iter().all(|c| c.matches) && self.validation.iter().all(|c| c.matches)
    }
}

/// Running a restore test of the latest recovery point of each protected resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestoreTestRequest {
    /// Only these components (aurora, documents); all that AWS Backup protects when empty.
    pub components: Vec<String>,
    /// The environment's name, typed (a test makes and deletes resources that cost money).
    pub confirm: Option<String>,
}

/// What a restore test run did: one record per resource tested, and what was not tested, why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RestoreTestReport {
    pub tests: Vec<RestoreRecord>,
    /// (component, why it was not tested).
    pub skipped: Vec<(String, String)>,
}

impl RestoreTestReport {
    pub fn passed(&self) -> bool {
        !self.tests.is_empty() && self.tests.iter().all(RestoreRecord::passed)
    }
}

/// Pointing the platform at an Aurora cluster: a restored one, or back at the stack's own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UseClusterRequest {
    pub cluster: String,
    /// The cluster's identifier, typed.
    pub confirm: Option<String>,
}

/// The platform after it was pointed at a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UseClusterResult {
    pub environment: String,
    pub cluster: String,
    pub previous: String,
    /// host:port/database the worker now uses.
    pub endpoint: String,
    /// The worker's secret that was changed.
    pub secret: String,
    /// The cluster's data as read before the switch (schema version, rows).
    pub checks: Vec<RestoreCheck>,
    /// The worker's rollout after its restart.
    pub worker: String,
    /// Whether the console's own platform database settings followed.
    pub console_follows: bool,
    pub next: Option<String>,
}

/// One resource's (or plan's, vault's, recovery point's) verdict under a control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlResource {
    pub resource: String,
    /// The resource type (Aurora, S3…), or plan, vault, recovery point.
    pub kind: String,
    /// Pass, Fail, or Warn when there was nothing to judge.
    pub status: CheckStatus,
    /// What the verdict rests on.
    pub evidence: String,
}

/// A compliance control evaluated now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlResult {
    /// AWS Backup Audit Manager's control name, or the platform's own (PJ_…).
    pub id: String,
    pub title: String,
    /// "AWS Backup Audit Manager" or "Patient Journey".
    pub source: String,
    pub parameters: Vec<(String, String)>,
    pub status: CheckStatus,
    pub evaluated: usize,
    pub failing: usize,
    pub results: Vec<ControlResource>,
}

/// A control of an account's Backup Audit Manager framework beside Vigil's evaluation of it
/// with the framework's parameters and scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkControlView {
    pub name: String,
    pub parameters: Vec<(String, String)>,
    /// The framework's scope for it, as text ("all resources", "types Aurora, S3", …).
    pub scope: String,
    /// Vigil's verdict with those parameters over that scope (None: a control Vigil does not know).
    pub vigil: Option<ControlResult>,
}

/// An AWS Backup Audit Manager framework of the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkView {
    pub name: String,
    pub arn: String,
    /// ACTIVE, PARTIALLY_ACTIVE, INACTIVE, UNAVAILABLE: whether AWS Config records what it needs.
    pub status: String,
    pub controls: Vec<FrameworkControlView>,
}

/// The compliance controls evaluated now, with the account's frameworks beside them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceReport {
    pub environment: String,
    pub region: String,
    pub checked_at_ms: i64,
    pub controls: Vec<ControlResult>,
    pub frameworks: Vec<FrameworkView>,
    /// What was read: resources in scope, recovery points, vaults, copy and restore jobs.
    pub resources: usize,
    pub recovery_points: usize,
    pub vaults: usize,
    /// What could not be read (each with the classified AWS error): the verdicts may then be
    /// wrong, and the report says so.
    pub problems: Vec<String>,
}

impl ComplianceReport {
    /// Everything was read: the verdicts rest on all the evidence.
    pub fn complete(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A compliance report written to a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceExport {
    pub path: String,
    /// pdf or csv.
    pub format: String,
    pub sha256: String,
    pub bytes: u64,
    pub controls: usize,
    pub failing: usize,
    pub complete: bool,
}

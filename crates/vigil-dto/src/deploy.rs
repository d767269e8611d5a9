//! Deploying the platform bundle: the bundle and who signed it, preflight, the plan, the
//! progress of an apply and the deployment record.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A publisher this console trusts to sign bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    pub name: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    pub added_at: String,
}

/// A verified bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BundleSummary {
    pub name: String,
    pub version: String,
    pub min_console: String,
    pub signer: String,
    pub signer_key: String,
    /// SHA-256 of the signed manifest: the bundle's identity in records.
    pub manifest_sha256: String,
    pub files: usize,
    /// Each file's SHA-256 by path, as signed (what an upgrade is compared by).
    #[serde(default)]
    pub file_hashes: BTreeMap<String, String>,
    pub iam_actions: Vec<String>,
    pub stacks: Vec<String>,
    pub tiers: Vec<String>,
}

/// What the operator asks for: an environment of the console, a tier and edits to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeployRequest {
    pub environment: String,
    pub tier: String,
    /// The platform's own environment name (stack and resource names: `pj-<name>-…`);
    /// empty means derived from the console environment's name.
    #[serde(default)]
    pub platform_environment: String,
    /// Stack → parameter → value, over the tier's.
    #[serde(default)]
    pub overrides: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
}

/// One preflight check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreflightCheck {
    pub id: String,
    pub title: String,
    pub status: CheckStatus,
    pub detail: String,
    /// What to do when it did not pass.
    pub fix: Option<String>,
    /// The API it used ("ec2:DescribeVpcs").
    pub api: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreflightReport {
    pub environment: String,
    pub platform_environment: String,
    pub account: Option<String>,
    pub region: String,
    pub checks: Vec<PreflightCheck>,
    /// False when any check failed.
    pub ready: bool,
}

/// One property that changes, with before/after where CloudFormation gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyChange {
    pub attribute: String,
    pub name: Option<String>,
    pub requires_recreation: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedChange {
    /// add, modify, replace, remove.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// Holds data (the database, buckets, keys, the vault, queues, log groups).
    pub stateful: bool,
    pub properties: Vec<PropertyChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackPlan {
    /// security, network, … (the bundle's order).
    pub stack: String,
    /// The CloudFormation stack name, `pj-<environment>-<stack>`.
    pub name: String,
    /// create, update, none; delete in a teardown.
    pub action: String,
    /// The reviewed change set an update executes; a create makes its change set when the stacks
    /// it imports from exist, and it may only add.
    pub change_set: Option<String>,
    pub changes: Vec<PlannedChange>,
    /// Every parameter as it will be given (outputs of earlier stacks marked `<from …>` until
    /// they exist).
    pub parameters: BTreeMap<String, String>,
}

/// A stateful resource the plan would replace or remove: applying needs typed confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    pub stack: String,
    pub logical_id: String,
    pub resource_type: String,
    pub action: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    pub component: String,
    pub item: String,
    pub monthly: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    pub tier: String,
    pub currency: String,
    pub prices_taken: String,
    pub source: String,
    /// Why some prices are the bundle's snapshot, or another region's.
    #[serde(default)]
    pub notes: Vec<String>,
    pub lines: Vec<CostLine>,
    pub total: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployPlan {
    pub id: String,
    /// deploy, or teardown (every stack deleted; what holds data kept, listed in `kept`).
    #[serde(default = "deploy_kind")]
    pub kind: String,
    pub environment: String,
    pub platform_environment: String,
    pub bundle: BundleSummary,
    pub tier: String,
    pub stacks: Vec<StackPlan>,
    pub gates: Vec<Gate>,
    pub cost: CostEstimate,
    pub created_at: String,
    /// A teardown's resources that stay (retained, or a final snapshot).
    #[serde(default)]
    pub kept: Vec<KeptResource>,
    /// The operator's edits of the tier (an upgrade keeps them).
    #[serde(default)]
    pub overrides: BTreeMap<String, BTreeMap<String, String>>,
    /// The container images the plan runs (the tier's manifests, filled).
    #[serde(default)]
    pub images: Vec<String>,
    /// When the platform runs an older bundle: what the upgrade changes.
    #[serde(default)]
    pub upgrade: Option<UpgradeInfo>,
}

/// A platform stack that no plan can build on, and what recovers it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StackRecovery {
    pub stack: String,
    pub name: String,
    pub status: String,
    /// delete (a failed create), continue_rollback (an update that could not roll back).
    pub action: String,
    /// Resources a continued rollback skips (they failed to roll back).
    pub skip: Vec<String>,
    /// The first failure, as CloudFormation said it.
    pub cause: Option<String>,
    /// What Vigil does (or did), in words.
    pub what: String,
}

/// What an upgrade changes against the deployed bundle, and how it protects the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpgradeInfo {
    pub from_version: String,
    pub to_version: String,
    /// The deploy that put the running version in place.
    pub from_plan: String,
    /// Files of the bundle added, modified or removed.
    pub files: Vec<FileChange>,
    /// Container images replaced (the worker rolls to these).
    pub images: Vec<ImageChange>,
    /// Migrations the new bundle adds; they run forward only, after the snapshot.
    pub migrations: Vec<String>,
    /// Monthly estimates of the running plan and of this one.
    pub cost_before: f64,
    pub cost_after: f64,
    /// The manual Aurora snapshot taken before anything changes.
    pub snapshot: String,
    pub cluster: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    /// added, modified, removed.
    pub change: String,
    /// templates, kubernetes, migrations, tiers, pricing, other.
    pub area: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageChange {
    pub from: String,
    pub to: String,
}

fn deploy_kind() -> String {
    "deploy".into()
}

/// Something a teardown leaves in the account, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptResource {
    pub stack: String,
    pub logical_id: String,
    pub resource_type: String,
    /// Bucket name, key ARN, vault name, snapshot id…
    pub physical_id: Option<String>,
    pub why: String,
}

/// One resource as the stack's events last told it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceProgress {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    /// Seconds since its first event.
    pub elapsed_s: u64,
    /// How long this kind of resource usually takes, in seconds.
    pub typical_s: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackProgress {
    pub stack: String,
    pub name: String,
    /// pending, applying, done, unchanged, failed.
    pub state: String,
    pub status: Option<String>,
    pub resources: Vec<ResourceProgress>,
}

/// Where a deployment stands: what the journal holds, refreshed from the stacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentStatus {
    pub id: String,
    pub environment: String,
    /// planned, applying, succeeded, failed.
    pub state: String,
    pub stacks: Vec<StackProgress>,
    /// Resources done of those planned.
    pub done: usize,
    pub total: usize,
    pub eta_s: Option<u64>,
    /// The first failure's reason, not the cascade it caused.
    pub root_cause: Option<String>,
    /// What to do now (after a failure: the recovery).
    pub next: Option<String>,
    pub started_at: Option<String>,
    pub updated_at: String,
    /// deploy or teardown.
    #[serde(default = "deploy_kind")]
    pub kind: String,
    /// After a teardown: what it kept (the final database snapshot, buckets, keys, the vault).
    #[serde(default)]
    pub kept: Vec<KeptResource>,
    /// After a deploy's stacks: the platform's set-up, step by step.
    #[serde(default)]
    pub setup: Vec<SetupStep>,
    /// An upgrade's snapshot of the database, taken before any stack changes.
    #[serde(default)]
    pub snapshot: Option<SetupStep>,
}

/// One step of the platform's set-up after its stacks (keys, database, Kubernetes, rollout).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetupStep {
    /// keys, database, kubernetes, rollout.
    pub id: String,
    pub title: String,
    /// pending, running, done, failed.
    pub state: String,
    /// What it did or waits for.
    pub detail: Option<String>,
}

/// A deployed platform checked component by component (each check as a preflight's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub environment: String,
    pub platform_environment: String,
    pub region: String,
    /// RFC 3339, UTC.
    pub checked_at: String,
    pub checks: Vec<PreflightCheck>,
    /// No check failed.
    pub ok: bool,
}

/// A deployment record written as PDF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub path: String,
    /// SHA-256 (hex) of the file, also in the operator log.
    pub sha256: String,
    pub bytes: u64,
    pub pages: u32,
    /// The deployment (plan id) it records.
    pub deployment: String,
    /// The validation it records.
    pub validation: ValidationReport,
}

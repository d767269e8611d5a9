//! The platform's EKS cluster as the Services page shows it: version and support, endpoint
//! access, logging, encryption, node groups, add-ons and their readiness for the next version,
//! and EKS's upgrade insights.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterOverview {
    pub name: String,
    /// ACTIVE, CREATING, UPDATING, DELETING, FAILED, PENDING.
    pub status: String,
    pub version: String,
    pub platform_version: String,
    pub support: VersionSupport,
    /// The next Kubernetes version EKS offers (None: this is the newest).
    pub next: Option<String>,
    pub endpoint: String,
    pub endpoint_public: bool,
    /// Where the public endpoint can be reached from (empty: not public).
    pub public_cidrs: Vec<String>,
    pub endpoint_private: bool,
    /// Control-plane log types turned on.
    pub logging: Vec<String>,
    /// The KMS key encrypting Kubernetes secrets, when there is one.
    pub secrets_key: Option<String>,
    pub nodegroups: Vec<Nodegroup>,
    pub addons: Vec<Addon>,
    pub insights: Vec<Insight>,
    /// The last insights refresh: IN_PROGRESS, COMPLETED or FAILED.
    pub insights_refresh: Option<String>,
    pub access: ClusterAccess,
}

/// Who may use the cluster's Kubernetes API (EKS access entries), and whether Vigil may.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterAccess {
    /// The IAM principal Vigil calls the cluster as (the environment's credentials).
    pub caller: String,
    /// The access entries (None: they could not be read; `note` says why).
    pub entries: Option<Vec<AccessEntry>>,
    /// The caller has an entry with an access policy or a Kubernetes group.
    pub caller_has_access: Option<bool>,
    pub note: Option<String>,
    /// What gives the caller access, as commands (when it has none).
    pub fix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub principal: String,
    /// STANDARD, EC2_LINUX…
    pub kind: String,
    pub username: String,
    pub groups: Vec<String>,
    /// (policy name, "cluster" or the namespaces it is limited to).
    pub policies: Vec<(String, String)>,
    /// This is the principal Vigil calls as.
    pub is_caller: bool,
}

/// Where the cluster's Kubernetes version stands in EKS's support calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSupport {
    /// STANDARD_SUPPORT, EXTENDED_SUPPORT, UNSUPPORTED, or UNKNOWN (EKS does not list it).
    pub status: String,
    /// YYYY-MM-DD.
    pub end_of_standard: Option<String>,
    pub end_of_extended: Option<String>,
    /// Whole days until the current support phase ends (negative: days since it ended).
    pub days_left: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nodegroup {
    pub name: String,
    pub status: String,
    pub version: String,
    pub release_version: String,
    pub instance_types: Vec<String>,
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    /// "code: message" of each health issue.
    pub issues: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addon {
    pub name: String,
    pub version: String,
    pub status: String,
    pub issues: Vec<String>,
    /// Whether the installed version runs on the next Kubernetes version (None: no next).
    pub fits_next: Option<bool>,
    /// The versions that run on the next Kubernetes version, newest first.
    pub next_versions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insight {
    pub id: String,
    pub name: String,
    pub category: String,
    pub kubernetes_version: String,
    /// PASSING, WARNING, ERROR or UNKNOWN.
    pub status: String,
    pub reason: String,
    pub description: String,
    pub recommendation: String,
    /// RFC 3339.
    pub refreshed: Option<String>,
    /// (ARN or Kubernetes resource, its status).
    pub resources: Vec<(String, String)>,
    /// (add-on, the versions compatible with the insight's Kubernetes version).
    pub addons: Vec<(String, Vec<String>)>,
    /// (deprecated API in use, its replacement, the version that stops serving it).
    pub deprecations: Vec<(String, String, String)>,
}

/// The platform's workloads on the cluster, by platform service (today the worker), with the
/// Kubernetes events Vigil has captured in the namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workloads {
    pub namespace: String,
    pub services: Vec<ServiceWorkload>,
    /// Newest first: what the cluster keeps now and what Vigil captured before (EKS keeps
    /// events about an hour).
    pub events: Vec<KubeEvent>,
}

/// One platform service's Deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceWorkload {
    /// The platform's name for it ("worker").
    pub service: String,
    pub deployment: String,
    /// rolled_out, progressing, stuck.
    pub state: String,
    /// What the rollout waits for, in words (progressing).
    pub waiting_for: Option<String>,
    /// Why Kubernetes gave up on it (stuck).
    pub failed: Option<String>,
    /// The actual cause of a rollout that does not finish, from its pods and events.
    pub cause: Option<StuckCause>,
    pub revision: Option<i64>,
    pub images: Vec<String>,
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
    /// The replicas an operator may scale it to (the tier's bounds, from its manifests).
    pub min_replicas: Option<i32>,
    pub max_replicas: Option<i32>,
    /// Newest first.
    pub history: Vec<Revision>,
    pub pods: Vec<PodView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StuckCause {
    /// image_pull, config, crash_loop, unschedulable, readiness.
    pub kind: String,
    pub pod: String,
    pub detail: String,
    pub hint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub revision: i64,
    pub replicaset: String,
    pub images: Vec<String>,
    pub created: Option<String>,
    pub replicas: i32,
    pub ready: i32,
    pub current: bool,
    /// What it changed from the revision before it.
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodView {
    pub name: String,
    pub phase: String,
    pub ready: bool,
    pub restarts: i32,
    pub node: Option<String>,
    pub zone: Option<String>,
    /// The revision it runs.
    pub revision: Option<i64>,
    pub started: Option<String>,
    /// Why it is not running or not ready.
    pub problem: Option<String>,
    /// The service's own `/readyz` through the API server's proxy: its status and answer.
    pub readyz: Option<(u16, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubeEvent {
    /// RFC 3339: when it last happened.
    pub time: String,
    /// Normal or Warning.
    pub kind: String,
    pub reason: String,
    /// e.g. "Pod/pj-worker-6d9f-abcde".
    pub object: String,
    pub message: String,
    pub count: i32,
    /// Still kept by the cluster (false: only Vigil's capture has it now).
    pub in_cluster: bool,
}

/// One line of a pod's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub pod: String,
    /// RFC 3339 as the kubelet stamped it.
    pub time: String,
    pub text: String,
}

/// What to do to a workload (each needs the environment's name typed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum WorkloadAction {
    Restart,
    Rollback { revision: i64 },
    Scale { replicas: i32 },
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadChange {
    pub deployment: String,
    /// e.g. "rolled back to revision 1 (pj-worker:1.0.0) as revision 3".
    pub summary: String,
}

/// The upgrade cockpit: what moving the cluster to a Kubernetes version involves and what
/// blocks it, read before anything starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradePlan {
    pub cluster: String,
    /// The control plane's version now.
    pub from: String,
    /// The version checked.
    pub to: String,
    /// The versions newer than `from` that EKS offers, oldest first (only the first can be
    /// upgraded to directly).
    pub targets: Vec<String>,
    /// What must be resolved before the upgrade may start.
    pub blockers: Vec<UpgradeIssue>,
    /// What the operator should know, which does not stop it.
    pub warnings: Vec<UpgradeIssue>,
    pub addons: Vec<AddonStep>,
    pub nodegroups: Vec<NodegroupStep>,
    /// Every pod disruption budget in the cluster, with the pods it covers.
    pub budgets: Vec<BudgetView>,
    /// The runbook that carries the upgrade out, and its expected time.
    pub runbook: String,
    pub expected_secs: u64,
    /// The text the runbook's approval asks to be typed.
    pub confirm: String,
}

/// A blocker or a warning of an upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeIssue {
    /// cluster, version, insight, addon, api, skew, budget, nodegroup, rollout.
    pub kind: String,
    /// What it is about (an add-on, an API, a node group, namespace/budget…).
    pub subject: String,
    pub detail: String,
    pub fix: String,
}

/// What the upgrade does to one add-on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddonStep {
    pub name: String,
    pub installed: String,
    /// Updated before the control plane (its version does not run on the target).
    pub before: Option<String>,
    /// Updated after it (to the target's default).
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodegroupStep {
    pub name: String,
    pub version: String,
    pub release_version: String,
    pub desired: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetView {
    pub namespace: String,
    pub name: String,
    /// Pods it lets be evicted now.
    pub allowed: i32,
    pub healthy: i32,
    pub desired: i32,
    pub pods: Vec<String>,
}

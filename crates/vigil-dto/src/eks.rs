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

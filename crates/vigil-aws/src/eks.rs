//! EKS: the platform's cluster and its managed node groups as a deploy's validation reads them
//! (status, secrets encryption, control-plane logs, the API endpoint and its CA for the
//! Kubernetes client, each node group's size and health), and what the Services page shows of
//! the cluster: Kubernetes versions with their support dates, add-ons and the versions offered
//! for them, upgrade insights and their refresh, and who may use the cluster (access entries
//! with their access policies); the upgrade's calls: version updates of the control plane,
//! add-ons and node groups, and the updates EKS keeps of each.

use crate::error::AwsError;

/// A cluster as Vigil reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterInfo {
    pub name: String,
    /// ACTIVE, CREATING, UPDATING, DELETING, FAILED, PENDING.
    pub status: String,
    pub version: String,
    /// The API server's URL.
    pub endpoint: String,
    /// The cluster CA, base64 PEM as EKS gives it.
    pub certificate_authority: String,
    /// The platform's KMS key for envelope encryption of Kubernetes secrets, when one is set.
    pub secrets_key: Option<String>,
    /// Control-plane log types turned on (api, audit, authenticator, controllerManager, scheduler).
    pub logs: Vec<String>,
    pub arn: String,
    pub tags: Vec<(String, String)>,
    /// The API server reachable from the internet, and from which CIDRs.
    pub endpoint_public: bool,
    pub public_cidrs: Vec<String>,
    /// The API server reachable from inside the VPC.
    pub endpoint_private: bool,
    /// EKS's platform version (eks.N) of the control plane.
    pub platform_version: String,
}

/// A Kubernetes version as EKS supports it. Dates are seconds since the epoch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KubernetesVersion {
    pub version: String,
    /// STANDARD_SUPPORT, EXTENDED_SUPPORT or UNSUPPORTED.
    pub status: String,
    pub released: Option<i64>,
    pub end_of_standard: Option<i64>,
    pub end_of_extended: Option<i64>,
    /// The version EKS gives a new cluster.
    pub default: bool,
}

/// An EKS add-on installed in a cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AddonInfo {
    pub name: String,
    pub version: String,
    /// ACTIVE, CREATING, UPDATING, DEGRADED, UPDATE_FAILED, …
    pub status: String,
    /// "code: message" of each health issue.
    pub issues: Vec<String>,
}

/// An upgrade insight: one check EKS runs against the next Kubernetes version.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Insight {
    pub id: String,
    pub name: String,
    /// UPGRADE_READINESS, MISCONFIGURATION, …
    pub category: String,
    /// The version it checks readiness for.
    pub kubernetes_version: String,
    /// PASSING, WARNING, ERROR or UNKNOWN.
    pub status: String,
    pub reason: String,
    pub description: String,
    pub recommendation: String,
    /// When EKS last evaluated it (seconds since the epoch).
    pub refreshed: Option<i64>,
    /// What it found: ARNs or Kubernetes resource URIs, with their own status.
    pub resources: Vec<(String, String)>,
    /// Add-ons not compatible with the version, with the versions that are.
    pub addons: Vec<(String, Vec<String>)>,
    /// Deprecated APIs in use: (the API, its replacement, the version that stops serving it).
    pub deprecations: Vec<(String, String, String)>,
}

/// A managed node group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodegroupInfo {
    pub name: String,
    /// ACTIVE, CREATING, UPDATING, DEGRADED, CREATE_FAILED, …
    pub status: String,
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    pub instance_types: Vec<String>,
    /// "code: message" of each health issue EKS reports.
    pub issues: Vec<String>,
    /// The kubelet's Kubernetes version and the AMI release the nodes run.
    pub version: String,
    pub release_version: String,
}

service_client!(
    /// EKS for one operation of one environment.
    Eks,
    aws_sdk_eks
);

fn is_missing<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(e: &aws_sdk_eks::error::SdkError<E>) -> bool {
    e.as_service_error().is_some_and(|s| s.code() == Some("ResourceNotFoundException"))
}

/// An IAM principal's access entry: who it is to Kubernetes and the access policies it has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessEntry {
    pub principal: String,
    /// STANDARD, EC2_LINUX, FARGATE_LINUX…
    pub kind: String,
    pub username: String,
    pub groups: Vec<String>,
    /// (policy name, "cluster" or the namespaces it is limited to).
    pub policies: Vec<(String, String)>,
}

/// The IAM principal an access entry names for caller `arn`: an assumed role's role, a user
/// as it is.
pub fn principal_of(arn: &str) -> String {
    let Some((head, resource)) = arn.split_once(":assumed-role/") else {
        // `arn:aws:sts::…:user/x` (as some emulators say) is the IAM user.
        return arn.replacen(":sts::", ":iam::", 1);
    };
    let role = resource.split('/').next().unwrap_or(resource);
    format!("{}:role/{role}", head.replacen(":sts::", ":iam::", 1))
}

impl Eks {
    /// The cluster's access entries with their policies.
    pub async fn access_entries(&self, cluster: &str) -> Result<Vec<AccessEntry>, AwsError> {
        let mut principals = vec![];
        let mut pages = self.client.list_access_entries().cluster_name(cluster).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => principals.extend(p.access_entries().iter().cloned()),
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "ListAccessEntries", &e).await),
            }
        }
        let mut out = vec![];
        for principal in principals {
            let entry = match self.client.describe_access_entry().cluster_name(cluster).principal_arn(&principal).send().await {
                Ok(got) => got,
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeAccessEntry", &e).await),
            };
            let Some(a) = entry.access_entry() else { continue };
            let mut policies = vec![];
            let mut pages = self.client.list_associated_access_policies().cluster_name(cluster).principal_arn(&principal).into_paginator().send();
            while let Some(page) = pages.next().await {
                match page {
                    Ok(p) => policies.extend(p.associated_access_policies().iter().map(|p| {
                        let name = p.policy_arn().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string();
                        let scope = match p.access_scope() {
                            Some(s) if s.r#type().map(|t| t.as_str()) == Some("namespace") => s.namespaces().join(", "),
                            _ => "cluster".to_string(),
                        };
                        (name, scope)
                    })),
                    Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "ListAssociatedAccessPolicies", &e).await),
                }
            }
            out.push(AccessEntry {
                principal: principal.clone(),
                kind: a.r#type().unwrap_or_default().to_string(),
                username: a.username().unwrap_or_default().to_string(),
                groups: a.kubernetes_groups().to_vec(),
                policies,
            });
        }
        Ok(out)
    }

    /// The cluster `name`, or None when there is none.
    pub async fn cluster(&self, name: &str) -> Result<Option<ClusterInfo>, AwsError> {
        let out = match self.client.describe_cluster().name(name).send().await {
            Ok(out) => out,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeCluster", &e).await),
        };
        Ok(out.cluster().map(|c| ClusterInfo {
            name: c.name().unwrap_or(name).to_string(),
            status: c.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            version: c.version().unwrap_or_default().to_string(),
            endpoint: c.endpoint().unwrap_or_default().to_string(),
            certificate_authority: c.certificate_authority().and_then(|a| a.data()).unwrap_or_default().to_string(),
            secrets_key: c.encryption_config().iter().find_map(|e| e.provider().and_then(|p| p.key_arn())).map(str::to_string),
            logs: c
                .logging()
                .map(|l| {
                    l.cluster_logging()
                        .iter()
                        .filter(|s| s.enabled() == Some(true))
                        .flat_map(|s| s.types().iter().map(|t| t.as_str().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            arn: c.arn().unwrap_or_default().to_string(),
            tags: c.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
            endpoint_public: c.resources_vpc_config().map(|v| v.endpoint_public_access()).unwrap_or(true),
            public_cidrs: c.resources_vpc_config().map(|v| v.public_access_cidrs().to_vec()).unwrap_or_default(),
            endpoint_private: c.resources_vpc_config().map(|v| v.endpoint_private_access()).unwrap_or(false),
            platform_version: c.platform_version().unwrap_or_default().to_string(),
        }))
    }

    /// The cluster's managed node groups.
    pub async fn nodegroups(&self, cluster: &str) -> Result<Vec<NodegroupInfo>, AwsError> {
        let mut names = vec![];
        let mut pages = self.client.list_nodegroups().cluster_name(cluster).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => names.extend(p.nodegroups().iter().cloned()),
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "ListNodegroups", &e).await),
            }
        }
        let mut out = vec![];
        for name in names {
            let got = match self.client.describe_nodegroup().cluster_name(cluster).nodegroup_name(&name).send().await {
                Ok(got) => got,
                // Deleted between the two calls.
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeNodegroup", &e).await),
            };
            let Some(g) = got.nodegroup() else { continue };
            let scaling = g.scaling_config();
            out.push(NodegroupInfo {
                name,
                status: g.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                desired: scaling.and_then(|s| s.desired_size()).unwrap_or(0),
                min: scaling.and_then(|s| s.min_size()).unwrap_or(0),
                max: scaling.and_then(|s| s.max_size()).unwrap_or(0),
                instance_types: g.instance_types().to_vec(),
                issues: g
                    .health()
                    .map(|h| {
                        h.issues()
                            .iter()
                            .map(|i| format!("{}: {}", i.code().map(|c| c.as_str()).unwrap_or("issue"), i.message().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default(),
                version: g.version().unwrap_or_default().to_string(),
                release_version: g.release_version().unwrap_or_default().to_string(),
            });
        }
        Ok(out)
    }

    /// The Kubernetes versions EKS offers, unsupported ones included, oldest first.
    pub async fn versions(&self) -> Result<Vec<KubernetesVersion>, AwsError> {
        let mut out = vec![];
        let mut pages = self.client.describe_cluster_versions().include_all(true).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeClusterVersions", &e).await),
            };
            out.extend(page.cluster_versions().iter().map(|v| KubernetesVersion {
                version: v.cluster_version().unwrap_or_default().to_string(),
                status: v.version_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                released: v.release_date().map(|d| d.secs()),
                end_of_standard: v.end_of_standard_support_date().map(|d| d.secs()),
                end_of_extended: v.end_of_extended_support_date().map(|d| d.secs()),
                default: v.default_version(),
            }));
        }
        out.sort_by_key(|v| minor_of(&v.version));
        Ok(out)
    }

    /// The add-ons installed in `cluster` (EKS-managed ones; self-managed are not listed by EKS).
    pub async fn addons(&self, cluster: &str) -> Result<Vec<AddonInfo>, AwsError> {
        let mut names = vec![];
        let mut pages = self.client.list_addons().cluster_name(cluster).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => names.extend(p.addons().iter().cloned()),
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "ListAddons", &e).await),
            }
        }
        let mut out = vec![];
        for name in names {
            let got = match self.client.describe_addon().cluster_name(cluster).addon_name(&name).send().await {
                Ok(got) => got,
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeAddon", &e).await),
            };
            let Some(a) = got.addon() else { continue };
            out.push(AddonInfo {
                name,
                version: a.addon_version().unwrap_or_default().to_string(),
                status: a.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                issues: a
                    .health()
                    .map(|h| {
                        h.issues()
                            .iter()
                            .map(|i| format!("{}: {}", i.code().map(|c| c.as_str()).unwrap_or("issue"), i.message().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The versions of add-on `addon` that run on Kubernetes `kubernetes`, newest first.
    pub async fn addon_versions(&self, addon: &str, kubernetes: &str) -> Result<Vec<String>, AwsError> {
        Ok(self.addon_versions_on(addon, kubernetes).await?.into_iter().map(|v| v.version).collect())
    }

    /// The versions of add-on `addon` that run on Kubernetes `kubernetes`, newest first, each
    /// marked when EKS makes it the default for that version.
    pub async fn addon_versions_on(&self, addon: &str, kubernetes: &str) -> Result<Vec<AddonVersion>, AwsError> {
        let mut out = vec![];
        let mut pages = self.client.describe_addon_versions().addon_name(addon).kubernetes_version(kubernetes).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeAddonVersions", &e).await),
            };
            for a in page.addons() {
                out.extend(a.addon_versions().iter().filter_map(|v| {
                    let default = v.compatibilities().iter().any(|c| c.cluster_version() == Some(kubernetes) && c.default_version());
                    v.addon_version().map(|version| AddonVersion { version: version.to_string(), default })
                }));
            }
        }
        out.sort_by_key(|v| std::cmp::Reverse(addon_version_key(&v.version)));
        Ok(out)
    }

    /// The cluster's version updates (or those of one node group or add-on), newest first.
    pub async fn updates(&self, cluster: &str, of: UpdateOf<'_>) -> Result<Vec<UpdateInfo>, AwsError> {
        let mut ids = vec![];
        let mut req = self.client.list_updates().name(cluster);
        match of {
            UpdateOf::Cluster => {}
            UpdateOf::Nodegroup(n) => req = req.nodegroup_name(n),
            UpdateOf::Addon(a) => req = req.addon_name(a),
        }
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => ids.extend(p.update_ids().iter().cloned()),
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "ListUpdates", &e).await),
            }
        }
        let mut out = vec![];
        for id in ids {
            let mut req = self.client.describe_update().name(cluster).update_id(&id);
            match of {
                UpdateOf::Cluster => {}
                UpdateOf::Nodegroup(n) => req = req.nodegroup_name(n),
                UpdateOf::Addon(a) => req = req.addon_name(a),
            }
            let got = match req.send().await {
                Ok(got) => got,
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeUpdate", &e).await),
            };
            let Some(u) = got.update() else { continue };
            out.push(update_info(u));
        }
        out.sort_by_key(|u| std::cmp::Reverse(u.created));
        Ok(out)
    }

    /// Starts the control plane's update to Kubernetes `version` (UpdateClusterVersion).
    pub async fn update_cluster_version(&self, cluster: &str, version: &str) -> Result<UpdateInfo, AwsError> {
        match self.client.update_cluster_version().name(cluster).version(version).send().await {
            Ok(out) => Ok(out.update().map(update_info).unwrap_or_default()),
            Err(e) => Err(crate::error::classify(&self.ctx, "eks", "UpdateClusterVersion", &e).await),
        }
    }

    /// Starts add-on `addon`'s update to `version` (UpdateAddon; its settings are kept).
    pub async fn update_addon(&self, cluster: &str, addon: &str, version: &str) -> Result<UpdateInfo, AwsError> {
        match self.client.update_addon().cluster_name(cluster).addon_name(addon).addon_version(version).send().await {
            Ok(out) => Ok(out.update().map(update_info).unwrap_or_default()),
            Err(e) => Err(crate::error::classify(&self.ctx, "eks", "UpdateAddon", &e).await),
        }
    }

    /// Starts node group `nodegroup`'s rolling update to the control plane's Kubernetes
    /// `version` with its latest AMI release (UpdateNodegroupVersion; pod disruption budgets
    /// are respected: no `force`).
    pub async fn update_nodegroup_version(&self, cluster: &str, nodegroup: &str, version: &str) -> Result<UpdateInfo, AwsError> {
        match self.client.update_nodegroup_version().cluster_name(cluster).nodegroup_name(nodegroup).version(version).send().await {
            Ok(out) => Ok(out.update().map(update_info).unwrap_or_default()),
            Err(e) => Err(crate::error::classify(&self.ctx, "eks", "UpdateNodegroupVersion", &e).await),
        }
    }

    /// The cluster's insights, each described in full.
    pub async fn insights(&self, cluster: &str) -> Result<Vec<Insight>, AwsError> {
        let mut ids = vec![];
        let mut pages = self.client.list_insights().cluster_name(cluster).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => ids.extend(p.insights().iter().filter_map(|i| i.id().map(str::to_string))),
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "ListInsights", &e).await),
            }
        }
        let mut out = vec![];
        for id in ids {
            let got = match self.client.describe_insight().cluster_name(cluster).id(&id).send().await {
                Ok(got) => got,
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeInsight", &e).await),
            };
            let Some(i) = got.insight() else { continue };
            let status =
                |s: Option<&aws_sdk_eks::types::InsightStatus>| s.and_then(|s| s.status()).map(|s| s.as_str().to_string()).unwrap_or_default();
            let summary = i.category_specific_summary();
            out.push(Insight {
                id,
                name: i.name().unwrap_or_default().to_string(),
                category: i.category().map(|c| c.as_str().to_string()).unwrap_or_default(),
                kubernetes_version: i.kubernetes_version().unwrap_or_default().to_string(),
                status: status(i.insight_status()),
                reason: i.insight_status().and_then(|s| s.reason()).unwrap_or_default().to_string(),
                description: i.description().unwrap_or_default().to_string(),
                recommendation: i.recommendation().unwrap_or_default().to_string(),
                refreshed: i.last_refresh_time().map(|t| t.secs()),
                resources: i
                    .resources()
                    .iter()
                    .map(|r| (r.arn().or(r.kubernetes_resource_uri()).unwrap_or_default().to_string(), status(r.insight_status())))
                    .collect(),
                addons: summary
                    .map(|s| {
                        s.addon_compatibility_details()
                            .iter()
                            .map(|a| (a.name().unwrap_or_default().to_string(), a.compatible_versions().to_vec()))
                            .collect()
                    })
                    .unwrap_or_default(),
                deprecations: summary
                    .map(|s| {
                        s.deprecation_details()
                            .iter()
                            .map(|d| {
                                let text = |v: Option<&str>| v.unwrap_or_default().to_string();
                                (text(d.usage()), text(d.replaced_with()), text(d.stop_serving_version()))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Asks EKS to evaluate the cluster's insights again. False when a refresh already runs.
    pub async fn refresh_insights(&self, cluster: &str) -> Result<bool, AwsError> {
        match self.client.start_insights_refresh().cluster_name(cluster).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_invalid_request_exception()) => Ok(false),
            Err(e) => Err(crate::error::classify(&self.ctx, "eks", "StartInsightsRefresh", &e).await),
        }
    }

    /// The last insights refresh: IN_PROGRESS, COMPLETED or FAILED (None: never refreshed).
    pub async fn insights_refresh(&self, cluster: &str) -> Result<Option<String>, AwsError> {
        match self.client.describe_insights_refresh().cluster_name(cluster).send().await {
            Ok(out) => Ok(out.status().map(|s| s.as_str().to_string())),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(crate::error::classify(&self.ctx, "eks", "DescribeInsightsRefresh", &e).await),
        }
    }
}

/// An add-on version offered for one Kubernetes version.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddonVersion {
    pub version: String,
    /// EKS's default for that Kubernetes version.
    pub default: bool,
}

/// Whose updates to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateOf<'a> {
    Cluster,
    Nodegroup(&'a str),
    Addon(&'a str),
}

/// An EKS update (a version update of the control plane, a node group or an add-on…).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateInfo {
    pub id: String,
    /// VersionUpdate, AddonUpdate, LoggingUpdate…
    pub kind: String,
    /// InProgress, Failed, Cancelled, Successful.
    pub status: String,
    /// Its parameters (Version, ReleaseVersion, AddonVersion…).
    pub params: Vec<(String, String)>,
    /// Seconds since the epoch.
    pub created: i64,
    /// "code: message" of each error.
    pub errors: Vec<String>,
}

impl UpdateInfo {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn update_info(u: &aws_sdk_eks::types::Update) -> UpdateInfo {
    UpdateInfo {
        id: u.id().unwrap_or_default().to_string(),
        kind: u.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(),
        status: u.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        params: u
            .params()
            .iter()
            .map(|p| (p.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(), p.value().unwrap_or_default().to_string()))
            .collect(),
        created: u.created_at().map(|t| t.secs()).unwrap_or(0),
        errors: u
            .errors()
            .iter()
            .map(|e| format!("{}: {}", e.error_code().map(|c| c.as_str()).unwrap_or("error"), e.error_message().unwrap_or_default()))
            .collect(),
    }
}

/// "v1.19.2-eksbuild.1" as (1, 19, 2, 1), for ordering add-on versions.
pub fn addon_version_key(version: &str) -> Vec<u64> {
    version.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).map(|p| p.parse().unwrap_or(0)).collect()
}

/// "1.31" as (1, 31), for ordering versions; unparsable ones sort first.
pub fn minor_of(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// How long a presigned token's URL is valid (the authenticator takes at most 15 minutes).
const TOKEN_LIFE: std::time::Duration = std::time::Duration::from_secs(60);

/// A bearer token for the Kubernetes API of `cluster`, minted here from the environment's
/// credentials as `aws eks get-token` mints it: an STS GetCallerIdentity request presigned
/// with the cluster's name in the signed `x-k8s-aws-id` header, base64url-encoded after
/// `k8s-aws-v1.`. EKS calls that URL to learn who is calling; nothing is sent to AWS here.
pub async fn token(ctx: &crate::AwsContext, cluster: &str) -> Result<String, AwsError> {
    let creds = ctx.credentials().await.map_err(|e| e.during("no AWS credentials to sign the Kubernetes token"))?;
    let target = ctx.target();
    let sts = match target.endpoint_url.as_deref() {
        Some(url) => url.trim_end_matches('/').to_string(),
        None if target.region.starts_with("cn-") => format!("https://sts.{}.amazonaws.com.cn", target.region),
        None => format!("https://sts.{}.amazonaws.com", target.region),
    };
    sign_token(cluster, &sts, &target.region, &creds, std::time::SystemTime::now()).map_err(|e| {
        AwsError::new(
            crate::Kind::CredentialsError,
            format!("the Kubernetes token could not be made: {e}"),
            "check the environment's AWS credentials",
        )
    })
}

/// The token for fixed inputs (`sts`: the STS endpoint, no trailing slash).
pub fn sign_token(
    cluster: &str,
    sts: &str,
    region: &str,
    creds: &aws_credential_types::Credentials,
    time: std::time::SystemTime,
) -> Result<String, String> {
    let url = format!("{sts}/?Action=GetCallerIdentity&Version=2011-06-15");
    let presigned = url.clone() + &crate::presign_query(&url, &[("x-k8s-aws-id", cluster)], "sts", region, creds, time, TOKEN_LIFE)?;
    let encoded = aws_smithy_types::base64::encode(presigned.as_bytes());
    Ok(format!("k8s-aws-v1.{}", encoded.trim_end_matches('=').replace('+', "-").replace('/', "_")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_entry_names_an_assumed_roles_role_and_a_user_as_it_is() {
        assert_eq!(principal_of("arn:aws:sts::123456789012:assumed-role/ops-admin/alice@example.org"), "arn:aws:iam::123456789012:role/ops-admin");
        assert_eq!(principal_of("arn:aws:iam::123456789012:user/ci"), "arn:aws:iam::123456789012:user/ci");
        assert_eq!(principal_of("arn:aws:sts::123456789012:user/moto"), "arn:aws:iam::123456789012:user/moto");
        assert_eq!(principal_of("arn:aws-us-gov:sts::123456789012:assumed-role/r/s"), "arn:aws-us-gov:iam::123456789012:role/r");
    }

    fn decode(token: &str) -> String {
        let b64 = token.strip_prefix("k8s-aws-v1.").expect("the token's prefix").replace('-', "+").replace('_', "/");
        let padded = format!("{b64}{}", "=".repeat((4 - b64.len() % 4) % 4));
        String::from_utf8(aws_smithy_types::base64::decode(padded).unwrap()).unwrap()
    }

    #[test]
    fn a_token_is_a_presigned_get_caller_identity_naming_the_cluster() {
        let creds = aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", Some("session".into()), None, "test");
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000);
        let token = sign_token("pj-prod", "https://sts.eu-west-1.amazonaws.com", "eu-west-1", &creds, at).unwrap();
        assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'), "base64url without padding: {token}");
        let url = url::Url::parse(&decode(&token)).unwrap();
        assert_eq!(url.host_str(), Some("sts.eu-west-1.amazonaws.com"));
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["Action"], "GetCallerIdentity");
        assert_eq!(q["Version"], "2011-06-15");
        assert_eq!(q["X-Amz-SignedHeaders"], "host;x-k8s-aws-id");
        assert_eq!(q["X-Amz-Expires"], "60");
        assert_eq!(q["X-Amz-Security-Token"], "session");
        assert!(q["X-Amz-Credential"].starts_with("AKIDEXAMPLE/20260921/eu-west-1/sts/aws4_request"), "{}", q["X-Amz-Credential"]);
        // The cluster's name is signed: another cluster's token differs only in its signature.
        let other = sign_token("pj-test", "https://sts.eu-west-1.amazonaws.com", "eu-west-1", &creds, at).unwrap();
        let sig = |t: &str| url::Url::parse(&decode(t)).unwrap().query_pairs().find(|(k, _)| k == "X-Amz-Signature").unwrap().1.into_owned();
        assert_ne!(sig(&token), sig(&other));
        assert_eq!(sig(&token), sig(&sign_token("pj-prod", "https://sts.eu-west-1.amazonaws.com", "eu-west-1", &creds, at).unwrap()));
    }
}

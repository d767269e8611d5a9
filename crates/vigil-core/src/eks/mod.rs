//! The platform's services on EKS (the Services page, `vigil eks`): the cluster as EKS shows it —
//! version and where it stands in EKS's support calendar, endpoint access, logging, secrets
//! encryption, node groups, add-ons and whether each runs on the next Kubernetes version — and
//! EKS's upgrade insights, refreshed on demand; the upgrade cockpit ([`upgrade`]); the
//! platform's workloads on it ([`workloads`]).

use crate::app::area;
use crate::aws::{self, eks as aws_eks};
use crate::core::Record;
use crate::error::{Error, Result};
use serde_json::json;
use vigil_dto::eks::{AccessEntry, Addon, ClusterAccess, ClusterOverview, Insight, Nodegroup, VersionSupport};
use vigil_dto::Environment;

pub mod upgrade;
pub mod workloads;

area!(
    /// The EKS area (`app.eks()`).
    Eks
);

const DAY: i64 = 86_400;

pub(crate) fn cluster_name(env: &Environment) -> Result<String> {
    env.deployment.get("cluster_name").filter(|n| !n.trim().is_empty()).cloned().ok_or_else(|| Error::Eks {
        kind: "not_deployed",
        message: format!("environment '{}' names no EKS cluster", env.name),
        hint: "deploy the platform (Deploy page, `vigil deploy`), or set the environment's cluster_name deployment parameter".into(),
    })
}

fn missing(env: &Environment, name: &str) -> Error {
    Error::Eks {
        kind: "cluster_missing",
        message: format!("the EKS cluster '{name}' of environment '{}' does not exist in {}", env.name, env.region),
        hint: "it was deleted, or the environment points at another account or region: check the environment, or deploy the platform again".into(),
    }
}

/// The commands that give `principal` cluster-admin access to cluster `cluster`.
pub fn access_fix(cluster: &str, principal: &str) -> String {
    format!(
        "aws eks create-access-entry --cluster-name {cluster} --principal-arn {principal} && \
         aws eks associate-access-policy --cluster-name {cluster} --principal-arn {principal} \
         --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy --access-scope type=cluster"
    )
}

/// Who may use the cluster, read with the environment's credentials: the entries, or why they
/// could not be read (not allowed, or a cluster that authenticates by its aws-auth ConfigMap).
async fn access(eks: &aws_eks::Eks, ctx: &vigil_aws::AwsContext, op: &str, cluster: &str) -> Result<ClusterAccess> {
    let caller = aws_eks::principal_of(&aws::sts::caller_identity(ctx, op).await?.arn);
    let (entries, note) = match eks.access_entries(cluster).await {
        Ok(e) => (Some(e), None),
        Err(e) if e.kind == aws::error::Kind::AccessDenied => (
            None,
            Some(format!(
                "these credentials may not read the access entries ({}); eks:ListAccessEntries and eks:DescribeAccessEntry are needed",
                e.message
            )),
        ),
        Err(e) if e.kind == aws::error::Kind::Validation => {
            (None, Some(format!("the cluster does not use access entries ({}): who may use it is in its aws-auth ConfigMap", e.message)))
        }
        Err(e) => return Err(e.into()),
    };
    let caller_has_access = entries.as_ref().map(|es| es.iter().any(|e| e.principal == caller && (!e.policies.is_empty() || !e.groups.is_empty())));
    Ok(ClusterAccess {
        fix: (caller_has_access == Some(false)).then(|| access_fix(cluster, &caller)),
        entries: entries.map(|es| {
            es.into_iter()
                .map(|e| AccessEntry {
                    is_caller: e.principal == caller,
                    principal: e.principal,
                    kind: e.kind,
                    username: e.username,
                    groups: e.groups,
                    policies: e.policies,
                })
                .collect()
        }),
        caller,
        caller_has_access,
        note,
    })
}

fn day(secs: Option<i64>) -> Option<String> {
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0)).map(|d| d.format("%Y-%m-%d").to_string())
}

/// Where `version` stands on `now` in the calendar EKS gave, and the next version it offers.
pub fn support(versions: &[aws_eks::KubernetesVersion], version: &str, now: i64) -> (VersionSupport, Option<String>) {
    let Some(v) = versions.iter().find(|v| v.version == version) else {
        let unknown = VersionSupport { status: "UNKNOWN".into(), end_of_standard: None, end_of_extended: None, days_left: None };
        return (unknown, None);
    };
    // EKS's own status where it gives one, else from the dates.
    let status = match v.status.as_str() {
        "" => match (v.end_of_standard, v.end_of_extended) {
            (Some(s), _) if now < s => "STANDARD_SUPPORT",
            (_, Some(e)) if now < e => "EXTENDED_SUPPORT",
            _ => "UNSUPPORTED",
        }
        .to_string(),
        s => s.to_string(),
    };
    let end = if status == "STANDARD_SUPPORT" { v.end_of_standard } else { v.end_of_extended };
    let next = versions.iter().filter(|n| aws_eks::minor_of(&n.version) > aws_eks::minor_of(version)).min_by_key(|n| aws_eks::minor_of(&n.version));
    let support = VersionSupport {
        status,
        end_of_standard: day(v.end_of_standard),
        end_of_extended: day(v.end_of_extended),
        days_left: end.map(|e| (e - now) / DAY),
    };
    (support, next.map(|n| n.version.clone()))
}

impl Eks<'_> {
    /// The current environment's cluster, its node groups, add-ons and insights.
    pub async fn overview(&self) -> Result<ClusterOverview> {
        let env = self.current().await?;
        let name = cluster_name(&env)?;
        let (ctx, op) = (self.aws_context(&env).await, aws::new_op_id());
        let eks = aws_eks::Eks::new(&ctx, &op);
        let cluster = eks.cluster(&name).await?.ok_or_else(|| missing(&env, &name))?;
        let versions = eks.versions().await?;
        let (support, next) = support(&versions, &cluster.version, chrono::Utc::now().timestamp());
        let mut addons = vec![];
        for a in eks.addons(&name).await? {
            let next_versions = match &next {
                Some(n) => eks.addon_versions(&a.name, n).await?,
                None => vec![],
            };
            addons.push(Addon {
                fits_next: next.as_ref().map(|_| next_versions.contains(&a.version)),
                next_versions,
                name: a.name,
                version: a.version,
                status: a.status,
                issues: a.issues,
            });
        }
        let nodegroups = eks
            .nodegroups(&name)
            .await?
            .into_iter()
            .map(|g| Nodegroup {
                name: g.name,
                status: g.status,
                version: g.version,
                release_version: g.release_version,
                instance_types: g.instance_types,
                desired: g.desired,
                min: g.min,
                max: g.max,
                issues: g.issues,
            })
            .collect();
        let insights = eks.insights(&name).await?.into_iter().map(insight).collect();
        let insights_refresh = eks.insights_refresh(&name).await?;
        let access = access(&eks, &ctx, &op, &name).await?;
        Ok(ClusterOverview {
            name,
            status: cluster.status,
            version: cluster.version,
            platform_version: cluster.platform_version,
            support,
            next,
            endpoint: cluster.endpoint,
            endpoint_public: cluster.endpoint_public,
            public_cidrs: if cluster.endpoint_public { cluster.public_cidrs } else { vec![] },
            endpoint_private: cluster.endpoint_private,
            logging: cluster.logs,
            secrets_key: cluster.secrets_key,
            nodegroups,
            addons,
            insights,
            insights_refresh,
            access,
        })
    }

    /// Asks EKS to evaluate the cluster's insights again (logged as `eks.insights_refresh`).
    /// False when a refresh was already running.
    pub async fn refresh_insights(&self) -> Result<bool> {
        let env = self.current().await?;
        let name = cluster_name(&env)?;
        let op_id = aws::new_op_id();
        let eks = aws_eks::Eks::new(&self.aws_context(&env).await, &op_id);
        if eks.cluster(&name).await?.is_none() {
            return Err(missing(&env, &name));
        }
        let started = eks.refresh_insights(&name).await?;
        let tx = self.begin().await?;
        let record = Record::new("eks.insights_refresh", &name, json!({ "environment": env.name, "started": started })).op(&op_id);
        self.commit(tx, record).await?;
        Ok(started)
    }
}

fn insight(i: aws_eks::Insight) -> Insight {
    Insight {
        refreshed: i.refreshed.and_then(|s| chrono::DateTime::from_timestamp(s, 0)).map(|d| d.to_rfc3339()),
        id: i.id,
        name: i.name,
        category: i.category,
        kubernetes_version: i.kubernetes_version,
        status: i.status,
        reason: i.reason,
        description: i.description,
        recommendation: i.recommendation,
        resources: i.resources,
        addons: i.addons,
        deprecations: i.deprecations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(version: &str, status: &str, standard: i64, extended: i64) -> aws_eks::KubernetesVersion {
        aws_eks::KubernetesVersion {
            version: version.into(),
            status: status.into(),
            end_of_standard: Some(standard * DAY),
            end_of_extended: Some(extended * DAY),
            ..Default::default()
        }
    }

    #[test]
    fn support_counts_the_days_left_in_the_current_phase_and_finds_the_next_version() {
        let versions = [v("1.9", "", 10, 20), v("1.10", "", 30, 40), v("1.11", "STANDARD_SUPPORT", 50, 60)];
        // 1.10 sorts after 1.9 (by number, not text).
        let (s, next) = support(&versions, "1.9", 5 * DAY);
        assert_eq!((s.status.as_str(), s.days_left, next.as_deref()), ("STANDARD_SUPPORT", Some(5), Some("1.10")));
        let (s, _) = support(&versions, "1.9", 15 * DAY);
        assert_eq!((s.status.as_str(), s.days_left), ("EXTENDED_SUPPORT", Some(5)));
        let (s, _) = support(&versions, "1.9", 25 * DAY);
        assert_eq!((s.status.as_str(), s.days_left), ("UNSUPPORTED", Some(-5)));
        assert_eq!(s.end_of_standard.as_deref(), Some("1970-01-11"));
        let (s, next) = support(&versions, "1.11", 0);
        assert_eq!((s.status.as_str(), next), ("STANDARD_SUPPORT", None));
        let (s, next) = support(&versions, "1.8", 0);
        assert_eq!((s.status.as_str(), s.days_left, next), ("UNKNOWN", None, None));
    }
}

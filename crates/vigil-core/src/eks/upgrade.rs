//! The upgrade cockpit: what moving the platform's EKS cluster to the next Kubernetes version
//! involves, and what blocks it, read before anything starts — the cluster's and node groups'
//! state, EKS's upgrade insights for that version, add-ons with no version running on both
//! versions, APIs the platform's own manifests use that the version no longer serves, kubelet
//! skew, pod disruption budgets that leave a node drain no room. The upgrade itself is the
//! bundle's `eks-upgrade` runbook (control plane → add-ons → node groups), run by the DR
//! engine: journaled, resumable, with progress and the operator log.

use super::{cluster_name, missing, workloads::kube_error, Eks};
use crate::aws::{self, eks as aws_eks};
use crate::core::Core;
use crate::deploy::NAMESPACE;
use crate::error::{Error, Result};
use crate::progress::Progress;
use serde_json::Value;
use std::path::Path;
use vigil_aws::eks::{addon_version_key, minor_of, AddonVersion};
use vigil_dto::dr::{RunRequest, RunView};
use vigil_dto::eks::{AddonStep, BudgetView, NodegroupStep, UpgradeIssue, UpgradePlan};
use vigil_dto::Environment;

/// The bundle's runbook that carries an upgrade out.
pub const RUNBOOK: &str = "eks-upgrade";

/// How many minor versions a kubelet may be behind the API server (Kubernetes' version skew
/// policy since 1.28).
pub const KUBELET_SKEW: u32 = 3;

/// An API version Kubernetes stopped serving: (apiVersion, kind or "*", the first version
/// without it, what to use instead) — from Kubernetes' deprecated API migration guide.
pub const REMOVED: &[(&str, &str, &str, &str)] = &[
    ("extensions/v1beta1", "Deployment", "1.16", "apps/v1"),
    ("extensions/v1beta1", "DaemonSet", "1.16", "apps/v1"),
    ("extensions/v1beta1", "ReplicaSet", "1.16", "apps/v1"),
    ("extensions/v1beta1", "NetworkPolicy", "1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy", "1.16", "policy/v1beta1"),
    ("apps/v1beta1", "*", "1.16", "apps/v1"),
    ("apps/v1beta2", "*", "1.16", "apps/v1"),
    ("extensions/v1beta1", "Ingress", "1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "*", "1.22", "networking.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "*", "1.22", "apiextensions.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "*", "1.22", "admissionregistration.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "*", "1.22", "apiregistration.k8s.io/v1"),
    ("authentication.k8s.io/v1beta1", "*", "1.22", "authentication.k8s.io/v1"),
    ("authorization.k8s.io/v1beta1", "*", "1.22", "authorization.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "*", "1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "*", "1.22", "coordination.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "*", "1.22", "rbac.authorization.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "*", "1.22", "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIDriver", "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSINode", "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "StorageClass", "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment", "1.22", "storage.k8s.io/v1"),
    ("batch/v1beta1", "CronJob", "1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "*", "1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "*", "1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "*", "1.25", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget", "1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy", "1.25", "Pod Security Admission"),
    ("node.k8s.io/v1beta1", "*", "1.25", "node.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*", "1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ("autoscaling/v2beta2", "*", "1.26", "autoscaling/v2"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity", "1.27", "storage.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*", "1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*", "1.32", "flowcontrol.apiserver.k8s.io/v1"),
];

fn issue(kind: &str, subject: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> UpgradeIssue {
    UpgradeIssue { kind: kind.into(), subject: subject.into(), detail: detail.into(), fix: fix.into() }
}

/// The objects among `objects` whose API Kubernetes `to` no longer serves.
pub fn removed_apis(objects: &[Value], to: &str) -> Vec<UpgradeIssue> {
    let mut out = vec![];
    for o in objects {
        let (api, kind) = (o["apiVersion"].as_str().unwrap_or_default(), o["kind"].as_str().unwrap_or_default());
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        let gone = REMOVED.iter().find(|(a, k, _, _)| *a == api && (*k == "*" || *k == kind));
        if let Some((_, _, removed, instead)) = gone.filter(|(_, _, removed, _)| minor_of(removed) <= minor_of(to)) {
            out.push(issue(
                "api",
                format!("{kind}/{name}"),
                format!("the platform's manifests declare {kind} {name} as {api}, which Kubernetes {removed} and later no longer serve"),
                format!("use a platform bundle whose manifests use {instead} (the bundle's publisher makes it), deploy it, then upgrade"),
            ));
        }
    }
    out
}

/// What the upgrade from `from` to `to` does to an add-on installed at `installed`, given the
/// versions that run on each; with the blocker when no version runs on both.
pub fn addon_step(
    name: &str,
    installed: &str,
    (from, on_from): (&str, &[AddonVersion]),
    (to, on_to): (&str, &[AddonVersion]),
) -> (AddonStep, Option<UpgradeIssue>) {
    let fits = |vs: &[AddonVersion], v: &str| vs.iter().any(|x| x.version == v);
    let newest = |vs: Vec<&AddonVersion>| vs.into_iter().max_by_key(|v| addon_version_key(&v.version)).map(|v| v.version.clone());
    let mut blocker = None;
    let before = if fits(on_to, installed) {
        None
    } else {
        let both = newest(on_to.iter().filter(|v| fits(on_from, &v.version)).collect());
        if both.is_none() {
            blocker = Some(issue(
                "addon",
                name,
                format!("{name} {installed} does not run on Kubernetes {to}, and no version of it runs on both {from} and {to}"),
                format!(
                    "EKS refuses the upgrade while it is installed: remove the add-on (add it again at a version for {to} after the upgrade: {}), then check again",
                    on_to.iter().map(|v| v.version.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        both
    };
    let default = on_to.iter().find(|v| v.default).map(|v| v.version.clone()).or_else(|| newest(on_to.iter().collect()));
    let now = before.clone().unwrap_or_else(|| installed.to_string());
    let after = default.filter(|d| addon_version_key(d) > addon_version_key(&now));
    (AddonStep { name: name.into(), installed: installed.into(), before, after }, blocker)
}

/// The upgrade of `env`'s cluster to `to` (the next version when None), read with operation
/// id `op`; `bundle` is the platform bundle the runbook and the manifests come from (this
/// console's own when None).
pub(crate) async fn plan(core: &Core, env: &Environment, op: &str, bundle: Option<&Path>, to: Option<&str>) -> Result<UpgradePlan> {
    let name = cluster_name(env)?;
    let ctx = core.aws_context(env).await;
    let eks = aws_eks::Eks::new(&ctx, op);
    let cluster = eks.cluster(&name).await?.ok_or_else(|| missing(env, &name))?;
    let from = cluster.version.clone();
    let versions = eks.versions().await?;
    let targets: Vec<String> = versions.iter().filter(|v| minor_of(&v.version) > minor_of(&from)).map(|v| v.version.clone()).collect();
    let to = match to.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if !versions.iter().any(|v| v.version == t) => {
            let offered = versions.iter().map(|v| v.version.as_str()).collect::<Vec<_>>().join(", ");
            return Err(Error::validation("version", format!("EKS offers no Kubernetes {t} (it offers {offered})")));
        }
        Some(t) if minor_of(t) <= minor_of(&from) => {
            return Err(Error::validation("version", format!("{name} already runs Kubernetes {from}: a cluster's version only goes up")));
        }
        Some(t) => t.to_string(),
        None => targets.first().cloned().ok_or_else(|| Error::Eks {
            kind: "newest",
            message: format!("{name} runs Kubernetes {from}, the newest version EKS offers"),
            hint: "there is nothing to upgrade to".into(),
        })?,
    };
    let (mut blockers, mut warnings) = (vec![], vec![]);
    if let Some(next) = targets.first().filter(|n| **n != to) {
        blockers.push(issue(
            "version",
            &to,
            format!("EKS upgrades one minor version at a time: {from} goes to {next} first"),
            format!("upgrade to {next}, then to {to}"),
        ));
    }
    if cluster.status != "ACTIVE" {
        blockers.push(issue("cluster", &name, format!("the cluster is {}", cluster.status), "wait until it is ACTIVE (an update may be running)"));
    }

    let mut addons = vec![];
    for a in eks.addons(&name).await? {
        let on_from = eks.addon_versions_on(&a.name, &from).await?;
        let on_to = eks.addon_versions_on(&a.name, &to).await?;
        let (step, blocker) = addon_step(&a.name, &a.version, (&from, &on_from), (&to, &on_to));
        blockers.extend(blocker);
        if a.status != "ACTIVE" {
            let issues = if a.issues.is_empty() { String::new() } else { format!(": {}", a.issues.join("; ")) };
            warnings.push(issue(
                "addon",
                &a.name,
                format!("{} is {}{issues}", a.name, a.status),
                "its update may fail; resolve its health issues first",
            ));
        }
        addons.push(step);
    }

    for i in eks.insights(&name).await?.into_iter().filter(|i| i.kubernetes_version == to) {
        let detail = format!("{}: {}", i.name, i.reason);
        // An add-on insight the runbook's first step resolves (each add-on it names has a
        // version for both) is a warning, not a blocker.
        let resolved_by_run = !i.addons.is_empty() && i.addons.iter().all(|(n, _)| addons.iter().any(|s| &s.name == n && s.before.is_some()));
        match i.status.as_str() {
            "ERROR" if resolved_by_run => warnings.push(issue("insight", &i.name, detail, "the upgrade's first step updates these add-ons")),
            "ERROR" => blockers.push(issue("insight", &i.name, detail, i.recommendation)),
            "WARNING" => warnings.push(issue("insight", &i.name, detail, i.recommendation)),
            _ => {}
        }
    }

    let groups = eks.nodegroups(&name).await?;
    for g in &groups {
        if g.status != "ACTIVE" {
            let issues = if g.issues.is_empty() { String::new() } else { format!(": {}", g.issues.join("; ")) };
            blockers.push(issue(
                "nodegroup",
                &g.name,
                format!("node group {} is {}{issues}", g.name, g.status),
                "wait until it is ACTIVE, or resolve its health issues",
            ));
        }
        let behind = minor_of(&to).1.saturating_sub(minor_of(&g.version).1);
        if minor_of(&g.version).0 == minor_of(&to).0 && behind > KUBELET_SKEW {
            blockers.push(issue(
                "skew",
                &g.name,
                format!(
                    "node group {} runs kubelet {}: on a {to} control plane it would be {behind} minor versions behind (at most {KUBELET_SKEW})",
                    g.name, g.version
                ),
                format!(
                    "upgrade the node group to {from} first (`aws eks update-nodegroup-version --cluster-name {name} --nodegroup-name {}`)",
                    g.name
                ),
            ));
        }
    }

    let token = aws_eks::token(&ctx, &name).await?;
    let client = vigil_kube::client(&vigil_kube::Cluster { endpoint: cluster.endpoint.clone(), ca: cluster.certificate_authority.clone(), token })
        .map_err(kube_error)?;
    let budgets = vigil_kube::inspect::budgets(&client).await.map_err(kube_error)?;
    for b in budgets.iter().filter(|b| b.allowed <= 0 && !b.pods.is_empty()) {
        let worker = b.namespace == NAMESPACE;
        blockers.push(issue(
            "budget",
            format!("{}/{}", b.namespace, b.name),
            format!(
                "pod disruption budget {}/{} allows no eviction ({} healthy, {} wanted): the node groups' update cannot move {}",
                b.namespace,
                b.name,
                b.healthy,
                b.desired,
                b.pods.join(", ")
            ),
            if worker {
                "bring the worker's pods back to ready, or scale it up (Services → Scale), so one can be moved at a time".to_string()
            } else {
                "give the budget room (scale its workload up, or relax minAvailable / maxUnavailable): EKS stops a node group's update on a pod it cannot evict".to_string()
            },
        ));
    }

    let opened = crate::deploy::Deploy::new(core).open_bundle(bundle).await?;
    let deployed = crate::deploy::journal::latest_succeeded(core.store().pool(), &env.name).await?.map(|e| e.plan.tier);
    let objects: Vec<Value> = match deployed.as_ref().and_then(|t| opened.manifests.get(t)) {
        Some(objects) => objects.clone(),
        None => opened.manifests.values().flatten().cloned().collect(),
    };
    blockers.extend(removed_apis(&objects, &to));
    if opened.runbooks.get(RUNBOOK).is_none() {
        blockers.push(issue(
            "runbook",
            RUNBOOK,
            format!("the platform bundle {} has no {RUNBOOK} runbook", opened.manifest.version),
            "use the bundle made for this Vigil",
        ));
    }

    Ok(UpgradePlan {
        cluster: name.clone(),
        from,
        to,
        targets,
        blockers,
        warnings,
        addons,
        nodegroups: groups
            .into_iter()
            .map(|g| NodegroupStep { name: g.name, version: g.version, release_version: g.release_version, desired: g.desired })
            .collect(),
        budgets: budgets
            .into_iter()
            .map(|b| BudgetView { namespace: b.namespace, name: b.name, allowed: b.allowed, healthy: b.healthy, desired: b.desired, pods: b.pods })
            .collect(),
        runbook: RUNBOOK.into(),
        expected_secs: opened.runbooks.expected(RUNBOOK).as_secs(),
        confirm: name,
    })
}

impl Eks<'_> {
    /// The upgrade cockpit for the current environment's cluster: the move to `to` (the next
    /// version when None), its steps and what blocks it. Reads only.
    pub async fn upgrade_plan(&self, bundle: Option<&Path>, to: Option<&str>) -> Result<UpgradePlan> {
        let env = self.current().await?;
        // Boxed, as every large future here: a debug build's stack is small for them.
        let r = Box::pin(plan(self.core, &env, &aws::new_op_id(), bundle, to)).await;
        self.explained(r).await
    }

    /// Starts the upgrade to `to` as the bundle's runbook and gives it the approval `typed`
    /// (the cluster's name), once nothing blocks it; goes on until the run ends or pauses.
    pub async fn upgrade(&self, bundle: Option<&Path>, to: &str, typed: &str, progress: &Progress) -> Result<RunView> {
        self.policy().require(crate::policy::Change::RunRunbook)?;
        let plan = Box::pin(self.upgrade_plan(bundle, Some(to))).await?;
        if typed.trim() != plan.confirm {
            return Err(Error::Eks {
                kind: "confirmation_required",
                message: format!("upgrading {} to Kubernetes {} cannot be undone: type the cluster's name to start it", plan.cluster, plan.to),
                hint: format!("type {}", plan.confirm),
            });
        }
        if let Some(first) = plan.blockers.first() {
            return Err(Error::Eks {
                kind: "upgrade_blocked",
                message: format!("{} thing(s) block the upgrade to {}; first: {}", plan.blockers.len(), plan.to, first.detail),
                hint: format!("resolve them (Services → Upgrade, `vigil eks upgrade-plan --to {}`), then start again", plan.to),
            });
        }
        let dr = crate::dr::Dr::new(self.core);
        let req = RunRequest { runbook: RUNBOOK.into(), params: [("version".to_string(), plan.to.clone())].into(), drill: false };
        let run = Box::pin(dr.start(bundle, &req, progress)).await?;
        if run.state == "awaiting_approval" {
            return Box::pin(dr.approve(bundle, &run.id, typed, progress)).await;
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(version: &str, default: bool) -> AddonVersion {
        AddonVersion { version: version.into(), default }
    }

    #[test]
    fn an_addon_that_does_not_run_on_the_target_moves_first_to_a_version_for_both_then_to_the_default() {
        let on_from = [v("v1.11.4-eksbuild.2", false), v("v1.11.3-eksbuild.2", true)];
        let on_to = [v("v1.12.1-eksbuild.2", true), v("v1.11.4-eksbuild.2", false)];
        let (step, blocker) = addon_step("coredns", "v1.11.3-eksbuild.2", ("1.31", &on_from), ("1.32", &on_to));
        assert_eq!(blocker, None);
        assert_eq!(step.before.as_deref(), Some("v1.11.4-eksbuild.2"));
        assert_eq!(step.after.as_deref(), Some("v1.12.1-eksbuild.2"));
        // Already on the target's default: nothing to do.
        let (step, _) = addon_step("coredns", "v1.12.1-eksbuild.2", ("1.31", &on_from), ("1.32", &on_to));
        assert_eq!((step.before, step.after), (None, None));
        // Never moved down: a newer one than the target's default stays.
        let on_to = [v("v1.12.1-eksbuild.2", false), v("v1.11.4-eksbuild.2", true)];
        let (step, _) = addon_step("coredns", "v1.12.1-eksbuild.2", ("1.31", &on_from), ("1.32", &on_to));
        assert_eq!((step.before, step.after), (None, None));
    }

    #[test]
    fn an_addon_with_no_version_for_both_blocks_the_upgrade() {
        let on_from = [v("v8.0.0-eksbuild.1", true)];
        let on_to = [v("v8.2.0-eksbuild.1", true)];
        let (step, blocker) = addon_step("snapshot-controller", "v8.0.0-eksbuild.1", ("1.31", &on_from), ("1.32", &on_to));
        let blocker = blocker.expect("a blocker");
        assert_eq!((blocker.kind.as_str(), blocker.subject.as_str()), ("addon", "snapshot-controller"));
        assert!(blocker.fix.contains("v8.2.0-eksbuild.1"), "{}", blocker.fix);
        assert_eq!(step.before, None);
        assert_eq!(step.after.as_deref(), Some("v8.2.0-eksbuild.1"));
    }

    #[test]
    fn removed_apis_are_found_from_the_version_that_stops_serving_them() {
        let objects = [
            json!({"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3", "kind": "FlowSchema", "metadata": {"name": "worker"}}),
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "worker"}}),
            json!({"apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "sweep"}}),
        ];
        let found = removed_apis(&objects, "1.31");
        assert_eq!(found.iter().map(|i| i.subject.as_str()).collect::<Vec<_>>(), ["CronJob/sweep"]);
        let found = removed_apis(&objects, "1.32");
        assert_eq!(found.iter().map(|i| i.subject.as_str()).collect::<Vec<_>>(), ["FlowSchema/worker", "CronJob/sweep"]);
        assert!(found[0].detail.contains("1.32") && found[0].fix.contains("flowcontrol.apiserver.k8s.io/v1"), "{:?}", found[0]);
    }

    #[test]
    fn the_shipped_manifests_use_no_api_any_offered_version_removes() {
        for text in [
            include_str!("../../../../deploy-bundles/k8s/rendered/small.yaml"),
            include_str!("../../../../deploy-bundles/k8s/rendered/medium.yaml"),
            include_str!("../../../../deploy-bundles/k8s/rendered/large.yaml"),
        ] {
            let objects = crate::deploy::setup::parse_manifests(text).unwrap();
            assert!(objects.len() > 3);
            assert_eq!(removed_apis(&objects, "1.99"), vec![]);
        }
    }
}

//! Upgrade: a plan made from a newer bundle over a running platform says what changes against
//! the deployed bundle (its files by area, the images the worker rolls to, the migrations it
//! adds, the monthly estimate before and after) and refuses what would go backwards (an older
//! bundle; the same version with other files; a migration of the running bundle removed or
//! edited — migrations run forward only). Applying it first takes a manual snapshot of the
//! Aurora cluster, journalled so a resume never takes a second one; then the stacks' change
//! sets, and the set-up, whose Kubernetes step rolls the worker to the new image (old pods
//! drain on SIGTERM: what they hold finishes or goes back to the queue).

use super::bundle::Bundle;
use super::journal::{self, Entry};
use super::Deploy;
use crate::core::Record;
use crate::error::{Error, Result};
use serde_json::json;
use std::cmp::Ordering;
use vigil_aws::rds::Rds;
use vigil_dto::deploy::{DeployPlan, DeploymentStatus, FileChange, ImageChange, SetupStep, UpgradeInfo};

/// What part of the platform a bundle file belongs to.
pub fn area_of(path: &str) -> &'static str {
    match path.split('/').next().unwrap_or_default() {
        "cloudformation" => "templates",
        "k8s" | "worker" => "kubernetes",
        "migrations" => "migrations",
        "metrics" => "alarms and metrics",
        _ if path == "tiers.json" => "tiers",
        _ if path == "pricing.json" => "pricing",
        _ => "other",
    }
}

/// The container images `tier`'s manifests run, with the bundle's version filled in.
pub fn images(bundle: &Bundle, tier: &str) -> Vec<String> {
    let mut out: Vec<String> = bundle
        .manifests
        .get(tier)
        .into_iter()
        .flatten()
        .flat_map(|o| o["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["image"].as_str().map(|i| i.replace("BUNDLE_VERSION", &bundle.manifest.version)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The snapshot's name: the platform, the version it protects against, when (RDS names take
/// letters, digits and single hyphens).
pub fn snapshot_id(platform: &str, to_version: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let version: String = to_version.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let mut id = format!("pj-{platform}-pre-{version}-{}", at.format("%Y%m%d%H%M%S"));
    while id.contains("--") {
        id = id.replace("--", "-");
    }
    id
}

/// The upgrade from the `deployed` plan to `bundle` (None when it is the same bundle: a plan
/// that changes only parameters), or why it cannot be made.
pub fn compare(
    deployed: &DeployPlan,
    bundle: &Bundle,
    images: &[String],
    cost_after: f64,
    cluster: &str,
    snapshot: String,
) -> Result<Option<UpgradeInfo>> {
    let (from, to) = (&deployed.bundle.version, &bundle.manifest.version);
    if deployed.bundle.manifest_sha256 == bundle.manifest_sha256 {
        return Ok(None);
    }
    match pj_bundle::compare_versions(to, from)? {
        Ordering::Less => {
            return Err(Error::Deploy {
                kind: "upgrade_backwards",
                message: format!(
                    "bundle {to} is older than the running {from}: Vigil upgrades forward only (the database migrations cannot be undone)"
                ),
                hint: format!("open bundle {from} or newer; to return the data to before an upgrade, restore its pre-upgrade snapshot"),
            })
        }
        Ordering::Equal => {
            return Err(Error::Deploy {
                kind: "bundle_version_reused",
                message: format!(
                    "this bundle is version {to}, as the running one, but its files differ (manifest {})",
                    &bundle.manifest_sha256[..12]
                ),
                hint: "a changed bundle must carry a new version: ask its publisher for the released one".into(),
            })
        }
        Ordering::Greater => {}
    }
    let old = &deployed.bundle.file_hashes;
    let new: std::collections::BTreeMap<&str, &str> = bundle.manifest.files.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
    let mut files = vec![];
    for (path, sha) in &new {
        match old.get(*path) {
            None if !old.is_empty() => files.push(FileChange { path: path.to_string(), change: "added".into(), area: area_of(path).into() }),
            Some(was) if was != sha => files.push(FileChange { path: path.to_string(), change: "modified".into(), area: area_of(path).into() }),
            _ => {}
        }
    }
    for path in old.keys().filter(|p| !new.contains_key(p.as_str())) {
        files.push(FileChange { path: path.clone(), change: "removed".into(), area: area_of(path).into() });
    }
    let rewritten: Vec<&str> = files.iter().filter(|f| f.area == "migrations" && f.change != "added").map(|f| f.path.as_str()).collect();
    if !rewritten.is_empty() {
        return Err(Error::Deploy {
            kind: "migration_changed",
            message: format!("bundle {to} removes or edits migrations the running {from} applied: {}", rewritten.join(", ")),
            hint: "migrations run forward only: a fix must come as a new migration; ask the bundle's publisher".into(),
        });
    }
    let migrations = files.iter().filter(|f| f.area == "migrations" && f.change == "added").map(|f| f.path.clone()).collect();
    let repo = |i: &str| i.rsplit_once(':').map(|(r, _)| r.to_string()).unwrap_or_else(|| i.to_string());
    let image_changes = images
        .iter()
        .filter(|i| !deployed.images.contains(i))
        .map(|to| ImageChange { from: deployed.images.iter().find(|f| repo(f) == repo(to)).cloned().unwrap_or_default(), to: to.clone() })
        .collect();
    Ok(Some(UpgradeInfo {
        from_version: from.clone(),
        to_version: to.clone(),
        from_plan: deployed.id.clone(),
        files,
        images: image_changes,
        migrations,
        cost_before: deployed.cost.total,
        cost_after,
        snapshot,
        cluster: cluster.to_string(),
    }))
}

/// The snapshot step as shown before it starts.
pub fn pending_snapshot(u: &UpgradeInfo) -> SetupStep {
    SetupStep {
        id: "snapshot".into(),
        title: format!("Snapshot of {} before the upgrade", u.cluster),
        state: "pending".into(),
        detail: Some(u.snapshot.clone()),
    }
}

impl Deploy<'_> {
    /// Takes the upgrade's snapshot (once: the journal remembers it) and waits until it is
    /// available; nothing else of the upgrade runs before.
    pub(super) async fn snapshot_first(
        &self,
        entry: &mut Entry,
        rds: &Rds,
        op: &str,
        report: &(dyn Fn(&DeploymentStatus) + Send + Sync),
    ) -> Result<()> {
        let Some(u) = entry.plan.upgrade.clone() else { return Ok(()) };
        if entry.progress.snapshot.as_ref().is_some_and(|s| s.state == "done") {
            return Ok(());
        }
        let mut step = pending_snapshot(&u);
        step.state = "running".into();
        entry.progress.snapshot = Some(step.clone());
        journal::save(self.store().pool(), &entry.id, "applying", &entry.progress).await?;
        report(&super::apply::status_of(entry));
        let tags =
            [("pj:environment", entry.plan.platform_environment.as_str()), ("pj:purpose", "pre-upgrade"), ("pj:upgrade-to", u.to_version.as_str())];
        let mut status = rds.create_snapshot(&u.cluster, &u.snapshot, &tags).await.map_err(|e| fail(e, &u))?;
        while status != "available" {
            if matches!(status.as_str(), "failed" | "deleted" | "incompatible-restore") {
                return Err(Error::Deploy {
                    kind: "snapshot_failed",
                    message: format!("the pre-upgrade snapshot {} of {} is {status}", u.snapshot, u.cluster),
                    hint: "see the cluster's events in the RDS console; nothing of the upgrade was applied: plan it again".into(),
                });
            }
            tokio::time::sleep(self.poll()).await;
            status = rds
                .manual_snapshots(&u.cluster)
                .await
                .map_err(|e| fail(e, &u))?
                .into_iter()
                .find(|s| s.id == u.snapshot)
                .map(|s| s.status)
                .unwrap_or_else(|| "deleted".into());
        }
        step.state = "done".into();
        step.detail = Some(format!("{} of {} available", u.snapshot, u.cluster));
        entry.progress.snapshot = Some(step);
        let mut tx = self.begin().await?;
        journal::set_state(&mut tx, &entry.id, "applying", &entry.progress).await?;
        let details = json!({ "plan": entry.id, "cluster": u.cluster, "snapshot": u.snapshot, "from": u.from_version, "to": u.to_version });
        self.commit(tx, Record::new("deploy.pre_upgrade_snapshot", &entry.environment, details).op(op)).await?;
        report(&super::apply::status_of(entry));
        Ok(())
    }
}

/// An AWS failure while taking the snapshot, classified as AWS's (throttled, unavailable…), with
/// what it was and that nothing of the upgrade was applied.
fn fail(e: vigil_aws::AwsError, u: &UpgradeInfo) -> Error {
    let hint = format!(
        "{}; nothing of the upgrade was applied: `vigil deploy resume` tries again",
        e.hint.clone().unwrap_or_else(|| "fix the cause".into())
    );
    let mut e = e.during(&format!("the pre-upgrade snapshot {} of {} could not be taken", u.snapshot, u.cluster));
    e.hint = Some(hint);
    Error::Aws(e)
}

//! Tearing the platform down: every stack of the environment deleted, newest first, while what
//! holds data stays. The plan reads each stack's own template (not the console's bundle: the
//! stacks may come from another version) for its deletion policies: resources with
//! `DeletionPolicy: Retain` (buckets, KMS keys, the backup vault, a global cluster) are kept and
//! listed, the Aurora cluster (`DeletionPolicy: Snapshot`) leaves a final snapshot. Applying
//! turns the cluster's deletion protection and each stack's termination protection off only
//! right before that stack is deleted, and puts the cluster's back if its deletion fails.

use super::apply::{Ended, Run};
use super::plan::{self, is_ours, recovery};
use super::templates::{is_stateful, stack_name, Template, STACKS};
use crate::error::{Error, Result};
use vigil_aws::cloudformation::CloudFormation;
use vigil_dto::deploy::{KeptResource, PlannedChange, StackPlan};

/// The cluster type whose deletion leaves a final snapshot.
const CLUSTER: &str = "AWS::RDS::DBCluster";

/// The deletions of a teardown of `platform_env`, newest stack first, and what they keep.
pub async fn plan_stacks(cf: &CloudFormation, platform_env: &str) -> Result<(Vec<StackPlan>, Vec<KeptResource>)> {
    let mut stacks = vec![];
    let mut kept = vec![];
    for stack in STACKS.iter().rev() {
        let name = stack_name(platform_env, stack);
        let Some(info) = cf.stack(&name).await? else { continue };
        if !is_ours(&info, platform_env) {
            return Err(plan::name_in_use(&name));
        }
        if info.status.ends_with("_IN_PROGRESS") && info.status != "REVIEW_IN_PROGRESS" {
            return Err(Error::Deploy { kind: "deploy_busy", message: format!("{name} is {}", info.status), hint: recovery(&name, &info.status) });
        }
        let template = Template::parse(stack, cf.template(&name).await?)?;
        let mut changes = vec![];
        for (logical_id, physical_id, resource_type) in cf.resources(&name).await? {
            let policy = template.resources.iter().find(|r| r.logical_id == logical_id).and_then(|r| r.deletion_policy.clone());
            let action = match policy.as_deref() {
                Some("Retain" | "RetainExceptOnCreate") => "retain",
                Some("Snapshot") => "snapshot",
                _ => "remove",
            };
            if action == "retain" {
                kept.push(KeptResource {
                    stack: stack.to_string(),
                    logical_id: logical_id.clone(),
                    resource_type: resource_type.clone(),
                    physical_id: physical_id.clone(),
                    why: "kept: its deletion policy is Retain".into(),
                });
            }
            changes.push(PlannedChange {
                action: action.into(),
                stateful: is_stateful(&resource_type),
                logical_id,
                resource_type,
                physical_id,
                properties: vec![],
            });
        }
        stacks.push(StackPlan { stack: stack.to_string(), name, action: "delete".into(), change_set: None, changes, parameters: Default::default() });
    }
    if stacks.is_empty() {
        return Err(Error::Deploy {
            kind: "not_found",
            message: format!("no stack of platform environment {platform_env} exists in this account and region"),
            hint: "check the environment's account, region and platform environment name".into(),
        });
    }
    Ok((stacks, kept))
}

impl Run<'_> {
    /// Deletes one stack: protections off right before, then followed until it is gone.
    pub(super) async fn delete(&mut self, sp: &StackPlan) -> Result<Option<Ended>> {
        if self.state(&sp.stack).state != "applying" {
            let Some(info) = self.cf.stack(&sp.name).await? else {
                self.state(&sp.stack).state = "done".into();
                self.save().await?;
                return Ok(None);
            };
            let newest = self.cf.newest_event(&info.id).await?;
            {
                let st = self.state(&sp.stack);
                st.last_event = newest;
                st.stack_id = Some(info.id.clone());
            }
            for c in sp.changes.iter().filter(|c| c.resource_type == CLUSTER) {
                let Some(id) = &c.physical_id else { continue };
                if self.rds.cluster(id).await?.is_some_and(|c| c.deletion_protection) {
                    self.rds.set_deletion_protection(id, false).await?;
                    self.state(&sp.stack).unprotected.push(id.clone());
                    self.save().await?;
                }
            }
            self.cf.protect(&sp.name, false).await?;
            self.cf.delete_stack(&sp.name, &[]).await?;
            self.state(&sp.stack).state = "applying".into();
            self.save().await?;
        }
        loop {
            let id = self.state(&sp.stack).stack_id.clone().unwrap_or_else(|| sp.name.clone());
            let stack = self.cf.stack(&id).await?;
            let last = self.state(&sp.stack).last_event.clone();
            let events = self.cf.events_after(&id, last.as_deref()).await?;
            self.record(sp, &events, stack.as_ref().map(|s| s.status.clone()));
            self.seen.extend(events);
            self.save().await?;
            match stack.as_ref().map(|s| s.status.as_str()) {
                None | Some("DELETE_COMPLETE") => break,
                Some("DELETE_FAILED") => {
                    // The database keeps its protection while it is still there.
                    for cluster in self.state(&sp.stack).unprotected.clone() {
                        if self.rds.cluster(&cluster).await?.is_some() {
                            self.rds.set_deletion_protection(&cluster, true).await?;
                        }
                    }
                    let cause =
                        super::apply::root_cause(&self.seen, &sp.name).or(stack.and_then(|s| s.reason)).unwrap_or_else(|| "DELETE_FAILED".into());
                    return self.fail(&sp.stack, format!("{}: {cause}", sp.name), recovery(&sp.name, "DELETE_FAILED")).await.map(Some);
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }
        self.final_snapshots(sp).await?;
        self.state(&sp.stack).state = "done".into();
        self.save().await?;
        Ok(None)
    }

    /// Lists the final snapshot of each cluster the stack held.
    async fn final_snapshots(&mut self, sp: &StackPlan) -> Result<()> {
        let since = self.entry.progress.started_at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        for c in sp.changes.iter().filter(|c| c.resource_type == CLUSTER) {
            let Some(cluster) = &c.physical_id else { continue };
            let snapshots = self.rds.manual_snapshots(cluster).await?;
            let taken = snapshots.into_iter().rev().find(|s| {
                let at = s.created_at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
                matches!((at, since), (Some(at), Some(since)) if at >= since - chrono::Duration::minutes(1))
            });
            let kept = match taken {
                Some(s) => KeptResource {
                    stack: sp.stack.clone(),
                    logical_id: c.logical_id.clone(),
                    resource_type: "AWS::RDS::DBClusterSnapshot".into(),
                    physical_id: Some(s.id.clone()),
                    why: format!("the final snapshot of {cluster} ({})", s.status),
                },
                None => KeptResource {
                    stack: sp.stack.clone(),
                    logical_id: c.logical_id.clone(),
                    resource_type: "AWS::RDS::DBClusterSnapshot".into(),
                    physical_id: None,
                    why: format!("no final snapshot of {cluster} was found: look for it in the RDS console before anything else"),
                },
            };
            self.entry.progress.kept.push(kept);
        }
        Ok(())
    }
}

/// The kept resources of a plan, as a line each (for the CLI and the operator log).
pub fn describe(kept: &[KeptResource]) -> Vec<String> {
    kept.iter().map(|k| format!("{} {} ({}): {}", k.resource_type, k.physical_id.as_deref().unwrap_or("?"), k.logical_id, k.why)).collect()
}

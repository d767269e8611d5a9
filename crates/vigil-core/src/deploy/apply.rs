//! Applying a reviewed plan, stack by stack in the bundle's order: an update executes exactly
//! the change set that was reviewed; a create makes its change set once the stacks it imports
//! from exist, refuses it unless it only adds, and executes it. Each stack is followed through
//! its events (per-resource status, elapsed and typical time) until it settles; a new stack is
//! then protected (termination protection, a stack policy denying replacement or deletion of
//! its data-holding resources). On failure the root cause is the first failure CloudFormation
//! reported, not the cancellations it caused, with the recovery to take. The journal is saved
//! at every step, so a restarted Vigil continues where the stacks are.

use super::journal::{self, Entry, StackState};
use super::plan::{self, recovery};
use super::templates::{is_stateful, Template};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::time::Duration;
use vigil_aws::cloudformation::{ChangeKind, CloudFormation, StackEvent};
use vigil_aws::rds::Rds;
use vigil_dto::deploy::{DeploymentStatus, ResourceProgress, StackPlan, StackProgress};

/// How long a resource of this type usually takes to create, in seconds (for the ETA).
pub fn typical_seconds(resource_type: &str) -> u64 {
    match resource_type {
        "AWS::EKS::Cluster" => 600,
        "AWS::RDS::DBInstance" => 540,
        "AWS::ElastiCache::ReplicationGroup" => 600,
        "AWS::EKS::Nodegroup" => 240,
        "AWS::RDS::DBCluster" => 180,
        "AWS::EC2::NatGateway" => 120,
        "AWS::EC2::VPCEndpoint" => 90,
        "AWS::RDS::GlobalCluster" => 120,
        "AWS::KMS::Key" | "AWS::IAM::Role" => 20,
        _ => 10,
    }
}

/// Statuses a stack settles in after succeeding.
pub fn succeeded(status: &str) -> bool {
    matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE")
}

/// Statuses a stack settles in after failing.
pub fn failed(status: &str) -> bool {
    matches!(
        status,
        "CREATE_FAILED"
            | "ROLLBACK_COMPLETE"
            | "ROLLBACK_FAILED"
            | "UPDATE_FAILED"
            | "UPDATE_ROLLBACK_COMPLETE"
            | "UPDATE_ROLLBACK_FAILED"
            | "DELETE_COMPLETE"
            | "DELETE_FAILED"
    )
}

/// The first failure among `events` (oldest first) that is not a cancellation caused by
/// another: what went wrong, as CloudFormation said it.
pub fn root_cause(events: &[StackEvent], stack_name: &str) -> Option<String> {
    events
        .iter()
        .filter(|e| e.status.ends_with("_FAILED"))
        .find(|e| e.reason.as_deref().is_none_or(|r| !r.contains("cancelled") && !r.contains("were not")))
        .map(|e| {
            let what = if e.logical_id == stack_name { "the stack".to_string() } else { format!("{} ({})", e.logical_id, e.resource_type) };
            format!("{what}: {}", e.reason.clone().unwrap_or_else(|| e.status.clone()))
        })
}

/// A stack policy that lets updates through except replacing or deleting the data-holding
/// resources of `t`.
pub fn stack_policy(t: &Template) -> Option<String> {
    let protected: Vec<String> =
        t.resources.iter().filter(|r| is_stateful(&r.resource_type)).map(|r| format!("LogicalResourceId/{}", r.logical_id)).collect();
    if protected.is_empty() {
        return None;
    }
    Some(
        serde_json::json!({
            "Statement": [
                { "Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*" },
                { "Effect": "Deny", "Action": ["Update:Replace", "Update:Delete"], "Principal": "*", "Resource": protected }
            ]
        })
        .to_string(),
    )
}

/// The status a journal entry shows (the ETA from the resources still going).
pub fn status_of(entry: &Entry) -> DeploymentStatus {
    let mut stacks = vec![];
    let (mut done, mut total, mut remaining) = (0usize, 0usize, 0u64);
    for sp in &entry.plan.stacks {
        let st = entry.progress.stacks.get(&sp.stack).cloned().unwrap_or_default();
        let state = if st.state.is_empty() { "pending".to_string() } else { st.state.clone() };
        let planned = sp.changes.len().max(st.resources.len());
        total += planned;
        let finished = match state.as_str() {
            "done" | "unchanged" => planned,
            _ => st.resources.values().filter(|r| r.status.ends_with("_COMPLETE")).count(),
        };
        done += finished;
        if state == "pending" || state == "applying" {
            for c in &sp.changes {
                let going = st.resources.get(c.logical_id.split(' ').next().unwrap_or_default());
                match going {
                    Some(r) if r.status.ends_with("_COMPLETE") => {}
                    Some(r) => remaining += r.typical_s.saturating_sub(r.elapsed_s),
                    None => remaining += typical_seconds(&c.resource_type),
                }
            }
        }
        stacks.push(StackProgress {
            stack: sp.stack.clone(),
            name: sp.name.clone(),
            state,
            status: st.status.clone(),
            resources: st.resources.values().cloned().collect(),
        });
    }
    DeploymentStatus {
        id: entry.id.clone(),
        environment: entry.environment.clone(),
        state: entry.state.clone(),
        stacks,
        done,
        total,
        eta_s: (entry.state == "applying" || entry.state == "planned").then_some(remaining),
        root_cause: entry.progress.root_cause.clone(),
        next: entry.progress.next.clone(),
        started_at: entry.progress.started_at.clone(),
        updated_at: entry.updated_at.clone(),
        kind: entry.plan.kind.clone(),
        kept: entry.plan.kept.iter().chain(&entry.progress.kept).cloned().collect(),
        snapshot: entry.progress.snapshot.clone().or_else(|| entry.plan.upgrade.as_ref().map(super::upgrade::pending_snapshot)),
        setup: if entry.plan.kind == "teardown" {
            vec![]
        } else if entry.progress.setup.is_empty() {
            super::setup::pending()
        } else {
            entry.progress.setup.clone()
        },
    }
}

/// One apply, under way.
pub struct Run<'a> {
    pub pool: &'a sqlx::SqlitePool,
    pub cf: CloudFormation,
    pub rds: Rds,
    pub entry: Entry,
    pub templates: &'a [Template],
    pub poll: Duration,
    pub report: &'a (dyn Fn(&DeploymentStatus) + Send + Sync),
    /// The events followed so far (the root cause is the first failure among them).
    pub seen: Vec<StackEvent>,
}

/// How an apply ended: every stack settled, or the failure (already journalled).
pub enum Ended {
    Succeeded { outputs: BTreeMap<String, String> },
    Failed,
}

impl Run<'_> {
    pub(super) async fn save(&mut self) -> Result<()> {
        self.entry.updated_at = journal::now();
        journal::save(self.pool, &self.entry.id, &self.entry.state, &self.entry.progress).await?;
        (self.report)(&status_of(&self.entry));
        Ok(())
    }

    pub(super) fn state(&mut self, stack: &str) -> &mut StackState {
        self.entry.progress.stacks.entry(stack.to_string()).or_default()
    }

    pub(super) async fn fail(&mut self, stack: &str, cause: String, next: String) -> Result<Ended> {
        self.state(stack).state = "failed".into();
        self.entry.state = "failed".into();
        self.entry.progress.root_cause = Some(cause);
        self.entry.progress.next = Some(next);
        self.save().await?;
        Ok(Ended::Failed)
    }

    /// Applies every stack not yet done; returns the outputs of all of them.
    pub async fn run(&mut self) -> Result<Ended> {
        let mut outputs: BTreeMap<String, String> = BTreeMap::new();
        if self.entry.progress.started_at.is_none() {
            self.entry.progress.started_at = Some(journal::now());
        }
        self.entry.state = "applying".into();
        self.entry.progress.root_cause = None;
        self.entry.progress.next = None;
        self.save().await?;
        for sp in self.entry.plan.stacks.clone() {
            let st = self.state(&sp.stack).clone();
            let deleting = sp.action == "delete";
            if st.state == "done" || st.state == "unchanged" {
                if !deleting {
                    outputs.extend(self.outputs_of(&sp.name).await?);
                }
                continue;
            }
            let ended = match sp.action.as_str() {
                "none" => {
                    self.state(&sp.stack).state = "unchanged".into();
                    self.save().await?;
                    None
                }
                "update" => self.update(&sp).await?,
                "delete" => self.delete(&sp).await?,
                _ => self.create(&sp, &outputs).await?,
            };
            if let Some(ended) = ended {
                return Ok(ended);
            }
            if !deleting {
                outputs.extend(self.outputs_of(&sp.name).await?);
            }
        }
        Ok(Ended::Succeeded { outputs })
    }

    async fn outputs_of(&self, name: &str) -> Result<BTreeMap<String, String>> {
        Ok(self.cf.stack(name).await?.map(|s| s.outputs.into_iter().collect()).unwrap_or_default())
    }

    async fn update(&mut self, sp: &StackPlan) -> Result<Option<Ended>> {
        let change_set = sp.change_set.clone().expect("an update has its reviewed change set");
        if self.state(&sp.stack).state != "applying" {
            // Only what happens from here on is this apply's.
            let newest = self.cf.newest_event(&sp.name).await?;
            self.state(&sp.stack).last_event = newest;
            // An AWS failure here is not the stack's: the journal stays "applying" and a resume
            // finds out from the stack whether the change set ran.
            self.cf.execute_change_set(&sp.name, &change_set).await?;
            let st = self.state(&sp.stack);
            st.state = "applying".into();
            st.change_set = Some(change_set);
            self.save().await?;
        }
        self.follow(sp, false).await
    }

    async fn create(&mut self, sp: &StackPlan, outputs: &BTreeMap<String, String>) -> Result<Option<Ended>> {
        let template = self.templates.iter().find(|t| t.stack == sp.stack).expect("the plan's stacks are the bundle's");
        let existing = self.cf.stack(&sp.name).await?;
        let st = self.state(&sp.stack).clone();
        match (existing.as_ref().map(|s| s.status.as_str()), &st.change_set) {
            // Ours, already under way or done (Vigil stopped while it ran).
            (Some(s), Some(_)) if s != "REVIEW_IN_PROGRESS" && st.state == "applying" => return self.follow(sp, true).await,
            // Ours, made but perhaps not executed when Vigil stopped: that change set, not another.
            (Some("REVIEW_IN_PROGRESS"), Some(cs)) => {
                let info = plan::settled_change_set(&self.cf, &sp.name, cs, self.poll).await?;
                if info.execution_status == "AVAILABLE" {
                    self.cf.execute_change_set(&sp.name, cs).await?;
                }
                return self.follow(sp, true).await;
            }
            (Some("REVIEW_IN_PROGRESS") | None, _) => {}
            (Some(s), _) => {
                let s = s.to_string();
                return self.fail(&sp.stack, format!("{} appeared since the plan ({s})", sp.name), recovery(&sp.name, &s)).await.map(Some);
            }
        }
        let mut parameters = vec![];
        for (k, v) in &sp.parameters {
            let value = if v.starts_with("<from an earlier stack") {
                match outputs.get(k) {
                    Some(o) => o.clone(),
                    None => {
                        let msg = format!("{}: no earlier stack gave {k}", sp.name);
                        return self
                            .fail(&sp.stack, msg, "the bundle's stacks do not fit together; use the bundle as published".into())
                            .await
                            .map(Some);
                    }
                }
            } else {
                v.clone()
            };
            parameters.push((k.clone(), value));
        }
        let name = format!("vigil-{}", &self.entry.id[..8.min(self.entry.id.len())]);
        let tags = [("pj:environment".to_string(), self.entry.plan.platform_environment.clone())];
        let id = match self.cf.create_change_set(&sp.name, &name, ChangeKind::Create, &template.body, &parameters, &tags).await {
            Ok(id) => id,
            Err(e) => return self.fail(&sp.stack, format!("{}: {}", sp.name, e.message), e.hint.clone().unwrap_or_default()).await.map(Some),
        };
        let info = plan::settled_change_set(&self.cf, &sp.name, &id, self.poll).await?;
        if info.status != "CREATE_COMPLETE" {
            let why = info.reason.unwrap_or(info.status);
            return self
                .fail(&sp.stack, format!("CloudFormation could not plan {}: {why}", sp.name), "fix what it names, then plan again".into())
                .await
                .map(Some);
        }
        if let Some(other) = info.changes.iter().find(|c| c.action != "Add") {
            self.cf.delete_change_set(&sp.name, &id).await?;
            let msg = format!("the change set creating {} would {} {} — a create may only add", sp.name, other.action, other.logical_id);
            return self.fail(&sp.stack, msg, "plan again".into()).await.map(Some);
        }
        {
            let st = self.state(&sp.stack);
            st.change_set = Some(id.clone());
            st.state = "applying".into();
        }
        self.save().await?;
        self.cf.execute_change_set(&sp.name, &id).await?;
        self.follow(sp, true).await
    }

    /// Notes `events` (oldest first) against the stack's resources, and the stack's status.
    pub(super) fn record(&mut self, sp: &StackPlan, events: &[StackEvent], status: Option<String>) {
        let name = sp.name.clone();
        let st = self.state(&sp.stack);
        for e in events {
            st.last_event = Some(e.id.clone());
            if e.logical_id == name {
                continue;
            }
            let first = *st.first_seen_ms.entry(e.logical_id.clone()).or_insert(e.at_ms);
            st.resources.insert(
                e.logical_id.clone(),
                ResourceProgress {
                    logical_id: e.logical_id.clone(),
                    resource_type: e.resource_type.clone(),
                    status: e.status.clone(),
                    reason: e.reason.clone(),
                    elapsed_s: ((e.at_ms - first).max(0) / 1000) as u64,
                    typical_s: typical_seconds(&e.resource_type),
                },
            );
        }
        if status.is_some() {
            st.status = status;
        }
    }

    /// Follows the stack's events until it settles.
    async fn follow(&mut self, sp: &StackPlan, created: bool) -> Result<Option<Ended>> {
        loop {
            let Some(stack) = self.cf.stack(&sp.name).await? else {
                return self.fail(&sp.stack, format!("{} disappeared while it was being applied", sp.name), "plan again".into()).await.map(Some);
            };
            let last = self.state(&sp.stack).last_event.clone();
            let events = self.cf.events_after(&sp.name, last.as_deref()).await?;
            self.record(sp, &events, Some(stack.status.clone()));
            self.seen.extend(events);
            self.save().await?;
            if succeeded(&stack.status) {
                break;
            }
            if failed(&stack.status) {
                let cause = root_cause(&self.seen, &sp.name).or(stack.reason.clone()).unwrap_or_else(|| stack.status.clone());
                return self.fail(&sp.stack, format!("{}: {cause}", sp.name), recovery(&sp.name, &stack.status)).await.map(Some);
            }
            tokio::time::sleep(self.poll).await;
        }
        if created {
            self.cf.protect(&sp.name, true).await?;
            let template = self.templates.iter().find(|t| t.stack == sp.stack).expect("the plan's stacks are the bundle's");
            if let Some(policy) = stack_policy(template) {
                self.cf.set_stack_policy(&sp.name, &policy).await?;
            }
        }
        self.state(&sp.stack).state = "done".into();
        self.save().await?;
        Ok(None)
    }
}

/// Refuses to apply a teardown, or a plan with gates, not confirmed by typing the environment's
/// name.
pub fn check_confirmation(entry: &Entry, typed: Option<&str>) -> Result<()> {
    let teardown = entry.plan.kind == "teardown";
    if entry.plan.gates.is_empty() && !teardown {
        return Ok(());
    }
    if typed.map(str::trim) == Some(entry.plan.environment.as_str()) {
        return Ok(());
    }
    if teardown {
        let stacks = entry.plan.stacks.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(Error::Deploy {
            kind: "confirmation_required",
            message: format!("a teardown deletes {stacks}"),
            hint: format!("to go ahead, type the environment's name ({}) as the confirmation", entry.plan.environment),
        });
    }
    let list = entry.plan.gates.iter().map(|g| format!("{}/{}: {}", g.stack, g.logical_id, g.why)).collect::<Vec<_>>().join("; ");
    Err(Error::Deploy {
        kind: "confirmation_required",
        message: format!("this plan would replace or remove data: {list}"),
        hint: format!("read the plan; to go ahead anyway, type the environment's name ({}) as the confirmation", entry.plan.environment),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, logical: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            id: id.into(),
            logical_id: logical.into(),
            physical_id: None,
            resource_type: if logical == "pj-x-database" { "AWS::CloudFormation::Stack".into() } else { "AWS::RDS::DBInstance".into() },
            status: status.into(),
            reason: reason.map(str::to_string),
            at_ms: 0,
        }
    }

    #[test]
    fn the_root_cause_is_the_first_failure_not_the_cascade() {
        let events = vec![
            event("1", "pj-x-database", "CREATE_IN_PROGRESS", Some("User Initiated")),
            event("2", "Writer", "CREATE_IN_PROGRESS", None),
            event("3", "Reader1", "CREATE_FAILED", Some("Resource creation cancelled")),
            event("4", "Writer", "CREATE_FAILED", Some("DB instance class db.x9.huge is not supported in this region")),
            event("5", "pj-x-database", "ROLLBACK_IN_PROGRESS", Some("The following resource(s) failed to create: [Writer, Reader1].")),
            event("6", "Writer", "DELETE_COMPLETE", None),
        ];
        assert_eq!(
            root_cause(&events, "pj-x-database").unwrap(),
            "Writer (AWS::RDS::DBInstance): DB instance class db.x9.huge is not supported in this region"
        );
        assert_eq!(root_cause(&events[..3], "pj-x-database"), None);
    }

    #[test]
    fn stack_policies_protect_only_what_holds_data() {
        let body = std::fs::read_to_string(format!("{}/../../deploy-bundles/cloudformation/storage.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let t = Template::parse("storage", body).unwrap();
        let policy: serde_json::Value = serde_json::from_str(&stack_policy(&t).unwrap()).unwrap();
        let denied = policy["Statement"][1]["Resource"].as_array().unwrap();
        assert!(denied.iter().any(|r| r == "LogicalResourceId/DocumentsBucket"));
        assert!(denied.iter().any(|r| r == "LogicalResourceId/WorkQueue"));
        assert!(!denied.iter().any(|r| r.as_str().unwrap().contains("Policy")));
        let alarms = std::fs::read_to_string(format!("{}/../../deploy-bundles/cloudformation/alarms.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(stack_policy(&Template::parse("alarms", alarms).unwrap()), None);
    }

    #[test]
    fn settled_states_are_told_apart() {
        for s in ["CREATE_COMPLETE", "UPDATE_COMPLETE"] {
            assert!(succeeded(s) && !failed(s));
        }
        for s in ["ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"] {
            assert!(failed(s) && !succeeded(s));
        }
        assert!(!succeeded("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS") && !failed("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"));
    }
}

//! Guided recovery of a platform stack left where no plan can build on it: a stack whose create
//! failed (ROLLBACK_COMPLETE, ROLLBACK_FAILED, CREATE_FAILED) can only be deleted; a stack whose
//! update could not roll back (UPDATE_ROLLBACK_FAILED) has its rollback continued, skipping the
//! resources that failed to roll back (they keep their updated state, which CloudFormation then
//! takes as theirs). Either needs the stack's full name typed, is logged (`deploy.recover`) and
//! is followed until the stack settles, with the cause if it does not.

use super::plan::is_ours;
use super::templates::{stack_name, STACKS};
use super::Deploy;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use serde_json::json;
use vigil_aws::cloudformation::{CloudFormation, StackEvent};
use vigil_dto::deploy::StackRecovery;

/// What recovers a stack in `status`: delete (a failed create), continue_rollback, or nothing.
pub fn action_for(status: &str) -> Option<&'static str> {
    match status {
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => Some("delete"),
        "UPDATE_ROLLBACK_FAILED" => Some("continue_rollback"),
        _ => None,
    }
}

/// The resources that failed during the newest rollback of `stack` (events oldest first): the
/// ones a continued rollback must skip.
pub fn failed_to_roll_back(events: &[StackEvent], stack: &str) -> Vec<String> {
    let since = events.iter().rposition(|e| e.logical_id == stack && e.status == "UPDATE_ROLLBACK_IN_PROGRESS").map(|i| i + 1).unwrap_or(0);
    let mut out: Vec<String> =
        events[since..].iter().filter(|e| e.logical_id != stack && e.status == "UPDATE_FAILED").map(|e| e.logical_id.clone()).collect();
    out.sort();
    out.dedup();
    out
}

fn describe(r: &StackRecovery) -> String {
    match r.action.as_str() {
        "delete" => format!("delete {} (its create failed; what it made was rolled back)", r.name),
        "continue_rollback" if r.skip.is_empty() => format!("continue the rollback of {}", r.name),
        "continue_rollback" => format!("continue the rollback of {}, skipping {}", r.name, r.skip.join(", ")),
        _ => format!("{} is {}: nothing to recover", r.name, r.status),
    }
}

impl Deploy<'_> {
    /// The platform's stacks that need recovery before anything can be planned, each with what
    /// Vigil would do.
    pub async fn recoveries(&self, environment: &str) -> Result<Vec<StackRecovery>> {
        let env = self.environment(environment).await?;
        let platform = env.deployment.get("environment").cloned().unwrap_or_else(|| super::templates::platform_environment_of(&env.name));
        let ctx = self.aws_context(&env).await;
        let cf = CloudFormation::new(&ctx, &vigil_aws::new_op_id());
        let mut out = vec![];
        for stack in STACKS {
            let name = stack_name(&platform, stack);
            let Some(info) = cf.stack(&name).await? else { continue };
            if !is_ours(&info, &platform) {
                continue;
            }
            let Some(action) = action_for(&info.status) else { continue };
            let events = cf.events_after(&name, None).await?;
            let skip = if action == "continue_rollback" { failed_to_roll_back(&events, &name) } else { vec![] };
            let mut r = StackRecovery {
                stack: stack.to_string(),
                name: name.clone(),
                status: info.status.clone(),
                action: action.into(),
                skip,
                cause: super::apply::root_cause(&events, &name),
                what: String::new(),
            };
            r.what = describe(&r);
            out.push(r);
        }
        Ok(out)
    }

    /// Recovers `stack` (as `recoveries` names it) of `environment`; `confirm` must be the
    /// stack's full name. Returns the stack's recovery as it ended (status settled).
    pub async fn recover(&self, environment: &str, stack: &str, confirm: Option<&str>) -> Result<StackRecovery> {
        self.policy().require(Change::Deploy)?;
        let env = self.environment(environment).await?;
        self.refuse_if_busy(&env.name).await?;
        let pending = self.recoveries(&env.name).await?;
        let Some(mut r) = pending.into_iter().find(|r| r.stack == stack || r.name == stack) else {
            return Err(Error::Deploy {
                kind: "not_found",
                message: format!("no stack of {} named {stack} needs recovery", env.name),
                hint: "`vigil deploy status` shows where the deployment stands; a stack that settled can be planned over".into(),
            });
        };
        if confirm.map(str::trim) != Some(r.name.as_str()) {
            return Err(Error::Deploy {
                kind: "confirmation_required",
                message: format!("to {}, type the stack's name", describe(&r)),
                hint: format!("confirm with {}", r.name),
            });
        }
        let op = vigil_aws::new_op_id();
        let ctx = self.aws_context(&env).await;
        let cf = CloudFormation::new(&ctx, &op);
        let now = cf.stack(&r.name).await?;
        let protected = now.as_ref().is_some_and(|s| s.termination_protection);
        let id = now.map(|s| s.id).filter(|i| !i.is_empty()).unwrap_or_else(|| r.name.clone());
        if r.action == "delete" {
            // Termination protection would refuse the delete.
            if protected {
                cf.protect(&r.name, false).await?;
            }
            if let Err(e) = cf.delete_stack(&r.name, &[]).await {
                // Nothing half-done: the protection is put back as it was.
                if protected && cf.protect(&r.name, true).await.is_err() {
                    let hint = format!("{}; termination protection of {} is now off", e.hint.clone().unwrap_or_else(|| "try again".into()), r.name);
                    return Err(vigil_aws::AwsError { hint: Some(hint), ..e }.into());
                }
                return Err(e.into());
            }
        } else {
            cf.continue_update_rollback(&r.name, &r.skip).await?;
        }
        self.log(Record::new("deploy.recover", &env.name, json!({ "stack": r.name, "action": r.action, "skip": r.skip, "was": r.status })).op(&op))
            .await?;
        // Followed by id: a deleted stack is found by its id only.
        loop {
            let now = cf.stack(&id).await?;
            let status = now.as_ref().map(|s| s.status.clone()).unwrap_or_else(|| "DELETE_COMPLETE".into());
            if !status.ends_with("_IN_PROGRESS") {
                r.status = status;
                break;
            }
            tokio::time::sleep(self.poll()).await;
        }
        let settled = matches!(r.status.as_str(), "DELETE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE");
        r.cause = if settled { None } else { super::apply::root_cause(&cf.events_after(&id, None).await?, &r.name) };
        r.what = if settled { format!("{} is {}: plan again", r.name, r.status) } else { format!("{} is {}", r.name, r.status) };
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(logical: &str, status: &str) -> StackEvent {
        StackEvent {
            id: String::new(),
            logical_id: logical.into(),
            physical_id: None,
            resource_type: String::new(),
            status: status.into(),
            reason: None,
            at_ms: 0,
        }
    }

    #[test]
    fn a_failed_create_is_deleted_and_a_failed_rollback_continued_skipping_what_failed_in_it() {
        assert_eq!(action_for("ROLLBACK_COMPLETE"), Some("delete"));
        assert_eq!(action_for("UPDATE_ROLLBACK_FAILED"), Some("continue_rollback"));
        assert_eq!(action_for("UPDATE_COMPLETE"), None);
        let events = [
            ev("pj-x-cache", "UPDATE_IN_PROGRESS"),
            ev("Group", "UPDATE_FAILED"),
            ev("pj-x-cache", "UPDATE_ROLLBACK_IN_PROGRESS"),
            ev("Params", "UPDATE_FAILED"),
            ev("Group", "UPDATE_FAILED"),
            ev("Subnets", "UPDATE_COMPLETE"),
            ev("pj-x-cache", "UPDATE_ROLLBACK_FAILED"),
        ];
        // Only what failed during the rollback (Group's first failure caused it).
        assert_eq!(failed_to_roll_back(&events, "pj-x-cache"), ["Group", "Params"]);
        assert!(failed_to_roll_back(&events[..2], "pj-x-cache").contains(&"Group".to_string()));
    }
}

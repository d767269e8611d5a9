//! The plan: for each stack in order, what applying the bundle would do. A stack that exists
//! gets a change set (made now, reviewed, and later executed exactly as reviewed), with every
//! resource change and its property-level details; a stack that does not yet exist is a create
//! of the template's resources (its change set is made at apply time, once the stacks it
//! imports from exist, and may only add). Replacing or removing a resource that holds data is a
//! gate: applying needs the environment's name typed.

use super::bundle::Bundle;
use super::cost::{self, Tier};
use super::templates::{is_stateful, stack_name, Template};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::time::Duration;
use vigil_aws::cloudformation::{ChangeKind, ChangeSetInfo, CloudFormation, ResourceChange, StackInfo};
use vigil_dto::deploy::{CostEstimate, CostLine, Gate, PlannedChange, PropertyChange, StackPlan};

/// CloudFormation's reason for an update change set with nothing in it.
pub fn is_empty_change_set(info: &ChangeSetInfo) -> bool {
    info.status == "FAILED"
        && info.reason.as_deref().is_some_and(|r| r.contains("didn't contain changes") || r.contains("No updates are to be performed"))
}

/// Stack states a plan can build on; any other needs recovery first (see [`recovery`]).
pub fn is_settled(status: &str) -> bool {
    matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" | "IMPORT_COMPLETE" | "IMPORT_ROLLBACK_COMPLETE")
}

/// Whether a stack of the platform's name is the platform's: Vigil tags every stack it makes
/// with `pj:environment`.
pub fn is_ours(stack: &StackInfo, platform_env: &str) -> bool {
    stack.tags.iter().any(|(k, v)| k == "pj:environment" && v == platform_env)
}

/// A stack that only holds a change set never executed (a create Vigil stopped before running).
pub fn is_unborn(stack: &StackInfo) -> bool {
    stack.status == "REVIEW_IN_PROGRESS"
}

/// The refusal for a stack of the platform's name that someone else made.
pub fn name_in_use(name: &str) -> Error {
    Error::Deploy {
        kind: "name_in_use",
        message: format!("a stack named {name} exists that Vigil did not make (it has no pj:environment tag for this environment)"),
        hint: "choose another platform environment name, or remove that stack if it is a leftover".into(),
    }
}

/// What to do with a stack in `status` before anything can be deployed over it.
pub fn recovery(name: &str, status: &str) -> String {
    match status {
        s if s.ends_with("_IN_PROGRESS") => format!("{name} is busy ({s}); wait for it to finish (Vigil re-attaches to an apply it started), then plan again"),
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => {
            format!("{name} failed to create ({status}) and can only be deleted: Recover on the Deploy page or `vigil deploy recover --stack {name} --confirm {name}` deletes it, then plan again")
        }
        "UPDATE_ROLLBACK_FAILED" => format!(
            "{name} could not roll back an update: Recover on the Deploy page or `vigil deploy recover --stack {name} --confirm {name}` continues the rollback, skipping the resources that failed, then plan again"
        ),
        "DELETE_FAILED" => format!("{name} failed to delete; delete it in the CloudFormation console, keeping the resources its events name, then plan again"),
        s => format!("{name} is {s}; settle it in the CloudFormation console, then plan again"),
    }
}

/// Typed by the operator: the tier with the operator's edits, each edit a parameter the stack
/// has.
pub fn edited_tier(bundle: &Bundle, tier: &str, overrides: &BTreeMap<String, BTreeMap<String, String>>) -> Result<Tier> {
    let mut out = bundle.tier(tier)?.clone();
    for (stack, params) in overrides {
        let Some(t) = bundle.templates.iter().find(|t| &t.stack == stack) else {
            return Err(Error::validation("parameters", format!("the bundle has no stack {stack:?}")));
        };
        for (name, value) in params {
            if name == "Environment" || !t.parameters.iter().any(|p| &p.name == name) {
                return Err(Error::validation("parameters", format!("the {stack} stack has no parameter {name:?} that can be set")));
            }
            let value = value.trim();
            if value.is_empty() || value.len() > 256 || value.chars().any(char::is_control) {
                return Err(Error::validation("parameters", format!("{stack}.{name}: give a value (at most 256 printable characters)")));
            }
            out.parameters.entry(stack.clone()).or_default().insert(name.clone(), value.to_string());
        }
    }
    Ok(out)
}

/// The estimate of `tier` at `prices` (the Price List API's over the bundle's snapshot).
pub fn cost_of(prices: &cost::Prices, tier_name: &str, tier: &Tier) -> Result<CostEstimate> {
    let e = cost::estimate(tier_name, tier, prices)?;
    Ok(CostEstimate {
        tier: e.tier,
        currency: e.currency,
        prices_taken: e.prices_taken,
        source: e.source,
        notes: e.notes,
        lines: e.lines.into_iter().map(|l| CostLine { component: l.component.into(), item: l.item, monthly: l.monthly }).collect(),
        total: e.total,
    })
}

/// A resource change in the plan's words: add, modify, replace (Replacement True or
/// Conditional), remove.
pub fn planned(change: &ResourceChange) -> PlannedChange {
    let action = match (change.action.as_str(), change.replacement.as_deref()) {
        ("Modify", Some("True" | "Conditional")) => "replace".to_string(),
        (other, _) => other.to_ascii_lowercase(),
    };
    PlannedChange {
        action,
        logical_id: change.logical_id.clone(),
        resource_type: change.resource_type.clone(),
        physical_id: change.physical_id.clone(),
        stateful: is_stateful(&change.resource_type),
        properties: change
            .details
            .iter()
            .map(|d| PropertyChange {
                attribute: d.attribute.clone(),
                name: d.name.clone(),
                requires_recreation: d.requires_recreation.clone(),
                before: d.before.clone(),
                after: d.after.clone(),
                cause: d.cause.clone(),
            })
            .collect(),
    }
}

/// The gates of a stack's changes: data-holding resources replaced or removed.
pub fn gates(stack: &str, changes: &[PlannedChange]) -> Vec<Gate> {
    changes
        .iter()
        .filter(|c| c.stateful && (c.action == "replace" || c.action == "remove"))
        .map(|c| Gate {
            stack: stack.into(),
            logical_id: c.logical_id.clone(),
            resource_type: c.resource_type.clone(),
            action: c.action.clone(),
            why: if c.action == "remove" {
                format!("{} ({}) would be deleted with what it holds", c.logical_id, c.resource_type)
            } else {
                format!("{} ({}) would be replaced by a new, empty one", c.logical_id, c.resource_type)
            },
        })
        .collect()
}

/// The resources a create adds (conditional ones named with their condition).
pub fn creates(t: &Template) -> Vec<PlannedChange> {
    t.resources
        .iter()
        .map(|r| PlannedChange {
            action: "add".into(),
            logical_id: match &r.condition {
                Some(c) => format!("{} (if {c})", r.logical_id),
                None => r.logical_id.clone(),
            },
            resource_type: r.resource_type.clone(),
            physical_id: None,
            stateful: is_stateful(&r.resource_type),
            properties: vec![],
        })
        .collect()
}

/// Waits until CloudFormation has computed `change_set`.
pub async fn settled_change_set(cf: &CloudFormation, stack: &str, change_set: &str, poll: Duration) -> Result<ChangeSetInfo> {
    // A change set takes seconds; ten minutes means something is wrong at AWS.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        let info = cf.change_set(stack, change_set).await?;
        if !matches!(info.status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS") {
            return Ok(info);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(Error::Deploy {
                kind: "deploy_timeout",
                message: format!("CloudFormation has not finished computing the change set of {stack} after 10 minutes"),
                hint: "look at the stack in the CloudFormation console, then plan again".into(),
            });
        }
        tokio::time::sleep(poll).await;
    }
}

/// Plans one stack. `outputs` holds the outputs of the stacks before it that exist; `ready`
/// says whether all of those exist (a stack after a missing one cannot be planned as an update).
#[allow(clippy::too_many_arguments)]
pub async fn stack(
    cf: &CloudFormation,
    t: &Template,
    platform_env: &str,
    tier: &Tier,
    existing: Option<&StackInfo>,
    outputs: &BTreeMap<String, String>,
    change_set_name: &str,
    poll: Duration,
) -> Result<StackPlan> {
    let name = stack_name(platform_env, &t.stack);
    let tier_params = tier.parameters.get(&t.stack);
    if existing.is_some_and(|s| !is_ours(s, platform_env)) {
        return Err(name_in_use(&name));
    }
    let Some(existing) = existing.filter(|s| !is_unborn(s)) else {
        // Outputs of stacks not yet made are filled at apply time.
        let mut placeholders = outputs.clone();
        for p in t.parameters.iter().filter(|p| p.default.is_none()) {
            placeholders.entry(p.name.clone()).or_insert_with(|| format!("<from an earlier stack: {}>", p.name));
        }
        let parameters = t.fill(platform_env, tier_params, &placeholders).expect("every parameter has a value or a placeholder");
        return Ok(StackPlan { stack: t.stack.clone(), name, action: "create".into(), change_set: None, changes: creates(t), parameters });
    };
    if !is_settled(&existing.status) {
        return Err(Error::Deploy {
            kind: "stack_not_ready",
            message: format!("{name} is {}", existing.status),
            hint: recovery(&name, &existing.status),
        });
    }
    let parameters = t.fill(platform_env, tier_params, outputs).map_err(|missing| Error::Deploy {
        kind: "stack_order",
        message: format!("{name} exists, but its parameter {missing} comes from a stack before it that does not"),
        hint: "an earlier teardown stopped half-way: delete the platform's remaining stacks in the CloudFormation console, then deploy again".into(),
    })?;
    let list: Vec<(String, String)> = parameters.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let tags = [("pj:environment".to_string(), platform_env.to_string())];
    let none = || StackPlan {
        stack: t.stack.clone(),
        name: name.clone(),
        action: "none".into(),
        change_set: None,
        changes: vec![],
        parameters: parameters.clone(),
    };
    let id = match cf.create_change_set(&name, change_set_name, ChangeKind::Update, &t.body, &list, &tags).await {
        Ok(id) => id,
        // Some endpoints refuse an empty change set outright instead of making a FAILED one.
        Err(e) if e.kind == vigil_aws::Kind::Validation && e.message.contains("No updates are to be performed") => return Ok(none()),
        Err(e) => return Err(e.into()),
    };
    let info = settled_change_set(cf, &name, &id, poll).await?;
    if is_empty_change_set(&info) {
        // Nothing to do: the change set is removed so it cannot be executed by mistake.
        cf.delete_change_set(&name, &id).await?;
        return Ok(none());
    }
    if info.status != "CREATE_COMPLETE" {
        return Err(Error::Deploy {
            kind: "change_set_failed",
            message: format!("CloudFormation could not plan {name}: {}", info.reason.unwrap_or_else(|| info.status.clone())),
            hint: "the reason above names the template or parameter at fault; fix the parameter, or use a bundle that works".into(),
        });
    }
    let changes = info.changes.iter().map(planned).collect();
    Ok(StackPlan { stack: t.stack.clone(), name, action: "update".into(), change_set: Some(info.id), changes, parameters })
}

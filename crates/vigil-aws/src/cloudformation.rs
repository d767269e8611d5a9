//! CloudFormation: the platform's stacks — read a stack, plan a change set and read its
//! changes, execute exactly that change set, follow a stack's events, protect a stack
//! (termination protection, stack policy), recover a failed update, delete.

use crate::error::AwsError;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, Tag};

/// A stack as Vigil reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StackInfo {
    pub id: String,
    pub name: String,
    /// CREATE_COMPLETE, UPDATE_ROLLBACK_FAILED, …
    pub status: String,
    pub reason: Option<String>,
    pub outputs: Vec<(String, String)>,
    pub parameters: Vec<(String, String)>,
    pub termination_protection: bool,
    pub tags: Vec<(String, String)>,
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// Add, Modify, Remove, Import, Dynamic.
    pub action: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    /// True, False or Conditional (Modify only).
    pub replacement: Option<String>,
    pub details: Vec<ChangeDetail>,
}

/// What changes in a resource: a property (with before/after where CloudFormation gives them),
/// a tag, a metadata entry…
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeDetail {
    /// Properties, Tags, Metadata, …
    pub attribute: String,
    pub name: Option<String>,
    /// Always, Conditionally, Never.
    pub requires_recreation: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    /// What caused it: a parameter, another resource, a direct template change…
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSetInfo {
    pub id: String,
    /// CREATE_PENDING, CREATE_IN_PROGRESS, CREATE_COMPLETE, FAILED…
    pub status: String,
    pub reason: Option<String>,
    /// AVAILABLE once it can be executed.
    pub execution_status: String,
    pub changes: Vec<ResourceChange>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    /// Unix milliseconds.
    pub at_ms: i64,
}

/// What a change set is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Update,
}

service_client!(
    /// CloudFormation for one operation of one environment.
    CloudFormation,
    aws_sdk_cloudformation
);

type SdkError<E> = aws_sdk_cloudformation::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>;

/// CloudFormation's answer for a stack that is not there.
fn is_missing_stack<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    e.as_service_error().is_some_and(|s| s.code() == Some("ValidationError") && s.message().is_some_and(|m| m.contains("does not exist")))
}

impl CloudFormation {
    async fn fail<E>(&self, action: &str, e: SdkError<E>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        crate::error::classify(&self.ctx, "cloudformation", action, &e).await
    }

    /// The stack named `name`, or None when there is none.
    pub async fn stack(&self, name: &str) -> Result<Option<StackInfo>, AwsError> {
        let out = match self.client.describe_stacks().stack_name(name).send().await {
            Ok(out) => out,
            Err(e) if is_missing_stack(&e) => return Ok(None),
            Err(e) => return Err(self.fail("DescribeStacks", e).await),
        };
        Ok(out.stacks().first().map(|s| StackInfo {
            id: s.stack_id().unwrap_or_default().to_string(),
            name: s.stack_name().unwrap_or_default().to_string(),
            status: s.stack_status().map(|x| x.as_str().to_string()).unwrap_or_default(),
            reason: s.stack_status_reason().map(str::to_string),
            outputs: s
                .outputs()
                .iter()
                .map(|o| (o.output_key().unwrap_or_default().to_string(), o.output_value().unwrap_or_default().to_string()))
                .collect(),
            parameters: s
                .parameters()
                .iter()
                .map(|p| (p.parameter_key().unwrap_or_default().to_string(), p.parameter_value().unwrap_or_default().to_string()))
                .collect(),
            termination_protection: s.enable_termination_protection().unwrap_or(false),
            tags: s.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect(),
        }))
    }

    /// Starts a change set of `template` with every parameter given (never "use previous").
    pub async fn create_change_set(
        &self,
        stack: &str,
        change_set: &str,
        kind: ChangeKind,
        template: &str,
        parameters: &[(String, String)],
        tags: &[(String, String)],
    ) -> Result<String, AwsError> {
        let params = parameters.iter().map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build()).collect();
        let tags: Vec<Tag> = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        let kind = match kind {
            ChangeKind::Create => ChangeSetType::Create,
            ChangeKind::Update => ChangeSetType::Update,
        };
        let out = self
            .client
            .create_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .change_set_type(kind)
            .template_body(template)
            .set_parameters(Some(params))
            .set_tags(Some(tags))
            .capabilities(Capability::CapabilityNamedIam)
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.id().unwrap_or(change_set).to_string()),
            Err(e) => Err(self.fail("CreateChangeSet", e).await),
        }
    }

    /// A change set with all its changes (every page).
    pub async fn change_set(&self, stack: &str, change_set: &str) -> Result<ChangeSetInfo, AwsError> {
        let mut info: Option<ChangeSetInfo> = None;
        let mut token = None;
        loop {
            let out = match self.client.describe_change_set().stack_name(stack).change_set_name(change_set).set_next_token(token).send().await {
                Ok(out) => out,
                Err(e) => return Err(self.fail("DescribeChangeSet", e).await),
            };
            let entry = info.get_or_insert_with(|| ChangeSetInfo {
                id: out.change_set_id().unwrap_or(change_set).to_string(),
                status: out.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                reason: out.status_reason().map(str::to_string),
                execution_status: out.execution_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                changes: vec![],
            });
            for change in out.changes() {
                let Some(rc) = change.resource_change() else { continue };
                entry.changes.push(ResourceChange {
                    action: rc.action().map(|a| a.as_str().to_string()).unwrap_or_default(),
                    logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: rc.physical_resource_id().map(str::to_string),
                    resource_type: rc.resource_type().unwrap_or_default().to_string(),
                    replacement: rc.replacement().map(|r| r.as_str().to_string()),
                    details: rc
                        .details()
                        .iter()
                        .map(|d| {
                            let target = d.target();
                            ChangeDetail {
                                attribute: target.and_then(|t| t.attribute()).map(|a| a.as_str().to_string()).unwrap_or_default(),
                                name: target.and_then(|t| t.name()).map(str::to_string),
                                requires_recreation: target.and_then(|t| t.requires_recreation()).map(|r| r.as_str().to_string()),
                                before: target.and_then(|t| t.before_value()).map(str::to_string),
                                after: target.and_then(|t| t.after_value()).map(str::to_string),
                                cause: d.causing_entity().map(str::to_string).or_else(|| d.change_source().map(|c| c.as_str().to_string())),
                            }
                        })
                        .collect(),
                });
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(info.expect("one page at least"))
    }

    pub async fn execute_change_set(&self, stack: &str, change_set: &str) -> Result<(), AwsError> {
        match self.client.execute_change_set().stack_name(stack).change_set_name(change_set).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail("ExecuteChangeSet", e).await),
        }
    }

    pub async fn delete_change_set(&self, stack: &str, change_set: &str) -> Result<(), AwsError> {
        match self.client.delete_change_set().stack_name(stack).change_set_name(change_set).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail("DeleteChangeSet", e).await),
        }
    }

    /// The stack's events newer than `after` (an event id), oldest first; all of them when
    /// `after` is None. Reads pages only until it meets `after`.
    pub async fn events_after(&self, stack: &str, after: Option<&str>) -> Result<Vec<StackEvent>, AwsError> {
        let mut out_events = vec![];
        let mut token = None;
        'pages: loop {
            let out = match self.client.describe_stack_events().stack_name(stack).set_next_token(token).send().await {
                Ok(out) => out,
                // A stack deleted by name has no events any more (by its id it keeps them).
                Err(e) if is_missing_stack(&e) => break,
                Err(e) => return Err(self.fail("DescribeStackEvents", e).await),
            };
            for e in out.stack_events() {
                let id = e.event_id().unwrap_or_default();
                if Some(id) == after {
                    break 'pages;
                }
                out_events.push(StackEvent {
                    id: id.to_string(),
                    logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: e.physical_resource_id().map(str::to_string),
                    resource_type: e.resource_type().unwrap_or_default().to_string(),
                    status: e.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    reason: e.resource_status_reason().map(str::to_string),
                    at_ms: e.timestamp().and_then(|t| t.to_millis().ok()).unwrap_or_default(),
                });
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        out_events.reverse();
        Ok(out_events)
    }

    /// The id of the stack's newest event (events after it belong to what happens next).
    pub async fn newest_event(&self, stack: &str) -> Result<Option<String>, AwsError> {
        match self.client.describe_stack_events().stack_name(stack).send().await {
            Ok(out) => Ok(out.stack_events().first().and_then(|e| e.event_id()).map(str::to_string)),
            Err(e) => Err(self.fail("DescribeStackEvents", e).await),
        }
    }

    /// The template the stack runs now, as it was given.
    pub async fn template(&self, stack: &str) -> Result<String, AwsError> {
        match self.client.get_template().stack_name(stack).template_stage(aws_sdk_cloudformation::types::TemplateStage::Original).send().await {
            Ok(out) => Ok(out.template_body().unwrap_or_default().to_string()),
            Err(e) => Err(self.fail("GetTemplate", e).await),
        }
    }

    /// The stack's resources: (logical id, physical id, type).
    pub async fn resources(&self, stack: &str) -> Result<Vec<(String, Option<String>, String)>, AwsError> {
        let mut out = vec![];
        let mut pages = self.client.list_stack_resources().stack_name(stack).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(self.fail("ListStackResources", e).await),
            };
            for r in page.stack_resource_summaries() {
                out.push((
                    r.logical_resource_id().unwrap_or_default().to_string(),
                    r.physical_resource_id().map(str::to_string),
                    r.resource_type().unwrap_or_default().to_string(),
                ));
            }
        }
        Ok(out)
    }

    /// Termination protection on (or off, before a teardown).
    pub async fn protect(&self, stack: &str, on: bool) -> Result<(), AwsError> {
        match self.client.update_termination_protection().stack_name(stack).enable_termination_protection(on).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail("UpdateTerminationProtection", e).await),
        }
    }

    pub async fn set_stack_policy(&self, stack: &str, policy: &str) -> Result<(), AwsError> {
        match self.client.set_stack_policy().stack_name(stack).stack_policy_body(policy).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail("SetStackPolicy", e).await),
        }
    }

    /// After UPDATE_ROLLBACK_FAILED: roll back again, skipping the resources that cannot be.
    pub async fn continue_update_rollback(&self, stack: &str, skip: &[String]) -> Result<(), AwsError> {
        match self.client.continue_update_rollback().stack_name(stack).set_resources_to_skip(Some(skip.to_vec())).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail("ContinueUpdateRollback", e).await),
        }
    }

    /// Deletes the stack, keeping the resources named in `retain` (only for a stack whose
    /// deletion failed).
    pub async fn delete_stack(&self, stack: &str, retain: &[String]) -> Result<(), AwsError> {
        let retain = (!retain.is_empty()).then(|| retain.to_vec());
        match self.client.delete_stack().stack_name(stack).set_retain_resources(retain).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.fail("DeleteStack", e).await),
        }
    }
}

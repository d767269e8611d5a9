//! The bundle's CloudFormation templates as the deploy flow reads them: each stack's
//! parameters and resources (read with a YAML parser that keeps CloudFormation's `!Tags`), the
//! order the stacks deploy in, how a stack's parameters are filled, and which resources hold
//! data.

use crate::error::{Error, Result};
use serde_norway::Value;
use std::collections::BTreeMap;

/// The stacks, in the order they deploy (each imports from those before it).
pub const STACKS: [&str; 9] = ["security", "network", "storage", "database", "cache", "cluster", "observability", "backup", "alarms"];

/// Resource types that hold data: replacing or removing one loses it (or, for a key, the data
/// it encrypts), so a plan that would do so needs typed confirmation.
pub const STATEFUL: [&str; 9] = [
    "AWS::RDS::DBCluster",
    "AWS::RDS::GlobalCluster",
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::Backup::BackupVault",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
    "AWS::EKS::Cluster",
];

pub fn is_stateful(resource_type: &str) -> bool {
    STATEFUL.contains(&resource_type)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub logical_id: String,
    pub resource_type: String,
    /// Created only when this condition holds.
    pub condition: Option<String>,
    /// Retain or Snapshot: what deleting the stack leaves (Delete when None).
    pub deletion_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub stack: String,
    pub body: String,
    pub parameters: Vec<Parameter>,
    pub resources: Vec<Resource>,
    pub outputs: Vec<String>,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn keys(doc: &Value, section: &str) -> Vec<(String, Value)> {
    doc.get(section)
        .and_then(Value::as_mapping)
        .map(|m| m.iter().filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v.clone()))).collect())
        .unwrap_or_default()
}

impl Template {
    /// Reads `body`, the template of `stack`.
    pub fn parse(stack: &str, body: String) -> Result<Template> {
        let doc: Value = serde_norway::from_str(&body).map_err(|e| {
            let at = e.location().map(|l| format!(" at line {}, column {}", l.line(), l.column())).unwrap_or_default();
            Error::validation("template", format!("cloudformation/{stack}.yaml{at}: {e}"))
        })?;
        let parameters =
            keys(&doc, "Parameters").into_iter().map(|(name, v)| Parameter { name, default: v.get("Default").and_then(scalar) }).collect();
        let resources = keys(&doc, "Resources")
            .into_iter()
            .map(|(logical_id, v)| Resource {
                logical_id,
                resource_type: v.get("Type").and_then(Value::as_str).unwrap_or_default().to_string(),
                condition: v.get("Condition").and_then(Value::as_str).map(str::to_string),
                deletion_policy: v.get("DeletionPolicy").and_then(Value::as_str).filter(|p| *p != "Delete").map(str::to_string),
            })
            .collect::<Vec<_>>();
        if resources.is_empty() || resources.iter().any(|r| !r.resource_type.starts_with("AWS::")) {
            return Err(Error::validation("template", format!("cloudformation/{stack}.yaml has no resources, or one without an AWS:: type")));
        }
        let outputs = keys(&doc, "Outputs").into_iter().map(|(k, _)| k).collect();
        Ok(Template { stack: stack.into(), body, parameters, resources, outputs })
    }

    /// Every parameter's value: `Environment`, then the tier's (with the operator's edits), then
    /// the outputs of the stacks before this one for the parameters named like them. A required
    /// parameter left without a value is an error naming it.
    pub fn fill(
        &self,
        environment: &str,
        tier: Option<&BTreeMap<String, String>>,
        outputs: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        for p in &self.parameters {
            let value = if p.name == "Environment" {
                Some(environment.to_string())
            } else if let Some(v) = tier.and_then(|t| t.get(&p.name)) {
                Some(v.clone())
            } else if let Some(v) = outputs.get(&p.name) {
                Some(v.clone())
            } else {
                p.default.clone()
            };
            match value {
                Some(v) => {
                    out.insert(p.name.clone(), v);
                }
                None => return Err(p.name.clone()),
            }
        }
        Ok(out)
    }
}

/// The name of `stack`'s CloudFormation stack for the platform environment `environment`.
pub fn stack_name(environment: &str, stack: &str) -> String {
    format!("pj-{environment}-{stack}")
}

/// A platform environment name: it goes into every stack and resource name (`pj-<name>-…`,
/// buckets included), so lowercase letters, digits and hyphens, starting with a letter, 2–20.
pub fn check_platform_environment(name: &str) -> Result<()> {
    let ok = (2..=20).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "platform environment",
            format!("{name:?} cannot name the platform's stacks and buckets: use 2–20 lowercase letters, digits and single hyphens, starting with a letter (e.g. \"prod\", \"eu-test\")"),
        ))
    }
}

/// The platform environment name derived from a console environment's name ("EU Prod" →
/// "eu-prod").
pub fn platform_environment_of(console_name: &str) -> String {
    let mut out = String::new();
    for c in console_name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_end_matches('-').chars().take(20).collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle_template(stack: &str) -> Template {
        let body = std::fs::read_to_string(format!("{}/../../deploy-bundles/cloudformation/{stack}.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
        Template::parse(stack, body).unwrap()
    }

    #[test]
    fn every_stack_of_the_bundle_reads_with_its_parameters_resources_and_outputs() {
        for stack in STACKS {
            let t = bundle_template(stack);
            assert!(t.parameters.iter().any(|p| p.name == "Environment"), "{stack}");
            assert!(!t.resources.is_empty(), "{stack}");
        }
        let db = bundle_template("database");
        assert!(db.resources.iter().any(|r| r.logical_id == "Cluster" && r.resource_type == "AWS::RDS::DBCluster"));
        assert_eq!(db.resources.iter().find(|r| r.logical_id == "Reader2").unwrap().condition.as_deref(), Some("SecondReader"));
        assert_eq!(db.parameters.iter().find(|p| p.name == "Readers").unwrap().default.as_deref(), Some("1"));
        assert!(db.outputs.contains(&"ClusterIdentifier".to_string()));
    }

    #[test]
    fn every_parameter_is_filled_from_the_tier_then_earlier_outputs_then_defaults() {
        let alarms = bundle_template("alarms");
        let mut outputs = BTreeMap::new();
        let missing = alarms.fill("prod", None, &outputs).unwrap_err();
        assert_eq!(missing, "ClusterName");
        // Every required parameter of every stack is an output of a stack before it.
        let mut produced: Vec<String> = vec![];
        for stack in STACKS {
            let t = bundle_template(stack);
            for p in t.parameters.iter().filter(|p| p.default.is_none() && p.name != "Environment") {
                assert!(produced.contains(&p.name), "{stack}.{} is not an output of an earlier stack", p.name);
            }
            produced.extend(t.outputs.clone());
        }
        for name in &produced {
            outputs.insert(name.clone(), format!("<{name}>"));
        }
        let tier = BTreeMap::from([("ClusterName".to_string(), "given".to_string())]);
        let filled = alarms.fill("prod", Some(&tier), &outputs).unwrap();
        assert_eq!(filled["Environment"], "prod");
        assert_eq!(filled["ClusterName"], "given");
        assert_eq!(filled["VaultName"], "<VaultName>");
    }

    #[test]
    fn platform_environment_names_are_checked_and_derived() {
        assert_eq!(platform_environment_of("EU Prod"), "eu-prod");
        assert_eq!(platform_environment_of("  sandbox "), "sandbox");
        assert_eq!(platform_environment_of("a very long environment name indeed"), "a-very-long-environm");
        check_platform_environment("eu-prod").unwrap();
        for bad in ["", "x", "Prod", "1prod", "prod-", "a--b", "prod_1", "a-very-long-environment"] {
            assert!(check_platform_environment(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_broken_template_says_where() {
        let e = Template::parse("network", "Resources:\n  A: [\n".into()).unwrap_err();
        assert!(e.to_string().contains("cloudformation/network.yaml at line"), "{e}");
        assert!(Template::parse("network", "Parameters: {}\n".into()).is_err());
    }
}

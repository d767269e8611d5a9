//! The platform's DR runbooks as data.
//!
//! A runbook is a TOML file in the bundle's `runbooks/` directory (signed with the bundle). It
//! names its parameters and its steps; each step has a kind — an AWS `action`, a `wait`, an
//! operator `approval` with typed confirmation, or a nested `runbook` — and may have prechecks,
//! a wait-until condition with its timeout, verifications and a rollback, all drawn from the
//! closed vocabulary in [`catalog`]. [`parse`] reads one file and refuses a bad one with every
//! problem's line, column and field; [`RunbookSet`] reads a directory, checks nested runbooks and
//! generates each failback from its forward definition. Nothing here calls AWS: Vigil's engine
//! runs what this describes.

pub mod catalog;
mod parse;
mod set;
pub mod template;

pub use parse::parse;
pub use set::RunbookSet;
pub use template::{Ref, Template};

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The runbook format this code reads.
pub const FORMAT: u32 = 1;

/// Whether running the runbook can lose data, and so whether a drill measures RPO from the
/// replication lag or the restore point (`bounded`) or expects none (`none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataLoss {
    None,
    Bounded,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub id: String,
    pub version: String,
    pub title: String,
    pub summary: String,
    pub data_loss: DataLoss,
    pub params: Vec<Param>,
    pub steps: Vec<Step>,
    pub failback: Option<Failback>,
    /// For a generated failback: the runbook it reverses.
    pub failback_of: Option<String>,
    /// The file the runbook was read from, and its SHA-256 (what a drill report names).
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub summary: String,
    /// None: the operator must give it.
    pub default: Option<Template>,
    /// A failback's parameter: its value comes from the forward run (its parameters and outputs).
    pub from_forward: Option<Template>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub kind: StepKind,
    pub precheck: Vec<Call>,
    pub wait: Option<Wait>,
    pub verify: Vec<Call>,
    pub rollback: Option<Call>,
    /// How long the step typically takes, for the expected RTO (a nested runbook's is its own).
    pub typical: Duration,
    /// Line of the step's `[[steps]]` header in its file.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    Action(Call),
    /// Only the step's `wait`.
    Wait,
    /// The operator types `confirm`'s value to go on.
    Approval {
        prompt: String,
        confirm: Template,
    },
    Runbook {
        id: String,
        params: BTreeMap<String, Template>,
    },
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Action(_) => "action",
            StepKind::Wait => "wait",
            StepKind::Approval { .. } => "approval",
            StepKind::Runbook { .. } => "runbook",
        }
    }
}

/// An action or a check with its arguments (validated against the catalog).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub args: BTreeMap<String, Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(Template),
    Bool(bool),
    Count(u64),
    Duration(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    pub until: Call,
    pub timeout: Duration,
    /// How often the condition is polled.
    pub every: Duration,
}

/// How the failback is generated from this runbook: the steps kept (in the same order) and the
/// parameters' values, from the forward run's parameters and outputs; or, where undoing takes
/// another procedure (a data-losing failover is undone by a planned switchover), the runbook it
/// runs and that runbook's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Failback {
    pub title: String,
    pub steps: Vec<String>,
    pub runbook: Option<String>,
    pub params: BTreeMap<String, Template>,
    pub line: usize,
}

impl Runbook {
    /// Whether any step (not counting nested runbooks) changes anything.
    pub fn mutates(&self) -> bool {
        self.steps.iter().any(|s| matches!(&s.kind, StepKind::Action(c) if catalog::action(&c.name).is_some_and(|a| a.mutates)))
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Every call a step makes: precheck, action, wait, verifications, rollback.
    pub fn calls(&self) -> impl Iterator<Item = (&Step, &Call)> {
        self.steps.iter().flat_map(|s| {
            let action = match &s.kind {
                StepKind::Action(c) => Some(c),
                _ => None,
            };
            s.precheck
                .iter()
                .chain(action)
                .chain(s.wait.as_ref().map(|w| &w.until))
                .chain(s.verify.iter())
                .chain(s.rollback.as_ref())
                .map(move |c| (s, c))
        })
    }
}

/// One problem in a runbook: where (file, line, column, field) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunbookError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The field at fault, as a path (`steps[2].wait.timeout`); empty when it is the file.
    pub field: String,
    pub message: String,
}

impl fmt::Display for RunbookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", self.message)
    }
}

/// Every problem found in a runbook or a set of them, in file and line order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Errors(pub Vec<RunbookError>);

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

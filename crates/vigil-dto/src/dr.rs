//! DR runbooks as the DR page and `vigil dr …` show them: the bundle's runbooks with their steps
//! and expected time, and who holds the environment's DR lease.

use serde::{Deserialize, Serialize};

/// A runbook of the bundle (a generated failback too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookView {
    pub id: String,
    pub version: String,
    pub title: String,
    pub summary: String,
    /// "none", or "bounded": a run can lose the data written within the measured RPO.
    pub data_loss: String,
    /// The runbook a generated failback undoes.
    pub failback_of: Option<String>,
    /// The failback generated from this runbook.
    pub failback: Option<String>,
    /// The sum of every step's typical time, nested runbooks included (the expected RTO).
    pub expected_secs: u64,
    pub params: Vec<RunbookParam>,
    pub steps: Vec<RunbookStepView>,
    /// The IAM actions a run calls (nested runbooks included): a dry run simulates them.
    pub iam_actions: Vec<String>,
    /// The file in the bundle and its SHA-256.
    pub file: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookParam {
    pub name: String,
    pub summary: String,
    /// Its default as written (`${env.region}`), None when the operator must give it.
    pub default: Option<String>,
    /// A failback's parameter: where its value comes from in the forward run.
    pub from_forward: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunbookStepView {
    pub id: String,
    pub title: String,
    /// action, wait, approval, runbook.
    pub kind: String,
    /// What it does: the action or the wait's condition, or the nested runbook.
    pub does: String,
    pub typical_secs: u64,
    /// Whether it changes the platform, and whether a second person's approval applies to it.
    pub mutates: bool,
    pub destructive: bool,
    pub prechecks: Vec<String>,
    pub verifications: Vec<String>,
    pub rollback: Option<String>,
}

/// Who holds an environment's DR lease (an object in the platform's account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseView {
    pub environment: String,
    /// Where it is kept: s3://bucket/key.
    pub location: String,
    /// The console holding it: its operator and machine.
    pub holder: String,
    pub console: String,
    pub run_id: String,
    pub runbook: String,
    pub acquired_at: String,
    pub renewed_at: String,
    pub expires_at: String,
    /// Past its expiry without renewal: the console that held it stopped. Only a stale lease
    /// can be broken, with the environment's name typed.
    pub stale: bool,
}

/// What starting a run asks for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunRequest {
    pub runbook: String,
    /// The operator's parameters (the rest take their defaults, or the forward run's values).
    #[serde(default)]
    pub params: std::collections::BTreeMap<String, String>,
    /// A drill: measured against RTO and RPO and reported. Whether it runs against a drill
    /// target or the real platform is the environment's: the run says which.
    #[serde(default)]
    pub drill: bool,
}

/// A check as it was evaluated: before a step (precheck), while waiting, or after (verify).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRun {
    /// precheck, wait, verify, iam.
    pub phase: String,
    /// The check with its arguments rendered: `rds.cluster_available(cluster=pj-prod-db)`.
    pub check: String,
    pub ok: bool,
    pub detail: String,
    /// What to do when it fails.
    pub fix: Option<String>,
    pub at_ms: i64,
}

/// One step of a run (a nested runbook's steps are `<step>/<its step>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRun {
    pub path: String,
    pub title: String,
    pub kind: String,
    /// pending, prechecking, acting, waiting, verifying, awaiting_approval, done, failed.
    pub state: String,
    pub started_ms: Option<i64>,
    /// When its action was sent (the journal holds it before the call).
    pub acting_ms: Option<i64>,
    /// When its wait began (its timeout counts from here, across a resume).
    pub wait_since_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    /// What the step recorded before acting (what an action checks its effect against).
    #[serde(default)]
    pub before: std::collections::BTreeMap<String, String>,
    /// What it recorded for later steps (a nested runbook step: its parameters).
    #[serde(default)]
    pub outputs: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub checks: Vec<CheckRun>,
    /// The operation id of its AWS requests (CloudTrail's userAgent carries it).
    pub op_id: Option<String>,
    /// Who confirmed an approval step, and what they typed.
    pub confirmed_by: Option<String>,
    pub error: Option<String>,
    /// Whether its action was found already done on resume (not sent twice).
    #[serde(default)]
    pub found_done: bool,
}

/// An approval a run waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Awaiting {
    pub step: String,
    pub prompt: String,
    /// The text to type.
    pub confirm: String,
    /// A second person's approval (four eyes): the one-time code they were given is typed.
    #[serde(default)]
    pub second: bool,
}

/// A second person's approval of a destructive step, given on another console or the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondApproval {
    pub run: String,
    pub step: String,
    /// What is approved, as the run asked for it.
    pub action: String,
    pub requested_by: String,
    /// The one-time code to give the operator who runs the runbook.
    pub code: String,
}

/// A run of a runbook: the journal, and the drill's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub id: String,
    pub environment: String,
    pub runbook: String,
    pub title: String,
    pub version: String,
    pub sha256: String,
    pub bundle_version: String,
    pub drill: bool,
    /// running, awaiting_approval, paused, succeeded, failed.
    pub state: String,
    pub params: std::collections::BTreeMap<String, String>,
    pub steps: Vec<StepRun>,
    pub awaiting: Option<Awaiting>,
    /// Why the run stopped where it stands (a fault, a failed precheck), and what to do.
    pub paused: Option<String>,
    pub operator: String,
    pub lease: String,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub expected_secs: u64,
    /// Start to the platform healthy again (a run that succeeded).
    pub rto_ms: Option<i64>,
    /// The data-loss window measured (the replication lag, the restore point's age); 0 when
    /// the runbook loses none.
    pub rpo_ms: Option<i64>,
    /// The runbook a failback undoes, and the forward run its values came from.
    pub forward_run: Option<String>,
    /// What the run acts on, said plainly (the sandbox, or the real platform of an environment).
    #[serde(default)]
    pub target: String,
}

/// A drill report written to a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillReportFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub run: String,
    /// Whether the measured RTO and RPO met the platform's targets (None: not measured).
    pub rto_met: Option<bool>,
    pub rpo_met: Option<bool>,
}

/// A dry run: every precheck evaluated against the live account, each action's IAM permission
/// simulated, and the expected time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRunView {
    pub environment: String,
    /// What a run would act on, said plainly.
    pub target: String,
    pub runbook: String,
    pub params: std::collections::BTreeMap<String, String>,
    pub checks: Vec<DryRunCheck>,
    pub expected_secs: u64,
    /// Whether every check passed.
    pub ready: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRunCheck {
    /// The step it belongs to (empty for the run's own: IAM, parameters).
    pub step: String,
    #[serde(flatten)]
    pub check: CheckRun,
}

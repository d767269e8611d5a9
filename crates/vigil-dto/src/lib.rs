//! Data shapes that cross the boundary between the Leptos ui (wasm32) and the desktop shell.
//!
//! Only serde lives here, so the ui can depend on it without pulling in the domain crates.
//! `vigil-core` uses these types as its public model; the shell passes them through unchanged.

use serde::{Deserialize, Serialize};

pub mod backup;
pub mod deploy;
pub mod dr;
pub mod eks;
pub mod units;
pub mod update;

/// Where an environment's AWS credentials come from. Vigil never stores credentials itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credentials {
    /// The SDK's default provider chain (environment variables, default profile, SSO, IMDS...).
    DefaultChain,
    /// A named profile from the standard AWS config and credentials files.
    Profile { name: String },
    /// Fixed dummy keys for a local AWS emulator; only accepted with a loopback endpoint.
    Emulator,
}

impl Credentials {
    /// A short human label: "profile prod-admin", "default chain", "local emulator".
    pub fn label(&self) -> String {
        match self {
            Credentials::DefaultChain => "default chain".into(),
            Credentials::Profile { name } => format!("profile {name}"),
            Credentials::Emulator => "local emulator".into(),
        }
    }
}

/// A saved target: one AWS account + region (+ optional endpoint) the console talks to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    pub id: i64,
    pub name: String,
    pub credentials: Credentials,
    pub region: String,
    pub endpoint_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Whether this is the environment the whole app currently works on.
    pub current: bool,
    /// What the platform's deployment is called here (metric catalog parameter → value, e.g.
    /// `cluster_name` → `pj-prod`); charts need these to find their metrics.
    #[serde(default)]
    pub deployment: std::collections::BTreeMap<String, String>,
    /// Where the platform's database is (for the audit inspector and job failures).
    #[serde(default)]
    pub platform_db: Option<PlatformDb>,
}

impl Environment {
    /// The environment as an input again (for edits, undo and operator-log details).
    pub fn to_input(&self) -> EnvironmentInput {
        EnvironmentInput {
            name: self.name.clone(),
            credentials: self.credentials.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            deployment: self.deployment.clone(),
            platform_db: self.platform_db.clone(),
        }
    }
}

/// What the user types to add or edit an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentInput {
    pub name: String,
    pub credentials: Credentials,
    pub region: String,
    pub endpoint_url: Option<String>,
    /// Deployment parameters (see [`Environment::deployment`]); an empty value removes one.
    #[serde(default)]
    pub deployment: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub platform_db: Option<PlatformDb>,
}

/// A deployment parameter the metric catalog uses, with what it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentParameter {
    pub name: String,
    pub description: String,
}

/// How a profile in ~/.aws/config or ~/.aws/credentials gets its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    StaticKeys,
    Sso,
    AssumeRole,
    CredentialProcess,
    WebIdentity,
    /// Only settings such as region; no credentials of its own.
    NoCredentials,
}

/// One profile as the console shows it. Secrets are never copied into this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSummary {
    pub name: String,
    pub kind: ProfileKind,
    pub region: Option<String>,
    /// One line describing the source: "SSO session corp, account 1111…, role Admin".
    pub detail: String,
    /// Profiles followed to get credentials (role chains), starting with this one.
    pub chain: Vec<String>,
    pub mfa_serial: Option<String>,
    /// Problems found while reading the profile; a profile with problems cannot be used as is.
    pub problems: Vec<String>,
}

/// The profiles found, plus problems with the files themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileList {
    pub profiles: Vec<ProfileSummary>,
    pub file_error: Option<String>,
}

/// Who the environment's credentials belong to (STS GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// The outcome of "Check connection".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub environment: String,
    pub region: String,
    pub endpoint_url: Option<String>,
    pub identity: Option<CallerIdentity>,
    pub error: Option<ErrorInfo>,
    /// The id sent in the SDK user agent, to match CloudTrail entries.
    pub op_id: String,
    pub checked_at: String,
}

/// A failure explained for a person: what went wrong and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Stable machine-readable class, e.g. `sso_expired`, `endpoint_unreachable`.
    pub kind: String,
    pub message: String,
    /// The next step, e.g. the exact command to run.
    pub hint: Option<String>,
}

impl std::fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  → {h}")?;
        }
        Ok(())
    }
}

/// One record of the operator log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OplogEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// Canonical JSON with the action's details (never secrets).
    pub details: String,
    pub op_id: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What kind of damage verification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakKind {
    Modified,
    Missing,
    Reordered,
    Inserted,
    Truncated,
}

/// The first place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub kind: BreakKind,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub records: u64,
    pub head_hash: Option<String>,
    pub first_break: Option<ChainBreak>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
    pub fn parse(s: &str) -> Option<Theme> {
        match s {
            "system" => Some(Theme::System),
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }
}

/// Facts about the running app for the About/Settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub log_dir: String,
    pub sandbox: bool,
    /// Started read-only (a compliance officer's console): the ui shows no changing action.
    #[serde(default)]
    pub read_only: bool,
}

/// Public AWS regions (commercial, GovCloud, China), offered as suggestions in forms.
pub const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// The time range of the metrics dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimeRange {
    /// The last `seconds` up to now (1 h, 3 h, 12 h, 1 d, 1 w in the ui).
    Last { seconds: i64 },
    /// From `start` to `end`, Unix seconds.
    Between { start: i64, end: i64 },
}

/// A horizontal threshold line on a chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdLine {
    pub value: f64,
    /// True when values above it are bad, false when values below it are.
    pub above: bool,
    /// The series it applies to (all when absent).
    pub series: Option<String>,
}

/// One line of a chart: (Unix seconds, value) pairs; `None` marks a period without data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesData {
    pub label: String,
    pub points: Vec<(i64, Option<f64>)>,
}

/// One chart of the dashboard, or why it could not be fetched (a partial failure stays on
/// its chart; the others still show).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartData {
    pub component: String,
    pub id: String,
    pub title: String,
    pub unit: String,
    pub period: u32,
    pub threshold: Option<ThresholdLine>,
    pub series: Vec<SeriesData>,
    pub error: Option<String>,
}

/// What one dashboard refresh fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub start: i64,
    pub end: i64,
    pub charts: Vec<ChartData>,
    /// GetMetricData calls the refresh made (pages included).
    pub api_calls: u32,
    /// Charts left out because the environment's deployment lacks a parameter they need.
    pub unavailable: Vec<String>,
}

/// A CloudWatch alarm of the platform (metric or composite).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmInfo {
    pub name: String,
    /// "metric" or "composite".
    pub kind: String,
    /// The platform component from the alarm's name (`pj-<environment>-<component>-…`), or "other".
    pub component: String,
    /// "OK", "ALARM" or "INSUFFICIENT_DATA".
    pub state: String,
    pub reason: String,
    /// When the state last changed (RFC 3339).
    pub state_changed_at: Option<String>,
    pub description: Option<String>,
    /// What it watches: `Namespace/Metric` or the composite rule.
    pub watches: String,
}

/// One change in an alarm's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmHistoryEntry {
    /// RFC 3339.
    pub at: String,
    /// "StateUpdate", "ConfigurationUpdate" or "Action".
    pub kind: String,
    pub summary: String,
}

/// Where a rendered chart's plot area sits in its image, and the values at its edges: what
/// the ui needs to turn a pointer position into the nearest point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlotBox {
    /// The whole image, in pixels.
    pub image_width: u32,
    pub image_height: u32,
    /// The plot area inside it, in pixels.
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    /// Unix seconds at the left and right edge.
    pub x_min: i64,
    pub x_max: i64,
    /// Values at the bottom and top edge.
    pub y_min: f64,
    pub y_max: f64,
}

/// One chart as the ui shows it: its data, drawn by the core as SVG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartView {
    pub data: ChartData,
    pub svg: String,
    pub plot: PlotBox,
    /// The series' colours, in order (for the legend of the hover read-out).
    pub colors: Vec<String>,
}

/// What the dashboard page shows after one refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    pub start: i64,
    pub end: i64,
    pub charts: Vec<ChartView>,
    pub api_calls: u32,
    pub unavailable: Vec<String>,
    /// Components of the catalog, in order: (id, title).
    pub components: Vec<(String, String)>,
    /// When the data was fetched (Unix seconds) and the time zone the axes are drawn in.
    pub fetched_at: i64,
    pub time_zone: String,
}

/// How to export one chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Png,
    Svg,
    Csv,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Png => "png",
            ExportFormat::Svg => "svg",
            ExportFormat::Csv => "csv",
        }
    }
}

/// How Vigil signs in to the platform's database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbAuth {
    /// A password kept in the OS keychain (never on disk).
    Password,
    /// An RDS IAM authentication token made from the environment's AWS credentials.
    Iam,
    /// No password: only for a database on this machine (the sandbox's trust authentication).
    Trust,
}

/// Where the platform's PostgreSQL (Aurora) is, per environment. TLS with certificate
/// verification is always used except for a database on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformDb {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub auth: DbAuth,
    /// A CA bundle to verify the server with (e.g. the RDS global bundle); system roots when absent.
    pub ca_file: Option<String>,
}

/// Filters of the audit inspector; every one optional, all combined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// RFC 3339; records at or after.
    pub from: Option<String>,
    /// RFC 3339; records before.
    pub to: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub document_id: Option<String>,
    pub job_id: Option<String>,
    /// A PHI category the record counted (name, date, ssn...).
    pub category: Option<String>,
    pub stream: Option<String>,
}

/// Where a page of audit records ends (the newest-first order is at, stream, seq).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCursor {
    pub at: String,
    pub stream_id: String,
    pub seq: i64,
}

/// One audit record as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub stream_id: String,
    pub seq: i64,
    pub id: String,
    /// RFC 3339 with microseconds.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub document_id: Option<String>,
    pub job_id: Option<String>,
    pub detector_version: String,
    pub category_counts: std::collections::BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Pass back for the next (older) page; absent on the last page.
    pub next: Option<AuditCursor>,
}

/// One record whole: its spans, hashes and chain links, and whether its hash holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecordDetail {
    pub row: AuditRow,
    /// (start, end, category): character offsets in the extracted text; never PHI itself.
    pub spans: Vec<(u32, u32, String)>,
    pub input_sha256: Option<String>,
    pub output_sha256: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// The record's content hashes to `hash`.
    pub hash_ok: bool,
    /// The previous record's stored hash equals `prev_hash` (None for the first record).
    pub prev_link_ok: Option<bool>,
    /// The next record links to `hash` (None for the newest).
    pub next_link_ok: Option<bool>,
}

/// Totals of the filtered set, and records over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditSummary {
    pub records: i64,
    pub by_category: std::collections::BTreeMap<String, i64>,
    pub by_action: std::collections::BTreeMap<String, i64>,
    /// (bucket start, Unix seconds; records) at `bucket_seconds` intervals.
    pub over_time: Vec<(i64, i64)>,
    pub bucket_seconds: i64,
}

/// The first break of one audit stream's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditBreak {
    pub seq: i64,
    /// modified, missing, reordered, inserted, truncated, checkpoint_mismatch, bad_signature
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamVerification {
    pub stream_id: String,
    pub records: u64,
    pub checkpoints: u64,
    pub first_seq: i64,
    pub last_seq: i64,
    /// Records after the newest valid checkpoint: chained, not yet covered by a signature.
    pub unsigned_tail: u64,
    pub first_break: Option<AuditBreak>,
}

/// What Verify found over the chosen range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub ok: bool,
    pub cancelled: bool,
    pub since: Option<String>,
    pub streams: Vec<StreamVerification>,
    pub records: u64,
}

/// What a platform database check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbCheck {
    pub server_version: String,
    /// The session is encrypted.
    pub tls: bool,
    pub user: String,
    pub can_read_audit: bool,
    pub can_read_jobs: bool,
}

/// What an evidence export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSummary {
    pub rows: u64,
    pub bytes: u64,
    /// SHA-256 of the file's bytes (hex).
    pub sha256: String,
    /// Stopped before the end: no file was left.
    pub cancelled: bool,
}

/// Long work under way (verify, export, report): its stage and records done of the total
/// (0 when not known yet).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkProgress {
    /// The task's id (to cancel it) and kind (verify, export_csv, report...).
    #[serde(default)]
    pub task: u64,
    #[serde(default)]
    pub kind: String,
    /// verifying, exporting or summarising.
    pub stage: String,
    pub done: u64,
    pub total: u64,
}

/// What a PDF evidence report holds and the file written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub records: u64,
    /// SHA-256 of the CSV export of the covered records (printed in the report).
    pub data_sha256: String,
    /// SHA-256 of the PDF file (in the operator log, not in the file).
    pub sha256: String,
    pub bytes: u64,
    pub pages: u32,
    /// intact, broken or not_verified.
    pub verification: String,
    /// The filters' end (RFC 3339): the report's time when none was given or it was later.
    pub to: String,
    /// Stopped before the end: no file was left.
    pub cancelled: bool,
}

/// Filters of the job list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFilter {
    /// queued, running, succeeded or failed.
    pub status: Option<String>,
    pub kind: Option<String>,
    pub error_class: Option<String>,
    /// RFC 3339; jobs created at or after / before.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One job of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub source_uri: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub permanent: bool,
    /// RFC 3339.
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub worker_id: Option<String>,
    pub document_id: Option<String>,
    /// The job that retried this failed one (set by the worker when it takes the retry).
    #[serde(default)]
    pub retried_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPage {
    pub rows: Vec<JobRow>,
    /// Pass back for the next (older) page: (created_at, id).
    pub next: Option<(String, String)>,
}

/// Failed jobs of one error class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureGroup {
    pub error_class: String,
    pub count: i64,
    /// Every job of the class failed for good: a retry cannot help.
    pub permanent: bool,
    /// What the class means and whether a retry can help.
    pub meaning: String,
    pub latest: JobRow,
}

/// A line of the platform's logs about a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// RFC 3339.
    pub at: String,
    pub stream: String,
    pub message: String,
}

/// A job with its log lines (or why they could not be read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: JobRow,
    /// What its error class means and whether a retry can help.
    pub meaning: Option<String>,
    pub logs: Vec<LogLine>,
    pub logs_error: Option<String>,
}

/// What a retry did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryReport {
    /// Jobs re-queued, with the new message ids.
    pub requeued: Vec<(String, String)>,
    /// Jobs left alone, with why.
    pub skipped: Vec<(String, String)>,
}

/// One environment's timeline: what happened to its platform, from every source, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub environment: String,
    /// RFC 3339: the oldest time shown.
    pub since: String,
    pub entries: Vec<TimelineEntry>,
    /// Each source read, with how many entries it gave or why it could not be read.
    pub sources: Vec<TimelineSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// RFC 3339, UTC.
    pub at: String,
    /// cloudformation, eks, rollout, runbook or alarm.
    pub source: String,
    /// What it happened to: a stack's resource, the cluster, a node group, an add-on, the
    /// worker's revision, a run's step, an alarm.
    pub subject: String,
    pub what: String,
    /// ok, warn, bad or info.
    pub level: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineSource {
    pub name: String,
    pub entries: usize,
    /// Why it could not be read (the other sources are still shown).
    pub error: Option<ErrorInfo>,
}

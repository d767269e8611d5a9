//! `vigil`: the console's core for scripts. Human output by default, `--json` for machines.
//!
//! Exit codes: 0 success; 1 other failure; 2 bad input; 3 not found; 4 connection check failed;
//! 5 operator log verification failed; 6 an alarm is in ALARM (`alarms list`); 7 preflight
//! found a failure; 8 a deployment failed; 9 a component holding data misses its RPO
//! (`backup status`); 10 the EKS cluster needs attention (`eks cluster`: an upgrade insight in
//! ERROR, or standard support over; `eks workloads`: a rollout is stuck).

mod backup;
mod deploy;
mod dr;
mod eks;
mod platform;

use clap::{Args, Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use vigil_core::{App, Error};
use vigil_dto::{Credentials, EnvironmentInput, ErrorInfo};

#[derive(Parser)]
#[command(name = "vigil", version, about = "Operator console for the Patient Journey platform")]
struct Cli {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Use this data directory instead of the OS default.
    #[arg(long, global = true, env = "VIGIL_DATA_DIR", value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Refuse every change (environments, platform database settings, passwords, job
    /// retries); reading, verifying and exporting stay allowed. VIGIL_READ_ONLY=1 (or true,
    /// yes, on) does the same, as for the app.
    #[arg(long, global = true, env = "VIGIL_READ_ONLY", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    read_only: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage environments (AWS account + region the console works on).
    #[command(subcommand)]
    Env(EnvCommand),
    /// List the profiles in the AWS config and credentials files.
    Profiles,
    /// The operator log of every mutating action.
    #[command(subcommand)]
    Oplog(OplogCommand),
    /// The platform's CloudWatch metrics for the current environment.
    #[command(subcommand)]
    Metrics(MetricsCommand),
    /// The platform's CloudWatch alarms for the current environment.
    #[command(subcommand)]
    Alarms(AlarmsCommand),
    /// The platform's database for an environment: where it is, its password, the check.
    #[command(subcommand)]
    Db(platform::DbCommand),
    /// The platform's de-ID audit log: search, show, summary, verify.
    #[command(subcommand)]
    Audit(platform::AuditCommand),
    /// The platform's job ledger: failures by class, a job's logs, retries.
    #[command(subcommand)]
    Jobs(platform::JobsCommand),
    /// Deploy the platform bundle: publishers, bundle, preflight, plan, apply, status, resume,
    /// destroy.
    #[command(subcommand)]
    Deploy(deploy::DeployCommand),
    /// AWS Backup: each component's protection against the RPO, vaults, plans, jobs, recovery
    /// points.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// DR: the bundle's runbooks and the environment's DR lease.
    #[command(subcommand)]
    Dr(dr::DrCommand),
    /// The platform's EKS cluster: version and support, node groups, add-ons, upgrade insights.
    #[command(subcommand)]
    Eks(eks::EksCommand),
    /// One environment's timeline, newest first: CloudFormation events, EKS updates, the
    /// worker's rollouts, runbook steps, alarm state changes. Exit 9 when a source could not
    /// be read (the others are shown).
    Timeline {
        /// The environment (the current one by default).
        #[arg(long)]
        env: Option<String>,
        /// How far back: 6h, 2d… (24h by default).
        #[arg(long, default_value = "24h")]
        since: String,
        /// Only these sources: cloudformation, eks, rollout, runbook, alarm (repeatable).
        #[arg(long)]
        source: Vec<String>,
    },
    /// Point the "sandbox" environment at a local AWS emulator and select it (used by scripts/run).
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Where this Vigil keeps its data and logs, and the platform bundle it ships.
    Info,
}

#[derive(Subcommand)]
enum EnvCommand {
    /// List environments; the current one is marked with *.
    List,
    /// Add an environment.
    Add {
        name: String,
        #[command(flatten)]
        settings: EnvSettings,
    },
    /// Change an environment's settings (only those given).
    Edit {
        name: String,
        /// New name.
        #[arg(long)]
        rename: Option<String>,
        #[command(flatten)]
        settings: EnvSettings,
        /// Remove the endpoint URL override.
        #[arg(long, conflicts_with = "endpoint")]
        no_endpoint: bool,
    },
    /// Remove an environment (asks first; --yes to skip the question).
    Remove {
        name: String,
        #[arg(long, short)]
        yes: bool,
    },
    /// Make an environment current for the console.
    Select { name: String },
    /// Check the connection: STS GetCallerIdentity with the environment's credentials.
    Check {
        /// Defaults to the current environment.
        name: Option<String>,
    },
}

#[derive(Args)]
struct EnvSettings {
    /// AWS region, e.g. eu-west-1.
    #[arg(long)]
    region: Option<String>,
    /// Use this profile from ~/.aws/config or ~/.aws/credentials.
    #[arg(long, conflicts_with_all = ["default_chain", "emulator"])]
    profile: Option<String>,
    /// Use the SDK's default credential chain.
    #[arg(long, conflicts_with = "emulator")]
    default_chain: bool,
    /// Use fixed test keys for a local AWS emulator (needs a loopback --endpoint).
    #[arg(long)]
    emulator: bool,
    /// Endpoint URL override (VPC endpoint, proxy or emulator).
    #[arg(long)]
    endpoint: Option<String>,
    /// A deployment parameter for the dashboards, e.g. --param cluster_name=pj-prod
    /// (repeatable; an empty value removes it). `vigil metrics params` lists them.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
}

impl EnvSettings {
    fn credentials(&self) -> Option<Credentials> {
        match (&self.profile, self.default_chain, self.emulator) {
            (Some(name), _, _) => Some(Credentials::Profile { name: name.clone() }),
            (None, true, _) => Some(Credentials::DefaultChain),
            (None, false, true) => Some(Credentials::Emulator),
            _ => None,
        }
    }
}

#[derive(Subcommand)]
enum OplogCommand {
    /// The newest records first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Check the hash chain and name the first broken record.
    Verify,
}

#[derive(Subcommand)]
enum MetricsCommand {
    /// Fetch a component's charts or one chart (ids as in the metric catalog: platform, eks,
    /// aurora, elasticache, s3, backup, or a chart such as documents, db_cpu).
    Get {
        /// Components or charts; all when none.
        selection: Vec<String>,
        /// 1h, 3h, 12h, 1d, 1w (any number of m, h, d, w) or START..END in RFC 3339.
        #[arg(long, default_value = "1h")]
        range: String,
        /// Points per series at most (the chart's width in pixels).
        #[arg(long, default_value_t = 800)]
        width: u32,
        /// A deployment parameter, e.g. --param cluster_name=pj-prod (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Every data point as CSV (component,chart,series,unit,time,value) instead of a summary.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
    /// The deployment parameters the catalog uses, and the current environment's values.
    Params,
}

#[derive(Subcommand)]
enum AlarmsCommand {
    /// Metric and composite alarms grouped by component; exit 6 when any is in ALARM.
    List {
        /// Only alarms in this state: OK, ALARM or INSUFFICIENT_DATA.
        #[arg(long)]
        state: Option<String>,
    },
    /// One alarm's state changes and updates, newest first.
    History {
        name: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Subcommand)]
enum SandboxCommand {
    /// Create or update the "sandbox" environment for the emulator at ENDPOINT and select it.
    Attach { endpoint: String },
}

/// A failure with the exit code it maps to.
pub(crate) struct Failure {
    code: u8,
    info: ErrorInfo,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match &e {
            Error::Validation { .. } | Error::UnknownProfile { .. } | Error::EnvironmentExists(_) | Error::ReadOnly(_) => 2,
            Error::Deploy { kind: "confirmation_required", .. }
            | Error::Backup { kind: "confirmation_required", .. }
            | Error::Dr { kind: "confirmation_required", .. }
            | Error::Eks { kind: "confirmation_required", .. }
            | Error::Bundle(_) => 2,
            Error::EnvironmentNotFound(_)
            | Error::NoCurrentEnvironment
            | Error::PlatformDb { kind: "not_found", .. }
            | Error::Deploy { kind: "not_found", .. }
            | Error::Backup { kind: "not_found", .. }
            | Error::Dr { kind: "no_runbook", .. }
            | Error::Eks { kind: "not_deployed" | "cluster_missing", .. } => 3,
            Error::Eks { kind: "upgrade_blocked", .. } => 10,
            _ => 1,
        };
        Failure { code, info: e.info() }
    }
}

pub(crate) fn usage(message: &str, hint: &str) -> Failure {
    Failure { code: 2, info: ErrorInfo { kind: "usage".into(), message: message.into(), hint: Some(hint.into()) } }
}

pub(crate) fn print_json(value: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(value).expect("DTOs serialize"));
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(dir) = &cli.data_dir {
        std::env::set_var(vigil_core::paths::DATA_DIR_ENV, dir);
    }
    let _log = vigil_core::logging::init(&vigil_core::paths::log_dir(), "vigil-cli", "info", std::env::var_os("RUST_LOG").is_some());
    let json = cli.json;
    match run(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if json {
                print_json(&serde_json::json!({ "error": f.info }));
            } else {
                eprintln!("error: {}", f.info);
            }
            ExitCode::from(f.code)
        }
    }
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    let console = App::open_default("cli").await?.read_only(cli.read_only);
    let json = cli.json;
    match cli.command {
        Command::Env(cmd) => env_command(&console, cmd, json).await,
        Command::Info => {
            let info = serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "data_dir": vigil_core::paths::data_dir(),
                "store": vigil_core::paths::store_path(),
                "log_dir": vigil_core::paths::log_dir(),
                "bundle_dir": vigil_core::deploy::bundle::default_dir(),
            });
            if json {
                print_json(&info);
            } else {
                for (k, v) in info.as_object().into_iter().flatten() {
                    println!("{k:<11} {}", v.as_str().unwrap_or("(none)"));
                }
            }
            Ok(0)
        }
        Command::Profiles => {
            let list = console.environments().profiles_list().await;
            if json {
                print_json(&list);
            } else {
                if let Some(e) = &list.file_error {
                    eprintln!("warning: {e}");
                }
                for p in &list.profiles {
                    println!("{:<24} {:<18} {}", p.name, format!("{:?}", p.kind), p.detail);
                    for problem in &p.problems {
                        println!("{:<24} ! {problem}", "");
                    }
                }
            }
            Ok(0)
        }
        Command::Oplog(OplogCommand::List { limit }) => {
            let entries = console.oplog().list(limit, None).await?;
            if json {
                print_json(&entries);
            } else {
                for e in &entries {
                    println!("#{:<5} {} {:<10} {:<20} {:<16} {}", e.seq, e.at, e.actor, e.action, e.target, e.details);
                }
            }
            Ok(0)
        }
        Command::Oplog(OplogCommand::Verify) => {
            let report = console.oplog().verify().await?;
            if json {
                print_json(&report);
            } else if let Some(b) = &report.first_break {
                println!("BROKEN at record #{} ({:?}): {}", b.seq, b.kind, b.message);
            } else {
                println!("OK: {} records, chain intact (head {})", report.records, report.head_hash.as_deref().unwrap_or("-"));
            }
            Ok(if report.ok { 0 } else { 5 })
        }
        Command::Metrics(MetricsCommand::Params) => {
            let env = console.environments().current().await?;
            let params = console.environments().deployment_parameters();
            if json {
                print_json(
                    &serde_json::json!({ "parameters": params, "environment": env.as_ref().map(|e| &e.name), "values": env.as_ref().map(|e| &e.deployment) }),
                );
                return Ok(0);
            }
            for p in params {
                let value = env.as_ref().and_then(|e| e.deployment.get(&p.name).cloned());
                let shown = match (p.name.as_str(), value, &env) {
                    (_, Some(v), _) => v,
                    ("environment", None, Some(e)) => format!("{} (the environment's name)", e.name),
                    _ => "-".into(),
                };
                println!("{:<18} {:<28} {}", p.name, shown, p.description);
            }
            Ok(0)
        }
        Command::Metrics(MetricsCommand::Get { selection, range, width, params, csv }) => {
            let range = vigil_core::metrics::dashboard::parse_range(&range).map_err(|e| usage(&e, "e.g. --range 3h"))?;
            let p = parse_params(&params)?.into_iter().filter(|(_, v)| !v.is_empty()).collect();
            let data = console.metrics().fetch(&selection, range, width, &p).await?;
            if json {
                print_json(&data);
            } else if csv {
                print!("{}", vigil_core::metrics::export::csv(&data.charts));
            } else {
                print_metrics(&data);
            }
            Ok(if data.charts.iter().any(|c| c.error.is_some()) { 1 } else { 0 })
        }
        Command::Alarms(AlarmsCommand::List { state }) => {
            let alarms = console.alarms().list(state.as_deref()).await?;
            if json {
                print_json(&alarms);
            } else if alarms.is_empty() {
                println!("no alarms{}", state.map(|s| format!(" in state {s}")).unwrap_or_default());
            } else {
                let mut component = "";
                for a in &alarms {
                    if a.component != component {
                        component = &a.component;
                        println!("{component}");
                    }
                    println!("  {:<18} {:<44} {:<10} {}", a.state, a.name, a.kind, a.state_changed_at.as_deref().unwrap_or("-"));
                    if !a.reason.is_empty() {
                        println!("  {:<18} {}", "", a.reason);
                    }
                }
            }
            Ok(if alarms.iter().any(|a| a.state == "ALARM") { 6 } else { 0 })
        }
        Command::Alarms(AlarmsCommand::History { name, limit }) => {
            let entries = console.alarms().history(&name, limit).await?;
            if json {
                print_json(&entries);
            } else if entries.is_empty() {
                println!("no history for {name}");
            } else {
                for e in &entries {
                    println!("{}  {:<20} {}", e.at, e.kind, e.summary);
                }
            }
            Ok(0)
        }
        Command::Db(c) => platform::db(&console, c, json).await,
        Command::Deploy(c) => deploy::run(&console, c, json).await,
        Command::Backup(c) => backup::run(&console, c, json).await,
        Command::Dr(c) => dr::run(&console, c, json).await,
        Command::Eks(c) => eks::run(&console, c, json).await,
        Command::Timeline { env, since, source } => {
            let hours = (eks::seconds(&since)? + 3599) / 3600;
            let t = console.timeline().read(env.as_deref(), hours, &source).await?;
            if json {
                print_json(&t);
            } else {
                println!("{} since {}", t.environment, t.since);
                for e in &t.entries {
                    let detail = e.detail.as_deref().map(|d| format!(" — {d}")).unwrap_or_default();
                    println!("{} {:<14} {:<4} {}: {}{detail}", e.at, e.source, e.level, e.subject, e.what);
                }
                for s in &t.sources {
                    match &s.error {
                        Some(e) => {
                            println!("{}: NOT READ — {}{}", s.name, e.message, e.hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())
                        }
                        None => println!("{}: {} entries", s.name, s.entries),
                    }
                }
            }
            Ok(if t.sources.iter().any(|s| s.error.is_some()) { 9 } else { 0 })
        }
        Command::Audit(c) => platform::audit(&console, c, json).await,
        Command::Jobs(c) => platform::jobs(&console, c, json).await,
        Command::Sandbox(SandboxCommand::Attach { endpoint }) => {
            let env = console.environments().ensure_sandbox(&endpoint).await?;
            if json {
                print_json(&env);
            } else {
                println!("sandbox → {}", env.endpoint_url.as_deref().unwrap_or_default());
            }
            Ok(0)
        }
    }
}

async fn env_command(console: &App, cmd: EnvCommand, json: bool) -> Result<u8, Failure> {
    match cmd {
        EnvCommand::List => {
            let envs = console.environments().list().await?;
            if json {
                print_json(&envs);
            } else if envs.is_empty() {
                println!("no environments yet; add one with `vigil env add <name> --region <region> --profile <profile>`");
            } else {
                for e in &envs {
                    let mark = if e.current { "*" } else { " " };
                    println!("{mark} {:<20} {:<16} {:<24} {}", e.name, e.region, e.credentials.label(), e.endpoint_url.as_deref().unwrap_or(""));
                }
            }
            Ok(0)
        }
        EnvCommand::Add { name, settings } => {
            let region = settings.region.clone().ok_or_else(|| usage("--region is required", "e.g. --region eu-west-1"))?;
            let credentials = settings.credentials().unwrap_or(Credentials::DefaultChain);
            let deployment = parse_params(&settings.params)?.into_iter().collect();
            let env = console
                .environments()
                .add(&EnvironmentInput { name, credentials, region, endpoint_url: settings.endpoint.clone(), deployment, platform_db: None })
                .await?;
            if json {
                print_json(&env);
            } else {
                println!("added {} ({}, {})", env.name, env.region, env.credentials.label());
            }
            Ok(0)
        }
        EnvCommand::Edit { name, rename, settings, no_endpoint } => {
            let before = console.environments().get(&name).await?;
            let input = EnvironmentInput {
                name: rename.unwrap_or_else(|| before.name.clone()),
                credentials: settings.credentials().unwrap_or(before.credentials.clone()),
                region: settings.region.clone().unwrap_or(before.region.clone()),
                endpoint_url: if no_endpoint { None } else { settings.endpoint.clone().or(before.endpoint_url.clone()) },
                deployment: {
                    let mut d = before.deployment.clone();
                    d.extend(parse_params(&settings.params)?);
                    d
                },
                platform_db: before.platform_db.clone(),
            };
            let env = console.environments().update(&name, &input).await?;
            if json {
                print_json(&env);
            } else {
                println!("updated {}", env.name);
            }
            Ok(0)
        }
        EnvCommand::Remove { name, yes } => {
            let env = match console.environments().get(&name).await {
                Err(Error::StoredEnvironment { detail, .. }) => {
                    // Unreadable: removed as stored (the operator log keeps the raw row).
                    if !yes && !confirm(&format!("Environment '{name}' cannot be read ({detail}). Remove it?"))? {
                        eprintln!("not removed");
                        return Ok(1);
                    }
                    console.environments().purge(&name).await?;
                    println!("removed {name}");
                    return Ok(0);
                }
                other => other?,
            };
            if !yes && !confirm(&format!("Remove environment '{}' ({}, {})?", env.name, env.region, env.credentials.label()))? {
                eprintln!("not removed");
                return Ok(1);
            }
            let removed = console.environments().remove(&name).await?;
            if json {
                print_json(&removed);
            } else {
                println!("removed {}", removed.name);
            }
            Ok(0)
        }
        EnvCommand::Select { name } => {
            let env = console.environments().select(&name).await?;
            if json {
                print_json(&env);
            } else {
                println!("current environment: {}", env.name);
            }
            Ok(0)
        }
        EnvCommand::Check { name } => {
            let name = match name {
                Some(n) => n,
                None => console.environments().current().await?.ok_or(Error::NoCurrentEnvironment)?.name,
            };
            let report = console.environments().check(&name).await?;
            if json {
                print_json(&report);
            } else if let Some(id) = &report.identity {
                println!("OK  {}  account {}  {}  region {}", report.environment, id.account, id.arn, report.region);
            } else if let Some(e) = &report.error {
                eprintln!("FAILED  {}: {e}", report.environment);
            }
            Ok(if report.identity.is_some() { 0 } else { 4 })
        }
    }
}

/// Asks on the terminal; without one, refuses (scripts must pass --yes).
pub(crate) fn confirm(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(usage(&format!("refusing without confirmation: {question}"), "pass --yes when running without a terminal"));
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).ok();
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// `NAME=VALUE` pairs (values trimmed; an empty value is kept, to remove a parameter).
fn parse_params(params: &[String]) -> Result<Vec<(String, String)>, Failure> {
    params
        .iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').ok_or_else(|| usage(&format!("`{kv}` is not NAME=VALUE"), "e.g. --param cluster_name=pj-prod"))?;
            Ok((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
}

/// Per series: the latest value, min and max, with the chart's unit.
fn print_metrics(d: &vigil_dto::DashboardData) {
    println!("{} .. {}  ({} GetMetricData calls)", rfc3339(d.start), rfc3339(d.end), d.api_calls);
    for c in &d.charts {
        println!("{}/{}  {} [{}], period {} s", c.component, c.id, c.title, c.unit, c.period);
        if let Some(e) = &c.error {
            println!("    ! {e}");
        }
        for s in &c.series {
            let vals: Vec<f64> = s.points.iter().filter_map(|p| p.1).collect();
            if vals.is_empty() {
                println!("    {:<14} no data", s.label);
                continue;
            }
            let last = s.points.iter().rev().find_map(|p| p.1).unwrap_or_default();
            let (min, max) = vals.iter().fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
            let f = |v: f64| vigil_dto::units::format_value(v, &c.unit);
            println!("    {:<14} last {:>12}  min {:>12}  max {:>12}  ({} points)", s.label, f(last), f(min), f(max), vals.len());
        }
    }
    for u in &d.unavailable {
        println!("(not shown: {u}; set it with `vigil env edit <environment> --param NAME=VALUE`)");
    }
}

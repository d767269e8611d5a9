//! `vigil deploy …`: the platform bundle into an environment's AWS account, over the same
//! `app.deploy()` as the Deploy page — publishers, bundle, preflight, plan, apply, status,
//! resume, validate (and the PDF deployment record), destroy.

use crate::{print_json, usage, Failure};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;
use vigil_core::App;
use vigil_dto::deploy::{CheckStatus, DeployPlan, DeployRequest, DeploymentStatus, KeptResource};

#[derive(Subcommand)]
pub enum DeployCommand {
    /// The publishers whose bundles this console deploys.
    Publishers,
    /// Trust bundles signed with KEY (an Ed25519 public key, hex), shown as NAME.
    Trust {
        #[arg(long)]
        name: String,
        #[arg(long)]
        key: String,
    },
    /// Stop trusting bundles signed with KEY.
    Distrust { key: String },
    /// Verify a bundle and show what it is and who signed it.
    Bundle {
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// Check, changing nothing, whether the environment's account and region can take the platform.
    Preflight(Target),
    /// Plan: a change set per existing stack, creates for the rest, the cost, the gates.
    Plan(Target),
    /// Plan the running platform's upgrade to a newer bundle: what changes (files, images,
    /// migrations), the cost delta, the snapshot taken first; the running tier and its edits
    /// are kept. Apply it with `vigil deploy apply`.
    Upgrade {
        #[arg(long)]
        env: Option<String>,
        /// The newer bundle's directory.
        #[arg(long)]
        bundle: PathBuf,
    },
    /// Recover a platform stack no plan can build on: delete a failed create, or continue an
    /// update's failed rollback skipping what failed. Without --stack, lists what needs it;
    /// without --confirm <stack name>, shows what it would do.
    Recover {
        #[arg(long)]
        env: Option<String>,
        #[arg(long)]
        stack: Option<String>,
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Apply a reviewed plan. A plan that replaces or removes data needs --confirm <environment>.
    Apply {
        plan: String,
        #[arg(long)]
        confirm: Option<String>,
    },
    /// Where the newest deployment of an environment stands.
    Status {
        #[arg(long)]
        env: Option<String>,
    },
    /// Re-attach to applies that were running when Vigil stopped, and see them through.
    Resume,
    /// Check every component of the deployed platform; --pdf also writes the deployment record.
    Validate {
        #[arg(long)]
        env: Option<String>,
        /// Write the deployment record (PDF) here; its SHA-256 goes into the operator log.
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
    },
    /// Tear the platform down: every stack deleted; the final database snapshot, the buckets,
    /// keys and vault kept and listed. Shows the plan; --confirm <environment> applies it.
    Destroy {
        #[arg(long)]
        env: Option<String>,
        #[arg(long)]
        confirm: Option<String>,
    },
}

#[derive(Args)]
pub struct Target {
    /// The console environment (the current one by default).
    #[arg(long)]
    env: Option<String>,
    /// small, medium or large.
    #[arg(long, default_value = "small")]
    tier: String,
    /// The platform's environment name in stack and resource names (from the console
    /// environment's name by default).
    #[arg(long)]
    platform_env: Option<String>,
    /// Set a stack parameter over the tier's: STACK.Parameter=value (repeat).
    #[arg(long = "set", value_name = "STACK.PARAM=VALUE")]
    set: Vec<String>,
    /// The bundle directory (this console's own by default).
    #[arg(long)]
    bundle: Option<PathBuf>,
}

impl Target {
    async fn request(&self, app: &App) -> Result<DeployRequest, Failure> {
        let environment = match &self.env {
            Some(e) => e.clone(),
            None => app.core().current().await?.name,
        };
        let mut overrides: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for s in &self.set {
            let parsed = s.split_once('=').and_then(|(k, v)| k.split_once('.').map(|(stack, p)| (stack, p, v)));
            let Some((stack, param, value)) = parsed else {
                return Err(usage(&format!("--set {s:?} is not STACK.Parameter=value"), "e.g. --set network.VpcCidr=10.50.0.0/16"));
            };
            overrides.entry(stack.to_string()).or_default().insert(param.to_string(), value.to_string());
        }
        Ok(DeployRequest { environment, tier: self.tier.clone(), platform_environment: self.platform_env.clone().unwrap_or_default(), overrides })
    }
}

fn print_status(s: &DeploymentStatus) {
    println!("deployment {} of {}: {} ({}/{} resources)", s.id, s.environment, s.state, s.done, s.total);
    for st in &s.stacks {
        println!("  {:<14} {:<10} {}", st.stack, st.state, st.status.as_deref().unwrap_or(""));
    }
    for step in &s.setup {
        println!("  set-up {:<10} {:<10} {}", step.id, step.state, step.detail.as_deref().unwrap_or(""));
    }
    if let Some(c) = &s.root_cause {
        println!("cause: {c}");
    }
    if let Some(n) = &s.next {
        println!("next: {n}");
    }
    if s.kind == "teardown" && s.state == "succeeded" {
        print_kept(&s.kept);
    }
}

fn print_kept(kept: &[KeptResource]) {
    for k in kept {
        println!("  KEPT {:<28} {:<40} {}", k.resource_type, k.physical_id.as_deref().unwrap_or("?"), k.why);
    }
}

fn print_checks(checks: &[vigil_dto::deploy::PreflightCheck]) {
    for c in checks {
        let mark = match c.status {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "WARN",
            CheckStatus::Fail => "FAIL",
        };
        println!("{mark}  {:<28} {}  [{}]", c.title, c.detail, c.api);
        if let Some(f) = &c.fix {
            println!("      fix: {f}");
        }
    }
}

fn print_plan(p: &DeployPlan) {
    if p.kind == "teardown" {
        println!("teardown plan {} for {} (platform environment {})", p.id, p.environment, p.platform_environment);
        for s in &p.stacks {
            let removed = s.changes.iter().filter(|c| c.action == "remove").count();
            println!("  delete {:<24} {removed} resource(s) removed", s.name);
        }
        print_kept(&p.kept);
        println!("apply with: vigil deploy apply {} --confirm {}", p.id, p.environment);
        return;
    }
    println!(
        "plan {} for {} (platform environment {}), bundle {} {} signed by {}",
        p.id, p.environment, p.platform_environment, p.bundle.name, p.bundle.version, p.bundle.signer
    );
    if let Some(u) = &p.upgrade {
        println!("upgrade {} → {} (running plan {})", u.from_version, u.to_version, u.from_plan);
        for f in &u.files {
            println!("  {:<8} {:<12} {}", f.change, f.area, f.path);
        }
        for i in &u.images {
            println!("  image    {} → {}", if i.from.is_empty() { "(none)" } else { &i.from }, i.to);
        }
        if !u.migrations.is_empty() {
            println!("  migrations to run (forward only): {}", u.migrations.join(", "));
        }
        println!("  monthly estimate {:.0} → {:.0} ({:+.0}) {}", u.cost_before, u.cost_after, u.cost_after - u.cost_before, p.cost.currency);
        println!("  first: snapshot {} of {}", u.snapshot, u.cluster);
    }
    for s in &p.stacks {
        println!("  {:<14} {:<7} {} change(s)", s.stack, s.action, s.changes.len());
        for c in s.changes.iter().filter(|c| s.action != "create" || c.stateful) {
            println!("      {:<8} {} ({}){}", c.action, c.logical_id, c.resource_type, if c.stateful { " [holds data]" } else { "" });
        }
    }
    println!("estimate: {:.0} {} per month ({} tier; prices: {})", p.cost.total, p.cost.currency, p.cost.tier, p.cost.source);
    for n in &p.cost.notes {
        println!("  note: {n}");
    }
    for g in &p.gates {
        println!("GATE {}: {}", g.stack, g.why);
    }
    if p.gates.is_empty() {
        println!("apply with: vigil deploy apply {}", p.id);
    } else {
        println!("apply with: vigil deploy apply {} --confirm {}", p.id, p.environment);
    }
}

async fn apply(app: &App, plan: &str, confirm: Option<&str>, json: bool) -> Result<u8, Failure> {
    let report = |s: &DeploymentStatus| {
        if !json {
            let stack = s.stacks.iter().find(|x| x.state == "applying").map(|x| x.stack.clone());
            let step = s.setup.iter().find(|x| x.state == "running").map(|x| format!("set-up {} {}", x.id, x.detail.as_deref().unwrap_or("")));
            eprintln!("[{}/{}] {} {}", s.done, s.total, s.state, stack.or(step).unwrap_or_else(|| "-".into()));
        }
    };
    let status = app.deploy().apply(plan, confirm, &report).await?;
    if json {
        print_json(&status);
    } else {
        print_status(&status);
    }
    Ok(if status.state == "succeeded" { 0 } else { 8 })
}

pub async fn run(app: &App, cmd: DeployCommand, json: bool) -> Result<u8, Failure> {
    let deploy = app.deploy();
    match cmd {
        DeployCommand::Publishers => {
            let list = deploy.publishers().await?;
            if json {
                print_json(&list);
            } else if list.is_empty() {
                println!("no trusted publishers: add one with `vigil deploy trust --name … --key …`");
            } else {
                for p in list {
                    println!("{}  {}  (since {})", p.public_key, p.name, p.added_at);
                }
            }
        }
        DeployCommand::Trust { name, key } => {
            let p = deploy.trust(&name, &key).await?;
            if json {
                print_json(&p);
            } else {
                println!("trusting {} ({})", p.name, p.public_key);
            }
        }
        DeployCommand::Distrust { key } => {
            deploy.distrust(&key).await?;
            if json {
                print_json(&serde_json::json!({ "distrusted": key }));
            } else {
                println!("no longer trusting {key}");
            }
        }
        DeployCommand::Bundle { bundle } => {
            let b = deploy.bundle_summary(bundle.as_deref()).await?;
            if json {
                print_json(&b);
            } else {
                println!("{} {} signed by {} ({} files, manifest SHA-256 {})", b.name, b.version, b.signer, b.files, b.manifest_sha256);
                println!("needs Vigil {} or newer; tiers: {}", b.min_console, b.tiers.join(", "));
            }
        }
        DeployCommand::Preflight(t) => {
            let report = deploy.preflight(&t.request(app).await?, t.bundle.as_deref()).await?;
            if json {
                print_json(&report);
            } else {
                print_checks(&report.checks);
                println!("{}", if report.ready { "ready to plan" } else { "not ready: fix the failures above" });
            }
            return Ok(if report.ready { 0 } else { 7 });
        }
        DeployCommand::Plan(t) => {
            let plan = deploy.plan(&t.request(app).await?, t.bundle.as_deref()).await?;
            if json {
                print_json(&plan);
            } else {
                print_plan(&plan);
            }
        }
        DeployCommand::Upgrade { env, bundle } => {
            let environment = match env {
                Some(e) => e,
                None => app.core().current().await?.name,
            };
            let request = DeployRequest { environment, ..Default::default() };
            let plan = deploy.plan(&request, Some(&bundle)).await?;
            if json {
                print_json(&plan);
            } else {
                print_plan(&plan);
            }
            if plan.upgrade.is_none() {
                eprintln!("not an upgrade: the platform already runs bundle {}; this plan changes only what differs in AWS", plan.bundle.version);
            }
        }
        DeployCommand::Recover { env, stack, confirm } => {
            let env = match env {
                Some(e) => e,
                None => app.core().current().await?.name,
            };
            let pending = deploy.recoveries(&env).await?;
            let chosen = stack.as_deref().map(|s| pending.iter().find(|r| r.stack == s || r.name == s));
            match (chosen, confirm.as_deref()) {
                (None, _) | (Some(_), None) => {
                    let shown: Vec<_> = match chosen {
                        Some(Some(r)) => vec![r.clone()],
                        Some(None) => {
                            return Err(usage(
                                &format!("no stack of {env} named {} needs recovery", stack.unwrap_or_default()),
                                "`vigil deploy recover` lists those that do",
                            ))
                        }
                        None => pending.clone(),
                    };
                    if json {
                        print_json(&shown);
                    } else if shown.is_empty() {
                        println!("no stack of {env} needs recovery");
                    } else {
                        for r in &shown {
                            println!("{} ({}): {}", r.name, r.status, r.what);
                            if let Some(c) = &r.cause {
                                println!("  cause: {c}");
                            }
                            println!("  run: vigil deploy recover --env {env} --stack {} --confirm {}", r.stack, r.name);
                        }
                    }
                    return Ok(0);
                }
                (Some(_), Some(c)) => {
                    let done = deploy.recover(&env, stack.as_deref().unwrap_or_default(), Some(c)).await?;
                    if json {
                        print_json(&done);
                    } else {
                        println!("{}", done.what);
                        if let Some(c) = &done.cause {
                            println!("  cause: {c}");
                        }
                    }
                    return Ok(if matches!(done.status.as_str(), "DELETE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE") { 0 } else { 8 });
                }
            }
        }
        DeployCommand::Apply { plan, confirm } => return apply(app, &plan, confirm.as_deref(), json).await,
        DeployCommand::Destroy { env, confirm } => {
            let env = match env {
                Some(e) => e,
                None => app.core().current().await?.name,
            };
            let plan = deploy.plan_teardown(&env).await?;
            if confirm.is_none() {
                if json {
                    print_json(&plan);
                } else {
                    print_plan(&plan);
                }
                return Ok(0);
            }
            return apply(app, &plan.id, confirm.as_deref(), json).await;
        }
        DeployCommand::Status { env } => {
            let env = match env {
                Some(e) => e,
                None => app.core().current().await?.name,
            };
            match deploy.status(&env).await? {
                Some(s) if json => print_json(&s),
                Some(s) => print_status(&s),
                None if json => print_json(&serde_json::Value::Null),
                None => println!("{env} has no deployment yet"),
            }
        }
        DeployCommand::Validate { env, pdf } => {
            let env = match env {
                Some(e) => e,
                None => app.core().current().await?.name,
            };
            let (report, record) = match &pdf {
                Some(path) => {
                    let record = deploy.record(&env, path).await?;
                    (record.validation.clone(), Some(record))
                }
                None => (deploy.validate(&env).await?, None),
            };
            match (&record, json) {
                (Some(r), true) => print_json(r),
                (None, true) => print_json(&report),
                (_, false) => {
                    print_checks(&report.checks);
                    println!("{}", if report.ok { "validated" } else { "not validated: fix the failures above" });
                    if let Some(r) = &record {
                        println!("wrote {} ({} pages, {} bytes), SHA-256 {}", r.path, r.pages, r.bytes, r.sha256);
                    }
                }
            }
            return Ok(if report.ok { 0 } else { 7 });
        }
        DeployCommand::Resume => {
            let done = deploy.resume(&|_| {}).await?;
            if json {
                print_json(&done);
            } else if done.is_empty() {
                println!("no apply was interrupted");
            } else {
                done.iter().for_each(print_status);
            }
            return Ok(if done.iter().all(|s| s.state == "succeeded") { 0 } else { 8 });
        }
    }
    Ok(0)
}

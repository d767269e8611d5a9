//! `vigil dr …`: the bundle's DR runbooks over the same `app.dr()` as the DR page — each with
//! its steps and expected time; dry runs; runs (started, approved with the text typed, resumed
//! after a pause or a crash) — and the environment's DR lease (who holds it; a stale one broken
//! with the environment's name typed as `--confirm`). Exit codes of a run: 0 succeeded, 4
//! waiting for an approval, 5 paused, 6 failed; a dry run with a failing check: 9.

use crate::{print_json, Failure};
use clap::Subcommand;
use std::path::PathBuf;
use vigil_core::App;
use vigil_dto::dr::{DryRunView, LeaseView, RunRequest, RunView, RunbookView};

fn parse_param(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.trim().to_string(), v.to_string())).ok_or_else(|| format!("`{s}`: write a parameter as name=value"))
}

fn print_dry_run(d: &DryRunView) {
    println!("{} on {}: {} (expected {})", d.runbook, d.environment, if d.ready { "ready" } else { "NOT ready" }, minutes(d.expected_secs));
    for (k, v) in &d.params {
        println!("  param {k} = {v}");
    }
    for c in &d.checks {
        let mark = if !c.check.ok {
            "FAIL"
        } else if c.check.phase == "deferred" {
            "later"
        } else {
            "ok"
        };
        let step = if c.step.is_empty() { String::new() } else { format!("{}: ", c.step) };
        println!("  {mark:<5} {step}[{}] {} — {}", c.check.phase, c.check.check, c.check.detail);
        if let (false, Some(fix)) = (c.check.ok, &c.check.fix) {
            println!("        fix: {fix}");
        }
    }
}

pub(crate) fn print_run(r: &RunView) {
    println!("{} — {} {} on {}: {}", r.id, r.runbook, r.version, r.environment, r.state);
    for s in &r.steps {
        let took = match (s.started_ms, s.ended_ms) {
            (Some(a), Some(b)) => format!(" ({:.1} s)", (b - a) as f64 / 1000.0),
            _ => String::new(),
        };
        println!("  {:<18} {}{took} — {}", s.state, s.path, s.title);
        for c in &s.checks {
            println!("      {} [{}] {} — {}", if c.ok { "ok" } else { "FAIL" }, c.phase, c.check, c.detail);
        }
        if !s.outputs.is_empty() {
            let o: Vec<String> = s.outputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("      recorded {}", o.join(", "));
        }
        if s.found_done {
            println!("      (found already done on resume: not sent again)");
        }
    }
    if let Some(a) = &r.awaiting {
        println!("waiting for approval of {}: {}", a.step, a.prompt);
        if a.second {
            println!("  then: vigil dr approve {} --confirm <the code>", r.id);
        } else {
            println!("  type it: vigil dr approve {} --confirm {}", r.id, a.confirm);
        }
    }
    if let Some(p) = &r.paused {
        println!("{}: {p}", if r.state == "failed" { "failed" } else { "paused" });
        if r.state == "paused" {
            println!("  then: vigil dr resume {}", r.id);
        }
    }
    if let Some(rto) = r.rto_ms {
        println!(
            "RTO {:.1} s, RPO {}",
            rto as f64 / 1000.0,
            r.rpo_ms.map(|p| format!("{:.1} s", p as f64 / 1000.0)).unwrap_or_else(|| "not measured".into())
        );
    }
}

/// The exit code of a run that did not succeed: 4 waiting for approval, 5 paused, 6 failed.
pub(crate) fn run_code(r: &RunView) -> u8 {
    match r.state.as_str() {
        "succeeded" => 0,
        "awaiting_approval" => 4,
        "failed" => 6,
        _ => 5,
    }
}

#[derive(Subcommand)]
pub enum DrCommand {
    /// The bundle's runbooks (failbacks included) with their expected time.
    Runbooks {
        /// Another bundle directory (this console's own by default).
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// One runbook, step by step: prechecks, action, wait, verifications, rollback.
    Show {
        runbook: String,
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// A dry run: every precheck against the live account, each IAM action simulated, the
    /// lease, the expected time; exit 9 when a check fails. Changes nothing.
    DryRun {
        runbook: String,
        /// A parameter, name=value (repeat).
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, String)>,
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// Runs a runbook (takes the DR lease); it goes on until it ends, waits for an approval
    /// (`vigil dr approve`), or pauses on a fault (`vigil dr resume`).
    Run {
        runbook: String,
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// A drill: measured against RTO and RPO for the drill report.
        #[arg(long)]
        drill: bool,
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// Confirms the approval a run waits for, then goes on.
    Approve {
        run: String,
        /// The text the approval asks for, typed.
        #[arg(long)]
        confirm: String,
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// Gives the second approval of a destructive step another console asks for (four eyes),
    /// signed in as another AWS identity than the operator's; prints the one-time code to give
    /// the operator.
    SecondApprove { run: String, step: String },
    /// Goes on with a paused or interrupted run from where its journal stands.
    Resume {
        run: String,
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// The current environment's runs, newest first, or one run step by step.
    Runs { run: Option<String> },
    /// Writes a run's report (PDF: what it acted on, the runbook's version and SHA-256, every
    /// step with its times and checks, the confirmations, RTO and RPO against the targets, the
    /// operator-log records); its SHA-256 goes into the operator log.
    Report {
        run: String,
        /// Where to write the PDF.
        #[arg(long)]
        out: PathBuf,
    },
    /// Who holds the current environment's DR lease.
    Lease,
    /// Breaks a stale DR lease (its console stopped renewing it).
    BreakLease {
        /// The environment's name, typed to confirm.
        #[arg(long)]
        confirm: String,
    },
}

fn minutes(secs: u64) -> String {
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min", secs.div_ceil(60))
    }
}

fn print_runbook(r: &RunbookView) {
    println!("{} {} — {}", r.id, r.version, r.title);
    println!("  expected {}, data loss: {}, {} ({})", minutes(r.expected_secs), r.data_loss, r.file, &r.sha256[..12]);
    if let Some(f) = &r.failback_of {
        println!("  the failback of {f}");
    }
    for p in &r.params {
        let from = p.from_forward.as_deref().or(p.default.as_deref()).map(|d| format!(" = {d}")).unwrap_or_else(|| " (required)".into());
        println!("  param {}{from}: {}", p.name, p.summary);
    }
    for (i, s) in r.steps.iter().enumerate() {
        let flag = if s.destructive {
            " [destructive]"
        } else if s.mutates {
            " [changes]"
        } else {
            ""
        };
        println!("  {}. {} ({}, {}){flag}", i + 1, s.title, s.kind, minutes(s.typical_secs));
        for c in &s.prechecks {
            println!("       precheck {c}");
        }
        println!("       {}", s.does);
        for v in &s.verifications {
            println!("       verify {v}");
        }
        if let Some(r) = &s.rollback {
            println!("       rollback {r}");
        }
    }
}

fn print_lease(l: &LeaseView) {
    println!("{} holds the DR lease of {}: run {} of {}", l.holder, l.environment, l.run_id, l.runbook);
    println!("  since {}, renewed {}, expires {}{}", l.acquired_at, l.renewed_at, l.expires_at, if l.stale { " (stale)" } else { "" });
    println!("  {}", l.location);
}

pub async fn run(app: &App, cmd: DrCommand, json: bool) -> Result<u8, Failure> {
    let dr = app.dr();
    match cmd {
        DrCommand::Runbooks { bundle } => {
            let list = dr.runbooks(bundle.as_deref()).await?;
            if json {
                print_json(&list);
            } else {
                for r in &list {
                    let back = r.failback.as_deref().map(|f| format!(", failback {f}")).unwrap_or_default();
                    println!("{:<34} {:>7}  {:<8} {}{back}", r.id, minutes(r.expected_secs), r.data_loss, r.title);
                }
            }
        }
        DrCommand::Show { runbook, bundle } => {
            let r = dr.runbook(bundle.as_deref(), &runbook).await?;
            if json {
                print_json(&r);
            } else {
                print_runbook(&r);
            }
        }
        DrCommand::DryRun { runbook, params, bundle } => {
            let d = dr.dry_run(bundle.as_deref(), &RunRequest { runbook, params: params.into_iter().collect(), drill: false }).await?;
            if json {
                print_json(&d);
            } else {
                print_dry_run(&d);
            }
            return Ok(if d.ready { 0 } else { 9 });
        }
        DrCommand::Run { runbook, params, drill, bundle } => {
            let req = RunRequest { runbook, params: params.into_iter().collect(), drill };
            let progress = vigil_core::progress::Progress::default();
            let r = dr.start(bundle.as_deref(), &req, &progress).await?;
            if json {
                print_json(&r);
            } else {
                print_run(&r);
            }
            return Ok(run_code(&r));
        }
        DrCommand::Approve { run, confirm, bundle } => {
            let progress = vigil_core::progress::Progress::default();
            let r = dr.approve(bundle.as_deref(), &run, &confirm, &progress).await?;
            if json {
                print_json(&r);
            } else {
                print_run(&r);
            }
            return Ok(run_code(&r));
        }
        DrCommand::Resume { run, bundle } => {
            let progress = vigil_core::progress::Progress::default();
            let r = dr.resume(bundle.as_deref(), &run, &progress).await?;
            if json {
                print_json(&r);
            } else {
                print_run(&r);
            }
            return Ok(run_code(&r));
        }
        DrCommand::SecondApprove { run, step } => {
            let a = dr.second_approve(&run, &step).await?;
            if json {
                print_json(&a);
            } else {
                println!("approved {} (step {} of run {}, asked by {})", a.action, a.step, a.run, a.requested_by);
                println!("one-time code for the operator: {}", a.code);
            }
        }
        DrCommand::Runs { run: Some(id) } => {
            let r = dr.run(&id).await?;
            if json {
                print_json(&r);
            } else {
                print_run(&r);
            }
        }
        DrCommand::Runs { run: None } => {
            let runs = dr.runs().await?;
            if json {
                print_json(&runs);
            } else {
                for r in &runs {
                    let rto = r.rto_ms.map(|t| format!(" RTO {:.1} s", t as f64 / 1000.0)).unwrap_or_default();
                    println!("{:<44} {:<18} {}{}{rto}", r.id, r.state, r.runbook, if r.drill { " (drill)" } else { "" });
                }
            }
        }
        DrCommand::Report { run, out } => {
            let r = dr.write_report(&run, &out).await?;
            if json {
                print_json(&r);
            } else {
                let met = |m: Option<bool>| match m {
                    Some(true) => "met",
                    Some(false) => "NOT met",
                    None => "not measured",
                };
                println!("wrote {} ({} bytes, SHA-256 {}): RTO {}, RPO {}", r.path, r.bytes, r.sha256, met(r.rto_met), met(r.rpo_met));
            }
        }
        DrCommand::Lease => {
            let l = dr.lease().await?;
            if json {
                print_json(&l);
            } else if let Some(l) = &l {
                print_lease(l);
            } else {
                println!("no console holds the DR lease");
            }
        }
        DrCommand::BreakLease { confirm } => {
            let l = dr.break_lease(&confirm).await?;
            if json {
                print_json(&l);
            } else {
                println!("broke the stale DR lease of {} ({} had it for {})", l.environment, l.holder, l.runbook);
            }
        }
    }
    Ok(0)
}

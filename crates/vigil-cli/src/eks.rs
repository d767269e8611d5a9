//! `vigil eks …`: the platform's EKS cluster over the same `app.eks()` as the Services page —
//! its version and support dates, endpoint access, logging, encryption, node groups, add-ons
//! (with whether each runs on the next Kubernetes version) and EKS's upgrade insights; an
//! insights refresh; the workloads (rollout, cause, history, pods, events), their logs and
//! events (followed with --follow), and restart / rollback / scale; the upgrade cockpit
//! (`upgrade-plan`) and the upgrade itself (`upgrade`, the bundle's eks-upgrade runbook). Exit
//! codes of `cluster`: 0, or 10 when an insight is in ERROR or the version is out of standard
//! support; of `workloads`: 0, or 10 when a rollout is stuck; of `upgrade-plan`: 0, or 10 when
//! something blocks the upgrade; of `upgrade`: those of `vigil dr run`.

use crate::{print_json, Failure};
use clap::Subcommand;
use std::path::PathBuf;
use std::sync::Arc;
use vigil_core::progress::Progress;
use vigil_core::App;
use vigil_dto::eks::{ClusterOverview, KubeEvent, LogLine, UpgradePlan, WorkloadAction, Workloads};

#[derive(Subcommand)]
pub enum EksCommand {
    /// The cluster: version and support, endpoint, logging, encryption, node groups, add-ons,
    /// access entries, upgrade insights. Exit 10 when an insight is in ERROR, standard support
    /// has ended, or these credentials have no access entry.
    Cluster,
    /// Asks EKS to evaluate the cluster's upgrade insights again (`cluster` shows the result).
    RefreshInsights,
    /// The platform's workloads: rollout state and the cause of a stuck one, history, pods.
    /// Exit 10 when a rollout is stuck.
    Workloads,
    /// The Kubernetes events of the platform's namespace Vigil has captured (EKS keeps them
    /// about an hour); --follow watches for new ones (Ctrl-C stops).
    Events {
        #[arg(long)]
        follow: bool,
    },
    /// The worker's logs across all its pods, in time order; --follow prints new lines as they
    /// come (Ctrl-C stops).
    Logs {
        /// How far back: 30s, 15m, 2h, 1d.
        #[arg(long, default_value = "15m")]
        since: String,
        /// At most this many lines of each pod.
        #[arg(long)]
        tail: Option<i64>,
        #[arg(long)]
        follow: bool,
    },
    /// Restarts the worker (every pod replaced). In the operator log.
    Restart {
        /// The environment's name, typed to confirm.
        #[arg(long)]
        confirm: String,
    },
    /// Rolls the worker back to an earlier revision (see `workloads`). In the operator log.
    Rollback {
        #[arg(long)]
        revision: i64,
        /// The environment's name, typed to confirm.
        #[arg(long)]
        confirm: String,
    },
    /// Scales the worker within its tier's bounds. In the operator log.
    Scale {
        #[arg(long)]
        replicas: i32,
        /// The environment's name, typed to confirm.
        #[arg(long)]
        confirm: String,
    },
    /// The upgrade cockpit: what moving the cluster to a Kubernetes version does (add-ons,
    /// node groups, disruption budgets) and what blocks it. Changes nothing. Exit 10 when
    /// something blocks it.
    UpgradePlan {
        /// The version to check (the next one EKS offers by default).
        #[arg(long)]
        to: Option<String>,
        /// Another bundle directory (this console's own by default).
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
    /// Upgrades the cluster to the version, once nothing blocks it, as the bundle's eks-upgrade
    /// runbook: add-ons that would not run on it, the control plane, the add-ons to its
    /// defaults, the node groups. A paused run goes on with `vigil dr resume`. Exit codes as
    /// `vigil dr run`.
    Upgrade {
        #[arg(long)]
        to: String,
        /// The cluster's name, typed to confirm (the control plane cannot go back).
        #[arg(long)]
        confirm: String,
        #[arg(long)]
        bundle: Option<PathBuf>,
    },
}

fn print_plan(p: &UpgradePlan) {
    println!("{}: Kubernetes {} → {} (offered: {})", p.cluster, p.from, p.to, p.targets.join(", "));
    if p.blockers.is_empty() {
        println!("nothing blocks it; about {} min as the {} runbook", p.expected_secs.div_ceil(60), p.runbook);
    } else {
        println!("BLOCKED by {}:", p.blockers.len());
    }
    for (label, list) in [("BLOCKER", &p.blockers), ("warning", &p.warnings)] {
        for i in list {
            println!("  {label} [{}] {}: {}", i.kind, i.subject, i.detail);
            println!("      fix: {}", i.fix);
        }
    }
    println!("add-ons:");
    for a in &p.addons {
        let before = a.before.as_deref().map(|v| format!(" → {v} before the control plane")).unwrap_or_default();
        let after = a.after.as_deref().map(|v| format!(" → {v} after it")).unwrap_or_default();
        let stays = if before.is_empty() && after.is_empty() { " (stays)" } else { "" };
        println!("  {:<24} {}{before}{after}{stays}", a.name, a.installed);
    }
    println!("node groups (rolled to {} after the add-ons):", p.to);
    for g in &p.nodegroups {
        println!("  {:<24} {} ({}), {} nodes", g.name, g.version, g.release_version, g.desired);
    }
    println!("pod disruption budgets:");
    for b in &p.budgets {
        println!(
            "  {}/{}: {} eviction(s) allowed ({} healthy, {} wanted) — {}",
            b.namespace,
            b.name,
            b.allowed,
            b.healthy,
            b.desired,
            b.pods.join(", ")
        );
    }
    if p.blockers.is_empty() {
        println!("start it: vigil eks upgrade --to {} --confirm {}", p.to, p.confirm);
    }
}

/// "30s", "15m", "2h", "1d" in seconds.
pub fn seconds(text: &str) -> Result<i64, Failure> {
    let t = text.trim();
    let bad = || crate::usage(&format!("--since {text:?} is not a duration"), "write 30s, 15m, 2h or 1d");
    let (n, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = n.parse().map_err(|_| bad())?;
    let per = match unit {
        "s" => 1,
        "m" | "" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    if n <= 0 {
        return Err(bad());
    }
    Ok(n * per)
}

fn print_workloads(w: &Workloads) {
    for s in &w.services {
        println!("{} ({}) — {}{}", s.deployment, s.service, s.state, s.waiting_for.as_deref().map(|x| format!(": {x}")).unwrap_or_default());
        println!(
            "  revision {} ({}), {} ready / {} desired{}",
            s.revision.map(|r| r.to_string()).unwrap_or_else(|| "?".into()),
            s.images.join(", "),
            s.ready,
            s.desired,
            match (s.min_replicas, s.max_replicas) {
                (Some(lo), Some(hi)) => format!(" (tier allows {lo}–{hi})"),
                _ => String::new(),
            }
        );
        if let Some(f) = &s.failed {
            println!("  kubernetes: {f}");
        }
        if let Some(c) = &s.cause {
            println!("  CAUSE {}: {} — {}", c.kind, c.pod, c.detail);
            println!("    fix: {}", c.hint);
        }
        println!("  history:");
        for r in &s.history {
            println!("    {}{:<4} {:<28} {}", if r.current { "*" } else { " " }, r.revision, r.images.join(","), r.changes.join("; "));
        }
        println!("  pods:");
        for p in &s.pods {
            let readyz = p.readyz.as_ref().map(|(c, b)| format!(" readyz {c} {b}")).unwrap_or_default();
            println!(
                "    {:<36} rev {:<3} {:<8} {} restarts {} {}{}{}",
                p.name,
                p.revision.map(|r| r.to_string()).unwrap_or_default(),
                if p.ready { "ready" } else { p.phase.as_str() },
                if p.ready { "" } else { "NOT READY" },
                p.restarts,
                p.node.as_deref().unwrap_or("unscheduled"),
                p.zone.as_deref().map(|z| format!(" ({z})")).unwrap_or_default(),
                readyz
            );
            if let Some(x) = &p.problem {
                println!("        {x}");
            }
        }
    }
}

fn print_event(e: &KubeEvent) {
    println!(
        "{} {:<7} {:<18} {:<40} {}{}",
        e.time,
        e.kind,
        e.reason,
        e.object,
        e.message,
        if e.count > 1 { format!(" (x{})", e.count) } else { String::new() }
    );
}

fn print_line(l: &LogLine) {
    println!("{} {} {}", l.time, l.pod, l.text);
}

async fn act(app: &App, action: WorkloadAction, confirm: &str, json: bool) -> Result<u8, Failure> {
    let c = app.eks().act(&action, confirm).await?;
    if json {
        print_json(&c);
    } else {
        println!("{}: {}", c.deployment, c.summary);
    }
    Ok(0)
}

fn print_cluster(c: &ClusterOverview) {
    println!("{} — Kubernetes {} ({}), {}", c.name, c.version, c.platform_version, c.status);
    let s = &c.support;
    let days = s.days_left.map(|d| if d < 0 { format!(", ended {} days ago", -d) } else { format!(", {d} days left") }).unwrap_or_default();
    println!(
        "  support: {}{days} (standard until {}, extended until {})",
        s.status,
        s.end_of_standard.as_deref().unwrap_or("?"),
        s.end_of_extended.as_deref().unwrap_or("?")
    );
    println!("  next version: {}", c.next.as_deref().unwrap_or("none (this is the newest EKS offers)"));
    let public = if c.endpoint_public { format!("public from {}", c.public_cidrs.join(", ")) } else { "not public".into() };
    println!("  endpoint: {} ({public}; {})", c.endpoint, if c.endpoint_private { "private in the VPC" } else { "not private" });
    println!("  logging: {}", if c.logging.is_empty() { "off".into() } else { c.logging.join(", ") });
    println!("  secrets encryption: {}", c.secrets_key.as_deref().unwrap_or("OFF"));
    println!("node groups:");
    for g in &c.nodegroups {
        println!(
            "  {:<24} {:<10} {} ({}) {} desired {} ({}–{})",
            g.name,
            g.status,
            g.version,
            g.release_version,
            g.instance_types.join(","),
            g.desired,
            g.min,
            g.max
        );
        for i in &g.issues {
            println!("      issue: {i}");
        }
    }
    println!("add-ons:");
    for a in &c.addons {
        let fits = match (a.fits_next, &c.next) {
            (Some(true), Some(n)) => format!("runs on {n}"),
            (Some(false), Some(n)) => format!("NOT on {n}; use {}", a.next_versions.first().map(String::as_str).unwrap_or("(no version yet)")),
            _ => String::new(),
        };
        println!("  {:<24} {:<22} {:<10} {fits}", a.name, a.version, a.status);
        for i in &a.issues {
            println!("      issue: {i}");
        }
    }
    println!("access: Vigil calls the cluster as {}", c.access.caller);
    for e in c.access.entries.iter().flatten() {
        let policies: Vec<String> = e.policies.iter().map(|(p, scope)| format!("{p} ({scope})")).collect();
        println!(
            "  {}{} {} groups [{}] policies [{}]",
            if e.is_caller { "* " } else { "  " },
            e.principal,
            e.kind,
            e.groups.join(", "),
            policies.join(", ")
        );
    }
    if let Some(n) = &c.access.note {
        println!("  {n}");
    }
    if let Some(fix) = &c.access.fix {
        println!("  NO ACCESS for these credentials; give them an entry: {fix}");
    }
    println!("insights{}:", c.insights_refresh.as_deref().map(|r| format!(" (last refresh: {r})")).unwrap_or_default());
    for i in &c.insights {
        println!("  {:<8} {} (for {}): {}", i.status, i.name, i.kubernetes_version, i.reason);
        for (addon, versions) in &i.addons {
            println!("      {addon}: compatible {}", versions.join(", "));
        }
        for (api, with, stops) in &i.deprecations {
            println!("      {api} → {with} (removed in {stops})");
        }
    }
}

pub async fn run(app: &App, cmd: EksCommand, json: bool) -> Result<u8, Failure> {
    match cmd {
        EksCommand::Cluster => {
            let c = app.eks().overview().await?;
            if json {
                print_json(&c);
            } else {
                print_cluster(&c);
            }
            let blocked = c.insights.iter().any(|i| i.status == "ERROR")
                || matches!(c.support.status.as_str(), "EXTENDED_SUPPORT" | "UNSUPPORTED")
                || c.access.caller_has_access == Some(false);
            Ok(if blocked { 10 } else { 0 })
        }
        EksCommand::UpgradePlan { to, bundle } => {
            let p = app.eks().upgrade_plan(bundle.as_deref(), to.as_deref()).await?;
            if json {
                print_json(&p);
            } else {
                print_plan(&p);
            }
            Ok(if p.blockers.is_empty() { 0 } else { 10 })
        }
        EksCommand::Upgrade { to, confirm, bundle } => {
            let r = app.eks().upgrade(bundle.as_deref(), &to, &confirm, &Progress::default()).await?;
            if json {
                print_json(&r);
            } else {
                crate::dr::print_run(&r);
            }
            Ok(crate::dr::run_code(&r))
        }
        EksCommand::RefreshInsights => {
            let started = app.eks().refresh_insights().await?;
            if json {
                print_json(&serde_json::json!({ "started": started }));
            } else if started {
                println!("insights refresh started; `vigil eks cluster` shows the insights when it completes");
            } else {
                println!("an insights refresh is already running");
            }
            Ok(0)
        }
        EksCommand::Workloads => {
            let w = app.eks().workloads().await?;
            if json {
                print_json(&w);
            } else {
                print_workloads(&w);
            }
            Ok(if w.services.iter().any(|s| s.state == "stuck") { 10 } else { 0 })
        }
        EksCommand::Events { follow } => {
            let w = app.eks().workloads().await?;
            if json && !follow {
                print_json(&w.events);
                return Ok(0);
            }
            for e in w.events.iter().rev() {
                print_event(e);
            }
            if follow {
                let json_lines = json;
                let on = move |e: KubeEvent| if json_lines { println!("{}", serde_json::to_string(&e).unwrap_or_default()) } else { print_event(&e) };
                app.eks().watch_events(&on, Arc::new(Progress::default())).await?;
            }
            Ok(0)
        }
        EksCommand::Logs { since, tail, follow } => {
            let json_lines = json;
            let show = move |l: &LogLine| if json_lines { println!("{}", serde_json::to_string(l).unwrap_or_default()) } else { print_line(l) };
            if follow {
                app.eks().follow_logs(tail.or(Some(20)), &move |l: LogLine| show(&l), Arc::new(Progress::default())).await?;
            } else {
                for l in app.eks().logs(Some(seconds(&since)?), tail).await? {
                    show(&l);
                }
            }
            Ok(0)
        }
        EksCommand::Restart { confirm } => act(app, WorkloadAction::Restart, &confirm, json).await,
        EksCommand::Rollback { revision, confirm } => act(app, WorkloadAction::Rollback { revision }, &confirm, json).await,
        EksCommand::Scale { replicas, confirm } => act(app, WorkloadAction::Scale { replicas }, &confirm, json).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_an_operator_writes_them() {
        assert_eq!(super::seconds("30s").ok(), Some(30));
        assert_eq!(super::seconds("15m").ok(), Some(900));
        assert_eq!(super::seconds("2h").ok(), Some(7200));
        assert_eq!(super::seconds("1d").ok(), Some(86_400));
        assert_eq!(super::seconds("5").ok(), Some(300));
        for bad in ["", "0m", "-5m", "5w", "m"] {
            assert!(super::seconds(bad).is_err(), "{bad}");
        }
    }
}

//! `vigil eks …`: the platform's EKS cluster over the same `app.eks()` as the Services page —
//! its version and support dates, endpoint access, logging, encryption, node groups, add-ons
//! (with whether each runs on the next Kubernetes version) and EKS's upgrade insights; an
//! insights refresh. Exit codes of `cluster`: 0, or 10 when an insight is in ERROR or the version
//! is out of standard support.

use crate::{print_json, Failure};
use clap::Subcommand;
use vigil_core::App;
use vigil_dto::eks::ClusterOverview;

#[derive(Subcommand)]
pub enum EksCommand {
    /// The cluster: version and support, endpoint, logging, encryption, node groups, add-ons,
    /// upgrade insights. Exit 10 when an insight is in ERROR or standard support has ended.
    Cluster,
    /// Asks EKS to evaluate the cluster's upgrade insights again (`cluster` shows the result).
    RefreshInsights,
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
            let blocked = c.insights.iter().any(|i| i.status == "ERROR") || matches!(c.support.status.as_str(), "EXTENDED_SUPPORT" | "UNSUPPORTED");
            Ok(if blocked { 10 } else { 0 })
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
    }
}

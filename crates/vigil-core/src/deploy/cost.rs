//! Sizing tiers (deploy-bundles/tiers.json: each stack's parameters and the usage a tier is
//! sized for) and the monthly cost estimate per component, from a price list: the Price List
//! API's where reachable, else the dated snapshot the bundle ships (deploy-bundles/pricing.json).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const HOURS_PER_MONTH: f64 = 730.0;
/// Interface endpoints the network stack makes (SQS, Secrets Manager, Logs, ECR API, ECR
/// Docker, STS), each in three zones.
const INTERFACE_ENDPOINTS: f64 = 6.0;
const ZONES: f64 = 3.0;
/// Per node: the launch template's default disk.
const NODE_DISK_GIB: f64 = 50.0;
/// Keys, secrets and alarms the stacks make.
const KMS_KEYS: f64 = 3.0;
const SECRETS: f64 = 4.0;
const ALARMS: f64 = 12.0;

/// Stack name → parameter → value, as CloudFormation takes them.
pub type StackParameters = BTreeMap<String, BTreeMap<String, String>>;

/// The usage a tier is sized for (it drives the usage-priced lines of the estimate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub documents_gib: f64,
    pub database_gib: f64,
    pub database_io_millions: f64,
    pub backup_gib: f64,
    pub nat_gib: f64,
    pub endpoint_gib: f64,
    pub logs_gib: f64,
    /// Documents per month, in millions (each: S3 writes and three queue requests).
    pub requests_millions: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    pub label: String,
    pub patients: String,
    pub parameters: StackParameters,
    pub usage: Usage,
}

/// A price list: per hour, per GiB, per million requests, per month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    pub region: String,
    pub currency: String,
    /// When the prices were taken (the snapshot's date, or today for the Price List API's).
    pub taken: String,
    pub source: String,
    pub hourly: BTreeMap<String, f64>,
    pub per_gib: BTreeMap<String, f64>,
    pub per_million: BTreeMap<String, f64>,
    pub monthly: BTreeMap<String, f64>,
}

/// One line of an estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub component: &'static str,
    pub item: String,
    pub monthly: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub tier: String,
    pub currency: String,
    pub prices_taken: String,
    pub lines: Vec<Line>,
    pub total: f64,
}

impl Estimate {
    /// The total per component ("cluster", "database", …).
    pub fn by_component(&self) -> BTreeMap<&'static str, f64> {
        let mut out = BTreeMap::new();
        for l in &self.lines {
            *out.entry(l.component).or_insert(0.0) += l.monthly;
        }
        out
    }
}

/// The tiers a bundle defines, by key ("small", "medium", "large").
pub fn tiers(json: &str) -> Result<BTreeMap<String, Tier>> {
    serde_json::from_str(json).map_err(|e| Error::validation("tiers.json", format!("line {}, column {}: {e}", e.line(), e.column())))
}

pub fn prices(json: &str) -> Result<Prices> {
    serde_json::from_str(json).map_err(|e| Error::validation("pricing.json", format!("line {}, column {}: {e}", e.line(), e.column())))
}

fn parameter<'a>(tier: &'a Tier, stack: &str, name: &str) -> Result<&'a str> {
    tier.parameters
        .get(stack)
        .and_then(|p| p.get(name))
        .map(String::as_str)
        .ok_or_else(|| Error::validation("tier", format!("the {stack} stack's {name} is not set")))
}

fn count(tier: &Tier, stack: &str, name: &'static str) -> Result<f64> {
    let v = parameter(tier, stack, name)?;
    v.parse::<u32>().map(f64::from).map_err(|_| Error::validation(name, format!("{v:?} is not a whole number")))
}

fn rate(table: &BTreeMap<String, f64>, key: &str, prices: &Prices) -> Result<f64> {
    table.get(key).copied().ok_or_else(|| {
        Error::validation(
            "price",
            format!(
                "no price for {key} in the {} prices of {} (taken {}); choose a listed type, or refresh the prices",
                prices.region, prices.source, prices.taken
            ),
        )
    })
}

/// The monthly estimate of `tier` (its parameters as the operator left them) at `prices`.
pub fn estimate(name: &str, tier: &Tier, prices: &Prices) -> Result<Estimate> {
    let (h, g, m, mo) = (&prices.hourly, &prices.per_gib, &prices.per_million, &prices.monthly);
    let u = &tier.usage;
    let mut lines = vec![];
    let mut line = |component: &'static str, item: String, monthly: f64| lines.push(Line { component, item, monthly });

    let node_type = parameter(tier, "cluster", "NodeInstanceType")?;
    let nodes = count(tier, "cluster", "NodesDesired")?;
    line("cluster", "EKS control plane".into(), rate(h, "eks:cluster", prices)? * HOURS_PER_MONTH);
    line("cluster", format!("{nodes} × {node_type} nodes"), rate(h, &format!("ec2:{node_type}"), prices)? * nodes * HOURS_PER_MONTH);
    line("cluster", format!("{nodes} × {NODE_DISK_GIB} GiB gp3 node disks"), nodes * NODE_DISK_GIB * rate(g, "ebs:gp3-month", prices)?);

    let class = parameter(tier, "database", "InstanceClass")?;
    let instances = 1.0 + count(tier, "database", "Readers")?;
    line("database", format!("{instances} × {class} (writer + readers)"), rate(h, &format!("rds:{class}"), prices)? * instances * HOURS_PER_MONTH);
    line("database", format!("{} GiB Aurora storage", u.database_gib), u.database_gib * rate(g, "rds:aurora-storage-month", prices)?);
    line("database", format!("{} M Aurora I/O requests", u.database_io_millions), u.database_io_millions * rate(m, "rds:aurora-io", prices)?);

    let cache_type = parameter(tier, "cache", "NodeType")?;
    let cache_nodes = count(tier, "cache", "Nodes")?;
    line("cache", format!("{cache_nodes} × {cache_type}"), rate(h, &format!("elasticache:{cache_type}"), prices)? * cache_nodes * HOURS_PER_MONTH);

    let nat = count(tier, "network", "NatGateways")?;
    line("network", format!("{nat} NAT gateway(s)"), rate(h, "vpc:nat-gateway", prices)? * nat * HOURS_PER_MONTH);
    line("network", format!("{} GiB through NAT", u.nat_gib), u.nat_gib * rate(g, "vpc:nat-processed", prices)?);
    line(
        "network",
        format!("{INTERFACE_ENDPOINTS} interface endpoints in {ZONES} zones"),
        INTERFACE_ENDPOINTS * ZONES * rate(h, "vpc:interface-endpoint-az", prices)? * HOURS_PER_MONTH,
    );
    line("network", format!("{} GiB through endpoints", u.endpoint_gib), u.endpoint_gib * rate(g, "vpc:endpoint-processed", prices)?);

    line("storage", format!("{} GiB of documents (S3 Standard)", u.documents_gib), u.documents_gib * rate(g, "s3:standard-month", prices)?);
    line("storage", format!("{} M S3 writes", u.requests_millions), u.requests_millions * rate(m, "s3:put-requests", prices)?);
    line("storage", format!("{} M queue requests", u.requests_millions * 3.0), u.requests_millions * 3.0 * rate(m, "sqs:requests", prices)?);

    line("backup", format!("{} GiB of recovery points", u.backup_gib), u.backup_gib * rate(g, "backup:warm-month", prices)?);
    line("observability", format!("{} GiB of logs ingested", u.logs_gib), u.logs_gib * rate(g, "logs:ingested", prices)?);
    line("observability", format!("{ALARMS} alarms"), ALARMS * rate(mo, "cloudwatch:alarm", prices)?);
    line(
        "security",
        format!("{KMS_KEYS} KMS keys, {SECRETS} secrets"),
        KMS_KEYS * rate(mo, "kms:key", prices)? + SECRETS * rate(mo, "secretsmanager:secret", prices)?,
    );

    let total = lines.iter().map(|l| l.monthly).sum();
    Ok(Estimate { tier: name.into(), currency: prices.currency.clone(), prices_taken: prices.taken.clone(), lines, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIERS: &str = include_str!("../../../../deploy-bundles/tiers.json");
    const PRICES: &str = include_str!("../../../../deploy-bundles/pricing.json");

    #[test]
    fn the_default_tiers_land_in_the_platforms_cost_ranges() {
        let (tiers, prices) = (tiers(TIERS).unwrap(), prices(PRICES).unwrap());
        // Monthly ranges the platform promises per tier.
        for (name, low, high) in [("small", 2_500.0, 3_500.0), ("medium", 8_000.0, 12_000.0), ("large", 20_000.0, 35_000.0)] {
            let e = estimate(name, &tiers[name], &prices).unwrap();
            assert!((low..=high).contains(&e.total), "{name}: {:.0} {} not in {low}–{high}: {:#?}", e.total, e.currency, e.by_component());
            assert!(e.lines.iter().all(|l| l.monthly > 0.0), "{name}: every line costs something: {:#?}", e.lines);
            let c = e.by_component();
            for comp in ["cluster", "database", "cache", "network", "storage", "backup", "observability", "security"] {
                assert!(c.contains_key(comp), "{name}: {comp} missing");
            }
        }
    }

    #[test]
    fn an_edited_tier_is_priced_as_edited_and_an_unknown_type_is_refused() {
        let (tiers, prices) = (tiers(TIERS).unwrap(), prices(PRICES).unwrap());
        let mut t = tiers["small"].clone();
        let base = estimate("small", &t, &prices).unwrap().total;
        t.parameters.get_mut("cluster").unwrap().insert("NodesDesired".into(), "4".into());
        let more = estimate("small", &t, &prices).unwrap().total;
        let one_node = prices.hourly["ec2:m7i.2xlarge"] * HOURS_PER_MONTH + NODE_DISK_GIB * prices.per_gib["ebs:gp3-month"];
        assert!((more - base - one_node).abs() < 0.01, "{base} → {more}");
        t.parameters.get_mut("database").unwrap().insert("InstanceClass".into(), "db.x9.huge".into());
        let e = estimate("small", &t, &prices).unwrap_err();
        assert!(e.to_string().contains("rds:db.x9.huge") && e.to_string().contains("taken 2026-11-30"), "{e}");
        t.parameters.get_mut("database").unwrap().insert("Readers".into(), "two".into());
        assert!(estimate("small", &t, &prices).unwrap_err().to_string().contains("not a whole number"));
    }
}

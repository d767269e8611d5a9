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
    /// The hourly keys the Price List API priced (the rest are the snapshot's).
    #[serde(default)]
    pub live: Vec<String>,
    /// What the operator should know about these prices (why the API was not used, …).
    #[serde(default)]
    pub notes: Vec<String>,
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
    pub source: String,
    pub notes: Vec<String>,
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
    Ok(Estimate {
        tier: name.into(),
        currency: prices.currency.clone(),
        prices_taken: prices.taken.clone(),
        source: prices.source.clone(),
        notes: prices.notes.clone(),
        lines,
        total,
    })
}

/// One hourly price of the estimate as the Price List API is asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveQuery {
    /// The price list key it replaces ("ec2:m7i.2xlarge").
    pub key: String,
    pub service_code: &'static str,
    pub filters: Vec<(&'static str, String)>,
}

/// The prices of `tier` in `region` that depend on what the operator chose (node, database and
/// cache types); the fixed small items stay the snapshot's.
pub fn live_queries(tier: &Tier, region: &str) -> Result<Vec<LiveQuery>> {
    let at = |extra: &[(&'static str, &str)]| {
        let mut f = vec![("regionCode", region.to_string())];
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let node = parameter(tier, "cluster", "NodeInstanceType")?;
    let class = parameter(tier, "database", "InstanceClass")?;
    let cache = parameter(tier, "cache", "NodeType")?;
    Ok(vec![
        LiveQuery {
            key: format!("ec2:{node}"),
            service_code: "AmazonEC2",
            filters: at(&[
                ("instanceType", node),
                ("operatingSystem", "Linux"),
                ("tenancy", "Shared"),
                ("preInstalledSw", "NA"),
                ("capacitystatus", "Used"),
            ]),
        },
        LiveQuery {
            key: format!("rds:{class}"),
            service_code: "AmazonRDS",
            filters: at(&[("instanceType", class), ("databaseEngine", "Aurora PostgreSQL")]),
        },
        LiveQuery {
            key: format!("elasticache:{cache}"),
            service_code: "AmazonElastiCache",
            filters: at(&[("instanceType", cache), ("cacheEngine", "Redis")]),
        },
    ])
}

/// The one on-demand hourly price among `products`: the Aurora I/O-Optimized configuration is
/// left out (the platform's cluster is Aurora Standard); different prices left are ambiguous.
pub fn hourly_of(products: &[vigil_aws::pricing::OnDemand]) -> std::result::Result<f64, String> {
    let mut prices: Vec<f64> = products
        .iter()
        .filter(|p| p.unit.eq_ignore_ascii_case("hrs") && p.usd > 0.0 && !p.usage_type.contains("IOOptimized"))
        .map(|p| p.usd)
        .collect();
    prices.sort_by(f64::total_cmp);
    prices.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    match prices.as_slice() {
        [one] => Ok(*one),
        [] => Err("no on-demand hourly price is listed".into()),
        many => {
            Err(format!("{} different hourly prices are listed ({})", many.len(), many.iter().map(|p| format!("{p}")).collect::<Vec<_>>().join(", ")))
        }
    }
}

/// `snapshot` with the Price List API's answers (`answers`: each query's key and what came
/// back) in place of its own, saying which prices came from where.
pub fn with_live(
    snapshot: &Prices,
    region: &str,
    today: &str,
    answers: Vec<(String, std::result::Result<Vec<vigil_aws::pricing::OnDemand>, vigil_aws::AwsError>)>,
) -> Prices {
    let mut out = snapshot.clone();
    let mut failures: Vec<String> = vec![];
    for (key, answer) in answers {
        match answer.map_err(|e| e.to_string()).and_then(|p| hourly_of(&p)) {
            Ok(usd) => {
                out.hourly.insert(key.clone(), usd);
                out.live.push(key);
            }
            Err(why) => {
                let line = format!("{key}: {why}");
                if !failures.iter().any(|f| f.ends_with(&why)) {
                    failures.push(line);
                }
            }
        }
    }
    if !out.live.is_empty() {
        out.region = region.to_string();
        out.taken = today.to_string();
        out.source = format!(
            "the AWS Price List API ({region}, {today}) for {}; the bundle's {} snapshot of {} for the rest",
            out.live.join(", "),
            snapshot.region,
            snapshot.taken
        );
    }
    if !failures.is_empty() {
        out.notes.push(format!(
            "The Price List API did not give {} ({}); the bundle's snapshot of {} is used there.",
            if out.live.is_empty() { "the prices" } else { "every price" },
            failures.join("; "),
            snapshot.taken
        ));
    }
    if snapshot.region != region {
        out.notes.push(match out.live.is_empty() {
            true => format!("The snapshot's prices are {}'s; {region}'s may differ.", snapshot.region),
            false => format!("The other items' prices are the snapshot's for {}; {region}'s may differ.", snapshot.region),
        });
    }
    out
}

/// The prices for `tier` in `region`: the Price List API's where it answers, else the
/// snapshot's; without `pricing` (an emulator has no Price List API) the snapshot's, said so.
/// What could not be priced live says why in the notes.
pub async fn prices_for(pricing: Option<&vigil_aws::pricing::Pricing>, snapshot: &Prices, tier: &Tier, region: &str) -> Result<Prices> {
    let queries = live_queries(tier, region)?;
    let Some(pricing) = pricing else {
        let mut out = with_live(snapshot, region, "", vec![]);
        out.notes.insert(
            0,
            format!(
                "The environment's AWS endpoint is an emulator, which has no Price List API: these are the bundle's prices of {}.",
                snapshot.taken
            ),
        );
        return Ok(out);
    };
    let asked = queries.iter().map(|q| async move {
        let filters: Vec<(&str, &str)> = q.filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        (q.key.clone(), pricing.on_demand(q.service_code, &filters).await)
    });
    let answers = futures_util::future::join_all(asked).await;
    Ok(with_live(snapshot, region, &chrono::Utc::now().format("%Y-%m-%d").to_string(), answers))
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

    fn listed(usage: &str, unit: &str, usd: f64) -> vigil_aws::pricing::OnDemand {
        vigil_aws::pricing::OnDemand { sku: usage.into(), usage_type: usage.into(), unit: unit.into(), usd, attributes: Default::default() }
    }

    #[test]
    fn the_price_list_apis_answers_replace_the_snapshots_and_say_so() {
        let (tiers, snapshot) = (tiers(TIERS).unwrap(), prices(PRICES).unwrap());
        let small = &tiers["small"];
        let p = |stack: &str, name: &str| small.parameters[stack][name].clone();
        let q = live_queries(small, "eu-west-1").unwrap();
        let keys: Vec<String> = q.iter().map(|q| q.key.clone()).collect();
        let (node, class, cache) = (p("cluster", "NodeInstanceType"), p("database", "InstanceClass"), p("cache", "NodeType"));
        assert_eq!(keys, [format!("ec2:{node}"), format!("rds:{class}"), format!("elasticache:{cache}")]);
        assert!(q.iter().all(|q| q.filters.contains(&("regionCode", "eu-west-1".to_string()))));
        assert!(
            q[0].filters.contains(&("instanceType", node.clone())) && q[1].filters.contains(&("databaseEngine", "Aurora PostgreSQL".to_string()))
        );
        let answers = vec![
            (keys[0].clone(), Ok(vec![listed(&format!("EU-BoxUsage:{node}"), "Hrs", 0.448)])),
            // Aurora Standard beside I/O-Optimized: the platform's cluster is Standard.
            (
                keys[1].clone(),
                Ok(vec![
                    listed(&format!("EU-InstanceUsage:{class}"), "Hrs", 0.58),
                    listed(&format!("EU-InstanceUsageIOOptimized:{class}"), "Hrs", 0.75),
                ]),
            ),
            (keys[2].clone(), Ok(vec![listed(&format!("EU-NodeUsage:{cache}"), "Hrs", 0.244)])),
        ];
        let live = with_live(&snapshot, "eu-west-1", "2026-12-01", answers);
        assert_eq!([live.hourly[&keys[0]], live.hourly[&keys[1]], live.hourly[&keys[2]]], [0.448, 0.58, 0.244]);
        assert_eq!(live.live, keys);
        assert_eq!((live.region.as_str(), live.taken.as_str()), ("eu-west-1", "2026-12-01"));
        assert!(live.source.contains("Price List API (eu-west-1, 2026-12-01)") && live.source.contains("snapshot of 2026-11-30"), "{}", live.source);
        assert_eq!(live.notes, ["The other items' prices are the snapshot's for us-east-1; eu-west-1's may differ."]);
        let (e, at_snapshot) = (estimate("small", small, &live).unwrap(), estimate("small", small, &snapshot).unwrap());
        let n = |stack, name| p(stack, name).parse::<f64>().unwrap();
        let delta = (0.448 - snapshot.hourly[&keys[0]]) * n("cluster", "NodesDesired")
            + (0.58 - snapshot.hourly[&keys[1]]) * (1.0 + n("database", "Readers"))
            + (0.244 - snapshot.hourly[&keys[2]]) * n("cache", "Nodes");
        assert!((e.total - at_snapshot.total - delta * HOURS_PER_MONTH).abs() < 0.01, "{} vs {}", e.total, at_snapshot.total);
        assert_eq!((e.source.as_str(), e.prices_taken.as_str()), (live.source.as_str(), "2026-12-01"));
    }

    #[test]
    fn what_the_api_cannot_price_stays_the_snapshots_with_the_reason() {
        let (tiers, snapshot) = (tiers(TIERS).unwrap(), prices(PRICES).unwrap());
        let q = live_queries(&tiers["medium"], "us-east-1").unwrap();
        let throttled =
            || vigil_aws::AwsError::new(vigil_aws::Kind::Throttled, "pricing:GetProducts failed: ThrottlingException: slow down", "try again");
        // Every call failing the same way: one reason, every price the snapshot's.
        let all_failed = with_live(&snapshot, "us-east-1", "2026-12-01", q.iter().map(|q| (q.key.clone(), Err(throttled()))).collect());
        assert_eq!(all_failed.hourly, snapshot.hourly);
        assert!(all_failed.live.is_empty() && all_failed.source == snapshot.source && all_failed.taken == snapshot.taken);
        assert_eq!(all_failed.notes.len(), 1, "{:?}", all_failed.notes);
        assert!(
            all_failed.notes[0].contains("ThrottlingException") && all_failed.notes[0].contains("snapshot of 2026-11-30"),
            "{:?}",
            all_failed.notes
        );
        // One answered, one ambiguous, one not listed.
        let answers = vec![
            (q[0].key.clone(), Ok(vec![listed("BoxUsage", "Hrs", 0.41)])),
            (q[1].key.clone(), Ok(vec![listed("InstanceUsage", "Hrs", 2.1), listed("Multi-AZUsage", "Hrs", 4.2)])),
            (q[2].key.clone(), Ok(vec![listed("NodeUsage", "Quantity", 100.0)])),
        ];
        let some = with_live(&snapshot, "us-east-1", "2026-12-01", answers);
        assert_eq!(some.live, [q[0].key.clone()]);
        assert_eq!(some.hourly[&q[0].key], 0.41);
        assert_eq!(some.hourly[&q[1].key], snapshot.hourly[&q[1].key]);
        let note = &some.notes[0];
        assert!(note.contains("2 different hourly prices") && note.contains("no on-demand hourly price"), "{note}");
        assert_eq!(some.notes.len(), 1, "same region as the snapshot: no region note: {:?}", some.notes);
    }
}

//! Preflight: before any change, whether this account and region can take the platform —
//! each check pass/warn/fail, with what to do and the API it asked: zones, the VPC block, the
//! node and database classes offered, the stack names, CloudTrail and an AWS Config recorder.

use super::bundle::Bundle;
use super::cost::Tier;
use super::plan::{is_ours, is_settled, is_unborn, name_in_use, recovery};
use super::templates::{stack_name, STACKS};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use vigil_aws::cloudformation::CloudFormation;
use vigil_aws::cloudtrail::{CloudTrail, TrailInfo};
use vigil_aws::configservice::{ConfigService, RecorderInfo};
use vigil_aws::ec2::{Ec2, VpcInfo};
use vigil_aws::rds::Rds;
use vigil_aws::AwsError;
use vigil_dto::deploy::{CheckStatus, PreflightCheck};

fn check(id: &str, title: &str, api: &str, status: CheckStatus, detail: String, fix: Option<String>) -> PreflightCheck {
    PreflightCheck { id: id.into(), title: title.into(), status, detail, fix, api: api.into() }
}

/// A check that could not ask AWS: failed, with the classified error's message and hint.
fn unanswered(id: &str, title: &str, api: &str, e: &AwsError) -> PreflightCheck {
    check(id, title, api, CheckStatus::Fail, e.message.clone(), e.hint.clone())
}

/// An IPv4 block "a.b.c.d/n" as (first address, prefix length).
pub fn parse_cidr(cidr: &str) -> Option<(u32, u8)> {
    let (addr, len) = cidr.trim().split_once('/')?;
    let addr: Ipv4Addr = addr.parse().ok()?;
    let len: u8 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((u32::from(addr) & mask, len))
}

/// Whether two IPv4 blocks share an address.
pub fn overlaps(a: (u32, u8), b: (u32, u8)) -> bool {
    let len = a.1.min(b.1);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    a.0 & mask == b.0 & mask
}

pub fn zones(result: Result<Vec<String>, AwsError>) -> PreflightCheck {
    let (id, title, api) = ("zones", "Three availability zones", "ec2:DescribeAvailabilityZones");
    match result {
        Err(e) => unanswered(id, title, api, &e),
        Ok(z) if z.len() >= 3 => check(id, title, api, CheckStatus::Pass, format!("{} zones: {}", z.len(), z.join(", ")), None),
        Ok(z) => check(
            id,
            title,
            api,
            CheckStatus::Fail,
            format!("only {} zone(s) available: {}", z.len(), z.join(", ")),
            Some("the platform spreads its subnets, database and cache over three zones: choose a region with three or more".into()),
        ),
    }
}

/// The platform's VPC block against the VPCs already in the region (the platform's own, on an
/// upgrade, is left out).
pub fn cidr(planned: &str, result: Result<Vec<VpcInfo>, AwsError>, own_vpc: Option<&str>) -> PreflightCheck {
    let (id, title, api) = ("cidr", "VPC address block free", "ec2:DescribeVpcs");
    let Some(block) = parse_cidr(planned).filter(|b| b.1 == 16) else {
        return check(
            id,
            title,
            api,
            CheckStatus::Fail,
            format!("{planned:?} is not an IPv4 /16 block"),
            Some("set the network stack's VpcCidr to a /16 such as 10.40.0.0/16".into()),
        );
    };
    let vpcs = match result {
        Ok(v) => v,
        Err(e) => return unanswered(id, title, api, &e),
    };
    let clashes: Vec<String> = vpcs
        .iter()
        .filter(|v| Some(v.id.as_str()) != own_vpc)
        .filter_map(|v| {
            let hit = v.cidrs.iter().find(|c| parse_cidr(c).is_some_and(|b| overlaps(b, block)))?;
            Some(format!("{} ({}{})", v.id, hit, v.name.as_ref().map(|n| format!(", {n}")).unwrap_or_default()))
        })
        .collect();
    if clashes.is_empty() {
        check(id, title, api, CheckStatus::Pass, format!("{planned} overlaps none of the region's {} VPC(s)", vpcs.len()), None)
    } else {
        check(
            id,
            title,
            api,
            CheckStatus::Fail,
            format!("{planned} overlaps {}", clashes.join("; ")),
            Some("choose another /16 for the network stack's VpcCidr (peering and VPN routes need blocks that do not overlap)".into()),
        )
    }
}

/// The node type offered in at least three zones.
pub fn instance_type(
    node_type: &str,
    result: Result<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>, AwsError>,
) -> PreflightCheck {
    let (id, title, api) = ("instance-type", "Node instance type offered", "ec2:DescribeInstanceTypeOfferings");
    match result {
        Err(e) => unanswered(id, title, api, &e),
        Ok(found) => {
            let zones = found.get(node_type).cloned().unwrap_or_default();
            match zones.len() {
                n if n >= 3 => check(id, title, api, CheckStatus::Pass, format!("{node_type} is offered in {n} zones"), None),
                0 => check(
                    id,
                    title,
                    api,
                    CheckStatus::Fail,
                    format!("{node_type} is not offered in this region"),
                    Some("choose another NodeInstanceType for the cluster stack (the tier's default is offered in most regions)".into()),
                ),
                n => check(
                    id,
                    title,
                    api,
                    CheckStatus::Warn,
                    format!("{node_type} is offered in only {n} zone(s): {}", zones.into_iter().collect::<Vec<_>>().join(", ")),
                    Some("nodes will run only there; choose a type offered in three zones to survive a zone's loss".into()),
                ),
            }
        }
    }
}

/// The Aurora instance class offered for aurora-postgresql in a zone for the writer and each
/// reader (the database stack puts each in its own zone).
pub fn database_class(class: &str, readers: usize, result: Result<BTreeSet<String>, AwsError>) -> PreflightCheck {
    let (id, title, api) = ("database-class", "Database instance class offered", "rds:DescribeOrderableDBInstanceOptions");
    let needed = readers + 1;
    match result {
        Err(e) => unanswered(id, title, api, &e),
        Ok(zones) if zones.is_empty() => check(
            id,
            title,
            api,
            CheckStatus::Fail,
            format!("{class} is not offered for Aurora PostgreSQL in this region"),
            Some("choose another InstanceClass for the database stack (db.r6g and db.r6i classes are offered in most regions)".into()),
        ),
        Ok(zones) if zones.len() < needed => check(
            id,
            title,
            api,
            CheckStatus::Fail,
            format!("{class} is offered in {} zone(s), and the writer and {readers} reader(s) need {needed}", zones.len()),
            Some("choose a class offered in more zones, or fewer Readers".into()),
        ),
        Ok(zones) => check(
            id,
            title,
            api,
            CheckStatus::Pass,
            format!("{class} is offered in {} zones (the writer and {readers} reader(s) need {needed})", zones.len()),
            None,
        ),
    }
}

/// A trail that logs this region: the record of every API call made to the account.
pub fn cloudtrail(result: Result<Vec<TrailInfo>, AwsError>) -> PreflightCheck {
    let (id, title, api) = ("cloudtrail", "CloudTrail on", "cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus");
    match result {
        Err(e) => unanswered(id, title, api, &e),
        Ok(trails) => {
            let logging: Vec<&TrailInfo> = trails.iter().filter(|t| t.logging).collect();
            match logging.iter().find(|t| t.multi_region).or(logging.first()) {
                Some(t) if t.multi_region => {
                    let whose = if t.organization { "the organization's" } else { "the account's" };
                    check(id, title, api, CheckStatus::Pass, format!("{whose} multi-region trail {} is logging", t.name), None)
                }
                Some(t) => check(
                    id,
                    title,
                    api,
                    CheckStatus::Warn,
                    format!("trail {} logs this region only", t.name),
                    Some("a multi-region trail also records calls made in other regions (a DR failover's, say)".into()),
                ),
                None => check(
                    id,
                    title,
                    api,
                    CheckStatus::Warn,
                    if trails.is_empty() { "no trail covers this region".into() } else { format!("{} trail(s), none logging", trails.len()) },
                    Some("turn on a multi-region CloudTrail trail: a platform holding health data needs a record of every change made to it".into()),
                ),
            }
        }
    }
}

/// A Config recorder that records: AWS Backup's audit controls read what it records.
pub fn config_recorder(result: Result<Vec<RecorderInfo>, AwsError>) -> PreflightCheck {
    let (id, title, api) = ("config", "AWS Config recorder", "config:DescribeConfigurationRecorders, config:DescribeConfigurationRecorderStatus");
    match result {
        Err(e) => unanswered(id, title, api, &e),
        Ok(recorders) => match recorders.iter().find(|r| r.recording) {
            Some(r) if r.all_supported => check(id, title, api, CheckStatus::Pass, format!("recorder {} records every supported type", r.name), None),
            Some(r) => check(
                id,
                title,
                api,
                CheckStatus::Warn,
                format!("recorder {} records chosen types only", r.name),
                Some("make sure it records the backup resources (AWS::Backup::*, AWS::RDS::DBCluster, AWS::S3::Bucket)".into()),
            ),
            None => check(
                id,
                title,
                api,
                CheckStatus::Warn,
                if recorders.is_empty() { "no configuration recorder in this region".into() } else { "the recorder is stopped".into() },
                Some("set up AWS Config in this region (a recorder that records): the backup audit controls need it".into()),
            ),
        },
    }
}

/// The platform's stack names: free (a new deploy), or stacks that can be updated.
pub async fn stacks(cf: &CloudFormation, platform_env: &str) -> (PreflightCheck, Option<String>) {
    let (id, title, api) = ("stacks", "Stack names", "cloudformation:DescribeStacks");
    let mut existing = vec![];
    let mut blocked = vec![];
    let mut own_vpc = None;
    for stack in STACKS {
        let name = stack_name(platform_env, stack);
        match cf.stack(&name).await {
            Err(e) => return (unanswered(id, title, api, &e), None),
            Ok(None) => {}
            Ok(Some(s)) if !is_ours(&s, platform_env) => blocked.push(name_in_use(&name).to_string()),
            Ok(Some(s)) if is_unborn(&s) => {}
            Ok(Some(s)) if is_settled(&s.status) => {
                if stack == "network" {
                    own_vpc = s.outputs.iter().find(|(k, _)| k == "VpcId").map(|(_, v)| v.clone());
                }
                existing.push(name);
            }
            Ok(Some(s)) => blocked.push(recovery(&name, &s.status)),
        }
    }
    let result = if !blocked.is_empty() {
        check(id, title, api, CheckStatus::Fail, blocked.join("; "), Some("recover the stacks named, then run preflight again".into()))
    } else if existing.is_empty() {
        check(id, title, api, CheckStatus::Pass, format!("none of pj-{platform_env}-… exists: a new deployment"), None)
    } else {
        check(
            id,
            title,
            api,
            CheckStatus::Pass,
            format!("{} of {} stacks exist and will be updated by their change sets", existing.len(), STACKS.len()),
            None,
        )
    };
    (result, own_vpc)
}

/// The tier's value of `stack`.`name`, else the template's default.
pub fn value(bundle: &Bundle, tier: &Tier, stack: &str, name: &str) -> String {
    tier.parameters
        .get(stack)
        .and_then(|p| p.get(name))
        .cloned()
        .or_else(|| bundle.template(stack).parameters.iter().find(|p| p.name == name).and_then(|p| p.default.clone()))
        .unwrap_or_default()
}

/// The services preflight asks, for one operation.
pub struct Services {
    pub ec2: Ec2,
    pub cf: CloudFormation,
    pub rds: Rds,
    pub cloudtrail: CloudTrail,
    pub config: ConfigService,
}

pub async fn run(aws: &Services, bundle: &Bundle, tier: &Tier, platform_env: &str) -> Vec<PreflightCheck> {
    let (stacks, own_vpc) = stacks(&aws.cf, platform_env).await;
    let node_type = value(bundle, tier, "cluster", "NodeInstanceType");
    let db_class = value(bundle, tier, "database", "InstanceClass");
    let readers = value(bundle, tier, "database", "Readers").parse().unwrap_or(1);
    vec![
        zones(aws.ec2.availability_zones().await),
        cidr(&value(bundle, tier, "network", "VpcCidr"), aws.ec2.vpcs().await, own_vpc.as_deref()),
        instance_type(&node_type, aws.ec2.instance_type_zones(std::slice::from_ref(&node_type)).await),
        database_class(&db_class, readers, aws.rds.orderable_zones("aurora-postgresql", &db_class).await),
        stacks,
        cloudtrail(aws.cloudtrail.trails().await),
        config_recorder(aws.config.recorders().await),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vpc(id: &str, cidrs: &[&str]) -> VpcInfo {
        VpcInfo { id: id.into(), name: Some("legacy".into()), cidrs: cidrs.iter().map(|c| c.to_string()).collect() }
    }

    #[test]
    fn blocks_overlap_when_they_share_an_address() {
        let b = |s| parse_cidr(s).unwrap();
        assert!(overlaps(b("10.40.0.0/16"), b("10.40.128.0/20")));
        assert!(overlaps(b("10.0.0.0/8"), b("10.40.0.0/16")));
        assert!(!overlaps(b("10.40.0.0/16"), b("10.41.0.0/16")));
        assert!(!overlaps(b("172.31.0.0/16"), b("10.40.0.0/16")));
        assert_eq!(parse_cidr("10.40.1.7/16"), Some((u32::from(Ipv4Addr::new(10, 40, 0, 0)), 16)));
        assert_eq!(parse_cidr("10.40.0.0/33"), None);
        assert_eq!(parse_cidr("banana"), None);
    }

    #[test]
    fn the_cidr_check_names_each_clash_and_leaves_out_the_platforms_own_vpc() {
        let vpcs = vec![vpc("vpc-1", &["172.31.0.0/16"]), vpc("vpc-2", &["10.0.0.0/8"]), vpc("vpc-own", &["10.40.0.0/16"])];
        let c = cidr("10.40.0.0/16", Ok(vpcs.clone()), Some("vpc-own"));
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(c.detail.contains("vpc-2 (10.0.0.0/8, legacy)") && !c.detail.contains("vpc-own"), "{}", c.detail);
        assert_eq!(cidr("10.40.0.0/16", Ok(vec![vpcs[0].clone()]), None).status, CheckStatus::Pass);
        assert_eq!(cidr("10.40.0.0/24", Ok(vec![]), None).status, CheckStatus::Fail);
        let e = AwsError::new(vigil_aws::Kind::AccessDenied, "not allowed: ec2:DescribeVpcs", "grant it");
        let c = cidr("10.40.0.0/16", Err(e), None);
        assert_eq!((c.status, c.fix.as_deref()), (CheckStatus::Fail, Some("grant it")));
    }

    #[test]
    fn the_database_class_needs_a_zone_for_the_writer_and_each_reader() {
        let zones = |n: usize| Ok(["a", "b", "c"].iter().take(n).map(|z| z.to_string()).collect());
        assert_eq!(database_class("db.r6g.xlarge", 1, zones(2)).status, CheckStatus::Pass);
        assert_eq!(database_class("db.r6g.xlarge", 2, zones(2)).status, CheckStatus::Fail);
        let none = database_class("db.x9.huge", 1, zones(0));
        assert_eq!(none.status, CheckStatus::Fail);
        assert!(none.fix.unwrap().contains("InstanceClass"));
    }

    #[test]
    fn cloudtrail_and_config_pass_or_warn_with_what_to_do() {
        let trail = |logging, multi_region| TrailInfo { name: "t".into(), multi_region, organization: false, logging };
        assert_eq!(cloudtrail(Ok(vec![trail(false, true), trail(true, true)])).status, CheckStatus::Pass);
        assert_eq!(cloudtrail(Ok(vec![trail(true, false)])).status, CheckStatus::Warn);
        let off = cloudtrail(Ok(vec![trail(false, true)]));
        assert_eq!((off.status, off.detail.as_str()), (CheckStatus::Warn, "1 trail(s), none logging"));
        assert!(off.fix.is_some());
        let denied = AwsError::new(vigil_aws::Kind::AccessDenied, "not allowed: cloudtrail:DescribeTrails", "grant it");
        assert_eq!(cloudtrail(Err(denied)).status, CheckStatus::Fail);
        let recorder = |recording, all_supported| RecorderInfo { name: "default".into(), recording, all_supported };
        assert_eq!(config_recorder(Ok(vec![recorder(true, true)])).status, CheckStatus::Pass);
        assert_eq!(config_recorder(Ok(vec![recorder(true, false)])).status, CheckStatus::Warn);
        assert_eq!(config_recorder(Ok(vec![recorder(false, true)])).detail, "the recorder is stopped");
        assert_eq!(config_recorder(Ok(vec![])).status, CheckStatus::Warn);
    }

    #[test]
    fn zones_and_instance_types_pass_warn_and_fail() {
        assert_eq!(zones(Ok(vec!["a".into(), "b".into(), "c".into()])).status, CheckStatus::Pass);
        assert_eq!(zones(Ok(vec!["a".into(), "b".into()])).status, CheckStatus::Fail);
        let offered = |n: usize| {
            let zones = ["a", "b", "c"].iter().take(n).map(|z| z.to_string()).collect();
            Ok(std::collections::BTreeMap::from([("m7i.large".to_string(), zones)]))
        };
        assert_eq!(instance_type("m7i.large", offered(3)).status, CheckStatus::Pass);
        assert_eq!(instance_type("m7i.large", offered(2)).status, CheckStatus::Warn);
        assert_eq!(instance_type("m7i.large", offered(0)).status, CheckStatus::Fail);
    }
}

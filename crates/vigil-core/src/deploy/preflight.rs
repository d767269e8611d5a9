//! Preflight: before any change, whether this account and region can take the platform —
//! each check pass/warn/fail, with what to do and the API it asked: the bundle's IAM actions
//! simulated for the caller, the service quotas the tier needs against what is in use, zones,
//! the VPC block, the node and database classes offered, the stack names, CloudTrail and an AWS
//! Config recorder.

use super::bundle::Bundle;
use super::cost::Tier;
use super::plan::{is_ours, is_settled, is_unborn, name_in_use, recovery};
use super::templates::{stack_name, STACKS};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use vigil_aws::cloudformation::CloudFormation;
use vigil_aws::cloudtrail::{CloudTrail, TrailInfo};
use vigil_aws::cloudwatch::CloudWatch;
use vigil_aws::configservice::{ConfigService, RecorderInfo};
use vigil_aws::ec2::{Ec2, VpcInfo};
use vigil_aws::iam::{Iam, Principal};
use vigil_aws::rds::Rds;
use vigil_aws::servicequotas::{QuotaInfo, ServiceQuotas};
use vigil_aws::{AwsError, Kind};
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

/// The bundle's IAM actions simulated for the caller's principal (`simulated` None: IAM could
/// not simulate it — the root user, a federated user).
pub fn permissions(
    principal: Result<Principal, AwsError>,
    simulated: Option<Result<Vec<(String, String)>, AwsError>>,
    total: usize,
) -> PreflightCheck {
    let (id, title, api) = ("permissions", "The bundle's IAM actions allowed", "iam:SimulatePrincipalPolicy");
    let cannot_simulate = |e: &AwsError| {
        check(
            id,
            title,
            api,
            CheckStatus::Warn,
            format!("IAM would not simulate the caller's permissions: {}", e.message),
            Some(
                "grant iam:SimulatePrincipalPolicy (and iam:GetRole for a role) to check before deploying, or check the bundle's actions (`vigil deploy bundle --json`) with your administrator: without them a missing permission shows only when CloudFormation reaches the resource that needs it"
                    .into(),
            ),
        )
    };
    let arn = match principal {
        Err(e) if e.kind == Kind::AccessDenied => return cannot_simulate(&e),
        Err(e) => return unanswered(id, title, api, &e),
        Ok(Principal::Root) => {
            return check(
                id,
                title,
                api,
                CheckStatus::Warn,
                "signed in as the account's root user: every action is allowed".into(),
                Some("deploy with a role allowed the bundle's actions instead: AWS advises against using the root user for work".into()),
            )
        }
        Ok(Principal::Other(arn)) => {
            return check(
                id,
                title,
                api,
                CheckStatus::Warn,
                format!("IAM cannot simulate {arn}"),
                Some("check with your administrator that it allows the bundle's actions (`vigil deploy bundle --json` lists them)".into()),
            )
        }
        Ok(Principal::Simulable(arn)) => arn,
    };
    let decisions = match simulated {
        None => return check(id, title, api, CheckStatus::Warn, format!("{arn} was not simulated"), None),
        Some(Err(e)) if e.kind == Kind::AccessDenied => return cannot_simulate(&e),
        Some(Err(e)) => return unanswered(id, title, api, &e),
        Some(Ok(d)) => d,
    };
    let denied: Vec<String> = decisions.iter().filter(|(_, d)| d != "allowed").map(|(a, d)| format!("{a} ({d})")).collect();
    if denied.is_empty() {
        return check(id, title, api, CheckStatus::Pass, format!("all {total} actions allowed for {arn}"), None);
    }
    let shown = denied.iter().take(12).cloned().collect::<Vec<_>>().join(", ");
    let more = if denied.len() > 12 { format!(" and {} more", denied.len() - 12) } else { String::new() };
    check(
        id,
        title,
        api,
        CheckStatus::Fail,
        format!("{} of {total} actions are not allowed for {arn}: {shown}{more}", denied.len()),
        Some("allow them for this principal (the bundle's iam-actions.txt lists every action the deploy needs); an explicit deny comes from a policy, a permissions boundary or an SCP and must be lifted there".into()),
    )
}

/// A quota the tier needs: how much of it, with the quota as read and what is in use.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaNeed {
    pub what: String,
    pub need: f64,
    pub quota: Option<QuotaInfo>,
    /// From the quota's CloudWatch usage metric; None when it publishes none.
    pub used: Option<f64>,
}

/// Each quota against what the tier needs on top of what is in use.
pub fn quotas(needs: Result<Vec<QuotaNeed>, AwsError>, platform_exists: bool) -> PreflightCheck {
    let (id, title, api) = ("quotas", "Service quotas", "servicequotas:GetServiceQuota, cloudwatch:GetMetricData");
    let needs = match needs {
        Err(e) if e.kind == Kind::AccessDenied => {
            return check(
                id,
                title,
                api,
                CheckStatus::Warn,
                format!("the quotas could not be read: {}", e.message),
                Some("grant servicequotas:GetServiceQuota and cloudwatch:GetMetricData, or compare the quotas with the tier by hand in the Service Quotas console".into()),
            )
        }
        Err(e) => return unanswered(id, title, api, &e),
        Ok(n) => n,
    };
    let mut short = vec![];
    let mut unknown = vec![];
    let mut ok = vec![];
    for n in &needs {
        let Some(q) = &n.quota else {
            unknown.push(n.what.clone());
            continue;
        };
        let used = n.used.unwrap_or(0.0);
        // An update reuses what the platform already holds.
        let need = if platform_exists { 0.0 } else { n.need };
        if need > q.value - used {
            short.push(format!("{}: needs {need}, quota {} with {used} in use", n.what, q.value));
        } else {
            ok.push(format!("{} {need} of {} ({used} in use)", n.what, q.value));
        }
    }
    if !short.is_empty() {
        return check(
            id,
            title,
            api,
            CheckStatus::Fail,
            short.join("; "),
            Some("ask for an increase in the Service Quotas console (most are granted within hours), or choose a smaller tier".into()),
        );
    }
    if !unknown.is_empty() {
        return check(
            id,
            title,
            api,
            CheckStatus::Warn,
            format!("no quota found for {}; {}", unknown.join(", "), ok.join("; ")),
            Some("check these in the Service Quotas console".into()),
        );
    }
    check(id, title, api, CheckStatus::Pass, ok.join("; "), None)
}

/// What the tier needs of each quota (service, quota code, what), and the vCPUs of its nodes.
pub fn tier_needs(bundle: &Bundle, tier: &Tier, node_vcpus: Option<i32>) -> Vec<(&'static str, &'static str, String, f64)> {
    let num = |stack: &str, p: &str| value(bundle, tier, stack, p).parse::<f64>().unwrap_or(1.0);
    let mut needs = vec![
        ("vpc", "L-F678F1CE", "VPCs".to_string(), 1.0),
        ("vpc", "L-FE5A380F", "NAT gateways per zone".to_string(), 1.0),
        ("ec2", "L-0263D0A3", "Elastic IPs".to_string(), num("network", "NatGateways")),
        ("eks", "L-1194D53C", "EKS clusters".to_string(), 1.0),
        ("rds", "L-952B80B8", "DB clusters".to_string(), 1.0),
        ("rds", "L-7B6409FD", "DB instances".to_string(), 1.0 + num("database", "Readers")),
    ];
    if let Some(v) = node_vcpus {
        needs.push(("ec2", "L-1216C47A", "On-Demand standard vCPUs".to_string(), num("cluster", "NodesMax") * v as f64));
    }
    needs
}

/// Reads each quota and its usage (the largest value over the last hour).
async fn read_quotas(aws: &Services, needs: Vec<(&'static str, &'static str, String, f64)>) -> Result<Vec<QuotaNeed>, AwsError> {
    use vigil_aws::cloudwatch::{DataQuery, DataSource};
    let mut out = vec![];
    for (service, code, what, need) in needs {
        out.push(QuotaNeed { what, need, quota: aws.quotas.quota(service, code).await?, used: None });
    }
    let queries: Vec<DataQuery> = out
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let m = n.quota.as_ref()?.usage.as_ref()?;
            Some(DataQuery {
                id: format!("q{i}"),
                label: n.what.clone(),
                period: 300,
                return_data: true,
                source: DataSource::Metric {
                    namespace: m.namespace.clone(),
                    metric: m.name.clone(),
                    dimensions: m.dimensions.clone(),
                    stat: m.statistic.clone(),
                },
            })
        })
        .collect();
    if !queries.is_empty() {
        let end = chrono::Utc::now().timestamp() / 60 * 60;
        let (results, _) = vigil_aws::cloudwatch::get_metric_data(&aws.cw, &queries, end - 3600, end).await?;
        for (i, n) in out.iter_mut().enumerate() {
            if let Some(r) = results.get(&format!("q{i}")) {
                n.used = r.values.iter().map(|(_, v)| *v).reduce(f64::max);
            }
        }
    }
    Ok(out)
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
    pub iam: Iam,
    pub quotas: ServiceQuotas,
    pub cw: CloudWatch,
}

pub async fn run(aws: &Services, bundle: &Bundle, tier: &Tier, platform_env: &str, caller: &str) -> Vec<PreflightCheck> {
    let (stacks, own_vpc) = stacks(&aws.cf, platform_env).await;
    let node_type = value(bundle, tier, "cluster", "NodeInstanceType");
    let db_class = value(bundle, tier, "database", "InstanceClass");
    let readers = value(bundle, tier, "database", "Readers").parse().unwrap_or(1);
    let principal = aws.iam.principal_of(caller).await;
    let simulated = match &principal {
        Ok(Principal::Simulable(arn)) => Some(aws.iam.simulate(arn, &bundle.manifest.iam_actions).await),
        _ => None,
    };
    let needs = match aws.ec2.vcpus(&node_type).await {
        Ok(vcpus) => read_quotas(aws, tier_needs(bundle, tier, vcpus)).await,
        Err(e) => Err(e),
    };
    vec![
        permissions(principal, simulated, bundle.manifest.iam_actions.len()),
        quotas(needs, own_vpc.is_some()),
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
    fn permissions_fail_naming_what_is_denied_and_warn_when_simulation_is_not_possible() {
        let arn = || Ok(Principal::Simulable("arn:aws:iam::1:role/Deployer".into()));
        let decided = |d: &[(&str, &str)]| Some(Ok(d.iter().map(|(a, d)| (a.to_string(), d.to_string())).collect()));
        let ok = permissions(arn(), decided(&[("ec2:CreateVpc", "allowed"), ("eks:CreateCluster", "allowed")]), 2);
        assert_eq!(ok.status, CheckStatus::Pass, "{}", ok.detail);
        let denied = permissions(arn(), decided(&[("ec2:CreateVpc", "allowed"), ("eks:CreateCluster", "explicitDeny")]), 2);
        assert_eq!(denied.status, CheckStatus::Fail);
        assert!(denied.detail.contains("1 of 2 actions") && denied.detail.contains("eks:CreateCluster (explicitDeny)"), "{}", denied.detail);
        let refused = AwsError::new(Kind::AccessDenied, "iam:SimulatePrincipalPolicy failed: AccessDenied", "grant it");
        let c = permissions(arn(), Some(Err(refused.clone())), 2);
        assert_eq!(c.status, CheckStatus::Warn);
        assert!(c.fix.unwrap().contains("iam:SimulatePrincipalPolicy"));
        assert_eq!(permissions(Err(refused), None, 2).status, CheckStatus::Warn);
        assert_eq!(permissions(Ok(Principal::Root), None, 2).status, CheckStatus::Warn);
        let down = AwsError::new(Kind::Service, "iam:SimulatePrincipalPolicy failed: HTTP 500", "try again");
        assert_eq!(permissions(arn(), Some(Err(down)), 2).status, CheckStatus::Fail);
    }

    #[test]
    fn a_quota_short_of_what_the_tier_needs_on_top_of_what_is_used_fails() {
        let q = |value: f64| Some(QuotaInfo { service: "ec2".into(), code: "L-1216C47A".into(), name: "vCPUs".into(), value, usage: None });
        let need = |need: f64, value: f64, used: Option<f64>| QuotaNeed { what: "On-Demand standard vCPUs".into(), need, quota: q(value), used };
        assert_eq!(quotas(Ok(vec![need(40.0, 64.0, Some(8.0))]), false).status, CheckStatus::Pass);
        let short = quotas(Ok(vec![need(40.0, 64.0, Some(30.0))]), false);
        assert_eq!(short.status, CheckStatus::Fail);
        assert!(short.detail.contains("needs 40, quota 64 with 30 in use"), "{}", short.detail);
        // An update of a deployed platform needs nothing new.
        assert_eq!(quotas(Ok(vec![need(40.0, 64.0, Some(60.0))]), true).status, CheckStatus::Pass);
        let unknown = QuotaNeed { quota: None, ..need(1.0, 1.0, None) };
        assert_eq!(quotas(Ok(vec![unknown]), false).status, CheckStatus::Warn);
        let denied = AwsError::new(Kind::AccessDenied, "servicequotas:GetServiceQuota failed: AccessDenied", "grant it");
        assert_eq!(quotas(Err(denied), false).status, CheckStatus::Warn);
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

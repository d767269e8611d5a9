//! Making the DR region the environment's (`platform.use_region`), once a regional runbook has
//! moved the platform's writer and worker there: the environment's region and its DR region
//! swap, and with them the database cluster (`db_cluster_id` and `secondary_cluster_arn`), the
//! work queue (`queue_url` and `secondary_queue_url`) and the console's own database connection
//! when it named the old writer. Dashboards, alarms, the job ledger and the next runbook then
//! read the region the platform runs in, not a read-only secondary.
//!
//! `home_region` remembers where the platform's stacks were deployed while it runs elsewhere: a
//! deploy is refused then (it would make a second platform), and the DR lease stays in its
//! bucket there. The switch back clears it. The other deployment parameters (the EKS cluster's,
//! the log groups', the vault's names) are kept: the DR region's stacks are made from the same
//! templates with the same names.

use crate::core::{Core, Record};
use crate::environments::rows;
use crate::error::{Error, Result};
use vigil_aws::rds::ClusterInfo;
use vigil_dto::{Environment, EnvironmentInput};

/// The deployment parameter naming the region of the platform's stacks while it runs in its DR
/// region.
pub const HOME_REGION: &str = "home_region";

/// An Aurora cluster's ARN in its parts.
#[derive(Debug, PartialEq)]
struct ClusterArn<'a> {
    partition: &'a str,
    region: &'a str,
    account: &'a str,
    id: &'a str,
}

fn parse_arn(arn: &str) -> Result<ClusterArn<'_>> {
    match arn.split(':').collect::<Vec<_>>()[..] {
        ["arn", partition, "rds", region, account, "cluster", id] if !region.is_empty() && !id.is_empty() => {
            Ok(ClusterArn { partition, region, account, id })
        }
        _ => Err(Error::validation(
            "cluster",
            format!("`{arn}` is not an Aurora cluster's ARN; write it like arn:aws:rds:eu-west-2:123456789012:cluster:pj-prod-dr"),
        )),
    }
}

/// Whether `env` already runs in `region` on the cluster `cluster_arn` names.
pub fn there(env: &Environment, region: &str, cluster_arn: &str) -> bool {
    parse_arn(cluster_arn).is_ok_and(|a| env.region == region && env.deployment.get("db_cluster_id").map(String::as_str) == Some(a.id))
}

/// The environment once `region` is its own, its database the cluster `cluster_arn` names and,
/// when given, its work queue `queue` (see the module). The console's connection is not touched
/// here ([`follow_console`]).
pub fn swapped(env: &Environment, region: &str, cluster_arn: &str, queue: Option<&str>) -> Result<EnvironmentInput> {
    let arn = parse_arn(cluster_arn)?;
    if arn.region != region {
        return Err(Error::validation("cluster", format!("{cluster_arn} is in {}, not in {region}", arn.region)));
    }
    let Some(old_id) = env.deployment.get("db_cluster_id").cloned() else {
        return Err(Error::Dr {
            kind: "not_deployed",
            message: format!("{} names no platform database cluster (db_cluster_id)", env.name),
            hint: "deploy the platform, or name its cluster: vigil env edit --param db_cluster_id=…".into(),
        });
    };
    let old_region = env.region.clone();
    let mut input = env.to_input();
    let d = &mut input.deployment;
    input.region = region.to_string();
    d.insert("db_cluster_id".into(), arn.id.to_string());
    // Members of one global database share its account.
    d.insert("secondary_cluster_arn".into(), format!("arn:{}:rds:{old_region}:{}:cluster:{old_id}", arn.partition, arn.account));
    d.insert("secondary_region".into(), old_region.clone());
    if let Some(q) = queue.map(str::trim).filter(|q| !q.is_empty()) {
        match d.insert("queue_url".into(), q.to_string()) {
            Some(old) if old != q => d.insert("secondary_queue_url".into(), old),
            _ => d.remove("secondary_queue_url"),
        };
    }
    match d.get(HOME_REGION).cloned() {
        Some(home) if home == region => {
            d.remove(HOME_REGION);
        }
        Some(_) => {}
        None => {
            d.insert(HOME_REGION.into(), old_region);
        }
    }
    Ok(input)
}

/// Points the console's database connection at the new writer when it named the old one (its
/// endpoint; or, when the old region does not answer, an endpoint named after the old cluster).
/// The database and the login stay: a global database's members hold the same ones.
pub fn follow_console(input: &mut EnvironmentInput, old_id: &str, old_endpoint: Option<&str>, new: &ClusterInfo) -> bool {
    let Some(db) = input.platform_db.as_mut() else { return false };
    let named_old = match old_endpoint {
        Some(e) => db.host == e,
        None => db.host.starts_with(&format!("{old_id}.cluster-")),
    };
    if named_old {
        db.host = new.endpoint.clone();
        db.port = new.port;
    }
    named_old
}

/// Stores the environment as `input`, with the record `dr.use_region`, in one transaction; the
/// console's pool to the old writer is dropped.
pub async fn apply(core: &Core, env: &Environment, input: &EnvironmentInput, details: serde_json::Value, op: &str) -> Result<()> {
    let mut tx = core.begin().await?;
    rows::update(&mut tx, env.id, input).await?;
    core.commit(tx, Record::new("dr.use_region", &env.name, details).op(op)).await?;
    core.pools.lock().await.remove(&env.name.to_lowercase());
    Ok(())
}

/// Refuses a deploy while the platform runs in its DR region: it would deploy a second platform
/// there.
pub fn refuse_deploy_while_away(env: &Environment) -> Result<()> {
    match env.deployment.get(HOME_REGION) {
        Some(home) if *home != env.region => Err(Error::Deploy {
            kind: "platform_away",
            message: format!("the platform of {} runs in its DR region {}; its stacks are in {home}", env.name, env.region),
            hint: format!("switch it back to {home} first (DR: the failback of the runbook that moved it)"),
        }),
        _ => Ok(()),
    }
}

/// The region of the DR lease's bucket: the platform's home while it runs elsewhere.
pub fn lease_region(env: &Environment) -> &str {
    env.deployment.get(HOME_REGION).map(String::as_str).unwrap_or(&env.region)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        let mut e = crate::testing::environment("prod");
        e.region = "us-east-1".into();
        for (k, v) in [
            ("db_cluster_id", "pj-prod"),
            ("secondary_region", "eu-west-2"),
            ("secondary_cluster_arn", "arn:aws:rds:eu-west-2:123456789012:cluster:pj-prod-dr"),
            ("queue_url", "https://sqs.us-east-1.amazonaws.com/123456789012/pj-prod-work"),
            ("secondary_queue_url", "https://sqs.eu-west-2.amazonaws.com/123456789012/pj-prod-work"),
        ] {
            e.deployment.insert(k.into(), v.into());
        }
        e
    }

    fn as_env(mut e: Environment, input: EnvironmentInput) -> Environment {
        (e.region, e.deployment, e.platform_db) = (input.region, input.deployment, input.platform_db);
        e
    }

    #[test]
    fn the_regions_swap_and_swap_back_to_where_they_were() {
        let home = env();
        let dr = "arn:aws:rds:eu-west-2:123456789012:cluster:pj-prod-dr";
        let queue2 = home.deployment["secondary_queue_url"].clone();
        let away = as_env(home.clone(), swapped(&home, "eu-west-2", dr, Some(&queue2)).unwrap());
        assert_eq!(away.region, "eu-west-2");
        assert_eq!(away.deployment["db_cluster_id"], "pj-prod-dr");
        assert_eq!(away.deployment["secondary_cluster_arn"], "arn:aws:rds:us-east-1:123456789012:cluster:pj-prod");
        assert_eq!((away.deployment["secondary_region"].as_str(), away.deployment[HOME_REGION].as_str()), ("us-east-1", "us-east-1"));
        assert_eq!((&away.deployment["queue_url"], &away.deployment["secondary_queue_url"]), (&queue2, &home.deployment["queue_url"]));
        assert!(there(&away, "eu-west-2", dr) && !there(&home, "eu-west-2", dr));
        assert!(refuse_deploy_while_away(&away).unwrap_err().to_string().contains("runs in its DR region eu-west-2"));
        assert_eq!(lease_region(&away), "us-east-1");

        let back_arn = away.deployment["secondary_cluster_arn"].clone();
        let back_queue = away.deployment["secondary_queue_url"].clone();
        let back = as_env(away.clone(), swapped(&away, "us-east-1", &back_arn, Some(&back_queue)).unwrap());
        assert_eq!(back.to_input(), home.to_input(), "back home exactly as before");
        assert!(refuse_deploy_while_away(&back).is_ok());
    }

    #[test]
    fn a_cluster_not_named_by_its_arn_in_that_region_is_refused() {
        let e = env();
        for bad in ["pj-prod-dr", "arn:aws:rds:eu-west-2:123456789012:db:pj-prod-dr-1", "arn:aws:rds:eu-west-2:123456789012:cluster:"] {
            assert!(swapped(&e, "eu-west-2", bad, None).unwrap_err().to_string().contains("not an Aurora cluster's ARN"), "{bad}");
        }
        let elsewhere = swapped(&e, "eu-west-1", "arn:aws:rds:eu-west-2:123456789012:cluster:pj-prod-dr", None).unwrap_err();
        assert!(elsewhere.to_string().contains("is in eu-west-2, not in eu-west-1"));
    }

    #[test]
    fn the_console_follows_only_a_connection_to_the_old_writer() {
        let new = ClusterInfo { endpoint: "pj-prod-dr.cluster-b.eu-west-2.rds.amazonaws.com".into(), port: 5433, ..Default::default() };
        let db = |host: &str| vigil_dto::PlatformDb {
            host: host.into(),
            port: 5432,
            database: "patient_journey".into(),
            user: "vigil_reader".into(),
            auth: vigil_dto::DbAuth::Iam,
            ca_file: None,
        };
        let mut input = env().to_input();
        input.platform_db = Some(db("pj-prod.cluster-a.us-east-1.rds.amazonaws.com"));
        assert!(follow_console(&mut input, "pj-prod", None, &new), "named after the old cluster, its region lost");
        assert_eq!((input.platform_db.as_ref().unwrap().host.as_str(), input.platform_db.as_ref().unwrap().port), (new.endpoint.as_str(), 5433));
        input.platform_db = Some(db("localhost"));
        assert!(!follow_console(&mut input, "pj-prod", Some("pj-prod.cluster-a.us-east-1.rds.amazonaws.com"), &new), "a tunnel stays");
        assert_eq!(input.platform_db.as_ref().unwrap().host, "localhost");
        assert!(follow_console(&mut input, "pj-prod", Some("localhost"), &new));
    }
}

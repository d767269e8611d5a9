//! The runbook vocabulary (`pj_runbook::catalog`) carried out against the live platform: each
//! check a verdict with what to do when it fails, each action in two halves — what it records
//! before acting (journaled before the call), and the call — plus how to tell, after a crash,
//! whether the call already took effect, so nothing is done twice.
//!
//! Arguments arrive rendered (every `${…}` looked up): strings, with durations as seconds.

use crate::aws::{self, AwsContext};
use crate::core::Core;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use vigil_aws::rds::Rds;
use vigil_dto::Environment;

/// The vocabulary this console carries out. The rest of the catalog is refused before a run
/// starts (a dry run names it), never in the middle of one.
pub const SUPPORTED: &[&str] = &[
    "rds.find_failover_target",
    "rds.failover_cluster",
    "rds.switchover_global",
    "rds.failover_global",
    "rds.cluster_available",
    "rds.reader_in_other_zone",
    "rds.writer_is",
    "rds.global_writer_is",
    "rds.restorable_within",
    "rds.capacity_for",
    "rds.measure_global_lag",
    "rds.global_lag_within",
    "backup.point_within",
    "secrets.present",
    "eks.cluster_active",
    "worker.ready",
    "ledger.writable",
    "sqs.queue_empty",
];

pub type Args = BTreeMap<String, String>;

/// A check's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

fn pass(detail: impl Into<String>) -> Verdict {
    Verdict { ok: true, detail: detail.into(), fix: None }
}

fn fail(detail: impl Into<String>, fix: impl Into<String>) -> Verdict {
    Verdict { ok: false, detail: detail.into(), fix: Some(fix.into()) }
}

/// Where a step runs: the environment, its AWS context (per region), and the step's operation id.
pub struct Place<'a> {
    pub core: &'a Core,
    pub env: &'a Environment,
    pub op: &'a str,
}

impl Place<'_> {
    async fn ctx(&self, region: Option<&str>) -> AwsContext {
        let mut target = aws::Target::from(self.env);
        if let Some(r) = region.filter(|r| !r.is_empty()) {
            target.region = r.to_string();
        }
        self.core.aws.get(&target).await
    }

    async fn rds(&self, args: &Args) -> Rds {
        Rds::new(&self.ctx(opt(args, "region")).await, self.op)
    }
}

fn opt<'a>(args: &'a Args, name: &str) -> Option<&'a str> {
    args.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

fn arg<'a>(args: &'a Args, name: &str) -> Result<&'a str> {
    opt(args, name).ok_or_else(|| Error::Dr {
        kind: "missing_value",
        message: format!("`{name}` has no value"),
        hint: "give the runbook's parameter, or set the environment's deployment parameter it reads".into(),
    })
}

fn secs(args: &Args, name: &str) -> Result<i64> {
    arg(args, name)?.parse().map_err(|_| Error::validation("runbook", format!("`{name}` is not a number of seconds")))
}

/// Whether `member` (an ARN) is `cluster` (an ARN or an identifier).
fn same_cluster(member: &str, cluster: &str) -> bool {
    member == cluster || member.rsplit(':').next() == Some(cluster)
}

/// The secondary cluster's replication lag behind the global database's writer, in seconds: the
/// largest of CloudWatch's `AuroraGlobalDBRPOLag` (Aurora PostgreSQL's measure of the data a
/// failover would lose) over the last five minutes, read in the secondary's region. None when
/// nothing was reported (the secondary is not replicating, or the metric is not published).
async fn global_lag(p: &Place<'_>, args: &Args) -> Result<Option<f64>> {
    use vigil_aws::cloudwatch::{get_metric_data, CloudWatch, DataQuery, DataSource};
    let secondary = arg(args, "secondary")?;
    let id = secondary.rsplit(':').next().unwrap_or(secondary);
    let cw = CloudWatch::new(&p.ctx(opt(args, "region")).await, p.op);
    let q = DataQuery {
        id: "lag".into(),
        label: "lag".into(),
        period: 60,
        return_data: true,
        source: DataSource::Metric {
            namespace: "AWS/RDS".into(),
            metric: "AuroraGlobalDBRPOLag".into(),
            dimensions: vec![("DBClusterIdentifier".into(), id.to_string())],
            stat: "Maximum".into(),
        },
    };
    let end = chrono::Utc::now().timestamp() + 60;
    let (out, _) = get_metric_data(&cw, &[q], end - 6 * 60, end).await?;
    Ok(out.get("lag").and_then(|r| r.values.iter().map(|(_, v)| *v).reduce(f64::max)).map(|ms| ms / 1000.0))
}

/// Evaluates check `name`. A failure to read what it checks is the error (the run pauses on
/// it); a state that is not the one wanted is a failed verdict.
pub async fn check(p: &Place<'_>, name: &str, args: &Args) -> Result<Verdict> {
    Ok(match name {
        "rds.cluster_available" => {
            let id = arg(args, "cluster")?;
            match p.rds(args).await.cluster(id).await? {
                None => fail(
                    format!("there is no Aurora cluster {id}"),
                    "check the environment's deployment parameters (db_cluster_id) or the runbook's parameter",
                ),
                Some(c) if c.status != "available" => fail(format!("{id} is {}", c.status), "wait until it is available, then run again"),
                Some(c) => pass(format!("{id} is available ({} instances)", c.members.len())),
            }
        }
        "rds.reader_in_other_zone" => {
            let id = arg(args, "cluster")?;
            let rds = p.rds(args).await;
            let Some(c) = rds.cluster(id).await? else { return Ok(fail(format!("there is no Aurora cluster {id}"), "check db_cluster_id")) };
            let instances = rds.instances(id).await?;
            let writer = c.members.iter().find(|(_, w)| *w).map(|(i, _)| i.as_str());
            let zone_of = |i: &str| instances.iter().find(|x| x.id == i).map(|x| x.zone.clone()).unwrap_or_default();
            let writer_zone = writer.map(zone_of).unwrap_or_default();
            let readers: Vec<String> = instances
                .iter()
                .filter(|i| Some(i.id.as_str()) != writer && i.status == "available" && i.zone != writer_zone)
                .map(|i| format!("{} in {}", i.id, i.zone))
                .collect();
            if readers.is_empty() {
                fail(
                    format!("{id}'s writer runs in {writer_zone} and no available reader runs in another zone"),
                    "add a reader in another zone (the tier's Readers parameter, then a deploy), or wait for the readers to be available",
                )
            } else {
                pass(format!("writer in {writer_zone}; readers: {}", readers.join(", ")))
            }
        }
        "rds.writer_is" => {
            let (id, want) = (arg(args, "cluster")?, arg(args, "instance")?);
            let rds = p.rds(args).await;
            let Some(c) = rds.cluster(id).await? else { return Ok(fail(format!("there is no Aurora cluster {id}"), "check db_cluster_id")) };
            let writer = c.members.iter().find(|(_, w)| *w).map(|(i, _)| i.clone()).unwrap_or_default();
            let status = rds.instances(id).await?.into_iter().find(|i| i.id == want).map(|i| i.status).unwrap_or_else(|| "gone".into());
            if writer == want && c.status == "available" && status == "available" {
                pass(format!("{want} writes, and {id} is available"))
            } else {
                fail(format!("{id} is {} and its writer is {writer} ({want} is {status})", c.status), "wait: Aurora is still moving the writer")
            }
        }
        "rds.global_writer_is" => {
            let (gid, want) = (arg(args, "global_cluster")?, arg(args, "cluster")?);
            match p.rds(args).await.global_cluster(gid).await? {
                None => fail(format!("there is no global database {gid}"), "check the environment's global_cluster_id"),
                Some(g) => match (&g.moving, g.writer()) {
                    (Some((state, _, to, _)), _) => {
                        fail(format!("{gid} is {} to {to} ({state})", g.status), "wait: Aurora is still moving the writer")
                    }
                    (None, Some(w)) if same_cluster(w, want) && g.status == "available" => pass(format!("{want} writes for {gid}")),
                    (None, w) => {
                        fail(format!("{gid} is {} and its writer is {}", g.status, w.unwrap_or("none")), "wait, or check which cluster should write")
                    }
                },
            }
        }
        "rds.restorable_within" => {
            let (id, max) = (arg(args, "cluster")?, secs(args, "max")?);
            match p.rds(args).await.cluster(id).await? {
                None => fail(format!("there is no Aurora cluster {id}"), "check db_cluster_id"),
                Some(c) => match c.latest_restorable_ms {
                    None => fail(format!("{id} reports no latest restorable time"), "turn on automated backups (BackupRetentionPeriod ≥ 1)"),
                    Some(t) => {
                        let age = (chrono::Utc::now().timestamp_millis() - t) / 1000;
                        if age <= max {
                            pass(format!("{id} can be restored to {age} s ago"))
                        } else {
                            fail(
                                format!("{id}'s latest restorable time is {age} s ago, over {max} s"),
                                "check the cluster's backups; a restore now would lose more than the RPO",
                            )
                        }
                    }
                },
            }
        }
        "rds.capacity_for" => {
            let id = arg(args, "cluster")?;
            let rds = p.rds(args).await;
            let Some(c) = rds.cluster(id).await? else {
                return Ok(fail(format!("there is no Aurora cluster {id}"), "check the runbook's parameter"));
            };
            let mut classes: Vec<String> = rds.instances(id).await?.into_iter().map(|i| i.class).collect();
            classes.sort();
            classes.dedup();
            let mut missing = vec![];
            for class in &classes {
                if rds.orderable_zones(&c.engine, class).await?.is_empty() {
                    missing.push(class.clone());
                }
            }
            let region = opt(args, "region").unwrap_or(&p.env.region);
            if missing.is_empty() {
                pass(format!("{} offered in {region}", if classes.is_empty() { "no instance class needed".into() } else { classes.join(", ") }))
            } else {
                fail(
                    format!("{} not offered for {} in {region}", missing.join(", "), c.engine),
                    "choose an instance class the region offers (the tier's InstanceClass)",
                )
            }
        }
        "rds.global_lag_within" => {
            let max = secs(args, "max")? as f64;
            match global_lag(p, args).await? {
                None => fail(
                    "the secondary reported no replication lag in the last 5 minutes",
                    "check the secondary cluster replicates (its AuroraGlobalDBRPOLag metric, in its region)",
                ),
                Some(lag) if lag <= max => pass(format!("the secondary is {lag:.1} s behind (at most {max} s)")),
                Some(lag) => fail(
                    format!("the secondary is {lag:.1} s behind, over {max} s"),
                    "wait for it to catch up; a failover now would lose more than the RPO",
                ),
            }
        }
        "backup.point_within" => {
            let (id, max) = (arg(args, "cluster")?, secs(args, "max")?);
            let Some(c) = p.rds(args).await.cluster(id).await? else {
                return Ok(fail(format!("there is no Aurora cluster {id}"), "check db_cluster_id"));
            };
            let points = vigil_aws::backup::Backup::new(&p.ctx(None).await, p.op).points_of(&c.arn, 50).await?;
            match points.iter().find(|pt| pt.status == "COMPLETED") {
                None => fail(
                    format!("{id} has no completed AWS Backup recovery point"),
                    "back it up now (Backups → Back up now), or check the backup plan covers it",
                ),
                Some(pt) => {
                    let age = (chrono::Utc::now().timestamp_millis() - pt.created_ms) / 1000;
                    if age <= max {
                        pass(format!("its newest recovery point is {age} s old"))
                    } else {
                        fail(
                            format!("{id}'s newest completed recovery point is {age} s old, over {max} s"),
                            "back it up now, or restore from the cluster's point-in-time window instead",
                        )
                    }
                }
            }
        }
        "secrets.present" => {
            let name = arg(args, "secret")?;
            let sm = vigil_aws::secretsmanager::SecretsManager::new(&p.ctx(opt(args, "region")).await, p.op);
            match sm.value(name).await? {
                Some(v) if !v.trim().is_empty() => pass(format!("{name} is there")),
                _ => fail(
                    format!("the secret {name} is missing in {}", opt(args, "region").unwrap_or(&p.env.region)),
                    "replicate it to that region (Secrets Manager replica regions), then run again",
                ),
            }
        }
        "eks.cluster_active" => {
            let name = p.env.deployment.get("cluster_name").cloned().unwrap_or_default();
            let region = arg(args, "region")?;
            match vigil_aws::eks::Eks::new(&p.ctx(Some(region)).await, p.op).cluster(&name).await? {
                Some(c) if c.status == "ACTIVE" => pass(format!("{name} is active in {region}")),
                Some(c) => fail(format!("{name} is {} in {region}", c.status), "wait until it is active"),
                None => fail(format!("there is no EKS cluster {name} in {region}"), "deploy the platform's cluster stack in that region"),
            }
        }
        "worker.ready" => {
            let Some(name) = p.env.deployment.get("cluster_name") else {
                return Ok(fail("the environment names no EKS cluster (cluster_name)", "deploy the platform"));
            };
            let client = crate::deploy::setup::kube_client(&p.ctx(opt(args, "region")).await, p.op, name).await?;
            match vigil_kube::rollout(&client, crate::deploy::NAMESPACE, crate::deploy::setup::WORKER)
                .await
                .map_err(crate::deploy::setup::kube_error)?
            {
                None => fail("the worker's Deployment is not there", "resume the platform's deploy"),
                Some(r) if r.done && r.available > 0 => pass(format!("{} of {} replicas ready", r.ready, r.desired)),
                Some(r) => fail(
                    format!(
                        "the worker is not ready: {}",
                        r.failed.or(r.waiting_for).unwrap_or_else(|| format!("{} of {} available", r.available, r.desired))
                    ),
                    "wait; look at the worker's pods if it does not come up",
                ),
            }
        }
        "ledger.writable" => {
            let r = crate::platform_db::with_db(p.core, |_, pool| async move {
                let mut tx = pool.begin().await.map_err(crate::platform_db::connect::query_error)?;
                // txid_current() needs a writable primary: a reader refuses it.
                let r: std::result::Result<i64, sqlx::Error> =
                    sqlx::query_scalar("SELECT txid_current()::bigint + (SELECT count(*) FROM jobs WHERE false)").fetch_one(&mut *tx).await;
                let _ = tx.rollback().await;
                Ok(r)
            })
            .await?;
            match r {
                Ok(_) => pass("the job ledger takes writes"),
                Err(e) => {
                    fail(format!("the job ledger does not take writes: {e}"), "wait for the database's writer; check the platform database settings")
                }
            }
        }
        "sqs.queue_empty" => {
            let url = arg(args, "queue")?;
            match vigil_aws::sqs::Sqs::new(&p.ctx(None).await, p.op).attributes(url).await? {
                None => fail(format!("there is no queue {url}"), "check the runbook's queue parameter"),
                Some(a) => {
                    let n = |k: &str| a.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                    let (visible, flight) = (n("ApproximateNumberOfMessages"), n("ApproximateNumberOfMessagesNotVisible"));
                    if visible + flight == 0 {
                        pass("the queue is empty")
                    } else {
                        fail(format!("{visible} messages waiting, {flight} in flight"), "wait for the worker to drain it")
                    }
                }
            }
        }
        other => return Err(unsupported(other)),
    })
}

pub fn unsupported(name: &str) -> Error {
    Error::Dr {
        kind: "unsupported",
        message: format!("this console cannot carry out `{name}` yet"),
        hint: "use a newer Vigil; until then, do that step by hand (its runbook describes it)".into(),
    }
}

/// What an action records before it acts (journaled before the call).
pub async fn before(p: &Place<'_>, name: &str, args: &Args) -> Result<Args> {
    let mut out = Args::new();
    match name {
        "rds.failover_cluster" => {
            let id = arg(args, "cluster")?;
            let c = p.rds(args).await.cluster(id).await?.ok_or_else(|| gone(id))?;
            out.insert("from".into(), c.members.iter().find(|(_, w)| *w).map(|(i, _)| i.clone()).unwrap_or_default());
        }
        "rds.switchover_global" | "rds.failover_global" => {
            let gid = arg(args, "global_cluster")?;
            let g = p.rds(args).await.global_cluster(gid).await?.ok_or_else(|| gone(gid))?;
            out.insert("from".into(), g.writer().unwrap_or_default().to_string());
        }
        _ => {}
    }
    Ok(out)
}

fn gone(id: &str) -> Error {
    Error::Dr { kind: "not_found", message: format!("{id} is not there"), hint: "check the environment's deployment parameters".into() }
}

/// Whether the action already took effect (a crash between the call and the journal): its
/// outputs if so. Reads only.
pub async fn done_already(p: &Place<'_>, name: &str, args: &Args, before: &Args) -> Result<Option<Args>> {
    match name {
        "rds.failover_cluster" => {
            let (id, target) = (arg(args, "cluster")?, arg(args, "target")?);
            let c = p.rds(args).await.cluster(id).await?.ok_or_else(|| gone(id))?;
            let writer = c.members.iter().find(|(_, w)| *w).map(|(i, _)| i.as_str()).unwrap_or_default();
            // Moving (failing-over) or moved: the failover was sent.
            let sent = writer == target || c.status == "failing-over" || before.get("from").is_some_and(|f| f != writer);
            Ok(sent.then(|| outputs(&[("from", before.get("from").cloned().unwrap_or_default()), ("to", target.to_string())])))
        }
        "rds.switchover_global" | "rds.failover_global" => {
            let (gid, target) = (arg(args, "global_cluster")?, arg(args, "target")?);
            let g = p.rds(args).await.global_cluster(gid).await?.ok_or_else(|| gone(gid))?;
            let moving_there = g.moving.as_ref().is_some_and(|(_, _, to, _)| same_cluster(to, target));
            let there = g.writer().is_some_and(|w| same_cluster(w, target));
            Ok((moving_there || there).then(|| outputs(&[("from", before.get("from").cloned().unwrap_or_default()), ("to", target.to_string())])))
        }
        _ => Ok(None),
    }
}

fn outputs(pairs: &[(&str, String)]) -> Args {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Carries out action `name`; returns what it records.
pub async fn act(p: &Place<'_>, name: &str, args: &Args, before: &Args) -> Result<Args> {
    match name {
        "rds.find_failover_target" => {
            let id = arg(args, "cluster")?;
            let rds = p.rds(args).await;
            let c = rds.cluster(id).await?.ok_or_else(|| gone(id))?;
            let instances = rds.instances(id).await?;
            let writer = c.members.iter().find(|(_, w)| *w).map(|(i, _)| i.clone()).unwrap_or_default();
            let zone_of = |i: &str| instances.iter().find(|x| x.id == i).map(|x| x.zone.clone()).unwrap_or_default();
            let writer_zone = zone_of(&writer);
            let target = match opt(args, "target") {
                Some(t) => {
                    let i = instances.iter().find(|i| i.id == t).ok_or_else(|| Error::Dr {
                        kind: "no_target",
                        message: format!("{t} is not an instance of {id}"),
                        hint: format!("name one of {}", instances.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", ")),
                    })?;
                    if i.id == writer {
                        return Err(Error::Dr { kind: "no_target", message: format!("{t} already writes for {id}"), hint: "name a reader".into() });
                    }
                    i.id.clone()
                }
                None => {
                    let mut readers: Vec<_> =
                        instances.iter().filter(|i| i.id != writer && i.status == "available" && i.zone != writer_zone).collect();
                    readers.sort_by(|a, b| a.id.cmp(&b.id));
                    readers.first().map(|i| i.id.clone()).ok_or_else(|| Error::Dr {
                        kind: "no_target",
                        message: format!("{id} has no available reader outside {writer_zone}"),
                        hint: "add a reader in another zone, or name one".into(),
                    })?
                }
            };
            Ok(outputs(&[("writer", writer.clone()), ("writer_zone", writer_zone), ("target_zone", zone_of(&target)), ("target", target)]))
        }
        "rds.failover_cluster" => {
            let (id, target) = (arg(args, "cluster")?, arg(args, "target")?);
            p.rds(args).await.failover_cluster(id, target).await?;
            Ok(outputs(&[("from", before.get("from").cloned().unwrap_or_default()), ("to", target.to_string())]))
        }
        "rds.measure_global_lag" => {
            // Unknown (not reported) is recorded as such: the drill's RPO is then not measured.
            let lag = global_lag(p, args).await?;
            Ok(outputs(&[("lag_seconds", lag.map(|l| format!("{l:.3}")).unwrap_or_default())]))
        }
        "rds.switchover_global" | "rds.failover_global" => {
            let (gid, target) = (arg(args, "global_cluster")?, arg(args, "target")?);
            p.rds(args).await.move_global_writer(gid, target, name == "rds.failover_global").await?;
            Ok(outputs(&[("from", before.get("from").cloned().unwrap_or_default()), ("to", target.to_string())]))
        }
        other => Err(unsupported(other)),
    }
}

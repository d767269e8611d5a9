//! The runbook vocabulary (`pj_runbook::catalog`) carried out against the live platform: each
//! check a verdict with what to do when it fails, each action in two halves — what it records
//! before acting (journaled before the call), and the call — plus how to tell, after a crash,
//! whether the call already took effect, so nothing is done twice.
//!
//! Arguments arrive rendered (every `${…}` looked up): strings, with durations as seconds.

use crate::aws::{self, AwsContext};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::progress::Progress;
use std::collections::BTreeMap;
use vigil_aws::eks::UpdateOf;
use vigil_aws::rds::Rds;
use vigil_dto::Environment;

/// The vocabulary this console carries out: the whole catalog (a test holds it so).
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
    "rds.restore_to_time",
    "backup.restore_point",
    "platform.use_cluster",
    "platform.use_region",
    "eks.start_worker",
    "eks.stop_worker",
    "sqs.move_messages",
    "backup.point_within",
    "secrets.present",
    "eks.cluster_active",
    "worker.ready",
    "ledger.writable",
    "sqs.queue_empty",
    "eks.update_addons",
    "eks.update_cluster_version",
    "eks.update_nodegroups",
    "eks.upgrade_ready",
    "eks.version_is",
    "eks.addons_ready",
    "eks.nodegroups_at",
];

pub type Args = BTreeMap<String, String>;

/// What the engine adds to an action's `before`: when it began acting (RFC 3339).
pub const ACTING_SINCE: &str = "acting_since";

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

/// Where a step runs: the environment, its AWS context (per region), the step's operation id,
/// and the bundle the run reads (this console's own when None).
pub struct Place<'a> {
    pub core: &'a Core,
    pub env: &'a Environment,
    pub op: &'a str,
    pub bundle: Option<&'a std::path::Path>,
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

    /// SQS for the queue at `url`, in its region (the environment's when the URL names none).
    async fn sqs(&self, url: &str) -> vigil_aws::sqs::Sqs {
        vigil_aws::sqs::Sqs::new(&self.ctx(vigil_aws::sqs::region_of(url).as_deref()).await, self.op)
    }

    /// EKS in the environment's region, and the platform's cluster's name.
    async fn eks(&self) -> Result<(vigil_aws::eks::Eks, String)> {
        let name = crate::eks::cluster_name(self.env)?;
        Ok((vigil_aws::eks::Eks::new(&self.ctx(None).await, self.op), name))
    }

    /// The Kubernetes API of the platform's EKS cluster in `region`.
    async fn kube(&self, region: &str) -> Result<vigil_kube::Client> {
        let Some(name) = self.env.deployment.get("cluster_name") else {
            return Err(Error::Dr {
                kind: "not_deployed",
                message: format!("{} names no EKS cluster (cluster_name)", self.env.name),
                hint: "deploy the platform".into(),
            });
        };
        crate::deploy::setup::kube_client(&self.ctx(Some(region)).await, self.op, name).await
    }
}

/// How many replicas the worker runs with in `region` when started: what it had before Vigil
/// stopped it, else the deployed tier's (the bundle's Deployment for it).
async fn replicas_to_start(p: &Place<'_>, before_stop: Option<i32>) -> Result<i32> {
    if let Some(n) = before_stop.filter(|n| *n > 0) {
        return Ok(n);
    }
    let deployed = crate::deploy::journal::latest_succeeded(p.core.store().pool(), &p.env.name).await?.filter(|e| e.plan.kind == "deploy");
    let Some(entry) = deployed else {
        return Err(Error::Dr {
            kind: "not_deployed",
            message: format!("{} has no deploy Vigil made: the tier's worker replicas are unknown", p.env.name),
            hint: "deploy the platform with Vigil, or scale the worker by hand (kubectl scale)".into(),
        });
    };
    let bundle = crate::deploy::Deploy::new(p.core).open_bundle(p.bundle).await?;
    let worker = crate::deploy::setup::WORKER;
    bundle
        .manifests
        .get(&entry.plan.tier)
        .and_then(|objects| objects.iter().find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == worker))
        .and_then(|d| d["spec"]["replicas"].as_i64())
        .map(|n| n as i32)
        .ok_or_else(|| Error::Dr {
            kind: "bundle",
            message: format!("the bundle's tier {} has no {worker} Deployment with replicas", entry.plan.tier),
            hint: "use the bundle the platform was deployed from".into(),
        })
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
        "ledger.writable" if opt(args, "region").is_some() => {
            let region = arg(args, "region")?;
            let platform = crate::deploy::deployed_platform(p.env)?;
            let sm = vigil_aws::secretsmanager::SecretsManager::new(&p.ctx(Some(region)).await, p.op);
            let secret = crate::backup::platform_data::WorkerSecret::read(&sm, &platform).await?;
            let ca = p.env.platform_db.as_ref().and_then(|d| d.ca_file.clone());
            match crate::backup::platform_data::writable(&secret, ca).await? {
                Ok(()) => pass(format!("the job ledger takes writes as the worker in {region} signs in")),
                Err(e) => fail(
                    format!("the job ledger the worker in {region} uses does not take writes: {e}"),
                    format!("point the worker's secret {} in {region} at the writer", secret.name),
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
            match p.sqs(url).await.attributes(url).await? {
                None => fail(format!("there is no queue {url}"), "check the runbook's queue parameter"),
                Some(a) => {
                    let (visible, flight) = queued(&a);
                    if visible + flight == 0 {
                        pass("the queue is empty")
                    } else {
                        fail(format!("{visible} messages waiting, {flight} in flight"), "wait for the worker to drain it")
                    }
                }
            }
        }
        // Boxed: their futures would make every check's too large for a worker thread's stack.
        "eks.upgrade_ready" | "eks.version_is" | "eks.addons_ready" | "eks.nodegroups_at" => return Box::pin(eks_check(p, name, args)).await,
        other => return Err(unsupported(other)),
    })
}

/// The upgrade's checks (see [`check`]).
async fn eks_check(p: &Place<'_>, name: &str, args: &Args) -> Result<Verdict> {
    Ok(match name {
        "eks.upgrade_ready" => {
            let plan = crate::eks::upgrade::plan(p.core, p.env, p.op, p.bundle, Some(arg(args, "version")?)).await?;
            if plan.blockers.is_empty() {
                pass(format!("nothing blocks {} from {} to {}", plan.cluster, plan.from, plan.to))
            } else {
                let list = |f: fn(&vigil_dto::eks::UpgradeIssue) -> &str| plan.blockers.iter().map(f).collect::<Vec<_>>().join("; ");
                fail(list(|i| i.detail.as_str()), list(|i| i.fix.as_str()))
            }
        }
        "eks.version_is" => {
            let version = arg(args, "version")?;
            let (eks, name) = p.eks().await?;
            // The update first: EKS reports its progress (and errors) there.
            let update = newest_update(&eks, &name, UpdateOf::Cluster).await?;
            match eks.cluster(&name).await? {
                None => fail(format!("there is no EKS cluster {name}"), "check the environment's cluster_name"),
                Some(c) if c.version == version && c.status == "ACTIVE" => pass(format!("{name} runs Kubernetes {version}")),
                Some(c) => fail(
                    format!("{name} runs Kubernetes {} and is {}{}", c.version, c.status, update.map(|u| describe_update(&u)).unwrap_or_default()),
                    "wait for its update to end; a failed update names its errors",
                ),
            }
        }
        "eks.addons_ready" => {
            let version = arg(args, "version")?;
            let (eks, name) = p.eks().await?;
            let mut not = vec![];
            for a in eks.addons(&name).await? {
                if a.status != "ACTIVE" {
                    // Its update says how far it is, and why it failed.
                    let update = newest_update(&eks, &name, UpdateOf::Addon(&a.name)).await?;
                    not.push(format!("{} is {}{}", a.name, a.status, update.as_ref().map(describe_update).unwrap_or_default()));
                } else if !eks.addon_versions(&a.name, version).await?.contains(&a.version) {
                    not.push(format!("{} {} does not run on {version}", a.name, a.version));
                }
            }
            if !not.is_empty() {
                fail(not.join("; "), "wait for the add-ons' updates; a failed update names its errors")
            } else {
                pass(format!("every add-on is active and runs on {version}"))
            }
        }
        "eks.nodegroups_at" => {
            let version = arg(args, "version")?;
            let (eks, name) = p.eks().await?;
            let mut not = vec![];
            for g in eks.nodegroups(&name).await? {
                if g.status != "ACTIVE" || vigil_aws::eks::minor_of(&g.version) != vigil_aws::eks::minor_of(version) {
                    let update = if g.status != "ACTIVE" { newest_update(&eks, &name, UpdateOf::Nodegroup(&g.name)).await? } else { None };
                    not.push(format!(
                        "{} runs {} and is {}{}",
                        g.name,
                        g.version,
                        g.status,
                        update.as_ref().map(describe_update).unwrap_or_default()
                    ));
                }
            }
            if !not.is_empty() {
                fail(not.join("; "), "wait for the node groups' rolling update; a pod that cannot be evicted stops it (its disruption budget)")
            } else {
                pass(format!("every node group runs {version}"))
            }
        }
        other => return Err(unsupported(other)),
    })
}

/// The control plane's and the node groups' updates (see [`act`]).
async fn eks_act(p: &Place<'_>, name: &str, args: &Args, before: &Args) -> Result<Args> {
    match name {
        "eks.update_cluster_version" => {
            let version = arg(args, "version")?;
            let (eks, name) = p.eks().await?;
            if eks.cluster(&name).await?.ok_or_else(|| gone(&name))?.version != version {
                eks.update_cluster_version(&name, version).await?;
            }
            Ok(outputs(&[("from", before.get("from").cloned().unwrap_or_default()), ("to", version.to_string())]))
        }
        "eks.update_nodegroups" => {
            let version = arg(args, "version")?;
            let (eks, name) = p.eks().await?;
            let mut updated = vec![];
            for g in eks.nodegroups(&name).await? {
                if vigil_aws::eks::minor_of(&g.version) == vigil_aws::eks::minor_of(version) {
                    continue;
                }
                // Already updating: sent by this step before a pause (its answer lost), not again.
                if g.status != "UPDATING" {
                    eks.update_nodegroup_version(&name, &g.name, version).await?;
                }
                updated.push(g.name);
            }
            Ok(outputs(&[("updated", updated.join(", "))]))
        }
        other => Err(unsupported(other)),
    }
}

/// Whether the control plane's update to the version was sent: the cluster runs it, or an
/// update to it is under way or done.
async fn cluster_version_sent(p: &Place<'_>, args: &Args, before: &Args) -> Result<Option<Args>> {
    let version = arg(args, "version")?;
    let (eks, name) = p.eks().await?;
    let c = eks.cluster(&name).await?.ok_or_else(|| gone(&name))?;
    let sent = c.version == version
        || eks
            .updates(&name, UpdateOf::Cluster)
            .await?
            .iter()
            .any(|u| u.kind == "VersionUpdate" && u.param("Version") == Some(version) && (u.status == "InProgress" || u.status == "Successful"));
    Ok(sent.then(|| outputs(&[("from", before.get("from").cloned().unwrap_or_default()), ("to", version.to_string())])))
}

/// The newest EKS update of the cluster, a node group or an add-on.
async fn newest_update(eks: &vigil_aws::eks::Eks, cluster: &str, of: UpdateOf<'_>) -> Result<Option<vigil_aws::eks::UpdateInfo>> {
    Ok(eks.updates(cluster, of).await?.into_iter().next())
}

/// ": its update <id> is <status>" with its errors.
fn describe_update(u: &vigil_aws::eks::UpdateInfo) -> String {
    let errors = if u.errors.is_empty() { String::new() } else { format!(" ({})", u.errors.join("; ")) };
    format!(": update {} {}{errors}", u.id, u.status)
}

/// `eks.update_addons`: each add-on moved as the upgrade to `version` needs in `phase`; those
/// already updating are left to their update. Returns "name version" of each update sent.
async fn update_addons(p: &Place<'_>, args: &Args) -> Result<Args> {
    let (version, phase) = (arg(args, "version")?, arg(args, "phase")?);
    if phase != "before" && phase != "after" {
        return Err(Error::validation("runbook", format!("eks.update_addons: phase is \"before\" or \"after\", not \"{phase}\"")));
    }
    let (eks, name) = p.eks().await?;
    let from = eks.cluster(&name).await?.ok_or_else(|| gone(&name))?.version;
    let mut updated = vec![];
    for a in eks.addons(&name).await? {
        if a.status == "UPDATING" || a.status == "CREATING" {
            continue;
        }
        let on_from = eks.addon_versions_on(&a.name, &from).await?;
        let on_to = eks.addon_versions_on(&a.name, version).await?;
        let (step, blocker) = crate::eks::upgrade::addon_step(&a.name, &a.version, (&from, &on_from), (version, &on_to));
        let target = if phase == "before" {
            if let Some(b) = blocker {
                return Err(Error::Dr { kind: "addon_incompatible", message: b.detail, hint: b.fix });
            }
            step.before
        } else {
            step.after
        };
        if let Some(v) = target {
            eks.update_addon(&name, &a.name, &v).await?;
            updated.push(format!("{} {v}", a.name));
        }
    }
    Ok(outputs(&[("updated", updated.join(", "))]))
}

/// A name outside the catalog (the parser refuses such a runbook before it gets here).
pub fn unsupported(name: &str) -> Error {
    Error::Dr {
        kind: "unsupported",
        message: format!("this console cannot carry out `{name}`"),
        hint: "the runbook names something outside the catalog; use the bundle made for this Vigil".into(),
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
        // The new cluster's name, fixed before the call so a resumed step continues that restore.
        "rds.restore_to_time" => {
            let source = arg(args, "source")?;
            let target = opt(args, "target").map(str::to_string).unwrap_or_else(|| restored_name(source, "pitr", chrono::Utc::now()));
            out.insert("target".into(), target);
        }
        "backup.restore_point" => {
            let id = arg(args, "cluster")?;
            let point = match opt(args, "point") {
                Some(point) => point.to_string(),
                None => {
                    let c = p.rds(args).await.cluster(id).await?.ok_or_else(|| gone(id))?;
                    let points = vigil_aws::backup::Backup::new(&p.ctx(None).await, p.op).points_of(&c.arn, 50).await?;
                    points.into_iter().find(|pt| pt.status == "COMPLETED").map(|pt| pt.arn).ok_or_else(|| Error::Dr {
                        kind: "no_recovery_point",
                        message: format!("{id} has no completed AWS Backup recovery point"),
                        hint: "back it up (Backups → Back up now), or restore to a point in time instead".into(),
                    })?
                }
            };
            out.insert("point".into(), point);
            out.insert("target".into(), restored_name(id, "restored", chrono::Utc::now()));
        }
        "platform.use_cluster" => {
            let env = fresh(p).await?;
            out.insert("previous".into(), env.deployment.get("db_cluster_id").cloned().unwrap_or_default());
        }
        "platform.use_region" => {
            out.insert("from".into(), fresh(p).await?.region);
        }
        "eks.update_cluster_version" => {
            let (eks, name) = p.eks().await?;
            out.insert("from".into(), eks.cluster(&name).await?.ok_or_else(|| gone(&name))?.version);
        }
        // The replicas before, and (starting) how many it will run.
        "eks.start_worker" | "eks.stop_worker" => {
            let region = arg(args, "region")?;
            let (now, before_stop) = worker_replicas(p, region).await?;
            out.insert("replicas_before".into(), now.to_string());
            if name == "eks.start_worker" {
                out.insert("replicas".into(), replicas_to_start(p, before_stop).await?.to_string());
            }
        }
        _ => {}
    }
    Ok(out)
}

/// The worker Deployment's replicas in `region`, and how many it had before Vigil stopped it.
async fn worker_replicas(p: &Place<'_>, region: &str) -> Result<(i32, Option<i32>)> {
    let client = p.kube(region).await?;
    let worker = crate::deploy::setup::WORKER;
    vigil_kube::replicas(&client, crate::deploy::NAMESPACE, worker).await.map_err(crate::deploy::setup::kube_error)?.ok_or_else(|| no_worker(region))
}

fn no_worker(region: &str) -> Error {
    Error::Dr {
        kind: "not_found",
        message: format!("the worker's Deployment ({}) is not in the EKS cluster in {region}", crate::deploy::setup::WORKER),
        hint: format!("deploy the platform's worker to {region} first"),
    }
}

/// A new cluster's identifier: `<source>-<what>-<yyyymmddhhmm>`, the source's part shortened to
/// keep within RDS's 63 characters.
pub fn restored_name(source: &str, what: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let suffix = format!("-{what}-{}", now.format("%Y%m%d%H%M"));
    let keep = 63usize.saturating_sub(suffix.len()).min(source.len());
    format!("{}{suffix}", source[..keep].trim_end_matches('-'))
}

/// The environment as the store has it now (an earlier step may have changed it).
async fn fresh(p: &Place<'_>) -> Result<Environment> {
    crate::environments::Environments::new(p.core).get(&p.env.name).await
}

/// The finished (not test) restore of `p.env` to `target`, if any.
async fn restored(p: &Place<'_>, target: &str, point_in_time: bool) -> Result<Option<vigil_dto::backup::RestoreRecord>> {
    let all = crate::backup::restore::list(p.core.store().pool(), &p.env.name, 1000).await?;
    Ok(all.into_iter().find(|r| r.target == target && r.state == "restored" && !r.test && r.point_in_time == point_in_time))
}

fn restore_outputs(r: &vigil_dto::backup::RestoreRecord) -> Args {
    let to = chrono::DateTime::from_timestamp_millis(r.point_created_ms).map(|t| t.to_rfc3339()).unwrap_or_default();
    outputs(&[("cluster", r.target.clone()), ("restored_to", to)])
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
        "rds.restore_to_time" | "backup.restore_point" => {
            let target = before.get("target").map(String::as_str).unwrap_or_default();
            Ok(restored(p, target, name == "rds.restore_to_time").await?.as_ref().map(restore_outputs))
        }
        // Done when the environment names the cluster and the worker was restarted since the
        // step began acting (the last thing the action does).
        "platform.use_cluster" => {
            let cluster = arg(args, "cluster")?;
            let env = fresh(p).await?;
            if env.deployment.get("db_cluster_id").map(String::as_str) != Some(cluster) {
                return Ok(None);
            }
            let Some(name) = env.deployment.get("cluster_name") else { return Ok(None) };
            let client = crate::deploy::setup::kube_client(&p.ctx(opt(args, "region")).await, p.op, name).await?;
            let at = vigil_kube::restarted_at(&client, crate::deploy::NAMESPACE, crate::deploy::setup::WORKER)
                .await
                .map_err(crate::deploy::setup::kube_error)?;
            let since = before.get(ACTING_SINCE).and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            let restarted = match (at.and_then(|a| chrono::DateTime::parse_from_rfc3339(&a).ok()), since) {
                (Some(a), Some(s)) => a >= s,
                _ => false,
            };
            Ok(restarted.then(|| outputs(&[("previous", before.get("previous").cloned().unwrap_or_default())])))
        }
        "platform.use_region" => {
            let env = fresh(p).await?;
            let from = || outputs(&[("from", before.get("from").cloned().unwrap_or_default())]);
            Ok(super::region::there(&env, arg(args, "region")?, arg(args, "cluster")?).then(from))
        }
        "eks.start_worker" => {
            let want: i32 = before.get("replicas").and_then(|n| n.parse().ok()).unwrap_or(1);
            let (now, _) = worker_replicas(p, arg(args, "region")?).await?;
            Ok((now == want).then(|| outputs(&[("replicas", now.to_string())])))
        }
        "eks.stop_worker" => {
            let (now, _) = worker_replicas(p, arg(args, "region")?).await?;
            Ok((now == 0).then(|| outputs(&[("previous_replicas", before.get("replicas_before").cloned().unwrap_or_default())])))
        }
        "eks.update_cluster_version" => Box::pin(cluster_version_sent(p, args, before)).await,
        // Moving is carried on, not repeated: what is left in the queue is moved. Add-on and
        // node-group updates are carried on too: those already sent are updating or done.
        _ => Ok(None),
    }
}

/// `platform.use_region` (see [`super::region`]).
async fn use_region(p: &Place<'_>, args: &Args, before: &Args) -> Result<Args> {
    let (region, arn) = (arg(args, "region")?, arg(args, "cluster")?);
    let env = fresh(p).await?;
    if !super::region::there(&env, region, arn) {
        let mut input = super::region::swapped(&env, region, arn, opt(args, "queue"))?;
        let (old_id, new_id) = (env.deployment["db_cluster_id"].clone(), input.deployment["db_cluster_id"].clone());
        let new = Rds::new(&p.ctx(Some(region)).await, p.op).cluster(&new_id).await?.ok_or_else(|| gone(&new_id))?;
        // The old writer's region may be lost: its endpoint is then known by its name only.
        let old = Rds::new(&p.ctx(Some(&env.region)).await, p.op).cluster(&old_id).await.ok().flatten();
        let follows = super::region::follow_console(&mut input, &old_id, old.as_ref().map(|c| c.endpoint.as_str()), &new);
        let details = serde_json::json!({
            "from": { "region": env.region, "cluster": old_id, "queue": env.deployment.get("queue_url") },
            "to": { "region": region, "cluster": new_id, "queue": input.deployment.get("queue_url") },
            "console_follows": follows,
            "home_region": input.deployment.get(super::region::HOME_REGION),
        });
        super::region::apply(p.core, &env, &input, details, p.op).await?;
    }
    Ok(outputs(&[("from", before.get("from").cloned().unwrap_or_default())]))
}

/// `sqs.move_messages`: batches of ten until the source queue is empty, in flight included.
async fn move_messages(p: &Place<'_>, args: &Args) -> Result<Args> {
    let (from_url, to_url) = (arg(args, "from")?, arg(args, "to")?);
    if from_url == to_url {
        return Err(Error::validation("runbook", "sqs.move_messages: `from` and `to` are the same queue"));
    }
    let (from, to) = (p.sqs(from_url).await, p.sqs(to_url).await);
    let mut moved = 0usize;
    let mut wait = 0;
    loop {
        let batch = vigil_aws::sqs::move_batch(&from, from_url, &to, to_url, wait).await?;
        moved += batch.moved;
        if let Some(why) = batch.failed.first() {
            return Err(Error::Dr {
                kind: "messages_not_moved",
                message: format!("{} of {} messages could not be moved ({moved} moved so far): {why}", batch.failed.len(), batch.received),
                hint: "they stay in the source queue; resume the run to move the rest".into(),
            });
        }
        if batch.received == 0 {
            // Messages in flight (a batch a stopped move neither deleted nor released, or
            // one the leaving worker holds) come back when their visibility ends, or are
            // deleted by the worker: wait for them (a second's long poll each, within any
            // attempt timeout).
            let (visible, flight) = queued(&from.attributes(from_url).await?.unwrap_or_default());
            if visible + flight == 0 {
                break;
            }
            wait = 1;
        }
    }
    Ok(outputs(&[("moved", moved.to_string())]))
}

/// A queue's messages, from its attributes: (waiting, in flight).
fn queued(a: &std::collections::HashMap<String, String>) -> (u64, u64) {
    let n = |k: &str| a.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (n("ApproximateNumberOfMessages"), n("ApproximateNumberOfMessagesNotVisible"))
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
        // Restores run as the Backups page's do, recorded there too (RTO evidence; the platform
        // may then be pointed at the cluster), under the step's operation id.
        "rds.restore_to_time" => {
            let target = before.get("target").cloned().unwrap_or_default();
            let req = vigil_dto::backup::TimeRestoreRequest {
                source: Some(arg(args, "source")?.to_string()),
                time: arg(args, "time")?.to_string(),
                confirm: Some(target.clone()),
                target,
            };
            let r = Box::pin(crate::backup::Backups::new(p.core).restore_to_time_in(p.env, &req, Some(p.op), &Progress::default())).await?;
            Ok(restore_outputs(&r))
        }
        "backup.restore_point" => {
            let target = before.get("target").cloned().unwrap_or_default();
            let req = vigil_dto::backup::RestoreRequest {
                point: before.get("point").cloned().unwrap_or_default(),
                vault: None,
                confirm: Some(target.clone()),
                target,
                prefixes: vec![],
            };
            let r = Box::pin(crate::backup::Backups::new(p.core).restore_in(p.env, &req, false, Some(p.op), &Progress::default())).await?;
            Ok(restore_outputs(&r))
        }
        "platform.use_cluster" => {
            let cluster = arg(args, "cluster")?;
            let req = vigil_dto::backup::UseClusterRequest { cluster: cluster.to_string(), confirm: Some(cluster.to_string()) };
            let env = fresh(p).await?;
            Box::pin(crate::backup::Backups::new(p.core).use_cluster_in(&env, &req, Some(p.op), &Progress::default())).await?;
            Ok(outputs(&[("previous", before.get("previous").cloned().unwrap_or_default())]))
        }
        // Boxed: their futures would make every action's too large for a worker thread's stack.
        "platform.use_region" => Box::pin(use_region(p, args, before)).await,
        "eks.start_worker" | "eks.stop_worker" => {
            let region = arg(args, "region")?;
            let replicas: i32 = if name == "eks.stop_worker" { 0 } else { before.get("replicas").and_then(|n| n.parse().ok()).unwrap_or(1) };
            let client = p.kube(region).await?;
            let worker = crate::deploy::setup::WORKER;
            let scaled = vigil_kube::scale(&client, crate::deploy::NAMESPACE, worker, crate::deploy::setup::FIELD_MANAGER, replicas)
                .await
                .map_err(crate::deploy::setup::kube_error)?;
            if !scaled {
                return Err(no_worker(region));
            }
            Ok(if name == "eks.stop_worker" {
                outputs(&[("previous_replicas", before.get("replicas_before").cloned().unwrap_or_default())])
            } else {
                outputs(&[("replicas", replicas.to_string())])
            })
        }
        "sqs.move_messages" => Box::pin(move_messages(p, args)).await,
        "eks.update_addons" => Box::pin(update_addons(p, args)).await,
        "eks.update_cluster_version" | "eks.update_nodegroups" => Box::pin(eks_act(p, name, args, before)).await,
        other => Err(unsupported(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_catalog_is_carried_out() {
        let catalog: Vec<&str> =
            pj_runbook::catalog::ACTIONS.iter().map(|a| a.name).chain(pj_runbook::catalog::CHECKS.iter().map(|c| c.name)).collect();
        for name in &catalog {
            assert!(SUPPORTED.contains(name), "{name} is in the catalog but not carried out");
        }
        assert_eq!(SUPPORTED.len(), catalog.len());
    }

    #[test]
    fn a_restored_clusters_name_stays_within_rds_limits() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-02T07:30:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(restored_name("pj-prod-db", "pitr", now), "pj-prod-db-pitr-202612020730");
        let long = format!("{}-x", "a".repeat(60));
        let name = restored_name(&long, "restored", now);
        assert!(name.len() <= 63 && name.ends_with("-restored-202612020730") && name.starts_with("aaaa"), "{name}");
        assert!(crate::backup::restore::check_target(crate::backup::restore::Kind::Aurora, &name).is_ok(), "{name}");
        // Cut at a hyphen: none is left doubled.
        let name = restored_name(&format!("{}-b", "a".repeat(40)), "restored", now);
        assert!(!name.contains("--"), "{name}");
    }
}

//! Pointing the platform at another Aurora cluster: a cluster Vigil restored for this
//! environment (its settings checked against the source's), or back at the stack's own. A step
//! of its own after a restore, with the cluster's identifier typed:
//!
//! 1. the cluster's data read over a connection as the worker's login (schema version, job
//!    ledger and audit log rows) against the data the platform has now; refused when it does
//!    not validate (back at the stack's own cluster, only its schema must) — nothing is
//!    changed before this;
//! 2. the worker's secret (`pj-<platform>/aurora-worker`) pointed at the cluster's endpoint,
//!    port and database, the login kept (an Aurora restore keeps the cluster's roles);
//! 3. the environment's `db_cluster_id` (the dashboards, backups and restores follow it), the
//!    console's own database settings when they named the old endpoint, and the stack's cluster
//!    remembered (`db_cluster_stack`) — with the operator-log record `backup.use_cluster`, in one
//!    transaction;
//! 4. the worker restarted (as `kubectl rollout restart`) so every pod reads the secret afresh,
//!    and its rollout followed.
//!
//! Every step may run again: asked again for the same cluster, it finishes what was left. While
//! the platform runs on a restored cluster, a deploy is refused (it would point it back).

use super::platform_data::{self, WorkerSecret};
use super::restore::list;
use super::Backups;
use crate::aws;
use crate::core::Record;
use crate::deploy::{setup, NAMESPACE};
use crate::environments::rows;
use crate::error::{Error, Result};
use crate::policy::Change;
use crate::progress::{Progress, Stage};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use vigil_aws::rds::Rds;
use vigil_aws::secretsmanager::SecretsManager;
use vigil_dto::backup::{UseClusterRequest, UseClusterResult};
use vigil_dto::Environment;

/// The deployment parameter naming the stack's own cluster while the platform uses another.
pub const STACK_CLUSTER: &str = "db_cluster_stack";

/// How long the worker's rollout may take before Vigil stops waiting (it goes on).
const ROLLOUT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The cluster the platform's stack made, whichever the platform uses now.
pub fn stack_cluster(env: &Environment) -> Option<&str> {
    env.deployment.get(STACK_CLUSTER).or(env.deployment.get("db_cluster_id")).map(String::as_str)
}

/// Refuses a deploy while the platform runs on a cluster its stack did not make.
pub fn refuse_deploy_while_moved(env: &Environment) -> Result<()> {
    match (env.deployment.get(STACK_CLUSTER), env.deployment.get("db_cluster_id")) {
        (Some(stack), Some(used)) if stack != used => Err(Error::Backup {
            kind: "platform_moved",
            message: format!(
                "the platform runs on the restored cluster {used}, not on {stack}, which its database stack manages: a deploy would point it back at {stack}"
            ),
            hint: format!(
                "point the platform back at {stack} first (Backups → Restores, or `vigil backup use-cluster {stack} --confirm {stack}`), or make the restored cluster the stack's (see ARCHITECTURE.md, Backups)"
            ),
        }),
        _ => Ok(()),
    }
}

impl Backups<'_> {
    /// Points the current environment's platform at `req.cluster` (see the module).
    pub async fn use_cluster(&self, req: &UseClusterRequest, progress: &Progress) -> Result<UseClusterResult> {
        self.policy().require(Change::UseCluster)?;
        let env = self.current().await?;
        self.use_cluster_in(&env, req, None, progress).await
    }

    /// As [`Self::use_cluster`] for `env`, under operation id `op` when given (a DR step's).
    pub(crate) async fn use_cluster_in(
        &self,
        env: &Environment,
        req: &UseClusterRequest,
        op: Option<&str>,
        progress: &Progress,
    ) -> Result<UseClusterResult> {
        let cluster_id = req.cluster.trim();
        let (Some(current), Some(stack)) = (env.deployment.get("db_cluster_id").cloned(), stack_cluster(env).map(str::to_string)) else {
            return Err(Error::Backup {
                kind: "not_deployed",
                message: format!("{} names no platform database cluster", env.name),
                hint: "deploy the platform (Deploy page), or name its cluster: vigil env edit --param db_cluster_id=…".into(),
            });
        };
        // The stack's own, or a cluster Vigil restored for this environment whose checks passed.
        if cluster_id != stack {
            let restores = list(self.store().pool(), &env.name, 1000).await?;
            let Some(r) = restores.iter().find(|r| r.target == cluster_id && r.resource_type == "Aurora" && !r.test) else {
                let why = format!("{cluster_id} is neither {stack} (the platform's own) nor a cluster Vigil restored for {}", env.name);
                return Err(Error::validation("cluster", why));
            };
            if !r.passed() {
                let differs: Vec<&str> = r.checks.iter().filter(|c| !c.matches).map(|c| c.name.as_str()).collect();
                return Err(Error::Backup {
                    kind: "restore_not_ready",
                    message: if r.state != "restored" {
                        format!("the restore to {cluster_id} is {}, not finished", r.state)
                    } else {
                        format!("{cluster_id} differs from the source in {}", differs.join(", "))
                    },
                    hint: r.next.clone().unwrap_or_else(|| "finish the restore first (Backups → Restores)".into()),
                });
            }
        }
        if req.confirm.as_deref().map(str::trim) != Some(cluster_id) {
            return Err(Error::Backup {
                kind: "confirmation_required",
                message: format!("to point the platform of {} from {current} at {cluster_id} (the worker restarts), type that name", env.name),
                hint: format!("confirm with {cluster_id}"),
            });
        }
        let platform = crate::deploy::deployed_platform(env)?;
        let ctx = self.aws_context(env).await;
        let op = op.map(str::to_string).unwrap_or_else(aws::new_op_id);
        let rds = Rds::new(&ctx, &op);
        let Some(cluster) = rds.cluster(cluster_id).await? else {
            return Err(Error::Backup {
                kind: "not_found",
                message: format!("there is no cluster {cluster_id}"),
                hint: "Backups → Restores lists the clusters restored; restore again if it was deleted".into(),
            });
        };
        if cluster.status != "available" {
            return Err(Error::Backup {
                kind: "cluster_not_ready",
                message: format!("{cluster_id} is {}, not available", cluster.status),
                hint: "wait until it is available, then try again".into(),
            });
        }
        let sm = SecretsManager::new(&ctx, &op);
        let secret = WorkerSecret::read(&sm, &platform).await?;
        let ca_file = env.platform_db.as_ref().and_then(|d| d.ca_file.clone());

        // 1. The data, before anything changes.
        progress.start(Stage::Validating, 1);
        let now_on = if current == cluster_id { None } else { rds.cluster(&current).await? };
        let running = match &now_on {
            Some(c) => platform_data::read(c, &secret, ca_file.clone()).await.map_err(|e| e.to_string()),
            None if current == cluster_id => Err(format!("the platform already uses {current}")),
            None => Err(format!("{current} is not there")),
        };
        let checks = platform_data::checks(&platform_data::read(&cluster, &secret, ca_file).await?, &running);
        progress.done.store(1, Ordering::Relaxed);
        // Back at the stack's own cluster, fewer rows than on the restored one are expected (what
        // ran since is not there); its schema must still be the platform's.
        if let Some(bad) = checks.iter().find(|c| !c.matches && (cluster_id != stack || c.name == "schema_version")) {
            return Err(Error::Backup {
                kind: "data_not_valid",
                message: format!("{cluster_id}'s data does not validate: {} is {} against {}", bad.name, bad.restored, bad.source),
                hint: "nothing was changed; restore a later recovery point, or keep the platform where it is".into(),
            });
        }

        // 2. The worker's secret.
        let value = secret.pointed_at(&cluster);
        let previous = secret.cluster().unwrap_or(&current).to_string();
        if serde_json::from_str::<serde_json::Value>(&value).ok().as_ref() != Some(&secret.value) {
            sm.put(&secret.name, &value).await?;
        }

        // 3. The environment, with the record.
        let mut input = env.to_input();
        input.deployment.insert("db_cluster_id".into(), cluster.id.clone());
        if cluster.id == stack {
            input.deployment.remove(STACK_CLUSTER);
        } else {
            input.deployment.insert(STACK_CLUSTER.into(), stack.clone());
        }
        let old_endpoint = now_on.as_ref().map(|c| (c.endpoint.clone(), platform_data::database_of(c)));
        let mut console_follows = false;
        if let (Some(db), Some((host, database))) = (input.platform_db.as_mut(), &old_endpoint) {
            if &db.host == host && &db.database == database {
                db.host = cluster.endpoint.clone();
                db.port = cluster.port;
                db.database = platform_data::database_of(&cluster);
                console_follows = true;
            }
        }
        let endpoint = format!("{}:{}/{}", cluster.endpoint, cluster.port, platform_data::database_of(&cluster));
        if input != env.to_input() {
            let mut tx = self.begin().await?;
            rows::update(&mut tx, env.id, &input).await?;
            let details = json!({
                "from": current, "to": cluster.id, "secret": secret.name, "endpoint": endpoint,
                "console_follows": console_follows, "checks": checks,
            });
            self.commit(tx, Record::new("backup.use_cluster", &env.name, details).op(&op)).await?;
            self.pools.lock().await.remove(&env.name.to_lowercase());
        }

        // 4. The worker, restarted and followed.
        let worker = self.restart_worker(&ctx, &op, env, progress).await?;
        self.log(Record::new("backup.worker_restarted", &env.name, json!({ "cluster": cluster.id, "rollout": worker })).op(&op)).await?;

        let tagged = |k: &str, v: &str| cluster.tags.iter().any(|(tk, tv)| tk == k && tv == v);
        let next = if cluster.id != stack && !(tagged("pj:backup", "true") && tagged("pj:environment", &platform)) {
            Some(format!(
                "{} is not tagged pj:backup=true and pj:environment={platform}: the backup plan does not protect it until it is",
                cluster.id
            ))
        } else if cluster.id != stack {
            Some(format!("deploys are refused while the platform runs on {}; point it back at {stack} when you are done", cluster.id))
        } else {
            None
        };
        Ok(UseClusterResult {
            environment: env.name.clone(),
            cluster: cluster.id.clone(),
            previous,
            endpoint,
            secret: secret.name.clone(),
            checks,
            worker,
            console_follows,
            next,
        })
    }

    /// Restarts the platform's worker and follows its rollout; returns where it ended.
    async fn restart_worker(&self, ctx: &aws::AwsContext, op: &str, env: &Environment, progress: &Progress) -> Result<String> {
        let Some(name) = env.deployment.get("cluster_name") else {
            return Err(Error::Backup {
                kind: "not_deployed",
                message: format!("{} names no EKS cluster: the worker cannot be restarted", env.name),
                hint: "restart it by hand (kubectl rollout restart deployment/pj-worker -n patient-journey)".into(),
            });
        };
        let client = setup::kube_client(ctx, op, name).await?;
        let at = chrono::Utc::now().to_rfc3339();
        if !vigil_kube::restart(&client, NAMESPACE, setup::WORKER, setup::FIELD_MANAGER, &at).await.map_err(setup::kube_error)? {
            return Err(Error::Backup {
                kind: "not_found",
                message: format!("the Deployment {} is not in {NAMESPACE}", setup::WORKER),
                hint: "resume the platform's deploy: it applies the worker".into(),
            });
        }
        let start = Instant::now();
        loop {
            let r = vigil_kube::rollout(&client, NAMESPACE, setup::WORKER).await.map_err(setup::kube_error)?.unwrap_or_default();
            progress.start(Stage::Worker, r.desired.max(0) as u64);
            progress.done.store(r.available.max(0) as u64, Ordering::Relaxed);
            if let Some(why) = r.failed {
                return Err(Error::Backup {
                    kind: "rollout_failed",
                    message: format!("the worker's restart stopped: {why}"),
                    hint: "the secret already names the new cluster; look at the worker's pods, then run this again".into(),
                });
            }
            if r.done {
                return Ok(format!("{} of {} replicas ready", r.ready, r.desired));
            }
            if start.elapsed() > ROLLOUT_TIMEOUT.max(self.deploy_poll * 4) {
                return Err(Error::Backup {
                    kind: "rollout_timeout",
                    message: format!("the worker is still restarting ({})", r.waiting_for.unwrap_or_default()),
                    hint: "run this again to keep following it".into(),
                });
            }
            tokio::time::sleep(self.deploy_poll).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_is_refused_only_while_the_platform_runs_elsewhere() {
        let mut env = crate::testing::environment("prod");
        assert!(refuse_deploy_while_moved(&env).is_ok());
        env.deployment.insert("db_cluster_id".into(), "pj-db".into());
        assert!(refuse_deploy_while_moved(&env).is_ok());
        assert_eq!(stack_cluster(&env), Some("pj-db"));
        env.deployment.insert("db_cluster_id".into(), "pj-db-restored".into());
        env.deployment.insert(STACK_CLUSTER.into(), "pj-db".into());
        let e = refuse_deploy_while_moved(&env).unwrap_err();
        assert_eq!(e.kind(), "platform_moved");
        assert!(e.to_string().contains("point it back at pj-db"), "{e}");
        assert_eq!(stack_cluster(&env), Some("pj-db"));
    }
}

//! The platform's set-up once its stacks are in place, as part of the same apply (journaled
//! step by step, so `resume` continues from the first step not done; every step may run again):
//!
//! 1. `keys`: the worker's keys (`pj-<env>/worker-keys`, under the platform's data key) made
//!    here and stored only in Secrets Manager; an existing secret is kept. Its public key is
//!    pinned in the environment (`audit_public_keys`), which audit verification trusts.
//! 2. `database`: the bundle's migrations run on Aurora as its master user (the managed master
//!    secret, read into memory only); the worker's login (`<db>_worker`, password in
//!    `pj-<env>/aurora-worker`, RDS's secret format) and the console's (`<db>_console`, IAM
//!    authentication, read-only but job retries) are made or refreshed. An environment with no
//!    platform database yet gets the console's login. Aurora sits in private subnets: it is
//!    reached at the environment's platform database host when one is set (a tunnel), else
//!    at the writer endpoint.
//! 3. `kubernetes`: the tier's manifests (rendered from the bundle's kustomize tiers, signed
//!    with it), filled in with this deployment's values, applied by server-side apply over
//!    the Kubernetes API with an EKS token minted here.
//! 4. `rollout`: the worker's Deployment followed until every replica runs the new template.

use super::bundle::Bundle;
use super::journal::Entry;
use super::{Deploy, NAMESPACE};
use crate::error::{Error, Result};
use crate::platform_db::connect;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use vigil_aws::rds::Rds;
use vigil_aws::secretsmanager::SecretsManager;
use vigil_dto::deploy::{DeploymentStatus, SetupStep};
use vigil_dto::{DbAuth, Environment, PlatformDb};

/// The steps, in order: (id, title).
pub const STEPS: [(&str, &str); 4] = [
    ("keys", "Worker keys in Secrets Manager, public key pinned"),
    ("database", "Database migrations and logins"),
    ("kubernetes", "Kubernetes manifests applied"),
    ("rollout", "Worker rolled out"),
];

/// The worker's Deployment (deploy-bundles/k8s/worker/base/deployment.yaml).
pub const WORKER: &str = "pj-worker";
/// Server-side apply's field manager: the fields Vigil owns.
pub const FIELD_MANAGER: &str = "vigil";
/// How long a rollout may take before the set-up stops waiting.
pub const ROLLOUT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub fn pending() -> Vec<SetupStep> {
    STEPS.iter().map(|(id, title)| SetupStep { id: id.to_string(), title: title.to_string(), state: "pending".into(), detail: None }).collect()
}

pub fn keys_secret(platform: &str) -> String {
    format!("pj-{platform}/worker-keys")
}

pub fn database_secret(platform: &str) -> String {
    format!("pj-{platform}/aurora-worker")
}

/// The logins made on the platform database: (worker, console).
pub fn logins(database: &str) -> Result<(String, String)> {
    let ok = !database.is_empty() && database.len() <= 55 && database.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(failed(
            "database",
            format!("the cluster's database name {database:?} is not one the platform makes"),
            "check the database stack's DatabaseName",
        ));
    }
    Ok((format!("{database}_worker"), format!("{database}_console")))
}

fn failed(kind: &'static str, message: String, hint: &str) -> Error {
    Error::Deploy { kind, message, hint: hint.to_string() }
}

fn output<'a>(outputs: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    outputs.get(name).map(String::as_str).filter(|v| !v.is_empty()).ok_or_else(|| {
        failed(
            "missing_output",
            format!("the stacks give no {name}"),
            "the bundle's stacks and this console disagree: use the console the bundle was made for",
        )
    })
}

pub(crate) fn kube_error(e: vigil_kube::KubeError) -> Error {
    Error::Deploy { kind: e.kind, message: e.message, hint: e.hint }
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| failed("random", format!("no randomness from the OS ({e})"), "try again"))?;
    Ok(hex::encode(buf))
}

/// A Kubernetes client for the EKS cluster `name`, with a token minted here.
pub(crate) async fn kube_client(ctx: &vigil_aws::AwsContext, op: &str, name: &str) -> Result<vigil_kube::Client> {
    let cluster = vigil_aws::eks::Eks::new(ctx, op)
        .cluster(name)
        .await?
        .ok_or_else(|| failed("not_found", format!("the EKS cluster {name} is gone"), "run a new deploy"))?;
    let token = vigil_aws::eks::token(ctx, name).await?;
    vigil_kube::client(&vigil_kube::Cluster { endpoint: cluster.endpoint, ca: cluster.certificate_authority, token }).map_err(kube_error)
}

/// The tier's manifests with this deployment's values: the worker's settings (queue, secrets,
/// environment), its IAM role, and its image at the bundle's version.
pub fn fill_manifests(objects: &[Value], platform: &str, version: &str, outputs: &BTreeMap<String, String>) -> Result<Vec<Value>> {
    let mut out = objects.to_vec();
    for o in &mut out {
        match (o["kind"].as_str(), o["metadata"]["name"].as_str()) {
            (Some("ConfigMap"), Some(WORKER)) => {
                let data = &mut o["data"];
                data["PJ_ENVIRONMENT"] = json!(platform);
                data["PJ_QUEUE_URL"] = json!(output(outputs, "WorkQueueUrl")?);
                data["PJ_KEYS_SECRET_ID"] = json!(keys_secret(platform));
                data["PJ_DATABASE_SECRET_ID"] = json!(database_secret(platform));
            }
            (Some("ServiceAccount"), Some(WORKER)) => {
                o["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = json!(output(outputs, "WorkerRoleArn")?);
            }
            (Some("Deployment"), Some(WORKER)) => {
                for c in o["spec"]["template"]["spec"]["containers"].as_array_mut().into_iter().flatten() {
                    if let Some(image) = c["image"].as_str() {
                        c["image"] = json!(image.replace("BUNDLE_VERSION", version));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The multi-document YAML of a rendered tier, as JSON objects.
pub fn parse_manifests(text: &str) -> Result<Vec<Value>> {
    use serde::Deserialize;
    let mut out = vec![];
    for doc in serde_norway::Deserializer::from_str(text) {
        let v = Value::deserialize(doc).map_err(|e| Error::validation("bundle", format!("a Kubernetes manifest cannot be read: {e}")))?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

impl Deploy<'_> {
    /// Runs every set-up step not done yet; the journal and `report` see each one.
    pub(super) async fn set_up(
        &self,
        entry: &mut Entry,
        bundle: &Bundle,
        outputs: &BTreeMap<String, String>,
        op: &str,
        report: &(dyn Fn(&DeploymentStatus) + Send + Sync),
    ) -> Result<()> {
        if entry.progress.setup.is_empty() {
            entry.progress.setup = pending();
        }
        let platform = entry.plan.platform_environment.clone();
        for i in 0..entry.progress.setup.len() {
            if entry.progress.setup[i].state == "done" {
                continue;
            }
            let id = entry.progress.setup[i].id.clone();
            entry.progress.setup[i].state = "running".into();
            entry.progress.setup[i].detail = None;
            self.save_progress(entry, report).await?;
            let env = self.environment(&entry.environment).await?;
            let ctx = self.aws_context(&env).await;
            let ran = match id.as_str() {
                "keys" => self.keys(&env, &SecretsManager::new(&ctx, op), &platform, outputs).await,
                "database" => self.database(&env, &ctx, op, &platform, bundle, outputs).await,
                "kubernetes" => self.kubernetes(&ctx, op, &platform, &entry.plan.tier, bundle, outputs).await,
                _ => self.rollout(&ctx, op, outputs, entry, i, report).await,
            };
            match ran {
                Ok(detail) => {
                    let details = json!({ "plan": entry.id, "step": id, "detail": detail });
                    self.log(crate::core::Record::new("deploy.set_up", &entry.environment, details).op(op)).await?;
                    let step = &mut entry.progress.setup[i];
                    step.state = "done".into();
                    step.detail = Some(detail);
                    self.save_progress(entry, report).await?;
                }
                Err(e) => {
                    let step = &mut entry.progress.setup[i];
                    step.state = "failed".into();
                    step.detail = Some(e.to_string());
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    async fn save_progress(&self, entry: &mut Entry, report: &(dyn Fn(&DeploymentStatus) + Send + Sync)) -> Result<()> {
        entry.updated_at = super::journal::now();
        super::journal::save(self.store().pool(), &entry.id, &entry.state, &entry.progress).await?;
        report(&super::apply::status_of(entry));
        Ok(())
    }

    /// Step 1: the worker's keys exist in Secrets Manager and their public key is pinned.
    async fn keys(&self, env: &Environment, sm: &SecretsManager, platform: &str, outputs: &BTreeMap<String, String>) -> Result<String> {
        let name = keys_secret(platform);
        let (public, made) = match sm.value(&name).await? {
            Some(json) => {
                let keys = pj_audit::keys::parse(&json).map_err(|e| {
                    failed(
                        "bad_secret",
                        format!("{name} is not the worker's keys ({e})"),
                        "delete the secret (its audit checkpoints then stay verifiable with the key already pinned) and resume",
                    )
                })?;
                (hex::encode(keys.signing.verifying_key().as_bytes()), false)
            }
            None => {
                let (json, public) =
                    pj_audit::keys::generate().map_err(|e| failed("random", format!("no worker keys could be made ({e})"), "try again"))?;
                let tags = [("pj:environment", platform), ("pj:component", "deid-worker")];
                sm.create(
                    &name,
                    "The Patient Journey worker's audit signing and de-identification keys (made by Vigil).",
                    Some(output(outputs, "DataKeyArn")?),
                    &json,
                    &tags,
                )
                .await?;
                (public, true)
            }
        };
        let pinned = env.deployment.get(crate::audit::AUDIT_KEYS_PARAM).cloned().unwrap_or_default();
        let mut keys: Vec<String> = pinned.split([',', ' ', '\n']).map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect();
        if !keys.iter().any(|k| k.eq_ignore_ascii_case(&public)) {
            keys.push(public.clone());
            let mut input = env.to_input();
            input.deployment.insert(crate::audit::AUDIT_KEYS_PARAM.to_string(), keys.join(","));
            crate::environments::Environments::new(self.core).update(&env.name, &input).await?;
        }
        let key_id = pj_audit::verifying_key_from_hex(&public).map(|k| pj_audit::key_id(&k)).unwrap_or_default();
        Ok(format!("{} {name}; key {key_id} pinned", if made { "made" } else { "kept" }))
    }

    /// Step 2: migrations, then the worker's and the console's logins.
    async fn database(
        &self,
        env: &Environment,
        ctx: &vigil_aws::AwsContext,
        op: &str,
        platform: &str,
        bundle: &Bundle,
        outputs: &BTreeMap<String, String>,
    ) -> Result<String> {
        let id = output(outputs, "ClusterIdentifier")?;
        let cluster = Rds::new(ctx, op)
            .cluster(id)
            .await?
            .ok_or_else(|| failed("not_found", format!("the database cluster {id} is gone"), "run a new deploy"))?;
        let sm = SecretsManager::new(ctx, op);
        let master_id = cluster.master_secret.clone().or_else(|| outputs.get("MasterSecretArn").cloned()).ok_or_else(|| {
            failed(
                "no_master_secret",
                format!("{id} has no managed master secret"),
                "the database stack sets ManageMasterUserPassword: deploy the bundle's own template",
            )
        })?;
        let master: Value = sm.value(&master_id).await?.and_then(|s| serde_json::from_str(&s).ok()).ok_or_else(|| {
            failed("no_master_secret", format!("the master secret {master_id} cannot be read"), "check it exists and holds username and password")
        })?;
        let (user, password) = (master["username"].as_str().unwrap_or_default(), master["password"].as_str().unwrap_or_default());
        let database = cluster.database.clone().unwrap_or_else(|| "postgres".into());
        let (worker, console) = logins(&database)?;
        // The route to Aurora: the operator's (a tunnel set as the platform database) or the endpoint.
        let (host, port, ca_file) = match &env.platform_db {
            Some(db) if connect::is_loopback_host(&db.host) => (db.host.clone(), db.port, db.ca_file.clone()),
            Some(db) => (cluster.endpoint.clone(), cluster.port, db.ca_file.clone()),
            None => (cluster.endpoint.clone(), cluster.port, None),
        };
        let settings = PlatformDb { host: host.clone(), port, database: database.clone(), user: user.to_string(), auth: DbAuth::Password, ca_file };
        let options = {
            use sqlx::ConnectOptions;
            connect::options(&settings, Some(password)).disable_statement_logging()
        };
        let mut conn = match tokio::time::timeout(Duration::from_secs(15), <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(unreachable_hint(connect::classify(&e, &settings))),
            Err(_) => return Err(unreachable_hint(connect::classify(&sqlx::Error::PoolTimedOut, &settings))),
        };
        let migrator = sqlx::migrate::Migrator::new(bundle.root.join("migrations"))
            .await
            .map_err(|e| failed("migrations", format!("the bundle's migrations cannot be read ({e})"), "open the bundle again"))?;
        let before = applied_migrations(&mut conn).await;
        migrator.run_direct(&mut conn).await.map_err(|e| {
            failed(
                "migrations",
                format!("the platform database's migrations failed: {e}"),
                "nothing after the failed migration ran (each runs in a transaction); fix the cause, then resume",
            )
        })?;
        let applied = applied_migrations(&mut conn).await - before;
        // Logins: made once, their grants refreshed every time (new tables included).
        let worker_password = match sm.value(&database_secret(platform)).await? {
            Some(s) => serde_json::from_str::<Value>(&s).ok().and_then(|v| v["password"].as_str().map(str::to_string)).unwrap_or(random_hex(32)?),
            None => random_hex(32)?,
        };
        let iam = sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam')")
            .fetch_one(&mut conn)
            .await
            .map_err(connect::query_error)?;
        let statements = [
            format!("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{worker}') THEN CREATE ROLE {worker} LOGIN; END IF; END $$"),
            format!("ALTER ROLE {worker} LOGIN PASSWORD '{worker_password}'"),
            format!("GRANT CONNECT ON DATABASE {database} TO {worker}"),
            format!("GRANT USAGE ON SCHEMA public TO {worker}"),
            format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {worker}"),
            format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {worker}"),
            format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{console}') THEN CREATE ROLE {console} LOGIN; END IF; END $$"
            ),
            format!("GRANT CONNECT ON DATABASE {database} TO {console}"),
            format!("GRANT USAGE ON SCHEMA public TO {console}"),
            format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {console}"),
            format!("GRANT UPDATE ON jobs TO {console}"),
            format!("GRANT pj_auditor TO {console}"),
        ];
        for sql in statements.iter().chain(iam.then(|| format!("GRANT rds_iam TO {console}")).iter()) {
            sqlx::query(sql).execute(&mut conn).await.map_err(|e| {
                failed(
                    "database_logins",
                    format!("the platform's database logins could not be set ({e})"),
                    "the master user must be able to create roles; fix the cause, then resume",
                )
            })?;
        }
        let secret = json!({
            "username": worker, "password": worker_password, "engine": "postgres",
            "host": cluster.endpoint, "port": cluster.port, "dbname": database, "dbClusterIdentifier": id,
        })
        .to_string();
        let name = database_secret(platform);
        match sm.value(&name).await? {
            None => {
                let tags = [("pj:environment", platform), ("pj:component", "deid-worker")];
                sm.create(
                    &name,
                    "The Patient Journey worker's database login (made by Vigil).",
                    Some(output(outputs, "DataKeyArn")?),
                    &secret,
                    &tags,
                )
                .await?;
            }
            Some(old) if old != secret => sm.put(&name, &secret).await?,
            Some(_) => {}
        }
        if env.platform_db.is_none() {
            let db = PlatformDb {
                host: cluster.endpoint.clone(),
                port: cluster.port,
                database: database.clone(),
                user: console.clone(),
                auth: DbAuth::Iam,
                ca_file: None,
            };
            crate::platform_db::PlatformDb::new(self.core).set(&env.name, Some(db)).await?;
        }
        Ok(format!(
            "{applied} migrations applied ({} in all) on {database} at {host}:{port}; logins {worker} (in {name}) and {console} (IAM)",
            migrator.iter().count()
        ))
    }

    async fn kube_client(&self, ctx: &vigil_aws::AwsContext, op: &str, outputs: &BTreeMap<String, String>) -> Result<vigil_kube::Client> {
        kube_client(ctx, op, output(outputs, "ClusterName")?).await
    }

    /// Step 3: the tier's manifests, filled in, applied.
    async fn kubernetes(
        &self,
        ctx: &vigil_aws::AwsContext,
        op: &str,
        platform: &str,
        tier: &str,
        bundle: &Bundle,
        outputs: &BTreeMap<String, String>,
    ) -> Result<String> {
        let objects = bundle
            .manifests
            .get(tier)
            .ok_or_else(|| Error::validation("tier", format!("the bundle has no Kubernetes manifests for tier {tier:?}")))?;
        let objects = fill_manifests(objects, platform, &bundle.manifest.version, outputs)?;
        let client = self.kube_client(ctx, op, outputs).await?;
        let applied = vigil_kube::apply(&client, &objects, FIELD_MANAGER).await.map_err(kube_error)?;
        let changed = applied.iter().filter(|a| a.changed).count();
        Ok(format!("{} objects applied in {NAMESPACE}, {changed} created or changed", applied.len()))
    }

    /// Step 4: waits for the worker's rollout (its progress shown as the step's detail).
    async fn rollout(
        &self,
        ctx: &vigil_aws::AwsContext,
        op: &str,
        outputs: &BTreeMap<String, String>,
        entry: &mut Entry,
        step: usize,
        report: &(dyn Fn(&DeploymentStatus) + Send + Sync),
    ) -> Result<String> {
        let client = self.kube_client(ctx, op, outputs).await?;
        let start = Instant::now();
        loop {
            let r = vigil_kube::rollout(&client, NAMESPACE, WORKER).await.map_err(kube_error)?.ok_or_else(|| {
                failed("not_found", format!("the Deployment {WORKER} is not in {NAMESPACE}"), "resume: the manifests are applied again")
            })?;
            if let Some(why) = r.failed {
                // The actual cause from the pods and events, when one is found.
                let cause = vigil_kube::inspect::diagnose(&client, NAMESPACE, WORKER).await.ok().flatten();
                let (detail, hint) = match &cause {
                    Some(c) => (format!(" — {}", c.detail), format!("{}; after the fix, resume", c.hint)),
                    None => (String::new(), "look at the worker on the Services page (`vigil eks workloads`); after the fix, resume".to_string()),
                };
                return Err(failed("rollout_failed", format!("the worker's rollout stopped: {why}{detail}"), &hint));
            }
            if r.done {
                return Ok(format!("{} of {} replicas ready", r.ready, r.desired));
            }
            if start.elapsed() > self.rollout_timeout() {
                return Err(failed(
                    "rollout_timeout",
                    format!(
                        "the worker is still rolling out after {} min ({})",
                        self.rollout_timeout().as_secs() / 60,
                        r.waiting_for.unwrap_or_default()
                    ),
                    "resume to keep waiting, or look at the worker's pods",
                ));
            }
            entry.progress.setup[step].detail = r.waiting_for;
            self.save_progress(entry, report).await?;
            tokio::time::sleep(self.poll()).await;
        }
    }

    fn rollout_timeout(&self) -> Duration {
        ROLLOUT_TIMEOUT.max(self.poll() * 4)
    }
}

/// How many migrations the database has (none before the first).
async fn applied_migrations(conn: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success").fetch_one(conn).await.unwrap_or(0)
}

/// A connection failure, with how a desktop reaches a private Aurora.
pub(crate) fn unreachable_hint(e: Error) -> Error {
    match e {
        Error::PlatformDb { kind, message, hint } if matches!(kind, "db_dns" | "db_refused" | "db_timeout" | "db_network") => Error::PlatformDb {
            kind,
            message,
            hint: format!(
                "{hint}. Aurora is in the platform's private subnets: reach it from this machine (VPN, Direct Connect, or an SSH tunnel set as the environment's platform database), then resume"
            ),
        },
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> BTreeMap<String, String> {
        [("WorkQueueUrl", "https://sqs.eu-west-1.amazonaws.com/1/pj-prod-work"), ("WorkerRoleArn", "arn:aws:iam::1:role/pj-prod-worker")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_tier_is_filled_in_with_the_deployment_s_values() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy-bundles/k8s/rendered");
        for tier in ["small", "medium", "large"] {
            let objects = parse_manifests(&std::fs::read_to_string(root.join(format!("{tier}.yaml"))).unwrap()).unwrap();
            let kinds: Vec<_> = objects.iter().map(|o| o["kind"].as_str().unwrap().to_string()).collect();
            assert_eq!(kinds[0], "Namespace", "{tier}: the namespace first");
            assert!(kinds.contains(&"Deployment".to_string()) && kinds.contains(&"NetworkPolicy".to_string()), "{tier}: {kinds:?}");
            let filled = fill_manifests(&objects, "prod", "1.2.0", &outputs()).unwrap();
            let find = |kind: &str| filled.iter().find(|o| o["kind"] == kind).unwrap().clone();
            let cm = find("ConfigMap");
            assert_eq!(cm["data"]["PJ_QUEUE_URL"], "https://sqs.eu-west-1.amazonaws.com/1/pj-prod-work");
            assert_eq!(cm["data"]["PJ_KEYS_SECRET_ID"], "pj-prod/worker-keys");
            assert_eq!(cm["data"]["PJ_DATABASE_SECRET_ID"], "pj-prod/aurora-worker");
            assert_eq!(cm["data"]["PJ_ENVIRONMENT"], "prod");
            assert_eq!(find("ServiceAccount")["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], "arn:aws:iam::1:role/pj-prod-worker");
            assert_eq!(find("Deployment")["spec"]["template"]["spec"]["containers"][0]["image"], "pj-worker:1.2.0");
            assert!(filled.iter().all(|o| o["kind"] == "Namespace" || o["metadata"]["namespace"] == NAMESPACE));
        }
        let mut missing = outputs();
        missing.remove("WorkerRoleArn");
        let objects = parse_manifests("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: pj-worker, annotations: {}}\n").unwrap();
        assert_eq!(fill_manifests(&objects, "prod", "1", &missing).unwrap_err().kind(), "missing_output");
    }

    #[test]
    fn logins_are_named_after_the_database_and_odd_names_are_refused() {
        assert_eq!(logins("patient_journey").unwrap(), ("patient_journey_worker".into(), "patient_journey_console".into()));
        assert!(logins("x; DROP ROLE y").is_err());
        assert!(logins(&"a".repeat(56)).is_err());
    }
}

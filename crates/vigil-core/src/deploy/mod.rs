//! Deploying the platform bundle into the operator's AWS account: `app.deploy()`.
//!
//! The bundle is verified against the console's trusted publishers before anything is read
//! from it ([`bundle`]); preflight asks AWS whether the account and region can take the
//! platform ([`preflight`]); the plan ([`plan`]) prices the tier ([`cost`]) and makes a change
//! set per existing stack, gating any replacement or removal of data; apply ([`apply`]) executes
//! exactly the reviewed change sets (a new stack: a create that may only add), follows every
//! stack's events, protects new stacks, and journals each step ([`journal`]) so a restarted
//! Vigil re-attaches; once every stack is in place their outputs become the environment's
//! deployment parameters, so every other page works with no typing. A teardown ([`teardown`]) is
//! planned and applied the same way: its plan deletes every stack and lists what stays.
//! After a deploy's stacks, the platform is set up ([`setup`]: worker keys, database
//! migrations and logins, Kubernetes manifests, the worker's rollout) in the same apply.
//! Validation ([`validate`]) checks every deployed component; the deployment record
//! ([`record`]) is that and the deployment as PDF.
//!
//! Operator-log actions: `publisher.trust`, `publisher.distrust`, `deploy.plan`,
//! `deploy.apply`, `deploy.applied`, `deploy.failed`, `deploy.teardown_plan`,
//! `deploy.set_up`, `deploy.destroyed`, `deploy.record`.

pub mod apply;
pub mod bundle;
pub mod cost;
pub mod journal;
pub mod plan;
pub mod preflight;
pub mod record;
pub mod recover;
pub mod setup;
pub mod teardown;
pub mod templates;
pub mod upgrade;
pub mod validate;

use crate::app::area;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use bundle::Bundle;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use templates::{check_platform_environment, platform_environment_of};
use vigil_aws::cloudformation::CloudFormation;
use vigil_aws::ec2::Ec2;
use vigil_aws::rds::Rds;
use vigil_dto::deploy::{
    BundleSummary, CheckStatus, DeployPlan, DeployRequest, DeploymentRecord, DeploymentStatus, PreflightCheck, PreflightReport, Publisher,
    ValidationReport,
};
use vigil_dto::Environment;

area!(
    /// Deploying the platform bundle: publishers, preflight, plan, apply, status.
    Deploy
);

/// Stack outputs → the environment's deployment parameters (the metric catalog's names).
pub const OUTPUT_PARAMETERS: [(&str, &str); 7] = [
    ("cluster_name", "ClusterName"),
    ("db_cluster_id", "ClusterIdentifier"),
    ("bucket", "DocumentsBucket"),
    ("backup_vault", "VaultName"),
    ("queue_url", "WorkQueueUrl"),
    ("log_group", "WorkerLogGroup"),
    ("backup_events", "JobEventsLogGroup"),
];

/// The Kubernetes namespace of the platform's workloads (deploy-bundles/k8s/worker/base).
pub const NAMESPACE: &str = "patient-journey";

/// The deployment parameters a finished deploy gives its environment.
pub fn deployment_parameters(platform_env: &str, outputs: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    out.insert("environment".to_string(), platform_env.to_string());
    out.insert("namespace".to_string(), NAMESPACE.to_string());
    for (param, output) in OUTPUT_PARAMETERS {
        if let Some(v) = outputs.get(output) {
            out.insert(param.to_string(), v.clone());
        }
    }
    // CloudWatch names a replication group's nodes <group>-001, …; the primary is the first.
    if let Some(group) = outputs.get("ReplicationGroupId") {
        out.insert("cache_cluster_id".to_string(), format!("{group}-001"));
    }
    out
}

/// The platform environment `env` was deployed as (its name's, when no deploy set it).
pub(crate) fn deployed_platform(env: &Environment) -> Result<String> {
    let platform = match env.deployment.get("environment").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(p) => p.to_string(),
        None => platform_environment_of(&env.name),
    };
    check_platform_environment(&platform)?;
    Ok(platform)
}

fn platform_env(env: &Environment, request: &DeployRequest) -> Result<String> {
    let name = if request.platform_environment.trim().is_empty() {
        // The deployed platform's own name where there is one (an upgrade keeps it).
        env.deployment.get("environment").cloned().unwrap_or_else(|| platform_environment_of(&env.name))
    } else {
        request.platform_environment.trim().to_string()
    };
    check_platform_environment(&name)?;
    Ok(name)
}

/// The tier and edits `request` asks for; with no tier, the running deployment's, with the
/// request's edits over its own (an upgrade keeps them).
fn tier_of(request: &DeployRequest, running: Option<&journal::Entry>) -> Result<(String, cost::StackParameters)> {
    match (request.tier.trim(), running) {
        ("", Some(r)) => {
            let mut overrides = r.plan.overrides.clone();
            for (stack, params) in &request.overrides {
                overrides.entry(stack.clone()).or_default().extend(params.clone());
            }
            Ok((r.plan.tier.clone(), overrides))
        }
        ("", None) => Err(Error::validation("tier", "nothing is deployed to keep the tier of: choose small, medium or large")),
        (t, _) => Ok((t.to_string(), request.overrides.clone())),
    }
}

impl Deploy<'_> {
    /// The deploy the platform of `environment` stands on now (None: none, or torn down).
    async fn running(&self, environment: &str) -> Result<Option<journal::Entry>> {
        Ok(journal::latest_succeeded(self.store().pool(), environment).await?.filter(|e| e.plan.kind == "deploy"))
    }

    /// Polling interval while CloudFormation works (tests shorten it).
    fn poll(&self) -> Duration {
        self.deploy_poll
    }

    pub async fn publishers(&self) -> Result<Vec<Publisher>> {
        bundle::publishers(self.store().pool()).await
    }

    /// Trusts bundles signed with `public_key`, shown as `name`.
    pub async fn trust(&self, name: &str, public_key: &str) -> Result<Publisher> {
        self.policy().require(Change::TrustPublisher)?;
        let (name, key) = (bundle::check_name(name)?, bundle::check_key(public_key)?);
        let mut tx = self.begin().await?;
        let exists: Option<(String,)> =
            sqlx::query_as("SELECT name FROM trusted_publishers WHERE public_key = ?").bind(&key).fetch_optional(&mut *tx).await?;
        if let Some((existing,)) = exists {
            return Err(Error::Deploy {
                kind: "conflict",
                message: format!("this key is already trusted, as {existing:?}"),
                hint: "nothing to do".into(),
            });
        }
        let added_at = journal::now();
        sqlx::query("INSERT INTO trusted_publishers (public_key, name, added_at) VALUES (?, ?, ?)")
            .bind(&key)
            .bind(&name)
            .bind(&added_at)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, Record::new("publisher.trust", &name, json!({ "public_key": key }))).await?;
        Ok(Publisher { name, public_key: key, added_at })
    }

    /// Stops trusting bundles signed with `public_key`.
    pub async fn distrust(&self, public_key: &str) -> Result<()> {
        self.policy().require(Change::TrustPublisher)?;
        let key = bundle::check_key(public_key)?;
        let mut tx = self.begin().await?;
        let removed: Option<(String,)> =
            sqlx::query_as("DELETE FROM trusted_publishers WHERE public_key = ? RETURNING name").bind(&key).fetch_optional(&mut *tx).await?;
        let Some((name,)) = removed else {
            return Err(Error::Deploy {
                kind: "not_found",
                message: "no trusted publisher has this key".into(),
                hint: "`vigil deploy publishers` lists them".into(),
            });
        };
        self.commit(tx, Record::new("publisher.distrust", &name, json!({ "public_key": key }))).await
    }

    /// Opens and verifies the bundle at `dir` (this console's own when None).
    pub async fn open_bundle(&self, dir: Option<&Path>) -> Result<Bundle> {
        let dir: PathBuf = match dir {
            Some(d) => d.to_path_buf(),
            None => bundle::default_dir().ok_or_else(|| Error::Deploy {
                kind: "no_bundle",
                message: "this console has no platform bundle of its own".into(),
                hint: "open a bundle directory (`--bundle DIR`), or set VIGIL_BUNDLE_DIR".into(),
            })?,
        };
        let trusted = self.publishers().await?;
        crate::error::blocking(move || Bundle::open(&dir, &trusted)).await
    }

    pub async fn bundle_summary(&self, dir: Option<&Path>) -> Result<BundleSummary> {
        Ok(self.open_bundle(dir).await?.summary())
    }

    /// Preflight for `request`: nothing is changed.
    pub async fn preflight(&self, request: &DeployRequest, dir: Option<&Path>) -> Result<PreflightReport> {
        let env = self.environment(&request.environment).await?;
        crate::backup::use_cluster::refuse_deploy_while_moved(&env)?;
        crate::dr::region::refuse_deploy_while_away(&env)?;
        let platform = platform_env(&env, request)?;
        let bundle = self.open_bundle(dir).await?;
        let (tier_name, overrides) = tier_of(request, self.running(&env.name).await?.as_ref())?;
        let tier = plan::edited_tier(&bundle, &tier_name, &overrides)?;
        let ctx = self.aws_context(&env).await;
        let op = vigil_aws::new_op_id();
        let mut checks = vec![];
        let identity = vigil_aws::sts::check_connection(&ctx, &op).await;
        let account = identity.as_ref().ok().map(|i| i.account.clone());
        let caller = identity.as_ref().ok().map(|i| i.arn.clone()).unwrap_or_default();
        checks.push(match identity {
            Ok(id) => PreflightCheck {
                id: "identity".into(),
                title: "Credentials and account".into(),
                status: CheckStatus::Pass,
                detail: format!("account {} as {}", id.account, id.arn),
                fix: None,
                api: "sts:GetCallerIdentity".into(),
            },
            Err(e) => PreflightCheck {
                id: "identity".into(),
                title: "Credentials and account".into(),
                status: CheckStatus::Fail,
                detail: e.message.clone(),
                fix: e.hint.clone(),
                api: "sts:GetCallerIdentity".into(),
            },
        });
        if account.is_some() {
            let aws = preflight::Services {
                ec2: Ec2::new(&ctx, &op),
                cf: CloudFormation::new(&ctx, &op),
                rds: Rds::new(&ctx, &op),
                cloudtrail: vigil_aws::cloudtrail::CloudTrail::new(&ctx, &op),
                config: vigil_aws::configservice::ConfigService::new(&ctx, &op),
                iam: vigil_aws::iam::Iam::new(&ctx, &op),
                quotas: vigil_aws::servicequotas::ServiceQuotas::new(&ctx, &op),
                cw: vigil_aws::cloudwatch::CloudWatch::new(&ctx, &op),
            };
            checks.extend(preflight::run(&aws, &bundle, &tier, &platform, &caller).await);
        }
        let ready = checks.iter().all(|c| c.status != CheckStatus::Fail) && account.is_some();
        Ok(PreflightReport { environment: env.name, platform_environment: platform, account, region: env.region, checks, ready })
    }

    /// Plans `request`: change sets for the stacks that exist, creates for the rest, the cost,
    /// the gates. The plan is journalled; nothing is applied.
    pub async fn plan(&self, request: &DeployRequest, dir: Option<&Path>) -> Result<DeployPlan> {
        self.policy().require(Change::Deploy)?;
        let env = self.environment(&request.environment).await?;
        crate::backup::use_cluster::refuse_deploy_while_moved(&env)?;
        crate::dr::region::refuse_deploy_while_away(&env)?;
        let platform = platform_env(&env, request)?;
        let bundle = self.open_bundle(dir).await?;
        let running = self.running(&env.name).await?;
        let (tier_name, overrides) = tier_of(request, running.as_ref())?;
        let tier = plan::edited_tier(&bundle, &tier_name, &overrides)?;
        cost::estimate(&tier_name, &tier, &bundle.prices)?;
        self.refuse_if_busy(&env.name).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let op = vigil_aws::new_op_id();
        let ctx = self.aws_context(&env).await;
        let pricing = vigil_aws::pricing::Pricing::new(&ctx, &op);
        let emulated = env.endpoint_url.as_deref().is_some_and(vigil_aws::is_loopback_url);
        let prices = cost::prices_for((!emulated).then_some(&pricing), &bundle.prices, &tier, &env.region).await?;
        let cost = plan::cost_of(&prices, &tier_name, &tier)?;
        let images = upgrade::images(&bundle, &tier_name);
        // Over a running platform made from another bundle: an upgrade (refused before anything
        // is made if it would go backwards).
        let upgrade = match running {
            Some(prev) => {
                let cluster = env.deployment.get("db_cluster_id").cloned().unwrap_or_else(|| format!("pj-{platform}"));
                let snapshot = upgrade::snapshot_id(&platform, &bundle.manifest.version, chrono::Utc::now());
                upgrade::compare(&prev.plan, &bundle, &images, cost.total, &cluster, snapshot)?
            }
            None => None,
        };
        let cf = CloudFormation::new(&ctx, &op);
        let change_set_name = format!("vigil-{}", &id[..8]);
        let mut outputs = BTreeMap::new();
        let mut stacks = vec![];
        let mut gates = vec![];
        let mut made: Vec<(String, String)> = vec![];
        for t in &bundle.templates {
            let name = templates::stack_name(&platform, &t.stack);
            let planned = async {
                let existing = cf.stack(&name).await?;
                let sp = plan::stack(&cf, t, &platform, &tier, existing.as_ref(), &outputs, &change_set_name, self.poll()).await?;
                Ok::<_, Error>((existing, sp))
            }
            .await;
            let (existing, sp) = match planned {
                Ok(x) => x,
                Err(e) => {
                    // Nothing half-made is left behind: the change sets of this plan go.
                    for (stack, cs) in &made {
                        let _ = cf.delete_change_set(stack, cs).await;
                    }
                    return Err(e);
                }
            };
            if let Some(s) = existing {
                outputs.extend(s.outputs);
            }
            if let Some(cs) = &sp.change_set {
                made.push((sp.name.clone(), cs.clone()));
            }
            gates.extend(plan::gates(&sp.stack, &sp.changes));
            stacks.push(sp);
        }
        let plan = DeployPlan {
            id,
            kind: "deploy".into(),
            kept: vec![],
            environment: env.name.clone(),
            platform_environment: platform,
            bundle: bundle.summary(),
            tier: tier_name,
            overrides,
            stacks,
            gates,
            cost,
            created_at: journal::now(),
            images,
            upgrade,
        };
        let mut tx = self.begin().await?;
        journal::insert(&mut tx, &plan, &bundle.root.to_string_lossy()).await?;
        let details = json!({
            "plan": plan.id,
            "bundle": { "version": plan.bundle.version, "signer": plan.bundle.signer, "manifest_sha256": plan.bundle.manifest_sha256 },
            "tier": plan.tier,
            "stacks": plan.stacks.iter().map(|s| json!({ "stack": s.name, "action": s.action, "change_set": s.change_set })).collect::<Vec<_>>(),
            "gates": plan.gates.len(),
            "monthly_estimate": plan.cost.total,
            "upgrade": plan.upgrade.as_ref().map(|u| json!({
                "from": u.from_version, "to": u.to_version, "files": u.files.len(), "migrations": u.migrations,
                "images": u.images.iter().map(|i| &i.to).collect::<Vec<_>>(), "snapshot": u.snapshot,
                "monthly_delta": u.cost_after - u.cost_before,
            })),
        });
        self.commit(tx, Record::new("deploy.plan", &env.name, details).op(&op)).await?;
        Ok(plan)
    }

    /// Refuses a new plan while an apply of `environment` is under way.
    pub(super) async fn refuse_if_busy(&self, environment: &str) -> Result<()> {
        match journal::latest(self.store().pool(), environment).await?.filter(|e| e.state == "applying") {
            Some(busy) => Err(Error::Deploy {
                kind: "deploy_busy",
                message: format!("deployment {} of {environment} is still being applied", busy.id),
                hint: "wait for it (`vigil deploy status`), or re-attach with `vigil deploy resume`".into(),
            }),
            None => Ok(()),
        }
    }

    /// Plans the teardown of `environment`'s platform: every stack deleted, newest first; what
    /// holds data kept and listed. Applying it needs the environment's name typed.
    pub async fn plan_teardown(&self, environment: &str) -> Result<DeployPlan> {
        self.policy().require(Change::Deploy)?;
        let env = self.environment(environment).await?;
        let platform = deployed_platform(&env)?;
        self.refuse_if_busy(&env.name).await?;
        let op = vigil_aws::new_op_id();
        let ctx = self.aws_context(&env).await;
        let (stacks, kept) = teardown::plan_stacks(&CloudFormation::new(&ctx, &op), &platform).await?;
        let gates = stacks.iter().flat_map(|s| plan::gates(&s.stack, &s.changes)).collect();
        let plan = DeployPlan {
            id: uuid::Uuid::new_v4().to_string(),
            kind: "teardown".into(),
            environment: env.name.clone(),
            platform_environment: platform,
            bundle: Default::default(),
            tier: String::new(),
            stacks,
            gates,
            cost: Default::default(),
            created_at: journal::now(),
            kept,
            overrides: Default::default(),
            images: vec![],
            upgrade: None,
        };
        let mut tx = self.begin().await?;
        journal::insert(&mut tx, &plan, "").await?;
        let details = json!({
            "plan": plan.id,
            "stacks": plan.stacks.iter().map(|s| &s.name).collect::<Vec<_>>(),
            "kept": teardown::describe(&plan.kept),
        });
        self.commit(tx, Record::new("deploy.teardown_plan", &env.name, details).op(&op)).await?;
        Ok(plan)
    }

    /// Applies the reviewed plan `plan_id`. A plan with gates needs the environment's name as
    /// `confirmation`. `report` gets the status after every step.
    pub async fn apply(
        &self,
        plan_id: &str,
        confirmation: Option<&str>,
        report: &(dyn Fn(&DeploymentStatus) + Send + Sync),
    ) -> Result<DeploymentStatus> {
        self.policy().require(Change::Deploy)?;
        let entry = journal::get(self.store().pool(), plan_id).await?.ok_or_else(|| Error::Deploy {
            kind: "not_found",
            message: format!("no plan {plan_id}"),
            hint: "make one with `vigil deploy plan` (or the Deploy page)".into(),
        })?;
        match entry.state.as_str() {
            "planned" => {}
            "applying" => {
                return Err(Error::Deploy {
                    kind: "deploy_busy",
                    message: format!("plan {plan_id} is already being applied"),
                    hint: "follow it with `vigil deploy status`, or re-attach with `vigil deploy resume`".into(),
                })
            }
            s => {
                return Err(Error::Deploy {
                    kind: "plan_used",
                    message: format!("plan {plan_id} is {s}; a plan is applied once"),
                    hint: "make a new plan: it shows what the stacks are now".into(),
                })
            }
        }
        apply::check_confirmation(&entry, confirmation)?;
        let bundle = self.bundle_of(&entry).await?;
        if bundle.as_ref().is_some_and(|b| b.manifest_sha256 != entry.plan.bundle.manifest_sha256) {
            return Err(Error::Deploy {
                kind: "plan_stale",
                message: "the bundle at the plan's directory is not the one the plan was made from".into(),
                hint: "make a new plan from the bundle you mean to deploy".into(),
            });
        }
        let op = vigil_aws::new_op_id();
        let mut tx = self.begin().await?;
        journal::set_state(&mut tx, &entry.id, "applying", &entry.progress).await?;
        let details = json!({
            "plan": entry.id,
            "kind": entry.plan.kind,
            "bundle_sha256": bundle.as_ref().map(|b| &b.manifest_sha256),
            "gates_confirmed": entry.plan.gates.len(),
        });
        self.commit(tx, Record::new("deploy.apply", &entry.environment, details).op(&op)).await?;
        self.run(entry, bundle, &op, report).await
    }

    /// Re-attaches to every apply that was running when Vigil stopped.
    pub async fn resume(&self, report: &(dyn Fn(&DeploymentStatus) + Send + Sync)) -> Result<Vec<DeploymentStatus>> {
        self.policy().require(Change::Deploy)?;
        let mut out = vec![];
        for entry in journal::applying(self.store().pool()).await? {
            let bundle = self.bundle_of(&entry).await?;
            let op = vigil_aws::new_op_id();
            tracing::info!(plan = %entry.id, environment = %entry.environment, "re-attaching to a deployment");
            out.push(self.run(entry, bundle, &op, report).await?);
        }
        Ok(out)
    }

    /// The bundle a plan deploys (verified again); a teardown needs none.
    async fn bundle_of(&self, entry: &journal::Entry) -> Result<Option<Bundle>> {
        if entry.plan.kind == "teardown" {
            return Ok(None);
        }
        self.open_bundle(Some(Path::new(&entry.bundle_dir))).await.map(Some)
    }

    async fn run(
        &self,
        entry: journal::Entry,
        bundle: Option<Bundle>,
        op: &str,
        report: &(dyn Fn(&DeploymentStatus) + Send + Sync),
    ) -> Result<DeploymentStatus> {
        let env = self.environment(&entry.environment).await?;
        let ctx = self.aws_context(&env).await;
        let mut run = apply::Run {
            pool: self.store().pool(),
            cf: CloudFormation::new(&ctx, op),
            rds: Rds::new(&ctx, op),
            entry,
            templates: bundle.as_ref().map(|b| b.templates.as_slice()).unwrap_or_default(),
            poll: self.poll(),
            report,
            seen: vec![],
        };
        let ended = match self.snapshot_first(&mut run.entry, &Rds::new(&ctx, op), op, report).await {
            // An upgrade's snapshot comes before any stack changes.
            Ok(()) => run.run().await,
            Err(e) => Err(e),
        };
        let mut entry = run.entry;
        let ended = match ended {
            Ok(x) => x,
            Err(e) => {
                // AWS could not be asked (the stacks were not): the journal keeps "applying", so
                // `vigil deploy resume` continues from the stacks once AWS answers.
                entry.progress.root_cause = Some(e.to_string());
                entry.progress.next =
                    Some("when AWS answers again, re-attach with `vigil deploy resume` (or reopen Vigil): the stacks say where it stands".into());
                journal::save(self.store().pool(), &entry.id, "applying", &entry.progress).await?;
                return Err(e);
            }
        };
        match ended {
            apply::Ended::Succeeded { outputs } => {
                let mut input = env.to_input();
                let (action, details) = if entry.plan.kind == "teardown" {
                    // The environment no longer points at what was deleted.
                    let set_by_deploy = ["environment", "namespace", "cache_cluster_id"].into_iter().chain(OUTPUT_PARAMETERS.iter().map(|(p, _)| *p));
                    for key in set_by_deploy {
                        input.deployment.remove(key);
                    }
                    let kept: Vec<_> = entry.plan.kept.iter().chain(&entry.progress.kept).cloned().collect();
                    ("deploy.destroyed", json!({ "plan": entry.id, "stacks": entry.plan.stacks.len(), "kept": teardown::describe(&kept) }))
                } else {
                    let params = deployment_parameters(&entry.plan.platform_environment, &outputs);
                    input.deployment.extend(params.clone());
                    ("deploy.applied", json!({ "plan": entry.id, "bundle": entry.plan.bundle.version, "deployment": params }))
                };
                if input != env.to_input() {
                    crate::environments::Environments::new(self.core).update(&env.name, &input).await?;
                }
                if let Some(bundle) = &bundle {
                    if let Err(e) = self.set_up(&mut entry, bundle, &outputs, op, report).await {
                        // The stacks are in place; resume continues the set-up from this step.
                        entry.progress.root_cause = Some(e.to_string());
                        let fix = e.hint().unwrap_or_else(|| "fix the cause".into());
                        entry.progress.next = Some(format!("{fix}; then `vigil deploy resume` (or reopen Vigil) continues the set-up"));
                        journal::save(self.store().pool(), &entry.id, "applying", &entry.progress).await?;
                        report(&apply::status_of(&entry));
                        return Err(e);
                    }
                }
                entry.state = "succeeded".into();
                entry.progress.next = None;
                let mut tx = self.begin().await?;
                journal::set_state(&mut tx, &entry.id, "succeeded", &entry.progress).await?;
                self.commit(tx, Record::new(action, &entry.environment, details).op(op)).await?;
            }
            apply::Ended::Failed => {
                let mut tx = self.begin().await?;
                journal::set_state(&mut tx, &entry.id, "failed", &entry.progress).await?;
                let details = json!({ "plan": entry.id, "root_cause": entry.progress.root_cause, "next": entry.progress.next });
                self.commit(tx, Record::new("deploy.failed", &entry.environment, details).op(op)).await?;
            }
        }
        entry.updated_at = journal::now();
        let status = apply::status_of(&entry);
        report(&status);
        Ok(status)
    }

    /// Checks every component of `environment`'s deployed platform; nothing is changed.
    pub async fn validate(&self, environment: &str) -> Result<ValidationReport> {
        let env = self.environment(environment).await?;
        let platform = deployed_platform(&env)?;
        let ctx = self.aws_context(&env).await;
        let op = vigil_aws::new_op_id();
        let aws = validate::Services {
            ctx: ctx.clone(),
            cf: CloudFormation::new(&ctx, &op),
            eks: vigil_aws::eks::Eks::new(&ctx, &op),
            rds: Rds::new(&ctx, &op),
            cache: vigil_aws::elasticache::ElastiCache::new(&ctx, &op),
            s3: vigil_aws::s3::S3::new(&ctx, &op),
            sqs: vigil_aws::sqs::Sqs::new(&ctx, &op),
            backup: vigil_aws::backup::Backup::new(&ctx, &op),
            cw: vigil_aws::cloudwatch::CloudWatch::new(&ctx, &op),
        };
        let smoke = self.smoke_access(&env, &ctx, &op, &platform).await;
        let (checks, smoke_run) = validate::run(&aws, &platform, &smoke).await;
        if let Some(run) = smoke_run {
            let passed = checks.iter().any(|c| c.id == "smoke" && c.status == CheckStatus::Pass);
            let mut details = json!(run);
            details["passed"] = json!(passed);
            self.log(Record::new("deploy.smoke_test", &env.name, details).op(&op)).await?;
        }
        let ok = checks.iter().all(|c| c.status != CheckStatus::Fail);
        Ok(ValidationReport { environment: env.name, platform_environment: platform, region: env.region, checked_at: journal::now(), checks, ok })
    }

    /// What the validation's smoke test needs: the platform's own database, read as its worker
    /// reads it (the worker's login from Secrets Manager, held in memory, at the route the set-up
    /// used: a tunnel set as the platform database, else the cluster's endpoint), and the
    /// pinned audit keys.
    async fn smoke_access(&self, env: &Environment, ctx: &vigil_aws::AwsContext, op: &str, platform: &str) -> validate::SmokeAccess {
        use crate::platform_db::connect;
        use validate::SmokeAccess;
        if let Err(e) = self.policy().require(Change::Deploy) {
            return SmokeAccess::NotAllowed(e.to_string());
        }
        let keys = match crate::audit::audit_keys(env) {
            Ok(k) => k,
            Err(e) => return SmokeAccess::Unavailable(e.to_string(), e.hint().unwrap_or_default()),
        };
        let name = setup::database_secret(platform);
        let secret = match vigil_aws::secretsmanager::SecretsManager::new(ctx, op).value(&name).await {
            Ok(Some(s)) => serde_json::from_str::<serde_json::Value>(&s).unwrap_or_default(),
            Ok(None) => {
                return SmokeAccess::Unavailable(format!("there is no secret {name}"), "finish the deployment's set-up: `vigil deploy resume`".into())
            }
            Err(e) => return SmokeAccess::Unavailable(e.message.clone(), e.hint.clone().unwrap_or_default()),
        };
        let text = |k: &str| secret[k].as_str().unwrap_or_default().to_string();
        let port = secret["port"].as_u64().and_then(|p| u16::try_from(p).ok()).unwrap_or(5432);
        let (host, port, ca_file) = match &env.platform_db {
            Some(db) if connect::is_loopback_host(&db.host) => (db.host.clone(), db.port, db.ca_file.clone()),
            Some(db) => (text("host"), port, db.ca_file.clone()),
            None => (text("host"), port, None),
        };
        let db = vigil_dto::PlatformDb { host, port, database: text("dbname"), user: text("username"), auth: vigil_dto::DbAuth::Password, ca_file };
        match connect::pool(&db, Some(&text("password")), Duration::from_secs(15)).await {
            Ok(pool) => SmokeAccess::Ready { pool, keys, poll: self.poll().min(Duration::from_secs(1)), limit: self.core.smoke_limit },
            Err(e) => SmokeAccess::Unavailable(e.to_string(), e.hint().unwrap_or_default()),
        }
    }

    /// Validates `environment` and writes its deployment record (PDF) to `path`; the file's
    /// SHA-256 goes into the operator log. A record is written whether or not validation passes:
    /// it says which.
    pub async fn record(&self, environment: &str, path: &Path) -> Result<DeploymentRecord> {
        let validation = self.validate(environment).await?;
        let env = self.environment(&validation.environment).await?;
        let deployment = journal::latest_deployed(self.store().pool(), &env.name).await?;
        let r = record::Record {
            generated_at: chrono::Utc::now(),
            generated_by: format!("{}, with the Vigil {}", self.actor, if self.client == "cli" { "CLI" } else { "app" }),
            vigil_version: env!("CARGO_PKG_VERSION").into(),
            region: env.region.clone(),
            deployment,
            parameters: env.deployment.clone(),
            validation,
        };
        let target = path.to_path_buf();
        let (bytes, pages, r) = crate::error::blocking(move || {
            let (bytes, pages) = record::pdf(&r).map_err(|e| Error::Io(std::io::Error::other(e)))?;
            vigil_evidence::files::write_atomically(&target, &bytes)?;
            Ok((bytes, pages, r))
        })
        .await?;
        use sha2::Digest;
        let bundle_sha256 = r.deployment.as_ref().map(|d| d.plan.bundle.manifest_sha256.clone());
        let out = DeploymentRecord {
            path: path.display().to_string(),
            sha256: hex::encode(sha2::Sha256::digest(&bytes)),
            bytes: bytes.len() as u64,
            pages: pages as u32,
            deployment: r.deployment.map(|d| d.id).unwrap_or_default(),
            validation: r.validation,
        };
        let failed: Vec<&str> = out.validation.checks.iter().filter(|c| c.status == CheckStatus::Fail).map(|c| c.id.as_str()).collect();
        let details = json!({
            "path": out.path, "sha256": out.sha256, "bytes": out.bytes, "pages": out.pages, "deployment": out.deployment,
            "bundle_sha256": bundle_sha256, "validated": out.validation.ok, "failed": failed,
        });
        self.log(Record::new("deploy.record", &env.name, details)).await?;
        Ok(out)
    }

    /// The newest deployment of `environment` (planned, applying or ended).
    pub async fn status(&self, environment: &str) -> Result<Option<DeploymentStatus>> {
        let env = self.environment(environment).await?;
        Ok(journal::latest(self.store().pool(), &env.name).await?.map(|e| apply::status_of(&e)))
    }

    /// The plan `plan_id`, as reviewed.
    pub async fn plan_of(&self, plan_id: &str) -> Result<DeployPlan> {
        journal::get(self.store().pool(), plan_id).await?.map(|e| e.plan).ok_or_else(|| Error::Deploy {
            kind: "not_found",
            message: format!("no plan {plan_id}"),
            hint: "`vigil deploy status` shows the newest".into(),
        })
    }
}

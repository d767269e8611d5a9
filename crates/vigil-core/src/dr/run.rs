//! Running a runbook: a dry run (every precheck against the live account, each IAM action
//! simulated, the lease, the expected time) and a run — a state machine over the runbook's
//! steps (nested runbooks flattened as `<step>/<its step>`), journaled in table `dr_runs`:
//!
//! pending → prechecking → acting → waiting → verifying → done (an approval step:
//! awaiting_approval → done; a nested runbook's step: its parameters rendered → done).
//!
//! The journal is written before and after each step's AWS call: `acting` (with what the
//! action read before acting) lands before the call, the outputs after. A run resumed from
//! `acting` first asks whether the call already took effect (`steps::done_already`), so a
//! console killed at any boundary resumes without doing anything twice. A fault pauses the run
//! where it stands, with why; `resume` goes on from there. A failed wait or verification fails
//! the run (the step's rollback is named). Every step, decision and confirmation goes to the
//! operator log with the step's operation id (the one its AWS requests carry), in the same
//! transaction as the journal. The DR lease is held throughout and renewed while waiting.

use super::four_eyes;
use super::lease::{self, Lease};
use super::steps::{self, Args, Place};
use super::Dr;
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use crate::progress::{Progress, Stage};
use pj_runbook::{Arg, Call, DataLoss, Ref, Runbook, RunbookSet, Step, StepKind, Template};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;
use vigil_dto::dr::{Awaiting, CheckRun, DryRunCheck, DryRunView, RunRequest, RunView, StepRun};
use vigil_dto::Environment;

/// Debug builds only: stops the process (as a crash would) at a step boundary,
/// `<boundary>:<step path>` with boundary one of before, acting, acted, done. The kill tests
/// use it; release builds ignore it.
const STOP_AT: &str = "VIGIL_DR_STOP_AT";

/// Where a step keeps who gave its second approval (four eyes).
const SECOND_BY: &str = "_second_by";

fn stop_at(boundary: &str, path: &str) {
    if cfg!(debug_assertions) && std::env::var(STOP_AT).is_ok_and(|v| v == format!("{boundary}:{path}")) {
        std::process::abort();
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The step definition at `path` (`point/approve` inside the nested runbook of step `point`).
fn def<'a>(set: &'a RunbookSet, root: &'a Runbook, path: &str) -> Option<&'a Step> {
    let mut rb = root;
    let mut parts = path.split('/').peekable();
    while let Some(part) = parts.next() {
        let step = rb.step(part)?;
        if parts.peek().is_none() {
            return Some(step);
        }
        match &step.kind {
            StepKind::Runbook { id, .. } => rb = set.get(id)?,
            _ => return None,
        }
    }
    None
}

fn flatten(set: &RunbookSet, rb: &Runbook, prefix: &str, out: &mut Vec<StepRun>) {
    for s in &rb.steps {
        let path = format!("{prefix}{}", s.id);
        out.push(StepRun {
            path: path.clone(),
            title: s.title.clone(),
            kind: s.kind.name().into(),
            state: "pending".into(),
            started_ms: None,
            acting_ms: None,
            wait_since_ms: None,
            ended_ms: None,
            before: BTreeMap::new(),
            outputs: BTreeMap::new(),
            checks: vec![],
            op_id: None,
            confirmed_by: None,
            error: None,
            found_done: false,
        });
        if let StepKind::Runbook { id, .. } = &s.kind {
            if let Some(nested) = set.get(id) {
                flatten(set, nested, &format!("{path}/"), out);
            }
        }
    }
}

/// An environment value as runbooks name it.
fn env_value(env: &Environment, name: &str) -> Option<String> {
    match name {
        "name" => Some(env.name.clone()),
        "region" => Some(env.region.clone()),
        "eks_cluster" => env.deployment.get("cluster_name").cloned(),
        "environment" => crate::deploy::deployed_platform(env).ok(),
        other => env.deployment.get(other).cloned(),
    }
}

fn prefix_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..=i])
}

/// Renders `t` for the step at `path` of `run`.
fn render(t: &Template, run: &RunView, env: &Environment, path: &str) -> Result<String> {
    let prefix = prefix_of(path);
    t.render(&mut |r| match r {
        Ref::Param(p) if prefix.is_empty() => run.params.get(p).cloned(),
        Ref::Param(p) => run.steps.iter().find(|s| s.path == prefix.trim_end_matches('/')).and_then(|s| s.outputs.get(p).cloned()),
        Ref::Env(e) => env_value(env, e),
        Ref::Step { step, output } => run.steps.iter().find(|s| s.path == format!("{prefix}{step}")).and_then(|s| s.outputs.get(output).cloned()),
        Ref::Forward { .. } => None,
    })
    .map_err(|r| missing(&r, env))
}

fn missing(r: &Ref, env: &Environment) -> Error {
    let hint = match r {
        Ref::Env(e) => format!("set the deployment parameter {e} of {} (vigil env edit --param {e}=…)", env.name),
        Ref::Param(p) => format!("give the parameter {p}"),
        _ => "the step it reads has not recorded it: resume the run, or start it again".into(),
    };
    Error::Dr { kind: "missing_value", message: format!("{r} has no value"), hint }
}

fn render_call(c: &Call, run: &RunView, env: &Environment, path: &str) -> Result<Args> {
    let mut out = Args::new();
    for (k, v) in &c.args {
        let v = match v {
            Arg::Text(t) => render(t, run, env, path)?,
            Arg::Bool(b) => b.to_string(),
            Arg::Count(n) => n.to_string(),
            Arg::Duration(d) => d.as_secs().to_string(),
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

/// `name(k=v, …)` with the values rendered.
fn line(name: &str, args: &Args) -> String {
    let a: Vec<String> = args.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect();
    format!("{name}({})", a.join(", "))
}

fn check_run(phase: &str, check: String, v: &steps::Verdict) -> CheckRun {
    CheckRun { phase: phase.into(), check, ok: v.ok, detail: v.detail.clone(), fix: v.fix.clone(), at_ms: now_ms() }
}

fn rpo_of(rb: &Runbook, run: &RunView) -> Option<i64> {
    if rb.data_loss == DataLoss::None {
        return Some(0);
    }
    for s in &run.steps {
        if let Some(lag) = s.outputs.get("lag_seconds").and_then(|v| v.parse::<f64>().ok()) {
            return Some((lag * 1000.0) as i64);
        }
        if let Some(t) = s.outputs.get("restored_to").and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok()) {
            return Some((run.started_ms - t.timestamp_millis()).max(0));
        }
    }
    None
}

/// How a run stopped in the middle of `drive`.
enum Stop {
    Paused(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Paused(e)
    }
}

impl Dr<'_> {
    async fn load(&self, dir: Option<&Path>, id: &str) -> Result<(RunbookSet, String)> {
        let bundle = crate::deploy::Deploy::new(self.core).open_bundle(dir).await?;
        if bundle.runbooks.get(id).is_none() {
            return Err(super::no_runbook(&bundle.runbooks, id));
        }
        Ok((bundle.runbooks, bundle.manifest.version))
    }

    /// The newest run of `runbook` in `env` that succeeded.
    async fn last_success(&self, env: &str, runbook: &str) -> Result<Option<RunView>> {
        let row: Option<String> = sqlx::query_scalar(
            "SELECT record FROM dr_runs WHERE environment = ? AND runbook = ? AND state = 'succeeded' ORDER BY created_at DESC LIMIT 1",
        )
        .bind(env)
        .bind(runbook)
        .fetch_optional(self.store().pool())
        .await?;
        row.map(|r| serde_json::from_str(&r).map_err(|e| Error::validation("run", format!("a stored run cannot be read: {e}")))).transpose()
    }

    /// The run's parameters: the operator's, else (a failback) from the forward run, else the
    /// default. Returns them and the forward run's id.
    async fn params(&self, env: &Environment, rb: &Runbook, given: &BTreeMap<String, String>) -> Result<(BTreeMap<String, String>, Option<String>)> {
        for k in given.keys() {
            if !rb.params.iter().any(|p| &p.name == k) {
                let names: Vec<&str> = rb.params.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::validation(
                    "params",
                    format!("{} has no parameter `{k}`; it takes {}", rb.id, if names.is_empty() { "none".into() } else { names.join(", ") }),
                ));
            }
        }
        let forward = match &rb.failback_of {
            Some(f) if rb.params.iter().any(|p| p.from_forward.is_some() && !given.contains_key(&p.name)) => {
                Some(self.last_success(&env.name, f).await?.ok_or_else(|| Error::Dr {
                    kind: "no_forward_run",
                    message: format!("{} reads what a run of {f} recorded, and {f} has not succeeded on {}", rb.id, env.name),
                    hint: format!("run {f} first, or give the failback's parameters yourself"),
                })?)
            }
            _ => None,
        };
        let mut out = BTreeMap::new();
        for p in &rb.params {
            let value = if let Some(v) = given.get(&p.name) {
                v.trim().to_string()
            } else if let (Some(t), Some(fwd)) = (&p.from_forward, &forward) {
                t.render(&mut |r| match r {
                    Ref::Param(x) => fwd.params.get(x).cloned(),
                    Ref::Env(e) => env_value(env, e),
                    Ref::Forward { step, output } => fwd.steps.iter().find(|s| &s.path == step).and_then(|s| s.outputs.get(output).cloned()),
                    Ref::Step { .. } => None,
                })
                .map_err(|r| missing(&r, env))?
            } else if let Some(d) = &p.default {
                d.render(&mut |r| match r {
                    Ref::Env(e) => env_value(env, e),
                    _ => None,
                })
                .map_err(|r| missing(&r, env))?
            } else {
                return Err(Error::validation("params", format!("{} needs the parameter `{}` ({})", rb.id, p.name, p.summary)));
            };
            out.insert(p.name.clone(), value);
        }
        Ok((out, forward.map(|f| f.id)))
    }

    /// Evaluates every precheck of the runbook against the live account, simulates each IAM
    /// action it calls for the caller, looks at the lease, and adds up the expected time.
    /// Changes nothing.
    pub async fn dry_run(&self, dir: Option<&Path>, req: &RunRequest) -> Result<DryRunView> {
        let env = self.current().await?;
        let (set, _) = self.load(dir, &req.runbook).await?;
        let rb = set.get(&req.runbook).expect("loaded");
        let (params, _) = self.params(&env, rb, &req.params).await?;
        let op = aws::new_op_id();
        let ctx = self.aws_context(&env).await;
        let mut checks = vec![];
        let mut add = |step: &str, c: CheckRun| checks.push(DryRunCheck { step: step.to_string(), check: c });

        // IAM: each action simulated for the caller's principal.
        let actions: Vec<String> = set.iam_actions(&rb.id).into_iter().map(str::to_string).collect();
        let iam = vigil_aws::iam::Iam::new(&ctx, &op);
        let simulated = match vigil_aws::sts::caller_identity(&ctx, &op).await {
            Err(e) => Err(e),
            Ok(me) => match iam.principal_of(&me.arn).await {
                Ok(vigil_aws::iam::Principal::Simulable(arn)) => iam.simulate(&arn, &actions).await.map(|d| Some((arn, d))),
                Ok(_) => Ok(None),
                Err(e) => Err(e),
            },
        };
        match simulated {
            Ok(Some((arn, decisions))) => {
                for (action, decision) in decisions {
                    let ok = decision == "allowed";
                    add(
                        "",
                        CheckRun {
                            phase: "iam".into(),
                            check: action.clone(),
                            ok,
                            detail: format!("{decision} for {arn}"),
                            fix: (!ok).then(|| format!("grant {action} to {arn}")),
                            at_ms: now_ms(),
                        },
                    );
                }
            }
            Ok(None) => add(
                "",
                CheckRun {
                    phase: "iam".into(),
                    check: "iam".into(),
                    ok: true,
                    detail: "the caller is not a principal IAM simulates (the root user, a federated user)".into(),
                    fix: None,
                    at_ms: now_ms(),
                },
            ),
            Err(e) => add(
                "",
                CheckRun {
                    phase: "iam".into(),
                    check: "iam:SimulatePrincipalPolicy".into(),
                    ok: false,
                    detail: e.message.clone(),
                    fix: e.hint.clone(),
                    at_ms: now_ms(),
                },
            ),
        }
        // The lease.
        match self.lease().await {
            Ok(None) => add(
                "",
                CheckRun {
                    phase: "lease".into(),
                    check: "dr lease".into(),
                    ok: true,
                    detail: "no console holds the DR lease".into(),
                    fix: None,
                    at_ms: now_ms(),
                },
            ),
            Ok(Some(l)) => add(
                "",
                CheckRun {
                    phase: "lease".into(),
                    check: "dr lease".into(),
                    ok: false,
                    detail: format!("{} holds the DR lease: run {} of {}{}", l.holder, l.run_id, l.runbook, if l.stale { " (stale)" } else { "" }),
                    fix: Some(if l.stale {
                        "break the stale lease with the environment's name typed".into()
                    } else {
                        "wait for that run to end".into()
                    }),
                    at_ms: now_ms(),
                },
            ),
            Err(e) => add(
                "",
                CheckRun { phase: "lease".into(), check: "dr lease".into(), ok: false, detail: e.to_string(), fix: e.hint(), at_ms: now_ms() },
            ),
        }
        // Every step's prechecks, with the values known now; one that reads what an earlier
        // step records is evaluated when the run gets there.
        let mut steps_run = vec![];
        flatten(&set, rb, "", &mut steps_run);
        let run = RunView { params: params.clone(), steps: steps_run.clone(), ..blank(&env, rb, "dry-run") };
        let place = Place { core: self.core, env: &env, op: &op, bundle: dir };
        for s in &steps_run {
            let Some(step) = def(&set, rb, &s.path) else { continue };
            for c in &step.precheck {
                if !steps::SUPPORTED.contains(&c.name.as_str()) {
                    continue;
                }
                let cr = match render_call(c, &run, &env, &s.path) {
                    Err(Error::Dr { kind: "missing_value", message, .. })
                        if message.contains("${steps.") || (message.contains("${params.") && !prefix_of(&s.path).is_empty()) =>
                    {
                        CheckRun {
                            phase: "deferred".into(),
                            check: c.name.clone(),
                            ok: true,
                            detail: format!("checked when the run gets there ({message})"),
                            fix: None,
                            at_ms: now_ms(),
                        }
                    }
                    Err(e) => {
                        CheckRun { phase: "precheck".into(), check: c.name.clone(), ok: false, detail: e.to_string(), fix: e.hint(), at_ms: now_ms() }
                    }
                    Ok(args) => match steps::check(&place, &c.name, &args).await {
                        Ok(v) => check_run("precheck", line(&c.name, &args), &v),
                        Err(e) => CheckRun {
                            phase: "precheck".into(),
                            check: line(&c.name, &args),
                            ok: false,
                            detail: e.to_string(),
                            fix: e.hint(),
                            at_ms: now_ms(),
                        },
                    },
                };
                add(&s.path, cr);
            }
        }
        let ready = checks.iter().all(|c| c.check.ok);
        Ok(DryRunView {
            environment: env.name.clone(),
            target: target_of(&env),
            runbook: rb.id.clone(),
            params,
            checks,
            expected_secs: set.expected(&rb.id).as_secs(),
            ready,
        })
    }

    /// Starts a run of `req.runbook` on the current environment: takes the DR lease, journals
    /// the run, and goes on until it ends, waits for an approval, or pauses on a fault.
    pub async fn start(&self, dir: Option<&Path>, req: &RunRequest, progress: &Progress) -> Result<RunView> {
        self.policy().require(Change::RunRunbook)?;
        let env = self.current().await?;
        let (set, bundle_version) = self.load(dir, &req.runbook).await?;
        let rb = set.get(&req.runbook).expect("loaded");
        let (params, forward_run) = self.params(&env, rb, &req.params).await?;
        let id = format!("{}-{}", rb.id, uuid::Uuid::new_v4().simple().to_string().get(..12).unwrap_or_default());
        let mut lease = self.take_lease(&rb.id, &id).await?;
        let mut run = RunView {
            params,
            drill: req.drill,
            bundle_version,
            forward_run,
            lease: format!("s3://{}/{}", lease.bucket, lease::KEY),
            operator: self.actor.clone(),
            expected_secs: set.expected(&rb.id).as_secs(),
            ..blank(&env, rb, &id)
        };
        flatten(&set, rb, "", &mut run.steps);
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO dr_runs (id, environment, runbook, state, drill, record, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(&run.id)
            .bind(&env.name)
            .bind(&run.runbook)
            .bind(&run.state)
            .bind(run.drill)
            .bind(serde_json::to_string(&run).expect("a run serialises"))
            .bind(chrono::Utc::now().to_rfc3339())
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await?;
        let details = json!({ "run": run.id, "runbook": rb.id, "version": rb.version, "sha256": rb.sha256, "bundle": run.bundle_version, "params": run.params, "drill": run.drill });
        self.commit(tx, Record::new("dr.run_started", &env.name, details)).await?;
        self.drive(dir, &env, &set, rb, &mut run, &mut lease, progress).await?;
        Ok(run)
    }

    /// Confirms the approval a run waits for (`typed` must be the text it asks for), then goes on.
    pub async fn approve(&self, dir: Option<&Path>, run_id: &str, typed: &str, progress: &Progress) -> Result<RunView> {
        self.policy().require(Change::RunRunbook)?;
        let (env, mut run) = self.stored(run_id).await?;
        let Some(awaiting) = run.awaiting.clone().filter(|_| run.state == "awaiting_approval") else {
            return Err(Error::Dr {
                kind: "not_awaiting",
                message: format!("run {run_id} is {}, not waiting for an approval", run.state),
                hint: "see the run (`vigil dr runs`)".into(),
            });
        };
        if awaiting.second {
            return self.second_approved(dir, &env, run, &awaiting, typed, progress).await;
        }
        if typed.trim() != awaiting.confirm {
            return Err(Error::Dr {
                kind: "confirmation_required",
                message: format!("step {} needs `{}` typed to go on", awaiting.step, awaiting.confirm),
                hint: format!("type {} to approve: {}", awaiting.confirm, awaiting.prompt),
            });
        }
        let (set, rb) = self.same_runbook(dir, &run).await?;
        let mut lease = self.retake(&run).await?;
        let i = run.steps.iter().position(|s| s.path == awaiting.step).expect("the awaited step is in the run");
        run.steps[i].state = "done".into();
        run.steps[i].ended_ms = Some(now_ms());
        run.steps[i].confirmed_by = Some(self.actor.clone());
        run.awaiting = None;
        run.state = "running".into();
        let op = run.steps[i].op_id.clone().unwrap_or_else(aws::new_op_id);
        self.save(
            &run,
            Some(
                Record::new(
                    "dr.approved",
                    &env.name,
                    json!({ "run": run.id, "step": awaiting.step, "typed": awaiting.confirm, "prompt": awaiting.prompt }),
                )
                .op(&op),
            ),
        )
        .await?;
        self.drive(dir, &env, &set, &rb, &mut run, &mut lease, progress).await?;
        Ok(run)
    }

    /// The second person's code typed: checked, then the step goes on from its prechecks.
    async fn second_approved(
        &self,
        dir: Option<&Path>,
        env: &Environment,
        mut run: RunView,
        awaiting: &Awaiting,
        typed: &str,
        progress: &Progress,
    ) -> Result<RunView> {
        let (set, rb) = self.same_runbook(dir, &run).await?;
        let bucket = lease::bucket(env)?;
        let ctx = self.lease_context(env).await;
        let i = run.steps.iter().position(|s| s.path == awaiting.step).expect("the awaited step is in the run");
        let op = run.steps[i].op_id.clone().unwrap_or_else(aws::new_op_id);
        let Some(req) = four_eyes::request(&ctx, &op, &bucket, &run.id, &awaiting.step).await? else {
            return Err(Error::Dr {
                kind: "no_second_approval",
                message: format!("the request for step {}'s second approval is gone", awaiting.step),
                hint: "resume the run: it asks again".into(),
            });
        };
        let (approver, approver_arn) = four_eyes::check(&ctx, &op, &bucket, &req, typed).await?;
        let mut lease = self.retake(&run).await?;
        run.steps[i].before.insert(SECOND_BY.into(), format!("{approver} ({approver_arn})"));
        run.steps[i].state = "prechecking".into();
        run.awaiting = None;
        run.state = "running".into();
        let details = json!({ "run": run.id, "step": awaiting.step, "action": req.action, "approver": approver, "approver_arn": approver_arn, "requester_arn": req.requester_arn });
        self.save(&run, Some(Record::new("dr.second_approved", &env.name, details).op(&op))).await?;
        self.drive(dir, env, &set, &rb, &mut run, &mut lease, progress).await?;
        Ok(run)
    }

    /// Goes on with a paused or interrupted run from where its journal stands.
    pub async fn resume(&self, dir: Option<&Path>, run_id: &str, progress: &Progress) -> Result<RunView> {
        self.policy().require(Change::RunRunbook)?;
        let (env, mut run) = self.stored(run_id).await?;
        if matches!(run.state.as_str(), "succeeded" | "failed" | "awaiting_approval") {
            return Ok(run);
        }
        let (set, rb) = self.same_runbook(dir, &run).await?;
        let mut lease = self.retake(&run).await?;
        run.state = "running".into();
        run.paused = None;
        if let Some(s) = run.steps.iter_mut().find(|s| s.state != "done") {
            s.error = None;
        }
        self.save(
            &run,
            Some(Record::new(
                "dr.run_resumed",
                &env.name,
                json!({ "run": run.id, "at": run.steps.iter().find(|s| s.state != "done").map(|s| s.path.clone()) }),
            )),
        )
        .await?;
        self.drive(dir, &env, &set, &rb, &mut run, &mut lease, progress).await?;
        Ok(run)
    }

    /// The current environment's runs, newest first.
    pub async fn runs(&self) -> Result<Vec<RunView>> {
        let env = self.current().await?;
        let rows: Vec<String> = sqlx::query_scalar("SELECT record FROM dr_runs WHERE environment = ? ORDER BY created_at DESC")
            .bind(&env.name)
            .fetch_all(self.store().pool())
            .await?;
        rows.iter().map(|r| serde_json::from_str(r).map_err(|e| Error::validation("run", format!("a stored run cannot be read: {e}")))).collect()
    }

    pub async fn run(&self, run_id: &str) -> Result<RunView> {
        Ok(self.stored(run_id).await?.1)
    }

    async fn stored(&self, run_id: &str) -> Result<(Environment, RunView)> {
        let env = self.current().await?;
        let row: Option<String> = sqlx::query_scalar("SELECT record FROM dr_runs WHERE id = ? AND environment = ?")
            .bind(run_id)
            .bind(&env.name)
            .fetch_optional(self.store().pool())
            .await?;
        let Some(row) = row else {
            return Err(Error::Dr {
                kind: "not_found",
                message: format!("{} has no run {run_id}", env.name),
                hint: "`vigil dr runs` lists them".into(),
            });
        };
        let run = serde_json::from_str(&row).map_err(|e| Error::validation("run", format!("run {run_id} cannot be read: {e}")))?;
        Ok((env, run))
    }

    /// The runbook a run started with, from this console's bundle: refused if it changed since.
    async fn same_runbook(&self, dir: Option<&Path>, run: &RunView) -> Result<(RunbookSet, Runbook)> {
        let (set, _) = self.load(dir, &run.runbook).await?;
        let rb = set.get(&run.runbook).expect("loaded").clone();
        if rb.sha256 != run.sha256 {
            return Err(Error::Dr {
                kind: "runbook_changed",
                message: format!("{} is not the runbook run {} started with (version {}, now {})", run.runbook, run.id, run.version, rb.version),
                hint: "finish the run with the bundle it started with (--bundle DIR)".into(),
            });
        }
        Ok((set, rb))
    }

    /// The lease back for a run this console started (after a pause or a crash).
    async fn retake(&self, run: &RunView) -> Result<Lease> {
        self.take_lease(&run.runbook, &run.id).await
    }

    /// Saves the run's journal, with its operator-log record when there is one (both land, or
    /// neither).
    async fn save(&self, run: &RunView, record: Option<Record>) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE dr_runs SET state = ?, record = ?, updated_at = ? WHERE id = ?")
            .bind(&run.state)
            .bind(serde_json::to_string(run).expect("a run serialises"))
            .bind(chrono::Utc::now().to_rfc3339())
            .bind(&run.id)
            .execute(&mut *tx)
            .await?;
        match record {
            Some(r) => self.commit(tx, r).await,
            None => Ok(tx.commit().await?),
        }
    }

    /// Runs the steps from where the journal stands until the run ends, waits for an approval,
    /// or pauses.
    #[allow(clippy::too_many_arguments)]
    async fn drive(
        &self,
        dir: Option<&Path>,
        env: &Environment,
        set: &RunbookSet,
        rb: &Runbook,
        run: &mut RunView,
        lease: &mut Lease,
        progress: &Progress,
    ) -> Result<()> {
        progress.start(Stage::Runbook, run.steps.len() as u64);
        let mut renewed = Instant::now();
        loop {
            progress.done.store(run.steps.iter().filter(|s| s.state == "done").count() as u64, Ordering::Relaxed);
            let Some(i) = run.steps.iter().position(|s| s.state != "done") else {
                return self.finish(env, rb, run, lease).await;
            };
            if renewed.elapsed() >= lease::RENEW_EVERY {
                if let Err(e) = self.renew_lease(lease).await {
                    return self.pause(env, run, i, e).await;
                }
                renewed = Instant::now();
            }
            match self.step(dir, env, set, rb, run, i, lease, &mut renewed).await {
                Ok(true) => continue,
                Ok(false) => return Ok(()),
                Err(Stop::Paused(e)) => return self.pause(env, run, i, e).await,
            }
        }
    }

    /// Moves step `i` one state on. Ok(false): the run stops here (awaiting an approval, failed).
    #[allow(clippy::too_many_arguments)]
    async fn step(
        &self,
        dir: Option<&Path>,
        env: &Environment,
        set: &RunbookSet,
        rb: &Runbook,
        run: &mut RunView,
        i: usize,
        lease: &mut Lease,
        renewed: &mut Instant,
    ) -> std::result::Result<bool, Stop> {
        let path = run.steps[i].path.clone();
        let step = def(set, rb, &path).ok_or_else(|| Error::Dr {
            kind: "runbook_changed",
            message: format!("the runbook has no step {path}"),
            hint: "start the run again".into(),
        })?;
        let op = match &run.steps[i].op_id {
            Some(op) => op.clone(),
            None => {
                let op = aws::new_op_id();
                run.steps[i].op_id = Some(op.clone());
                op
            }
        };
        let place = Place { core: self.core, env, op: &op, bundle: dir };
        let record = |action: &'static str, details: serde_json::Value| Record::new(action, &env.name, details).op(&op);
        match run.steps[i].state.as_str() {
            "pending" => {
                stop_at("before", &path);
                run.steps[i].started_ms = Some(now_ms());
                run.steps[i].state = "prechecking".into();
                self.save(run, Some(record("dr.step_started", json!({ "run": run.id, "step": path, "title": step.title })))).await?;
            }
            "prechecking" => {
                let mut failed = None;
                for c in &step.precheck {
                    let args = render_call(c, run, env, &path)?;
                    let v = steps::check(&place, &c.name, &args).await?;
                    let cr = check_run("precheck", line(&c.name, &args), &v);
                    if !v.ok && failed.is_none() {
                        failed = Some(cr.clone());
                    }
                    run.steps[i].checks.push(cr);
                }
                if let Some(f) = failed {
                    return Err(Stop::Paused(Error::Dr {
                        kind: "precheck_failed",
                        message: format!("step {path}: {} failed: {}", f.check, f.detail),
                        hint: format!("{}; then resume the run", f.fix.unwrap_or_else(|| "fix it".into())),
                    }));
                }
                match &step.kind {
                    StepKind::Action(call) => {
                        let args = render_call(call, run, env, &path)?;
                        let destructive = pj_runbook::catalog::action(&call.name).is_some_and(|a| a.destructive);
                        if destructive && four_eyes::wanted(env) && !run.steps[i].before.contains_key(SECOND_BY) {
                            let bucket = lease::bucket(env)?;
                            let ctx = self.lease_context(env).await;
                            let ask = four_eyes::Request {
                                run: run.id.clone(),
                                step: path.clone(),
                                runbook: run.runbook.clone(),
                                action: line(&call.name, &args),
                                requested_by: self.actor.clone(),
                                requester_arn: String::new(),
                                nonce: String::new(),
                                at: chrono::Utc::now().to_rfc3339(),
                            };
                            let req = four_eyes::ask(&ctx, &op, &bucket, ask).await?;
                            let prompt = format!(
                                "A second person approves {}: on another console or the CLI, signed in as another AWS identity, `vigil dr second-approve {} {path}` gives a one-time code. Type it here.",
                                req.action, run.id
                            );
                            run.steps[i].state = "awaiting_approval".into();
                            run.state = "awaiting_approval".into();
                            run.awaiting = Some(Awaiting { step: path.clone(), prompt, confirm: String::new(), second: true });
                            let details = json!({ "run": run.id, "step": path, "action": req.action, "requester_arn": req.requester_arn });
                            self.save(run, Some(record("dr.awaiting_second_approval", details))).await?;
                            return Ok(false);
                        }
                        let second = run.steps[i].before.get(SECOND_BY).cloned();
                        run.steps[i].before = steps::before(&place, &call.name, &args).await?;
                        if let Some(by) = second {
                            run.steps[i].before.insert(SECOND_BY.into(), by);
                        }
                        run.steps[i].before.insert(steps::ACTING_SINCE.into(), chrono::Utc::now().to_rfc3339());
                        run.steps[i].acting_ms = Some(now_ms());
                        run.steps[i].state = "acting".into();
                        let details = json!({ "run": run.id, "step": path, "action": call.name, "args": args, "before": run.steps[i].before });
                        self.save(run, Some(record("dr.step_acting", details))).await?;
                        stop_at("acting", &path);
                    }
                    StepKind::Wait => {
                        run.steps[i].state = "waiting".into();
                        run.steps[i].wait_since_ms = Some(now_ms());
                        self.save(run, None).await?;
                    }
                    StepKind::Approval { prompt, confirm } => {
                        let confirm = render(confirm, run, env, &path)?;
                        run.steps[i].state = "awaiting_approval".into();
                        run.state = "awaiting_approval".into();
                        run.awaiting = Some(Awaiting { step: path.clone(), prompt: prompt.clone(), confirm: confirm.clone(), second: false });
                        self.save(
                            run,
                            Some(record("dr.awaiting_approval", json!({ "run": run.id, "step": path, "prompt": prompt, "confirm": confirm }))),
                        )
                        .await?;
                        return Ok(false);
                    }
                    StepKind::Runbook { id, params } => {
                        let nested = set.get(id).expect("checked with the set");
                        let mut values = BTreeMap::new();
                        for p in &nested.params {
                            let v = match (params.get(&p.name), &p.default) {
                                (Some(t), _) => render(t, run, env, &path)?,
                                (None, Some(d)) => render(d, run, env, &path)?,
                                (None, None) => String::new(),
                            };
                            values.insert(p.name.clone(), v);
                        }
                        run.steps[i].outputs = values;
                        run.steps[i].state = "done".into();
                        run.steps[i].ended_ms = Some(now_ms());
                        self.save(
                            run,
                            Some(record("dr.step_done", json!({ "run": run.id, "step": path, "runs": id, "params": run.steps[i].outputs }))),
                        )
                        .await?;
                    }
                }
            }
            "acting" => {
                let StepKind::Action(call) = &step.kind else { unreachable!("only actions act") };
                let args = render_call(call, run, env, &path)?;
                let before = run.steps[i].before.clone();
                // The call may have been sent before a crash: look first.
                let (outputs, found) = {
                    // (Boxed: the actions' futures are large.)
                    let mut acting = Box::pin(async {
                        Ok::<_, Error>(match steps::done_already(&place, &call.name, &args, &before).await? {
                            Some(o) => (o, true),
                            None => (steps::act(&place, &call.name, &args, &before).await?, false),
                        })
                    });
                    // A long action (a restore) keeps the lease while it runs.
                    loop {
                        tokio::select! {
                            done = &mut acting => break done?,
                            _ = tokio::time::sleep(lease::RENEW_EVERY.saturating_sub(renewed.elapsed())) => {
                                self.renew_lease(lease).await?;
                                *renewed = Instant::now();
                            }
                        }
                    }
                };
                run.steps[i].found_done = found;
                stop_at("acted", &path);
                run.steps[i].outputs = outputs;
                run.steps[i].state = if step.wait.is_some() { "waiting" } else { "verifying" }.into();
                run.steps[i].wait_since_ms = Some(now_ms());
                let details = json!({ "run": run.id, "step": path, "action": call.name, "outputs": run.steps[i].outputs, "found_done": run.steps[i].found_done });
                self.save(run, Some(record("dr.step_acted", details))).await?;
            }
            "waiting" => {
                let Some(wait) = &step.wait else {
                    run.steps[i].state = "verifying".into();
                    self.save(run, None).await?;
                    return Ok(true);
                };
                let args = render_call(&wait.until, run, env, &path)?;
                let since = run.steps[i].wait_since_ms.unwrap_or_else(now_ms);
                let poll = self.dr_poll.unwrap_or(wait.every);
                let mut polls = 0u64;
                loop {
                    let v = steps::check(&place, &wait.until.name, &args).await?;
                    polls += 1;
                    if v.ok {
                        run.steps[i].checks.push(CheckRun {
                            detail: format!("{} (after {polls} reads)", v.detail),
                            ..check_run("wait", line(&wait.until.name, &args), &v)
                        });
                        run.steps[i].state = "verifying".into();
                        self.save(run, None).await?;
                        break;
                    }
                    if now_ms() - since > wait.timeout.as_millis() as i64 {
                        run.steps[i].checks.push(check_run("wait", line(&wait.until.name, &args), &v));
                        let why = format!("{} did not hold within {} s: {}", line(&wait.until.name, &args), wait.timeout.as_secs(), v.detail);
                        return self.fail_step(env, run, i, step, why).await.map_err(Stop::Paused);
                    }
                    if renewed.elapsed() >= lease::RENEW_EVERY {
                        self.renew_lease(lease).await?;
                        *renewed = Instant::now();
                    }
                    tokio::time::sleep(poll).await;
                }
            }
            "verifying" => {
                for c in &step.verify {
                    let args = render_call(c, run, env, &path)?;
                    let v = steps::check(&place, &c.name, &args).await?;
                    run.steps[i].checks.push(check_run("verify", line(&c.name, &args), &v));
                    if !v.ok {
                        let why = format!("{} failed: {}", line(&c.name, &args), v.detail);
                        return self.fail_step(env, run, i, step, why).await.map_err(Stop::Paused);
                    }
                }
                run.steps[i].state = "done".into();
                run.steps[i].ended_ms = Some(now_ms());
                let details = json!({ "run": run.id, "step": path, "outputs": run.steps[i].outputs, "checks": run.steps[i].checks.len() });
                self.save(run, Some(record("dr.step_done", details))).await?;
                stop_at("done", &path);
            }
            "awaiting_approval" => return Ok(false),
            "failed" => return Ok(false),
            other => {
                return Err(Stop::Paused(Error::Dr {
                    kind: "journal",
                    message: format!("step {path} is in an unknown state {other}"),
                    hint: "start the run again".into(),
                }));
            }
        }
        Ok(true)
    }

    /// A wait or verification that did not hold: the step and the run fail, the rollback named.
    async fn fail_step(&self, env: &Environment, run: &mut RunView, i: usize, step: &Step, why: String) -> Result<bool> {
        let rollback = step.rollback.as_ref().map(|r| r.name.clone());
        run.steps[i].state = "failed".into();
        run.steps[i].error = Some(why.clone());
        run.steps[i].ended_ms = Some(now_ms());
        run.state = "failed".into();
        run.ended_ms = Some(now_ms());
        run.paused = Some(match &rollback {
            Some(r) => format!("{why}. The step's rollback is {r}: run its failback, or undo it by hand"),
            None => why.clone(),
        });
        let op = run.steps[i].op_id.clone().unwrap_or_else(aws::new_op_id);
        self.save(
            run,
            Some(
                Record::new("dr.step_failed", &env.name, json!({ "run": run.id, "step": run.steps[i].path, "why": why, "rollback": rollback }))
                    .op(&op),
            ),
        )
        .await?;
        Ok(false)
    }

    /// A fault or a failed precheck: the run stays where it is, saying why.
    async fn pause(&self, env: &Environment, run: &mut RunView, i: usize, e: Error) -> Result<()> {
        let why = match e.hint() {
            Some(h) => format!("{e} — {h}"),
            None => e.to_string(),
        };
        run.state = "paused".into();
        run.paused = Some(why.clone());
        run.steps[i].error = Some(e.to_string());
        let op = run.steps[i].op_id.clone().unwrap_or_else(aws::new_op_id);
        self.save(
            run,
            Some(
                Record::new(
                    "dr.run_paused",
                    &env.name,
                    json!({ "run": run.id, "step": run.steps[i].path, "state": run.steps[i].state, "kind": e.kind(), "why": why }),
                )
                .op(&op),
            ),
        )
        .await
    }

    async fn finish(&self, env: &Environment, rb: &Runbook, run: &mut RunView, lease: &Lease) -> Result<()> {
        let end = now_ms();
        run.state = "succeeded".into();
        run.ended_ms = Some(end);
        run.rto_ms = Some(end - run.started_ms);
        run.rpo_ms = rpo_of(rb, run);
        let details = json!({ "run": run.id, "runbook": run.runbook, "rto_ms": run.rto_ms, "rpo_ms": run.rpo_ms, "drill": run.drill });
        self.save(run, Some(Record::new("dr.run_succeeded", &env.name, details))).await?;
        self.release_lease(lease).await?;
        Ok(())
    }
}

fn blank(env: &Environment, rb: &Runbook, id: &str) -> RunView {
    RunView {
        id: id.to_string(),
        environment: env.name.clone(),
        runbook: rb.id.clone(),
        title: rb.title.clone(),
        version: rb.version.clone(),
        sha256: rb.sha256.clone(),
        bundle_version: String::new(),
        drill: false,
        state: "running".into(),
        params: BTreeMap::new(),
        steps: vec![],
        awaiting: None,
        paused: None,
        operator: String::new(),
        lease: String::new(),
        started_ms: now_ms(),
        ended_ms: None,
        expected_secs: 0,
        rto_ms: None,
        rpo_ms: None,
        forward_run: None,
        target: target_of(env),
    }
}

/// What a run on `env` acts on, said plainly.
fn target_of(env: &Environment) -> String {
    match env.endpoint_url.as_deref() {
        Some(u)
            if crate::platform_db::connect::is_loopback_host(
                url::Url::parse(u).ok().and_then(|u| u.host_str().map(str::to_string)).as_deref().unwrap_or(""),
            ) =>
        {
            format!("the sandbox platform of environment {} (a local AWS emulator at {u}): nothing in AWS is touched", env.name)
        }
        Some(u) => format!("the real platform of environment {} in {} (AWS, through {u})", env.name, env.region),
        None => format!("the real platform of environment {} in {} (AWS)", env.name, env.region),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_environment_value_a_runbook_may_read_is_one_vigil_keeps() {
        let mut known: Vec<String> = crate::metrics::catalog::load().parameters.keys().cloned().collect();
        known.extend(crate::environments::EXTRA_PARAMETERS.iter().map(|(k, _)| k.to_string()));
        for e in pj_runbook::catalog::ENV {
            assert!(
                matches!(*e, "name" | "region" | "eks_cluster" | "environment") || known.iter().any(|k| k == e),
                "${{env.{e}}} is no deployment parameter"
            );
        }
    }

    #[test]
    fn a_nested_step_is_found_by_its_path_and_reads_its_own_parameters() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy-bundles/runbooks");
        let set = RunbookSet::load_dir(&dir, "runbooks").unwrap();
        let rb = set.get("aurora-pitr-restore").unwrap();
        let mut steps = vec![];
        flatten(&set, rb, "", &mut steps);
        let paths: Vec<&str> = steps.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["approve", "restore", "point", "point/approve", "point/point"]);
        assert_eq!(def(&set, rb, "point/point").unwrap().title, "Point the worker at the cluster");
        assert!(def(&set, rb, "point/nope").is_none() && def(&set, rb, "restore/x").is_none());

        let env = crate::testing::environment("prod");
        let mut run = RunView { steps, ..blank(&env, rb, "r") };
        run.steps[2].outputs.insert("cluster".into(), "pj-prod-db-pitr".into());
        run.steps[1].outputs.insert("cluster".into(), "restored".into());
        let t = Template::parse("${params.cluster}/${steps.restore.cluster}/${env.region}").unwrap();
        // Inside the nested runbook, params are the nested step's; `steps.` is its own siblings.
        let e = render(&t, &run, &env, "point/point").unwrap_err();
        assert_eq!(e.kind(), "missing_value");
        let t = Template::parse("${params.cluster} in ${env.region}").unwrap();
        assert_eq!(render(&t, &run, &env, "point/point").unwrap(), "pj-prod-db-pitr in eu-west-1");
        let t = Template::parse("${steps.restore.cluster}").unwrap();
        assert_eq!(render(&t, &run, &env, "point").unwrap(), "restored");
    }
}

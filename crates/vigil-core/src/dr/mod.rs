//! DR: the bundle's runbooks (read and checked by `pj-runbook` from the signed bundle, so a
//! runbook changed after signing is refused with the bundle), the environment's DR lease
//! ([`lease`]: one console at a time, held in the platform's own account), and runs of a
//! runbook (`run`: dry run, a journaled run that resumes where it stopped, approvals) over the
//! vocabulary carried out against the live platform ([`steps`]).

pub mod four_eyes;
pub mod lease;
pub mod region;
mod report;
mod run;
pub mod steps;

use crate::app::area;
use crate::aws;
use crate::core::Record;
use crate::error::{Error, Result};
use crate::policy::Change;
use lease::{Lease, Taken};
use pj_runbook::{catalog, Arg, Call, Runbook, RunbookSet, StepKind};
use serde_json::json;
use std::path::Path;
use vigil_dto::dr::{LeaseView, RunbookParam, RunbookStepView, RunbookView};

area!(
    /// The DR area (`app.dr()`).
    Dr
);

/// The settings key of this console's installation id (the DR lease names its holder by it).
const CONSOLE_ID: &str = "console_id";

impl Dr<'_> {
    /// The runbooks of the bundle at `dir` (this console's own when None), failbacks included.
    pub async fn runbooks(&self, dir: Option<&Path>) -> Result<Vec<RunbookView>> {
        let bundle = crate::deploy::Deploy::new(self.core).open_bundle(dir).await?;
        Ok(bundle.runbooks.all().map(|r| view(&bundle.runbooks, r)).collect())
    }

    /// One runbook of the bundle at `dir`.
    pub async fn runbook(&self, dir: Option<&Path>, id: &str) -> Result<RunbookView> {
        let bundle = crate::deploy::Deploy::new(self.core).open_bundle(dir).await?;
        match bundle.runbooks.get(id) {
            Some(r) => Ok(view(&bundle.runbooks, r)),
            None => Err(no_runbook(&bundle.runbooks, id)),
        }
    }

    /// This console's installation id, made on first use.
    pub async fn console_id(&self) -> Result<String> {
        let fresh = uuid::Uuid::new_v4().to_string();
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)").bind(CONSOLE_ID).bind(&fresh).execute(self.store().pool()).await?;
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(CONSOLE_ID).fetch_one(self.store().pool()).await?)
    }

    /// The AWS context of the DR lease's bucket (four-eyes requests are beside it): in the
    /// platform's home region while it runs in its DR region.
    pub(crate) async fn lease_context(&self, env: &vigil_dto::Environment) -> aws::AwsContext {
        let mut target = aws::Target::from(env);
        target.region = region::lease_region(env).to_string();
        self.core.aws.get(&target).await
    }

    /// Who this console is, as the lease names its holder.
    fn holder(&self) -> String {
        let machine = whoami::devicename().unwrap_or_else(|_| "an unknown machine".into());
        format!("{} on {machine}", self.actor)
    }

    /// Who holds the current environment's DR lease, if anyone.
    pub async fn lease(&self) -> Result<Option<LeaseView>> {
        let env = self.current().await?;
        let bucket = lease::bucket(&env)?;
        let ctx = self.lease_context(&env).await;
        let held = lease::current(&ctx, &aws::new_op_id(), &bucket).await?;
        Ok(held.map(|(b, _)| b.view(&format!("s3://{bucket}/{}", lease::KEY), chrono::Utc::now())))
    }

    /// Takes the current environment's DR lease for run `run_id` of `runbook`, or says who
    /// holds it (`lease_held`). Logged as `dr.lease_taken`.
    pub async fn take_lease(&self, runbook: &str, run_id: &str) -> Result<Lease> {
        self.policy().require(Change::RunRunbook)?;
        let env = self.current().await?;
        let bucket = lease::bucket(&env)?;
        let ctx = self.lease_context(&env).await;
        let op = aws::new_op_id();
        let body = lease::Body::new(&env.name, &self.holder(), &self.console_id().await?, run_id, runbook, chrono::Utc::now());
        match lease::take(&ctx, &op, &bucket, body).await? {
            Taken::Held(l) => {
                let details = json!({ "runbook": runbook, "run_id": run_id, "location": format!("s3://{bucket}/{}", lease::KEY), "expires_at": l.body.expires_at.to_rfc3339() });
                self.log(Record::new("dr.lease_taken", &env.name, details).op(&op)).await?;
                Ok(l)
            }
            Taken::Refused(held) => {
                let now = chrono::Utc::now();
                let hint = if held.stale(now) {
                    format!(
                        "its console stopped renewing it at {}: if that run is over, break the lease (`vigil dr break-lease --confirm {}`)",
                        held.renewed_at.to_rfc3339(),
                        env.name
                    )
                } else {
                    format!("wait for that run to end, or ask {}; the lease expires at {} unless renewed", held.holder, held.expires_at.to_rfc3339())
                };
                Err(Error::Dr {
                    kind: "lease_held",
                    message: format!(
                        "{} holds the DR lease of {}: run {} of {}, since {}",
                        held.holder,
                        env.name,
                        held.run_id,
                        held.runbook,
                        held.acquired_at.to_rfc3339()
                    ),
                    hint,
                })
            }
        }
    }

    /// Renews a lease this console holds.
    pub async fn renew_lease(&self, lease: &mut Lease) -> Result<()> {
        let env = self.environment(&lease.body.environment).await?;
        let ctx = self.lease_context(&env).await;
        lease.renew(&ctx, &aws::new_op_id(), chrono::Utc::now()).await
    }

    /// Gives a lease up (logged as `dr.lease_released`); false when it was no longer this one.
    pub async fn release_lease(&self, lease: &Lease) -> Result<bool> {
        let env = self.environment(&lease.body.environment).await?;
        let ctx = self.lease_context(&env).await;
        let op = aws::new_op_id();
        let released = lease.release(&ctx, &op).await?;
        let details = json!({ "runbook": lease.body.runbook, "run_id": lease.body.run_id, "released": released });
        self.log(Record::new("dr.lease_released", &env.name, details).op(&op)).await?;
        Ok(released)
    }

    /// Breaks the current environment's stale DR lease; `confirm` is the environment's name.
    /// Logged as `dr.lease_broken` with the holder it displaced.
    pub async fn break_lease(&self, confirm: &str) -> Result<LeaseView> {
        self.policy().require(Change::BreakLease)?;
        let env = self.current().await?;
        let ctx = self.lease_context(&env).await;
        let op = aws::new_op_id();
        let now = chrono::Utc::now();
        let (held, location) = lease::break_stale(&ctx, &op, &env, confirm, now).await?;
        let view = held.view(&location, now);
        self.log(Record::new("dr.lease_broken", &env.name, json!({ "location": location, "holder": held.holder, "console": held.console, "run_id": held.run_id, "runbook": held.runbook, "renewed_at": view.renewed_at })).op(&op)).await?;
        Ok(view)
    }
}

fn no_runbook(set: &RunbookSet, id: &str) -> Error {
    let known: Vec<&str> = set.all().map(|r| r.id.as_str()).collect();
    Error::Dr {
        kind: "no_runbook",
        message: format!("the bundle has no runbook `{id}`"),
        hint: if known.is_empty() {
            "this bundle has no runbooks: deploy a newer bundle".into()
        } else {
            format!("its runbooks: {}", known.join(", "))
        },
    }
}

/// A call as a line: `rds.failover_cluster(cluster=${env.db_cluster_id}, target=…)`.
fn call_line(c: &Call) -> String {
    let args: Vec<String> = c
        .args
        .iter()
        .map(|(k, v)| match v {
            Arg::Text(t) => format!("{k}={t}"),
            Arg::Bool(b) => format!("{k}={b}"),
            Arg::Count(n) => format!("{k}={n}"),
            Arg::Duration(d) => format!("{k}={}", humantime_secs(d.as_secs())),
        })
        .collect();
    format!("{}({})", c.name, args.join(", "))
}

fn humantime_secs(s: u64) -> String {
    match s {
        s if s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn view(set: &RunbookSet, r: &Runbook) -> RunbookView {
    let failback = format!("{}{}", r.id, "-failback");
    RunbookView {
        id: r.id.clone(),
        version: r.version.clone(),
        title: r.title.clone(),
        summary: r.summary.clone(),
        data_loss: match r.data_loss {
            pj_runbook::DataLoss::None => "none".into(),
            pj_runbook::DataLoss::Bounded => "bounded".into(),
        },
        failback_of: r.failback_of.clone(),
        failback: set.get(&failback).map(|f| f.id.clone()),
        expected_secs: set.expected(&r.id).as_secs(),
        params: r
            .params
            .iter()
            .map(|p| RunbookParam {
                name: p.name.clone(),
                summary: p.summary.clone(),
                default: p.default.as_ref().map(|d| d.to_string()),
                from_forward: p.from_forward.as_ref().map(|d| d.to_string()),
            })
            .collect(),
        steps: r
            .steps
            .iter()
            .map(|s| {
                let spec = match &s.kind {
                    StepKind::Action(c) => catalog::action(&c.name),
                    _ => None,
                };
                RunbookStepView {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    kind: s.kind.name().into(),
                    does: match &s.kind {
                        StepKind::Action(c) => call_line(c),
                        StepKind::Wait => s
                            .wait
                            .as_ref()
                            .map(|w| format!("until {} (at most {})", call_line(&w.until), humantime_secs(w.timeout.as_secs())))
                            .unwrap_or_default(),
                        StepKind::Approval { confirm, .. } => format!("the operator types {confirm}"),
                        StepKind::Runbook { id, .. } => format!("runs {id}"),
                    },
                    typical_secs: match &s.kind {
                        StepKind::Runbook { id, .. } => set.expected(id).as_secs(),
                        _ => s.typical.as_secs(),
                    },
                    mutates: spec.is_some_and(|a| a.mutates),
                    destructive: spec.is_some_and(|a| a.destructive),
                    prechecks: s.precheck.iter().map(call_line).collect(),
                    // A wait step's wait is what it does; another step's wait follows its action.
                    verifications: s
                        .wait
                        .iter()
                        .filter(|_| !matches!(s.kind, StepKind::Wait))
                        .map(|w| format!("until {} (at most {})", call_line(&w.until), humantime_secs(w.timeout.as_secs())))
                        .chain(s.verify.iter().map(call_line))
                        .collect(),
                    rollback: s.rollback.as_ref().map(call_line),
                }
            })
            .collect(),
        iam_actions: set.iam_actions(&r.id).into_iter().map(str::to_string).collect(),
        file: r.file.clone(),
        sha256: r.sha256.clone(),
    }
}

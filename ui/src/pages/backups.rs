//! Backups page: each platform component against the RPO (how it is protected, its newest
//! restorable moment, how what AWS Backup cannot protect is recovered), the vaults and plans with
//! each rule's next run; the backup, copy and restore jobs, failures with what they mean, a job's
//! events; the recovery points; an on-demand backup of a component, a restore of a point to a
//! new resource (its progress and its checks), the restores made with their time against the
//! RTO, the platform pointed at a restored cluster (and back), restore tests run on demand; the
//! compliance controls with each resource's evidence and the account's Audit Manager frameworks
//! beside them, exported as PDF or CSV (commands: backup_overview, backup_jobs,
//! backup_job_events, backup_points, backup_start, backup_restore, backup_restores,
//! backup_use_cluster, backup_restore_test, backup_compliance, export_backup_compliance).

use crate::app::Ctx;
use crate::components::{activates, AsyncState, Dialog, Tabs};
use crate::ipc;
use crate::pages::metrics::local_time;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::backup::{
    BackupJobEvents, BackupJobView, BackupOverview, BackupRequest, ComplianceExport, ComplianceReport, ComponentCoverage, RecoveryPointView,
    RestoreRecord, RestoreRequest, RestoreTestReport, RestoreTestRequest, UseClusterRequest, UseClusterResult,
};
use vigil_dto::deploy::CheckStatus;
use vigil_dto::{ErrorInfo, WorkProgress};

fn at(ms: i64) -> String {
    local_time(ms / 1000)
}

fn size(bytes: Option<i64>) -> String {
    match bytes {
        None => String::new(),
        Some(b) if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        Some(b) if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        Some(b) if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        Some(b) => format!("{b} B"),
    }
}

/// A component's verdict: data restorable within the RPO, or recoverable another way.
fn status_badge(s: CheckStatus, restorable: bool) -> (&'static str, &'static str) {
    match s {
        CheckStatus::Pass if restorable => ("meets RPO", "badge ok"),
        CheckStatus::Pass => ("recoverable", "badge ok"),
        CheckStatus::Warn => ("check", "badge warn"),
        CheckStatus::Fail => ("at risk", "badge bad"),
    }
}

fn job_badge(state: &str) -> &'static str {
    match state {
        "COMPLETED" => "badge ok",
        "FAILED" | "EXPIRED" | "ABORTED" | "PARTIAL" => "badge bad",
        _ => "badge",
    }
}

#[component]
pub fn BackupsPage() -> impl IntoView {
    let tab = RwSignal::new("coverage".to_string());
    let tabs = Signal::derive(|| {
        [("coverage", "Coverage"), ("jobs", "Jobs"), ("points", "Recovery points"), ("restores", "Restores"), ("compliance", "Compliance")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .to_vec()
    });
    view! {
        <h1>"Backups"</h1>
        <Tabs tabs=tabs selected=tab tab_prefix="backup-tab-" label="Backups">
            {move || match tab.get().as_str() {
                "jobs" => view! { <Jobs/> }.into_any(),
                "points" => view! { <Points/> }.into_any(),
                "restores" => view! { <Restores/> }.into_any(),
                "compliance" => view! { <Compliance/> }.into_any(),
                _ => view! { <Coverage/> }.into_any(),
            }}
        </Tabs>
    }
}

#[component]
fn Coverage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let backing_up = RwSignal::new(None::<ComponentCoverage>);
    let overview = RwSignal::new(None::<BackupOverview>);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let load = move || {
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<BackupOverview>("backup_overview", json!({})).await {
                Ok(o) => {
                    error.set(None);
                    overview.set(Some(o));
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    load();
    view! {
        <div class="row toolbar">
            <span class="muted" id="backup-targets">{move || overview.get().map(|o| format!(
                "{} in {}: RPO {} min, RTO {} min · checked {}", o.environment, o.region, o.rpo_minutes, o.rto_minutes, at(o.checked_at_ms)))}</span>
            <span class="spacer"></span>
            <button id="backup-refresh" on:click=move |_| load() disabled=move || loading.get()>
                {move || if loading.get() { "Loading…" } else { "Refresh" }}
            </button>
        </div>
        <AsyncState id="backup-state" loading=loading.into() error=error.into()
            empty=Signal::derive(move || overview.with(Option::is_none))
            empty_text="Nothing read yet.">
            {move || overview.get().map(|o| {
                let failed = o.failed_jobs;
                view! {
                    {(!o.problems.is_empty()).then(|| view! {
                        <div class="banner" role="alert" id="backup-problems">
                            "Some of AWS Backup could not be read; what is shown below may be incomplete:"
                            <ul>{o.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
                        </div>
                    })}
                    {match failed {
                        Some(0) => ().into_any(),
                        Some(n) => view! {
                            <div class="banner" role="status" id="backup-failed-jobs" data-count=n.to_string()>
                                {format!("{n} backup or copy job{} did not complete in the last 7 days: see Jobs.", if n == 1 { "" } else { "s" })}
                            </div>
                        }.into_any(),
                        None => ().into_any(),
                    }}
                    <div class="panel">
                        <h2>"Components"</h2>
                        <table id="backup-coverage">
                            <thead><tr><th>"Component"</th><th>"Recovery"</th><th>"Detail"</th><th>"Protected by"</th><th>"Newest point"</th><th></th></tr></thead>
                            <tbody>
                                {o.components.iter().map(|c| {
                                    let (label, class) = status_badge(c.status, c.last_point_ms.is_some() || c.latest_restorable_ms.is_some());
                                    view! {
                                        <tr data-component=c.component.clone() data-status=label>
                                            <td><div>{c.title.clone()}</div><div class="mono small-text breakable">{c.resource.clone()}</div></td>
                                            <td class="nowrap"><span class=class>{label}</span></td>
                                            <td class="prose">{c.detail.clone()}<div class="hint">{c.recovery.clone()}</div></td>
                                            <td>{if c.by_aws_backup {
                                                let mut by = c.protected_by.join(", ");
                                                if c.continuous { by.push_str(" · continuous"); }
                                                if c.cross_region_copy { by.push_str(" · cross-region copy"); }
                                                if by.is_empty() { "no plan".to_string() } else { by }
                                            } else { "not by AWS Backup".to_string() }}</td>
                                            <td class="nowrap">{c.last_point_ms.map(|t| format!("{} ({} min ago)", at(t), c.last_point_age_minutes.unwrap_or_default()))}</td>
                                            <td>{(c.by_aws_backup && c.resource.is_some() && !ctx.read_only()).then(|| {
                                                let c2 = c.clone();
                                                view! { <button id=format!("backup-now-{}", c.component) on:click=move |_| backing_up.set(Some(c2.clone()))>"Back up now…"</button> }
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <div class="panel">
                        <h2>"Vaults"</h2>
                        <table id="backup-vaults">
                            <thead><tr><th>"Vault"</th><th>"Recovery points"</th><th>"Encryption"</th><th>"Lock"</th><th>"Access policy"</th></tr></thead>
                            <tbody>
                                {o.vaults.iter().map(|v| view! {
                                    <tr data-vault=v.name.clone()>
                                        <td class="mono">{v.name.clone()}<div class="muted">{v.vault_type.clone()}</div></td>
                                        <td>{v.recovery_points}</td>
                                        <td class="mono small-text breakable">{v.encryption_key.clone().unwrap_or_else(|| "AWS-owned key".into())}</td>
                                        <td>{if v.locked {
                                            format!("locked: kept {}–{} days", v.min_retention_days.map(|d| d.to_string()).unwrap_or_else(|| "?".into()),
                                                v.max_retention_days.map(|d| d.to_string()).unwrap_or_else(|| "?".into()))
                                        } else { "not locked".into() }}</td>
                                        <td>{if v.access_policy.is_some() { "set" } else { "none" }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <div class="panel">
                        <h2>"Plans"</h2>
                        <table id="backup-plans">
                            <thead><tr><th>"Plan / rule"</th><th>"Schedule"</th><th>"Next run"</th><th>"Kept"</th><th>"Copies"</th></tr></thead>
                            {o.plans.iter().map(|p| view! {
                                <tbody>
                                    <tr class="group"><td colspan="5">{p.name.clone()}" · "{p.selections.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ")}</td></tr>
                                    {p.rules.iter().map(|r| view! {
                                        <tr data-rule=r.name.clone()>
                                            <td>{r.name.clone()}" → "<span class="mono">{r.vault.clone()}</span></td>
                                            <td class="mono">{if r.continuous { "continuous".to_string() } else { r.schedule.clone().unwrap_or_else(|| "on demand".into()) }}</td>
                                            <td class="nowrap">{r.next_run_ms.map(at)}</td>
                                            <td>{r.delete_after_days.map(|d| format!("{d} days"))}</td>
                                            <td class="mono small-text breakable">{r.copies.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>().join(", ")}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            }).collect_view()}
                        </table>
                    </div>
                }
            })}
        </AsyncState>
        {move || backing_up.get().map(|c| view! { <BackupNow component=c on_close=Callback::new(move |_| backing_up.set(None))/> })}
    }
}

/// Starts an on-demand backup of a component once its name is typed.
#[component]
fn BackupNow(component: ComponentCoverage, on_close: Callback<()>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let typed = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ErrorInfo>);
    let busy = RwSignal::new(false);
    let name = component.name.clone();
    let name2 = name.clone();
    let id = component.component.clone();
    let start = move |_| {
        let retention_days = match days.get_untracked().trim() {
            "" => None,
            d => match d.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    error.set(Some(ErrorInfo {
                        kind: "validation".into(),
                        message: format!("retention: `{d}` is not a number of days"),
                        hint: None,
                    }));
                    return;
                }
            },
        };
        let request = BackupRequest { resource: id.clone(), retention_days, confirm: Some(typed.get_untracked()) };
        busy.set(true);
        spawn_local(async move {
            match ipc::call::<BackupJobView>("backup_start", json!({ "request": request })).await {
                Ok(job) => {
                    ctx.toast(format!("Backup job {} started: {}", job.id, job.state));
                    on_close.run(());
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <Dialog title=format!("Back up {} now", component.name) id="backup-now-dialog" alert=true on_close=on_close>
            <p>{component.title.clone()}<span class="mono small-text breakable">{" "}{component.resource.clone()}</span></p>
            <p class="muted">"AWS Backup makes a recovery point now, in the vault of the rule that covers it, as the plan's backup role. The start is recorded in the operator log."</p>
            <label>"Keep it (days)"<input class="narrow" id="backup-now-days" placeholder="as the plan keeps it" prop:value=move || days.get()
                on:input=move |ev| days.set(event_target_value(&ev))/></label>
            <label>{format!("Type {name} to confirm")}<input id="backup-now-confirm" placeholder=name.clone() prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))/></label>
            {move || error.get().map(|e| view! { <div class="banner" role="alert" id="backup-now-error">{ipc::describe(&e)}</div> })}
            <div class="form-actions">
                <button id="backup-now-cancel" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button class="primary" id="backup-now-start" disabled=move || busy.get() || typed.get().trim() != name2 on:click=start>
                    {move || if busy.get() { "Starting…" } else { "Back up" }}
                </button>
            </div>
        </Dialog>
    }
}

const KINDS: [(&str, &str); 3] = [("backup", "Backup"), ("copy", "Copy"), ("restore", "Restore")];

#[component]
fn Jobs() -> impl IntoView {
    let kind = RwSignal::new("backup");
    let failed_only = RwSignal::new(false);
    let jobs = RwSignal::new(None::<Vec<BackupJobView>>);
    let showing = RwSignal::new(None::<BackupJobView>);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let load = move || {
        let state = failed_only.get_untracked().then_some("FAILED");
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<Vec<BackupJobView>>("backup_jobs", json!({ "kind": kind.get_untracked(), "state": state, "days": 30 })).await {
                Ok(v) => {
                    error.set(None);
                    jobs.set(Some(v));
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    Effect::new(move |_| {
        kind.track();
        failed_only.track();
        load();
    });
    view! {
        <div class="row toolbar">
            <div class="segmented" role="group" aria-label="Kind of job">
                {KINDS.iter().map(|(k, label)| view! {
                    <button id=format!("jobs-kind-{k}") aria-pressed=move || (kind.get() == *k).to_string() on:click=move |_| kind.set(k)>{*label}</button>
                }).collect_view()}
            </div>
            <label><input type="checkbox" id="jobs-failed-only" prop:checked=move || failed_only.get()
                on:change=move |ev| failed_only.set(event_target_checked(&ev))/>" Failed only"</label>
            <span class="spacer"></span>
            <span class="muted">"last 30 days"</span>
            <button id="backup-jobs-refresh" on:click=move |_| load() disabled=move || loading.get()>"Refresh"</button>
        </div>
        <div class="panel">
            <AsyncState id="backup-jobs-state" loading=loading.into() error=error.into()
                empty=Signal::derive(move || jobs.with(|j| j.as_ref().is_none_or(|v| v.is_empty())))
                empty_text=Signal::derive(move || format!("No {} job{} in the last 30 days.", kind.get(), if failed_only.get() { " failed" } else { "" }))>
                {move || jobs.get().map(|v| view! {
                    <table id="backup-jobs">
                        <thead><tr><th>"Started"</th><th>"State"</th><th>"Resource"</th><th>"Took"</th><th>"Size"</th><th>"What it means"</th><th></th></tr></thead>
                        <tbody>
                            {v.into_iter().map(|j| view! {
                                <tr data-job=j.id.clone() data-state=j.state.clone()>
                                    <td class="nowrap">{at(j.created_ms)}<div class="muted">{j.plan.clone().map(|p| format!("plan {p}")).unwrap_or_else(|| "on demand".into())}</div></td>
                                    <td class="nowrap"><span class=job_badge(&j.state)>{j.state.clone()}</span></td>
                                    <td class="mono small-text breakable">{j.resource.clone()}<div class="muted">{j.resource_type.clone()}</div>
                                        {j.created_resource.clone().map(|r| view! { <div>"→ "{r}</div> })}</td>
                                    <td class="nowrap">{j.duration_seconds.map(|s| format!("{s} s"))}</td>
                                    <td class="nowrap">{size(j.size_bytes)}</td>
                                    <td class="prose">{j.message.clone()}{j.meaning.clone().map(|m| view! { <div class="hint">{m}</div> })}</td>
                                    <td>{let j2 = j.clone(); view! { <button class="events" on:click=move |_| showing.set(Some(j2.clone()))>"Events"</button> }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                })}
            </AsyncState>
        </div>
        {move || showing.get().map(|j| view! { <JobEvents job=j on_close=Callback::new(move |_| showing.set(None))/> })}
    }
}

/// A job's CloudWatch events: AWS Backup's state changes, as the backup stack keeps them.
#[component]
fn JobEvents(job: BackupJobView, on_close: Callback<()>) -> impl IntoView {
    let events = RwSignal::new(None::<BackupJobEvents>);
    let error = RwSignal::new(None::<ErrorInfo>);
    let loading = RwSignal::new(true);
    let (id, since) = (job.id.clone(), job.created_ms);
    spawn_local(async move {
        match ipc::call::<BackupJobEvents>("backup_job_events", json!({ "job": id, "sinceMs": since })).await {
            Ok(v) => events.set(Some(v)),
            Err(e) => error.set(Some(e)),
        }
        loading.set(false);
    });
    view! {
        <Dialog title=job.id.clone() id="job-events-dialog" wide=true mono_title=true on_close=on_close>
            <p>{format!("{} job of {}", job.kind, job.resource)}</p>
            <AsyncState id="job-events-state" loading=loading.into() error=error.into()
                empty=Signal::derive(move || events.with(|e| e.as_ref().is_none_or(|v| v.events.is_empty())))
                empty_text=Signal::derive(move || events.with(|e| match e {
                    Some(e) => format!("No events of this job in {}.", e.log_group),
                    None => String::new(),
                }))>
                {move || events.get().map(|e| view! {
                    <p class="muted">{format!("From the log group {}", e.log_group)}</p>
                    <table id="job-events">
                        <thead><tr><th>"When"</th><th>"State"</th><th>"Event"</th><th>"Message"</th></tr></thead>
                        <tbody>
                            {e.events.into_iter().map(|ev| view! {
                                <tr data-state=ev.state.clone()>
                                    <td class="nowrap">{ev.at.clone()}</td>
                                    <td class="nowrap"><span class=job_badge(&ev.state)>{ev.state.clone()}</span>
                                        {ev.percent_done.clone().map(|p| view! { <div class="muted">{format!("{p} %")}</div> })}</td>
                                    <td class="nowrap">{ev.kind.clone()}</td>
                                    <td class="prose">{ev.message.clone()}<details><summary class="muted">"Detail"</summary><pre class="small-text breakable">{ev.detail.clone()}</pre></details></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                })}
            </AsyncState>
            <div class="row"><span class="spacer"></span><button id="job-events-close" on:click=move |_| on_close.run(())>"Close"</button></div>
        </Dialog>
    }
}

#[component]
fn Points() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let restoring = RwSignal::new(None::<RecoveryPointView>);
    let points = RwSignal::new(None::<Vec<RecoveryPointView>>);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let load = move || {
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<Vec<RecoveryPointView>>("backup_points", json!({ "vault": null, "resource": null })).await {
                Ok(v) => {
                    error.set(None);
                    points.set(Some(v));
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    load();
    view! {
        <div class="row toolbar">
            <span class="muted">"The environment's vault, newest first"</span>
            <span class="spacer"></span>
            <button id="backup-points-refresh" on:click=move |_| load() disabled=move || loading.get()>"Refresh"</button>
        </div>
        <div class="panel">
            <AsyncState id="backup-points-state" loading=loading.into() error=error.into()
                empty=Signal::derive(move || points.with(|p| p.as_ref().is_none_or(|v| v.is_empty())))
                empty_text="The vault holds no recovery point yet.">
                {move || points.get().map(|v| view! {
                    <table id="backup-points">
                        <thead><tr><th>"Created"</th><th>"Status"</th><th>"Resource"</th><th>"Size"</th><th>"Encryption"</th><th>"Deleted"</th><th></th></tr></thead>
                        <tbody>
                            {v.into_iter().map(|p| view! {
                                <tr data-point=p.arn.clone() data-status=p.status.clone() data-type=p.resource_type.clone()>
                                    <td class="nowrap">{at(p.created_ms)}</td>
                                    <td class="nowrap"><span class=job_badge(&p.status)>{p.status.clone()}</span></td>
                                    <td class="mono small-text breakable">{p.resource.clone()}<div class="muted">{p.resource_type.clone()}</div></td>
                                    <td class="nowrap">{size(p.size_bytes)}</td>
                                    <td>{if p.encrypted { "encrypted" } else { "not encrypted" }}</td>
                                    <td class="nowrap">{p.delete_at_ms.map(at).unwrap_or_else(|| "kept".into())}</td>
                                    <td>{(matches!(p.status.as_str(), "COMPLETED" | "AVAILABLE") && matches!(p.resource_type.as_str(), "Aurora" | "S3") && !ctx.read_only()).then(|| {
                                        let p2 = p.clone();
                                        view! { <button class="restore" on:click=move |_| restoring.set(Some(p2.clone()))>"Restore…"</button> }
                                    })}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                })}
            </AsyncState>
        </div>
        {move || restoring.get().map(|p| view! { <Restore point=p on_close=Callback::new(move |_| restoring.set(None))/> })}
    }
}

/// The name of a resource in its ARN (a cluster's identifier, a bucket's name).
fn name_in(arn: &str) -> &str {
    arn.rsplit([':', '/']).next().unwrap_or(arn)
}

/// A dialog's confirmed long task (restore, restore test, pointing the platform at a cluster):
/// the name typed, its progress over a channel, how it ended.
struct Task<T: Send + Sync + 'static> {
    typed: RwSignal<String>,
    error: RwSignal<Option<ErrorInfo>>,
    busy: RwSignal<bool>,
    progress: RwSignal<Option<WorkProgress>>,
    done: RwSignal<Option<T>>,
}

impl<T: Send + Sync + 'static> Clone for Task<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Task<T> {}

impl<T: serde::de::DeserializeOwned + Clone + Send + Sync + 'static> Task<T> {
    fn new() -> Self {
        Task {
            typed: RwSignal::new(String::new()),
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
            progress: RwSignal::new(None),
            done: RwSignal::new(None),
        }
    }

    /// Nothing more may be edited: running, or ended.
    fn locked(self) -> bool {
        self.busy.get() || self.done.with(Option::is_some)
    }

    /// Runs `command` with `request`, its progress shown; `then` runs after it succeeded.
    fn run<F: std::future::Future<Output = ()> + 'static>(
        self,
        command: &'static str,
        request: serde_json::Value,
        then: impl FnOnce() -> F + 'static,
    ) {
        self.busy.set(true);
        self.error.set(None);
        let progress = self.progress;
        spawn_local(async move {
            match ipc::call_with_channel::<T, WorkProgress>(command, json!({ "request": request }), "onProgress", move |w| progress.set(Some(w)))
                .await
            {
                Ok(v) => {
                    self.done.set(Some(v));
                    then().await;
                }
                Err(e) => self.error.set(Some(e)),
            }
            self.busy.set(false);
        });
    }

    /// The name-to-type field, the progress line and the error of the dialog `id`.
    fn fields(self, id: &'static str, label: impl Fn() -> String + Send + Sync + 'static) -> impl IntoView {
        view! {
            <label>{label}<input id=format!("{id}-confirm") prop:value=move || self.typed.get()
                on:input=move |ev| self.typed.set(event_target_value(&ev)) disabled=move || self.locked()/></label>
            {move || self.busy.get().then(|| self.progress.get().map(|w| view! {
                <div class="muted" id=format!("{id}-progress") data-stage=w.stage.clone()>{progress_text(&w)}</div>
            }))}
            {move || self.error.get().map(|e| view! { <div class="banner" role="alert" id=format!("{id}-error")>{ipc::describe(&e)}</div> })}
        }
    }

    /// Close, and the start button (`ready`: the name typed) until the task has ended.
    fn actions(
        self,
        id: &'static str,
        idle: &'static str,
        running: &'static str,
        ready: impl Fn() -> bool + Send + Sync + Copy + 'static,
        on_close: Callback<()>,
        start: impl Fn() + Send + Sync + Copy + 'static,
    ) -> impl IntoView {
        view! {
            <div class="form-actions">
                <button id=format!("{id}-close") on:click=move |_| on_close.run(()) disabled=move || self.busy.get()>"Close"</button>
                {move || self.done.with(Option::is_none).then(|| view! {
                    <button class="primary" id=format!("{id}-start") disabled=move || self.busy.get() || !ready()
                        on:click=move |_| start()>{move || if self.busy.get() { running } else { idle }}</button>
                })}
            </div>
        }
    }
}

/// Restores a recovery point to a new resource once its name is typed; shows the progress,
/// then how it ended: the time against the RTO, the instances made, the settings checked.
#[component]
fn Restore(point: RecoveryPointView, on_close: Callback<()>) -> impl IntoView {
    let source = name_in(&point.resource).to_string();
    let s3 = point.resource_type == "S3";
    let stamp =
        js_sys::Date::new_0().to_iso_string().as_string().unwrap_or_default().chars().filter(char::is_ascii_digit).take(12).collect::<String>();
    let target = RwSignal::new(format!("{source}-restored-{stamp}"));
    let prefixes = RwSignal::new(String::new());
    let task = Task::<RestoreRecord>::new();
    let (arn, vault) = (StoredValue::new(point.arn.clone()), StoredValue::new(point.vault.clone()));
    let start = move || {
        let request = RestoreRequest {
            point: arn.get_value(),
            vault: Some(vault.get_value()),
            target: target.get_untracked().trim().to_string(),
            prefixes: prefixes.get_untracked().split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
            confirm: Some(task.typed.get_untracked()),
        };
        task.run("backup_restore", json!(request), || async {});
    };
    let ready = move || task.typed.get().trim() == target.get().trim() && !target.get().trim().is_empty();
    view! {
        <Dialog title=format!("Restore {source}") id="restore-dialog" alert=true wide=true on_close=on_close>
            <p>{format!("The recovery point of {} is restored to a new {}; the running one is not touched.", at(point.created_ms), if s3 { "bucket" } else { "cluster" })}
                {(!s3).then_some(" Vigil adds the source's instances to the restored cluster and checks its settings against the source's.")}</p>
            <p class="mono small-text breakable">{point.arn.clone()}</p>
            <label>{if s3 { "New bucket" } else { "New cluster" }}<input id="restore-target" prop:value=move || target.get()
                on:input=move |ev| target.set(event_target_value(&ev)) disabled=move || task.locked()/></label>
            {s3.then(|| view! {
                <label>"Only these prefixes (comma-separated; all when empty)"<input id="restore-prefixes" placeholder="output/, input/2026/"
                    prop:value=move || prefixes.get() on:input=move |ev| prefixes.set(event_target_value(&ev)) disabled=move || task.busy.get()/></label>
            })}
            {task.fields("restore", move || format!("Type {} to confirm", target.get().trim()))}
            {move || task.done.get().map(|r| view! { <RestoreResult record=r/> })}
            {task.actions("restore", "Restore", "Restoring…", ready, on_close, start)}
        </Dialog>
    }
}

fn minutes(seconds: i64) -> String {
    if seconds < 120 {
        format!("{seconds} s")
    } else {
        format!("{} min {} s", seconds / 60, seconds % 60)
    }
}

/// How a restore ended: its time against the RTO, what it made, the settings checked.
#[component]
fn RestoreResult(record: RestoreRecord) -> impl IntoView {
    let r = record;
    view! {
        <div id="restore-result" data-state=r.state.clone() data-rto-met=r.rto_met.map(|m| m.to_string()).unwrap_or_default()>
            <p>
                <span class=if r.state == "restored" || (r.state == "tested" && r.passed()) { "badge ok" } else { "badge bad" }>{r.state.clone()}</span>" "
                <span class="mono">{r.target.clone()}</span>
                {r.total_seconds.map(|s| format!(" in {}", minutes(s)))}
                {r.rto_met.map(|m| if m { " — within the RTO" } else { " — past the RTO" })}
            </p>
            {(!r.instances.is_empty()).then(|| view! { <p class="muted">"Instances: "<span class="mono">{r.instances.join(", ")}</span></p> })}
            {(!r.checks.is_empty() || !r.validation.is_empty()).then(|| view! {
                <table id="restore-checks">
                    <thead><tr><th>"Setting or data"</th><th>"Source"</th><th>"Restored"</th><th></th></tr></thead>
                    <tbody>
                        {r.checks.iter().chain(&r.validation).map(|c| view! {
                            <tr data-check=c.name.clone() data-matches=c.matches.to_string()>
                                <td>{c.name.replace('_', " ")}</td><td class="mono small-text breakable">{c.source.clone()}</td>
                                <td class="mono small-text breakable">{c.restored.clone()}</td>
                                <td><span class=if c.matches { "badge ok" } else { "badge bad" }>{if c.matches { "same" } else { "differs" }}</span></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {r.cleaned_ms.map(|t| view! { <p class="muted">{format!("Deleted {} (a restore test's)", at(t))}</p> })}
            {r.message.clone().map(|m| view! { <p class="prose">{m}</p> })}
            {r.next.clone().map(|n| view! { <p class="hint">{n}</p> })}
        </div>
    }
}

/// A task's progress in words (restore, restore test, pointing the platform at a cluster).
fn progress_text(w: &WorkProgress) -> String {
    match w.stage.as_str() {
        "restoring" => format!("AWS Backup is restoring: {}%", w.done),
        "instances" => format!("Making the cluster's instances: {} of {} available", w.done, w.total),
        "validating" => "Reading the database: schema version, job ledger, audit log…".to_string(),
        "cleaning" => format!("Deleting the test's resources: {} of {}", w.done, w.total),
        "worker" => format!("Restarting the worker: {} of {} replicas available", w.done, w.total),
        _ => "Checking the restored resource against its source…".to_string(),
    }
}

/// Points the platform at `cluster` once its name is typed: its data read first, then the
/// worker's secret and a restart.
#[component]
fn UseCluster(cluster: String, on_close: Callback<()>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let task = Task::<UseClusterResult>::new();
    let name = StoredValue::new(cluster.clone());
    let start = move || {
        let request = UseClusterRequest { cluster: name.get_value(), confirm: Some(task.typed.get_untracked()) };
        task.run("backup_use_cluster", json!(request), move || async move { ctx.reload_envs().await });
    };
    let ready = move || name.with_value(|n| task.typed.get().trim() == n);
    view! {
        <Dialog title=format!("Point the platform at {cluster}") id="use-cluster-dialog" alert=true wide=true on_close=on_close>
            <p>"Vigil reads the cluster's data (schema version, job ledger, audit log) and refuses if it does not validate. Then the worker's database secret is pointed at it and the worker restarts; this console follows. Deploys are refused while the platform runs on a restored cluster."</p>
            {task.fields("use-cluster", move || format!("Type {} to confirm", name.get_value()))}
            {move || task.done.get().map(|r| view! {
                <div id="use-cluster-result" data-cluster=r.cluster.clone()>
                    <p><span class="badge ok">"in use"</span>" "<span class="mono">{r.endpoint.clone()}</span>{format!(" (was {})", r.previous)}</p>
                    <ul class="prose">
                        {r.checks.iter().map(|c| view! { <li>{format!("{}: {} here, against {}", c.name.replace('_', " "), c.restored, c.source)}</li> }).collect_view()}
                        <li>{format!("Worker restarted: {}", r.worker)}</li>
                        <li>{format!("Secret {} points at it{}", r.secret, if r.console_follows { "; so does this console" } else { "" })}</li>
                    </ul>
                    {r.next.clone().map(|n| view! { <p class="hint">{n}</p> })}
                </div>
            })}
            {task.actions("use-cluster", "Point the platform here", "Switching…", ready, on_close, start)}
        </Dialog>
    }
}

/// Runs a restore test of every protected resource once the environment's name is typed.
#[component]
fn RestoreTest(on_close: Callback<()>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let env = StoredValue::new(ctx.current().map(|e| e.name).unwrap_or_default());
    let task = Task::<RestoreTestReport>::new();
    let start = move || {
        let request = RestoreTestRequest { components: vec![], confirm: Some(task.typed.get_untracked()) };
        task.run("backup_restore_test", json!(request), || async {});
    };
    let ready = move || env.with_value(|n| task.typed.get().trim() == n);
    view! {
        <Dialog title="Restore test".to_string() id="restore-test-dialog" alert=true wide=true on_close=on_close>
            <p>"The latest recovery point of Aurora and of the documents bucket is restored to a new, dated resource, validated (Aurora: schema version, job ledger and audit log rows over a connection), timed, then deleted. Resources cost money while the test runs."</p>
            {task.fields("restore-test", move || format!("Type {} to confirm", env.get_value()))}
            {move || task.done.get().map(|r| {
                let passed = r.passed().to_string();
                view! {
                    <div id="restore-test-result" data-passed=passed>
                        {r.tests.into_iter().map(|t| view! { <RestoreResult record=t/> }).collect_view()}
                        {r.skipped.into_iter().map(|(c, why)| view! { <p class="muted">{format!("Not tested: {c}: {why}")}</p> }).collect_view()}
                    </div>
                }
            })}
            {task.actions("restore-test", "Run the test", "Testing…", ready, on_close, start)}
        </Dialog>
    }
}

/// The restores made from this console: the RTO evidence.
#[component]
fn Restores() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let list = RwSignal::new(None::<Vec<RestoreRecord>>);
    let switching = RwSignal::new(None::<String>);
    let testing = RwSignal::new(false);
    let deployment = move || ctx.current().map(|e| e.deployment).unwrap_or_default();
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let load = move || {
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<Vec<RestoreRecord>>("backup_restores", json!({})).await {
                Ok(v) => {
                    error.set(None);
                    list.set(Some(v));
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    load();
    view! {
        <div class="row toolbar">
            <span class="muted">"Restores made from this console and restore tests; each one's measured time is evidence for the RTO"</span>
            <span class="spacer"></span>
            <button id="restore-test-open" on:click=move |_| testing.set(true)>"Run restore test…"</button>
            <button id="backup-restores-refresh" on:click=move |_| load() disabled=move || loading.get()>"Refresh"</button>
        </div>
        {move || deployment().get("db_cluster_stack").cloned().map(|stack| view! {
            <div class="banner" id="platform-moved">{format!("The platform runs on {}, not on its own {stack}: deploys are refused until it is pointed back.", deployment().get("db_cluster_id").cloned().unwrap_or_default())}
                " "<button id="use-cluster-back" on:click=move |_| switching.set(Some(stack.clone()))>{format!("Point back at {stack}…")}</button></div>
        })}
        <div class="panel">
            <AsyncState id="backup-restores-state" loading=loading.into() error=error.into()
                empty=Signal::derive(move || list.with(|l| l.as_ref().is_none_or(|v| v.is_empty())))
                empty_text="No restore has been made from this console yet.">
                {move || list.get().map(|v| view! {
                    <table id="backup-restores">
                        <thead><tr><th>"Started"</th><th>"State"</th><th>"From → to"</th><th>"Restore job"</th><th>"Until usable"</th><th>"RTO"</th><th></th></tr></thead>
                        <tbody>
                            {v.into_iter().map(|r| {
                                let in_use = deployment().get("db_cluster_id") == Some(&r.target);
                                let can_use = r.resource_type == "Aurora" && !r.test && r.passed() && !in_use;
                                let target = r.target.clone();
                                let badge = if r.passed() { "badge ok" } else if r.state == "failed" || matches!(r.state.as_str(), "restored" | "tested") { "badge bad" } else { "badge" };
                                view! {
                                <tr data-target=r.target.clone() data-state=r.state.clone() data-test=r.test.to_string() data-passed=r.passed().to_string()>
                                    <td class="nowrap">{at(r.started_ms)}</td>
                                    <td class="nowrap"><span class=badge>{r.state.clone()}</span>{r.test.then(|| view! { " "<span class="badge">"test"</span> })}
                                        {in_use.then(|| view! { " "<span class="badge ok">"in use"</span> })}</td>
                                    <td class="mono small-text breakable">{name_in(&r.source).to_string()}" → "{r.target.clone()}
                                        {r.next.clone().map(|n| view! { <div class="hint">{n}</div> })}</td>
                                    <td class="nowrap">{r.restore_seconds.map(minutes)}</td>
                                    <td class="nowrap">{r.total_seconds.map(minutes)}</td>
                                    <td class="nowrap">{r.rto_met.map(|m| if m { "met" } else { "missed" })}</td>
                                    <td class="nowrap">{can_use.then(|| view! {
                                        <button class="use-cluster" data-cluster=target.clone() on:click=move |_| switching.set(Some(target.clone()))>"Point the platform here…"</button>
                                    })}</td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                })}
            </AsyncState>
        </div>
        {move || switching.get().map(|c| view! { <UseCluster cluster=c on_close=Callback::new(move |_| { switching.set(None); load(); })/> })}
        {move || testing.get().then(|| view! { <RestoreTest on_close=Callback::new(move |_| { testing.set(false); load(); })/> })}
    }
}

fn check_badge(s: CheckStatus) -> (&'static str, &'static str) {
    match s {
        CheckStatus::Pass => ("pass", "badge ok"),
        CheckStatus::Warn => ("n/a", "badge"),
        CheckStatus::Fail => ("fail", "badge bad"),
    }
}

/// The compliance controls evaluated now: each with its parameters and per-resource evidence,
/// the account's frameworks beside them, and the exports.
#[component]
fn Compliance() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let report = RwSignal::new(None::<ComplianceReport>);
    let loading = RwSignal::new(false);
    let exporting = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let open = RwSignal::new(None::<String>);
    let load = move || {
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<ComplianceReport>("backup_compliance", json!({})).await {
                Ok(r) => {
                    error.set(None);
                    report.set(Some(r));
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    let export = move |format: &'static str| {
        exporting.set(true);
        spawn_local(async move {
            match ipc::call::<Option<ComplianceExport>>("export_backup_compliance", json!({ "format": format })).await {
                Ok(Some(x)) => ctx.toast(format!("Wrote {} (SHA-256 {}…, in the operator log)", x.path, &x.sha256[..12])),
                Ok(None) => {}
                Err(e) => ctx.error.set(Some(e)),
            }
            exporting.set(false);
        });
    };
    load();
    view! {
        <div class="row toolbar">
            <span class="muted">"AWS Backup Audit Manager's controls and the platform's own, evaluated now from AWS Backup (no AWS Config needed)"</span>
            <span class="spacer"></span>
            <button id="compliance-export-pdf" on:click=move |_| export("pdf") disabled=move || exporting.get() || loading.get()>"Export PDF…"</button>
            <button id="compliance-export-csv" on:click=move |_| export("csv") disabled=move || exporting.get() || loading.get()>"Export CSV…"</button>
            <button id="compliance-refresh" on:click=move |_| load() disabled=move || loading.get()>"Refresh"</button>
        </div>
        <AsyncState id="compliance-state" loading=loading.into() error=error.into()
            empty=Signal::derive(move || report.with(Option::is_none)) empty_text="Nothing evaluated yet.">
            {move || report.get().map(|r| view! {
                {(!r.problems.is_empty()).then(|| view! {
                    <div class="banner" role="alert" id="compliance-incomplete">
                        "Incomplete: some of AWS Backup could not be read, so some verdicts may be wrong:"
                        <ul>{r.problems.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}</ul>
                    </div>
                })}
                <p class="muted">{format!("{} resources, {} recovery points, {} vaults · evaluated {}", r.resources, r.recovery_points, r.vaults, at(r.checked_at_ms))}</p>
                <div class="panel">
                    <table id="compliance-controls">
                        <thead><tr><th>"Control"</th><th>"Parameters"</th><th>"Compliant"</th><th>"Status"</th></tr></thead>
                        {r.controls.into_iter().map(|c| {
                            let (label, class) = check_badge(c.status);
                            let id = c.id.clone();
                            let id2 = c.id.clone();
                            let toggle = move || open.update(|o| *o = if o.as_deref() == Some(id.as_str()) { None } else { Some(id.clone()) });
                            let toggle2 = toggle.clone();
                            let id3 = c.id.clone();
                            view! {
                                <tbody>
                                    <tr data-control=c.id.clone() data-status=label class="clickable" tabindex="0"
                                        aria-expanded=move || (open.get().as_deref() == Some(id3.as_str())).to_string()
                                        on:click=move |_| toggle() on:keydown=activates(toggle2)>
                                        <td>{c.title.clone()}<div class="mono small-text muted">{c.id.clone()}" · "{c.source.clone()}</div></td>
                                        <td class="mono small-text">{c.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")}</td>
                                        <td class="nowrap">{format!("{} of {}", c.evaluated - c.failing, c.evaluated)}</td>
                                        <td class="nowrap"><span class=class>{label}</span></td>
                                    </tr>
                                    {move || (open.get().as_deref() == Some(id2.as_str())).then(|| c.results.iter().map(|x| {
                                        let (l, cl) = check_badge(x.status);
                                        view! {
                                            <tr class="detail" data-resource=x.resource.clone() data-status=l>
                                                <td class="mono small-text breakable">{x.resource.clone()}<div class="muted">{x.kind.clone()}</div></td>
                                                <td colspan="2" class="prose">{x.evidence.clone()}</td>
                                                <td><span class=cl>{l}</span></td>
                                            </tr>
                                        }
                                    }).collect_view())}
                                </tbody>
                            }
                        }).collect_view()}
                    </table>
                </div>
                {(!r.frameworks.is_empty()).then(|| view! {
                    <div class="panel" id="compliance-frameworks">
                        <h2>"Backup Audit Manager frameworks"</h2>
                        <p class="muted">"Each framework control evaluated by Vigil with the framework's own parameters and scope."</p>
                        {r.frameworks.iter().map(|f| view! {
                            <h3>{f.name.clone()}<span class="muted">{format!(" · {}", f.status)}</span></h3>
                            <table data-framework=f.name.clone()>
                                <thead><tr><th>"Control"</th><th>"Parameters and scope"</th><th>"Vigil"</th></tr></thead>
                                <tbody>
                                    {f.controls.iter().map(|c| {
                                        let (label, class) = c.vigil.as_ref().map(|v| check_badge(v.status)).unwrap_or(("unknown", "badge"));
                                        view! {
                                            <tr data-control=c.name.clone() data-status=label>
                                                <td class="mono small-text">{c.name.clone()}</td>
                                                <td class="small-text">{c.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")}<div class="muted">{c.scope.clone()}</div></td>
                                                <td><span class=class>{label}</span></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }).collect_view()}
                    </div>
                })}
            })}
        </AsyncState>
    }
}

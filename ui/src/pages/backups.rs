//! Backups page: each platform component against the RPO (how it is protected, its newest
//! restorable moment, how what AWS Backup cannot protect is recovered), the vaults and plans with
//! each rule's next run; the backup, copy and restore jobs, failures with what they mean; the
//! recovery points (commands: backup_overview, backup_jobs, backup_points).

use crate::components::{AsyncState, Tabs};
use crate::ipc;
use crate::pages::metrics::local_time;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::backup::{BackupJobView, BackupOverview, RecoveryPointView};
use vigil_dto::deploy::CheckStatus;
use vigil_dto::ErrorInfo;

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
        [("coverage", "Coverage"), ("jobs", "Jobs"), ("points", "Recovery points")].map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    });
    view! {
        <h1>"Backups"</h1>
        <Tabs tabs=tabs selected=tab tab_prefix="backup-tab-" label="Backups">
            {move || match tab.get().as_str() {
                "jobs" => view! { <Jobs/> }.into_any(),
                "points" => view! { <Points/> }.into_any(),
                _ => view! { <Coverage/> }.into_any(),
            }}
        </Tabs>
    }
}

#[component]
fn Coverage() -> impl IntoView {
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
                            <thead><tr><th>"Component"</th><th>"Recovery"</th><th>"Detail"</th><th>"Protected by"</th><th>"Newest point"</th></tr></thead>
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
    }
}

const KINDS: [(&str, &str); 3] = [("backup", "Backup"), ("copy", "Copy"), ("restore", "Restore")];

#[component]
fn Jobs() -> impl IntoView {
    let kind = RwSignal::new("backup");
    let failed_only = RwSignal::new(false);
    let jobs = RwSignal::new(None::<Vec<BackupJobView>>);
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
                        <thead><tr><th>"Started"</th><th>"State"</th><th>"Resource"</th><th>"Took"</th><th>"Size"</th><th>"What it means"</th></tr></thead>
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
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                })}
            </AsyncState>
        </div>
    }
}

#[component]
fn Points() -> impl IntoView {
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
                        <thead><tr><th>"Created"</th><th>"Status"</th><th>"Resource"</th><th>"Size"</th><th>"Encryption"</th><th>"Deleted"</th></tr></thead>
                        <tbody>
                            {v.into_iter().map(|p| view! {
                                <tr data-point=p.arn.clone() data-status=p.status.clone()>
                                    <td class="nowrap">{at(p.created_ms)}</td>
                                    <td class="nowrap"><span class=job_badge(&p.status)>{p.status.clone()}</span></td>
                                    <td class="mono small-text breakable">{p.resource.clone()}<div class="muted">{p.resource_type.clone()}</div></td>
                                    <td class="nowrap">{size(p.size_bytes)}</td>
                                    <td>{if p.encrypted { "encrypted" } else { "not encrypted" }}</td>
                                    <td class="nowrap">{p.delete_at_ms.map(at).unwrap_or_else(|| "kept".into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                })}
            </AsyncState>
        </div>
    }
}

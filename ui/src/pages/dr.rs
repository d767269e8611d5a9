//! DR page: the bundle's runbooks, each with its last run (its result, RTO against the target,
//! its age) (dr_runbooks, dr_runs); a runbook's steps, its dry run against the live account
//! (dr_dry_run), and a drill or run said plainly against what it acts on (dr_start); the run's
//! progress, its approvals with the text typed (dr_approve), a paused run resumed (dr_resume);
//! the drill report through the save dialog (export_dr_report); who holds the DR lease, and a
//! stale one broken with the environment's name typed (dr_lease, dr_break_lease).

use crate::app::Ctx;
use crate::components::{activates, AsyncState, Dialog};
use crate::ipc;
use crate::pages::metrics::local_time;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::dr::{DrillReportFile, DryRunView, LeaseView, RunRequest, RunView, RunbookView};
use vigil_dto::{ErrorInfo, WorkProgress};

/// The platform's recovery targets.
const RTO_MS: i64 = 60 * 60_000;
const RPO_MS: i64 = 15 * 60_000;

fn minutes(secs: u64) -> String {
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min", secs.div_ceil(60))
    }
}

fn took(ms: i64) -> String {
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// How long ago, from the run's end (or start).
fn age(ms: i64) -> String {
    let secs = ((js_sys::Date::now() as i64 - ms) / 1000).max(0);
    match secs {
        s if s < 120 => "just now".into(),
        s if s < 7200 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

fn state_badge(state: &str) -> &'static str {
    match state {
        "succeeded" => "badge ok",
        "failed" => "badge bad",
        "paused" | "awaiting_approval" => "badge warn",
        _ => "badge",
    }
}

#[component]
pub fn DrPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let runbooks = RwSignal::new(Vec::<RunbookView>::new());
    let runs = RwSignal::new(Vec::<RunView>::new());
    let lease = RwSignal::new(None::<LeaseView>);
    let error = RwSignal::new(None::<ErrorInfo>);
    let loading = RwSignal::new(true);
    let open = RwSignal::new(None::<RunbookView>);
    let dry = RwSignal::new(None::<DryRunView>);
    let dry_busy = RwSignal::new(false);
    let confirm_start = RwSignal::new(None::<(String, bool)>);
    let run = RwSignal::new(None::<RunView>);
    let busy = RwSignal::new(false);
    let run_error = RwSignal::new(None::<ErrorInfo>);
    let progress = RwSignal::new(None::<WorkProgress>);
    let typed = RwSignal::new(String::new());
    let report = RwSignal::new(None::<DrillReportFile>);
    let breaking = RwSignal::new(false);
    let break_typed = RwSignal::new(String::new());

    let load = move || {
        loading.set(true);
        spawn_local(async move {
            match ipc::call0::<Vec<RunbookView>>("dr_runbooks").await {
                Ok(v) => {
                    error.set(None);
                    runbooks.set(v);
                }
                Err(e) => error.set(Some(e)),
            }
            if let Ok(v) = ipc::call0::<Vec<RunView>>("dr_runs").await {
                runs.set(v);
            }
            // The lease needs the platform's bucket: an environment without one has none to show.
            lease.set(ipc::call0::<Option<LeaseView>>("dr_lease").await.ok().flatten());
            loading.set(false);
        });
    };
    // Runs a command that drives a run (start, approve, resume), its progress shown.
    let drive = move |cmd: &'static str, args: serde_json::Value| {
        busy.set(true);
        run_error.set(None);
        progress.set(None);
        report.set(None);
        spawn_local(async move {
            match ipc::call_with_channel::<RunView, WorkProgress>(cmd, args, "onProgress", move |w| progress.set(Some(w))).await {
                Ok(r) => {
                    typed.set(String::new());
                    run.set(Some(r));
                }
                Err(e) => run_error.set(Some(e)),
            }
            busy.set(false);
            load();
        });
    };
    let dry_run = move |id: String| {
        dry_busy.set(true);
        dry.set(None);
        spawn_local(async move {
            match ipc::call::<DryRunView>("dr_dry_run", json!({ "request": RunRequest { runbook: id, ..Default::default() } })).await {
                Ok(d) => dry.set(Some(d)),
                Err(e) => ctx.error.set(Some(e)),
            }
            dry_busy.set(false);
        });
    };
    let write_report = move |id: String| {
        spawn_local(async move {
            match ipc::call::<Option<DrillReportFile>>("export_dr_report", json!({ "run": id })).await {
                Ok(Some(f)) => report.set(Some(f)),
                Ok(None) => {}
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    };
    let break_lease = move || {
        let confirm = break_typed.get_untracked();
        spawn_local(async move {
            match ipc::call::<LeaseView>("dr_break_lease", json!({ "confirm": confirm })).await {
                Ok(l) => {
                    ctx.toast(format!("Broke the stale DR lease of {} (held by {})", l.environment, l.holder));
                    breaking.set(false);
                    break_typed.set(String::new());
                    load();
                }
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    };
    load();

    let last_run = move |id: &str| runs.with(|v| v.iter().find(|r| r.runbook == id).cloned());
    let env_name = move || ctx.current().map(|e| e.name).unwrap_or_default();

    view! {
        <div class="row">
            <h1>"DR"</h1>
            <span class="spacer"></span>
            <span class="muted">"Failover runbooks from the signed bundle: dry-run them against the live account, drill them, keep the evidence."</span>
        </div>
        {move || lease.get().map(|l| view! {
            <div class="banner" role="status" id="dr-lease" data-stale=l.stale.to_string()>
                {format!("{} holds the DR lease: run {} of {} since {}{}", l.holder, l.run_id, l.runbook, l.acquired_at, if l.stale { " — stale: its console stopped renewing it" } else { "" })}
                {(l.stale && !ctx.read_only()).then(|| view! { " "<button class="small" id="dr-break-lease" on:click=move |_| breaking.set(true)>"Break the lease"</button> })}
            </div>
        })}
        {move || (busy.get() || run.with(Option::is_some) || run_error.with(Option::is_some)).then(|| {
            let r = run.get();
            view! {
                <div class="panel" id="dr-run" data-state=r.as_ref().map(|r| r.state.clone()).unwrap_or_else(|| "running".into())>
                    <div class="row">
                        <h2>{r.as_ref().map(|r| format!("{} — {}", r.title, r.id)).unwrap_or_else(|| "Starting…".into())}</h2>
                        <span class="spacer"></span>
                        {r.as_ref().map(|r| view! { <span class=state_badge(&r.state) id="dr-run-state">{r.state.clone()}</span> })}
                    </div>
                    {r.as_ref().map(|r| view! { <p class="muted">{r.target.clone()}</p> })}
                    {move || busy.get().then(|| progress.get().map(|w| view! {
                        <div id="dr-run-progress"><progress max=w.total.max(1).to_string() value=w.done.to_string()></progress>{format!(" {} of {} steps", w.done, w.total)}</div>
                    }))}
                    {move || run_error.get().map(|e| view! { <div class="banner" role="alert" id="dr-run-error">{ipc::describe(&e)}</div> })}
                    {r.clone().map(|r| view! {
                        <table id="dr-run-steps">
                            <tbody>
                                {r.steps.iter().map(|s| view! {
                                    <tr data-step=s.path.clone() data-state=s.state.clone()>
                                        <td class="nowrap"><span class=state_badge(match s.state.as_str() { "done" => "succeeded", o => o })>{s.state.clone()}</span></td>
                                        <td>{s.title.clone()}<div class="mono small-text muted">{s.path.clone()}</div></td>
                                        <td class="nowrap">{s.started_ms.zip(s.ended_ms).map(|(a, b)| took(b - a))}</td>
                                        <td class="small-text">{s.outputs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")}
                                            {s.confirmed_by.clone().map(|w| format!("confirmed by {w}"))}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    })}
                    {r.clone().and_then(|r| r.awaiting.clone().map(|a| {
                        let (id, expected, second) = (r.id.clone(), a.confirm.clone(), a.second);
                        view! {
                            <div class="approval" id="dr-approval">
                                <p><b>{format!("Approval: {}", a.step)}</b>" "{a.prompt.clone()}</p>
                                <label>{if a.second { "Type the one-time code the second person was given".to_string() } else { format!("Type {} to approve", a.confirm) }}
                                    <input id="dr-approve-confirm" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) disabled=move || busy.get()/></label>
                                <div class="form-actions">
                                    <button class="primary" id="dr-approve" disabled=move || busy.get() || if second { typed.get().trim().is_empty() } else { typed.get().trim() != expected }
                                        on:click=move |_| drive("dr_approve", json!({ "run": id.clone(), "confirm": typed.get_untracked() }))>"Approve"</button>
                                </div>
                            </div>
                        }
                    }))}
                    {r.clone().filter(|r| r.state == "paused").map(|r| {
                        let id = r.id.clone();
                        view! {
                            <div class="banner" role="alert" id="dr-paused">{r.paused.clone().unwrap_or_default()}
                                " "<button class="small" id="dr-resume" disabled=move || busy.get() on:click=move |_| drive("dr_resume", json!({ "run": id.clone() }))>"Resume"</button></div>
                        }
                    })}
                    {r.clone().filter(|r| r.state == "failed").map(|r| view! { <div class="banner" role="alert" id="dr-failed">{r.paused.clone().unwrap_or_default()}</div> })}
                    {r.clone().filter(|r| matches!(r.state.as_str(), "succeeded" | "failed")).map(|r| {
                        let id = r.id.clone();
                        let rto = r.rto_ms.map(|t| (took(t), t <= RTO_MS));
                        let rpo = r.rpo_ms.map(|t| (took(t), t <= RPO_MS));
                        view! {
                            <dl class="kv" id="dr-run-result">
                                <dt>"RTO"</dt><dd id="dr-rto">{match rto { Some((t, true)) => format!("{t} (target 60 min: met)"), Some((t, false)) => format!("{t} (target 60 min: NOT met)"), None => "not measured".into() }}</dd>
                                <dt>"RPO"</dt><dd id="dr-rpo">{match rpo { Some((t, true)) => format!("{t} (target 15 min: met)"), Some((t, false)) => format!("{t} (target 15 min: NOT met)"), None => "not measured".into() }}</dd>
                            </dl>
                            <div class="form-actions">
                                <button id="dr-report" on:click=move |_| write_report(id.clone())>{if r.drill { "Write the drill report" } else { "Write the run report" }}</button>
                                <button id="dr-run-close" on:click=move |_| { run.set(None); run_error.set(None); }>"Close"</button>
                            </div>
                        }
                    })}
                    {move || report.get().map(|f| view! {
                        <p id="dr-report-written">"Written " <span class="mono breakable">{f.path.clone()}</span> " · SHA-256 " <span class="mono" id="dr-report-sha">{f.sha256.clone()}</span></p>
                    })}
                </div>
            }
        })}
        <div class="panel">
            <AsyncState id="dr-state" empty_id="no-runbooks" loading=loading.into() error=error.into()
                empty=Signal::derive(move || runbooks.with(Vec::is_empty))
                empty_text=Signal::derive(|| "The bundle has no runbooks: deploy a newer bundle.".to_string())>
                <table id="runbooks-table">
                    <thead><tr><th>"Runbook"</th><th>"Expected"</th><th>"Data loss"</th><th>"Last run"</th><th>"RTO"</th><th>"When"</th></tr></thead>
                    <tbody>
                        {move || runbooks.get().into_iter().map(|r| {
                            let last = last_run(&r.id);
                            let (r1, r2) = (r.clone(), r.clone());
                            view! {
                                <tr class="clickable" tabindex="0" data-runbook=r.id.clone() on:click=move |_| { dry.set(None); open.set(Some(r1.clone())) }
                                    on:keydown=activates(move || open.set(Some(r2.clone())))>
                                    <td>{r.title.clone()}<div class="mono small-text muted">{r.id.clone()}{r.failback_of.clone().map(|f| format!(" · the failback of {f}"))}</div></td>
                                    <td class="nowrap">{minutes(r.expected_secs)}</td>
                                    <td>{r.data_loss.clone()}</td>
                                    <td class="last-run" data-state=last.as_ref().map(|l| l.state.clone()).unwrap_or_default()>
                                        {last.as_ref().map(|l| view! { <span class=state_badge(&l.state)>{l.state.clone()}</span>{l.drill.then(|| " drill")} }.into_any()).unwrap_or_else(|| view! { <span class="muted">"never"</span> }.into_any())}
                                    </td>
                                    <td class="nowrap">{last.as_ref().and_then(|l| l.rto_ms).map(|t| {
                                        let met = t <= RTO_MS;
                                        view! { <span class=if met { "badge ok" } else { "badge bad" }>{took(t)}</span> }
                                    })}</td>
                                    <td class="nowrap">{last.as_ref().map(|l| age(l.ended_ms.unwrap_or(l.started_ms)))}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </AsyncState>
        </div>
        {move || open.get().map(|r| {
            let (id1, id2, id3) = (r.id.clone(), r.id.clone(), r.id.clone());
            view! {
                <Dialog title=r.title.clone() id="runbook-dialog" wide=true on_close=Callback::new(move |_| open.set(None))>
                    <p class="muted">{r.summary.clone()}</p>
                    <p class="mono small-text">{format!("{} {} · {} · SHA-256 {}", r.id, r.version, r.file, &r.sha256[..16])}</p>
                    <p>{format!("Expected {} · data loss: {}", minutes(r.expected_secs), r.data_loss)}</p>
                    <ol class="steps" id="runbook-steps">
                        {r.steps.iter().map(|s| view! {
                            <li data-step=s.id.clone()>
                                <b>{s.title.clone()}</b>" "<span class="muted">{format!("({}, {})", s.kind, minutes(s.typical_secs))}</span>
                                {s.destructive.then(|| view! { " "<span class="badge bad">"destructive"</span> })}
                                <div class="mono small-text">{s.does.clone()}</div>
                                {s.prechecks.iter().map(|c| view! { <div class="mono small-text muted">{format!("precheck {c}")}</div> }).collect_view()}
                                {s.verifications.iter().map(|c| view! { <div class="mono small-text muted">{format!("then {c}")}</div> }).collect_view()}
                                {s.rollback.clone().map(|c| view! { <div class="mono small-text muted">{format!("rollback {c}")}</div> })}
                            </li>
                        }).collect_view()}
                    </ol>
                    {move || dry.get().map(|d| view! {
                        <div id="dry-run" data-ready=d.ready.to_string()>
                            <h3>{if d.ready { "Dry run: ready" } else { "Dry run: NOT ready" }}</h3>
                            <table class="checks">
                                <tbody>
                                    {d.checks.iter().map(|c| view! {
                                        <tr data-ok=c.check.ok.to_string() data-phase=c.check.phase.clone()>
                                            <td><span class=if !c.check.ok { "badge bad" } else if c.check.phase == "deferred" { "badge" } else { "badge ok" }>
                                                {if !c.check.ok { "fail" } else if c.check.phase == "deferred" { "later" } else { "pass" }}</span></td>
                                            <td class="mono small-text">{format!("{}{}", if c.step.is_empty() { String::new() } else { format!("{}: ", c.step) }, c.check.check)}</td>
                                            <td>{c.check.detail.clone()}{c.check.fix.clone().filter(|_| !c.check.ok).map(|f| view! { <div class="muted">{format!("fix: {f}")}</div> })}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })}
                    <div class="form-actions">
                        <button id="runbook-dry-run" disabled=move || dry_busy.get() on:click=move |_| dry_run(id1.clone())>
                            {move || if dry_busy.get() { "Checking…" } else { "Dry run" }}</button>
                        {(!ctx.read_only()).then(|| view! {
                            <button id="runbook-drill" on:click=move |_| confirm_start.set(Some((id2.clone(), true)))>"Run drill"</button>
                            <button id="runbook-run" on:click=move |_| confirm_start.set(Some((id3.clone(), false)))>"Run"</button>
                        })}
                        <button id="runbook-close" on:click=move |_| open.set(None)>"Close"</button>
                    </div>
                </Dialog>
            }
        })}
        {move || confirm_start.get().map(|(id, drill)| {
            let id2 = id.clone();
            let target = dry.get().filter(|d| d.runbook == id).map(|d| d.target);
            view! {
                <Dialog title=if drill { "Run a drill".to_string() } else { "Run the runbook".to_string() } id="confirm-run-dialog" alert=true on_close=Callback::new(move |_| confirm_start.set(None))>
                    <p id="run-target"><b>{target.clone().map(|t| format!("It acts on {t}.")).unwrap_or_else(|| format!("It acts on the platform of environment {}. Run a dry run first to see what that is.", env_name()))}</b></p>
                    <p>{format!("{id} takes the DR lease; every step that changes the platform waits for its approval, typed.")}</p>
                    {drill.then(|| view! { <p class="muted">"A drill is measured against RTO and RPO and its report kept as evidence."</p> })}
                    <div class="form-actions">
                        <button id="cancel-run" on:click=move |_| confirm_start.set(None)>"Cancel"</button>
                        <button class="primary" id="start-run" on:click=move |_| {
                            confirm_start.set(None);
                            open.set(None);
                            drive("dr_start", json!({ "request": RunRequest { runbook: id2.clone(), drill, ..Default::default() } }));
                        }>{if drill { "Start the drill" } else { "Start" }}</button>
                    </div>
                </Dialog>
            }
        })}
        <div class="panel">
            <h2>"Runs"</h2>
            {move || runs.with(Vec::is_empty).then(|| view! { <p class="muted" id="no-runs">"No runbook has run on this environment."</p> })}
            <table id="runs-table">
                <tbody>
                    {move || runs.get().into_iter().map(|r| {
                        let r2 = r.clone();
                        view! {
                            <tr class="clickable" tabindex="0" data-run=r.id.clone() data-state=r.state.clone() on:click=move |_| { report.set(None); run.set(Some(r2.clone())) }>
                                <td class="nowrap">{local_time(r.started_ms / 1000)}</td>
                                <td>{r.title.clone()}{r.drill.then(|| " (drill)")}</td>
                                <td><span class=state_badge(&r.state)>{r.state.clone()}</span></td>
                                <td class="nowrap">{r.rto_ms.map(took)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || breaking.get().then(|| view! {
            <Dialog title="Break the DR lease".to_string() id="break-lease-dialog" alert=true on_close=Callback::new(move |_| breaking.set(false))>
                <p>"Break it only if the console that held it has stopped for good: its run is left where its journal stands."</p>
                <label>{move || format!("Type {} to break the lease", env_name())}
                    <input id="break-lease-confirm" prop:value=move || break_typed.get() on:input=move |ev| break_typed.set(event_target_value(&ev))/></label>
                <div class="form-actions">
                    <button id="cancel-break" on:click=move |_| breaking.set(false)>"Cancel"</button>
                    <button class="primary" id="confirm-break" disabled=move || break_typed.get().trim() != env_name() on:click=move |_| break_lease()>"Break the lease"</button>
                </div>
            </Dialog>
        })}
    }
}

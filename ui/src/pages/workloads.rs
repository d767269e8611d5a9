//! The Services page's workloads: each platform service's Deployment — rollout state and the
//! actual cause of a stuck one (read again every few seconds while it rolls out), history with
//! rollback, pods with their zone and own /readyz,
//! restart and scale (typed confirmation) — the namespace's events (watched while the page is
//! open, captured by Vigil), and the pods' logs, a window or followed live (commands:
//! eks_workloads, eks_act, eks_watch_events, eks_logs, eks_follow_logs, cancel_task).

use crate::app::Ctx;
use crate::components::{AsyncState, Dialog};
use crate::ipc;
use crate::pages::metrics::when;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::eks::{KubeEvent, LogLine, ServiceWorkload, WorkloadAction, WorkloadChange, Workloads};
use vigil_dto::{ErrorInfo, WorkProgress};

/// How often the workloads are read again while a rollout is under way.
const ROLLING_REFRESH_SECS: u64 = 5;

/// Lines kept in the log view.
const LOG_LINES: usize = 2000;

fn state_class(state: &str) -> &'static str {
    match state {
        "rolled_out" => "badge ok",
        "progressing" => "badge warn",
        _ => "badge bad",
    }
}

fn state_text(w: &ServiceWorkload) -> String {
    match w.state.as_str() {
        "rolled_out" => "rolled out".into(),
        "progressing" => format!("rolling out: {}", w.waiting_for.clone().unwrap_or_default()),
        _ => "stuck".into(),
    }
}

fn describe(a: &WorkloadAction) -> String {
    match a {
        WorkloadAction::Restart => "Restart the worker: every pod is replaced, one at a time".into(),
        WorkloadAction::Rollback { revision } => format!("Roll the worker back to revision {revision}: its pods are replaced by that revision's"),
        WorkloadAction::Scale { replicas } => format!("Scale the worker to {replicas} replicas"),
    }
}

fn cancel(task: Option<u64>) {
    if let Some(task) = task {
        spawn_local(async move {
            let _ = ipc::call::<bool>("cancel_task", json!({ "task": task })).await;
        });
    }
}

#[component]
pub fn WorkloadsSection() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let data = RwSignal::new(None::<Workloads>);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let pending = RwSignal::new(None::<WorkloadAction>);
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let scale_to = RwSignal::new(String::new());
    let watch_task = RwSignal::new(None::<u64>);
    let watch_note = RwSignal::new(None::<String>);
    // Bumped to read the workloads again on their own while a rollout is under way.
    let again = RwSignal::new(0u32);

    let load = move || {
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<Workloads>("eks_workloads", json!({})).await {
                Ok(v) => {
                    error.set(None);
                    if let Some(w) = v.services.first() {
                        scale_to.set(w.desired.to_string());
                    }
                    if v.services.iter().any(|s| s.state == "progressing") {
                        // Gone by then (another page): the bump is dropped.
                        set_timeout(
                            move || {
                                let _ = again.try_update(|n| *n += 1);
                            },
                            std::time::Duration::from_secs(ROLLING_REFRESH_SECS),
                        );
                    }
                    data.set(Some(v));
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    Effect::new(move |first: Option<()>| {
        again.track();
        if first.is_some() {
            load();
        }
    });
    // New events while the page is open, captured by the shell as they come.
    let watch = move || {
        spawn_local(async move {
            let mine = std::rc::Rc::new(std::cell::Cell::new(0u64));
            let mine2 = mine.clone();
            let on_event = ipc::channel(move |e: KubeEvent| {
                data.update(|d| {
                    if let Some(d) = d {
                        d.events.retain(|x| !(x.object == e.object && x.reason == e.reason && x.message == e.message));
                        d.events.insert(0, e);
                    }
                })
            });
            let on_progress = ipc::channel(move |p: WorkProgress| {
                mine2.set(p.task);
                watch_task.set(Some(p.task));
            });
            let r = ipc::call_with_channels::<()>("eks_watch_events", json!({}), vec![("onEvent", on_event), ("onProgress", on_progress)]).await;
            // A newer watch (another environment) may have taken the slot meanwhile.
            let _ = watch_task.try_update(|t| {
                if *t == Some(mine.get()) {
                    *t = None;
                }
            });
            if let Err(e) = r {
                let _ = watch_note.try_set(Some(format!("Events are not being watched: {}", ipc::describe(&e))));
            }
        });
    };
    Effect::new(move |_| {
        ctx.current();
        data.set(None);
        cancel(watch_task.get_untracked());
        load();
        watch();
    });
    on_cleanup(move || cancel(watch_task.try_get_untracked().flatten()));

    let act = move || {
        let Some(action) = pending.get_untracked() else { return };
        busy.set(true);
        spawn_local(async move {
            match ipc::call::<WorkloadChange>("eks_act", json!({ "action": action, "confirm": typed.get_untracked() })).await {
                Ok(c) => {
                    ctx.toast(format!("{}: {} (in the operator log)", c.deployment, c.summary));
                    pending.set(None);
                    load();
                }
                Err(e) => ctx.error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let ask = move |a: WorkloadAction| {
        typed.set(String::new());
        pending.set(Some(a));
    };
    let env_name = move || ctx.current().map(|e| e.name).unwrap_or_default();

    view! {
        <div class="row">
            <h2>"Workloads"</h2>
            <span class="spacer"></span>
            <button id="workloads-refresh" on:click=move |_| load() disabled=move || loading.get()>
                {move || if loading.get() { "Loading…" } else { "Refresh workloads" }}
            </button>
        </div>
        <AsyncState id="workloads-state" loading=loading.into() error=error.into()
            empty=Signal::derive(move || data.with(Option::is_none)) empty_text="No workloads read yet.">
            {move || data.get().map(|d| view! {
                {d.services.iter().cloned().map(|w| view! { <ServicePanel w=w ask=Callback::new(ask) scale_to=scale_to/> }).collect_view()}
                <div class="panel" id="events">
                    <div class="row">
                        <h2>"Kubernetes events"</h2>
                        <span class="spacer"></span>
                        <span class="muted" id="events-watch">{move || match (watch_task.get(), watch_note.get()) {
                            (Some(_), _) => "watching: new events appear as they come".to_string(),
                            (None, Some(n)) => n,
                            (None, None) => String::new(),
                        }}</span>
                    </div>
                    <p class="muted">{format!("Namespace {}. EKS keeps events about an hour; Vigil keeps those it has seen.", d.namespace)}</p>
                    <table id="events-table">
                        <thead><tr><th>"When"</th><th>"Type"</th><th>"Reason"</th><th>"Object"</th><th>"Message"</th><th>"Count"</th></tr></thead>
                        <tbody>{d.events.iter().map(|e| view! {
                            <tr data-reason=e.reason.clone() data-in-cluster=e.in_cluster.to_string()>
                                <td class="nowrap">{when(&e.time)}{(!e.in_cluster).then(|| view! { " "<span class="badge" title="The cluster no longer keeps it: Vigil captured it">"captured"</span> })}</td>
                                <td><span class=if e.kind == "Warning" { "badge warn" } else { "badge" }>{e.kind.clone()}</span></td>
                                <td>{e.reason.clone()}</td>
                                <td class="mono breakable">{e.object.clone()}</td>
                                <td class="prose">{e.message.clone()}</td>
                                <td>{e.count}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                    {d.events.is_empty().then(|| view! { <p class="muted" id="no-events">"No events seen in the namespace yet."</p> })}
                </div>
            })}
        </AsyncState>
        <LogsPanel/>
        {move || pending.get().map(|a| view! {
            <Dialog title="Change the worker".to_string() id="workload-confirm-dialog" alert=true on_close=Callback::new(move |_| pending.set(None))>
                <p>{describe(&a)}"."</p>
                <p class="muted">"It goes to the operator log."</p>
                <label>{move || format!("Type {} to confirm", env_name())}
                    <input id="workload-confirm" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) disabled=move || busy.get()/></label>
                <div class="form-actions">
                    <button id="workload-cancel" on:click=move |_| pending.set(None)>"Cancel"</button>
                    <button class="primary" id="workload-confirm-go" disabled=move || busy.get() || typed.get().trim() != env_name() on:click=move |_| act()>
                        {move || if busy.get() { "Working…" } else { "Confirm" }}</button>
                </div>
            </Dialog>
        })}
    }
}

#[component]
fn ServicePanel(w: ServiceWorkload, ask: Callback<WorkloadAction>, scale_to: RwSignal<String>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let bounds = match (w.min_replicas, w.max_replicas) {
        (Some(lo), Some(hi)) => format!("the tier allows {lo} to {hi}"),
        _ => "no bounds deployed".into(),
    };
    let (lo, hi) = (w.min_replicas, w.max_replicas);
    let scale = move |_| {
        let Ok(n) = scale_to.get_untracked().trim().parse::<i32>() else {
            ctx.toast("Type a number of replicas".to_string());
            return;
        };
        ask.run(WorkloadAction::Scale { replicas: n });
    };
    view! {
        <div class="panel" id=format!("workload-{}", w.service) data-service=w.service.clone()>
            <h2><span class="mono">{w.deployment.clone()}</span>" "
                <span class=state_class(&w.state) id="rollout-state" data-state=w.state.clone()>{state_text(&w)}</span></h2>
            <dl class="kv">
                <dt>"Revision"</dt><dd id="current-revision">{w.revision.map(|r| r.to_string()).unwrap_or_else(|| "—".into())}
                    <span class="mono muted">{format!(" {}", w.images.join(", "))}</span></dd>
                <dt>"Replicas"</dt><dd id="replicas">{format!("{} ready, {} available, {} updated of {} desired", w.ready, w.available, w.updated, w.desired)}
                    <span class="muted">{format!(" ({bounds})")}</span></dd>
            </dl>
            {w.failed.clone().map(|f| view! { <p class="muted" id="rollout-failed">{format!("Kubernetes: {f}")}</p> })}
            {w.cause.clone().map(|c| view! {
                <div class="callout bad" id="rollout-cause" data-kind=c.kind.clone()>
                    <strong>{match c.kind.as_str() {
                        "image_pull" => "The image cannot be pulled",
                        "crash_loop" => "The container keeps crashing",
                        "config" => "The container's configuration is missing",
                        "unschedulable" => "No node can take the pod",
                        _ => "The pod runs but is not ready",
                    }}</strong>
                    <div class="mono breakable">{format!("{}: {}", c.pod, c.detail)}</div>
                    <div class="hint">{c.hint.clone()}</div>
                </div>
            })}
            <div class="row toolbar">
                <button id="restart-worker" disabled=move || ctx.read_only() on:click=move |_| ask.run(WorkloadAction::Restart)>"Restart"</button>
                <label class="inline">"Replicas "
                    <input id="scale-replicas" type="number" min=lo.unwrap_or(1).to_string() max=hi.unwrap_or(100).to_string() prop:value=move || scale_to.get()
                        on:input=move |ev| scale_to.set(event_target_value(&ev))/></label>
                <button id="scale-worker" disabled=move || ctx.read_only() on:click=scale>"Scale"</button>
            </div>
            <h3>"Rollout history"</h3>
            <table id="history-table">
                <thead><tr><th>"Revision"</th><th>"Image"</th><th>"What changed"</th><th>"Created"</th><th>"Pods"</th><th></th></tr></thead>
                <tbody>{w.history.iter().map(|r| {
                    let rev = r.revision;
                    view! {
                        <tr data-revision=r.revision.to_string() data-current=r.current.to_string()>
                            <td>{r.revision}{r.current.then(|| view! { " "<span class="badge ok">"current"</span> })}</td>
                            <td class="mono breakable">{r.images.join(", ")}</td>
                            <td class="prose">{r.changes.join("; ")}</td>
                            <td class="nowrap">{r.created.as_deref().map(when)}</td>
                            <td>{format!("{} ({} ready)", r.replicas, r.ready)}</td>
                            <td>{(!r.current).then(|| view! {
                                <button class="rollback" id=format!("rollback-{rev}") disabled=move || ctx.read_only()
                                    on:click=move |_| ask.run(WorkloadAction::Rollback { revision: rev })>"Roll back to this"</button>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
            <h3>"Pods"</h3>
            <table id="pods-table">
                <thead><tr><th>"Pod"</th><th>"Revision"</th><th>"Status"</th><th>"Restarts"</th><th>"Node (zone)"</th><th>"Started"</th><th>"/readyz"</th></tr></thead>
                <tbody>{w.pods.iter().map(|p| view! {
                    <tr data-pod=p.name.clone() data-ready=p.ready.to_string()>
                        <td class="mono breakable">{p.name.clone()}</td>
                        <td>{p.revision.map(|r| r.to_string())}</td>
                        <td><span class=if p.ready { "badge ok" } else { "badge bad" }>{if p.ready { "ready".to_string() } else { p.phase.to_lowercase() }}</span>
                            {p.problem.clone().map(|x| view! { <div class="muted prose">{x}</div> })}</td>
                        <td>{p.restarts}</td>
                        <td class="mono breakable">{p.node.clone().unwrap_or_else(|| "not scheduled".into())}
                            <span class="muted">{p.zone.clone().map(|z| format!(" ({z})"))}</span></td>
                        <td class="nowrap">{p.started.as_deref().map(when)}</td>
                        <td class="readyz">{p.readyz.clone().map(|(code, body)| view! {
                            <span class=if code == 200 { "badge ok" } else { "badge bad" }>{code}</span>" "<span class="mono small-text breakable">{body}</span>
                        })}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        </div>
    }
}

#[component]
fn LogsPanel() -> impl IntoView {
    let lines = RwSignal::new(Vec::<LogLine>::new());
    let window = RwSignal::new("900".to_string());
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let follow_task = RwSignal::new(None::<u64>);
    let following = RwSignal::new(false);

    let show = move || {
        loading.set(true);
        spawn_local(async move {
            let since = window.get_untracked().parse::<i64>().ok();
            match ipc::call::<Vec<LogLine>>("eks_logs", json!({ "sinceSeconds": since, "tail": 500 })).await {
                Ok(v) => {
                    error.set(None);
                    lines.set(v);
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    let follow = move || {
        following.set(true);
        spawn_local(async move {
            let on_line = ipc::channel(move |l: LogLine| {
                lines.update(|v| {
                    v.push(l);
                    if v.len() > LOG_LINES {
                        v.drain(..v.len() - LOG_LINES);
                    }
                })
            });
            let on_progress = ipc::channel(move |p: WorkProgress| follow_task.set(Some(p.task)));
            let r =
                ipc::call_with_channels::<()>("eks_follow_logs", json!({ "tail": 20 }), vec![("onLine", on_line), ("onProgress", on_progress)]).await;
            let _ = following.try_set(false);
            let _ = follow_task.try_set(None);
            if let Err(e) = r {
                let _ = error.try_set(Some(e));
            }
        });
    };
    on_cleanup(move || cancel(follow_task.try_get_untracked().flatten()));

    view! {
        <div class="panel" id="logs">
            <div class="row">
                <h2>"Worker logs"</h2>
                <span class="spacer"></span>
                <label class="inline">"Last "
                    <select id="logs-window" on:change=move |ev| window.set(event_target_value(&ev)) prop:value=move || window.get()>
                        <option value="300">"5 minutes"</option>
                        <option value="900">"15 minutes"</option>
                        <option value="3600">"hour"</option>
                        <option value="86400">"day"</option>
                    </select></label>
                <button id="logs-show" on:click=move |_| show() disabled=move || loading.get() || following.get()>"Show"</button>
                {move || if following.get() {
                    view! { <button id="logs-stop" on:click=move |_| cancel(follow_task.get_untracked())>"Stop"</button> }.into_any()
                } else {
                    view! { <button id="logs-follow" on:click=move |_| follow()>"Follow live"</button> }.into_any()
                }}
            </div>
            <p class="muted">"Every pod of the worker's Deployment, merged in time order."</p>
            {move || error.get().map(|e| view! { <p class="error" id="logs-error">{ipc::describe(&e)}</p> })}
            <pre class="logs" id="log-lines" data-following=move || following.get().to_string() data-lines=move || lines.with(Vec::len).to_string()>{move || lines.with(|v| {
                v.iter().map(|l| format!("{} {} {}\n", l.time, l.pod, l.text)).collect::<String>()
            })}</pre>
        </div>
    }
}

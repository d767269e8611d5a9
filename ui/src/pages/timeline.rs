//! Timeline page: what happened to the current environment's platform, newest first, from
//! CloudFormation, EKS, the worker's rollouts, runbook runs and alarms; a window and the
//! sources to show; each source that could not be read named with why (command: timeline).

use crate::ipc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::{ErrorInfo, Timeline};

const WINDOWS: [(i64, &str); 4] = [(6, "6 hours"), (24, "24 hours"), (24 * 7, "7 days"), (24 * 30, "30 days")];
const SOURCES: [(&str, &str); 5] =
    [("cloudformation", "CloudFormation"), ("eks", "EKS updates"), ("rollout", "Rollouts"), ("runbook", "Runbooks"), ("alarm", "Alarms")];

fn level_class(level: &str) -> &'static str {
    match level {
        "ok" => "badge ok",
        "warn" => "badge warn",
        "bad" => "badge bad",
        _ => "badge",
    }
}

#[component]
pub fn TimelinePage() -> impl IntoView {
    let hours = RwSignal::new(24i64);
    let shown = RwSignal::new(SOURCES.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>());
    let timeline = RwSignal::new(None::<Timeline>);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);

    let load = move || {
        loading.set(true);
        let h = hours.get_untracked();
        spawn_local(async move {
            match ipc::call::<Timeline>("timeline", json!({ "hours": h })).await {
                Ok(t) => {
                    error.set(None);
                    timeline.set(Some(t));
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    load();

    view! {
        <div class="row">
            <h1>"Timeline"</h1>
            <span class="spacer"></span>
            <label>"Since "
                <select id="timeline-since" on:change=move |ev| { hours.set(event_target_value(&ev).parse().unwrap_or(24)); load(); }>
                    {WINDOWS.iter().map(|(h, label)| view! { <option value=h.to_string() selected=*h == 24>{*label}</option> }).collect_view()}
                </select>
            </label>
            <button id="timeline-refresh" on:click=move |_| load() disabled=move || loading.get()>
                {move || if loading.get() { "Reading…" } else { "Refresh" }}</button>
        </div>
        <p class="muted">"CloudFormation events, EKS updates, the worker's rollouts, runbook steps and alarm state changes of this environment, newest first."</p>
        <div class="row" id="timeline-filters">
            {SOURCES.iter().map(|(s, label)| {
                let s = s.to_string();
                let key = s.clone();
                view! {
                    <label class="inline"><input type="checkbox" id=format!("timeline-show-{s}") prop:checked=move || shown.with(|v| v.contains(&key))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            let s = s.clone();
                            shown.update(|v| if on { if !v.contains(&s) { v.push(s) } } else { v.retain(|x| *x != s) });
                        }/>{*label}</label>
                }
            }).collect_view()}
        </div>
        {move || error.get().map(|e| view! { <div class="banner" role="alert" id="timeline-error">{ipc::describe(&e)}</div> })}
        <div id="timeline" data-state=move || if loading.get() { "loading" } else if error.with(Option::is_some) { "error" } else { "ready" }>
            {move || timeline.get().map(|t| {
                let visible: Vec<_> = t.entries.iter().filter(|e| shown.with(|v| v.contains(&e.source))).cloned().collect();
                let rows = visible.len().to_string();
                view! {
                    <ul id="timeline-sources" class="issues">
                        {t.sources.iter().filter(|s| s.error.is_some()).map(|s| view! {
                            <li data-source=s.name.clone()><span class="badge bad">{s.name.clone()}</span>" could not be read: "
                                {s.error.as_ref().map(ipc::describe)}</li>
                        }).collect_view()}
                    </ul>
                    <table id="timeline-table" data-rows=rows>
                        <thead><tr><th>"When (UTC)"</th><th>"Source"</th><th>"What"</th><th>"Happened"</th></tr></thead>
                        <tbody>{visible.into_iter().map(|e| view! {
                            <tr data-source=e.source.clone() data-level=e.level.clone()>
                                <td class="nowrap mono small-text">{e.at.replace('T', " ").trim_end_matches('Z').to_string()}</td>
                                <td><span class=level_class(&e.level)>{e.source.clone()}</span></td>
                                <td class="mono small-text breakable">{e.subject.clone()}</td>
                                <td>{e.what.clone()}{e.detail.clone().map(|d| view! { <div class="muted small-text">{d}</div> })}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                    {t.entries.is_empty().then(|| view! { <p class="muted" id="timeline-empty">{format!("Nothing happened since {}.", t.since)}</p> })}
                }
            })}
        </div>
    }
}

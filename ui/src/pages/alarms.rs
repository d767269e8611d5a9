//! Alarms page: the platform's CloudWatch alarms (metric and composite) grouped by component,
//! filtered by state, and one alarm's history (commands: list_alarms, alarm_history).

use crate::components::AsyncState;
use crate::ipc;
use crate::pages::metrics::when;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::{AlarmHistoryEntry, AlarmInfo, ErrorInfo};

const STATES: [(&str, &str); 4] = [("", "All"), ("ALARM", "In alarm"), ("INSUFFICIENT_DATA", "Insufficient data"), ("OK", "OK")];

fn state_class(state: &str) -> &'static str {
    match state {
        "ALARM" => "badge bad",
        "OK" => "badge ok",
        _ => "badge",
    }
}

#[component]
pub fn AlarmsPage() -> impl IntoView {
    let filter = RwSignal::new("");
    let alarms = RwSignal::new(None::<Vec<AlarmInfo>>);
    let loading = RwSignal::new(false);
    let selected = RwSignal::new(None::<String>);
    let history = RwSignal::new(None::<Vec<AlarmHistoryEntry>>);
    let history_error = RwSignal::new(None::<ErrorInfo>);
    let error = RwSignal::new(None::<ErrorInfo>);

    let load = move || {
        let state = Some(filter.get_untracked()).filter(|s| !s.is_empty());
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<Vec<AlarmInfo>>("list_alarms", json!({ "state": state })).await {
                Ok(v) => {
                    error.set(None);
                    alarms.set(Some(v));
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    Effect::new(move |_| {
        filter.track();
        load();
    });
    let open = move |name: String| {
        selected.set(Some(name.clone()));
        history.set(None);
        history_error.set(None);
        spawn_local(async move {
            match ipc::call::<Vec<AlarmHistoryEntry>>("alarm_history", json!({ "name": name })).await {
                Ok(v) => history.set(Some(v)),
                Err(e) => history_error.set(Some(e)),
            }
        });
    };

    let groups = move || {
        let list = alarms.get().unwrap_or_default();
        let mut comps: Vec<String> = vec![];
        for a in &list {
            if !comps.contains(&a.component) {
                comps.push(a.component.clone());
            }
        }
        comps.into_iter().map(|c| (c.clone(), list.iter().filter(|a| a.component == c).cloned().collect::<Vec<_>>())).collect::<Vec<_>>()
    };

    view! {
        <div class="row">
            <h1>"Alarms"</h1>
            <span class="spacer"></span>
            <span class="muted" id="alarm-count">{move || alarms.get().map(|v| {
                let firing = v.iter().filter(|a| a.state == "ALARM").count();
                format!("{} alarm{}, {firing} in alarm", v.len(), if v.len() == 1 { "" } else { "s" })
            })}</span>
        </div>
        <div class="row toolbar">
            <div class="segmented" role="group" aria-label="State">
                {STATES.iter().map(|(s, label)| view! {
                    <button id=format!("state-{}", if s.is_empty() { "all" } else { s }) aria-pressed=move || (filter.get() == *s).to_string()
                        on:click=move |_| filter.set(s)>{*label}</button>
                }).collect_view()}
            </div>
            <span class="spacer"></span>
            <button id="alarms-refresh" on:click=move |_| load() disabled=move || loading.get()>
                {move || if loading.get() { "Loading…" } else { "Refresh" }}
            </button>
        </div>
        <div class="panel">
            <AsyncState id="alarms-state" empty_id="no-alarms" loading=loading.into() error=error.into()
                empty=Signal::derive(move || alarms.with(|a| a.as_ref().is_none_or(|v| v.is_empty())))
                empty_text=Signal::derive(move || if filter.get().is_empty() {
                    "The environment has no CloudWatch alarms. The platform bundle defines them (deploy-bundles/cloudformation/alarms.yaml).".to_string()
                } else { "No alarm is in this state.".to_string() })>
                {move || alarms.get().map(|_| view! {
                        <table id="alarms-table">
                            <thead><tr><th>"State"</th><th>"Alarm"</th><th>"Watches"</th><th>"Reason"</th><th>"Since"</th><th></th></tr></thead>
                            {groups().into_iter().map(|(comp, list)| view! {
                                <tbody>
                                    <tr class="group"><td colspan="6">{comp}</td></tr>
                                    {list.into_iter().map(|a| {
                                        let name = a.name.clone();
                                        view! {
                                            <tr data-alarm=a.name.clone() data-state=a.state.clone()>
                                                <td class="nowrap"><span class=state_class(&a.state)>{a.state.clone()}</span></td>
                                                <td><div class="mono">{a.name.clone()}</div>
                                                    <div class="muted">{a.kind.clone()}{a.description.clone().map(|d| format!(" · {d}"))}</div></td>
                                                <td class="mono breakable">{a.watches.clone()}</td>
                                                <td class="prose">{a.reason.clone()}</td>
                                                <td class="nowrap">{a.state_changed_at.as_deref().map(when)}</td>
                                                <td class="actions"><button class="history" on:click=move |_| open(name.clone())>"History"</button></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            }).collect_view()}
                        </table>

                })}
            </AsyncState>
        </div>
        {move || selected.get().map(|name| view! {
            <div class="panel" id="alarm-history">
                <div class="row">
                    <h2>"History of "<span class="mono">{name}</span></h2>
                    <span class="spacer"></span>
                    <button on:click=move |_| selected.set(None)>"Close"</button>
                </div>
                <AsyncState id="history-state" loading=Signal::derive(move || history.with(Option::is_none)) error=history_error.into()
                    empty=Signal::derive(move || history.with(|h| h.as_ref().is_none_or(|v| v.is_empty())))
                    empty_text="No history recorded for this alarm.">
                    {move || history.get().map(|v| view! {
                        <table>
                            <thead><tr><th>"When"</th><th>"Kind"</th><th>"What happened"</th></tr></thead>
                            <tbody>{v.into_iter().map(|h| view! {
                                <tr><td class="nowrap">{when(&h.at)}</td><td>{h.kind}</td><td class="prose">{h.summary}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    })}
                </AsyncState>
            </div>
        })}
    }
}

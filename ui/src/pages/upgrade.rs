//! Services page, upgrade cockpit: pick the Kubernetes version, see what the upgrade does to
//! add-ons and node groups, the disruption budgets a drain meets, and what blocks it — before
//! anything starts; then the upgrade as the bundle's runbook, the cluster's name typed, its
//! steps and progress shown (commands: eks_upgrade_plan, eks_upgrade; a paused run is resumed
//! on the DR page).

use crate::app::Ctx;
use crate::components::Dialog;
use crate::ipc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::dr::RunView;
use vigil_dto::eks::{UpgradeIssue, UpgradePlan};
use vigil_dto::{ErrorInfo, WorkProgress};

fn issue_list(id: &'static str, issues: Vec<UpgradeIssue>) -> impl IntoView {
    view! {
        <ul id=id class="issues">
            {issues.into_iter().map(|i| view! {
                <li data-kind=i.kind.clone() data-subject=i.subject.clone()>
                    <span class="badge">{i.kind.clone()}</span>" "{i.detail.clone()}
                    <div class="hint">{i.fix.clone()}</div>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn UpgradeSection() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let plan = RwSignal::new(None::<UpgradePlan>);
    let error = RwSignal::new(None::<ErrorInfo>);
    let loading = RwSignal::new(false);
    let to = RwSignal::new(String::new());
    let asking = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let progress = RwSignal::new(None::<WorkProgress>);
    let run = RwSignal::new(None::<RunView>);
    let run_error = RwSignal::new(None::<ErrorInfo>);

    let load = move || {
        loading.set(true);
        let wanted = to.get_untracked();
        spawn_local(async move {
            let to_arg = (!wanted.is_empty()).then_some(wanted);
            match ipc::call::<UpgradePlan>("eks_upgrade_plan", json!({ "to": to_arg })).await {
                Ok(p) => {
                    to.set(p.to.clone());
                    error.set(None);
                    plan.set(Some(p));
                }
                Err(e) => {
                    plan.set(None);
                    error.set(Some(e));
                }
            }
            loading.set(false);
        });
    };
    let start = move || {
        let (version, confirm) = (to.get_untracked(), typed.get_untracked());
        asking.set(false);
        busy.set(true);
        run.set(None);
        run_error.set(None);
        progress.set(None);
        spawn_local(async move {
            let args = json!({ "to": version, "confirm": confirm });
            match ipc::call_with_channel::<RunView, WorkProgress>("eks_upgrade", args, "onProgress", move |w| progress.set(Some(w))).await {
                Ok(r) => {
                    if r.state == "succeeded" {
                        ctx.toast(format!("The cluster runs Kubernetes {version} now"));
                    }
                    run.set(Some(r));
                }
                Err(e) => run_error.set(Some(e)),
            }
            typed.set(String::new());
            busy.set(false);
            // From here, the cockpit looks at the next version again.
            to.set(String::new());
            load();
        });
    };
    load();

    view! {
        <div class="panel" id="upgrade" data-state=move || if loading.get() { "loading" } else if error.with(Option::is_some) { "error" } else { "ready" }>
            <div class="row">
                <h2>"Upgrade"</h2>
                <span class="spacer"></span>
                <label>"Kubernetes "
                    <select id="upgrade-to" on:change=move |ev| { to.set(event_target_value(&ev)); load(); } disabled=move || busy.get()>
                        {move || plan.get().map(|p| p.targets.iter().map(|t| view! { <option value=t.clone() selected=*t == p.to>{t.clone()}</option> }).collect_view())}
                    </select>
                </label>
                <button id="upgrade-check" on:click=move |_| load() disabled=move || loading.get() || busy.get()>
                    {move || if loading.get() { "Checking…" } else { "Check again" }}</button>
            </div>
            {move || error.get().map(|e| if e.kind == "newest" {
                view! { <p class="muted" id="upgrade-newest">{e.message.clone()}": nothing to upgrade to."</p> }.into_any()
            } else {
                view! { <div class="banner" role="alert" id="upgrade-error">{ipc::describe(&e)}</div> }.into_any()
            })}
            {move || plan.get().map(|p| {
                let blocked = !p.blockers.is_empty();
                let minutes = p.expected_secs.div_ceil(60);
                let before: Vec<String> = p.addons.iter().filter_map(|a| a.before.as_ref().map(|v| format!("{} {} → {v}", a.name, a.installed))).collect();
                let after: Vec<String> = p.addons.iter().filter_map(|a| a.after.as_ref().map(|v| format!("{} → {v}", a.name))).collect();
                let groups: Vec<String> = p.nodegroups.iter().map(|g| format!("{} ({} → {}, {} nodes)", g.name, g.version, p.to, g.desired)).collect();
                let or_none = |v: Vec<String>| if v.is_empty() { "none".to_string() } else { v.join(", ") };
                view! {
                    {if blocked {
                        view! { <div class="callout bad" id="upgrade-blocked">
                            <strong>{format!("{} thing{} block{} the upgrade from {} to {}", p.blockers.len(), if p.blockers.len() == 1 { "" } else { "s" },
                                if p.blockers.len() == 1 { "s" } else { "" }, p.from, p.to)}</strong>
                            {issue_list("upgrade-blockers", p.blockers.clone())}
                        </div> }.into_any()
                    } else {
                        view! { <p class="callout ok" id="upgrade-ready">{format!("Nothing blocks the upgrade from {} to {}: about {minutes} min as the {} runbook. The control plane cannot be moved back.", p.from, p.to, p.runbook)}</p> }.into_any()
                    }}
                    {(!p.warnings.is_empty()).then(|| view! { <h3>"To know"</h3>{issue_list("upgrade-warnings", p.warnings.clone())} })}
                    <table id="upgrade-steps">
                        <thead><tr><th>"Step"</th><th>"What changes"</th></tr></thead>
                        <tbody>
                            <tr data-step="addons-before"><td>"1. Add-ons that would not run on it"</td><td>{or_none(before)}</td></tr>
                            <tr data-step="control-plane"><td>"2. Control plane"</td><td>{format!("{} → {}", p.from, p.to)}</td></tr>
                            <tr data-step="addons-after"><td>"3. Add-ons to the new defaults"</td><td>{or_none(after)}</td></tr>
                            <tr data-step="nodegroups"><td>"4. Node groups, rolled"</td><td>{or_none(groups)}</td></tr>
                        </tbody>
                    </table>
                    <h3>"Pod disruption budgets"</h3>
                    <table id="budgets-table">
                        <thead><tr><th>"Budget"</th><th>"Evictions allowed"</th><th>"Healthy / wanted"</th><th>"Pods"</th></tr></thead>
                        <tbody>{p.budgets.iter().map(|b| view! {
                            <tr data-budget=format!("{}/{}", b.namespace, b.name) data-allowed=b.allowed.to_string()>
                                <td class="mono">{format!("{}/{}", b.namespace, b.name)}</td>
                                <td><span class={if b.allowed > 0 { "badge ok" } else { "badge bad" }}>{b.allowed}</span></td>
                                <td>{format!("{} / {}", b.healthy, b.desired)}</td>
                                <td class="mono small-text breakable">{b.pods.join(", ")}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                    <div class="form-actions">
                        <button class="primary" id="upgrade-start" disabled=move || blocked || busy.get() || ctx.read_only() on:click=move |_| asking.set(true)>
                            {format!("Upgrade to {}…", p.to)}</button>
                    </div>
                }
            })}
            {move || busy.get().then(|| view! {
                <div id="upgrade-progress">{move || progress.get().map(|w| view! {
                    <progress max=w.total.max(1).to_string() value=w.done.to_string()></progress>{format!(" {} of {} steps", w.done, w.total)}
                })}" Upgrading…"</div>
            })}
            {move || run_error.get().map(|e| view! { <div class="banner" role="alert" id="upgrade-run-error">{ipc::describe(&e)}</div> })}
            {move || run.get().map(|r| view! {
                <div id="upgrade-run" data-state=r.state.clone()>
                    <p><span class="badge">{r.state.clone()}</span>" "{format!("run {}", r.id)}
                        {r.paused.clone().map(|why| view! { <span class="muted">{format!(" — {why}; resume it on the DR page")}</span> })}</p>
                    <table id="upgrade-run-steps"><tbody>{r.steps.iter().map(|s| view! {
                        <tr data-step=s.path.clone() data-state=s.state.clone()>
                            <td class="nowrap">{s.state.clone()}</td><td>{s.title.clone()}</td>
                            <td class="small-text">{s.outputs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")}</td>
                        </tr>
                    }).collect_view()}</tbody></table>
                </div>
            })}
        </div>
        {move || asking.get().then(|| plan.get()).flatten().map(|p| {
            let expected = p.confirm.clone();
            view! {
                <Dialog title=format!("Upgrade {} to Kubernetes {}", p.cluster, p.to) id="upgrade-confirm-dialog" alert=true on_close=Callback::new(move |_| asking.set(false))>
                    <p>"The control plane moves to the new version and cannot be moved back; add-ons and node groups follow. It runs as the "
                        <span class="mono">{p.runbook.clone()}</span>" runbook, in the operator log."</p>
                    <label>{format!("Type {} to confirm", p.confirm)}
                        <input id="upgrade-confirm" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/></label>
                    <div class="form-actions">
                        <button id="upgrade-cancel" on:click=move |_| asking.set(false)>"Cancel"</button>
                        <button class="primary" id="upgrade-go" disabled=move || typed.get().trim() != expected on:click=move |_| start()>"Upgrade"</button>
                    </div>
                </Dialog>
            }
        })}
    }
}

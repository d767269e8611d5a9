//! Environments page: list, add, edit, remove (with confirmation and undo), make current, and
//! "Check connection" (commands: list/add/update/remove/select/check_environment, list_profiles).

use crate::app::{Ctx, Toast};
use crate::components::{AsyncState, Dialog};
use crate::ipc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use vigil_dto::{CheckReport, Credentials, DeploymentParameter, Environment, EnvironmentInput, ErrorInfo, ProfileList, KNOWN_REGIONS};

/// What the form is doing: adding, or editing the environment with this name.
#[derive(Clone, PartialEq)]
enum FormMode {
    Closed,
    Add,
    Edit(String),
}

fn credentials_value(c: &Credentials) -> String {
    match c {
        Credentials::DefaultChain => "default_chain".into(),
        Credentials::Emulator => "emulator".into(),
        Credentials::Profile { name } => format!("profile:{name}"),
    }
}

fn credentials_from(value: &str) -> Credentials {
    match value {
        "emulator" => Credentials::Emulator,
        v if v.starts_with("profile:") => Credentials::Profile { name: v["profile:".len()..].to_string() },
        _ => Credentials::DefaultChain,
    }
}

fn input_of(e: &Environment) -> EnvironmentInput {
    e.to_input()
}

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let mode = RwSignal::new(FormMode::Closed);
    let confirm_remove = RwSignal::new(None::<Environment>);
    let busy = RwSignal::new(None::<String>);
    let shown_check = RwSignal::new(None::<String>);

    let select = move |name: String| {
        spawn_local(async move {
            match ipc::call::<Environment>("select_environment", json!({ "name": name })).await {
                Ok(env) => {
                    ctx.reload_envs().await;
                    ctx.toast(format!("{} is now the current environment", env.name));
                    ctx.check(env.name).await;
                }
                Err(e) => ctx.error.set(Some(e)),
            }
        })
    };
    let check = move |name: String| {
        busy.set(Some(name.clone()));
        shown_check.set(Some(name.clone()));
        spawn_local(async move {
            ctx.check(name).await;
            busy.set(None);
        })
    };

    view! {
        <div class="row">
            <h1>"Environments"</h1>
            <span class="spacer"></span>
            <Show when=move || !ctx.read_only()>
                <button class="primary" id="add-env" on:click=move |_| mode.set(FormMode::Add)>"Add environment"</button>
            </Show>
        </div>
        {move || (mode.get() != FormMode::Closed).then(|| view! { <EnvForm mode=mode/> })}
        <div class="panel">
            <AsyncState id="envs-state" empty_id="no-envs" loading=Signal::derive(move || !ctx.envs_loaded.get()) error=ctx.envs_error.into()
                empty=Signal::derive(move || ctx.envs.with(Vec::is_empty))
                empty_text="No environments yet. Add one to point Vigil at an AWS account: pick a profile from your AWS config, a region, and optionally an endpoint.">
                {move || {
                    let envs = ctx.envs.get();
                    view! {
                        <table id="env-table">
                            <thead><tr>
                                <th>"Name"</th><th>"Region"</th><th>"Credentials"</th><th>"Endpoint"</th><th>"Status"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {envs.into_iter().map(|env| {
                                    let name = env.name.clone();
                                    let (n1, n2, n3, n4) = (name.clone(), name.clone(), name.clone(), name.clone());
                                    let env_for_remove = env.clone();
                                    view! {
                                        <tr data-env=name.clone() class:is-current=env.current>
                                            <td>
                                                <strong>{name.clone()}</strong>" "
                                                {env.current.then(|| view! { <span class="badge current">"current"</span> })}
                                            </td>
                                            <td class="nowrap">{env.region.clone()}</td>
                                            <td>{env.credentials.label()}</td>
                                            <td class="mono breakable">{env.endpoint_url.clone().unwrap_or_else(|| "AWS default".into())}</td>
                                            <td>{move || {
                                                if busy.get().as_deref() == Some(n1.as_str()) {
                                                    return view! { <span class="badge">"checking…"</span> }.into_any();
                                                }
                                                match ctx.check_of(&n1) {
                                                    Some(CheckReport { identity: Some(_), .. }) => view! { <span class="badge ok">"connected"</span> }.into_any(),
                                                    Some(_) => view! { <span class="badge bad">"failed"</span> }.into_any(),
                                                    None => view! { <span class="muted">"not checked"</span> }.into_any(),
                                                }
                                            }}</td>
                                            <td class="actions"><div class="actions-box">
                                                <button class="check-env" on:click=move |_| check(n2.clone())
                                                    disabled=move || busy.get().is_some()>"Check connection"</button>
                                                <button class="select-env" disabled=env.current on:click=move |_| select(n3.clone())>"Use"</button>
                                                {(!ctx.read_only()).then(|| view! {
                                                    <button class="edit-env" on:click=move |_| mode.set(FormMode::Edit(n4.clone()))>"Edit"</button>
                                                    <button class="remove-env danger" on:click=move |_| confirm_remove.set(Some(env_for_remove.clone()))>"Remove"</button>
                                                })}
                                            </div></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }
                }}
            </AsyncState>
            {move || {
                // The last one checked here, else the current environment's check from start-up.
                let name = shown_check.get().or_else(|| ctx.current().map(|e| e.name))?;
                ctx.check_of(&name).map(|c| view! { <CheckResult report=c/> })
            }}
        </div>
        {move || confirm_remove.get().map(|env| view! { <ConfirmRemove env=env confirm_remove=confirm_remove/> })}
    }
}

#[component]
fn CheckResult(report: CheckReport) -> impl IntoView {
    match (report.identity, report.error) {
        (Some(id), _) => view! {
            <div class="result ok" id="check-result" data-ok="true">
                <strong>{format!("{} is reachable", report.environment)}</strong>
                <dl>
                    <dt>"Account"</dt><dd class="mono account">{id.account}</dd>
                    <dt>"ARN"</dt><dd class="mono arn">{id.arn}</dd>
                    <dt>"Region"</dt><dd>{report.region}</dd>
                    <dt>"Endpoint"</dt><dd class="mono">{report.endpoint_url.unwrap_or_else(|| "AWS default".into())}</dd>
                    <dt>"Checked"</dt><dd>{report.checked_at}<span class="muted">{format!("  ·  operation {}", report.op_id)}</span></dd>
                </dl>
            </div>
        }
        .into_any(),
        (None, Some(e)) => view! {
            <div class="result bad" id="check-result" data-ok="false" data-kind=e.kind.clone()>
                <strong>{format!("{}: connection failed", report.environment)}</strong>
                <div>{e.message}</div>
                {e.hint.map(|h| view! { <div class="hint">"What to do: "<code>{h}</code></div> })}
            </div>
        }
        .into_any(),
        _ => ().into_any(),
    }
}

#[component]
fn ConfirmRemove(env: Environment, confirm_remove: RwSignal<Option<Environment>>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let name = env.name.clone();
    let remove = move |_| {
        let name = name.clone();
        confirm_remove.set(None);
        spawn_local(async move {
            match ipc::call::<Environment>("remove_environment", json!({ "name": name })).await {
                Ok(removed) => {
                    ctx.reload_envs().await;
                    let restore = removed.clone();
                    let undo: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
                        let restore = restore.clone();
                        spawn_local(async move { undo_remove(ctx, restore).await });
                    });
                    ctx.toast.set(Some(Toast { message: format!("Removed {}", removed.name), action: Some(("Undo".into(), undo)) }));
                }
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    };
    view! {
        <Dialog title=format!("Remove {}?", env.name) id="confirm-remove-dialog" alert=true on_close=Callback::new(move |_| confirm_remove.set(None))>
            <p>"Vigil forgets this environment's settings and its database password. Nothing in AWS is changed, and you can undo right after (the password is entered again)."</p>
            <p class="muted">{format!("{} · {}", env.region, env.credentials.label())}</p>
            <div class="row">
                <span class="spacer"></span>
                <button id="cancel-remove" on:click=move |_| confirm_remove.set(None)>"Cancel"</button>
                <button class="danger primary" id="confirm-remove" on:click=remove>"Remove"</button>
            </div>
        </Dialog>
    }
}

async fn undo_remove(ctx: Ctx, env: Environment) {
    match ipc::call::<Environment>("add_environment", json!({ "input": input_of(&env) })).await {
        Ok(_) => {
            if env.current {
                let _ = ipc::call::<Environment>("select_environment", json!({ "name": env.name })).await;
            }
            ctx.reload_envs().await;
            ctx.toast(format!("Restored {}", env.name));
        }
        Err(e) => ctx.error.set(Some(e)),
    }
}

#[component]
fn EnvForm(mode: RwSignal<FormMode>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let editing = match mode.get_untracked() {
        FormMode::Edit(name) => ctx.envs.with_untracked(|v| v.iter().find(|e| e.name == name).cloned()),
        _ => None,
    };
    let original = editing.as_ref().map(|e| e.name.clone());
    let name = RwSignal::new(editing.as_ref().map(|e| e.name.clone()).unwrap_or_default());
    let creds = RwSignal::new(editing.as_ref().map(|e| credentials_value(&e.credentials)).unwrap_or_else(|| "default_chain".into()));
    let region = RwSignal::new(editing.as_ref().map(|e| e.region.clone()).unwrap_or_default());
    let endpoint = RwSignal::new(editing.as_ref().and_then(|e| e.endpoint_url.clone()).unwrap_or_default());
    let deployment = RwSignal::new(editing.as_ref().map(|e| e.deployment.clone()).unwrap_or_default());
    // Edited on its own page (Audit → Database); kept as it is here.
    let editing_db = editing.as_ref().and_then(|e| e.platform_db.clone());
    let error = RwSignal::new(None::<ErrorInfo>);
    let saving = RwSignal::new(false);
    let profiles = RwSignal::new(None::<ProfileList>);
    let parameters = RwSignal::new(Vec::<DeploymentParameter>::new());
    spawn_local(async move {
        match ipc::call0::<ProfileList>("list_profiles").await {
            Ok(p) => profiles.set(Some(p)),
            Err(e) => error.set(Some(e)),
        }
        match ipc::call0::<Vec<DeploymentParameter>>("deployment_parameters").await {
            Ok(p) => parameters.set(p),
            Err(e) => error.set(Some(e)),
        }
    });
    let profile_note = move || {
        let value = creds.get();
        let name = value.strip_prefix("profile:")?.to_string();
        let list = profiles.get()?;
        let p = list.profiles.into_iter().find(|p| p.name == name)?;
        Some(view! {
            <div class="field-error muted">{p.detail.clone()}</div>
            {p.problems.into_iter().map(|m| view! { <div class="field-error problem">{m}</div> }).collect_view()}
        })
    };
    let is_edit = original.is_some();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = EnvironmentInput {
            name: name.get_untracked(),
            credentials: credentials_from(&creds.get_untracked()),
            region: region.get_untracked(),
            endpoint_url: Some(endpoint.get_untracked()).filter(|s| !s.trim().is_empty()),
            deployment: deployment.get_untracked(),
            platform_db: editing_db.clone(),
        };
        let original = original.clone();
        saving.set(true);
        spawn_local(async move {
            let result = match &original {
                Some(old) => ipc::call::<Environment>("update_environment", json!({ "name": old, "input": input })).await,
                None => ipc::call::<Environment>("add_environment", json!({ "input": input })).await,
            };
            saving.set(false);
            match result {
                Ok(env) => {
                    error.set(None);
                    mode.set(FormMode::Closed);
                    ctx.reload_envs().await;
                    ctx.toast(format!("Saved {}", env.name));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="panel">
            <h2>{if is_edit { "Edit environment" } else { "Add environment" }}</h2>
            <form class="grid" id="env-form" on:submit=save>
                <label for="env-name">"Name"</label>
                <input id="env-name" required placeholder="prod-eu" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
                <label for="env-credentials">"Credentials"</label>
                <select id="env-credentials" prop:value=move || creds.get() on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if let (Some(p), true) = (v.strip_prefix("profile:"), region.get_untracked().is_empty()) {
                        let r = profiles.with_untracked(|l| l.as_ref().and_then(|l| l.profiles.iter().find(|x| x.name == p).and_then(|x| x.region.clone())));
                        if let Some(r) = r { region.set(r); }
                    }
                    creds.set(v);
                }>
                    <option value="default_chain" selected=move || creds.get() == "default_chain">"Default credential chain"</option>
                    <option value="emulator" selected=move || creds.get() == "emulator">"Local emulator (fixed test keys)"</option>
                    {move || profiles.get().map(|l| l.profiles.into_iter().map(|p| {
                        let v = format!("profile:{}", p.name);
                        let v2 = v.clone();
                        view! { <option value=v selected=move || creds.get() == v2>{format!("Profile {} ({:?})", p.name, p.kind)}</option> }
                    }).collect_view())}
                </select>
                {profile_note}
                {move || profiles.get().and_then(|l| l.file_error).map(|e| view! { <div class="field-error">{e}</div> })}
                <label for="env-region">"Region"</label>
                <input id="env-region" required list="known-regions" placeholder="eu-west-1" prop:value=move || region.get()
                    on:input=move |ev| region.set(event_target_value(&ev))/>
                <datalist id="known-regions">
                    {KNOWN_REGIONS.iter().map(|r| view! { <option value=*r></option> }).collect_view()}
                </datalist>
                <label for="env-endpoint">"Endpoint URL"</label>
                <input id="env-endpoint" placeholder="optional, e.g. a VPC endpoint or http://127.0.0.1:5000" prop:value=move || endpoint.get()
                    on:input=move |ev| endpoint.set(event_target_value(&ev))/>
                <details class="span" id="env-deployment" open=move || deployment.with_untracked(|d| !d.is_empty())>
                    <summary>"Deployment — what the platform's resources are called here (for the dashboards)"</summary>
                    <div class="grid">
                        {move || parameters.get().into_iter().map(|p| {
                            let key = p.name.clone();
                            let key2 = p.name.clone();
                            let placeholder = if p.name == "environment" { "the environment's name".to_string() } else { p.description.clone() };
                            view! {
                                <label for=format!("dep-{}", p.name) title=p.description.clone()>{p.name.clone()}</label>
                                <input id=format!("dep-{}", p.name) placeholder=placeholder
                                    prop:value=move || deployment.with(|d| d.get(&key).cloned().unwrap_or_default())
                                    on:input=move |ev| { let v = event_target_value(&ev); deployment.update(|d: &mut BTreeMap<String, String>| { d.insert(key2.clone(), v); }); }/>
                            }
                        }).collect_view()}
                    </div>
                </details>
                {move || error.get().map(|e| view! {
                    <div class="field-error" id="form-error" role="alert">{e.message}{e.hint.map(|h| format!(" — {h}"))}</div>
                })}
                <div class="form-actions">
                    <button type="submit" class="primary" id="env-save" disabled=move || saving.get()>
                        {move || if saving.get() { "Saving…" } else { "Save" }}
                    </button>
                    <button type="button" on:click=move |_| mode.set(FormMode::Closed)>"Cancel"</button>
                </div>
            </form>
        </div>
    }
}

//! Deploy page: the platform bundle into the current environment's AWS account, as a wizard —
//! the bundle and who signed it (deploy_bundle, or a newer one opened: deploy_open_bundle),
//! preflight (deploy_preflight), tier, parameters and the monthly estimate with the plan, its
//! gates and, over a running platform, what the upgrade changes (deploy_plan), apply with its
//! progress pushed over a channel (deploy_apply), where the newest deployment stands
//! (deploy_status), recovery of a failed stack (deploy_recoveries, deploy_recover), validation
//! of what is deployed (deploy_validate, run after every deploy) and the PDF deployment record
//! (export_deployment_record).

use crate::app::Ctx;
use crate::components::AsyncState;
use crate::ipc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use std::collections::BTreeMap;
use vigil_dto::deploy::{
    BundleSummary, CheckStatus, DeployPlan, DeployRequest, DeploymentRecord, DeploymentStatus, PreflightCheck, PreflightReport, StackRecovery,
    ValidationReport,
};
use vigil_dto::ErrorInfo;

fn money(v: f64) -> String {
    let whole = v.round() as i64;
    let s = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("${out}")
}

fn duration(s: u64) -> String {
    if s >= 60 {
        format!("{} min", s.div_ceil(60))
    } else {
        format!("{s} s")
    }
}

/// Checks as a table: preflight's and validation's.
#[component]
fn Checks(id: &'static str, checks: Vec<PreflightCheck>) -> impl IntoView {
    view! {
        <table id=id>
            <thead><tr><th>"Check"</th><th>"Result"</th><th>"Detail"</th><th>"Asked"</th></tr></thead>
            <tbody>
                {checks.into_iter().map(|c| {
                    let (label, class) = match c.status {
                        CheckStatus::Pass => ("pass", "badge ok"),
                        CheckStatus::Warn => ("warn", "badge warn"),
                        CheckStatus::Fail => ("fail", "badge bad"),
                    };
                    view! {
                        <tr data-check=c.id.clone() data-status=label>
                            <td>{c.title.clone()}</td>
                            <td><span class=class>{label}</span></td>
                            <td>{c.detail.clone()}{c.fix.clone().map(|f| view! { <div class="hint">"What to do: "{f}</div> })}</td>
                            <td class="mono small-text">{c.api.clone()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn DeployPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let bundle = RwSignal::new(None::<BundleSummary>);
    let bundle_error = RwSignal::new(None::<ErrorInfo>);
    let tier = RwSignal::new(String::from("small"));
    let platform_env = RwSignal::new(String::new());
    let vpc_cidr = RwSignal::new(String::new());
    let node_type = RwSignal::new(String::new());
    let preflight = RwSignal::new(None::<PreflightReport>);
    let plan = RwSignal::new(None::<DeployPlan>);
    let status = RwSignal::new(None::<DeploymentStatus>);
    let confirm = RwSignal::new(String::new());
    let teardown = RwSignal::new(None::<DeployPlan>);
    let teardown_confirm = RwSignal::new(String::new());
    let validation = RwSignal::new(None::<ValidationReport>);
    let record = RwSignal::new(None::<DeploymentRecord>);
    let busy = RwSignal::new("");
    let error = RwSignal::new(None::<ErrorInfo>);
    let opened = RwSignal::new(false);
    let recoveries = RwSignal::new(Vec::<StackRecovery>::new());
    let recover_confirm = RwSignal::new(String::new());
    let env_name = move || ctx.current().map(|e| e.name).unwrap_or_default();

    spawn_local(async move {
        match ipc::call0::<BundleSummary>("deploy_bundle").await {
            Ok(b) => bundle.set(Some(b)),
            Err(e) => bundle_error.set(Some(e)),
        }
    });
    let load_status = move || {
        let env = env_name();
        if env.is_empty() {
            return;
        }
        spawn_local(async move {
            if let Ok(s) = ipc::call::<Option<DeploymentStatus>>("deploy_status", json!({ "environment": env.clone() })).await {
                // Over a running platform the plan keeps its tier and edits unless another is chosen.
                if s.as_ref().is_some_and(|s| s.kind == "deploy" && s.state == "succeeded") && tier.get_untracked() == "small" {
                    tier.set(String::new());
                }
                let failed = s.as_ref().is_some_and(|s| s.state == "failed");
                status.set(s);
                if failed {
                    if let Ok(r) = ipc::call::<Vec<StackRecovery>>("deploy_recoveries", json!({ "environment": env })).await {
                        recoveries.set(r);
                    }
                } else {
                    recoveries.set(vec![]);
                }
            }
        });
    };
    load_status();

    let request = move || {
        let mut overrides: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (stack, param, value) in [("network", "VpcCidr", vpc_cidr.get_untracked()), ("cluster", "NodeInstanceType", node_type.get_untracked())] {
            if !value.trim().is_empty() {
                overrides.entry(stack.into()).or_default().insert(param.into(), value.trim().into());
            }
        }
        DeployRequest {
            environment: env_name(),
            tier: tier.get_untracked(),
            platform_environment: platform_env.get_untracked().trim().into(),
            overrides,
        }
    };
    let run_preflight = move |_| {
        busy.set("preflight");
        error.set(None);
        let r = request();
        spawn_local(async move {
            match ipc::call::<PreflightReport>("deploy_preflight", json!({ "request": r })).await {
                Ok(p) => preflight.set(Some(p)),
                Err(e) => error.set(Some(e)),
            }
            busy.set("");
        });
    };
    let make_plan = move |_| {
        busy.set("plan");
        error.set(None);
        confirm.set(String::new());
        let r = request();
        spawn_local(async move {
            match ipc::call::<DeployPlan>("deploy_plan", json!({ "request": r })).await {
                Ok(p) => plan.set(Some(p)),
                Err(e) => error.set(Some(e)),
            }
            busy.set("");
        });
    };
    let plan_teardown = move |_| {
        busy.set("teardown-plan");
        error.set(None);
        teardown_confirm.set(String::new());
        let env = env_name();
        spawn_local(async move {
            match ipc::call::<DeployPlan>("deploy_teardown_plan", json!({ "environment": env })).await {
                Ok(p) => teardown.set(Some(p)),
                Err(e) => error.set(Some(e)),
            }
            busy.set("");
        });
    };
    let run_validation = move || {
        busy.set("validate");
        error.set(None);
        let env = env_name();
        spawn_local(async move {
            match ipc::call::<ValidationReport>("deploy_validate", json!({ "environment": env })).await {
                Ok(v) => validation.set(Some(v)),
                Err(e) => error.set(Some(e)),
            }
            busy.set("");
        });
    };
    let write_record = move |_| {
        busy.set("record");
        error.set(None);
        let env = env_name();
        spawn_local(async move {
            match ipc::call::<Option<DeploymentRecord>>("export_deployment_record", json!({ "environment": env })).await {
                Ok(Some(r)) => {
                    ctx.toast(format!("Deployment record written · SHA-256 {}", &r.sha256[..16]));
                    validation.set(Some(r.validation.clone()));
                    record.set(Some(r));
                }
                Ok(None) => {}
                Err(e) => error.set(Some(e)),
            }
            busy.set("");
        });
    };
    // Applies the reviewed plan, or the reviewed teardown.
    let run_plan = move |chosen: RwSignal<Option<DeployPlan>>, typed: RwSignal<String>| {
        let Some(p) = chosen.get_untracked() else { return };
        busy.set("apply");
        error.set(None);
        let typed = Some(typed.get_untracked()).filter(|t| !t.is_empty());
        spawn_local(async move {
            let on = move |s: DeploymentStatus| status.set(Some(s));
            let r = ipc::call_with_channel::<DeploymentStatus, DeploymentStatus>(
                "deploy_apply",
                json!({ "plan": p.id, "confirmation": typed }),
                "onProgress",
                on,
            )
            .await;
            match r {
                Ok(s) => {
                    if s.state == "succeeded" {
                        ctx.toast(if s.kind == "teardown" {
                            "The platform is torn down; what holds data was kept (listed below)."
                        } else {
                            "The platform is deployed; every page now uses what was deployed."
                        });
                        ctx.reload_envs().await;
                    }
                    let validate_now = s.state == "succeeded" && s.kind != "teardown";
                    validation.set(None);
                    record.set(None);
                    status.set(Some(s));
                    chosen.set(None);
                    busy.set("");
                    // A deploy is validated at once: the wizard ends on a validated platform.
                    if validate_now {
                        run_validation();
                    }
                    return;
                }
                Err(e) => {
                    error.set(Some(e));
                    load_status();
                }
            }
            busy.set("");
        });
    };
    let open_bundle = move |_| {
        busy.set("bundle");
        error.set(None);
        spawn_local(async move {
            match ipc::call0::<Option<BundleSummary>>("deploy_open_bundle").await {
                Ok(Some(b)) => {
                    bundle.set(Some(b));
                    bundle_error.set(None);
                    opened.set(true);
                    plan.set(None);
                    preflight.set(None);
                }
                Ok(None) => {}
                Err(e) => error.set(Some(e)),
            }
            busy.set("");
        });
    };
    let recover = move |stack: String| {
        busy.set("recover");
        error.set(None);
        let env = env_name();
        let typed = Some(recover_confirm.get_untracked()).filter(|t| !t.trim().is_empty());
        spawn_local(async move {
            match ipc::call::<StackRecovery>("deploy_recover", json!({ "environment": env, "stack": stack, "confirmation": typed })).await {
                Ok(r) => {
                    ctx.toast(r.what.clone());
                    recover_confirm.set(String::new());
                    load_status();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set("");
        });
    };
    let apply = move |_| run_plan(plan, confirm);
    let tear_down = move |_| run_plan(teardown, teardown_confirm);
    let gated = move || plan.with(|p| p.as_ref().is_some_and(|p| !p.gates.is_empty()));
    let may_apply = move || busy.get().is_empty() && (!gated() || confirm.get().trim() == env_name());

    view! {
        <div class="row">
            <h1>"Deploy"</h1>
            <span class="spacer"></span>
            <span class="muted">{move || format!("The platform bundle into {}'s AWS account.", env_name())}</span>
        </div>
        {move || ctx.current().is_none().then(|| view! { <p class="muted" id="deploy-no-env">"Choose an environment first (Environments page)."</p> })}
        <div class="panel" id="deploy-bundle">
            <div class="row">
                <h2>"Bundle"</h2>
                <span class="spacer"></span>
                <span class="muted" id="bundle-source">{move || if opened.get() { "opened from a folder" } else { "this console's own" }}</span>
                <button id="deploy-open-bundle" disabled=move || !busy.get().is_empty() on:click=open_bundle>"Open a newer bundle…"</button>
            </div>
            {move || match (bundle.get(), bundle_error.get()) {
                (Some(b), _) => view! {
                    <dl class="kv">
                        <dt>"Bundle"</dt><dd id="bundle-version" data-version=b.version.clone()>{format!("{} {}", b.name, b.version)}</dd>
                        <dt>"Signed by"</dt><dd id="bundle-signer">{b.signer.clone()}</dd>
                        <dt>"Manifest SHA-256"</dt><dd class="mono breakable">{b.manifest_sha256.clone()}</dd>
                        <dt>"Needs"</dt><dd>{format!("Vigil {} or newer; {} files, {} stacks", b.min_console, b.files, b.stacks.len())}</dd>
                    </dl>
                }.into_any(),
                (None, Some(e)) => view! {
                    <div class="result bad" role="alert" id="bundle-error" data-kind=e.kind.clone()>
                        <div>{e.message.clone()}</div>
                        {e.hint.clone().map(|h| view! { <div class="hint">"What to do: "{h}</div> })}
                    </div>
                }.into_any(),
                _ => view! { <p class="muted">"Verifying the bundle…"</p> }.into_any(),
            }}
        </div>
        <div class="panel" id="deploy-setup">
            <h2>"1 · Preflight"</h2>
            <div class="row toolbar">
                <label class="inline" for="deploy-tier">"Tier"</label>
                <select id="deploy-tier" class="narrow" on:change=move |ev| { tier.set(event_target_value(&ev)); plan.set(None); }>
                    {move || status.get().filter(|s| s.kind == "deploy" && s.state == "succeeded").map(|_| view! {
                        <option value="" selected=move || tier.get().is_empty()>"the running tier"</option>
                    })}
                    {move || bundle.get().map(|b| b.tiers).unwrap_or_else(|| vec!["small".into()]).into_iter().map(|t| {
                        let t2 = t.clone();
                        view! { <option value=t.clone() selected=move || tier.get() == t2>{t.clone()}</option> }
                    }).collect_view()}
                </select>
                <label class="inline" for="deploy-platform-env">"Platform name"</label>
                <input id="deploy-platform-env" class="narrow" placeholder="from the environment's name" prop:value=move || platform_env.get()
                    on:input=move |ev| { platform_env.set(event_target_value(&ev)); plan.set(None); }/>
                <label class="inline" for="deploy-cidr">"VPC block"</label>
                <input id="deploy-cidr" class="narrow" placeholder="10.40.0.0/16" prop:value=move || vpc_cidr.get()
                    on:input=move |ev| { vpc_cidr.set(event_target_value(&ev)); plan.set(None); }/>
                <label class="inline" for="deploy-node-type">"Node type"</label>
                <input id="deploy-node-type" class="narrow" placeholder="the tier's" prop:value=move || node_type.get()
                    on:input=move |ev| { node_type.set(event_target_value(&ev)); plan.set(None); }/>
                <button id="deploy-preflight" disabled=move || !busy.get().is_empty() || ctx.current().is_none() on:click=run_preflight>
                    {move || if busy.get() == "preflight" { "Checking…" } else { "Run preflight" }}
                </button>
            </div>
            {move || preflight.get().map(|p| view! {
                <p id="preflight-summary" data-ready=p.ready.to_string()>
                    {format!("Account {} in {}: {}", p.account.clone().unwrap_or_else(|| "?".into()), p.region, if p.ready { "ready to plan." } else { "fix the failures below first." })}
                </p>
                <Checks id="preflight-checks" checks=p.checks/>
            })}
        </div>
        {move || (!ctx.read_only()).then(|| view! {
            <div class="panel" id="deploy-plan-panel">
                <h2>"2 · Plan and cost"</h2>
                <p class="muted">"A change set for every stack that exists, creates for the rest; nothing is changed until you apply."</p>
                <button id="deploy-plan" disabled=move || !busy.get().is_empty() || ctx.current().is_none() on:click=make_plan>
                    {move || if busy.get() == "plan" { "Planning…" } else { "Plan" }}
                </button>
                {move || plan.get().map(|p| view! {
                    {p.upgrade.clone().map(|u| view! {
                        <div id="deploy-upgrade" data-from=u.from_version.clone() data-to=u.to_version.clone()>
                            <h3>{format!("Upgrade {} → {}", u.from_version, u.to_version)}</h3>
                            <p>{format!("First a snapshot of {} ({}); migrations run forward only.", u.cluster, u.snapshot)}</p>
                            <p id="deploy-upgrade-cost" data-delta=format!("{:.0}", u.cost_after - u.cost_before)>
                                {format!("Monthly estimate {} → {} ({}{})", money(u.cost_before), money(u.cost_after), if u.cost_after >= u.cost_before { "+" } else { "−" }, money((u.cost_after - u.cost_before).abs()))}
                            </p>
                            <table id="deploy-upgrade-files">
                                <thead><tr><th>"Change"</th><th>"Area"</th><th>"File"</th></tr></thead>
                                <tbody>
                                    {u.files.iter().map(|f| view! {
                                        <tr data-area=f.area.clone() data-change=f.change.clone()><td>{f.change.clone()}</td><td>{f.area.clone()}</td><td class="mono">{f.path.clone()}</td></tr>
                                    }).collect_view()}
                                    {u.images.iter().map(|i| view! {
                                        <tr data-area="image" data-change="replaced"><td>"replaced"</td><td>"image"</td><td class="mono">{format!("{} → {}", i.from, i.to)}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })}
                    <h3>"Monthly estimate"</h3>
                    <table id="deploy-cost" data-total=format!("{:.0}", p.cost.total)>
                        <thead><tr><th>"Component"</th><th>"Item"</th><th class="num">"Per month"</th></tr></thead>
                        <tbody>
                            {p.cost.lines.iter().map(|l| view! {
                                <tr><td>{l.component.clone()}</td><td>{l.item.clone()}</td><td class="num">{money(l.monthly)}</td></tr>
                            }).collect_view()}
                            <tr class="total"><td>"Total"</td><td class="muted" id="deploy-cost-source">{format!("Prices: {}", p.cost.source)}</td><td class="num" id="deploy-cost-total">{money(p.cost.total)}</td></tr>
                        </tbody>
                    </table>
                    <ul class="muted" id="deploy-cost-notes">
                        {p.cost.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                    </ul>
                    <h3>"Stacks"</h3>
                    <table id="deploy-stacks">
                        <thead><tr><th>"Stack"</th><th>"Action"</th><th>"Changes"</th></tr></thead>
                        <tbody>
                            {p.stacks.iter().map(|s| {
                                let changes = s.changes.iter().map(|c| format!("{} {}{}", c.action, c.logical_id, if c.stateful { " (holds data)" } else { "" })).collect::<Vec<_>>();
                                view! {
                                    <tr data-stack=s.stack.clone() data-action=s.action.clone()>
                                        <td class="mono">{s.name.clone()}</td>
                                        <td>{s.action.clone()}</td>
                                        <td class="small-text">{if changes.is_empty() { "no change".to_string() } else { changes.join(" · ") }}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    {(!p.gates.is_empty()).then(|| {
                        let env = p.environment.clone();
                        view! {
                            <div class="result bad" role="alert" id="deploy-gates">
                                <b>"This plan would replace or remove data:"</b>
                                <ul>{p.gates.iter().map(|g| view! { <li data-gate=g.logical_id.clone()>{format!("{}: {}", g.stack, g.why)}</li> }).collect_view()}</ul>
                                <label for="deploy-confirm">{format!("To apply it anyway, type the environment's name ({env}):")}</label>
                                <input id="deploy-confirm" prop:value=move || confirm.get() on:input=move |ev| confirm.set(event_target_value(&ev))/>
                            </div>
                        }
                    })}
                })}
            </div>
            <div class="panel" id="deploy-apply-panel">
                <h2>"3 · Apply"</h2>
                <button class="primary" id="deploy-apply" disabled=move || plan.with(Option::is_none) || !may_apply() on:click=apply>
                    {move || if busy.get() == "apply" { "Applying…" } else { "Apply the plan" }}
                </button>
            </div>
        })}
        <div class="panel" id="deploy-validate-panel">
            <h2>"4 · Validate"</h2>
            <p class="muted">"Checks every component of what is deployed: stacks, EKS, Aurora, the cache, the documents bucket, the queues, backups and alarms. The deployment record is this and the deployment (bundle, signer, parameters, plan, events) as a PDF."</p>
            <div class="row">
                <button id="deploy-validate" disabled=move || !busy.get().is_empty() || ctx.current().is_none() on:click=move |_| run_validation()>
                    {move || if busy.get() == "validate" { "Validating…" } else { "Validate" }}
                </button>
                <button id="deploy-record" disabled=move || !busy.get().is_empty() || ctx.current().is_none() on:click=write_record>
                    {move || if busy.get() == "record" { "Writing…" } else { "Export deployment record (PDF)" }}
                </button>
            </div>
            {move || validation.get().map(|v| {
                let failed = v.checks.iter().filter(|c| c.status == CheckStatus::Fail).count();
                view! {
                    <p id="validate-summary" data-ok=v.ok.to_string() class=if v.ok { "result ok" } else { "result bad" }>
                        {if v.ok {
                            format!("{} is validated: {} checks at {}.", v.platform_environment, v.checks.len(), v.checked_at)
                        } else {
                            format!("{failed} of {} checks failed at {}: see what to do below.", v.checks.len(), v.checked_at)
                        }}
                    </p>
                    <Checks id="validate-checks" checks=v.checks/>
                }
            })}
            {move || record.get().map(|r| view! {
                <dl class="kv" id="deploy-record-result">
                    <dt>"Written to"</dt><dd class="mono breakable">{r.path.clone()}</dd>
                    <dt>"Pages"</dt><dd>{r.pages}</dd>
                    <dt>"SHA-256"</dt><dd class="mono digest" id="deploy-record-sha">{r.sha256.clone()}</dd>
                </dl>
            })}
        </div>
        {move || (!ctx.read_only()).then(|| view! {
            <div class="panel" id="deploy-teardown-panel">
                <h2>"Tear down"</h2>
                <p class="muted">"Deletes every stack of the platform. The database leaves a final snapshot; buckets, keys and the backup vault are kept."</p>
                <button id="deploy-teardown-plan" disabled=move || !busy.get().is_empty() || ctx.current().is_none() on:click=plan_teardown>
                    {move || if busy.get() == "teardown-plan" { "Reading the stacks…" } else { "Plan the teardown" }}
                </button>
                {move || teardown.get().map(|p| {
                    let env = p.environment.clone();
                    view! {
                        <table id="deploy-teardown-stacks">
                            <thead><tr><th>"Stack"</th><th>"Deleted"</th><th>"Kept"</th></tr></thead>
                            <tbody>
                                {p.stacks.iter().map(|s| {
                                    let removed = s.changes.iter().filter(|c| c.action == "remove").map(|c| c.logical_id.clone()).collect::<Vec<_>>();
                                    let kept = s.changes.iter().filter(|c| c.action != "remove").map(|c| format!("{} ({})", c.logical_id, c.action)).collect::<Vec<_>>();
                                    view! {
                                        <tr data-stack=s.stack.clone()>
                                            <td class="mono">{s.name.clone()}</td>
                                            <td class="small-text">{removed.join(" · ")}</td>
                                            <td class="small-text">{kept.join(" · ")}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <div class="result bad" role="alert" id="deploy-teardown-warning">
                            <b>{format!("This deletes the platform of {env}: {} stacks.", p.stacks.len())}</b>
                            <label for="deploy-teardown-confirm">{format!("To tear it down, type the environment's name ({env}):")}</label>
                            <input id="deploy-teardown-confirm" prop:value=move || teardown_confirm.get() on:input=move |ev| teardown_confirm.set(event_target_value(&ev))/>
                        </div>
                        <button class="danger" id="deploy-teardown-apply"
                            disabled=move || !busy.get().is_empty() || teardown_confirm.get().trim() != env_name()
                            on:click=tear_down>
                            {move || if busy.get() == "apply" { "Tearing down…" } else { "Tear down" }}
                        </button>
                    }
                })}
            </div>
        })}
        <AsyncState id="deploy-state" loading=Signal::derive(move || false) error=error.into() empty=Signal::derive(move || status.with(Option::is_none))
            empty_text="No deployment of this environment yet.">
            {move || status.get().map(|s| {
                let pct = if s.total == 0 { 0 } else { s.done * 100 / s.total };
                view! {
                    <div class="panel" id="deploy-progress" data-kind=s.kind.clone() data-state=s.state.clone() data-done=s.done data-total=s.total>
                        <h2>{format!("{}: {}", if s.kind == "teardown" { "Teardown" } else { "Deployment" }, s.state)}</h2>
                        <div class="progress"><div class="bar" style=format!("width: {pct}%")></div></div>
                        <p>{format!("{} of {} resources{}", s.done, s.total, s.eta_s.filter(|e| *e > 0).map(|e| format!(" · about {} to go", duration(e))).unwrap_or_default())}</p>
                        {s.root_cause.clone().map(|c| view! { <div class="result bad" id="deploy-cause"><b>"Cause: "</b>{c}</div> })}
                        {s.next.clone().map(|n| view! { <div class="hint" id="deploy-next">"What to do: "{n}</div> })}
                        {move || (!recoveries.get().is_empty()).then(|| view! {
                            <div id="deploy-recovery">
                                <h3>"Recover"</h3>
                                {recoveries.get().into_iter().map(|r| {
                                    let (stack, name) = (r.stack.clone(), r.name.clone());
                                    let name2 = name.clone();
                                    view! {
                                        <div class="row" data-stack=r.stack.clone() data-action=r.action.clone()>
                                            <span>{r.what.clone()}</span>
                                            {r.cause.clone().map(|c| view! { <span class="muted small-text">{format!(" — {c}")}</span> })}
                                            <span class="spacer"></span>
                                            <input class="narrow" id=format!("recover-confirm-{}", r.stack) placeholder=name.clone()
                                                prop:value=move || recover_confirm.get() on:input=move |ev| recover_confirm.set(event_target_value(&ev))/>
                                            <button class="danger" id=format!("recover-{}", r.stack)
                                                disabled=move || !busy.get().is_empty() || recover_confirm.get().trim() != name2
                                                on:click=move |_| recover(stack.clone())>"Recover"</button>
                                        </div>
                                    }
                                }).collect_view()}
                            </div>
                        })}
                        {s.snapshot.clone().map(|st| view! {
                            <p id="deploy-snapshot" data-state=st.state.clone()>{format!("{}: {} — {}", st.title, st.state, st.detail.unwrap_or_default())}</p>
                        })}
                        <table id="deploy-progress-stacks">
                            <thead><tr><th>"Stack"</th><th>"State"</th><th>"Status"</th><th>"Resources"</th></tr></thead>
                            <tbody>
                                {s.stacks.iter().map(|st| view! {
                                    <tr data-stack=st.stack.clone() data-state=st.state.clone()>
                                        <td class="mono">{st.name.clone()}</td>
                                        <td>{st.state.clone()}</td>
                                        <td>{st.status.clone().unwrap_or_default()}</td>
                                        <td class="small-text">{st.resources.iter().map(|r| format!("{} {} ({}/{})", r.logical_id, r.status, duration(r.elapsed_s), duration(r.typical_s))).collect::<Vec<_>>().join(" · ")}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        {(!s.setup.is_empty()).then(|| view! {
                            <h3>"Platform set-up"</h3>
                            <table id="deploy-setup">
                                <thead><tr><th>"Step"</th><th>"State"</th><th>"Detail"</th></tr></thead>
                                <tbody>
                                    {s.setup.iter().map(|step| view! {
                                        <tr data-step=step.id.clone() data-state=step.state.clone()>
                                            <td>{step.title.clone()}</td>
                                            <td>{step.state.clone()}</td>
                                            <td class="small-text">{step.detail.clone().unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        })}
                        {(s.kind == "teardown" && !s.kept.is_empty()).then(|| view! {
                            <h3>"Kept in the account"</h3>
                            <ul id="deploy-kept">
                                {s.kept.iter().map(|k| view! {
                                    <li data-kept=k.resource_type.clone()>
                                        <span class="mono">{k.physical_id.clone().unwrap_or_else(|| "?".into())}</span>
                                        {format!(" {} — {}", k.resource_type, k.why)}
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                    </div>
                }
            })}
        </AsyncState>
    }
}

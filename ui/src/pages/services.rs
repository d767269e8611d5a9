//! Services page: the platform's EKS cluster — version and support calendar, endpoint access,
//! logging, encryption, node groups, add-ons and their fit for the next Kubernetes version, and
//! EKS's upgrade insights with a refresh on demand (commands: eks_overview, eks_refresh_insights);
//! then the upgrade cockpit (pages/upgrade.rs) and the platform's workloads on it
//! (pages/workloads.rs).

use crate::app::Ctx;
use crate::components::AsyncState;
use crate::ipc;
use crate::pages::metrics::when;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::eks::{ClusterAccess, ClusterOverview, Insight, VersionSupport};
use vigil_dto::ErrorInfo;

fn status_class(status: &str) -> &'static str {
    match status {
        "ACTIVE" | "PASSING" | "STANDARD_SUPPORT" | "COMPLETED" => "badge ok",
        "WARNING" | "EXTENDED_SUPPORT" | "UPDATING" | "CREATING" | "IN_PROGRESS" => "badge warn",
        "" => "badge",
        _ => "badge bad",
    }
}

fn support_text(s: &VersionSupport) -> String {
    let phase = match s.status.as_str() {
        "STANDARD_SUPPORT" => "standard support",
        "EXTENDED_SUPPORT" => "extended support (charged per cluster hour)",
        "UNSUPPORTED" => "no longer supported",
        _ => "not in EKS's calendar",
    };
    match s.days_left {
        Some(d) if d >= 0 => format!("{phase}, {d} day{} left", if d == 1 { "" } else { "s" }),
        Some(d) => format!("{phase}, ended {} days ago", -d),
        None => phase.to_string(),
    }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "—".into()
    } else {
        v.join(", ")
    }
}

#[component]
pub fn ServicesPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let overview = RwSignal::new(None::<ClusterOverview>);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let refreshing = RwSignal::new(false);

    let load = move || {
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<ClusterOverview>("eks_overview", json!({})).await {
                Ok(v) => {
                    error.set(None);
                    overview.set(Some(v));
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
    };
    Effect::new(move |_| {
        // Again when the environment changes.
        ctx.current();
        overview.set(None);
        load();
    });
    let refresh_insights = move |_| {
        refreshing.set(true);
        spawn_local(async move {
            match ipc::call::<bool>("eks_refresh_insights", json!({})).await {
                Ok(true) => ctx.toast("EKS is evaluating the upgrade insights again (in the operator log); Refresh shows the result".to_string()),
                Ok(false) => ctx.toast("An insights refresh is already running; Refresh shows the result when it ends".to_string()),
                Err(e) => ctx.error.set(Some(e)),
            }
            refreshing.set(false);
            load();
        });
    };

    view! {
        <div class="row">
            <h1>"Services"</h1>
            <span class="spacer"></span>
            <span class="muted">{move || overview.get().map(|o| format!("EKS cluster {}", o.name))}</span>
        </div>
        <div class="row toolbar">
            <span class="muted">"The platform's services run on EKS; Vigil reads the cluster with the environment's credentials."</span>
            <span class="spacer"></span>
            <button id="services-refresh" on:click=move |_| load() disabled=move || loading.get()>
                {move || if loading.get() { "Loading…" } else { "Refresh" }}
            </button>
        </div>
        <AsyncState id="services-state" loading=loading.into() error=error.into()
            empty=Signal::derive(move || overview.with(Option::is_none))
            empty_text="No cluster read yet.">
            {move || overview.get().map(|o| view! {
                <ClusterPanel o=o.clone()/>
                <AccessPanel a=o.access.clone()/>
                <div class="panel">
                    <h2>"Node groups"</h2>
                    <table id="nodegroups-table">
                        <thead><tr><th>"Node group"</th><th>"Status"</th><th>"Kubernetes"</th><th>"AMI release"</th><th>"Instance types"</th><th>"Desired (min–max)"</th><th>"Health"</th></tr></thead>
                        <tbody>{o.nodegroups.iter().map(|g| {
                            let skew = g.version != o.version;
                            view! {
                                <tr data-nodegroup=g.name.clone() data-status=g.status.clone()>
                                    <td class="mono">{g.name.clone()}</td>
                                    <td><span class=status_class(&g.status)>{g.status.clone()}</span></td>
                                    <td class="nowrap">{g.version.clone()}
                                        {skew.then(|| view! { " "<span class="badge warn" title="The kubelet runs another version than the control plane">"skew"</span> })}</td>
                                    <td class="mono">{g.release_version.clone()}</td>
                                    <td>{list(&g.instance_types)}</td>
                                    <td class="nowrap">{format!("{} ({}–{})", g.desired, g.min, g.max)}</td>
                                    <td class="prose">{if g.issues.is_empty() { "no issues".to_string() } else { g.issues.join("; ") }}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                    {o.nodegroups.is_empty().then(|| view! { <p class="muted" id="no-nodegroups">"The cluster has no managed node groups."</p> })}
                </div>
                <div class="panel">
                    <h2>"Add-ons"</h2>
                    <table id="addons-table">
                        <thead><tr><th>"Add-on"</th><th>"Version"</th><th>"Status"</th>
                            <th>{o.next.clone().map(|n| format!("On Kubernetes {n}")).unwrap_or_else(|| "Next version".into())}</th><th>"Health"</th></tr></thead>
                        <tbody>{o.addons.iter().map(|a| view! {
                            <tr data-addon=a.name.clone() data-fits=a.fits_next.map(|f| f.to_string()).unwrap_or_default()>
                                <td class="mono">{a.name.clone()}</td>
                                <td class="mono">{a.version.clone()}</td>
                                <td><span class=status_class(&a.status)>{a.status.clone()}</span></td>
                                <td>{match a.fits_next {
                                    Some(true) => view! { <span class="badge ok">"compatible"</span> }.into_any(),
                                    Some(false) => view! { <span class="badge bad">"update first"</span>" "
                                        <span class="muted">{a.next_versions.first().map(|v| format!("to {v}")).unwrap_or_else(|| "no version offered".into())}</span> }.into_any(),
                                    None => view! { <span class="muted">"newest Kubernetes"</span> }.into_any(),
                                }}</td>
                                <td class="prose">{if a.issues.is_empty() { "no issues".to_string() } else { a.issues.join("; ") }}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                    {o.addons.is_empty().then(|| view! { <p class="muted" id="no-addons">"No EKS-managed add-ons: the cluster runs the self-managed ones it was created with."</p> })}
                </div>
                <div class="panel" id="insights">
                    <div class="row">
                        <h2>"Upgrade insights"</h2>
                        <span class="spacer"></span>
                        <span class="muted" id="insights-refresh-status">{o.insights_refresh.clone().map(|s| format!("last refresh: {}", s.to_lowercase().replace('_', " ")))}</span>
                        <button id="refresh-insights" on:click=refresh_insights disabled=move || refreshing.get() || ctx.read_only()>
                            {move || if refreshing.get() { "Asking EKS…" } else { "Refresh insights" }}
                        </button>
                    </div>
                    <table id="insights-table">
                        <thead><tr><th>"Status"</th><th>"Check"</th><th>"For"</th><th>"What EKS found"</th><th>"Checked"</th></tr></thead>
                        <tbody>{o.insights.iter().cloned().map(|i| view! { <InsightRow i=i/> }).collect_view()}</tbody>
                    </table>
                    {o.insights.is_empty().then(|| view! { <p class="muted" id="no-insights">"EKS has no insights for this cluster yet: ask it to refresh them."</p> })}
                </div>
            })}
        </AsyncState>
        <crate::pages::upgrade::UpgradeSection/>
        <crate::pages::workloads::WorkloadsSection/>
    }
}

#[component]
fn ClusterPanel(o: ClusterOverview) -> impl IntoView {
    let open_to_all = o.public_cidrs.iter().any(|c| c == "0.0.0.0/0");
    let endpoint = match (o.endpoint_public, o.endpoint_private) {
        (true, true) => "public and private",
        (true, false) => "public only",
        (false, true) => "private only",
        (false, false) => "none",
    };
    view! {
        <div class="panel" id="cluster">
            <h2><span class="mono" id="cluster-name">{o.name.clone()}</span>" "<span class=status_class(&o.status) id="cluster-status">{o.status.clone()}</span></h2>
            <dl class="kv">
                    <dt>"Kubernetes"</dt><dd id="cluster-version">{o.version.clone()}<span class="muted">{format!(" (EKS platform {})", o.platform_version)}</span></dd>
                    <dt>"Support"</dt><dd>
                        <span class=status_class(&o.support.status) id="support-status" data-status=o.support.status.clone()>{support_text(&o.support)}</span>
                        <div class="muted">{format!("standard support until {}, extended until {}",
                            o.support.end_of_standard.clone().unwrap_or_else(|| "?".into()), o.support.end_of_extended.clone().unwrap_or_else(|| "?".into()))}</div>
                    </dd>
                    <dt>"Next version"</dt><dd id="next-version">{o.next.clone().unwrap_or_else(|| "none: this is the newest EKS offers".into())}</dd>
                    <dt>"API endpoint"</dt><dd>{endpoint}
                        {(!o.public_cidrs.is_empty()).then(|| view! { <span class="muted">{format!(" (public from {})", o.public_cidrs.join(", "))}</span> })}
                        {open_to_all.then(|| view! { " "<span class="badge warn" id="endpoint-open">"open to the internet"</span> })}
                        <div class="mono muted breakable">{o.endpoint.clone()}</div></dd>
                    <dt>"Control-plane logs"</dt><dd id="cluster-logging">{if o.logging.is_empty() {
                        view! { <span class="badge warn">"none"</span>" "<span class="muted">"audit and authenticator logs are off"</span> }.into_any()
                    } else { view! { <span>{o.logging.join(", ")}</span> }.into_any() }}</dd>
                    <dt>"Secrets encryption"</dt><dd id="cluster-encryption">{match o.secrets_key.clone() {
                        Some(k) => view! { <span class="mono breakable">{k}</span> }.into_any(),
                        None => view! { <span class="badge bad">"off"</span>" "<span class="muted">"Kubernetes secrets are not envelope-encrypted with KMS"</span> }.into_any(),
                    }}</dd>
            </dl>
        </div>
    }
}

#[component]
fn AccessPanel(a: ClusterAccess) -> impl IntoView {
    view! {
        <div class="panel" id="access">
            <h2>"Access"</h2>
            <p class="muted">"Vigil calls the cluster as "<span class="mono breakable" id="access-caller">{a.caller.clone()}</span>
                ", with a token it mints from the environment's credentials."</p>
            {a.fix.clone().map(|fix| view! {
                <div class="callout bad" id="access-missing">
                    <strong>"These credentials have no access entry: the cluster will not let Vigil in."</strong>
                    <div class="hint">"Give them one (or use the credentials that created the cluster): "<code class="breakable">{fix}</code></div>
                </div>
            })}
            {a.note.clone().map(|n| view! { <p class="muted" id="access-note">{n}</p> })}
            {a.entries.clone().map(|entries| view! {
                <table id="access-table">
                    <thead><tr><th>"IAM principal"</th><th>"Type"</th><th>"Kubernetes user and groups"</th><th>"Access policies"</th></tr></thead>
                    <tbody>{entries.into_iter().map(|e| view! {
                        <tr data-principal=e.principal.clone() data-caller=e.is_caller.to_string()>
                            <td class="mono breakable">{e.principal.clone()}{e.is_caller.then(|| view! { " "<span class="badge current">"Vigil"</span> })}</td>
                            <td>{e.kind.clone()}</td>
                            <td class="mono breakable">{e.username.clone()}<div class="muted">{list(&e.groups)}</div></td>
                            <td>{if e.policies.is_empty() { "none".to_string() } else {
                                e.policies.iter().map(|(p, scope)| format!("{p} ({scope})")).collect::<Vec<_>>().join(", ") }}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            })}
        </div>
    }
}

#[component]
fn InsightRow(i: Insight) -> impl IntoView {
    let found = i
        .resources
        .iter()
        .map(|(r, s)| format!("{r} ({})", s.to_lowercase()))
        .chain(i.addons.iter().map(|(a, v)| format!("{a}: compatible versions {}", list(v))))
        .chain(i.deprecations.iter().map(|(api, with, stop)| format!("{api} → {with} (removed in {stop})")))
        .collect::<Vec<_>>();
    view! {
        <tr data-insight=i.name.clone() data-status=i.status.clone()>
            <td><span class=status_class(&i.status)>{i.status.clone()}</span></td>
            <td><div>{i.name.clone()}</div><div class="muted">{i.category.to_lowercase().replace('_', " ")}</div></td>
            <td class="nowrap">{i.kubernetes_version.clone()}</td>
            <td class="prose"><div>{i.reason.clone()}</div>
                {(!found.is_empty()).then(|| view! { <ul>{found.into_iter().map(|f| view! { <li class="mono breakable">{f}</li> }).collect_view()}</ul> })}
                {(i.status != "PASSING" && !i.recommendation.is_empty()).then(|| view! { <div class="hint">{i.recommendation.clone()}</div> })}</td>
            <td class="nowrap">{i.refreshed.as_deref().map(when)}</td>
        </tr>
    }
}

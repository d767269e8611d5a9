//! Settings page: Appearance (theme), Activity (the operator log and its verification), About
//! (commands: get_theme/set_theme, list_oplog, verify_oplog, app_info).

use crate::app::Ctx;
use crate::components::{AsyncState, Tabs};
use crate::ipc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::{ErrorInfo, OplogEntry, Theme, VerifyReport};

const PAGE: u32 = 100;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let tab = RwSignal::new("appearance".to_string());
    let tabs = Signal::derive(|| {
        [("appearance", "Appearance"), ("activity", "Activity"), ("about", "About")].map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    });
    view! {
        <h1>"Settings"</h1>
        <Tabs tabs=tabs selected=tab tab_prefix="tab-" label="Settings">
            {move || match tab.get().as_str() {
                "activity" => view! { <Activity/> }.into_any(),
                "about" => view! { <About/> }.into_any(),
                _ => view! { <Appearance/> }.into_any(),
            }}
        </Tabs>
    }
}

#[component]
fn Appearance() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let choose = move |t: Theme| {
        spawn_local(async move {
            match ipc::call::<Theme>("set_theme", json!({ "theme": t })).await {
                Ok(t) => ctx.theme.set(t),
                Err(e) => ctx.error.set(Some(e)),
            }
        })
    };
    let option = move |t: Theme, id: &'static str, label: &'static str| {
        view! {
            <button id=id aria-pressed=move || if ctx.theme.get() == t { "true" } else { "false" } on:click=move |_| choose(t)>{label}</button>
        }
    };
    view! {
        <div class="panel">
            <h2>"Theme"</h2>
            <p class="muted">"System follows your operating system's light or dark setting."</p>
            <div class="segmented" role="group" aria-label="Theme">
                {option(Theme::System, "theme-system", "System")}
                {option(Theme::Light, "theme-light", "Light")}
                {option(Theme::Dark, "theme-dark", "Dark")}
            </div>
        </div>
    }
}

#[component]
fn Activity() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let entries = RwSignal::new(Vec::<OplogEntry>::new());
    let loading = RwSignal::new(true);
    let error = RwSignal::new(None::<ErrorInfo>);
    let more = RwSignal::new(false);
    let report = RwSignal::new(None::<VerifyReport>);
    let verifying = RwSignal::new(false);
    let load = move |before: Option<i64>| {
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<Vec<OplogEntry>>("list_oplog", json!({ "limit": PAGE, "before": before })).await {
                Ok(page) => {
                    error.set(None);
                    more.set(page.len() as u32 == PAGE);
                    entries.update(|v| {
                        if before.is_none() {
                            v.clear();
                        }
                        v.extend(page);
                    });
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        })
    };
    load(None);
    let verify = move |_| {
        verifying.set(true);
        spawn_local(async move {
            match ipc::call0::<VerifyReport>("verify_oplog").await {
                Ok(r) => report.set(Some(r)),
                Err(e) => ctx.error.set(Some(e)),
            }
            verifying.set(false);
        })
    };
    view! {
        <div class="panel">
            <div class="row">
                <div>
                    <h2>"Operator log"</h2>
                    <p class="muted">"Every change made through Vigil, newest first. Each record is chained to the one before by its SHA-256 hash, so an edited, deleted, reordered or inserted record is found by Verify."</p>
                </div>
                <span class="spacer"></span>
                <button class="primary" id="verify-oplog" on:click=verify disabled=move || verifying.get()>
                    {move || if verifying.get() { "Verifying…" } else { "Verify chain" }}
                </button>
            </div>
            {move || report.get().map(|r| match r.first_break {
                None => view! {
                    <div class="result ok" id="verify-result" data-ok="true">
                        <strong>{format!("Chain intact: {} records", r.records)}</strong>
                        <div class="mono muted">{format!("head {}", r.head_hash.unwrap_or_else(|| "—".into()))}</div>
                    </div>
                }.into_any(),
                Some(b) => view! {
                    <div class="result bad" id="verify-result" data-ok="false">
                        <strong>{format!("Broken at record #{} ({:?})", b.seq, b.kind)}</strong>
                        <div>{b.message}</div>
                    </div>
                }.into_any(),
            })}
            <AsyncState id="oplog-state" empty_id="oplog-empty" loading=loading.into() error=error.into()
                empty=Signal::derive(move || entries.with(Vec::is_empty))
                empty_text="Nothing recorded yet: changes made through Vigil (environments, settings, retries, exports) appear here.">
                <table id="oplog-table">
                    <thead><tr><th>"#"</th><th>"Time (UTC)"</th><th>"Actor"</th><th>"Action"</th><th>"Target"</th><th>"Details"</th><th>"Hash"</th></tr></thead>
                    <tbody>
                        {move || entries.get().into_iter().map(|e| view! {
                            <tr data-seq=e.seq>
                                <td>{e.seq}</td>
                                <td class="mono">{e.at}</td>
                                <td>{e.actor}</td>
                                <td class="mono">{e.action}</td>
                                <td>{e.target}</td>
                                <td class="mono details">{e.details}</td>
                                <td class="mono"><span class="hash" title=e.hash.clone()>{e.hash.clone()}</span></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </AsyncState>
            {move || more.get().then(|| view! {
                <button id="oplog-more" on:click=move |_| load(entries.with_untracked(|v| v.last().map(|e| e.seq)))>"Load older"</button>
            })}
        </div>
    }
}

#[component]
fn About() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="panel">
            {move || ctx.info.get().map(|i| view! {
                <dl class="result">
                    <dt>"Version"</dt><dd>{i.version}</dd>
                    <dt>"Data"</dt><dd class="mono">{i.data_dir}</dd>
                    <dt>"Logs"</dt><dd class="mono">{i.log_dir}</dd>
                    <dt>"Mode"</dt><dd>{if i.sandbox { "local sandbox" } else { "AWS" }}</dd>
                </dl>
            })}
        </div>
    }
}

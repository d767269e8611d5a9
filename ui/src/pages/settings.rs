//! Settings page: Appearance (theme), Activity (the operator log and its verification), About
//! with this Vigil's updates, and the update banner shown at start (commands: get_theme/set_theme,
//! list_oplog, verify_oplog, app_info, update_check/update_install/update_skip).

use crate::app::Ctx;
use crate::components::{AsyncState, Tabs};
use crate::ipc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::update::{AvailableUpdate, UpdateProgress, UpdateStatus};
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
        <Updates/>
    }
}

/// Settings › About: check for updates on demand, see what is new, install or skip.
#[component]
fn Updates() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let checking = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let check = move |_| {
        checking.set(true);
        error.set(None);
        spawn_local(async move {
            match ipc::call0::<UpdateStatus>("update_check").await {
                Ok(u) => ctx.update.set(Some(u)),
                Err(e) => error.set(Some(e)),
            }
            checking.set(false);
        })
    };
    view! {
        <div class="panel" id="updates">
            <div class="row">
                <div>
                    <h2>"Updates"</h2>
                    <p class="muted">"Updates are signed: Vigil installs one only if its signature matches the update key built into this app, and only when you choose."</p>
                </div>
                <span class="spacer"></span>
                <button id="update-check" on:click=check disabled=move || checking.get()>
                    {move || if checking.get() { "Checking…" } else { "Check for updates" }}
                </button>
            </div>
            {move || error.get().map(|e| view! { <div class="result bad" id="update-check-error" data-kind=e.kind.clone()>{ipc::describe(&e)}</div> })}
            {move || ctx.update.get().map(|u| match (u.unavailable, u.available) {
                (Some(why), _) => view! { <p class="muted" id="update-state" data-state="unavailable">{format!("Updates are not available: {why}.")}</p> }.into_any(),
                (None, None) => view! {
                    <p id="update-state" data-state="current">{format!("Vigil {} is the newest version{}.", u.current, u.endpoint.map(|e| format!(" at {e}")).unwrap_or_default())}</p>
                }.into_any(),
                (None, Some(a)) => view! { <Offer current=u.current available=a/> }.into_any(),
            })}
        </div>
    }
}

/// At start, when a newer version (not skipped) is offered: what it is and the choice.
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let later = RwSignal::new(false);
    move || {
        // Settings › About shows the same offer.
        let u = ctx.update.get().filter(|_| ctx.page.get() != crate::app::Page::Settings)?;
        let a = u.available.filter(|a| !a.skipped && !later.get())?;
        Some(view! {
            <div class="panel update-banner" id="update-banner" role="status">
                <Offer current=u.current available=a/>
                <button id="update-later" on:click=move |_| later.set(true)>"Later"</button>
            </div>
        })
    }
}

/// An update on offer: its version, date and notes; install (with progress) or skip it.
#[component]
fn Offer(current: String, available: AvailableUpdate) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let progress = RwSignal::new(None::<UpdateProgress>);
    let error = RwSignal::new(None::<ErrorInfo>);
    let busy = RwSignal::new(false);
    let version = available.version.clone();
    let install = {
        let version = version.clone();
        move |_| {
            let version = version.clone();
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                let r = ipc::call_with_channel::<(), UpdateProgress>("update_install", json!({ "version": version }), "progress", move |p| {
                    progress.set(Some(p))
                })
                .await;
                // On success the app restarts into the new version; only a failure comes back.
                if let Err(e) = r {
                    progress.set(None);
                    error.set(Some(e));
                }
                busy.set(false);
            })
        }
    };
    let skip = {
        let version = version.clone();
        move |_| {
            let version = version.clone();
            spawn_local(async move {
                match ipc::call::<()>("update_skip", json!({ "version": version })).await {
                    Ok(()) => ctx.update.update(|u| {
                        if let Some(a) = u.as_mut().and_then(|u| u.available.as_mut()) {
                            a.skipped = true;
                        }
                    }),
                    Err(e) => error.set(Some(e)),
                }
            })
        }
    };
    let notes = if available.notes.trim().is_empty() { "The release gives no notes.".to_string() } else { available.notes.clone() };
    view! {
        <div id="update-offer" data-version=version.clone()>
            <strong>{format!("Vigil {version} is available")}</strong>
            <span class="muted">{format!(" (you have {current}{})", available.date.clone().map(|d| format!("; released {d}")).unwrap_or_default())}</span>
            <details open>
                <summary>"What's new"</summary>
                <pre class="notes" id="update-notes">{notes}</pre>
            </details>
            <div class="row">
                <button class="primary" id="update-install" on:click=install disabled=move || busy.get()>"Install and restart"</button>
                {(!available.skipped).then(|| view! { <button id="update-skip" on:click=skip disabled=move || busy.get()>"Skip this version"</button> })}
                {move || progress.get().map(|p| view! {
                    <span id="update-progress" class="muted">{match p {
                        UpdateProgress::Downloading { received, total: Some(t) } if t > 0 => format!("Downloading… {}%", received * 100 / t),
                        UpdateProgress::Downloading { received, .. } => format!("Downloading… {} KB", received / 1024),
                        UpdateProgress::Installing => "Signature checked; installing…".into(),
                        UpdateProgress::Installed { version } => format!("Vigil {version} installed; restarting…"),
                    }}</span>
                })}
            </div>
            {move || error.get().map(|e| view! { <div class="result bad" id="update-error" data-kind=e.kind.clone()>{ipc::describe(&e)}</div> })}
        </div>
    }
}

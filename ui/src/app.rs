//! The shell: sidebar navigation, theme, the shared state every page reads.

use crate::ipc;
use crate::pages;
use leptos::prelude::*;
use leptos::task::spawn_local;
use vigil_dto::{AppInfo, CheckReport, Environment, ErrorInfo, Theme};
use wasm_bindgen::JsCast;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Environments,
    Metrics,
    Alarms,
    Audit,
    Jobs,
    Services,
    Timeline,
    Backups,
    Dr,
    Deploy,
    Settings,
}

/// A short message in the corner, optionally with an action (e.g. Undo).
#[derive(Clone)]
pub struct Toast {
    pub message: String,
    pub action: Option<(String, std::sync::Arc<dyn Fn() + Send + Sync>)>,
}

/// State shared by all pages (signals are cheap handles).
#[derive(Clone, Copy)]
pub struct Ctx {
    pub page: RwSignal<Page>,
    pub envs: RwSignal<Vec<Environment>>,
    /// Whether the environments were listed once, and why the last listing failed.
    pub envs_loaded: RwSignal<bool>,
    pub envs_error: RwSignal<Option<ErrorInfo>>,
    pub theme: RwSignal<Theme>,
    pub info: RwSignal<Option<AppInfo>>,
    /// The latest connection check per environment name.
    pub checks: RwSignal<Vec<CheckReport>>,
    pub error: RwSignal<Option<ErrorInfo>>,
    pub toast: RwSignal<Option<Toast>>,
    /// The last update check (at start, or from Settings › About).
    pub update: RwSignal<Option<vigil_dto::update::UpdateStatus>>,
}

impl Ctx {
    pub fn current(&self) -> Option<Environment> {
        self.envs.with(|v| v.iter().find(|e| e.current).cloned())
    }

    pub async fn reload_envs(&self) {
        match ipc::call0::<Vec<Environment>>("list_environments").await {
            Ok(v) => {
                self.envs_error.set(None);
                self.envs.set(v);
            }
            Err(e) => self.envs_error.set(Some(e)),
        }
        self.envs_loaded.set(true);
    }

    pub fn check_of(&self, name: &str) -> Option<CheckReport> {
        self.checks.with(|v| v.iter().find(|c| c.environment == name).cloned())
    }

    pub async fn check(&self, name: String) {
        match ipc::call::<CheckReport>("check_environment", serde_json::json!({ "name": name })).await {
            Ok(report) => self.checks.update(|v| {
                v.retain(|c| c.environment != report.environment);
                v.push(report);
            }),
            Err(e) => self.error.set(Some(e)),
        }
    }

    /// Started read-only: no changing action is shown (the shell refuses them anyway).
    pub fn read_only(&self) -> bool {
        self.info.with(|i| i.as_ref().is_some_and(|i| i.read_only))
    }

    pub fn toast(&self, message: impl Into<String>) {
        self.toast.set(Some(Toast { message: message.into(), action: None }));
    }
}

fn apply_theme(theme: Theme) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
}

/// Arrow keys move focus between sidebar items (Enter/Space activate them as buttons).
fn nav_keys(ev: web_sys::KeyboardEvent) {
    let step: i32 = match ev.key().as_str() {
        "ArrowDown" => 1,
        "ArrowUp" => -1,
        _ => return,
    };
    ev.prevent_default();
    let Ok(items) = document().query_selector_all(".nav-item") else { return };
    let active = document().active_element();
    let n = items.length() as i32;
    let pos = (0..n).find(|&i| items.item(i as u32).map(|x| x.dyn_into::<web_sys::Element>().ok()) == Some(active.clone())).unwrap_or(0);
    let next = (pos + step).rem_euclid(n.max(1));
    if let Some(el) = items.item(next as u32).and_then(|x| x.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx {
        page: RwSignal::new(Page::Environments),
        envs: RwSignal::new(vec![]),
        envs_loaded: RwSignal::new(false),
        envs_error: RwSignal::new(None),
        theme: RwSignal::new(Theme::System),
        info: RwSignal::new(None),
        checks: RwSignal::new(vec![]),
        error: RwSignal::new(None),
        toast: RwSignal::new(None),
        update: RwSignal::new(None),
    };
    provide_context(ctx);
    Effect::new(move |_| apply_theme(ctx.theme.get()));

    spawn_local(async move {
        if let Ok(t) = ipc::call0::<Theme>("get_theme").await {
            ctx.theme.set(t);
        }
        if let Ok(i) = ipc::call0::<AppInfo>("app_info").await {
            ctx.info.set(Some(i));
        }
        ctx.reload_envs().await;
        // Interactive from here on (the startup benchmark and scripts/run wait for this).
        let _ = ipc::call0::<()>("ui_ready").await;
        // Check the current environment at start, so its state is visible at once.
        if let Some(env) = ctx.current() {
            ctx.check(env.name).await;
        }
        // Offered, never installed, at start: the operator chooses when (a failed check stays quiet
        // here; Settings › About shows it).
        if let Ok(u) = ipc::call0::<vigil_dto::update::UpdateStatus>("update_check").await {
            ctx.update.set(Some(u));
        }
    });

    let nav = move |page: Page, id: &'static str, label: &'static str| {
        view! {
            <button class="nav-item" id=id
                aria-current=move || if ctx.page.get() == page { "page" } else { "false" }
                on:click=move |_| ctx.page.set(page)>
                {label}
            </button>
        }
    };

    view! {
        <div class="shell">
            <nav class="sidebar" aria-label="Main" on:keydown=nav_keys>
                <div class="brand"><img class="brand-mark" src="icon.png" alt=""/>"Vigil"</div>
                {nav(Page::Environments, "nav-environments", "Environments")}
                {nav(Page::Metrics, "nav-metrics", "Metrics")}
                {nav(Page::Alarms, "nav-alarms", "Alarms")}
                {nav(Page::Audit, "nav-audit", "Audit log")}
                {nav(Page::Jobs, "nav-jobs", "Jobs")}
                {nav(Page::Services, "nav-services", "Services")}
                {nav(Page::Timeline, "nav-timeline", "Timeline")}
                {nav(Page::Backups, "nav-backups", "Backups")}
                {nav(Page::Dr, "nav-dr", "DR")}
                {nav(Page::Deploy, "nav-deploy", "Deploy")}
                {nav(Page::Settings, "nav-settings", "Settings")}
                <div class="sidebar-footer">
                    <div>"Environment"</div>
                    <div class="current-env" id="current-env">
                        {move || ctx.current().map(|e| e.name).unwrap_or_else(|| "none selected".into())}
                    </div>
                    {move || ctx.current().and_then(|e| ctx.check_of(&e.name)).map(|c| match (&c.identity, &c.error) {
                        (Some(id), _) => view! { <div><span class="badge ok">"connected"</span>" "<span class="mono">{id.account.clone()}</span></div> }.into_any(),
                        (_, Some(_)) => view! { <div><span class="badge bad">"not connected"</span></div> }.into_any(),
                        _ => ().into_any(),
                    })}
                    {move || ctx.info.get().filter(|i| i.sandbox).map(|_| view! { <div class="muted">"local sandbox"</div> })}
                    {move || ctx.read_only().then(|| view! { <div><span class="badge" id="read-only">"read-only"</span></div> })}
                </div>
            </nav>
            <main>
                {move || ctx.error.get().map(|e| view! {
                    <div class="banner" role="alert">
                        {e.message.clone()}
                        {e.hint.clone().map(|h| view! { <div class="hint">{h}</div> })}
                        " "<button on:click=move |_| ctx.error.set(None)>"Dismiss"</button>
                    </div>
                })}
                <pages::settings::UpdateBanner/>
                {move || match ctx.page.get() {
                    Page::Environments => view! { <pages::environments::EnvironmentsPage/> }.into_any(),
                    Page::Metrics => view! { <pages::metrics::MetricsPage/> }.into_any(),
                    Page::Alarms => view! { <pages::alarms::AlarmsPage/> }.into_any(),
                    Page::Audit => view! { <pages::audit::AuditPage/> }.into_any(),
                    Page::Jobs => view! { <pages::jobs::JobsPage/> }.into_any(),
                    Page::Services => view! { <pages::services::ServicesPage/> }.into_any(),
                    Page::Timeline => view! { <pages::timeline::TimelinePage/> }.into_any(),
                    Page::Backups => view! { <pages::backups::BackupsPage/> }.into_any(),
                    Page::Dr => view! { <pages::dr::DrPage/> }.into_any(),
                    Page::Deploy => view! { <pages::deploy::DeployPage/> }.into_any(),
                    Page::Settings => view! { <pages::settings::SettingsPage/> }.into_any(),
                }}
            </main>
        </div>
        {move || ctx.toast.get().map(|t| {
            let action = t.action.clone();
            view! {
                <div class="toast" role="status">
                    <span>{t.message.clone()}</span>
                    {action.map(|(label, f)| view! {
                        <button class="primary" on:click=move |_| { f(); ctx.toast.set(None); }>{label}</button>
                    })}
                    <button aria-label="Close" on:click=move |_| ctx.toast.set(None)>"×"</button>
                </div>
            }
        })}
    }
}

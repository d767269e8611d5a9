//! Audit page: the platform's de-ID audit log for compliance officers. Where the database is
//! (set_platform_db, set_db_password, check_platform_db), filtered search in keyset pages
//! (audit_search), one record whole (audit_record), the summary with its chart (audit_summary),
//! Verify (verify_audit), and the evidence exports, CSV (export_audit_csv) and the PDF report
//! (export_audit_pdf); long work shows the progress the shell pushes over a channel and can be
//! cancelled (cancel_task).

use crate::app::Ctx;
use crate::components::{activates, AsyncState, Dialog};
use crate::ipc;
use crate::pages::metrics::{is_dark, when};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::units::counted;
use vigil_dto::{
    AuditCursor, AuditFilter, AuditPage, AuditRecordDetail, AuditRow, AuditSummary, AuditVerification, ChartView, DbAuth, DbCheck, Environment,
    ErrorInfo, PlatformDb, ReportSummary, WorkProgress,
};

const PAGE: u32 = 100;

/// A datetime-local value (local time) as RFC 3339 UTC.
fn local_to_rfc3339(v: &str) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(v));
    d.get_time().is_finite().then(|| String::from(d.to_iso_string()))
}

fn some(v: String) -> Option<String> {
    Some(v.trim().to_string()).filter(|s| !s.is_empty())
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let configured = move || ctx.current().and_then(|e| e.platform_db).is_some();
    view! {
        <div class="row">
            <h1>"Audit log"</h1>
            <span class="spacer"></span>
            <span class="muted">"De-identification events of the platform, hash-chained and signed."</span>
        </div>
        {move || match ctx.current() {
            None => view! { <p class="muted">"Choose an environment first (Environments → Use)."</p> }.into_any(),
            Some(env) => view! {
                <Database env=env.clone()/>
                <Show when=configured>
                    <Inspector/>
                </Show>
            }.into_any(),
        }}
    }
}

#[component]
fn Database(env: Environment) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let db = env.platform_db.clone();
    let host = RwSignal::new(db.as_ref().map(|d| d.host.clone()).unwrap_or_default());
    let port = RwSignal::new(db.as_ref().map(|d| d.port.to_string()).unwrap_or_else(|| "5432".into()));
    let database = RwSignal::new(db.as_ref().map(|d| d.database.clone()).unwrap_or_else(|| "patient_journey".into()));
    let user = RwSignal::new(db.as_ref().map(|d| d.user.clone()).unwrap_or_default());
    let auth = RwSignal::new(db.as_ref().map(|d| d.auth).unwrap_or(DbAuth::Password));
    let ca = RwSignal::new(db.as_ref().and_then(|d| d.ca_file.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let check = RwSignal::new(None::<Result<DbCheck, (String, Option<String>)>>);
    let busy = RwSignal::new(false);
    let name = env.name.clone();
    let name2 = env.name.clone();
    let run_check = move || {
        busy.set(true);
        spawn_local(async move {
            let r = ipc::call0::<DbCheck>("check_platform_db").await;
            check.set(Some(r.map_err(|e| (e.message, e.hint))));
            busy.set(false);
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(p) = port.get_untracked().trim().parse::<u16>() else {
            error.set(Some("The port must be a number from 1 to 65535.".into()));
            return;
        };
        let settings = PlatformDb {
            host: host.get_untracked(),
            port: p,
            database: database.get_untracked(),
            user: user.get_untracked(),
            auth: auth.get_untracked(),
            ca_file: some(ca.get_untracked()),
        };
        let name = name.clone();
        spawn_local(async move {
            match ipc::call::<Environment>("set_platform_db", json!({ "name": name, "db": settings })).await {
                Ok(_) => {
                    error.set(None);
                    let pw = password.get_untracked();
                    if auth.get_untracked() == DbAuth::Password && !pw.is_empty() {
                        if let Err(e) = ipc::call::<()>("set_db_password", json!({ "name": name, "password": pw })).await {
                            error.set(Some(ipc::describe(&e)));
                            return;
                        }
                        password.set(String::new());
                    }
                    ctx.reload_envs().await;
                    ctx.toast("Database settings saved");
                    run_check();
                }
                Err(e) => error.set(Some(ipc::describe(&e))),
            }
        });
    };
    if db.is_some() {
        run_check();
    }
    view! {
        <details class="panel" id="db-panel" open=db.is_none()>
            <summary>
                <b>"Platform database"</b>" "
                {move || match check.get() {
                    None => view! { <span class="badge">{if busy.get() { "checking…" } else { "not checked" }}</span> }.into_any(),
                    Some(Ok(c)) => view! { <span class="badge ok" id="db-status" data-ok="true">{format!("connected as {}{}", c.user, if c.tls { ", TLS" } else { "" })}</span> }.into_any(),
                    Some(Err(_)) => view! { <span class="badge bad" id="db-status" data-ok="false">"not connected"</span> }.into_any(),
                }}
            </summary>
            <form class="grid" id="db-form" on:submit=save>
                <label for="db-host">"Host"</label>
                <input id="db-host" required placeholder="pj-prod.cluster-….rds.amazonaws.com" prop:value=move || host.get() on:input=move |ev| host.set(event_target_value(&ev))/>
                <label for="db-port">"Port"</label>
                <input id="db-port" required prop:value=move || port.get() on:input=move |ev| port.set(event_target_value(&ev))/>
                <label for="db-name">"Database"</label>
                <input id="db-name" required prop:value=move || database.get() on:input=move |ev| database.set(event_target_value(&ev))/>
                <label for="db-user">"User"</label>
                <input id="db-user" required placeholder="a login in the pj_auditor role" prop:value=move || user.get() on:input=move |ev| user.set(event_target_value(&ev))/>
                <label for="db-auth">"Sign-in"</label>
                <select id="db-auth" on:change=move |ev| auth.set(match event_target_value(&ev).as_str() { "iam" => DbAuth::Iam, "trust" => DbAuth::Trust, _ => DbAuth::Password })>
                    <option value="password" selected=move || auth.get() == DbAuth::Password>"Password (kept in the OS keychain)"</option>
                    <option value="iam" selected=move || auth.get() == DbAuth::Iam>"RDS IAM token (the environment's AWS credentials)"</option>
                    <option value="trust" selected=move || auth.get() == DbAuth::Trust>"None (a database on this machine)"</option>
                </select>
                <Show when=move || auth.get() == DbAuth::Password>
                    <label for="db-password">"Password"</label>
                    <input id="db-password" type="password" autocomplete="off" placeholder="leave empty to keep the stored one"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                </Show>
                <label for="db-ca">"CA file"</label>
                <input id="db-ca" placeholder="optional: e.g. the RDS global-bundle.pem; system roots otherwise" prop:value=move || ca.get() on:input=move |ev| ca.set(event_target_value(&ev))/>
                {move || error.get().map(|e| view! { <div class="field-error" id="db-error" role="alert">{e}</div> })}
                <div class="form-actions">
                    <Show when=move || !ctx.read_only()>
                        <button type="submit" class="primary" id="db-save">"Save"</button>
                    </Show>
                    <button type="button" id="db-check" on:click=move |_| run_check() disabled=move || busy.get() || ctx.envs.with(|v| v.iter().find(|e| e.name == name2).and_then(|e| e.platform_db.clone()).is_none())>"Check"</button>
                </div>
            </form>
            {move || match check.get() {
                Some(Ok(c)) => view! {
                    <div class="result ok" id="db-check-result">
                        {format!("PostgreSQL {} · audit log {} · job ledger {}", c.server_version,
                            if c.can_read_audit { "readable" } else { "not readable (needs pj_auditor)" },
                            if c.can_read_jobs { "readable" } else { "not readable" })}
                    </div>
                }.into_any(),
                Some(Err((m, h))) => view! {
                    <div class="result bad" id="db-check-result" role="alert">{m}{h.map(|h| view! { <div class="hint">{h}</div> })}</div>
                }.into_any(),
                None => ().into_any(),
            }}
        </details>
    }
}

#[component]
fn Inspector() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let (from, to) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (actor, action, document, job, category, stream) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let rows = RwSignal::new(Vec::<AuditRow>::new());
    let next = RwSignal::new(None::<AuditCursor>);
    let searched = RwSignal::new(0u32);
    let loading = RwSignal::new(false);
    let summary = RwSignal::new(None::<(AuditSummary, ChartView)>);
    let detail = RwSignal::new(None::<AuditRecordDetail>);
    let error = RwSignal::new(None::<ErrorInfo>);
    let verification = RwSignal::new(None::<AuditVerification>);
    // Long work under way (verify, export, report); its progress once the core reports it
    // (an export's save dialog comes first).
    let busy = RwSignal::new(false);
    let working = RwSignal::new(None::<WorkProgress>);
    let report = RwSignal::new(None::<ReportSummary>);
    let filters = StoredValue::new(AuditFilter::default());
    let charts = NodeRef::<leptos::html::Div>::new();

    let current_filter = move || AuditFilter {
        from: local_to_rfc3339(&from.get_untracked()),
        to: local_to_rfc3339(&to.get_untracked()),
        actor: some(actor.get_untracked()),
        action: some(action.get_untracked()),
        document_id: some(document.get_untracked()),
        job_id: some(job.get_untracked()),
        category: some(category.get_untracked()),
        stream: some(stream.get_untracked()),
    };
    let summarising = RwSignal::new(false);
    // The summary reads every record the filter matches (seconds on millions): it runs when
    // asked for (Summarise, or a search), never just because the page opened.
    let summarise = move || {
        let width = charts.get_untracked().map(|el| el.client_width()).unwrap_or(700).max(320) as u32 - 26;
        let dark = is_dark(ctx.theme.get_untracked());
        let f = filters.get_value();
        summarising.set(true);
        spawn_local(async move {
            match ipc::call::<(AuditSummary, ChartView)>("audit_summary", json!({ "filter": f, "width": width, "dark": dark })).await {
                Ok(s) => summary.set(Some(s)),
                Err(_) => summary.set(None),
            }
            summarising.set(false);
        });
    };
    let load = move |cursor: Option<AuditCursor>, with_summary: bool| {
        let first_page = cursor.is_none();
        let f = filters.get_value();
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<AuditPage>("audit_search", json!({ "filter": f, "cursor": cursor, "limit": PAGE })).await {
                Ok(page) => {
                    error.set(None);
                    if first_page {
                        rows.set(page.rows);
                    } else {
                        rows.update(|v| v.extend(page.rows));
                    }
                    next.set(page.next);
                    searched.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
        });
        if first_page {
            summary.set(None);
            if with_summary {
                summarise();
            }
        }
    };
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        filters.set_value(current_filter());
        detail.set(None);
        load(None, true);
    };
    let open = move |st: String, seq: i64| {
        spawn_local(async move {
            match ipc::call::<AuditRecordDetail>("audit_record", json!({ "stream": st, "seq": seq })).await {
                Ok(d) => detail.set(Some(d)),
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    };
    // Long work (verify, exports) runs as a task whose progress the shell pushes over a channel.
    let started = move || {
        busy.set(true);
        working.set(None);
    };
    let ended = move || {
        busy.set(false);
        working.set(None);
    };
    let on_progress = move |p: WorkProgress| {
        // Messages of work that has ended are ignored.
        if busy.get_untracked() {
            working.set(Some(p));
        }
    };
    let verify = move |_| {
        let since = local_to_rfc3339(&from.get_untracked());
        verification.set(None);
        started();
        spawn_local(async move {
            let r =
                ipc::call_with_channel::<AuditVerification, WorkProgress>("verify_audit", json!({ "since": since }), "onProgress", on_progress).await;
            ended();
            match r {
                Ok(v) => verification.set(Some(v)),
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    };
    let export_csv = move |_| {
        // What the table shows: the filters of the last search.
        let f = filters.get_value();
        started();
        spawn_local(async move {
            let r = ipc::call_with_channel::<Option<vigil_dto::ExportSummary>, WorkProgress>(
                "export_audit_csv",
                json!({ "filter": f }),
                "onProgress",
                on_progress,
            )
            .await;
            ended();
            match r {
                Ok(Some(w)) if w.cancelled => ctx.toast("Export cancelled: no file was written."),
                Ok(Some(w)) => ctx.toast(format!("Exported {} records · SHA-256 {}", w.rows, &w.sha256[..16])),
                Ok(None) => {}
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    };
    let export_pdf = move |_| {
        let f = filters.get_value();
        report.set(None);
        started();
        spawn_local(async move {
            let r =
                ipc::call_with_channel::<Option<ReportSummary>, WorkProgress>("export_audit_pdf", json!({ "filter": f }), "onProgress", on_progress)
                    .await;
            ended();
            match r {
                Ok(Some(r)) if r.cancelled => ctx.toast("Report cancelled: no file was written."),
                Ok(Some(r)) => report.set(Some(r)),
                Ok(None) => {}
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    };
    filters.set_value(AuditFilter::default());
    load(None, false);

    let text_input = move |id: &'static str, label: &'static str, placeholder: &'static str, sig: RwSignal<String>| {
        view! {
            <label for=id>{label}</label>
            <input id=id placeholder=placeholder prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))/>
        }
    };
    view! {
        <div class="panel">
            <form class="filters" id="audit-filters" on:submit=search>
                <label for="f-from">"From"</label>
                <input id="f-from" type="datetime-local" prop:value=move || from.get() on:change=move |ev| from.set(event_target_value(&ev))/>
                <label for="f-to">"To"</label>
                <input id="f-to" type="datetime-local" prop:value=move || to.get() on:change=move |ev| to.set(event_target_value(&ev))/>
                {text_input("f-actor", "Actor", "worker:… or a user", actor)}
                <label for="f-action">"Action"</label>
                <select id="f-action" on:change=move |ev| action.set(event_target_value(&ev))>
                    <option value="">"any"</option>
                    {["deidentify", "view", "export", "reidentify_request"].into_iter().map(|a| view! { <option value=a>{a}</option> }).collect_view()}
                </select>
                {text_input("f-document", "Document id", "", document)}
                {text_input("f-job", "Job id", "", job)}
                {text_input("f-category", "PHI category", "name, date, ssn…", category)}
                {text_input("f-stream", "Stream", "pj-worker-…", stream)}
                <div class="form-actions">
                    <button type="submit" class="primary" id="audit-search" disabled=move || loading.get()>"Search"</button>
                    <button type="button" id="audit-verify" on:click=verify disabled=move || busy.get()>"Verify chains"</button>
                    <button type="button" id="audit-export-csv" on:click=export_csv disabled=move || busy.get()
                        title="The records of the last search, every column, oldest first">"Export CSV"</button>
                    <button type="button" id="audit-export-pdf" on:click=export_pdf disabled=move || busy.get()
                        title="A report of the last search: filters, totals, chart, a fresh verification and the data's SHA-256">"Export PDF report"</button>
                </div>
            </form>
        </div>
        {move || working.get().map(|w| {
            let what = match w.stage.as_str() {
                "verifying" => "Verifying chains…",
                "exporting" => "Reading records…",
                _ => "Summarising…",
            };
            let count = if w.total > 0 { format!("{} of {} records", w.done, w.total) } else { format!("{} records", w.done) };
            let task = w.task;
            view! {
                <div class="panel" id="work-progress" data-stage=w.stage.clone() data-total=w.total data-done=w.done>
                    <div class="row">
                        <span>{format!("{what} {count}")}</span>
                        <progress max=w.total.max(1).to_string() value=w.done.to_string()></progress>
                        <span class="spacer"></span>
                        <button id="work-cancel" on:click=move |_| {
                            spawn_local(async move { let _ = ipc::call::<bool>("cancel_task", json!({ "task": task })).await; })
                        }>"Cancel"</button>
                    </div>
                </div>
            }
        })}
        {move || report.get().map(|r| {
            let (class, verdict) = match r.verification.as_str() {
                "intact" => ("result ok", "the chains verified intact"),
                "broken" => ("result bad", "the chains are NOT intact (the report names the breaks)"),
                _ => ("result bad", "no verification: the environment names no audit public key"),
            };
            view! {
                <div class=class id="report-result" data-verification=r.verification.clone() data-records=r.records>
                    <b>{format!("Report written: {} records, {} pages; {verdict}.", r.records, r.pages)}</b>
                    <dl class="kv">
                        <dt>"Records up to"</dt><dd>{when(&r.to)}</dd>
                        <dt>"Data SHA-256"</dt><dd class="mono digest" id="report-data-sha">{r.data_sha256.clone()}</dd>
                        <dt>"PDF SHA-256"</dt><dd class="mono digest" id="report-sha">{r.sha256.clone()}</dd>
                    </dl>
                    <p class="muted">"The data SHA-256 is that of the CSV export of the same records; the PDF's own is in the operator log (Settings → Activity)."</p>
                </div>
            }
        })}
        {move || verification.get().map(|v| view! {
            <div class=if v.ok { "result ok" } else { "result bad" } id="verify-report" data-ok=v.ok.to_string()>
                <b>{if v.cancelled { "Cancelled: nothing concluded.".to_string() } else if v.ok {
                    format!("Intact: {} in {}; every link and signed checkpoint holds.", counted(v.records, "record"), counted(v.streams.len() as u64, "stream"))
                } else { "NOT intact.".to_string() }}</b>
                {v.since.clone().map(|s| view! { <span class="muted">{format!(" From {}.", when(&s))}</span> })}
                <ul>
                    {v.streams.into_iter().map(|s| { let kind = s.first_break.clone().map(|b| b.kind).unwrap_or_default(); view! {
                        <li data-stream=s.stream_id.clone() data-break=kind>
                            <span class="mono">{s.stream_id.clone()}</span>
                            {match s.first_break {
                                None => format!(": {} records (#{}–#{}), {} checkpoints, {} after the last one", s.records, s.first_seq, s.last_seq, s.checkpoints, s.unsigned_tail),
                                Some(b) => format!(": first break at #{} — {}: {}", b.seq, b.kind, b.detail),
                            }}
                        </li>
                    }}).collect_view()}
                </ul>
            </div>
        })}
        <div class="audit-grid" node_ref=charts>
            {move || summary.with(Option::is_none).then(|| view! {
                <div class="panel row" id="audit-summary-ask">
                    <span class="muted">"Totals per action and PHI category, and records over time, for the records these filters match."</span>
                    <button id="audit-summarise" on:click=move |_| summarise() disabled=move || summarising.get()>
                        {move || if summarising.get() { "Summarising…" } else { "Summarise" }}
                    </button>
                </div>
            })}
            {move || summary.get().map(|(s, chart)| {
                let src = format!("data:image/svg+xml;charset=utf-8,{}", js_sys::encode_uri_component(&chart.svg));
                view! {
                    <div class="panel" id="audit-summary" data-records=s.records>
                        <div class="row"><b>{format!("{} records", s.records)}</b>
                            {s.by_action.iter().map(|(k, v)| view! { <span class="badge">{format!("{k} {v}")}</span> }).collect_view()}
                        </div>
                        <div class="row chips">
                            {s.by_category.iter().map(|(k, v)| view! { <span class="badge">{format!("{k} {v}")}</span> }).collect_view()}
                        </div>
                        <img class="summary-chart" src=src alt="Audit records over time"/>
                    </div>
                }
            })}
        </div>
        <div class="panel">
            <AsyncState id="audit-state" empty_id="audit-empty" loading=loading.into() error=error.into()
                empty=Signal::derive(move || rows.with(Vec::is_empty))
                empty_text="No record matches these filters.">
                <table id="audit-table" data-searches=move || searched.get()>
                    <thead><tr><th>"Time"</th><th>"Record"</th><th>"Actor"</th><th>"Action"</th><th>"PHI found"</th></tr></thead>
                    <tbody>
                        {move || rows.get().into_iter().map(|r| {
                            let (st, seq) = (r.stream_id.clone(), r.seq);
                            let st2 = st.clone();
                            view! {
                                <tr class="clickable" tabindex="0" data-stream=r.stream_id.clone() data-seq=r.seq on:click=move |_| open(st.clone(), seq)
                                    on:keydown=activates(move || open(st2.clone(), seq))>
                                    <td class="nowrap">{when(&r.at)}</td>
                                    <td class="mono nowrap">{format!("{}#{}", r.stream_id, r.seq)}</td>
                                    <td>{r.actor.clone()}</td>
                                    <td>{r.action.clone()}</td>
                                    <td>{r.category_counts.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </AsyncState>
            {move || next.get().map(|c| view! {
                <button id="audit-more" on:click=move |_| load(Some(c.clone()), false) disabled=move || loading.get()>"Load more"</button>
            })}
        </div>
        {move || detail.get().map(|d| view! {
            <Dialog title=format!("{}#{}", d.row.stream_id, d.row.seq) id="audit-detail" wide=true mono_title=true on_close=Callback::new(move |_| detail.set(None))>
                    <dl class="kv">
                        <dt>"Time"</dt><dd>{when(&d.row.at)}</dd>
                        <dt>"Actor"</dt><dd>{d.row.actor.clone()}</dd>
                        <dt>"Action"</dt><dd>{d.row.action.clone()}</dd>
                        <dt>"Document"</dt><dd class="mono">{d.row.document_id.clone().unwrap_or_else(|| "–".into())}</dd>
                        <dt>"Job"</dt><dd class="mono">{d.row.job_id.clone().unwrap_or_else(|| "–".into())}</dd>
                        <dt>"Detector"</dt><dd>{d.row.detector_version.clone()}</dd>
                        <dt>"Counts"</dt><dd>{d.row.category_counts.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")}</dd>
                        <dt>"Spans"</dt><dd>{d.spans.iter().map(|s| format!("{}–{} {}", s.0, s.1, s.2)).collect::<Vec<_>>().join(", ")}</dd>
                        <dt>"Input SHA-256"</dt><dd class="mono breakable">{d.input_sha256.clone().unwrap_or_else(|| "–".into())}</dd>
                        <dt>"Output SHA-256"</dt><dd class="mono breakable">{d.output_sha256.clone().unwrap_or_else(|| "–".into())}</dd>
                        <dt>"Previous hash"</dt><dd class="mono breakable">{d.prev_hash.clone()}" "{link_badge(d.prev_link_ok)}</dd>
                        <dt>"Hash"</dt><dd class="mono breakable">{d.hash.clone()}" "
                            <span id="detail-hash" class=if d.hash_ok { "badge ok" } else { "badge bad" }>{if d.hash_ok { "matches the content" } else { "does not match the content" }}</span></dd>
                        <dt>"Next record"</dt><dd>{link_badge(d.next_link_ok)}</dd>
                    </dl>
                    <p class="muted">"Spans are character offsets in the extracted text; the log never holds the text itself."</p>
                    <div class="form-actions"><button id="detail-close" on:click=move |_| detail.set(None)>"Close"</button></div>
            </Dialog>
        })}
    }
}

fn link_badge(ok: Option<bool>) -> impl IntoView {
    match ok {
        Some(true) => view! { <span class="badge ok">"link holds"</span> }.into_any(),
        Some(false) => view! { <span class="badge bad">"link broken"</span> }.into_any(),
        None => view! { <span class="badge">"none"</span> }.into_any(),
    }
}

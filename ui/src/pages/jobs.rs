//! Jobs page: the platform's job ledger for operators. Failures grouped by error class with
//! what the class means (job_failures), the list with filters (jobs_list), one job with its
//! timeline, error and log lines (job_detail), and retries after a confirmation (retry_jobs).

use crate::app::Ctx;
use crate::components::{activates, AsyncState, Dialog};
use crate::ipc;
use crate::pages::metrics::when;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use vigil_dto::{ErrorInfo, FailureGroup, JobDetail, JobFilter, JobPage, JobRow, RetryReport};

const PAGE: u32 = 100;

/// What a retry would re-queue: one job, or a class.
#[derive(Clone, PartialEq)]
enum Retry {
    Job(String),
    Class(String, i64),
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let status = RwSignal::new(String::from("failed"));
    let class = RwSignal::new(String::new());
    let rows = RwSignal::new(Vec::<JobRow>::new());
    let next = RwSignal::new(None::<(String, String)>);
    let groups = RwSignal::new(None::<Vec<FailureGroup>>);
    let detail = RwSignal::new(None::<JobDetail>);
    let confirm = RwSignal::new(None::<Retry>);
    let error = RwSignal::new(None::<ErrorInfo>);
    let loading = RwSignal::new(false);
    let loads = RwSignal::new(0u32);

    let filter = move || JobFilter {
        status: Some(status.get_untracked()).filter(|s| !s.is_empty()),
        error_class: Some(class.get_untracked().trim().to_string()).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let load = move |cursor: Option<(String, String)>| {
        let first = cursor.is_none();
        let f = filter();
        loading.set(true);
        spawn_local(async move {
            match ipc::call::<JobPage>("jobs_list", json!({ "filter": f, "cursor": cursor, "limit": PAGE })).await {
                Ok(p) => {
                    error.set(None);
                    if first {
                        rows.set(p.rows);
                    } else {
                        rows.update(|v| v.extend(p.rows));
                    }
                    next.set(p.next);
                    loads.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            loading.set(false);
            if first {
                if let Ok(g) = ipc::call::<Vec<FailureGroup>>("job_failures", json!({ "filter": JobFilter::default() })).await {
                    groups.set(Some(g));
                }
            }
        });
    };
    let open = move |id: String| {
        spawn_local(async move {
            match ipc::call::<JobDetail>("job_detail", json!({ "id": id })).await {
                Ok(d) => detail.set(Some(d)),
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    };
    let do_retry = move |r: Retry| {
        confirm.set(None);
        let args = match &r {
            Retry::Job(id) => json!({ "job": id, "class": null }),
            Retry::Class(c, _) => json!({ "job": null, "class": c }),
        };
        spawn_local(async move {
            match ipc::call::<RetryReport>("retry_jobs", args).await {
                Ok(rep) => {
                    ctx.toast(format!(
                        "Re-queued {} job(s){}",
                        rep.requeued.len(),
                        if rep.skipped.is_empty() { String::new() } else { format!("; {} skipped: a retry cannot help them", rep.skipped.len()) }
                    ));
                    detail.set(None);
                    load(None);
                }
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    };
    load(None);

    view! {
        <div class="row">
            <h1>"Jobs"</h1>
            <span class="spacer"></span>
            <span class="muted">"The platform's job ledger: what failed, why, and what a retry can help."</span>
        </div>
        {move || groups.get().map(|g| view! {
            <div class="failure-groups" id="failure-groups">
                {g.is_empty().then(|| view! { <p class="muted">"No failed jobs."</p> })}
                {g.into_iter().map(|g| {
                    let (c1, c2, n) = (g.error_class.clone(), g.error_class.clone(), g.count);
                    view! {
                        <div class="panel failure" data-class=g.error_class.clone() data-count=g.count>
                            <div class="row">
                                <b>{g.error_class.clone()}</b>
                                <span class="badge bad">{g.count}</span>
                                {g.permanent.then(|| view! { <span class="badge">"permanent"</span> })}
                                <span class="spacer"></span>
                                <button class="small" on:click=move |_| { class.set(c1.clone()); status.set("failed".into()); load(None); }>"Show"</button>
                                {(!g.permanent && !ctx.read_only()).then(|| view! {
                                    <button class="small retry-class" on:click=move |_| confirm.set(Some(Retry::Class(c2.clone(), n)))>"Retry all"</button>
                                })}
                            </div>
                            <div class="muted">{g.meaning.clone()}</div>
                            <div class="mono small-text">{format!("latest {} · {}", g.latest.finished_at.as_deref().map(when).unwrap_or_default(), g.latest.source_uri)}</div>
                        </div>
                    }
                }).collect_view()}
            </div>
        })}
        <div class="panel">
            <div class="row toolbar">
                <label class="inline" for="job-status">"Status"</label>
                <select id="job-status" class="narrow" on:change=move |ev| { status.set(event_target_value(&ev)); load(None); }>
                    {["failed", "queued", "running", "succeeded", ""].into_iter().map(|s| view! {
                        <option value=s selected=move || status.get() == s>{if s.is_empty() { "any" } else { s }}</option>
                    }).collect_view()}
                </select>
                <label class="inline" for="job-class">"Error class"</label>
                <input id="job-class" class="narrow" placeholder="any" prop:value=move || class.get() on:input=move |ev| class.set(event_target_value(&ev))
                    on:change=move |_| load(None)/>
                <button id="jobs-refresh" on:click=move |_| load(None)>"Refresh"</button>
            </div>
            <AsyncState id="jobs-state" empty_id="no-jobs" loading=loading.into() error=error.into()
                empty=Signal::derive(move || rows.with(Vec::is_empty))
                empty_text=Signal::derive(move || match status.get().as_str() {
                    "" => "The job ledger has no job matching these filters.".to_string(),
                    s => format!("No {s} job matches these filters."),
                })>
                <table id="jobs-table" data-loads=move || loads.get()>
                    <thead><tr><th>"Created"</th><th>"Job"</th><th>"Status"</th><th>"Attempts"</th><th>"Error"</th><th>"Source"</th></tr></thead>
                    <tbody>
                        {move || rows.get().into_iter().map(|j| {
                            let id = j.id.clone();
                            let id2 = id.clone();
                            view! {
                                <tr class="clickable" tabindex="0" data-job=j.id.clone() data-status=j.status.clone() on:click=move |_| open(id.clone())
                                    on:keydown=activates(move || open(id2.clone()))>
                                    <td class="nowrap">{when(&j.created_at)}</td>
                                    <td class="mono">{j.id.chars().take(8).collect::<String>()}</td>
                                    <td>{j.status.clone()}</td>
                                    <td>{format!("{}/{}", j.attempts, j.max_attempts)}</td>
                                    <td>{j.error_class.clone().unwrap_or_default()}</td>
                                    <td class="mono breakable">{j.source_uri.clone()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </AsyncState>
            {move || next.get().map(|c| view! { <button id="jobs-more" on:click=move |_| load(Some(c.clone()))>"Load more"</button> })}
        </div>
        {move || detail.get().map(|d| {
            let j = d.job.clone();
            let id = j.id.clone();
            let why_not = if j.status != "failed" {
                Some(format!("The job is {}.", j.status))
            } else if j.permanent {
                Some(format!("A retry cannot help: {}.", d.meaning.clone().unwrap_or_default()))
            } else {
                None
            };
            view! {
                <Dialog title=j.id.clone() id="job-detail" wide=true mono_title=true on_close=Callback::new(move |_| detail.set(None))>
                        <dl class="kv">
                            <dt>"Source"</dt><dd class="mono breakable">{j.source_uri.clone()}</dd>
                            <dt>"Status"</dt><dd>{format!("{} · attempt {} of {}", j.status, j.attempts, j.max_attempts)}</dd>
                            <dt>"Created"</dt><dd>{when(&j.created_at)}</dd>
                            <dt>"Started"</dt><dd>{j.started_at.as_deref().map(when).unwrap_or_else(|| "–".into())}</dd>
                            <dt>"Finished"</dt><dd>{j.finished_at.as_deref().map(when).unwrap_or_else(|| "–".into())}{j.duration_ms.map(|ms| format!(" ({ms} ms)"))}</dd>
                            <dt>"Worker"</dt><dd>{j.worker_id.clone().unwrap_or_else(|| "–".into())}</dd>
                            <dt>"Error"</dt><dd id="job-error">{j.error_class.clone().map(|c| format!("{c}: {}", j.error_message.clone().unwrap_or_default())).unwrap_or_else(|| "–".into())}
                                {d.meaning.clone().map(|m| view! { <div class="muted">{m}</div> })}</dd>
                        </dl>
                        <h3>"Log lines"</h3>
                        {match d.logs_error.clone() {
                            Some(e) => view! { <p class="muted" id="job-logs-error">{e}</p> }.into_any(),
                            None if d.logs.is_empty() => view! { <p class="muted" id="job-logs-none">"No log line mentions this job in the log group."</p> }.into_any(),
                            None => view! {
                                <pre class="logs" id="job-logs">{d.logs.iter().map(|l| format!("{} {} {}\n", l.at, l.stream, l.message)).collect::<String>()}</pre>
                            }.into_any(),
                        }}
                        <div class="form-actions">
                            {match (why_not, ctx.read_only()) {
                                (_, true) => ().into_any(),
                                (Some(why), false) => view! { <span class="muted" id="job-no-retry">{why}</span> }.into_any(),
                                (None, false) => view! { <button class="primary" id="job-retry" on:click=move |_| confirm.set(Some(Retry::Job(id.clone())))>"Retry"</button> }.into_any(),
                            }}
                            <button id="job-close" on:click=move |_| detail.set(None)>"Close"</button>
                        </div>
                </Dialog>
            }
        })}
        {move || confirm.get().map(|r| {
            let text = match &r {
                Retry::Job(id) => format!("Re-queue job {} through the platform's work queue?", &id[..8.min(id.len())]),
                Retry::Class(c, n) => format!("Re-queue the {n} failed {c} job(s) a retry can help through the platform's work queue?"),
            };
            let r2 = r.clone();
            view! {
                <Dialog title="Retry".to_string() id="confirm-retry-dialog" alert=true on_close=Callback::new(move |_| confirm.set(None))>
                    <p>{text}</p>
                    <p class="muted">"The worker processes them again; the retry is recorded in the operator log."</p>
                    <div class="form-actions">
                        <button id="cancel-retry" on:click=move |_| confirm.set(None)>"Cancel"</button>
                        <button class="primary" id="confirm-retry" on:click=move |_| do_retry(r2.clone())>"Retry"</button>
                    </div>
                </Dialog>
            }
        })}
    }
}

//! Metrics page: the platform's CloudWatch dashboard, one component at a time (command:
//! metrics_dashboard; the core draws each chart as SVG), time ranges, auto-refresh, a hover
//! read-out of the nearest values, and exports as PNG, SVG or CSV (command: export_chart).

use crate::app::{Ctx, Toast};
use crate::components::{AsyncState, Tabs};
use crate::ipc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use std::time::Duration;
use vigil_dto::units::format_value;
use vigil_dto::{ChartView, DashboardView, ErrorInfo, ExportFormat, Theme, TimeRange};
use wasm_bindgen::JsCast;

const RANGES: [(&str, &str, i64); 5] =
    [("1h", "1 h", 3600), ("3h", "3 h", 10_800), ("12h", "12 h", 43_200), ("1d", "1 d", 86_400), ("1w", "1 w", 604_800)];
const REFRESH: [(u32, &str); 4] = [(0, "Off"), (10, "10 s"), (60, "1 min"), (300, "5 min")];
/// The component the page opens on: the platform's own metrics (the catalog's first).
const FIRST_COMPONENT: &str = "platform";

/// Whether charts should be drawn for a dark background.
pub fn is_dark(theme: Theme) -> bool {
    match theme {
        Theme::Dark => true,
        Theme::Light => false,
        Theme::System => window().match_media("(prefers-color-scheme: dark)").ok().flatten().map(|m| m.matches()).unwrap_or(false),
    }
}

/// A Unix time as the user's local date and time.
pub fn local_time(t: i64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t as f64 * 1000.0)).to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED).into()
}

/// RFC 3339 as local date and time (the text itself when it does not parse).
pub fn when(rfc3339: &str) -> String {
    let ms = js_sys::Date::parse(rfc3339);
    if ms.is_finite() {
        local_time((ms / 1000.0) as i64)
    } else {
        rfc3339.to_string()
    }
}

/// `YYYY-MM-DDTHH:MM` (a datetime-local input, local time) as Unix seconds.
fn parse_local(s: &str) -> Option<i64> {
    let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(s)).get_time();
    (!s.is_empty() && ms.is_finite()).then(|| (ms / 1000.0) as i64)
}

/// Pixel width of one chart: two columns when the page is wide enough.
fn chart_width(grid: NodeRef<leptos::html::Div>) -> u32 {
    let w = grid.get_untracked().map(|el| el.client_width()).unwrap_or(900).max(320) as u32;
    let cols = if w >= 860 { 2 } else { 1 };
    (w - 16 * (cols - 1)) / cols - 26
}

#[component]
pub fn MetricsPage() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let component = RwSignal::new(FIRST_COMPONENT.to_string());
    let range_key = RwSignal::new("1h");
    let custom = RwSignal::new(None::<(i64, i64)>);
    let (custom_from, custom_to) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let custom_error = RwSignal::new(None::<String>);
    let show_custom = RwSignal::new(false);
    let every = RwSignal::new(0u32);
    let data = RwSignal::new(None::<DashboardView>);
    let loading = RwSignal::new(false);
    let error = RwSignal::new(None::<ErrorInfo>);
    let refreshes = RwSignal::new(0u32);
    let generation = StoredValue::new(0u32);
    let grid = NodeRef::<leptos::html::Div>::new();

    let fetch = move || {
        let range = match range_key.get_untracked() {
            "custom" => match custom.get_untracked() {
                Some((start, end)) => TimeRange::Between { start, end },
                None => return,
            },
            k => TimeRange::Last { seconds: RANGES.iter().find(|r| r.0 == k).map(|r| r.2).unwrap_or(3600) },
        };
        let args = json!({
            "selection": [component.get_untracked()],
            "range": range,
            "width": chart_width(grid),
            "dark": is_dark(ctx.theme.get_untracked()),
        });
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        loading.set(true);
        spawn_local(async move {
            let r = ipc::call::<DashboardView>("metrics_dashboard", args).await;
            if generation.get_value() != mine {
                return; // a newer refresh was started; its answer counts
            }
            loading.set(false);
            match r {
                Ok(v) => {
                    error.set(None);
                    data.set(Some(v));
                    refreshes.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // Fetch again whenever the component, the range or the theme changes.
    Effect::new(move |_| {
        component.track();
        range_key.track();
        custom.track();
        ctx.theme.track();
        fetch();
    });
    let timer = StoredValue::new(None::<IntervalHandle>);
    Effect::new(move |_| {
        let secs = every.get();
        if let Some(h) = timer.get_value() {
            h.clear();
        }
        timer.set_value((secs > 0).then(|| set_interval_with_handle(fetch, Duration::from_secs(secs as u64)).ok()).flatten());
    });
    on_cleanup(move || {
        if let Some(h) = timer.get_value() {
            h.clear();
        }
    });

    let apply_custom = move |_| match (parse_local(&custom_from.get_untracked()), parse_local(&custom_to.get_untracked())) {
        (Some(a), Some(b)) if b > a => {
            custom_error.set(None);
            custom.set(Some((a, b)));
            range_key.set("custom");
            show_custom.set(false);
        }
        (Some(_), Some(_)) => custom_error.set(Some("The range must end after it starts.".into())),
        _ => custom_error.set(Some("Pick a start and an end date and time.".into())),
    };

    let export = Callback::new(move |(chart, format): (ChartView, ExportFormat)| {
        let Some(d) = data.get_untracked() else { return };
        // The core fetches the chart's data again for this range and width: the webview sends no data.
        let args = json!({
            "chart": chart.data.id, "start": d.start, "end": d.end, "width": chart_width(grid), "format": format,
            "dark": is_dark(ctx.theme.get_untracked()),
        });
        spawn_local(async move {
            match ipc::call::<Option<String>>("export_chart", args).await {
                Ok(Some(path)) => ctx.toast.set(Some(Toast { message: format!("Saved {path}"), action: None })),
                Ok(None) => {}
                Err(e) => ctx.error.set(Some(e)),
            }
        });
    });

    let components = move || {
        data.with(|d| d.as_ref().map(|d| d.components.clone())).unwrap_or_else(|| vec![(FIRST_COMPONENT.to_string(), "Platform".to_string())])
    };

    view! {
        <div class="row">
            <h1>"Metrics"</h1>
            <span class="spacer"></span>
            <span class="muted" id="dash-status" data-refreshes=move || refreshes.get() data-range=move || range_key.get()
                data-loading=move || loading.get().to_string()>
                {move || data.get().map(|d| format!(
                    "Updated {} · {} GetMetricData call{} · times in {}",
                    local_time(d.fetched_at), d.api_calls, if d.api_calls == 1 { "" } else { "s" }, d.time_zone))}
                {move || loading.get().then_some(" · refreshing…")}
            </span>
        </div>
        <Tabs tabs=Signal::derive(components) selected=component tab_prefix="comp-" label="Component">
            <div class="row toolbar">
                <div class="segmented" role="group" aria-label="Time range">
                    {RANGES.iter().map(|(key, label, _)| view! {
                        <button id=format!("range-{key}") aria-pressed=move || (range_key.get() == *key).to_string()
                            on:click=move |_| range_key.set(key)>{*label}</button>
                    }).collect_view()}
                    <button id="range-custom" aria-pressed=move || (range_key.get() == "custom" || show_custom.get()).to_string()
                        on:click=move |_| show_custom.update(|v| *v = !*v)>"Custom…"</button>
                </div>
                <span class="spacer"></span>
                <label class="inline" for="auto-refresh">"Auto-refresh"</label>
                <select id="auto-refresh" class="narrow" on:change=move |ev| every.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {REFRESH.iter().map(|(s, label)| view! { <option value=s.to_string() selected=move || every.get() == *s>{*label}</option> }).collect_view()}
                </select>
                <button id="refresh" on:click=move |_| fetch() disabled=move || loading.get()>"Refresh"</button>
            </div>
            <Show when=move || show_custom.get()>
                <div class="row toolbar" id="custom-range">
                    <label class="inline">"From" <input type="datetime-local" id="custom-from" prop:value=move || custom_from.get()
                        on:change=move |ev| custom_from.set(event_target_value(&ev))/></label>
                    <label class="inline">"to" <input type="datetime-local" id="custom-to" prop:value=move || custom_to.get()
                        on:change=move |ev| custom_to.set(event_target_value(&ev))/></label>
                    <button id="custom-apply" class="primary" on:click=apply_custom>"Apply"</button>
                    <span class="muted">"Local time. CloudWatch keeps 1-minute data for 15 days, 5-minute for 63 days, hourly for 455 days."</span>
                </div>
            </Show>
            {move || custom_error.get().map(|e| view! { <div class="field-error" role="alert">{e}</div> })}
            {move || data.get().filter(|d| !d.unavailable.is_empty()).map(|d| view! {
                <div class="notice" id="unavailable">
                    {format!("{} chart{} not shown: the environment's deployment does not name what {} watch ({}).",
                        d.unavailable.len(), if d.unavailable.len() == 1 { " is" } else { "s are" },
                        if d.unavailable.len() == 1 { "it would" } else { "they would" }, d.unavailable.join("; "))}
                    " Name them under Environments → Edit → Deployment."
                </div>
            })}
            <div class="charts" node_ref=grid>
                <AsyncState id="dash-state" empty_id="no-charts" loading=loading.into() error=error.into()
                    empty=Signal::derive(move || data.with(|d| d.as_ref().is_none_or(|d| d.charts.is_empty())))
                    empty_text="No chart of this component can be drawn for this environment (see above).">
                    {move || data.get().map(|d| d.charts.into_iter().map(|c| view! { <ChartCard chart=c on_export=export/> }).collect_view())}
                </AsyncState>
            </div>
        </Tabs>
    }
}

/// One series' reading at the pointer.
#[derive(Clone)]
struct Reading {
    label: String,
    color: String,
    value: String,
    /// Position of the point, in CSS pixels over the image.
    y: f64,
}

#[derive(Clone)]
struct Hover {
    /// Crosshair position and extent, in CSS pixels over the image.
    x: f64,
    top: f64,
    height: f64,
    /// The read-out goes left of the crosshair in the right half.
    flip: bool,
    time: String,
    readings: Vec<Reading>,
}

/// The point of `points` with a value nearest to `t`.
fn nearest(points: &[(i64, Option<f64>)], t: f64) -> Option<(i64, f64)> {
    points.iter().filter_map(|(pt, v)| v.map(|v| (*pt, v))).min_by(|a, b| (a.0 as f64 - t).abs().total_cmp(&(b.0 as f64 - t).abs()))
}

#[component]
fn ChartCard(chart: ChartView, on_export: Callback<(ChartView, ExportFormat)>) -> impl IntoView {
    let hover = RwSignal::new(None::<Hover>);
    let points: usize = chart.data.series.iter().map(|s| s.points.iter().filter(|p| p.1.is_some()).count()).sum();
    let src = format!("data:image/svg+xml;charset=utf-8,{}", js_sys::encode_uri_component(&chart.svg));
    let plot = chart.plot;
    let (series, colors, unit) = (chart.data.series.clone(), chart.colors.clone(), chart.data.unit.clone());
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some(el) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let rect = el.get_bounding_client_rect();
        if rect.width() <= 0.0 || plot.width <= 0.0 {
            return;
        }
        let k = plot.image_width as f64 / rect.width();
        let px = (ev.client_x() as f64 - rect.left()) * k;
        if px < plot.left || px > plot.left + plot.width {
            hover.set(None);
            return;
        }
        let t = plot.x_min as f64 + (px - plot.left) / plot.width * (plot.x_max - plot.x_min) as f64;
        let mut at = None;
        let readings: Vec<Reading> = series
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let (pt, v) = nearest(&s.points, t)?;
                at.get_or_insert(pt);
                let y = plot.top + (plot.y_max - v) / (plot.y_max - plot.y_min) * plot.height;
                Some(Reading { label: s.label.clone(), color: colors.get(i).cloned().unwrap_or_default(), value: format_value(v, &unit), y: y / k })
            })
            .collect();
        if readings.is_empty() {
            hover.set(None);
            return;
        }
        let x = at.map(|pt| plot.left + (pt - plot.x_min) as f64 / (plot.x_max - plot.x_min).max(1) as f64 * plot.width).unwrap_or(px);
        hover.set(Some(Hover {
            x: x / k,
            top: plot.top / k,
            height: plot.height / k,
            flip: x > plot.left + plot.width / 2.0,
            time: at.map(local_time).unwrap_or_default(),
            readings,
        }));
    };
    let card = chart.clone();
    let exp = move |f: ExportFormat| {
        let c = card.clone();
        move |_| on_export.run((c.clone(), f))
    };
    let id = chart.data.id.clone();
    view! {
        <section class="chart-card" data-chart=id.clone() data-points=points data-period=chart.data.period
            data-error=chart.data.error.is_some().to_string()>
            <div class="row chart-head">
                <h3>{chart.data.title.clone()}<span class="muted">{format!(" · {}, {} s period", chart.data.unit, chart.data.period)}</span></h3>
                <span class="exports">
                <button class="small export-png" title="Save the chart as PNG" on:click=exp(ExportFormat::Png)>"PNG"</button>
                <button class="small export-svg" title="Save the chart as SVG" on:click=exp(ExportFormat::Svg)>"SVG"</button>
                <button class="small export-csv" title="Save the data as CSV" on:click=exp(ExportFormat::Csv)>"CSV"</button>
                </span>
            </div>
            {chart.data.error.clone().map(|e| view! { <div class="chart-error" role="alert">{e}</div> })}
            <div class="chart-plot" on:mousemove=on_move on:mouseleave=move |_| hover.set(None)>
                <img src=src alt=format!("{} chart", chart.data.title) draggable="false"/>
                {move || hover.get().map(|h| {
                    view! {
                        <div class="crosshair" style:left=format!("{:.1}px", h.x) style:top=format!("{:.1}px", h.top) style:height=format!("{:.1}px", h.height)></div>
                        {h.readings.iter().map(|r| view! {
                            <span class="dot" style:left=format!("{:.1}px", h.x) style:top=format!("{:.1}px", r.y) style:background=r.color.clone()></span>
                        }).collect_view()}
                        <div class="readout" class:flip=h.flip style:left=format!("{:.1}px", h.x)>
                            <div class="muted">{h.time.clone()}</div>
                            {h.readings.iter().map(|r| view! {
                                <div><span class="swatch" style:background=r.color.clone()></span>{format!("{} ", r.label)}<b>{r.value.clone()}</b></div>
                            }).collect_view()}
                        </div>
                    }
                })}
            </div>
        </section>
    }
}

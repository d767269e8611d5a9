//! Dashboard benchmarks: LTTB on 1 M points (baseline: one min/max pass over the same
//! points); a 40-series refresh against the AWS emulator batched into one GetMetricData
//! call versus one call per series (the baseline); drawing each catalog chart as SVG (and
//! PNG for export) versus serialising its data as JSON; and a full dashboard refresh (every
//! catalog chart fetched and drawn) versus the fetch alone — all in the same run.
//! `cargo bench -p vigil-tests --bench dashboard` (moto from scripts/test's venv)

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use std::time::Instant;
use vigil_core::aws::cloudwatch::get_metric_data;
use vigil_core::metrics::catalog::{Chart, MetricRef, Series};
use vigil_core::metrics::{lttb, query};
use vigil_tests::Moto;

fn lttb_bench() {
    let pts: Vec<(f64, f64)> = (0..1_000_000).map(|i| (i as f64, ((i as f64) / 997.0).sin() * 100.0 + (i % 13) as f64)).collect();
    let (mut best, mut base) = (f64::MAX, f64::MAX);
    let mut sink = 0.0;
    for _ in 0..5 {
        let t = Instant::now();
        let s = lttb::lttb(&pts, 800);
        best = best.min(t.elapsed().as_secs_f64());
        sink += s[400].1;
        let t = Instant::now();
        let (mn, mx) = pts.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        base = base.min(t.elapsed().as_secs_f64());
        sink += mn + mx;
    }
    println!("LTTB 1,000,000 → 800 points: {:.1} ms (baseline min/max pass {:.2} ms, ratio {:.1})", best * 1e3, base * 1e3, best / base);
    std::hint::black_box(sink);
}

fn chart(i: usize) -> Chart {
    Chart {
        id: format!("c{i}"),
        title: format!("chart {i}"),
        unit: "Count".into(),
        threshold: None,
        min_period_seconds: None,
        series: (0..4)
            .map(|j| {
                Series::Metric(MetricRef {
                    label: format!("s{j}"),
                    namespace: "Bench".into(),
                    metric: format!("M{}", i * 4 + j),
                    dimensions: [("Environment".to_string(), "bench".to_string())].into_iter().collect(),
                    stat: "Sum".into(),
                })
            })
            .collect(),
    }
}

/// Every catalog chart, resolved for a deployment named "bench", fed one point a minute for an
/// hour; then the full refresh (fetch + draw) against the fetch alone, and per-chart drawing.
async fn full_dashboard(cw: &aws_sdk_cloudwatch::Client, endpoint: &str) {
    use vigil_core::metrics::{catalog, render};
    let params: std::collections::HashMap<String, String> =
        catalog::load().parameters.keys().map(|k| (k.clone(), if k == "environment" { "bench".to_string() } else { format!("bench-{k}") })).collect();
    let (resolved, missing) = catalog::load().resolve(&params);
    assert!(missing.is_empty(), "{missing:?}");
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    let mut metrics = std::collections::HashSet::new();
    for comp in &resolved.components {
        for chart in &comp.charts {
            for s in &chart.series {
                let refs = match s {
                    Series::Metric(m) => vec![m.clone()],
                    Series::Expression { inputs, .. } => inputs.clone(),
                };
                for m in refs {
                    if !metrics.insert((m.namespace.clone(), m.metric.clone(), format!("{:?}", m.dimensions))) {
                        continue;
                    }
                    let data: Vec<MetricDatum> = (1..=60)
                        .map(|k| {
                            let mut d = MetricDatum::builder()
                                .metric_name(&m.metric)
                                .timestamp(DateTime::from_secs(now - k * 60))
                                .value(50.0 + (k % 9) as f64);
                            for (n, v) in &m.dimensions {
                                d = d.dimensions(Dimension::builder().name(n).value(v).build());
                            }
                            d.build()
                        })
                        .collect();
                    cw.put_metric_data().namespace(&m.namespace).set_metric_data(Some(data)).send().await.unwrap();
                }
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let console =
        vigil_core::App::open(&dir.path().join("vigil.db"), vigil_core::aws::profiles::ProfileSource::from_contents("", ""), "bench").await.unwrap();
    console
        .environments()
        .add(&vigil_dto::EnvironmentInput {
            name: "bench".into(),
            credentials: vigil_dto::Credentials::Emulator,
            region: "us-east-1".into(),
            endpoint_url: Some(endpoint.to_string()),
            deployment: Default::default(),
            platform_db: None,
        })
        .await
        .unwrap();
    console.environments().select("bench").await.unwrap();
    let range = vigil_dto::TimeRange::Last { seconds: 3600 };
    let (width, height) = (428, 210);
    let (mut fetch_only, mut full) = (f64::MAX, f64::MAX);
    let mut last = None;
    let tz = chrono::Local;
    for _ in 0..5 {
        let t = Instant::now();
        let d = console.metrics().fetch(&[], range, width, &params).await.unwrap();
        fetch_only = fetch_only.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let d2 = console.metrics().fetch(&[], range, width, &params).await.unwrap();
        let view = render::dashboard_view(d2, vec![], width, height, false, &tz, now);
        full = full.min(t.elapsed().as_secs_f64());
        assert_eq!(view.charts.len(), d.charts.len());
        last = Some(d);
    }
    let d = last.unwrap();
    println!(
        "full refresh of {} charts against moto ({} GetMetricData calls): fetch + draw {:.0} ms; fetch alone {:.0} ms; ratio {:.2}",
        d.charts.len(),
        d.api_calls,
        full * 1e3,
        fetch_only * 1e3,
        full / fetch_only
    );

    // Per chart: SVG for the ui, PNG for export, against JSON of the same data.
    let style = render::Style::ui(width, height, false);
    let export = render::Style { width: 900, height: 320, dark: false, titled: true, scale: 2.0, bars: false };
    let rounds = 20;
    let (mut svg_t, mut png_t, mut json_t) = (0.0, 0.0, 0.0);
    let (mut svg_bytes, mut json_bytes, mut max_svg) = (0usize, 0usize, 0usize);
    for c in &d.charts {
        for _ in 0..rounds {
            let t = Instant::now();
            let s = render::svg(c, d.start, d.end, style, &tz).unwrap();
            svg_t += t.elapsed().as_secs_f64();
            svg_bytes += s.image.len();
            max_svg = max_svg.max(s.image.len());
            let t = Instant::now();
            let j = serde_json::to_string(c).unwrap();
            json_t += t.elapsed().as_secs_f64();
            json_bytes += j.len();
        }
        let t = Instant::now();
        std::hint::black_box(render::png(c, d.start, d.end, export, &tz).unwrap());
        png_t += t.elapsed().as_secs_f64();
    }
    let n = (d.charts.len() * rounds) as f64;
    let points: usize = d.charts.iter().map(|c| c.series.iter().map(|s| s.points.len()).sum::<usize>()).sum::<usize>() / d.charts.len();
    println!(
        "per chart ({} charts, {points} points on average, {width}×{height}): SVG {:.2} ms, {:.1} KB on average ({:.1} KB largest); JSON of the same data {:.3} ms, {:.1} KB; ratio time {:.0}, size {:.1}; PNG export 1800×640 {:.1} ms",
        d.charts.len(),
        svg_t / n * 1e3,
        svg_bytes as f64 / n / 1024.0,
        max_svg as f64 / 1024.0,
        json_t / n * 1e3,
        json_bytes as f64 / n / 1024.0,
        svg_t / json_t,
        svg_bytes as f64 / json_bytes as f64,
        png_t / d.charts.len() as f64 * 1e3
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    lttb_bench();
    let moto = Moto::start();
    let cw = aws_sdk_cloudwatch::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await);
    let now = chrono::Utc::now().timestamp() / 60 * 60;
    // 40 metrics, one point a minute for the last hour.
    for m in 0..40 {
        let data: Vec<MetricDatum> = (1..=60)
            .map(|k| {
                MetricDatum::builder()
                    .metric_name(format!("M{m}"))
                    .unit(StandardUnit::Count)
                    .timestamp(DateTime::from_secs(now - k * 60))
                    .value(k as f64)
                    .dimensions(Dimension::builder().name("Environment").value("bench").build())
                    .build()
            })
            .collect();
        cw.put_metric_data().namespace("Bench").set_metric_data(Some(data)).send().await.unwrap();
    }
    let charts: Vec<Chart> = (0..10).map(chart).collect();
    let plan = query::plan(&charts.iter().map(|c| (c, 60)).collect::<Vec<_>>());
    let all: Vec<_> = plan.batches.iter().flatten().map(|q| q.to_data()).collect();
    let vcw = vigil_core::aws::cloudwatch::CloudWatch::new(&vigil_tests::emulator_context(&moto.endpoint()).await, "bench");
    let (mut batched, mut single) = (f64::MAX, f64::MAX);
    let (mut batched_calls, mut single_calls) = (0, 0);
    for _ in 0..5 {
        let t = Instant::now();
        let mut calls = 0;
        for b in &plan.batches {
            let b: Vec<_> = b.iter().map(|q| q.to_data()).collect();
            let (r, c) = get_metric_data(&vcw, &b, now - 3600, now).await.unwrap();
            assert_eq!(r.values().map(|x| x.values.len()).sum::<usize>(), 40 * 60);
            calls += c;
        }
        batched = batched.min(t.elapsed().as_secs_f64());
        batched_calls = calls;
        let t = Instant::now();
        let mut calls = 0;
        for q in &all {
            let (_, c) = get_metric_data(&vcw, std::slice::from_ref(q), now - 3600, now).await.unwrap();
            calls += c;
        }
        single = single.min(t.elapsed().as_secs_f64());
        single_calls = calls;
    }
    println!(
        "refresh of 40 series × 60 points against moto: batched {batched_calls} call(s) {:.0} ms; one call per series {single_calls} calls {:.0} ms; ratio {:.2}",
        batched * 1e3,
        single * 1e3,
        batched / single
    );
    full_dashboard(&cw, &moto.endpoint()).await;
}

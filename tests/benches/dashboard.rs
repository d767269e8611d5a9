//! Dashboard benchmarks: LTTB on 1 M points (baseline: one min/max pass over the same
//! points), and a 40-series refresh against the AWS emulator batched into one GetMetricData
//! call versus one call per series (the baseline), both in the same run.
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
    let all: Vec<query::Query> = plan.batches.iter().flatten().cloned().collect();
    let (mut batched, mut single) = (f64::MAX, f64::MAX);
    let (mut batched_calls, mut single_calls) = (0, 0);
    for _ in 0..5 {
        let t = Instant::now();
        let mut calls = 0;
        for b in &plan.batches {
            let (r, c) = get_metric_data(&cw, b, now - 3600, now).await.unwrap();
            assert_eq!(r.values().map(|x| x.values.len()).sum::<usize>(), 40 * 60);
            calls += c;
        }
        batched = batched.min(t.elapsed().as_secs_f64());
        batched_calls = calls;
        let t = Instant::now();
        let mut calls = 0;
        for q in &all {
            let (_, c) = get_metric_data(&cw, std::slice::from_ref(q), now - 3600, now).await.unwrap();
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
}

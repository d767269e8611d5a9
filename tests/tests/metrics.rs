//! The dashboard query path against the AWS emulator: data put with PutMetricData comes back
//! through catalog → plan → batched GetMetricData → series with gaps.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use std::collections::HashMap;
use vigil_core::metrics::{catalog, dashboard};
use vigil_dto::TimeRange;
use vigil_tests::Moto;

async fn cloudwatch(moto: &Moto) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&vigil_tests::emulator_sdk_config(&moto.endpoint()).await)
}

/// The console's own CloudWatch module on the emulator.
async fn vigil_cloudwatch(moto: &Moto) -> vigil_core::aws::cloudwatch::CloudWatch {
    vigil_core::aws::cloudwatch::CloudWatch::new(&vigil_tests::emulator_context(&moto.endpoint()).await, "test")
}

fn datum(name: &str, at: i64, value: f64) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .unit(StandardUnit::Count)
        .timestamp(DateTime::from_secs(at))
        .value(value)
        .dimensions(Dimension::builder().name("Environment").value("sandbox").build())
        .dimensions(Dimension::builder().name("Component").value("deid-worker").build())
        .build()
}

#[tokio::test]
async fn put_metric_data_comes_back_through_the_dashboard() {
    let moto = Moto::start();
    let cw = cloudwatch(&moto).await;
    let now = chrono::Utc::now().timestamp();
    let minute = |m: i64| (now / 60 - m) * 60;
    // Documents every minute from 50 to 11 minutes ago, except 30 to 26 (the worker was down).
    let mut data = Vec::new();
    for m in 11..=50 {
        if !(26..=30).contains(&m) {
            data.push(datum("DocumentsIngested", minute(m), m as f64));
            data.push(datum("FailedJobs", minute(m), 1.0));
        }
    }
    cw.put_metric_data().namespace("PatientJourney").set_metric_data(Some(data)).send().await.unwrap();

    let params: HashMap<String, String> = [("environment".to_string(), "sandbox".to_string())].into_iter().collect();
    let (cat, _) = catalog::load().resolve(&params);
    let d = dashboard::fetch(&vigil_cloudwatch(&moto).await, &cat, &["platform".into()], TimeRange::Last { seconds: 3600 }, 800, now).await.unwrap();
    assert_eq!(d.api_calls, 1, "every platform chart in one GetMetricData call");
    let docs = d.charts.iter().find(|c| c.id == "documents").unwrap();
    assert_eq!((docs.period, docs.error.as_deref()), (60, None));
    let pts: HashMap<i64, Option<f64>> = docs.series[0].points.iter().copied().collect();
    assert_eq!(pts[&minute(40)], Some(40.0));
    assert_eq!(pts[&minute(11)], Some(11.0));
    assert_eq!(pts[&minute(28)], None, "a gap, not a line across it");
    assert_eq!(pts[&minute(5)], None);
}

#[tokio::test]
async fn a_failing_chart_shows_its_error_and_the_others_still_show() {
    let moto = Moto::start();
    let cw = cloudwatch(&moto).await;
    let now = chrono::Utc::now().timestamp();
    let at = (now / 60 - 5) * 60;
    let mut latency = datum("ProcessingLatency", at, 120.0);
    latency.unit = Some(StandardUnit::Milliseconds);
    let data = vec![datum("DocumentsIngested", at, 7.0), latency];
    cw.put_metric_data().namespace("PatientJourney").set_metric_data(Some(data)).send().await.unwrap();
    let params: HashMap<String, String> = [("environment".to_string(), "sandbox".to_string())].into_iter().collect();
    let (cat, _) = catalog::load().resolve(&params);
    // moto answers percentile statistics on stored data with HTTP 500, failing the whole call.
    let d = dashboard::fetch(&vigil_cloudwatch(&moto).await, &cat, &["platform".into()], TimeRange::Last { seconds: 3600 }, 800, now).await.unwrap();
    let chart = |id: &str| d.charts.iter().find(|c| c.id == id).unwrap();
    assert!(chart("latency").error.is_some(), "{:?}", chart("latency"));
    for ok in ["documents", "throughput", "failed_jobs", "failure_rate", "phi"] {
        assert_eq!(chart(ok).error, None, "{ok}");
    }
    assert!(chart("documents").series[0].points.contains(&(at, Some(7.0))));
    assert!(d.api_calls > 1, "the failed call was split to find the failing chart");
}

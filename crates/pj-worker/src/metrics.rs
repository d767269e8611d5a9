//! The worker's CloudWatch metrics, aggregated in memory and sent in batches.
//!
//! Namespace from the configuration (default `PatientJourney`); every datum has the dimensions
//! `Environment` and `Component` (`deid-worker`):
//! - `DocumentsIngested` (Count): documents de-identified in the period.
//! - `Throughput` (Count/Second): the same over the period's length.
//! - `ProcessingLatency` (Milliseconds): one value per document, fetch to commit (p50/p95 come
//!   from the values).
//! - `PhiEntities` (Count): per `Category` (extra dimension), identifiers replaced.
//! - `FailedJobs` (Count): failed attempts; also per `ErrorClass` (extra dimension).
//! - `BytesProcessed` (Bytes): source bytes de-identified.

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_smithy_types::DateTime as SmithyTime;
use pj_contract::metrics as m;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

pub const COMPONENT: &str = pj_contract::metrics::COMPONENT;
/// PutMetricData takes at most 150 distinct values per datum.
const MAX_VALUES: usize = 150;

struct Period {
    started: Instant,
    ingested: u64,
    bytes: u64,
    latencies_ms: BTreeMap<u64, u64>,
    phi: BTreeMap<&'static str, u64>,
    failed: BTreeMap<String, u64>,
}

impl Period {
    fn new() -> Period {
        Period { started: Instant::now(), ingested: 0, bytes: 0, latencies_ms: BTreeMap::new(), phi: BTreeMap::new(), failed: BTreeMap::new() }
    }
}

pub struct Metrics {
    environment: String,
    period: Mutex<Period>,
}

impl Metrics {
    pub fn new(environment: &str) -> Metrics {
        Metrics { environment: environment.to_string(), period: Mutex::new(Period::new()) }
    }

    pub fn document(&self, latency: Duration, bytes: u64, phi: &BTreeMap<&'static str, u64>) {
        let mut p = self.period.lock().expect("metrics lock");
        p.ingested += 1;
        p.bytes += bytes;
        *p.latencies_ms.entry(latency.as_millis() as u64).or_insert(0) += 1;
        for (c, n) in phi {
            *p.phi.entry(c).or_insert(0) += n;
        }
    }

    pub fn failure(&self, class: &str) {
        *self.period.lock().expect("metrics lock").failed.entry(class.to_string()).or_insert(0) += 1;
    }

    /// The period's data, and a new period started. Counts are sent even when zero, so alarms
    /// see "nothing failed" rather than missing data.
    pub fn take(&self) -> Vec<MetricDatum> {
        let p = std::mem::replace(&mut *self.period.lock().expect("metrics lock"), Period::new());
        let now = SmithyTime::from(SystemTime::now());
        let dims = |extra: Option<(&str, &str)>| {
            let mut d = vec![
                Dimension::builder().name(m::DIM_ENVIRONMENT).value(&self.environment).build(),
                Dimension::builder().name(m::DIM_COMPONENT).value(COMPONENT).build(),
            ];
            if let Some((k, v)) = extra {
                d.push(Dimension::builder().name(k).value(v).build());
            }
            d
        };
        let datum = |name: &str, unit: StandardUnit, value: f64, extra: Option<(&str, &str)>| {
            MetricDatum::builder().metric_name(name).unit(unit).value(value).timestamp(now).set_dimensions(Some(dims(extra))).build()
        };
        let secs = p.started.elapsed().as_secs_f64().max(1.0);
        let failed: u64 = p.failed.values().sum();
        let mut out = vec![
            datum(m::DOCUMENTS_INGESTED, StandardUnit::Count, p.ingested as f64, None),
            datum(m::THROUGHPUT, StandardUnit::CountSecond, p.ingested as f64 / secs, None),
            datum(m::FAILED_JOBS, StandardUnit::Count, failed as f64, None),
            datum(m::BYTES_PROCESSED, StandardUnit::Bytes, p.bytes as f64, None),
        ];
        for (class, n) in &p.failed {
            out.push(datum(m::FAILED_JOBS, StandardUnit::Count, *n as f64, Some((m::DIM_ERROR_CLASS, class))));
        }
        for (cat, n) in &p.phi {
            out.push(datum(m::PHI_ENTITIES, StandardUnit::Count, *n as f64, Some((m::DIM_CATEGORY, cat))));
        }
        let lat: Vec<(u64, u64)> = p.latencies_ms.into_iter().collect();
        for chunk in lat.chunks(MAX_VALUES) {
            out.push(
                MetricDatum::builder()
                    .metric_name(m::PROCESSING_LATENCY)
                    .unit(StandardUnit::Milliseconds)
                    .timestamp(now)
                    .set_dimensions(Some(dims(None)))
                    .set_values(Some(chunk.iter().map(|(v, _)| *v as f64).collect()))
                    .set_counts(Some(chunk.iter().map(|(_, c)| *c as f64).collect()))
                    .build(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_becomes_data_with_dimensions_and_value_arrays() {
        let m = Metrics::new("sandbox");
        for i in 0..200u64 {
            m.document(Duration::from_millis(i), 2048, &[("name", 2u64), ("date", 1)].into_iter().collect());
        }
        m.failure("corrupt");
        let data = m.take();
        let find = |name: &str| data.iter().filter(|d| d.metric_name() == Some(name)).collect::<Vec<_>>();
        assert_eq!(find("DocumentsIngested")[0].value(), Some(200.0));
        assert_eq!(find("FailedJobs").len(), 2);
        let phi = find("PhiEntities");
        assert_eq!(phi.len(), 2);
        assert!(phi.iter().any(|d| d.value() == Some(400.0) && d.dimensions().iter().any(|x| x.value() == Some("name"))));
        // 200 distinct latencies need two datums of at most 150 values.
        let lat = find("ProcessingLatency");
        assert_eq!(lat.iter().map(|d| d.values().len()).collect::<Vec<_>>(), vec![150, 50]);
        assert!(data.iter().all(|d| d.dimensions().iter().any(|x| x.name() == Some("Environment") && x.value() == Some("sandbox"))));
        // The next period starts empty.
        assert_eq!(m.take().iter().find(|d| d.metric_name() == Some("DocumentsIngested")).unwrap().value(), Some(0.0));
    }
}

//! The worker's CloudWatch metrics, as the dashboard catalog (deploy-bundles/metrics/catalog.json)
//! and the alarms (deploy-bundles/cloudformation/alarms.yaml) read them.

/// The namespace of every metric the worker publishes.
pub const NAMESPACE: &str = "PatientJourney";

/// The `Component` dimension of the worker's metrics.
pub const COMPONENT: &str = "deid-worker";

/// Dimensions: the platform environment, the component, and the breakdowns.
pub const DIM_ENVIRONMENT: &str = "Environment";
pub const DIM_COMPONENT: &str = "Component";
pub const DIM_ERROR_CLASS: &str = "ErrorClass";
pub const DIM_CATEGORY: &str = "Category";

/// Metric names.
pub const DOCUMENTS_INGESTED: &str = "DocumentsIngested";
pub const THROUGHPUT: &str = "Throughput";
pub const FAILED_JOBS: &str = "FailedJobs";
pub const BYTES_PROCESSED: &str = "BytesProcessed";
pub const PHI_ENTITIES: &str = "PhiEntities";
pub const PROCESSING_LATENCY: &str = "ProcessingLatency";

/// Every metric name of this contract version.
pub const ALL: [&str; 6] = [DOCUMENTS_INGESTED, THROUGHPUT, FAILED_JOBS, BYTES_PROCESSED, PHI_ENTITIES, PROCESSING_LATENCY];

#[cfg(test)]
mod tests {
    use super::*;

    /// The dashboard's catalog names only metrics the worker publishes, as it publishes them.
    #[test]
    fn the_catalog_reads_what_the_worker_writes() {
        let catalog: serde_json::Value = serde_json::from_str(include_str!("../../../deploy-bundles/metrics/catalog.json")).unwrap();
        let mut found = 0;
        let mut walk = vec![&catalog];
        while let Some(v) = walk.pop() {
            match v {
                serde_json::Value::Object(m) => {
                    if m.get("namespace").and_then(|n| n.as_str()) == Some(NAMESPACE) {
                        let metric = m["metric"].as_str().unwrap();
                        assert!(ALL.contains(&metric), "the catalog charts {metric}, which the worker does not publish");
                        let dims = m["dimensions"].as_object().unwrap();
                        for d in dims.keys() {
                            assert!([DIM_ENVIRONMENT, DIM_COMPONENT, DIM_ERROR_CLASS, DIM_CATEGORY].contains(&d.as_str()), "{metric}: dimension {d}");
                        }
                        if let Some(c) = dims.get(DIM_COMPONENT) {
                            assert_eq!(c, COMPONENT, "{metric}");
                        }
                        found += 1;
                    }
                    walk.extend(m.values());
                }
                serde_json::Value::Array(a) => walk.extend(a),
                _ => {}
            }
        }
        assert!(found >= 5, "{found} platform metrics in the catalog");
    }
}

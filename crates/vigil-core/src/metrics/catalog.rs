//! The platform's metric catalog (deploy-bundles/metrics/catalog.json, versioned with the
//! bundle): components, their charts, and each chart's series (a metric with a statistic, or a
//! metric-math expression over metrics). `${parameter}` values in dimensions are filled from
//! the environment's deployment.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

const CATALOG_JSON: &str = include_str!("../../../../deploy-bundles/metrics/catalog.json");

#[derive(Debug, Clone, Deserialize)]
pub struct Catalog {
    pub version: u32,
    pub parameters: BTreeMap<String, String>,
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Component {
    pub id: String,
    pub title: String,
    pub charts: Vec<Chart>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// CloudWatch unit name (`Percent`, `Bytes`, `Count/Second`, ...).
    pub unit: String,
    #[serde(default)]
    pub threshold: Option<Threshold>,
    /// Metrics published less often than the dashboard's period (S3 storage: daily).
    #[serde(default)]
    pub min_period_seconds: Option<u32>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Threshold {
    pub value: f64,
    /// True when values above it are bad (CPU), false when values below it are (free memory).
    pub above: bool,
    /// The series it applies to (all when absent).
    #[serde(default)]
    pub series: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Series {
    Expression { label: String, expression: String, inputs: Vec<MetricRef> },
    Metric(MetricRef),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetricRef {
    pub label: String,
    pub namespace: String,
    pub metric: String,
    /// In the order the catalog lists them (the order the platform publishes them in).
    pub dimensions: indexmap::IndexMap<String, String>,
    /// `Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount` or a percentile such as `p95`.
    pub stat: String,
}

impl Series {
    pub fn label(&self) -> &str {
        match self {
            Series::Expression { label, .. } => label,
            Series::Metric(m) => &m.label,
        }
    }
}

/// The catalog shipped with this build.
pub fn load() -> Catalog {
    serde_json::from_str(CATALOG_JSON).expect("the bundled metric catalog is valid (tested)")
}

impl Catalog {
    /// The catalog with every `${name}` replaced from `params`. Charts whose series need a
    /// parameter that is not given are left out, and named in the second value.
    pub fn resolve(&self, params: &HashMap<String, String>) -> (Catalog, Vec<String>) {
        let mut missing = Vec::new();
        let mut out = self.clone();
        for comp in &mut out.components {
            comp.charts.retain_mut(|chart| {
                let mut ok = true;
                for s in &mut chart.series {
                    let metrics: Vec<&mut MetricRef> = match s {
                        Series::Metric(m) => vec![m],
                        Series::Expression { inputs, .. } => inputs.iter_mut().collect(),
                    };
                    for m in metrics {
                        for v in m.dimensions.values_mut() {
                            match fill(v, params) {
                                Ok(filled) => *v = filled,
                                Err(name) => {
                                    ok = false;
                                    missing.push(format!("{}/{} needs `{name}`", comp.id, chart.id));
                                }
                            }
                        }
                    }
                }
                ok
            });
        }
        out.components.retain(|c| !c.charts.is_empty());
        missing.sort();
        missing.dedup();
        (out, missing)
    }

    pub fn chart(&self, component: &str, chart: &str) -> Option<&Chart> {
        self.components.iter().find(|c| c.id == component)?.charts.iter().find(|c| c.id == chart)
    }
}

/// Replaces `${name}` placeholders; Err(name) for the first one `params` lacks.
fn fill(value: &str, params: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let name = &after[..j];
        out.push_str(params.get(name).ok_or_else(|| name.to_string())?);
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalog_is_complete_and_consistent() {
        let c = load();
        let ids: Vec<&str> = c.components.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["platform", "eks", "aurora", "elasticache", "s3", "backup"]);
        for comp in &c.components {
            for chart in &comp.charts {
                assert!(!chart.series.is_empty(), "{}", chart.id);
                for s in &chart.series {
                    let metrics = match s {
                        Series::Metric(m) => vec![m],
                        Series::Expression { inputs, expression, .. } => {
                            // Every input is named in the expression.
                            for i in inputs {
                                assert!(expression.contains(&i.label), "{} does not use {}", expression, i.label);
                            }
                            inputs.iter().collect()
                        }
                    };
                    for m in metrics {
                        for v in m.dimensions.values() {
                            if let Some(p) = v.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
                                assert!(c.parameters.contains_key(p), "{} uses undocumented parameter {p}", chart.id);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn resolving_fills_parameters_and_names_what_is_missing() {
        let params: HashMap<String, String> = [("environment".to_string(), "prod".to_string())].into_iter().collect();
        let (c, missing) = load().resolve(&params);
        let Series::Metric(m) = &c.chart("platform", "documents").unwrap().series[0] else { panic!() };
        assert_eq!(m.dimensions["Environment"], "prod");
        assert!(c.chart("eks", "node_cpu").is_none());
        assert!(missing.contains(&"eks/node_cpu needs `cluster_name`".to_string()), "{missing:?}");
        assert_eq!(fill("a-${x}-b", &[("x".to_string(), "1".to_string())].into_iter().collect()), Ok("a-1-b".into()));
    }
}

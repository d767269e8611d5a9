//! Turns charts into as few GetMetricData calls as CloudWatch allows (up to 500 queries each,
//! a chart's queries always together so metric math finds its inputs), and the answers back
//! into series with the missing periods marked as gaps.

use super::catalog::{Chart, MetricRef, Series};
use std::collections::BTreeMap;

pub const MAX_QUERIES_PER_CALL: usize = 500;

/// One MetricDataQuery.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub id: String,
    pub label: String,
    pub body: QueryBody,
    pub period: u32,
    /// False for an expression's inputs: fetched for the math, not drawn.
    pub return_data: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryBody {
    Metric(MetricRef),
    Expression(String),
}

impl Query {
    /// The query as the CloudWatch module sends it.
    pub fn to_data(&self) -> vigil_aws::cloudwatch::DataQuery {
        use vigil_aws::cloudwatch::{DataQuery, DataSource};
        let source = match &self.body {
            QueryBody::Metric(m) => DataSource::Metric {
                namespace: m.namespace.clone(),
                metric: m.metric.clone(),
                dimensions: m.dimensions.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                stat: m.stat.clone(),
            },
            QueryBody::Expression(e) => DataSource::Expression(e.clone()),
        };
        DataQuery { id: self.id.clone(), label: self.label.clone(), period: self.period, return_data: self.return_data, source }
    }
}

impl Plan {
    /// The charts whose queries are in `batch`, in order, each with its queries.
    pub fn groups<'q>(&self, batch: &'q [Query]) -> Vec<(usize, Vec<&'q Query>)> {
        let mut out: Vec<(usize, Vec<&Query>)> = Vec::new();
        for q in batch {
            let chart = self.targets.get(q.id.split('_').next().unwrap_or(&q.id)).map(|t| t.chart).unwrap_or(usize::MAX);
            match out.last_mut() {
                Some((c, qs)) if *c == chart => qs.push(q),
                _ => out.push((chart, vec![q])),
            }
        }
        out
    }
}

/// Which chart and series a returned query id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub chart: usize,
    pub series: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The queries of each GetMetricData call.
    pub batches: Vec<Vec<Query>>,
    pub targets: BTreeMap<String, Target>,
}

/// Plans the queries for `charts`, each at its own period.
pub fn plan(charts: &[(&Chart, u32)]) -> Plan {
    let mut plan = Plan::default();
    let mut current: Vec<Query> = Vec::new();
    for (ci, (chart, period)) in charts.iter().enumerate() {
        let mut group = Vec::new();
        for (si, s) in chart.series.iter().enumerate() {
            let id = format!("c{ci}s{si}");
            plan.targets.insert(id.clone(), Target { chart: ci, series: si });
            match s {
                Series::Metric(m) => {
                    group.push(Query { id, label: m.label.clone(), body: QueryBody::Metric(m.clone()), period: *period, return_data: true })
                }
                Series::Expression { label, expression, inputs } => {
                    let names: Vec<(String, String)> = inputs.iter().map(|m| (m.label.clone(), format!("{id}_{}", sanitize(&m.label)))).collect();
                    for (m, (_, input_id)) in inputs.iter().zip(&names) {
                        group.push(Query {
                            id: input_id.clone(),
                            label: m.label.clone(),
                            body: QueryBody::Metric(m.clone()),
                            period: *period,
                            return_data: false,
                        });
                    }
                    group.push(Query {
                        id,
                        label: label.clone(),
                        body: QueryBody::Expression(rename_identifiers(expression, &names)),
                        period: *period,
                        return_data: true,
                    });
                }
            }
        }
        if current.len() + group.len() > MAX_QUERIES_PER_CALL && !current.is_empty() {
            plan.batches.push(std::mem::take(&mut current));
        }
        current.extend(group);
    }
    if !current.is_empty() {
        plan.batches.push(current);
    }
    plan
}

/// A label as an id fragment: letters, digits and underscores.
fn sanitize(label: &str) -> String {
    label.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// Replaces whole identifiers of an expression (`failed` → `c4s0_failed`); functions and
/// numbers are left as they are.
fn rename_identifiers(expression: &str, names: &[(String, String)]) -> String {
    let mut out = String::with_capacity(expression.len() + 16);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match names.iter().find(|(from, _)| from == word) {
            Some((_, to)) => out.push_str(to),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in expression.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Values at every period from `start` to `end` (aligned down to the period); periods without
/// a value are `None`, so the chart shows a gap instead of a line across it.
pub fn with_gaps(start: i64, end: i64, period: u32, values: &[(i64, f64)]) -> Vec<(i64, Option<f64>)> {
    let p = period.max(1) as i64;
    let first = start.div_euclid(p) * p;
    let by_time: BTreeMap<i64, f64> = values.iter().map(|(t, v)| (t.div_euclid(p) * p, *v)).collect();
    let mut out = Vec::with_capacity(((end - first) / p + 1).max(0) as usize);
    let mut t = first;
    while t < end {
        out.push((t, by_time.get(&t).copied()));
        t += p;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::{self, Chart};

    fn metric_chart(id: &str, n: usize) -> Chart {
        Chart {
            id: id.into(),
            title: id.into(),
            unit: "Count".into(),
            threshold: None,
            min_period_seconds: None,
            series: (0..n)
                .map(|i| {
                    Series::Metric(MetricRef {
                        label: format!("m{i}"),
                        namespace: "NS".into(),
                        metric: format!("M{i}"),
                        dimensions: Default::default(),
                        stat: "Sum".into(),
                    })
                })
                .collect(),
        }
    }

    #[test]
    fn forty_series_fit_one_call() {
        let charts: Vec<Chart> = (0..10).map(|i| metric_chart(&format!("c{i}"), 4)).collect();
        let p = plan(&charts.iter().map(|c| (c, 60)).collect::<Vec<_>>());
        assert_eq!(p.batches.len(), 1);
        assert_eq!(p.batches[0].len(), 40);
        assert_eq!(p.targets["c9s3"], Target { chart: 9, series: 3 });
    }

    #[test]
    fn batches_hold_at_most_500_and_never_split_a_chart() {
        let charts: Vec<Chart> = (0..7).map(|i| metric_chart(&format!("c{i}"), 150)).collect();
        let p = plan(&charts.iter().map(|c| (c, 60)).collect::<Vec<_>>());
        assert!(p.batches.iter().all(|b| b.len() <= MAX_QUERIES_PER_CALL));
        assert_eq!(p.batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![450, 450, 150]);
        let ids: std::collections::HashSet<&str> = p.batches.iter().flatten().map(|q| q.id.as_str()).collect();
        assert_eq!(ids.len(), 1050, "ids are unique across calls");
    }

    #[test]
    fn metric_math_brings_its_inputs_under_their_own_ids() {
        let c = catalog::load();
        let chart = c.chart("platform", "failure_rate").unwrap();
        let p = plan(&[(chart, 300)]);
        let q = &p.batches[0];
        assert_eq!(
            q.iter().map(|q| (q.id.as_str(), q.return_data)).collect::<Vec<_>>(),
            vec![("c0s0_failed", false), ("c0s0_ingested", false), ("c0s0", true)]
        );
        assert_eq!(q[2].body, QueryBody::Expression("100 * c0s0_failed / (c0s0_failed + c0s0_ingested)".into()));
        assert_eq!(rename_identifiers("FILL(a, 0) + ab", &[("a".into(), "x_a".into())]), "FILL(x_a, 0) + ab");
    }

    #[test]
    fn missing_periods_become_gaps() {
        let pts = with_gaps(1000, 1300, 60, &[(960, 1.0), (1080, 3.0), (1200, 5.0)]);
        assert_eq!(pts, vec![(960, Some(1.0)), (1020, None), (1080, Some(3.0)), (1140, None), (1200, Some(5.0)), (1260, None)]);
    }
}

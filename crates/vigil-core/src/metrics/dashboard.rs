//! One dashboard refresh: the catalog resolved for the environment, a period per chart, the
//! batched GetMetricData calls, and each chart's series with gaps, downsampled to its width.

use super::catalog::Catalog;
use super::{lttb, period, query};
use crate::aws::cloudwatch;
use std::collections::HashMap;
use vigil_dto::{ChartData, DashboardData, SeriesData, ThresholdLine, TimeRange};

/// The range as Unix seconds [start, end).
pub fn bounds(range: TimeRange, now: i64) -> (i64, i64) {
    match range {
        TimeRange::Last { seconds } => (now - seconds.max(60), now),
        TimeRange::Between { start, end } => (start.min(end), end.max(start)),
    }
}

/// Fetches every chart of `catalog` (already resolved) whose component is in `components`
/// (all when empty) for `range`, `width` pixels wide.
pub async fn fetch(
    client: &aws_sdk_cloudwatch::Client,
    catalog: &Catalog,
    components: &[String],
    range: TimeRange,
    width: u32,
    now: i64,
) -> DashboardData {
    let (start, end) = bounds(range, now);
    let mut charts = Vec::new();
    for comp in catalog.components.iter().filter(|c| components.is_empty() || components.contains(&c.id)) {
        for chart in &comp.charts {
            let p = period::choose(end - start, now - start, width, chart.min_period_seconds.unwrap_or(0));
            charts.push((comp, chart, p));
        }
    }
    // Charts are fetched per period, with the range aligned to it: CloudWatch buckets data
    // from the start time, so an unaligned start would shift every point.
    let mut periods: Vec<u32> = charts.iter().map(|(_, _, p)| *p).collect();
    periods.sort_unstable();
    periods.dedup();
    let mut results: HashMap<(usize, usize), cloudwatch::QueryResult> = HashMap::new();
    let mut failed_calls: HashMap<usize, String> = HashMap::new();
    let mut api_calls = 0;
    for p in periods {
        let members: Vec<usize> = (0..charts.len()).filter(|i| charts[*i].2 == p).collect();
        let plan = query::plan(&members.iter().map(|i| (charts[*i].1, p)).collect::<Vec<_>>());
        let (from, to) = (start.div_euclid(p as i64) * p as i64, end);
        for batch in &plan.batches {
            // A call that fails as a whole (one bad query can do that) is split in halves
            // until the failing charts are found; the others still show.
            let mut pending: Vec<Vec<(usize, Vec<&query::Query>)>> = vec![plan.groups(batch)];
            while let Some(groups) = pending.pop() {
                let queries: Vec<query::Query> = groups.iter().flat_map(|(_, qs)| qs.iter().map(|q| (*q).clone())).collect();
                match cloudwatch::get_metric_data(client, &queries, from, to).await {
                    Ok((r, calls)) => {
                        api_calls += calls;
                        for (id, v) in r {
                            if let Some(t) = plan.targets.get(&id) {
                                results.insert((members[t.chart], t.series), v);
                            }
                        }
                    }
                    Err(e) if groups.len() == 1 => {
                        api_calls += 1;
                        failed_calls.insert(members[groups[0].0], e);
                    }
                    Err(_) => {
                        api_calls += 1;
                        let mut left = groups;
                        let right = left.split_off(left.len() / 2);
                        pending.push(right);
                        pending.push(left);
                    }
                }
            }
        }
    }
    let mut out = Vec::with_capacity(charts.len());
    for (ci, (comp, chart, p)) in charts.iter().enumerate() {
        let mut errors: Vec<String> = failed_calls.get(&ci).cloned().into_iter().collect();
        let series = chart
            .series
            .iter()
            .enumerate()
            .map(|(si, s)| {
                let r = results.get(&(ci, si)).cloned().unwrap_or_default();
                if let Some(e) = r.error {
                    errors.push(format!("{}: {e}", s.label()));
                }
                let pts: Vec<lttb::Point> =
                    query::with_gaps(start, end, *p, &r.values).into_iter().map(|(t, v)| (t as f64, v)).collect();
                let points = lttb::downsample(&pts, width as usize).into_iter().map(|(t, v)| (t as i64, v)).collect();
                SeriesData { label: s.label().to_string(), points }
            })
            .collect();
        out.push(ChartData {
            component: comp.id.clone(),
            id: chart.id.clone(),
            title: chart.title.clone(),
            unit: chart.unit.clone(),
            period: *p,
            threshold: chart.threshold.as_ref().map(|t| ThresholdLine { value: t.value, above: t.above, series: t.series.clone() }),
            series,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        });
    }
    DashboardData { start, end, charts: out, api_calls, unavailable: Vec::new() }
}

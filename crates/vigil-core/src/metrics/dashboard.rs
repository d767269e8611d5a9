//! One dashboard refresh: the catalog resolved for the environment, a period per chart, the
//! batched GetMetricData calls, and each chart's series with gaps, downsampled to its width.

use super::catalog::Catalog;
use super::{lttb, period, query};
use std::collections::HashMap;
use vigil_aws::cloudwatch::{self, CloudWatch};
use vigil_aws::AwsError;
use vigil_dto::{ChartData, DashboardData, SeriesData, ThresholdLine, TimeRange};

/// Parses `1h`, `3h`, `12h`, `1d`, `1w` (any number with m, h, d or w) or a custom range
/// `START..END` in RFC 3339.
pub fn parse_range(s: &str) -> Result<TimeRange, String> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once("..") {
        let t = |x: &str| {
            chrono::DateTime::parse_from_rfc3339(x.trim())
                .map(|d| d.timestamp())
                .map_err(|e| format!("`{x}` is not an RFC 3339 time such as 2026-11-24T08:00:00Z ({e})"))
        };
        let (start, end) = (t(a)?, t(b)?);
        if end <= start {
            return Err(format!("the range ends before it starts ({s})"));
        }
        return Ok(TimeRange::Between { start, end });
    }
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n.parse().map_err(|_| format!("`{s}` is not a range: use 1h, 3h, 12h, 1d, 1w or START..END"))?;
    let secs = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("`{s}`: the unit must be m, h, d or w")),
    };
    if n <= 0 || n * secs > 455 * 86_400 {
        return Err(format!("`{s}`: CloudWatch keeps 455 days at most"));
    }
    Ok(TimeRange::Last { seconds: n * secs })
}

/// The range as Unix seconds [start, end).
pub fn bounds(range: TimeRange, now: i64) -> (i64, i64) {
    match range {
        TimeRange::Last { seconds } => (now - seconds.max(60), now),
        TimeRange::Between { start, end } => (start.min(end), end.max(start)),
    }
}

/// Fetches every chart of `catalog` (already resolved) named by `selection` (component ids or
/// chart ids; all when empty) for `range`, `width` pixels wide. A call refused for something in
/// the request stays on the charts it was for (the batch is split to find them); a failure of
/// the way to AWS, of the credentials or of the rate ends the refresh with that error, since
/// every other chart would fail the same way.
pub async fn fetch(
    client: &CloudWatch,
    catalog: &Catalog,
    selection: &[String],
    range: TimeRange,
    width: u32,
    now: i64,
) -> Result<DashboardData, AwsError> {
    let (start, end) = bounds(range, now);
    let mut charts = Vec::new();
    for comp in &catalog.components {
        let whole = selection.is_empty() || selection.contains(&comp.id);
        for chart in comp.charts.iter().filter(|c| whole || selection.contains(&c.id)) {
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
                let queries: Vec<cloudwatch::DataQuery> = groups.iter().flat_map(|(_, qs)| qs.iter().map(|q| q.to_data())).collect();
                match cloudwatch::get_metric_data(client, &queries, from, to).await {
                    Ok((r, calls)) => {
                        api_calls += calls;
                        for (id, v) in r {
                            if let Some(t) = plan.targets.get(&id) {
                                results.insert((members[t.chart], t.series), v);
                            }
                        }
                    }
                    Err(e) if !e.kind.is_about_the_request() => return Err(e),
                    Err(e) if groups.len() == 1 => {
                        api_calls += 1;
                        failed_calls.insert(members[groups[0].0], e.message);
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
                let pts: Vec<lttb::Point> = query::with_gaps(start, end, *p, &r.values).into_iter().map(|(t, v)| (t as f64, v)).collect();
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
    Ok(DashboardData { start, end, charts: out, api_calls, unavailable: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_with_clear_errors() {
        assert_eq!(parse_range("1h"), Ok(TimeRange::Last { seconds: 3600 }));
        assert_eq!(parse_range("1w"), Ok(TimeRange::Last { seconds: 604_800 }));
        assert_eq!(parse_range("2026-11-24T08:00:00Z..2026-11-24T09:30:00Z"), Ok(TimeRange::Between { start: 1_795_507_200, end: 1_795_512_600 }));
        assert!(parse_range("1y").unwrap_err().contains("unit"));
        assert!(parse_range("500d").unwrap_err().contains("455"));
        assert!(parse_range("2026-11-24T09:00:00Z..2026-11-24T08:00:00Z").unwrap_err().contains("before"));
        assert_eq!(bounds(TimeRange::Last { seconds: 3600 }, 10_000), (6400, 10_000));
    }
}

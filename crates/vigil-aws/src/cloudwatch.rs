//! CloudWatch: GetMetricData for planned query batches (following NextToken, with each query's
//! status kept so a partial failure stays on its own chart), the alarms, and an alarm's history.

use crate::error::AwsError;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode};
use aws_smithy_types::DateTime;
use std::collections::HashMap;

/// One MetricDataQuery, in Vigil's words.
#[derive(Debug, Clone, PartialEq)]
pub struct DataQuery {
    pub id: String,
    pub label: String,
    pub period: u32,
    /// False for an expression's inputs: fetched for the math, not drawn.
    pub return_data: bool,
    pub source: DataSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// A metric (its dimensions in the order the platform publishes them) and a statistic.
    Metric { namespace: String, metric: String, dimensions: Vec<(String, String)>, stat: String },
    /// Metric math over other queries of the same call.
    Expression(String),
}

/// What came back for one query id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    /// (Unix seconds, value), oldest first.
    pub values: Vec<(i64, f64)>,
    /// Set when CloudWatch could not answer this query completely.
    pub error: Option<String>,
}

service_client!(
    /// CloudWatch for one operation of one environment.
    CloudWatch,
    aws_sdk_cloudwatch
);

impl CloudWatch {
    async fn fail<E>(
        &self,
        action: &str,
        e: aws_sdk_cloudwatch::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
    ) -> AwsError
    where
        E: aws_sdk_cloudwatch::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        crate::error::classify(&self.ctx, "cloudwatch", action, &e).await
    }
}

fn to_sdk(q: &DataQuery) -> MetricDataQuery {
    let b = MetricDataQuery::builder().id(&q.id).label(&q.label).return_data(q.return_data);
    let b = match &q.source {
        DataSource::Metric { namespace, metric, dimensions, stat } => {
            let dims = dimensions.iter().map(|(k, v)| Dimension::builder().name(k).value(v).build());
            let metric = Metric::builder().namespace(namespace).metric_name(metric).set_dimensions(Some(dims.collect())).build();
            let stat = MetricStat::builder().metric(metric).period(q.period as i32).stat(stat).build();
            b.metric_stat(stat)
        }
        DataSource::Expression(e) => b.expression(e).period(q.period as i32),
    };
    b.build()
}

/// Runs one batch (at most 500 queries) over [start, end), following NextToken. Returns the
/// results by query id and the number of calls made; Err when the call itself failed.
pub async fn get_metric_data(cw: &CloudWatch, batch: &[DataQuery], start: i64, end: i64) -> Result<(HashMap<String, QueryResult>, u32), AwsError> {
    let client = &cw.client;
    let queries: Vec<MetricDataQuery> = batch.iter().map(to_sdk).collect();
    let mut results: HashMap<String, QueryResult> = HashMap::new();
    let mut token: Option<String> = None;
    let mut calls = 0;
    loop {
        let out = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from_secs(start))
            .end_time(DateTime::from_secs(end))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token.take())
            .send()
            .await;
        let out = match out {
            Ok(o) => o,
            Err(e) => return Err(cw.fail("GetMetricData", e).await),
        };
        calls += 1;
        for r in out.metric_data_results() {
            let Some(id) = r.id() else { continue };
            let entry = results.entry(id.to_string()).or_default();
            entry.values.extend(r.timestamps().iter().zip(r.values()).map(|(t, v)| (t.secs(), *v)));
            let status = r.status_code();
            if !matches!(status, Some(StatusCode::Complete) | Some(StatusCode::PartialData) | None) {
                let msgs: Vec<&str> = r.messages().iter().filter_map(|m| m.value()).collect();
                entry.error = Some(format!("{}: {}", status.map(|s| s.as_str()).unwrap_or("error"), msgs.join("; ")));
            }
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    for r in results.values_mut() {
        r.values.sort_by_key(|(t, _)| *t);
        r.values.dedup_by_key(|(t, _)| *t);
    }
    Ok((results, calls))
}

/// Alarm states a filter accepts.
pub const STATES: [&str; 3] = ["OK", "ALARM", "INSUFFICIENT_DATA"];

fn rfc3339(t: Option<&DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

/// The component in an alarm name `pj-<environment>-<component>-<what>` (the contract).
pub fn component_of(name: &str, environment: &str) -> String {
    pj_contract::alarms::component_of(name, environment)
}

/// Every metric and composite alarm (NextToken followed), optionally only those in `state`.
pub async fn describe_alarms(cw: &CloudWatch, state: Option<&str>, environment: &str) -> Result<Vec<vigil_dto::AlarmInfo>, AwsError> {
    let client = &cw.client;
    use aws_sdk_cloudwatch::types::{AlarmType, StateValue};
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let resp = client
            .describe_alarms()
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .set_state_value(state.map(StateValue::from))
            .set_next_token(token.take())
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => return Err(cw.fail("DescribeAlarms", e).await),
        };
        for a in resp.metric_alarms() {
            let name = a.alarm_name().unwrap_or_default().to_string();
            let watches = match (a.namespace(), a.metric_name()) {
                (Some(ns), Some(m)) => format!("{ns}/{m}"),
                _ => a.metrics().iter().filter_map(|q| q.expression()).collect::<Vec<_>>().join(", "),
            };
            out.push(vigil_dto::AlarmInfo {
                component: component_of(&name, environment),
                name,
                kind: "metric".into(),
                state: a.state_value().map(|s| s.as_str().to_string()).unwrap_or_default(),
                reason: a.state_reason().unwrap_or_default().to_string(),
                state_changed_at: rfc3339(a.state_updated_timestamp()),
                description: a.alarm_description().map(str::to_string),
                watches,
            });
        }
        for a in resp.composite_alarms() {
            let name = a.alarm_name().unwrap_or_default().to_string();
            out.push(vigil_dto::AlarmInfo {
                component: component_of(&name, environment),
                name,
                kind: "composite".into(),
                state: a.state_value().map(|s| s.as_str().to_string()).unwrap_or_default(),
                reason: a.state_reason().unwrap_or_default().to_string(),
                state_changed_at: rfc3339(a.state_updated_timestamp()),
                description: a.alarm_description().map(str::to_string),
                watches: a.alarm_rule().unwrap_or_default().to_string(),
            });
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // Grouped by component, the alarming ones first within each.
    out.sort_by(|a, b| (a.component.as_str(), a.state != "ALARM", a.name.as_str()).cmp(&(b.component.as_str(), b.state != "ALARM", b.name.as_str())));
    Ok(out)
}

/// An alarm's history, newest first, up to `limit` entries (NextToken followed).
/// (The emulator serves DescribeAlarmHistory through Vigil's extension; the unit tests use
/// aws-smithy-mocks for its paging.)
pub async fn alarm_history(cw: &CloudWatch, name: &str, limit: usize) -> Result<Vec<vigil_dto::AlarmHistoryEntry>, AwsError> {
    let client = &cw.client;
    use aws_sdk_cloudwatch::types::ScanBy;
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let resp = client
            .describe_alarm_history()
            .alarm_name(name)
            .scan_by(ScanBy::TimestampDescending)
            .max_records(100.min(limit.max(1)) as i32)
            .set_next_token(token.take())
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => return Err(cw.fail("DescribeAlarmHistory", e).await),
        };
        for h in resp.alarm_history_items() {
            out.push(vigil_dto::AlarmHistoryEntry {
                at: rfc3339(h.timestamp()).unwrap_or_default(),
                kind: h.history_item_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                summary: h.history_summary().unwrap_or_default().to_string(),
            });
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() || out.len() >= limit {
            break;
        }
    }
    out.truncate(limit);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::operation::describe_alarm_history::DescribeAlarmHistoryOutput;
    use aws_sdk_cloudwatch::types::{AlarmHistoryItem, HistoryItemType};
    use aws_sdk_cloudwatch::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn item(secs: i64, summary: &str) -> AlarmHistoryItem {
        AlarmHistoryItem::builder()
            .alarm_name("pj-prod-platform-failed-jobs")
            .timestamp(DateTime::from_secs(secs))
            .history_item_type(HistoryItemType::StateUpdate)
            .history_summary(summary)
            .build()
    }

    #[tokio::test]
    async fn alarm_history_follows_pages_newest_first() {
        let first = mock!(Client::describe_alarm_history)
            .match_requests(|r| r.alarm_name() == Some("pj-prod-platform-failed-jobs") && r.next_token().is_none())
            .then_output(|| {
                DescribeAlarmHistoryOutput::builder()
                    .alarm_history_items(item(1_795_500_000, "Alarm updated from OK to ALARM"))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(Client::describe_alarm_history)
            .match_requests(|r| r.next_token() == Some("page-2") && r.scan_by() == Some(&ScanBy::TimestampDescending))
            .then_output(|| DescribeAlarmHistoryOutput::builder().alarm_history_items(item(1_795_400_000, "Alarm updated from ALARM to OK")).build());
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&first, &second]);
        let ctx = crate::testing::context().await;
        let h = alarm_history(&CloudWatch::with_client(&ctx, client), "pj-prod-platform-failed-jobs", 50).await.unwrap();
        assert_eq!(
            h.iter().map(|e| (e.at.as_str(), e.kind.as_str(), e.summary.as_str())).collect::<Vec<_>>(),
            vec![
                ("2026-11-24T06:00:00Z", "StateUpdate", "Alarm updated from OK to ALARM"),
                ("2026-11-23T02:13:20Z", "StateUpdate", "Alarm updated from ALARM to OK")
            ]
        );
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
        // The limit stops paging.
        let only = mock!(Client::describe_alarm_history).then_output(|| {
            DescribeAlarmHistoryOutput::builder().alarm_history_items(item(1, "a")).alarm_history_items(item(0, "b")).next_token("more").build()
        });
        let client = mock_client!(aws_sdk_cloudwatch, [&only]);
        assert_eq!(alarm_history(&CloudWatch::with_client(&ctx, client), "x", 1).await.unwrap().len(), 1);
        assert_eq!(only.num_calls(), 1);
    }

    #[test]
    fn components_come_from_alarm_names() {
        assert_eq!(component_of("pj-prod-eu-aurora-cpu", "prod-eu"), "aurora");
        assert_eq!(component_of("pj-sandbox-platform-failed-jobs", "sandbox"), "platform");
        assert_eq!(component_of("someone-elses-alarm", "sandbox"), "other");
    }
}

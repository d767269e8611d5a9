//! CloudWatch Logs: the platform's log lines about one job (the worker writes `job_id` on
//! every line of a job, deploy-bundles/CONTRACT.md).

use crate::context::AwsContext;
use crate::error::AwsError;
use aws_sdk_cloudwatchlogs::Client;
use vigil_dto::LogLine;

pub fn client(ctx: &AwsContext, op_id: &str) -> Client {
    let conf = aws_sdk_cloudwatchlogs::config::Builder::from(ctx.sdk()).interceptor(crate::VigilUserAgent::new(op_id)).build();
    Client::from_conf(conf)
}

/// Lines of `log_group` containing `job_id` between `start` and `end` (Unix ms), oldest
/// first, at most `limit`.
pub async fn job_lines(
    ctx: &AwsContext,
    op_id: &str,
    log_group: &str,
    job_id: &str,
    start: i64,
    end: i64,
    limit: usize,
) -> Result<Vec<LogLine>, AwsError> {
    let client = client(ctx, op_id);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .filter_log_events()
            .log_group_name(log_group)
            .filter_pattern(format!("\"{job_id}\""))
            .start_time(start)
            .end_time(end)
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) => return Err(crate::error::classify(ctx, "logs", "FilterLogEvents", &e).await),
        };
        for e in page.events() {
            let at = chrono::DateTime::from_timestamp_millis(e.timestamp().unwrap_or_default())
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default();
            out.push(LogLine {
                at,
                stream: e.log_stream_name().unwrap_or_default().to_string(),
                message: e.message().unwrap_or_default().to_string(),
            });
            if out.len() >= limit {
                return Ok(out);
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

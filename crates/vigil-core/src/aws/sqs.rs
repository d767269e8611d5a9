//! SQS: re-queues a failed job as the retry request the platform's worker reads
//! (`{"bucket": …, "key": …}`, deploy-bundles/CONTRACT.md).

use aws_sdk_sqs::Client;

pub fn client(cfg: &aws_types::SdkConfig, op_id: &str) -> Client {
    let conf = aws_sdk_sqs::config::Builder::from(cfg).interceptor(super::VigilUserAgent::new(op_id)).build();
    Client::from_conf(conf)
}

/// Sends one retry request; returns the new message's id.
pub async fn send_retry(client: &Client, queue_url: &str, bucket: &str, key: &str) -> Result<String, String> {
    let body = serde_json::json!({ "bucket": bucket, "key": key }).to_string();
    let out = client.send_message().queue_url(queue_url).message_body(body).send().await.map_err(|e| super::describe_sdk_error(&e))?;
    Ok(out.message_id().unwrap_or_default().to_string())
}

//! SQS: re-queues a failed job as the retry request the platform's worker reads
//! (`pj_contract::queue::RetryRequest`, deploy-bundles/CONTRACT.md).

use crate::error::AwsError;

service_client!(
    /// SQS for one operation of one environment.
    Sqs,
    aws_sdk_sqs
);

impl Sqs {
    /// Sends one retry request; returns the new message's id.
    pub async fn send_retry(&self, queue_url: &str, request: &pj_contract::queue::RetryRequest) -> Result<String, AwsError> {
        match self.client.send_message().queue_url(queue_url).message_body(request.body()).send().await {
            Ok(out) => Ok(out.message_id().unwrap_or_default().to_string()),
            Err(e) => Err(crate::error::classify(&self.ctx, "sqs", "SendMessage", &e).await),
        }
    }
}

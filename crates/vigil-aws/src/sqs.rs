//! SQS: re-queues a failed job as the retry request the platform's worker reads
//! (`pj_contract::queue::RetryRequest`, deploy-bundles/CONTRACT.md); a queue's attributes
//! (encryption, redrive) for a deploy's validation.

use crate::error::AwsError;

service_client!(
    /// SQS for one operation of one environment.
    Sqs,
    aws_sdk_sqs
);

impl Sqs {
    /// Every attribute of the queue at `url`, or None when there is no such queue.
    pub async fn attributes(&self, url: &str) -> Result<Option<std::collections::HashMap<String, String>>, AwsError> {
        use aws_sdk_sqs::types::QueueAttributeName;
        match self.client.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::All).send().await {
            Ok(out) => Ok(Some(out.attributes().map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), v.clone())).collect()).unwrap_or_default())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_queue_does_not_exist()) => Ok(None),
            Err(e) => Err(crate::error::classify(&self.ctx, "sqs", "GetQueueAttributes", &e).await),
        }
    }

    /// Sends one retry request; returns the new message's id.
    pub async fn send_retry(&self, queue_url: &str, request: &pj_contract::queue::RetryRequest) -> Result<String, AwsError> {
        match self.client.send_message().queue_url(queue_url).message_body(request.body()).send().await {
            Ok(out) => Ok(out.message_id().unwrap_or_default().to_string()),
            Err(e) => Err(crate::error::classify(&self.ctx, "sqs", "SendMessage", &e).await),
        }
    }
}

//! SQS: long-poll the work queue, delete done messages, delay retries, and read the queue's
//! redrive policy (its maxReceiveCount is the job's attempt limit).

use super::describe;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use aws_sdk_sqs::Client;
use std::time::Duration;

#[derive(Clone)]
pub struct Sqs {
    client: Client,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub receipt: String,
    pub body: String,
    /// 1 on the first delivery.
    pub receive_count: i32,
}

impl Sqs {
    pub fn new(config: &aws_config::SdkConfig) -> Sqs {
        Sqs { client: Client::new(config) }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn receive(&self, queue_url: &str, max: i32, wait: Duration, visibility: Duration) -> Result<Vec<Message>, String> {
        let out = self
            .client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(max.clamp(1, 10))
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .visibility_timeout(visibility.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                let count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                Some(Message {
                    id: m.message_id()?.to_string(),
                    receipt: m.receipt_handle()?.to_string(),
                    body: m.body().unwrap_or("").to_string(),
                    receive_count: count,
                })
            })
            .collect())
    }

    pub async fn delete(&self, queue_url: &str, receipt: &str) -> Result<(), String> {
        self.client.delete_message().queue_url(queue_url).receipt_handle(receipt).send().await.map(|_| ()).map_err(|e| describe(&e))
    }

    /// Makes the message visible again after `delay` (0 releases it at once).
    pub async fn delay(&self, queue_url: &str, receipt: &str, delay: Duration) -> Result<(), String> {
        self.client
            .change_message_visibility()
            .queue_url(queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(delay.as_secs().min(43_200) as i32)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe(&e))
    }

    pub async fn send(&self, queue_url: &str, body: &str) -> Result<String, String> {
        let out = self.client.send_message().queue_url(queue_url).message_body(body).send().await.map_err(|e| describe(&e))?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }

    /// The queue's maxReceiveCount, if it has a dead-letter queue.
    pub async fn max_receive_count(&self, queue_url: &str) -> Result<Option<i32>, String> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let policy = out.attributes().and_then(|a| a.get(&QueueAttributeName::RedrivePolicy)).cloned();
        Ok(policy.and_then(|p| {
            let v: serde_json::Value = serde_json::from_str(&p).ok()?;
            let n = &v["maxReceiveCount"];
            n.as_i64().or_else(|| n.as_str()?.parse().ok()).map(|n| n as i32)
        }))
    }
}

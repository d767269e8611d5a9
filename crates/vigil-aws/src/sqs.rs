//! SQS: re-queues a failed job as the retry request the platform's worker reads
//! (`pj_contract::queue::RetryRequest`, deploy-bundles/CONTRACT.md); a queue's attributes
//! (encryption, redrive) for a deploy's validation; messages moved from one queue to another
//! (a DR runbook's, between regions), at least once.

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

/// The region in a queue's URL (`https://sqs.<region>.amazonaws.com/…`, or the legacy
/// `https://<region>.queue.amazonaws.com/…`); None for another host (an emulator's).
pub fn region_of(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    let mut parts = host.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("sqs"), Some(region), Some(_)) if !region.is_empty() => Some(region.to_string()),
        (Some(region), Some("queue"), Some(_)) if !region.is_empty() => Some(region.to_string()),
        _ => None,
    }
}

/// One batch of [`move_batch`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    /// Received from the source queue.
    pub received: usize,
    /// Sent to the destination and deleted from the source.
    pub moved: usize,
    /// Why messages could not be sent (they stay in the source queue, visible again later).
    pub failed: Vec<String>,
}

/// Makes messages `which` of a received batch visible again at once (their send failed), so a
/// retry moves them without waiting out the visibility timeout. Best effort: failing, they come
/// back when it ends.
async fn release(from: &Sqs, from_url: &str, messages: &[aws_sdk_sqs::types::Message], which: &[usize]) {
    use aws_sdk_sqs::types::ChangeMessageVisibilityBatchRequestEntry;
    let entries: Vec<_> = which
        .iter()
        .filter_map(|i| {
            let m = messages.get(*i)?;
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(m.receipt_handle()?)
                .visibility_timeout(0)
                .build()
                .ok()
        })
        .collect();
    if !entries.is_empty() {
        let _ = from.client.change_message_visibility_batch().queue_url(from_url).set_entries(Some(entries)).send().await;
    }
}

/// How long a message being moved stays hidden from other readers: time enough to send it on;
/// a move stopped before it was deleted or released finds it again after this.
pub const MOVE_VISIBILITY_SECS: i32 = 30;

/// Moves up to ten messages from `from_url` (read with `from`) to `to_url` (sent with `to`, a
/// client of that queue's region): each is received, sent with its body and attributes (on a
/// FIFO queue, its group and deduplication id), then deleted from the source only once sent.
/// At least once: stopped between the send and the delete, a message is sent again once its
/// visibility ([`MOVE_VISIBILITY_SECS`]) ends. `wait_secs`: how long to wait for a message
/// (long polling, at most 20).
pub async fn move_batch(from: &Sqs, from_url: &str, to: &Sqs, to_url: &str, wait_secs: i32) -> Result<Moved, AwsError> {
    use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName, SendMessageBatchRequestEntry};
    let got = match from
        .client
        .receive_message()
        .queue_url(from_url)
        .max_number_of_messages(10)
        .visibility_timeout(MOVE_VISIBILITY_SECS)
        .wait_time_seconds(wait_secs.clamp(0, 20))
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return Err(crate::error::classify(&from.ctx, "sqs", "ReceiveMessage", &e).await),
    };
    let messages = got.messages();
    let mut out = Moved { received: messages.len(), ..Default::default() };
    if messages.is_empty() {
        return Ok(out);
    }
    let fifo = to_url.ends_with(".fifo");
    let mut entries = vec![];
    for (i, m) in messages.iter().enumerate() {
        let system = m.attributes();
        let attr = |k: MessageSystemAttributeName| system.and_then(|a| a.get(&k)).cloned();
        let mut e = SendMessageBatchRequestEntry::builder()
            .id(i.to_string())
            .message_body(m.body().unwrap_or_default())
            .set_message_attributes(m.message_attributes().cloned());
        if fifo {
            e = e.message_group_id(attr(MessageSystemAttributeName::MessageGroupId).unwrap_or_else(|| "moved".into())).message_deduplication_id(
                attr(MessageSystemAttributeName::MessageDeduplicationId).unwrap_or_else(|| m.message_id().unwrap_or_default().to_string()),
            );
        }
        entries
            .push(e.build().map_err(|e| AwsError::new(crate::error::Kind::Validation, format!("a message cannot be resent: {e}"), "report this"))?);
    }
    let sent = match to.client.send_message_batch().queue_url(to_url).set_entries(Some(entries)).send().await {
        Ok(out) => out,
        Err(e) => {
            let all: Vec<usize> = (0..messages.len()).collect();
            release(from, from_url, messages, &all).await;
            return Err(crate::error::classify(&to.ctx, "sqs", "SendMessageBatch", &e).await);
        }
    };
    out.failed = sent.failed().iter().map(|f| f.message().unwrap_or(f.code()).to_string()).collect();
    let unsent: Vec<usize> = sent.failed().iter().filter_map(|f| f.id().parse().ok()).collect();
    release(from, from_url, messages, &unsent).await;
    let deletes: Vec<DeleteMessageBatchRequestEntry> = sent
        .successful()
        .iter()
        .filter_map(|ok| {
            let m = messages.get(ok.id().parse::<usize>().ok()?)?;
            DeleteMessageBatchRequestEntry::builder().id(ok.id()).receipt_handle(m.receipt_handle()?).build().ok()
        })
        .collect();
    if deletes.is_empty() {
        return Ok(out);
    }
    match from.client.delete_message_batch().queue_url(from_url).set_entries(Some(deletes)).send().await {
        Ok(d) => {
            out.moved = d.successful().len();
            out.failed.extend(d.failed().iter().map(|f| format!("sent but not deleted from the source: {}", f.message().unwrap_or(f.code()))));
            Ok(out)
        }
        Err(e) => Err(crate::error::classify(&from.ctx, "sqs", "DeleteMessageBatch", &e).await),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_queues_region_is_read_from_its_url() {
        assert_eq!(super::region_of("https://sqs.eu-west-2.amazonaws.com/1/pj-prod-work").as_deref(), Some("eu-west-2"));
        assert_eq!(super::region_of("https://us-east-1.queue.amazonaws.com/1/q").as_deref(), Some("us-east-1"));
        assert_eq!(super::region_of("http://127.0.0.1:4566/1/q"), None);
        assert_eq!(super::region_of("not a url"), None);
    }
}

//! Messages on the work queue that are not S3 event notifications: the retry request Vigil sends.

use serde::{Deserialize, Serialize};

/// `{"bucket": "...", "key": "...", "retry_of": "<job id>"}`: process this object again. The
/// worker marks the job named by `retry_of` as retried (`jobs.retried_by`) when it takes the
/// request, so a second "retry all" does not send it again. `retry_of` is absent in requests of
/// contract version 1 and from other senders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryRequest {
    pub bucket: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<String>,
}

impl RetryRequest {
    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("a retry request serializes")
    }

    /// The request in a message body, if it is one.
    pub fn parse(body: &serde_json::Value) -> Option<RetryRequest> {
        serde_json::from_value(body.clone()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_version_1_requests() {
        let r = RetryRequest { bucket: "b".into(), key: "input/a b.pdf".into(), retry_of: Some("0b8e…".into()) };
        assert_eq!(RetryRequest::parse(&serde_json::from_str(&r.body()).unwrap()), Some(r));
        let v1 = RetryRequest::parse(&serde_json::json!({"bucket": "b", "key": "k"})).unwrap();
        assert_eq!(v1.retry_of, None);
        assert_eq!(v1.body(), r#"{"bucket":"b","key":"k"}"#);
        assert_eq!(RetryRequest::parse(&serde_json::json!({"Records": []})), None);
    }
}

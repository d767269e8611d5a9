//! CloudWatch: batched PutMetricData into the platform's namespace.

use super::describe;
use aws_sdk_cloudwatch::types::MetricDatum;
use aws_sdk_cloudwatch::Client;

/// PutMetricData accepts up to 1,000 metrics per request.
pub const MAX_DATA_PER_CALL: usize = 1000;

#[derive(Clone)]
pub struct CloudWatch {
    client: Client,
}

impl CloudWatch {
    pub fn new(config: &aws_config::SdkConfig) -> CloudWatch {
        CloudWatch { client: Client::new(config) }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends `data` in as few calls as the API allows; returns the number of calls.
    pub async fn put(&self, namespace: &str, data: Vec<MetricDatum>) -> Result<usize, String> {
        let mut calls = 0;
        for chunk in data.chunks(MAX_DATA_PER_CALL) {
            self.client.put_metric_data().namespace(namespace).set_metric_data(Some(chunk.to_vec())).send().await.map_err(|e| describe(&e))?;
            calls += 1;
        }
        Ok(calls)
    }
}

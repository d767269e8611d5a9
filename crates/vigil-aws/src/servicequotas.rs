//! Service Quotas, for a deploy's preflight: a quota's value for the account (the AWS default
//! where the account has none applied) and the CloudWatch usage metric AWS names for it.

use crate::error::AwsError;

/// Where CloudWatch publishes a quota's usage (namespace AWS/Usage for most).
#[derive(Debug, Clone, PartialEq)]
pub struct UsageMetric {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    /// The statistic AWS recommends (Maximum, Sum).
    pub statistic: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuotaInfo {
    pub service: String,
    pub code: String,
    pub name: String,
    pub value: f64,
    pub usage: Option<UsageMetric>,
}

service_client!(
    /// Service Quotas for one operation of one environment.
    ServiceQuotas,
    aws_sdk_servicequotas
);

fn info(q: &aws_sdk_servicequotas::types::ServiceQuota, service: &str, code: &str) -> QuotaInfo {
    QuotaInfo {
        service: service.to_string(),
        code: code.to_string(),
        name: q.quota_name().unwrap_or(code).to_string(),
        value: q.value().unwrap_or(0.0),
        usage: q.usage_metric().and_then(|m| {
            Some(UsageMetric {
                namespace: m.metric_namespace()?.to_string(),
                name: m.metric_name()?.to_string(),
                dimensions: m.metric_dimensions().map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default(),
                statistic: m.metric_statistic_recommendation().unwrap_or("Maximum").to_string(),
            })
        }),
    }
}

impl ServiceQuotas {
    /// The quota `code` of `service` for this account and region: its applied value, else AWS's
    /// default; None when neither exists.
    pub async fn quota(&self, service: &str, code: &str) -> Result<Option<QuotaInfo>, AwsError> {
        match self.client.get_service_quota().service_code(service).quota_code(code).send().await {
            Ok(out) => return Ok(out.quota().map(|q| info(q, service, code))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_resource_exception()) => {}
            Err(e) => return Err(crate::error::classify(&self.ctx, "servicequotas", "GetServiceQuota", &e).await),
        }
        match self.client.get_aws_default_service_quota().service_code(service).quota_code(code).send().await {
            Ok(out) => Ok(out.quota().map(|q| info(q, service, code))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_resource_exception()) => Ok(None),
            Err(e) => Err(crate::error::classify(&self.ctx, "servicequotas", "GetAWSDefaultServiceQuota", &e).await),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_servicequotas::operation::get_aws_default_service_quota::GetAwsDefaultServiceQuotaOutput;
    use aws_sdk_servicequotas::operation::get_service_quota::GetServiceQuotaError;
    use aws_sdk_servicequotas::types::{error::NoSuchResourceException, MetricInfo, ServiceQuota};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    #[tokio::test]
    async fn a_quota_the_account_has_not_applied_is_read_as_the_aws_default_with_its_usage_metric() {
        let ctx = crate::testing::context().await;
        let applied = mock!(aws_sdk_servicequotas::Client::get_service_quota)
            .then_error(|| GetServiceQuotaError::NoSuchResourceException(NoSuchResourceException::builder().message("no applied quota").build()));
        let default = mock!(aws_sdk_servicequotas::Client::get_aws_default_service_quota)
            .match_requests(|r| r.service_code() == Some("ec2") && r.quota_code() == Some("L-1216C47A"))
            .then_output(|| {
                let metric = MetricInfo::builder()
                    .metric_namespace("AWS/Usage")
                    .metric_name("ResourceCount")
                    .metric_dimensions("Resource", "vCPU")
                    .metric_statistic_recommendation("Maximum")
                    .build();
                GetAwsDefaultServiceQuotaOutput::builder()
                    .quota(ServiceQuota::builder().quota_name("Running On-Demand Standard instances").value(32.0).usage_metric(metric).build())
                    .build()
            });
        let client = mock_client!(aws_sdk_servicequotas, RuleMode::MatchAny, [&applied, &default]);
        let q = ServiceQuotas::with_client(&ctx, client).quota("ec2", "L-1216C47A").await.unwrap().unwrap();
        assert_eq!((q.value, q.name.as_str()), (32.0, "Running On-Demand Standard instances"));
        let usage = q.usage.unwrap();
        assert_eq!((usage.namespace.as_str(), usage.dimensions.as_slice()), ("AWS/Usage", &[("Resource".to_string(), "vCPU".to_string())][..]));
        assert_eq!((applied.num_calls(), default.num_calls()), (1, 1));
    }
}

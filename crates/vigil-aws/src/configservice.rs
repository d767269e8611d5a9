//! AWS Config, for a deploy's preflight: the region's configuration recorders and whether they
//! record (AWS Backup's audit controls read what Config records).

use crate::error::AwsError;

/// A configuration recorder of the region.
#[derive(Debug, Clone, PartialEq)]
pub struct RecorderInfo {
    pub name: String,
    pub recording: bool,
    /// Records every supported resource type (not a chosen few).
    pub all_supported: bool,
}

service_client!(
    /// AWS Config for one operation of one environment.
    ConfigService,
    aws_sdk_config
);

impl ConfigService {
    pub async fn recorders(&self) -> Result<Vec<RecorderInfo>, AwsError> {
        let recorders = match self.client.describe_configuration_recorders().send().await {
            Ok(out) => out,
            Err(e) => return Err(crate::error::classify(&self.ctx, "config", "DescribeConfigurationRecorders", &e).await),
        };
        let statuses = match self.client.describe_configuration_recorder_status().send().await {
            Ok(out) => out,
            Err(e) => return Err(crate::error::classify(&self.ctx, "config", "DescribeConfigurationRecorderStatus", &e).await),
        };
        Ok(recorders
            .configuration_recorders()
            .iter()
            .map(|r| {
                let name = r.name().unwrap_or_default().to_string();
                let recording = statuses.configuration_recorders_status().iter().any(|s| s.name() == Some(name.as_str()) && s.recording());
                let all_supported = r.recording_group().is_some_and(|g| g.all_supported());
                RecorderInfo { name, recording, all_supported }
            })
            .collect())
    }
}

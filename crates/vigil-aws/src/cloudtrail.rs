//! CloudTrail, for a deploy's preflight: the trails that see this region (the account's own and
//! an organization's) and whether each is logging.

use crate::error::AwsError;

/// A trail that covers the region.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailInfo {
    pub name: String,
    pub multi_region: bool,
    pub organization: bool,
    pub logging: bool,
}

service_client!(
    /// CloudTrail for one operation of one environment.
    CloudTrail,
    aws_sdk_cloudtrail
);

impl CloudTrail {
    /// Every trail that covers the region, with whether it is logging now.
    pub async fn trails(&self) -> Result<Vec<TrailInfo>, AwsError> {
        let out = match self.client.describe_trails().include_shadow_trails(true).send().await {
            Ok(out) => out,
            Err(e) => return Err(crate::error::classify(&self.ctx, "cloudtrail", "DescribeTrails", &e).await),
        };
        let mut trails = vec![];
        for t in out.trail_list() {
            let id = t.trail_arn().or(t.name()).unwrap_or_default().to_string();
            let status = match self.client.get_trail_status().name(&id).send().await {
                Ok(s) => s,
                Err(e) => return Err(crate::error::classify(&self.ctx, "cloudtrail", "GetTrailStatus", &e).await),
            };
            trails.push(TrailInfo {
                name: t.name().unwrap_or(&id).to_string(),
                multi_region: t.is_multi_region_trail().unwrap_or(false),
                organization: t.is_organization_trail().unwrap_or(false),
                logging: status.is_logging().unwrap_or(false),
            });
        }
        Ok(trails)
    }
}

//! ElastiCache: the platform's Redis replication group as a deploy's validation reads it
//! (status, encryption at rest and in transit, Multi-AZ and automatic failover, its nodes).

use crate::error::AwsError;

/// A replication group as Vigil reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReplicationGroupInfo {
    pub id: String,
    /// available, creating, modifying, deleting, create-failed, snapshotting.
    pub status: String,
    pub at_rest_encryption: bool,
    pub transit_encryption: bool,
    pub multi_az: bool,
    pub automatic_failover: bool,
    /// The member nodes (cache cluster ids).
    pub members: Vec<String>,
}

service_client!(
    /// ElastiCache for one operation of one environment.
    ElastiCache,
    aws_sdk_elasticache
);

impl ElastiCache {
    /// The replication group `id`, or None when there is none.
    pub async fn replication_group(&self, id: &str) -> Result<Option<ReplicationGroupInfo>, AwsError> {
        let out = match self.client.describe_replication_groups().replication_group_id(id).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_replication_group_not_found_fault()) => return Ok(None),
            Err(e) => return Err(crate::error::classify(&self.ctx, "elasticache", "DescribeReplicationGroups", &e).await),
        };
        use aws_sdk_elasticache::types::{AutomaticFailoverStatus, MultiAzStatus};
        Ok(out.replication_groups().first().map(|g| ReplicationGroupInfo {
            id: g.replication_group_id().unwrap_or(id).to_string(),
            status: g.status().unwrap_or_default().to_string(),
            at_rest_encryption: g.at_rest_encryption_enabled().unwrap_or(false),
            transit_encryption: g.transit_encryption_enabled().unwrap_or(false),
            multi_az: g.multi_az() == Some(&MultiAzStatus::Enabled),
            automatic_failover: g.automatic_failover() == Some(&AutomaticFailoverStatus::Enabled),
            members: g.member_clusters().to_vec(),
        }))
    }
}

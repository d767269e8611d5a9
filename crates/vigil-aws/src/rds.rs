//! RDS: the platform's Aurora cluster as a deploy needs it ([`Rds`]: the instance class offered
//! in the region, the cluster's settings and instances, its deletion protection, its final snapshots; a
//! restored cluster's instances, and a restore test's cluster deleted; a point-in-time restore; for the DR runbooks a
//! cluster's failover, and a global database's members, switchover and failover), and IAM authentication: a token (a SigV4-presigned
//! `connect` request, valid 15 minutes) used as the platform database's password, signed with
//! the environment's cached credentials for the region in the database's endpoint name.
//!
//! Tokens are signed here with aws-sigv4, checked against the token the AWS SDK for JavaScript
//! documents for fixed inputs (aws-sdk-rds's own generator replaces this with the DR runbooks).

use crate::context::AwsContext;
use crate::error::{AwsError, Kind};
use std::time::{Duration, SystemTime};

/// An Aurora cluster, as a teardown and a validation read it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterInfo {
    pub id: String,
    pub status: String,
    pub deletion_protection: bool,
    pub storage_encrypted: bool,
    pub iam_auth: bool,
    pub backup_retention_days: i32,
    pub tags: Vec<(String, String)>,
    /// (instance id, is the writer).
    pub members: Vec<(String, bool)>,
    /// The writer endpoint's host name and the port.
    pub endpoint: String,
    pub port: u16,
    /// The database Aurora made with the cluster.
    pub database: Option<String>,
    /// The master user's secret, when RDS manages the password.
    pub master_secret: Option<String>,
    pub arn: String,
    /// The latest time the cluster can be restored to (point-in-time recovery).
    pub latest_restorable_ms: Option<i64>,
    /// The earliest time it can be restored to (its backup retention).
    pub earliest_restorable_ms: Option<i64>,
    pub engine: String,
    pub engine_version: String,
    pub kms_key: Option<String>,
    pub parameter_group: Option<String>,
    pub security_groups: Vec<String>,
    pub subnet_group: Option<String>,
}

/// A database instance of a cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceInfo {
    pub id: String,
    pub status: String,
    pub zone: String,
    pub class: String,
}

/// A manual snapshot of a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotInfo {
    pub id: String,
    pub arn: String,
    pub status: String,
    /// RFC 3339.
    pub created_at: Option<String>,
}

/// An Aurora global database: its member clusters and the switchover or failover under way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GlobalClusterInfo {
    pub id: String,
    pub arn: String,
    pub status: String,
    /// (cluster ARN, is the writer).
    pub members: Vec<(String, bool)>,
    /// A switchover or failover under way: (status, from ARN, to ARN, data loss allowed).
    pub moving: Option<(String, String, String, bool)>,
}

impl GlobalClusterInfo {
    pub fn writer(&self) -> Option<&str> {
        self.members.iter().find(|(_, w)| *w).map(|(a, _)| a.as_str())
    }
}

service_client!(
    /// RDS for one operation of one environment.
    Rds,
    aws_sdk_rds
);

fn is_missing_cluster<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(e: &aws_sdk_rds::error::SdkError<E>) -> bool {
    e.as_service_error().is_some_and(|s| s.code() == Some("DBClusterNotFoundFault"))
}

impl Rds {
    /// The cluster `id`, or None when there is none.
    pub async fn cluster(&self, id: &str) -> Result<Option<ClusterInfo>, AwsError> {
        let out = match self.client.describe_db_clusters().db_cluster_identifier(id).send().await {
            Ok(out) => out,
            Err(e) if is_missing_cluster(&e) => return Ok(None),
            Err(e) => return Err(crate::error::classify(&self.ctx, "rds", "DescribeDBClusters", &e).await),
        };
        Ok(out.db_clusters().first().map(|c| ClusterInfo {
            id: c.db_cluster_identifier().unwrap_or(id).to_string(),
            status: c.status().unwrap_or_default().to_string(),
            deletion_protection: c.deletion_protection().unwrap_or(false),
            storage_encrypted: c.storage_encrypted().unwrap_or(false),
            iam_auth: c.iam_database_authentication_enabled().unwrap_or(false),
            backup_retention_days: c.backup_retention_period().unwrap_or(0),
            tags: c.tag_list().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect(),
            members: c
                .db_cluster_members()
                .iter()
                .map(|m| (m.db_instance_identifier().unwrap_or_default().to_string(), m.is_cluster_writer().unwrap_or(false)))
                .collect(),
            endpoint: c.endpoint().unwrap_or_default().to_string(),
            port: c.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(5432),
            database: c.database_name().map(str::to_string),
            master_secret: c.master_user_secret().and_then(|s| s.secret_arn()).map(str::to_string),
            arn: c.db_cluster_arn().unwrap_or_default().to_string(),
            latest_restorable_ms: c.latest_restorable_time().and_then(|t| t.to_millis().ok()),
            earliest_restorable_ms: c.earliest_restorable_time().and_then(|t| t.to_millis().ok()),
            engine: c.engine().unwrap_or_default().to_string(),
            engine_version: c.engine_version().unwrap_or_default().to_string(),
            kms_key: c.kms_key_id().map(str::to_string),
            parameter_group: c.db_cluster_parameter_group().map(str::to_string),
            security_groups: c.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id().map(str::to_string)).collect(),
            subnet_group: c.db_subnet_group().map(str::to_string),
        }))
    }

    /// The instances of cluster `id`.
    pub async fn instances(&self, id: &str) -> Result<Vec<InstanceInfo>, AwsError> {
        use aws_sdk_rds::types::Filter;
        let mut out = vec![];
        let filter = Filter::builder().name("db-cluster-id").values(id).build();
        let mut pages = self.client.describe_db_instances().filters(filter).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(crate::error::classify(&self.ctx, "rds", "DescribeDBInstances", &e).await),
            };
            out.extend(page.db_instances().iter().map(|i| InstanceInfo {
                id: i.db_instance_identifier().unwrap_or_default().to_string(),
                status: i.db_instance_status().unwrap_or_default().to_string(),
                zone: i.availability_zone().unwrap_or_default().to_string(),
                class: i.db_instance_class().unwrap_or_default().to_string(),
            }));
        }
        Ok(out)
    }

    /// Creates instance `id` of class `class` in `cluster` (a restored cluster has none); an
    /// instance of that id already in the cluster (an earlier attempt) is taken as it is.
    pub async fn create_instance(&self, cluster: &str, engine: &str, id: &str, class: &str, tags: &[(&str, &str)]) -> Result<(), AwsError> {
        let mut req =
            self.client.create_db_instance().db_cluster_identifier(cluster).engine(engine).db_instance_identifier(id).db_instance_class(class);
        for (k, v) in tags {
            req = req.tags(aws_sdk_rds::types::Tag::builder().key(*k).value(*v).build());
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_db_instance_already_exists_fault()) => {
                if self.instances(cluster).await?.iter().any(|i| i.id == id) {
                    Ok(())
                } else {
                    Err(AwsError::new(
                        Kind::Validation,
                        format!("a database instance named {id} already exists in another cluster"),
                        "restore under another name",
                    ))
                }
            }
            Err(e) => Err(crate::error::classify(&self.ctx, "rds", "CreateDBInstance", &e).await),
        }
    }

    /// Turns the cluster's deletion protection on or off (at once: it needs no maintenance window).
    pub async fn set_deletion_protection(&self, id: &str, on: bool) -> Result<(), AwsError> {
        match self.client.modify_db_cluster().db_cluster_identifier(id).deletion_protection(on).apply_immediately(true).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(crate::error::classify(&self.ctx, "rds", "ModifyDBCluster", &e).await),
        }
    }

    /// Deletes instance `id` (a restore test's); one already gone is no error.
    pub async fn delete_instance(&self, id: &str) -> Result<(), AwsError> {
        match self.client.delete_db_instance().db_instance_identifier(id).skip_final_snapshot(true).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_db_instance_not_found_fault()) => Ok(()),
            Err(e) => Err(crate::error::classify(&self.ctx, "rds", "DeleteDBInstance", &e).await),
        }
    }

    /// Deletes cluster `id` without a final snapshot (a restore test's: its recovery point
    /// stays); one already gone is no error. Its instances must be gone first.
    pub async fn delete_cluster(&self, id: &str) -> Result<(), AwsError> {
        match self.client.delete_db_cluster().db_cluster_identifier(id).skip_final_snapshot(true).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_missing_cluster(&e) => Ok(()),
            Err(e) => Err(crate::error::classify(&self.ctx, "rds", "DeleteDBCluster", &e).await),
        }
    }

    /// Restores cluster `source` as it was at `at_ms` (its latest restorable time when None) to a
    /// new cluster `target` without instances (RestoreDBClusterToPointInTime), with the source's
    /// network, encryption, parameter group and IAM authentication, and `tags`.
    pub async fn restore_to_time(&self, source: &ClusterInfo, target: &str, at_ms: Option<i64>, tags: &[(&str, &str)]) -> Result<(), AwsError> {
        use aws_smithy_types::error::metadata::ProvideErrorMetadata;
        let mut req = self
            .client
            .restore_db_cluster_to_point_in_time()
            .source_db_cluster_identifier(&source.id)
            .db_cluster_identifier(target)
            .restore_type("full-copy")
            .port(i32::from(source.port))
            .enable_iam_database_authentication(source.iam_auth)
            .set_db_subnet_group_name(source.subnet_group.clone())
            .set_db_cluster_parameter_group_name(source.parameter_group.clone())
            .set_kms_key_id(source.kms_key.clone())
            .set_vpc_security_group_ids(Some(source.security_groups.clone()).filter(|g| !g.is_empty()))
            .deletion_protection(false);
        req = match at_ms {
            Some(ms) => req.restore_to_time(aws_smithy_types::DateTime::from_millis(ms)),
            None => req.use_latest_restorable_time(true),
        };
        for (k, v) in tags {
            req = req.tags(aws_sdk_rds::types::Tag::builder().key(*k).value(*v).build());
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_db_cluster_already_exists_fault()) => Err(AwsError::new(
                Kind::Validation,
                format!("a cluster named {target} already exists"),
                "restore under another name; a restore never writes over a cluster",
            )),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_invalid_restore_fault()) => Err(AwsError::new(
                Kind::Validation,
                format!(
                    "{} cannot be restored to that time: {}",
                    source.id,
                    e.as_service_error().and_then(ProvideErrorMetadata::message).unwrap_or("outside its restore window")
                ),
                "choose a time between its earliest and latest restorable times",
            )),
            Err(e) => Err(crate::error::classify(&self.ctx, "rds", "RestoreDBClusterToPointInTime", &e).await),
        }
    }

    /// Fails cluster `id`'s writer over to instance `target` (FailoverDBCluster).
    pub async fn failover_cluster(&self, id: &str, target: &str) -> Result<(), AwsError> {
        match self.client.failover_db_cluster().db_cluster_identifier(id).target_db_instance_identifier(target).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(crate::error::classify(&self.ctx, "rds", "FailoverDBCluster", &e).await),
        }
    }

    /// The global database `id` (identifier), or None when there is none.
    pub async fn global_cluster(&self, id: &str) -> Result<Option<GlobalClusterInfo>, AwsError> {
        let out = match self.client.describe_global_clusters().global_cluster_identifier(id).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_global_cluster_not_found_fault()) => return Ok(None),
            Err(e) => return Err(crate::error::classify(&self.ctx, "rds", "DescribeGlobalClusters", &e).await),
        };
        Ok(out.global_clusters().first().map(|g| GlobalClusterInfo {
            id: g.global_cluster_identifier().unwrap_or(id).to_string(),
            arn: g.global_cluster_arn().unwrap_or_default().to_string(),
            status: g.status().unwrap_or_default().to_string(),
            members: g
                .global_cluster_members()
                .iter()
                .map(|m| (m.db_cluster_arn().unwrap_or_default().to_string(), m.is_writer().unwrap_or(false)))
                .collect(),
            moving: g.failover_state().map(|f| {
                (
                    f.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    f.from_db_cluster_arn().unwrap_or_default().to_string(),
                    f.to_db_cluster_arn().unwrap_or_default().to_string(),
                    f.is_data_loss_allowed().unwrap_or(false),
                )
            }),
        }))
    }

    /// Switches the global database's writer to cluster `target` (its ARN) with no data loss
    /// (SwitchoverGlobalCluster), or fails over to it accepting the replication lag as lost
    /// (FailoverGlobalCluster with AllowDataLoss).
    pub async fn move_global_writer(&self, id: &str, target: &str, allow_data_loss: bool) -> Result<(), AwsError> {
        if allow_data_loss {
            match self
                .client
                .failover_global_cluster()
                .global_cluster_identifier(id)
                .target_db_cluster_identifier(target)
                .allow_data_loss(true)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) => Err(crate::error::classify(&self.ctx, "rds", "FailoverGlobalCluster", &e).await),
            }
        } else {
            match self.client.switchover_global_cluster().global_cluster_identifier(id).target_db_cluster_identifier(target).send().await {
                Ok(_) => Ok(()),
                Err(e) => Err(crate::error::classify(&self.ctx, "rds", "SwitchoverGlobalCluster", &e).await),
            }
        }
    }

    /// The zones where `class` can run `engine` (none: not offered in the region).
    pub async fn orderable_zones(&self, engine: &str, class: &str) -> Result<std::collections::BTreeSet<String>, AwsError> {
        let mut zones = std::collections::BTreeSet::new();
        let mut pages = self.client.describe_orderable_db_instance_options().engine(engine).db_instance_class(class).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(crate::error::classify(&self.ctx, "rds", "DescribeOrderableDBInstanceOptions", &e).await),
            };
            for o in page.orderable_db_instance_options().iter().filter(|o| o.db_instance_class() == Some(class)) {
                zones.extend(o.availability_zones().iter().filter_map(|z| z.name().map(str::to_string)));
            }
        }
        Ok(zones)
    }

    /// The cluster's manual snapshots (those a deletion keeps), oldest first.
    pub async fn manual_snapshots(&self, cluster: &str) -> Result<Vec<SnapshotInfo>, AwsError> {
        let mut out = vec![];
        let mut pages = self.client.describe_db_cluster_snapshots().db_cluster_identifier(cluster).snapshot_type("manual").into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(crate::error::classify(&self.ctx, "rds", "DescribeDBClusterSnapshots", &e).await),
            };
            for s in page.db_cluster_snapshots() {
                out.push(SnapshotInfo {
                    id: s.db_cluster_snapshot_identifier().unwrap_or_default().to_string(),
                    arn: s.db_cluster_snapshot_arn().unwrap_or_default().to_string(),
                    status: s.status().unwrap_or_default().to_string(),
                    created_at: s.snapshot_create_time().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
                });
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(out)
    }

    /// Starts a manual snapshot `id` of `cluster`, tagged with `tags`; an existing snapshot of
    /// that id (an earlier attempt of the same step) is taken as it is. Returns its status.
    pub async fn create_snapshot(&self, cluster: &str, id: &str, tags: &[(&str, &str)]) -> Result<String, AwsError> {
        let mut req = self.client.create_db_cluster_snapshot().db_cluster_identifier(cluster).db_cluster_snapshot_identifier(id);
        for (k, v) in tags {
            req = req.tags(aws_sdk_rds::types::Tag::builder().key(*k).value(*v).build());
        }
        match req.send().await {
            Ok(out) => Ok(out.db_cluster_snapshot().and_then(|s| s.status()).unwrap_or("creating").to_string()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_db_cluster_snapshot_already_exists_fault()) => {
                Ok(self.manual_snapshots(cluster).await?.into_iter().find(|s| s.id == id).map(|s| s.status).unwrap_or_else(|| "creating".into()))
            }
            Err(e) => Err(crate::error::classify(&self.ctx, "rds", "CreateDBClusterSnapshot", &e).await),
        }
    }
}

/// How long a token is accepted for new connections.
pub const TOKEN_LIFE: Duration = Duration::from_secs(900);

/// A token for `user` at `host:port`, signed now with the environment's credentials, for the
/// region in `host` (the environment's region when `host` is not an RDS endpoint: a tunnel).
pub async fn connect_token(ctx: &AwsContext, host: &str, port: u16, user: &str) -> Result<String, AwsError> {
    let creds = ctx.credentials().await.map_err(|e| e.during("no AWS credentials to sign the IAM token"))?;
    let region = region_of(host).unwrap_or_else(|| ctx.target().region.clone());
    sign_token(host, port, user, &region, &creds, SystemTime::now()).map_err(|e| {
        AwsError::new(Kind::CredentialsError, format!("the IAM token could not be made: {e}"), "check the environment's AWS credentials")
    })
}

/// The AWS region in an RDS or Aurora endpoint name (`….<region>.rds.amazonaws.com[.cn]`).
pub fn region_of(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let rest = host.strip_suffix(".rds.amazonaws.com").or_else(|| host.strip_suffix(".rds.amazonaws.com.cn"))?;
    let region = rest.rsplit('.').next()?;
    let looks_like_region = region.split('-').count() >= 3 && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    looks_like_region.then(|| region.to_string())
}

/// The token for fixed inputs.
pub fn sign_token(
    host: &str,
    port: u16,
    user: &str,
    region: &str,
    creds: &aws_credential_types::Credentials,
    time: SystemTime,
) -> Result<String, String> {
    let user: String = url::form_urlencoded::byte_serialize(user.as_bytes()).collect();
    let url = format!("https://{host}:{port}/?Action=connect&DBUser={user}");
    let query = crate::presign_query(&url, &[], "rds-db", region, creds, time, TOKEN_LIFE)?;
    let token = format!("{host}:{port}/?Action=connect&DBUser={user}{query}");
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The token the AWS SDK for JavaScript (v2) documents for these inputs in its tests.
    #[test]
    fn tokens_match_the_reference_signer() {
        let creds = aws_credential_types::Credentials::new("akid", "secret", None, None, "test");
        let token = sign_token("db.us-east-1.amazonaws.com", 8000, "test", "us-east-1", &creds, SystemTime::UNIX_EPOCH).unwrap();
        assert!(token.starts_with("db.us-east-1.amazonaws.com:8000/?Action=connect&DBUser=test&"), "{token}");
        assert!(token.contains("X-Amz-Credential=akid%2F19700101%2Fus-east-1%2Frds-db%2Faws4_request"), "{token}");
        assert!(token.contains("X-Amz-Expires=900"));
        assert!(token.contains("X-Amz-Signature=6f2b4daa29668c1c264d7af7927d9d2a706768e35d92d76b461aedbaca14b6ad"), "{token}");
    }

    #[test]
    fn the_region_of_an_rds_endpoint() {
        assert_eq!(region_of("pj-prod.cluster-abc123.eu-west-1.rds.amazonaws.com").as_deref(), Some("eu-west-1"));
        assert_eq!(region_of("pj-prod.cluster-ro-abc123.US-GOV-WEST-1.rds.amazonaws.com.").as_deref(), Some("us-gov-west-1"));
        assert_eq!(region_of("db.cluster-x.cn-north-1.rds.amazonaws.com.cn").as_deref(), Some("cn-north-1"));
        assert_eq!(region_of("localhost"), None);
        assert_eq!(region_of("db.example.com"), None);
        assert_eq!(region_of("rds.amazonaws.com"), None);
    }

    #[tokio::test]
    async fn a_token_is_signed_for_the_databases_region() {
        let all = crate::AwsContexts::new(crate::profiles::ProfileSource::from_contents("", ""), Default::default());
        let ctx = all
            .get(&crate::Target {
                environment: "prod".into(),
                region: "us-east-1".into(),
                endpoint_url: Some("http://127.0.0.1:1".into()),
                credentials: vigil_dto::Credentials::Emulator,
            })
            .await;
        let token = connect_token(&ctx, "pj.cluster-x.eu-west-1.rds.amazonaws.com", 5432, "auditor").await.unwrap();
        assert!(token.contains("%2Feu-west-1%2Frds-db%2F"), "{token}");
        let tunnel = connect_token(&ctx, "localhost", 5433, "auditor").await.unwrap();
        assert!(tunnel.contains("%2Fus-east-1%2Frds-db%2F"), "{tunnel}");
    }
}

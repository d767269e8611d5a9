//! EKS: the platform's cluster and its managed node groups as a deploy's validation reads them
//! (status, secrets encryption, control-plane logs, the API endpoint and its CA for the
//! Kubernetes client, each node group's size and health).

use crate::error::AwsError;

/// A cluster as Vigil reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterInfo {
    pub name: String,
    /// ACTIVE, CREATING, UPDATING, DELETING, FAILED, PENDING.
    pub status: String,
    pub version: String,
    /// The API server's URL.
    pub endpoint: String,
    /// The cluster CA, base64 PEM as EKS gives it.
    pub certificate_authority: String,
    /// The platform's KMS key for envelope encryption of Kubernetes secrets, when one is set.
    pub secrets_key: Option<String>,
    /// Control-plane log types turned on (api, audit, authenticator, controllerManager, scheduler).
    pub logs: Vec<String>,
}

/// A managed node group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodegroupInfo {
    pub name: String,
    /// ACTIVE, CREATING, UPDATING, DEGRADED, CREATE_FAILED, …
    pub status: String,
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    pub instance_types: Vec<String>,
    /// "code: message" of each health issue EKS reports.
    pub issues: Vec<String>,
}

service_client!(
    /// EKS for one operation of one environment.
    Eks,
    aws_sdk_eks
);

fn is_missing<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(e: &aws_sdk_eks::error::SdkError<E>) -> bool {
    e.as_service_error().is_some_and(|s| s.code() == Some("ResourceNotFoundException"))
}

impl Eks {
    /// The cluster `name`, or None when there is none.
    pub async fn cluster(&self, name: &str) -> Result<Option<ClusterInfo>, AwsError> {
        let out = match self.client.describe_cluster().name(name).send().await {
            Ok(out) => out,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeCluster", &e).await),
        };
        Ok(out.cluster().map(|c| ClusterInfo {
            name: c.name().unwrap_or(name).to_string(),
            status: c.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            version: c.version().unwrap_or_default().to_string(),
            endpoint: c.endpoint().unwrap_or_default().to_string(),
            certificate_authority: c.certificate_authority().and_then(|a| a.data()).unwrap_or_default().to_string(),
            secrets_key: c.encryption_config().iter().find_map(|e| e.provider().and_then(|p| p.key_arn())).map(str::to_string),
            logs: c
                .logging()
                .map(|l| {
                    l.cluster_logging()
                        .iter()
                        .filter(|s| s.enabled() == Some(true))
                        .flat_map(|s| s.types().iter().map(|t| t.as_str().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
        }))
    }

    /// The cluster's managed node groups.
    pub async fn nodegroups(&self, cluster: &str) -> Result<Vec<NodegroupInfo>, AwsError> {
        let mut names = vec![];
        let mut pages = self.client.list_nodegroups().cluster_name(cluster).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => names.extend(p.nodegroups().iter().cloned()),
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "ListNodegroups", &e).await),
            }
        }
        let mut out = vec![];
        for name in names {
            let got = match self.client.describe_nodegroup().cluster_name(cluster).nodegroup_name(&name).send().await {
                Ok(got) => got,
                // Deleted between the two calls.
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(crate::error::classify(&self.ctx, "eks", "DescribeNodegroup", &e).await),
            };
            let Some(g) = got.nodegroup() else { continue };
            let scaling = g.scaling_config();
            out.push(NodegroupInfo {
                name,
                status: g.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                desired: scaling.and_then(|s| s.desired_size()).unwrap_or(0),
                min: scaling.and_then(|s| s.min_size()).unwrap_or(0),
                max: scaling.and_then(|s| s.max_size()).unwrap_or(0),
                instance_types: g.instance_types().to_vec(),
                issues: g
                    .health()
                    .map(|h| {
                        h.issues()
                            .iter()
                            .map(|i| format!("{}: {}", i.code().map(|c| c.as_str()).unwrap_or("issue"), i.message().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

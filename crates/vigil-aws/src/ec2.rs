//! EC2, for a deploy's preflight: the region's availability zones, the CIDR blocks of the
//! account's VPCs there, which instance types the zones offer, and an instance type's vCPUs.

use crate::error::AwsError;
use aws_sdk_ec2::types::{Filter, LocationType};
use std::collections::{BTreeMap, BTreeSet};

/// A VPC already in the region.
#[derive(Debug, Clone, PartialEq)]
pub struct VpcInfo {
    pub id: String,
    pub name: Option<String>,
    /// Its primary block and every associated one.
    pub cidrs: Vec<String>,
}

service_client!(
    /// EC2 for one operation of one environment.
    Ec2,
    aws_sdk_ec2
);

impl Ec2 {
    /// The zones (not Local Zones or Wavelength) available in the region.
    pub async fn availability_zones(&self) -> Result<Vec<String>, AwsError> {
        let out = self.client.describe_availability_zones().filters(Filter::builder().name("state").values("available").build()).send().await;
        let out = match out {
            Ok(out) => out,
            Err(e) => return Err(crate::error::classify(&self.ctx, "ec2", "DescribeAvailabilityZones", &e).await),
        };
        let mut zones: Vec<String> = out
            .availability_zones()
            .iter()
            .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
            .filter_map(|z| z.zone_name().map(str::to_string))
            .collect();
        zones.sort();
        Ok(zones)
    }

    /// Every VPC in the region with its CIDR blocks.
    pub async fn vpcs(&self) -> Result<Vec<VpcInfo>, AwsError> {
        let mut out = vec![];
        let mut pages = self.client.describe_vpcs().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(crate::error::classify(&self.ctx, "ec2", "DescribeVpcs", &e).await),
            };
            for v in page.vpcs() {
                let mut cidrs: Vec<String> = v.cidr_block().map(str::to_string).into_iter().collect();
                for a in v.cidr_block_association_set() {
                    if let Some(c) = a.cidr_block() {
                        if !cidrs.iter().any(|x| x == c) {
                            cidrs.push(c.to_string());
                        }
                    }
                }
                let name = v.tags().iter().find(|t| t.key() == Some("Name")).and_then(|t| t.value()).map(str::to_string);
                out.push(VpcInfo { id: v.vpc_id().unwrap_or_default().to_string(), name, cidrs });
            }
        }
        Ok(out)
    }

    /// For each of `types`, the zones that offer it.
    pub async fn instance_type_zones(&self, types: &[String]) -> Result<BTreeMap<String, BTreeSet<String>>, AwsError> {
        let mut found: BTreeMap<String, BTreeSet<String>> = types.iter().map(|t| (t.clone(), BTreeSet::new())).collect();
        let mut pages = self
            .client
            .describe_instance_type_offerings()
            .location_type(LocationType::AvailabilityZone)
            .filters(Filter::builder().name("instance-type").set_values(Some(types.to_vec())).build())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(p) => p,
                Err(e) => return Err(crate::error::classify(&self.ctx, "ec2", "DescribeInstanceTypeOfferings", &e).await),
            };
            for o in page.instance_type_offerings() {
                if let (Some(t), Some(zone)) = (o.instance_type(), o.location()) {
                    if let Some(zones) = found.get_mut(t.as_str()) {
                        zones.insert(zone.to_string());
                    }
                }
            }
        }
        Ok(found)
    }

    /// The default vCPUs of `instance_type`, or None when EC2 does not know the type.
    pub async fn vcpus(&self, instance_type: &str) -> Result<Option<i32>, AwsError> {
        use aws_sdk_ec2::types::InstanceType;
        match self.client.describe_instance_types().instance_types(InstanceType::from(instance_type)).send().await {
            Ok(out) => Ok(out.instance_types().first().and_then(|t| t.v_cpu_info()).and_then(|v| v.default_v_cpus())),
            Err(e)
                if e.as_service_error().and_then(|s| aws_smithy_types::error::metadata::ProvideErrorMetadata::code(s))
                    == Some("InvalidInstanceType") =>
            {
                Ok(None)
            }
            Err(e) => Err(crate::error::classify(&self.ctx, "ec2", "DescribeInstanceTypes", &e).await),
        }
    }
}

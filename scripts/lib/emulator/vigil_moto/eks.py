"""AWS::EKS::Cluster and AWS::EKS::Nodegroup on moto's EKS backend."""

import uuid

from moto.core.common_models import CloudFormationModel
from moto.eks.models import eks_backends

from . import site
from .common import Emulated, camel


class EksCluster(Emulated, CloudFormationModel):
    ATTRIBUTES = ("Arn", "Endpoint", "CertificateAuthorityData", "OpenIdConnectIssuerUrl", "ClusterSecurityGroupId", "EncryptionConfigKeyArn")

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::EKS::Cluster"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = eks_backends[account_id][region_name]
        vpc = camel(p.get("ResourcesVpcConfig", {}))
        logging = p.get("Logging", {}).get("ClusterLogging", {})
        enabled = [t["Type"] for t in logging.get("EnabledTypes", [])]
        cluster = backend.create_cluster(
            name=resource_name,
            role_arn=p["RoleArn"],
            resources_vpc_config=vpc,
            version=p.get("Version"),
            logging={"clusterLogging": [{"types": enabled, "enabled": True}]} if enabled else None,
            tags={t["Key"]: t["Value"] for t in p.get("Tags", [])},
            encryption_config=camel(p.get("EncryptionConfig", [])),
        )
        # Each cluster its own issuer, as EKS gives (moto's is one per process, so a second
        # cluster's OIDC provider would collide with the first's).
        cluster.identity = {"oidc": {"issuer": f"https://oidc.eks.{region_name}.amazonaws.com/id/{uuid.uuid4().hex.upper()}"}}
        real = site.kubernetes(region_name)
        if real:
            cluster.endpoint, cluster.certificate_authority = real[0], {"data": real[1]}
        keys = [c.get("Provider", {}).get("KeyArn") for c in p.get("EncryptionConfig", [])]
        attributes = {
            "Arn": cluster.arn,
            "Endpoint": cluster.endpoint,
            "CertificateAuthorityData": cluster.certificate_authority["data"],
            "OpenIdConnectIssuerUrl": cluster.identity["oidc"]["issuer"],
            "ClusterSecurityGroupId": (vpc.get("securityGroupIds") or [""])[0],
            "EncryptionConfigKeyArn": keys[0] if keys else "",
        }
        return cls(resource_name, attributes, remove=lambda: backend.delete_cluster(resource_name))


class EksNodegroup(Emulated, CloudFormationModel):
    ATTRIBUTES = ("Arn", "ClusterName", "NodegroupName")

    @staticmethod
    def cloudformation_name_type():
        return "NodegroupName"

    @staticmethod
    def cloudformation_type():
        return "AWS::EKS::Nodegroup"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = eks_backends[account_id][region_name]
        scaling = {k[:1].lower() + k[1:]: int(v) for k, v in p.get("ScalingConfig", {}).items()}
        template = p.get("LaunchTemplate")
        group = backend.create_nodegroup(
            cluster_name=p["ClusterName"],
            node_role=p["NodeRole"],
            nodegroup_name=resource_name,
            subnets=p["Subnets"],
            scaling_config=scaling or None,
            instance_types=p.get("InstanceTypes"),
            ami_type=p.get("AmiType"),
            labels=p.get("Labels"),
            tags=p.get("Tags") if isinstance(p.get("Tags"), dict) else None,
            launch_template={"id": template.get("Id"), "version": str(template.get("Version"))} if template else None,
            capacity_type=p.get("CapacityType"),
            # As EKS: the control plane's version and that version's current AMI release.
            version=p.get("Version") or backend.clusters[p["ClusterName"]].version,
            release_version=p.get("ReleaseVersion") or f"{p.get('Version') or backend.clusters[p['ClusterName']].version}.0-20261115",
        )
        cluster = p["ClusterName"]
        # CloudFormation's Ref of a node group is "cluster/nodegroup".
        return cls(
            f"{cluster}/{resource_name}",
            {"Arn": group.arn, "ClusterName": cluster, "NodegroupName": resource_name},
            remove=lambda: backend.delete_nodegroup(cluster, resource_name),
        )

    @classmethod
    def apply_update(cls, resource, properties, account_id, region_name):
        scaling = {k[:1].lower() + k[1:]: int(v) for k, v in properties.get("ScalingConfig", {}).items()}
        if scaling:
            backend = eks_backends[account_id][region_name]
            group = backend.clusters[resource.attributes["ClusterName"]].nodegroups[resource.attributes["NodegroupName"]]
            group.scaling_config = scaling
            group.instance_types = properties.get("InstanceTypes", group.instance_types)

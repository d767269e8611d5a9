"""AWS::ElastiCache::SubnetGroup and AWS::ElastiCache::ReplicationGroup (Redis, cluster mode
off) on moto's ElastiCache backend."""

import inspect

from moto.core.common_models import CloudFormationModel
from moto.elasticache.models import elasticache_backends

from .common import Emulated, snake, tag_list, truthy


class SubnetGroup(Emulated, CloudFormationModel):
    ATTRIBUTES = ()

    @staticmethod
    def cloudformation_name_type():
        return "CacheSubnetGroupName"

    @staticmethod
    def cloudformation_type():
        return "AWS::ElastiCache::SubnetGroup"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = elasticache_backends[account_id][region_name]
        name = resource_name.lower()
        backend.create_cache_subnet_group(name, p.get("Description", ""), p["SubnetIds"], tag_list(p.get("Tags")))
        return cls(name, {}, remove=lambda: backend.cache_subnet_groups.pop(name, None))


class ReplicationGroup(Emulated, CloudFormationModel):
    ATTRIBUTES = ("PrimaryEndPoint.Address", "PrimaryEndPoint.Port", "ReaderEndPoint.Address", "ReaderEndPoint.Port")

    @staticmethod
    def cloudformation_name_type():
        return "ReplicationGroupId"

    @staticmethod
    def cloudformation_type():
        return "AWS::ElastiCache::ReplicationGroup"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = elasticache_backends[account_id][region_name]
        given = snake(p)
        given["multi_az_enabled"] = given.pop("multi_a_z_enabled", given.get("multi_az_enabled"))
        # Every argument moto's create_replication_group names, from the properties or empty.
        args = {}
        for name in list(inspect.signature(backend.create_replication_group).parameters):
            args[name] = given.get(name)
        args["replication_group_id"] = resource_name.lower()
        args["num_cache_clusters"] = int(given.get("num_cache_clusters") or 1)
        # moto sizes a group without cluster mode by its replicas only.
        if not given.get("replicas_per_node_group"):
            args["replicas_per_node_group"] = args["num_cache_clusters"] - 1
        args["port"] = int(given.get("port") or 6379)
        args["tags"] = tag_list(p.get("Tags"))
        for flag in ("automatic_failover_enabled", "multi_az_enabled", "at_rest_encryption_enabled", "transit_encryption_enabled", "auto_minor_version_upgrade"):
            args[flag] = truthy(given.get(flag))
        if not given.get("preferred_cache_cluster_azs"):
            # As AWS spreads a Multi-AZ group: one zone per node, in order.
            given["preferred_cache_cluster_azs"] = [f"{region_name}{z}" for z in "abcdef"[: args["num_cache_clusters"]]]
        for listed in ("preferred_cache_cluster_azs", "cache_security_group_names", "security_group_ids", "snapshot_arns", "user_group_ids", "node_group_configuration", "log_delivery_configurations"):
            args[listed] = given.get(listed) or []
        group = backend.create_replication_group(**args)
        node = group.node_groups[0] if getattr(group, "node_groups", None) else {}
        attributes = {
            "PrimaryEndPoint.Address": node.get("primary_endpoint_address", ""),
            "PrimaryEndPoint.Port": str(args["port"]),
            "ReaderEndPoint.Address": node.get("reader_endpoint_address", ""),
            "ReaderEndPoint.Port": str(args["port"]),
        }
        name = args["replication_group_id"]
        return cls(name, attributes, remove=lambda: backend.delete_replication_group(name, retain_primary_cluster=False))

"""AWS::RDS::DBCluster (Aurora, with its Secrets Manager master secret) and
AWS::RDS::DBInstance, also inside a cluster (moto's own drops the cluster and answers 500),
on moto's RDS backend. A cluster that is a real PostgreSQL database (site.py) takes its
database with it when it is deleted (DeleteDBCluster, or its stack's deletion)."""

import json
import secrets
import uuid

from moto.core.common_models import CloudFormationModel
from moto.rds.models import DBCluster as MotoCluster
from moto.rds.models import RDSBackend, rds_backends
from moto.secretsmanager.models import secretsmanager_backends

from . import site
from .common import Emulated, snake, tag_list, truthy

INTEGERS = ("port", "backup_retention_period", "monitoring_interval", "performance_insights_retention_period", "promotion_tier", "allocated_storage")
BOOLEANS = (
    "storage_encrypted",
    "enable_iam_database_authentication",
    "deletion_protection",
    "copy_tags_to_snapshot",
    "manage_master_user_password",
    "publicly_accessible",
    "auto_minor_version_upgrade",
    "enable_performance_insights",
    "multi_az",
)


def arguments(properties: dict) -> dict:
    kwargs = snake(properties)
    for k in INTEGERS:
        if kwargs.get(k) is not None:
            kwargs[k] = int(kwargs[k])
    for k in BOOLEANS:
        if k in kwargs:
            kwargs[k] = truthy(kwargs[k])
    kwargs["tags"] = tag_list(properties.get("Tags"))
    return kwargs


class SiteCluster(MotoCluster):
    """A cluster that is the sandbox's (or a test's) PostgreSQL server (see site.py)."""

    @property
    def endpoint(self) -> str:
        return site.postgres()["host"]

    @property
    def reader_endpoint(self) -> str:
        return site.postgres()["host"]


_moto_delete_db_cluster = RDSBackend.delete_db_cluster


def delete_db_cluster(self, cluster_identifier, snapshot_name=None):
    """As moto's, and a cluster on the site's server drops its database (its data is gone with
    it, as with RDS; a final snapshot of the emulator holds no data)."""
    cluster = _moto_delete_db_cluster(self, cluster_identifier, snapshot_name)
    server = site.postgres()
    if server and isinstance(cluster, SiteCluster) and cluster.database_name:
        site.drop_database(server, cluster.database_name)
    return cluster


RDSBackend.delete_db_cluster = delete_db_cluster


def master_credentials(cluster, account_id, region_name, server):
    """The managed master secret holds the master user's name and password, as RDS's does
    (moto's holds a fixed "admin"); on a real server, that server's user."""
    value = site.master_secret(server) if server else json.dumps({"username": cluster.master_username, "password": secrets.token_urlsafe(24)})
    sm = secretsmanager_backends[account_id][region_name]
    sm.put_secret_value(cluster.master_user_secret.secret.arn, value, None, None, ["AWSCURRENT"])


class DBCluster(Emulated, CloudFormationModel):
    ATTRIBUTES = ("DBClusterArn", "DBClusterResourceId", "Endpoint.Address", "Endpoint.Port", "ReadEndpoint.Address", "MasterUserSecret.SecretArn")

    @staticmethod
    def cloudformation_name_type():
        return "DBClusterIdentifier"

    @staticmethod
    def cloudformation_type():
        return "AWS::RDS::DBCluster"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = rds_backends[account_id][region_name]
        args = arguments(p)
        args["db_cluster_identifier"] = resource_name.lower()
        secret = args.pop("master_user_secret", None) or {}
        if secret.get("KmsKeyId"):
            args["master_user_secret_kms_key_id"] = secret["KmsKeyId"]
        cluster = backend.create_db_cluster(args)
        server = site.postgres()
        if server:
            cluster.__class__ = SiteCluster
            cluster.port = server["port"]
            cluster.database_name = f"{cluster.database_name or 'postgres'}_{cluster.db_cluster_resource_id.lower().replace('-', '_')}"
            site.create_database(server, cluster.database_name)
        if getattr(cluster, "master_user_secret", None):
            master_credentials(cluster, account_id, region_name, server)
        # CloudFormation reports the cluster created once it is available (moto's first
        # describe would say "creating").
        cluster.status = "available"
        attributes = {
            "DBClusterArn": cluster.db_cluster_arn,
            "DBClusterResourceId": cluster.resource_id,
            "Endpoint.Address": cluster.endpoint,
            "Endpoint.Port": str(cluster.port),
            "ReadEndpoint.Address": cluster.reader_endpoint,
        }
        if getattr(cluster, "master_user_secret", None):
            attributes["MasterUserSecret.SecretArn"] = cluster.master_user_secret.secret.arn

        def remove():
            # As CloudFormation does with DeletionPolicy Snapshot: the final snapshot is kept. A
            # protected cluster is refused (moto's own error), as RDS refuses it.
            if cluster.deletion_protection:
                backend.delete_db_cluster(cluster.db_cluster_identifier)
            for member in list(cluster._members):
                backend.delete_db_instance(member.db_instance_identifier, skip_final_snapshot=True)
            backend.delete_db_cluster(cluster.db_cluster_identifier, snapshot_name=f"{cluster.db_cluster_identifier}-final-{uuid.uuid4().hex[:8]}")

        return cls(cluster.db_cluster_identifier, attributes, remove=remove)


class DBInstance(Emulated, CloudFormationModel):
    ATTRIBUTES = ("DBInstanceArn", "Endpoint.Address", "Endpoint.Port", "DbiResourceId")

    @staticmethod
    def cloudformation_name_type():
        return "DBInstanceIdentifier"

    @staticmethod
    def cloudformation_type():
        return "AWS::RDS::DBInstance"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = rds_backends[account_id][region_name]
        args = arguments(p)
        args["db_instance_identifier"] = resource_name.lower().replace("_", "-")
        if args.get("db_cluster_identifier"):
            args["db_cluster_identifier"] = args["db_cluster_identifier"].lower()
        instance = backend.create_db_instance(args)
        attributes = {
            "DBInstanceArn": instance.db_instance_arn,
            "Endpoint.Address": instance.address,
            "Endpoint.Port": str(instance.port),
            "DbiResourceId": instance.dbi_resource_id,
        }

        def remove():
            if instance.db_instance_identifier in backend.databases:
                backend.delete_db_instance(instance.db_instance_identifier, skip_final_snapshot=True)

        return cls(instance.db_instance_identifier, attributes, remove=remove)

    @classmethod
    def apply_update(cls, resource, properties, account_id, region_name):
        instance = rds_backends[account_id][region_name].databases.get(resource.physical_id)
        if instance is not None and properties.get("DBInstanceClass"):
            instance.db_instance_class = properties["DBInstanceClass"]

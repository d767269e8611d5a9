"""AWS::RDS::DBCluster (Aurora, with its Secrets Manager master secret) and
AWS::RDS::DBInstance, also inside a cluster (moto's own drops the cluster and answers 500),
and AWS::RDS::GlobalCluster on moto's RDS backend. A cluster that is a real PostgreSQL database
(site.py) takes its database with it when it is deleted (DeleteDBCluster, or its stack's
deletion). Failovers take a few reads (FailoverDBCluster), and a global database's writer moves
between its member clusters (SwitchoverGlobalCluster, FailoverGlobalCluster; moto has neither).
A point-in-time restore refuses an identifier in use and a time outside the restore window (moto
overwrote and took any), and a site cluster's restore is a copy of its database as it is now:
the emulator keeps no history, so "as of a time" is always "as of the restore". A secondary
joining a global database whose writer is a site cluster shares the writer's database (the
emulator's replication: one database, no lag)."""

import datetime
import json
import secrets
import uuid

from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult
from moto.rds.exceptions import InvalidDBClusterStateFault, InvalidParameterCombination, RDSClientError
from moto.rds.models import DBCluster as MotoCluster
from moto.rds.models import RDSBackend, find_cluster, rds_backends
from moto.rds.responses import RDSResponse
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
    if server and isinstance(cluster, SiteCluster) and cluster.database_name and not sharing(self.account_id, cluster.database_name):
        site.drop_database(server, cluster.database_name)
    return cluster


def sharing(account_id, database_name):
    """The site clusters still on `database_name` (a global database's members share one)."""
    return [
        c
        for region in rds_backends[account_id]
        for c in rds_backends[account_id][region].clusters.values()
        if isinstance(c, SiteCluster) and c.database_name == database_name
    ]


_moto_create_db_cluster = RDSBackend.create_db_cluster


def create_db_cluster(self, kwargs):
    """As moto's; and a secondary joining a global database whose writer is on the site's server
    is on that server too, on the writer's database: the emulator's replication is one database
    (no lag; a switchover or failover then finds the data the platform wrote)."""
    cluster = _moto_create_db_cluster(self, kwargs)
    if site.postgres() and cluster.global_cluster_identifier:
        g = global_cluster(self.account_id, cluster.global_cluster_identifier)
        writer = next((m for m in g.members if m is not cluster and getattr(m, "is_writer", False)), None)
        if isinstance(writer, SiteCluster) and writer.database_name:
            cluster.database_name, cluster.port = writer.database_name, writer.port
            cluster.__class__ = SiteCluster
    return cluster


RDSBackend.delete_db_cluster = delete_db_cluster
RDSBackend.create_db_cluster = create_db_cluster


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
        if server and not isinstance(cluster, SiteCluster):  # a global secondary already is
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


# --- Global databases and failovers that take time -------------------------------------------
# moto moves a cluster's writer at once and has no SwitchoverGlobalCluster or
# FailoverGlobalCluster (500). Here each of the three goes on for a few reads, as RDS reports
# it: FailoverDBCluster leaves the cluster "failing-over" until the next DescribeDBClusters of
# it; a global switchover or failover shows its FailoverState (pending, then failing-over) over
# the next DescribeGlobalClusters, and the writer moves between member clusters when it ends.
# Never by time: a test's wait polls, it does not sleep.


class GlobalClusterNotFoundFault(RDSClientError):
    def __init__(self, identifier):
        super().__init__("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")


class InvalidGlobalClusterStateFault(RDSClientError):
    def __init__(self, message):
        super().__init__("InvalidGlobalClusterStateFault", message)


_moto_failover_db_cluster = RDSBackend.failover_db_cluster
_moto_describe_db_clusters = RDSBackend.describe_db_clusters
_moto_create_global_cluster = RDSBackend.create_global_cluster


def failover_db_cluster(self, db_cluster_identifier, target_db_instance_identifier=None):
    cluster = self.clusters.get(db_cluster_identifier)
    if cluster is not None and cluster.status != "available":
        raise InvalidDBClusterStateFault(f"DbCluster {db_cluster_identifier} is not in an available state (it is {cluster.status}).")
    cluster = _moto_failover_db_cluster(self, db_cluster_identifier, target_db_instance_identifier)
    cluster.status = "failing-over"
    return cluster


def describe_db_clusters(self, db_cluster_identifier=None, filters=None):
    clusters = _moto_describe_db_clusters(self, db_cluster_identifier, filters)
    for c in clusters:
        # Each read moves a failover on: this one shows it under way, the next one done.
        if c.status == "failing-over":
            if getattr(c, "_failover_seen", False):
                c.status = "available"
                c._failover_seen = False
            else:
                c._failover_seen = True
    return clusters


def create_global_cluster(self, global_cluster_identifier, source_db_cluster_identifier, engine, engine_version, storage_encrypted, deletion_protection):
    """As moto's, with the source cluster found in its own region (moto looked for it in
    us-east-1, where global clusters live), and that source the writer."""
    source = None
    if source_db_cluster_identifier and str(source_db_cluster_identifier).startswith("arn:"):
        if engine is not None:
            raise InvalidParameterCombination("When creating global cluster from existing db cluster, value for engineName should not be specified since it will be inherited from source cluster")
        source = find_cluster(source_db_cluster_identifier)
        engine, engine_version, source_db_cluster_identifier = source.engine, source.engine_version, None
    g = _moto_create_global_cluster(self, global_cluster_identifier, source_db_cluster_identifier, engine, engine_version, storage_encrypted, deletion_protection)
    if source is not None:
        source.global_cluster_identifier = g.global_cluster_arn
        g.members.append(source)
    if g.members:
        g.members[0].is_writer = True
    g.failover_state = None
    return g


def remove_from_global_cluster(self, global_cluster_identifier, db_cluster_identifier):
    """As RDS: from any region (moto looked only in us-east-1 and hid every error); the cluster
    leaves as a standalone writer of its own."""
    g = global_cluster(self.account_id, global_cluster_identifier)
    cluster = member(g, db_cluster_identifier)
    g.members.remove(cluster)
    cluster.global_cluster_identifier = None
    cluster.is_writer = False
    return g


class DBClusterAlreadyExistsFault(RDSClientError):
    def __init__(self, identifier):
        super().__init__("DBClusterAlreadyExistsFault", f"DB Cluster already exists: {identifier}")


class InvalidRestoreFault(RDSClientError):
    def __init__(self, message):
        super().__init__("InvalidRestoreFault", message)


_moto_restore_to_time = RDSBackend.restore_db_cluster_to_point_in_time


def _when(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def restore_db_cluster_to_point_in_time(self, db_cluster_identifier, source_db_cluster_identifier, restore_type="full-copy", restore_to_time=None, use_latest_restorable_time=False, **overrides):
    if db_cluster_identifier.lower() in self.clusters:
        raise DBClusterAlreadyExistsFault(db_cluster_identifier)
    source = self.clusters.get(str(source_db_cluster_identifier).split(":cluster:")[-1].lower())
    when = _when(restore_to_time)
    if source is not None and when is not None:
        now = datetime.datetime.now(datetime.timezone.utc)
        earliest = source.earliest_restorable_time
        earliest = earliest if earliest.tzinfo else earliest.replace(tzinfo=datetime.timezone.utc)
        when = when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)
        if not earliest <= when <= now:
            raise InvalidRestoreFault(f"The restore time {when.isoformat()} is outside the restore window of {source.db_cluster_identifier} ({earliest.isoformat()} to now).")
    # The restored cluster has no instances (moto finds them by cluster), no global database, and
    # a master secret of its own.
    cluster = _moto_restore_to_time(self, db_cluster_identifier, source_db_cluster_identifier, restore_type, when, use_latest_restorable_time, **overrides)
    cluster.global_cluster_identifier = None
    cluster.is_writer = False
    server = site.postgres()
    if server and isinstance(source, SiteCluster) and source.database_name:
        cluster.database_name = site.database_for(source.database_name, cluster.db_cluster_resource_id)
        site.copy_database(server, source.database_name, cluster.database_name)
        cluster.__class__ = SiteCluster
    if getattr(cluster, "master_user_secret", None):
        master_credentials(cluster, self.account_id, self.region_name, server)
    return cluster


RDSBackend.restore_db_cluster_to_point_in_time = restore_db_cluster_to_point_in_time
RDSBackend.remove_from_global_cluster = remove_from_global_cluster
RDSBackend.failover_db_cluster = failover_db_cluster
RDSBackend.describe_db_clusters = describe_db_clusters
RDSBackend.create_global_cluster = create_global_cluster


def global_cluster(account_id, identifier):
    """A global cluster by identifier or ARN (they live in moto's us-east-1 backend)."""
    ident = identifier.split(":global-cluster:")[-1] if identifier.startswith("arn:") else identifier
    g = rds_backends[account_id]["us-east-1"].global_clusters.get(ident)
    if g is None:
        raise GlobalClusterNotFoundFault(identifier)
    return g


def member(g, identifier):
    for m in g.members:
        if identifier in (m.db_cluster_arn, m.db_cluster_identifier):
            return m
    raise InvalidGlobalClusterStateFault(f"{identifier} is not a member of the global cluster {g.global_cluster_identifier}.")


def start_global_move(account_id, identifier, target, data_loss):
    g = global_cluster(account_id, identifier)
    if g.status != "available" or getattr(g, "failover_state", None):
        raise InvalidGlobalClusterStateFault(f"Global cluster {g.global_cluster_identifier} is {g.status}; wait until it is available.")
    to = member(g, target)
    if to.is_writer:
        raise InvalidGlobalClusterStateFault(f"{target} is already the global cluster's primary.")
    writer = next((m for m in g.members if m.is_writer), None)
    if not data_loss and any(m.status != "available" for m in g.members):
        raise InvalidGlobalClusterStateFault("Every member cluster must be available for a switchover; use a failover with AllowDataLoss when the primary cannot be reached.")
    if to.status != "available":
        raise InvalidDBClusterStateFault(f"DbCluster {to.db_cluster_identifier} is not available.")
    g.status = "failing-over" if data_loss else "switching-over"
    g.failover_state = {
        "Status": "pending",
        "FromDbClusterArn": writer.db_cluster_arn if writer else None,
        "ToDbClusterArn": to.db_cluster_arn,
        "IsDataLossAllowed": bool(data_loss),
    }
    g._move_target = to
    return g


_moto_describe_global_clusters = RDSBackend.describe_global_clusters


def describe_global_clusters(self):
    clusters = _moto_describe_global_clusters(self)
    for g in clusters:
        state = getattr(g, "failover_state", None)
        if not state:
            continue
        # pending → failing-over → done (the writer moved, the old one a secondary).
        if state["Status"] == "pending":
            state["Status"] = "failing-over"
        else:
            for m in g.members:
                m.is_writer = m is g._move_target
            g.failover_state = None
            g.status = "available"
    return clusters


RDSBackend.describe_global_clusters = describe_global_clusters


def _flag(v):
    return v is True or str(v).lower() == "true"


def switchover_global_cluster(self):
    p = self.params
    g = start_global_move(self.current_account, p["GlobalClusterIdentifier"], p["TargetDbClusterIdentifier"], data_loss=False)
    return ActionResult({"GlobalCluster": g})


def failover_global_cluster(self):
    p = self.params
    allow, switchover = _flag(p.get("AllowDataLoss")), _flag(p.get("Switchover"))
    if allow == switchover:
        raise InvalidParameterCombination("Specify exactly one of AllowDataLoss and Switchover.")
    g = start_global_move(self.current_account, p["GlobalClusterIdentifier"], p["TargetDbClusterIdentifier"], data_loss=allow)
    return ActionResult({"GlobalCluster": g})


RDSResponse.switchover_global_cluster = switchover_global_cluster
RDSResponse.failover_global_cluster = failover_global_cluster


class GlobalCluster(Emulated, CloudFormationModel):
    """AWS::RDS::GlobalCluster from a source cluster (the database stack's, for DR)."""

    ATTRIBUTES = ("GlobalClusterIdentifier",)

    @staticmethod
    def cloudformation_name_type():
        return "GlobalClusterIdentifier"

    @staticmethod
    def cloudformation_type():
        return "AWS::RDS::GlobalCluster"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = rds_backends[account_id][region_name]
        source = p.get("SourceDBClusterIdentifier")
        if source and not str(source).startswith("arn:"):
            source = backend.clusters[source].db_cluster_arn
        g = rds_backends[account_id]["us-east-1"].create_global_cluster(
            global_cluster_identifier=p.get("GlobalClusterIdentifier", resource_name).lower(),
            source_db_cluster_identifier=source,
            engine=None if source else p.get("Engine", "aurora-postgresql"),
            engine_version=None if source else p.get("EngineVersion"),
            storage_encrypted=None,
            deletion_protection=truthy(p.get("DeletionProtection", False)),
        )
        # DeletionPolicy Retain keeps it; without, it goes with its members.
        return cls(g.global_cluster_identifier, {"GlobalClusterIdentifier": g.global_cluster_identifier})

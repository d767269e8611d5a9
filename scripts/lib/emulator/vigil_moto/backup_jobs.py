"""AWS Backup's jobs and recovery points on moto's Backup backend (moto has none: HTTP 404).

A backup job runs when it is started and ends COMPLETED or FAILED at once, as the emulator's
stacks do:

- an Aurora cluster (arn:…:rds:…:cluster:ID) gets a cluster snapshot through moto's RDS
  (`awsbackup:job-<id>`, the recovery point's ARN is the snapshot's, as AWS Backup's); when the
  cluster is a real PostgreSQL database (site.py), the snapshot holds a dump of it;
- an S3 bucket (arn:aws:s3:::NAME) has its objects copied into the recovery point.

A restore job makes a new resource, never over an existing one: an Aurora cluster from the
snapshot through moto's RDS, without instances (as AWS Backup's restore leaves it), its database
restored from the dump; an S3 bucket (new or existing, optionally only some prefixes) with the
objects written back. A copy job copies a recovery point into a vault of another region or
account. Each job's state changes go to EventBridge as AWS Backup sends them (source aws.backup,
"Backup|Restore|Copy Job State Change"), so rules deliver them (e.g. to a log group). Jobs and
recovery points are listed with AWS Backup's filters and pages; a recovery
point in a locked vault cannot be deleted before the lock's minimum retention. A vault's access
policy is kept and answered (moto has none).

State lives on the backend as `vigil_backup`; the dumps in a temporary directory of the server.
"""

import json
import os
import subprocess
import tempfile
import time
from urllib.parse import unquote

from moto.backup.exceptions import InvalidParameterValueException, InvalidRequestException, ResourceNotFoundException
from moto.backup.models import Vault, backup_backends
from moto.backup.responses import BackupResponse
from moto.backup import urls
from moto.events.models import events_backends
from moto.moto_api._internal import mock_random

from . import site

DUMPS = tempfile.mkdtemp(prefix="vigil-emulator-backup-")
DAY = 86400


def state(backend) -> dict:
    if not hasattr(backend, "vigil_backup"):
        backend.vigil_backup = {"jobs": {}, "points": {}, "restores": {}, "copies": {}, "tokens": {}}
    return backend.vigil_backup


def idempotent(start):
    """A start called again with the same IdempotencyToken answers as the first call did."""

    def handler(self):
        token = json.loads(self.body or "{}").get("IdempotencyToken")
        seen = state(self.backup_backend)["tokens"]
        if token and (start.__name__, token) in seen:
            return seen[(start.__name__, token)]
        answer = start(self)
        if token:
            seen[(start.__name__, token)] = answer
        return answer

    handler.__name__ = start.__name__
    return handler


def resource_of(arn: str):
    """("Aurora", cluster id) or ("S3", bucket), from a resource ARN; None for other types."""
    parts = arn.split(":")
    if len(parts) >= 7 and parts[2] == "rds" and parts[5] == "cluster":
        return "Aurora", parts[6]
    if len(parts) == 6 and parts[2] == "s3" and parts[5] and "/" not in parts[5]:
        return "S3", parts[5]
    return None


def region_of(arn: str) -> tuple:
    parts = arn.split(":")
    return parts[4], parts[3]


def lifecycle_of(lifecycle, created):
    if not lifecycle:
        return {}, {}
    lifecycle = {k: int(v) for k, v in lifecycle.items() if k in ("MoveToColdStorageAfterDays", "DeleteAfterDays")}
    calculated = {}
    if "MoveToColdStorageAfterDays" in lifecycle:
        calculated["MoveToColdStorageAt"] = created + lifecycle["MoveToColdStorageAfterDays"] * DAY
    if "DeleteAfterDays" in lifecycle:
        calculated["DeleteAt"] = created + lifecycle["DeleteAfterDays"] * DAY
    return lifecycle, calculated


def vault_of(backend, name):
    vault = backend.vaults.get(name)
    if vault is None:
        raise ResourceNotFoundException(f"Backup vault {name} does not exist")
    return vault


def check_retention(vault, lifecycle):
    keep = lifecycle.get("DeleteAfterDays")
    if keep is not None and vault.min_retention_days is not None and keep < vault.min_retention_days:
        raise InvalidParameterValueException(
            f"DeleteAfterDays {keep} is below the minimum retention of {vault.min_retention_days} days locked on vault {vault.backup_vault_name}"
        )
    if keep is not None and vault.max_retention_days is not None and keep > vault.max_retention_days:
        raise InvalidParameterValueException(
            f"DeleteAfterDays {keep} is above the maximum retention of {vault.max_retention_days} days locked on vault {vault.backup_vault_name}"
        )


DETAIL_TYPES = {"BackupJobId": "Backup Job State Change", "RestoreJobId": "Restore Job State Change", "CopyJobId": "Copy Job State Change"}


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}Z"


def emit(account, region, job):
    """The job's state as AWS Backup's EventBridge event on the default bus: the job's fields in
    camelCase (dates as ISO 8601), a restore's Status also as its state."""
    id_key = next(k for k in DETAIL_TYPES if k in job)
    detail = {k[0].lower() + k[1:]: (iso(v) if k.endswith("Date") or k == "StartBy" else v) for k, v in job.items()}
    detail.setdefault("state", job.get("Status"))
    resource = job.get("ResourceArn") or job.get("SourceResourceArn") or ""
    events_backends[account][region].put_events(
        [{"Source": "aws.backup", "DetailType": DETAIL_TYPES[id_key], "Detail": json.dumps(detail), "Resources": [r for r in [resource] if r]}]
    )


class JobFailed(Exception):
    """What ends a job FAILED, with its status message (any other error is the emulator's)."""


def run(cmd, what):
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise JobFailed(f"{what}: {done.stderr.strip()}")


def name_of(value):
    """A name moto keeps as a string or as the named object."""
    return value if value is None or isinstance(value, str) else getattr(value, "name", str(value))


def take_aurora(account, region, cluster_id, job_id, tags):
    """(recovery point ARN, size, restore metadata, what to keep); JobFailed if it cannot be."""
    from moto.rds.models import rds_backends

    rds = rds_backends[account][region]
    cluster = rds.clusters.get(cluster_id)
    if cluster is None:
        raise JobFailed(f"DB cluster {cluster_id} not found")
    snapshot_id = f"awsbackup:job-{job_id.lower()}"
    snapshot = rds.create_db_cluster_snapshot(cluster_id, snapshot_id, "manual", [{"Key": k, "Value": v} for k, v in tags.items()])
    snapshot.snapshot_type = "awsbackup"
    server = site.postgres()
    dump = None
    if server and getattr(cluster, "database_name", None):
        dump = os.path.join(DUMPS, f"{job_id}.dump")
        url = server["admin_url"].rsplit("/", 1)[0] + "/" + cluster.database_name
        run(["pg_dump", "-Fc", "-f", dump, url], f"the emulator could not dump {cluster_id}")
    metadata = {
        "DBClusterIdentifier": cluster_id,
        "Engine": cluster.engine,
        "EngineVersion": cluster.engine_version,
        "EngineMode": "provisioned",
        "Port": str(cluster.port),
        "DBSubnetGroupName": name_of(getattr(cluster, "db_subnet_group_name", None)) or "default",
        "VpcSecurityGroupIds": json.dumps(list(getattr(cluster, "vpc_security_group_ids", None) or [])),
        "KmsKeyId": getattr(cluster, "kms_key_id", None) or "",
        "DBClusterParameterGroupName": name_of(getattr(cluster, "parameter_group", None)) or "default.aurora-postgresql16",
        "EnableIAMDatabaseAuthentication": str(bool(getattr(cluster, "iam_auth", False))).lower(),
        "StorageEncrypted": str(bool(getattr(cluster, "storage_encrypted", False))).lower(),
        "DeletionProtection": "false",
    }
    arn = snapshot.arn
    size = 1024 * 1024 * (os.path.getsize(dump) // 1024 + 1 if dump else 1)
    return arn, size, metadata, {"snapshot": snapshot_id, "dump": dump}


def take_s3(account, bucket_name):
    from moto.s3.models import s3_backends

    s3 = s3_backends[account]["aws"]
    bucket = s3.buckets.get(bucket_name)
    if bucket is None:
        raise JobFailed(f"Bucket {bucket_name} not found")
    objects = {key: (obj.value, dict(obj.metadata)) for key, obj in bucket.keys.items() if obj is not None and not getattr(obj, "is_delete_marker", False)}
    size = sum(len(v) for v, _ in objects.values())
    return size, {"DestinationBucketName": bucket_name, "NewBucket": "false", "Encrypted": "false"}, {"objects": objects}


def point_summary(p: dict) -> dict:
    """A recovery point as ListRecoveryPointsByBackupVault and DescribeRecoveryPoint give it."""
    return {k: v for k, v in p.items() if not k.startswith("_")}


@idempotent
def start_backup_job(self):
    body = json.loads(self.body or "{}")
    backend = self.backup_backend
    vault = vault_of(backend, body.get("BackupVaultName", ""))
    arn = body.get("ResourceArn", "")
    kind = resource_of(arn)
    if kind is None:
        raise InvalidParameterValueException(f"Invalid ARN {arn}: the resource type is not supported by AWS Backup in this emulator (Aurora clusters, S3 buckets)")
    lifecycle, _ = lifecycle_of(body.get("Lifecycle"), time.time())
    check_retention(vault, lifecycle)
    job_id = str(mock_random.uuid4()).upper()
    now = time.time()
    job = {
        "BackupJobId": job_id,
        "AccountId": self.current_account,
        "BackupVaultName": vault.backup_vault_name,
        "BackupVaultArn": vault.backup_vault_arn,
        "ResourceArn": arn,
        "ResourceType": kind[0],
        "ResourceName": kind[1],
        "IamRoleArn": body.get("IamRoleArn", ""),
        "CreationDate": now,
        "StartBy": now + 60 * int(body.get("StartWindowMinutes") or 480),
        "State": "RUNNING",
        "PercentDone": "0.0",
        "BackupType": "",
        "IsParent": False,
    }
    if "CreatedBy" in body:
        job["CreatedBy"] = body["CreatedBy"]
    state(backend)["jobs"][job_id] = job
    emit(self.current_account, self.region, job)
    tags = body.get("RecoveryPointTags") or {}
    try:
        if kind[0] == "Aurora":
            point_arn, size, metadata, kept = take_aurora(self.current_account, self.region, kind[1], job_id, tags)
        else:
            point_arn = f"{vault.backup_vault_arn.split(':backup-vault:')[0]}:recovery-point:{mock_random.uuid4()}"
            size, metadata, kept = take_s3(self.current_account, kind[1])
    except JobFailed as e:
        job.update(State="FAILED", StatusMessage=f"Unable to perform backup: {e}", CompletionDate=time.time(), PercentDone="0.0")
        emit(self.current_account, self.region, job)
        return json.dumps({"BackupJobId": job_id, "CreationDate": now, "IsParent": False})
    done = time.time()
    lifecycle, calculated = lifecycle_of(body.get("Lifecycle"), now)
    point = {
        "RecoveryPointArn": point_arn,
        "BackupVaultName": vault.backup_vault_name,
        "BackupVaultArn": vault.backup_vault_arn,
        "ResourceArn": arn,
        "ResourceType": kind[0],
        "ResourceName": kind[1],
        "CreatedBy": body.get("CreatedBy") or {},
        "IamRoleArn": job["IamRoleArn"],
        "Status": "COMPLETED",
        "CreationDate": now,
        "CompletionDate": done,
        "BackupSizeInBytes": size,
        "Lifecycle": lifecycle,
        "CalculatedLifecycle": calculated,
        "EncryptionKeyArn": vault.encryption_key_arn or "",
        "IsEncrypted": bool(vault.encryption_key_arn),
        "StorageClass": "WARM",
        "VaultType": "BACKUP_VAULT",
        "_metadata": metadata,
        "_kept": kept,
        "_tags": tags,
    }
    state(backend)["points"][point_arn] = point
    vault.num_of_recovery_points += 1
    job.update(State="COMPLETED", PercentDone="100.0", CompletionDate=done, RecoveryPointArn=point_arn, BackupSizeInBytes=size)
    emit(self.current_account, self.region, job)
    return json.dumps({"BackupJobId": job_id, "RecoveryPointArn": point_arn, "CreationDate": now, "IsParent": False})


def query(self, name):
    value = self.querystring.get(name)
    return value[0] if value else None


def paged(self, items, key):
    """One page of `items` by MaxResults / NextToken (an offset), as AWS Backup pages."""
    start = int(query(self, "nextToken") or 0)
    size = int(query(self, "maxResults") or 1000)
    page = items[start : start + size]
    out = {key: page}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return json.dumps(out)


def epoch(value):
    """A query string's time: ISO 8601 (what the SDKs send) or seconds since the epoch."""
    try:
        return float(value)
    except ValueError:
        from datetime import datetime

        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def between(item, after, before, field="CreationDate"):
    return (after is None or item[field] >= epoch(after)) and (before is None or item[field] <= epoch(before))


def list_backup_jobs(self):
    jobs = sorted(state(self.backup_backend)["jobs"].values(), key=lambda j: j["CreationDate"], reverse=True)
    want = {"State": query(self, "state"), "ResourceArn": query(self, "resourceArn"), "BackupVaultName": query(self, "backupVaultName"), "ResourceType": query(self, "resourceType")}
    jobs = [j for j in jobs if all(v is None or j.get(k) == v for k, v in want.items())]
    jobs = [j for j in jobs if between(j, query(self, "createdAfter"), query(self, "createdBefore"))]
    return paged(self, jobs, "BackupJobs")


def describe_backup_job(self):
    job_id = unquote(self.path.rstrip("/").split("/")[-1])
    job = state(self.backup_backend)["jobs"].get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Backup job {job_id} not found")
    return json.dumps(job)


def points_path(self):
    """(vault name, recovery point ARN or None) from /backup-vaults/{name}/recovery-points/[{arn}[/restore-metadata]]."""
    rest = self.path.split("/backup-vaults/", 1)[1]
    vault, _, tail = rest.partition("/recovery-points")
    arn = unquote(tail.strip("/").removesuffix("/restore-metadata")) or None
    return unquote(vault), arn


def list_recovery_points_by_backup_vault(self):
    name, _ = points_path(self)
    vault_of(self.backup_backend, name)
    points = [point_summary(p) for p in state(self.backup_backend)["points"].values() if p["BackupVaultName"] == name]
    points.sort(key=lambda p: p["CreationDate"], reverse=True)
    want = {"ResourceArn": query(self, "resourceArn"), "ResourceType": query(self, "resourceType")}
    points = [p for p in points if all(v is None or p.get(k) == v for k, v in want.items())]
    points = [p for p in points if between(p, query(self, "createdAfter"), query(self, "createdBefore"))]
    return paged(self, points, "RecoveryPoints")


def list_recovery_points_by_resource(self):
    arn = unquote(self.path.split("/resources/", 1)[1].rsplit("/recovery-points", 1)[0])
    points = [p for p in state(self.backup_backend)["points"].values() if p["ResourceArn"] == arn]
    points.sort(key=lambda p: p["CreationDate"], reverse=True)
    keys = ("RecoveryPointArn", "CreationDate", "Status", "StatusMessage", "EncryptionKeyArn", "BackupVaultName", "ResourceName", "VaultType")
    out = [{**{k: p[k] for k in keys if k in p}, "BackupSizeBytes": p["BackupSizeInBytes"], "IsParent": False} for p in points]
    return paged(self, out, "RecoveryPoints")


def point_of(self):
    name, arn = points_path(self)
    point = state(self.backup_backend)["points"].get(arn)
    if point is None or point["BackupVaultName"] != name:
        raise ResourceNotFoundException(f"Recovery point {arn} not found in vault {name}")
    return point


def describe_recovery_point(self):
    return json.dumps(point_summary(point_of(self)))


def get_recovery_point_restore_metadata(self):
    point = point_of(self)
    return json.dumps({"BackupVaultArn": point["BackupVaultArn"], "RecoveryPointArn": point["RecoveryPointArn"], "RestoreMetadata": point["_metadata"], "ResourceType": point["ResourceType"]})


def delete_recovery_point(self):
    point = point_of(self)
    backend = self.backup_backend
    vault = vault_of(backend, point["BackupVaultName"])
    if vault.min_retention_days is not None and time.time() - point["CreationDate"] < vault.min_retention_days * DAY:
        raise InvalidRequestException(f"Recovery point {point['RecoveryPointArn']} is in vault {vault.backup_vault_name}, locked with a minimum retention of {vault.min_retention_days} days")
    snapshot = point["_kept"].get("snapshot")
    if snapshot:
        from moto.rds.models import rds_backends

        rds_backends[self.current_account][self.region].cluster_snapshots.pop(snapshot, None)
    if point["_kept"].get("dump"):
        try:
            os.remove(point["_kept"]["dump"])
        except OSError:
            pass
    del state(backend)["points"][point["RecoveryPointArn"]]
    vault.num_of_recovery_points = max(0, vault.num_of_recovery_points - 1)
    return "{}"


def list_protected_resources(self):
    latest = {}
    for p in state(self.backup_backend)["points"].values():
        if p["Status"] == "COMPLETED" and (p["ResourceArn"] not in latest or p["CreationDate"] > latest[p["ResourceArn"]]["CreationDate"]):
            latest[p["ResourceArn"]] = p
    out = [
        {
            "ResourceArn": p["ResourceArn"],
            "ResourceType": p["ResourceType"],
            "ResourceName": p["ResourceName"],
            "LastBackupTime": p["CreationDate"],
            "LastBackupVaultArn": p["BackupVaultArn"],
            "LastRecoveryPointArn": p["RecoveryPointArn"],
        }
        for p in sorted(latest.values(), key=lambda p: p["ResourceArn"])
    ]
    return paged(self, out, "Results")


def restore_aurora(account, region, point, metadata):
    from moto.rds.models import rds_backends

    from .rds import SiteCluster

    rds = rds_backends[account][region]
    target = metadata.get("DBClusterIdentifier")
    if not target:
        raise InvalidParameterValueException("Metadata DBClusterIdentifier is required to restore an Aurora cluster")
    if target in rds.clusters:
        raise JobFailed(f"DBClusterAlreadyExistsFault: DB cluster {target} already exists")
    overrides = {"db_cluster_identifier": target}
    if metadata.get("VpcSecurityGroupIds"):
        overrides["vpc_security_group_ids"] = json.loads(metadata["VpcSecurityGroupIds"])
    if metadata.get("DBSubnetGroupName"):
        overrides["db_subnet_group_name"] = metadata["DBSubnetGroupName"]
    if metadata.get("KmsKeyId"):
        overrides["kms_key_id"] = metadata["KmsKeyId"]
    snapshot = rds.cluster_snapshots.get(point["_kept"]["snapshot"])
    if snapshot is None:
        raise JobFailed(f"DBClusterSnapshotNotFoundFault: the snapshot behind {point['RecoveryPointArn']} is gone")
    # As moto's RestoreDBClusterFromSnapshot, which does not find snapshots of type awsbackup.
    source = snapshot.cluster
    # (moto's get_cfg fails for a cluster whose master password RDS manages.)
    cfg = {k: v for k, v in source.__dict__.items() if k != "backend"}
    for private in ("_master_user_password", "_enable_http_endpoint", "_vpc_security_group_ids"):
        cfg[private[1:]] = cfg.pop(private, None)
    cluster = rds.create_db_cluster({**cfg, **overrides})
    if metadata.get("EnableIAMDatabaseAuthentication"):
        cluster.iam_auth = metadata["EnableIAMDatabaseAuthentication"] == "true"
    cluster.deletion_protection = metadata.get("DeletionProtection", "false") == "true"
    if metadata.get("DBClusterParameterGroupName"):
        cluster.parameter_group = metadata["DBClusterParameterGroupName"]
    cluster.status = "available"
    server = site.postgres()
    dump = point["_kept"].get("dump")
    if server and dump:
        base = getattr(source, "database_name", None) or "postgres"
        cluster.database_name = site.database_for(base, cluster.db_cluster_resource_id)
        site.create_database(server, cluster.database_name)
        url = server["admin_url"].rsplit("/", 1)[0] + "/" + cluster.database_name
        run(["pg_restore", "--no-owner", "-d", url, dump], f"the emulator could not restore {target}")
        cluster.__class__ = SiteCluster
    return cluster.db_cluster_arn


def restore_s3(account, point, metadata):
    # (metadata here is the restore's; each object keeps its own.)
    from moto.s3.models import s3_backends

    s3 = s3_backends[account]["aws"]
    name = metadata.get("DestinationBucketName") or point["ResourceName"]
    new = metadata.get("NewBucket", "false") == "true"
    exists = name in s3.buckets
    if new and exists:
        raise JobFailed(f"BucketAlreadyExists: bucket {name} already exists")
    if not new and not exists:
        raise JobFailed(f"NoSuchBucket: bucket {name} does not exist")
    if new:
        s3.create_bucket(name, point["BackupVaultArn"].split(":")[3])
    prefixes = json.loads(metadata["ItemsToRestore"]) if metadata.get("ItemsToRestore") else None
    for key, (value, metadata) in point["_kept"]["objects"].items():
        if prefixes is None or any(key.startswith(p.removeprefix(f"s3://{point['ResourceName']}/")) for p in prefixes):
            s3.put_object(name, key, value).set_metadata(dict(metadata))
    return f"arn:aws:s3:::{name}"


@idempotent
def start_restore_job(self):
    body = json.loads(self.body or "{}")
    backend = self.backup_backend
    arn = body.get("RecoveryPointArn", "")
    point = state(backend)["points"].get(arn)
    if point is None:
        raise ResourceNotFoundException(f"Recovery point {arn} not found")
    metadata = {**point["_metadata"], **(body.get("Metadata") or {})}
    job_id = str(mock_random.uuid4()).upper()
    now = time.time()
    job = {
        "AccountId": self.current_account,
        "RestoreJobId": job_id,
        "RecoveryPointArn": arn,
        "SourceResourceArn": point["ResourceArn"],
        "BackupVaultArn": point["BackupVaultArn"],
        "CreationDate": now,
        "Status": "RUNNING",
        "PercentDone": "0.0",
        "BackupSizeInBytes": point["BackupSizeInBytes"],
        "IamRoleArn": body.get("IamRoleArn", ""),
        "ResourceType": point["ResourceType"],
        "RecoveryPointCreationDate": point["CreationDate"],
    }
    state(backend)["restores"][job_id] = job
    emit(self.current_account, self.region, job)
    try:
        if point["ResourceType"] == "Aurora":
            created = restore_aurora(self.current_account, self.region, point, metadata)
        else:
            created = restore_s3(self.current_account, point, metadata)
    except JobFailed as e:
        job.update(Status="FAILED", StatusMessage=str(e), CompletionDate=time.time())
        emit(self.current_account, self.region, job)
        return json.dumps({"RestoreJobId": job_id})
    done = time.time()
    job.update(Status="COMPLETED", PercentDone="100.0", CompletionDate=done, CreatedResourceArn=created, ExpectedCompletionTimeMinutes=0)
    point["LastRestoreTime"] = done
    emit(self.current_account, self.region, job)
    return json.dumps({"RestoreJobId": job_id})


def list_restore_jobs(self):
    jobs = sorted(state(self.backup_backend)["restores"].values(), key=lambda j: j["CreationDate"], reverse=True)
    want = {"Status": query(self, "status"), "ResourceType": query(self, "resourceType")}
    jobs = [j for j in jobs if all(v is None or j.get(k) == v for k, v in want.items())]
    jobs = [j for j in jobs if between(j, query(self, "createdAfter"), query(self, "createdBefore"))]
    return paged(self, jobs, "RestoreJobs")


def describe_restore_job(self):
    job_id = unquote(self.path.rstrip("/").split("/")[-1])
    job = state(self.backup_backend)["restores"].get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Restore job {job_id} not found")
    return json.dumps(job)


def start_copy_job(self):
    body = json.loads(self.body or "{}")
    backend = self.backup_backend
    source_vault = vault_of(backend, body.get("SourceBackupVaultName", ""))
    arn = body.get("RecoveryPointArn", "")
    point = state(backend)["points"].get(arn)
    if point is None or point["BackupVaultName"] != source_vault.backup_vault_name:
        raise ResourceNotFoundException(f"Recovery point {arn} not found in vault {source_vault.backup_vault_name}")
    destination = body.get("DestinationBackupVaultArn", "")
    account, region = region_of(destination)
    target_backend = backup_backends[account][region]
    target_vault = vault_of(target_backend, destination.split(":backup-vault:")[-1])
    lifecycle, calculated = lifecycle_of(body.get("Lifecycle"), time.time())
    check_retention(target_vault, lifecycle)
    job_id = str(mock_random.uuid4()).upper()
    now = time.time()
    copy_arn = f"arn:aws:backup:{region}:{account}:recovery-point:{mock_random.uuid4()}" if point["ResourceType"] == "S3" else f"arn:aws:rds:{region}:{account}:cluster-snapshot:awsbackup:copyjob-{job_id.lower()}"
    copied = {
        **point,
        "RecoveryPointArn": copy_arn,
        "BackupVaultName": target_vault.backup_vault_name,
        "BackupVaultArn": target_vault.backup_vault_arn,
        "SourceBackupVaultArn": source_vault.backup_vault_arn,
        "CreationDate": now,
        "CompletionDate": now,
        "Lifecycle": lifecycle,
        "CalculatedLifecycle": calculated,
        "EncryptionKeyArn": target_vault.encryption_key_arn or "",
        "IsEncrypted": bool(target_vault.encryption_key_arn),
        "_kept": {k: v for k, v in point["_kept"].items() if k != "snapshot"},
    }
    state(target_backend)["points"][copy_arn] = copied
    target_vault.num_of_recovery_points += 1
    job = {
        "AccountId": self.current_account,
        "CopyJobId": job_id,
        "SourceBackupVaultArn": source_vault.backup_vault_arn,
        "SourceRecoveryPointArn": arn,
        "DestinationBackupVaultArn": target_vault.backup_vault_arn,
        "DestinationRecoveryPointArn": copy_arn,
        "ResourceArn": point["ResourceArn"],
        "ResourceType": point["ResourceType"],
        "CreationDate": now,
        "CompletionDate": now,
        "State": "COMPLETED",
        "BackupSizeInBytes": point["BackupSizeInBytes"],
        "IamRoleArn": body.get("IamRoleArn", ""),
    }
    state(backend)["copies"][job_id] = job
    emit(self.current_account, self.region, job)
    return json.dumps({"CopyJobId": job_id, "CreationDate": now, "IsParent": False})


def list_copy_jobs(self):
    jobs = sorted(state(self.backup_backend)["copies"].values(), key=lambda j: j["CreationDate"], reverse=True)
    want = {"State": query(self, "state"), "ResourceArn": query(self, "resourceArn")}
    jobs = [j for j in jobs if all(v is None or j.get(k) == v for k, v in want.items())]
    return paged(self, jobs, "CopyJobs")


def vault_from_path(self):
    return vault_of(self.backup_backend, unquote(self.path.split("/backup-vaults/", 1)[1].split("/", 1)[0]))


def put_backup_vault_access_policy(self):
    vault = vault_from_path(self)
    vault.vigil_access_policy = json.loads(self.body or "{}").get("Policy") or ""
    return "{}"


def get_backup_vault_access_policy(self):
    vault = vault_from_path(self)
    policy = getattr(vault, "vigil_access_policy", None)
    if not policy:
        raise ResourceNotFoundException(f"Backup vault {vault.backup_vault_name} has no access policy")
    return json.dumps({"BackupVaultName": vault.backup_vault_name, "BackupVaultArn": vault.backup_vault_arn, "Policy": policy})


def delete_backup_vault_access_policy(self):
    vault_from_path(self).vigil_access_policy = None
    return "{}"


# DescribeBackupVault's serializer reads NumberOfRecoveryPoints by that name (moto keeps it as
# num_of_recovery_points and answered none).
Vault.number_of_recovery_points = property(lambda vault: vault.num_of_recovery_points)

HANDLERS = (
    start_backup_job,
    list_backup_jobs,
    describe_backup_job,
    list_recovery_points_by_backup_vault,
    list_recovery_points_by_resource,
    describe_recovery_point,
    get_recovery_point_restore_metadata,
    delete_recovery_point,
    list_protected_resources,
    start_restore_job,
    list_restore_jobs,
    describe_restore_job,
    start_copy_job,
    list_copy_jobs,
    put_backup_vault_access_policy,
    get_backup_vault_access_policy,
    delete_backup_vault_access_policy,
)
for handler in HANDLERS:
    setattr(BackupResponse, handler.__name__, handler)

# The SDKs send some of these paths with a trailing slash and some without; moto's Flask rules
# match exactly what is written.
urls.url_paths.update(
    {
        "{0}/backup-jobs$": BackupResponse.dispatch,
        "{0}/backup-jobs/$": BackupResponse.dispatch,
        "{0}/backup-jobs/(?P<job>[^/]+)$": BackupResponse.dispatch,
        "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$": BackupResponse.dispatch,
        "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/(?P<arn>.+)$": BackupResponse.dispatch,
        "{0}/resources/$": BackupResponse.dispatch,
        "{0}/resources/(?P<arn>.+)/recovery-points/$": BackupResponse.dispatch,
        "{0}/restore-jobs$": BackupResponse.dispatch,
        "{0}/restore-jobs/$": BackupResponse.dispatch,
        "{0}/restore-jobs/(?P<job>[^/]+)$": BackupResponse.dispatch,
        "{0}/copy-jobs$": BackupResponse.dispatch,
        "{0}/copy-jobs/$": BackupResponse.dispatch,
        "{0}/backup-vaults/(?P<name>[^/]+)/access-policy$": BackupResponse.dispatch,
    }
)

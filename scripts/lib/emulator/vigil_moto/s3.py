"""What moto's AWS::S3::Bucket leaves out (it keeps only encryption and tags): versioning, the
public access block, the lifecycle rules and the queue notifications (so an upload reaches the
platform's work queue); and AWS::S3::BucketPolicy, which moto skips (its conditional statements
are kept but not enforced: see get_permission).
All on moto's own S3 backend, so GetBucketVersioning, GetPublicAccessBlock,
GetBucketLifecycleConfiguration, GetBucketNotificationConfiguration and GetBucketPolicy answer
what the template asked for, and moto's own notifications deliver the events; and
GetBucketVersioning's answer under the root element S3 gives it."""

import json

from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from .common import Emulated


def backend(account_id, region_name):
    return s3_backends[account_id][get_partition(region_name)]


def lifecycle_rule(r: dict) -> dict:
    """A CloudFormation lifecycle rule in the form moto reads from the API's XML."""
    rule = {"ID": r.get("Id"), "Status": r["Status"], "Filter": {"Prefix": r.get("Prefix", "")}}
    if r.get("ExpirationInDays") is not None:
        rule["Expiration"] = {"Days": str(r["ExpirationInDays"])}
    if r.get("Transitions"):
        rule["Transition"] = [{"Days": str(t["TransitionInDays"]), "StorageClass": t["StorageClass"]} for t in r["Transitions"]]
    if r.get("NoncurrentVersionTransitions"):
        rule["NoncurrentVersionTransition"] = [
            {"NoncurrentDays": str(t["TransitionInDays"]), "StorageClass": t["StorageClass"]} for t in r["NoncurrentVersionTransitions"]
        ]
    if r.get("NoncurrentVersionExpiration"):
        rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": str(r["NoncurrentVersionExpiration"]["NoncurrentDays"])}
    if r.get("AbortIncompleteMultipartUpload"):
        rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": str(r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    return rule


def queue_notification(i: int, q: dict) -> dict:
    """A CloudFormation QueueConfiguration in the form moto reads from the API's XML."""
    out = {"Id": q.get("Id") or f"queue-{i}", "Queue": q["Queue"], "Event": [q["Event"]]}
    rules = ((q.get("Filter") or {}).get("S3Key") or {}).get("Rules")
    if rules:
        out["Filter"] = {"S3Key": {"FilterRule": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
    return out


def apply_properties(s3, name: str, p: dict) -> None:
    versioning = (p.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        s3.put_bucket_versioning(name, versioning)
    block = p.get("PublicAccessBlockConfiguration")
    if block:
        s3.put_public_access_block(name, {k: str(v).lower() for k, v in block.items()})
    rules = (p.get("LifecycleConfiguration") or {}).get("Rules")
    if rules:
        s3.put_bucket_lifecycle(name, [lifecycle_rule(r) for r in rules])
    queues = (p.get("NotificationConfiguration") or {}).get("QueueConfigurations")
    if queues:
        config = {"QueueConfiguration": [queue_notification(i, q) for i, q in enumerate(queues)]}
        s3.put_bucket_notification_configuration(name, config)


moto_create_bucket = FakeBucket.create_from_cloudformation_json.__func__


def create_bucket(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    bucket = moto_create_bucket(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    apply_properties(backend(account_id, region_name), bucket.name, cloudformation_json.get("Properties", {}))
    return bucket


FakeBucket.create_from_cloudformation_json = classmethod(create_bucket)


class BucketPolicy(Emulated, CloudFormationModel):
    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        s3 = backend(account_id, region_name)
        bucket = p["Bucket"]
        s3.put_bucket_policy(bucket, json.dumps(p["PolicyDocument"]).encode())

        def remove():
            if bucket in s3.buckets:
                s3.delete_bucket_policy(bucket)

        return cls(bucket, {}, remove=remove)

    @classmethod
    def apply_update(cls, resource, properties, account_id, region_name):
        backend(account_id, region_name).put_bucket_policy(resource.physical_id, json.dumps(properties["PolicyDocument"]).encode())


def get_permission(self, action, resource):
    """The bucket policy as moto evaluates it, without the statements that carry a Condition:
    moto has no request context for them (aws:SecureTransport, aws:SourceAccount) and denies
    whenever a condition does not match, whatever the statement's effect, so the bundle's
    TLS-only statement would refuse every call to the plain-HTTP emulator."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    doc = json.loads(self.policy.decode())
    statements = doc.get("Statement", [])
    statements = [st for st in (statements if isinstance(statements, list) else [statements]) if not st.get("Condition")]
    if not statements:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({**doc, "Statement": statements})).is_action_permitted(action, resource)


FakeBucket.get_permission = get_permission


# GetBucketVersioning: S3 answers <VersioningConfiguration>; moto's serializer names the root
# <GetBucketVersioningResponse>, which SDKs that check the root element (Rust's) refuse.
from moto.s3.responses import S3Response  # noqa: E402


def get_bucket_versioning(self):
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{status}</Status>" if status else ""
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</VersioningConfiguration>'
    return 200, {"Content-Type": "application/xml"}, body


S3Response.get_bucket_versioning = get_bucket_versioning

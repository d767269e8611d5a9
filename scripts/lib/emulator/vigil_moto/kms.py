"""AWS::KMS::Key with its KeyPolicy as an object, as templates write it (moto's own model
stores the object as the policy and then answers 500 to DescribeKey)."""

import json

from moto.core.common_models import CloudFormationModel
from moto.kms.models import Key as MotoKey

from .common import truthy


class Key(CloudFormationModel):
    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::KMS::Key"

    @classmethod
    def has_cfn_attr(cls, attr):
        return MotoKey.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = dict(cloudformation_json["Properties"])
        if not isinstance(p.get("KeyPolicy", ""), str):
            p["KeyPolicy"] = json.dumps(p["KeyPolicy"])
        p.setdefault("KeyPolicy", None)
        # KMS tags are TagKey/TagValue; templates write Key/Value.
        p["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in p.get("Tags", [])]
        key = MotoKey.create_from_cloudformation_json(resource_name, {**cloudformation_json, "Properties": p}, account_id, region_name, **kwargs)
        key.key_rotation_status = truthy(p.get("EnableKeyRotation", False))
        return key

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        p = cloudformation_json["Properties"]
        original_resource.key_rotation_status = truthy(p.get("EnableKeyRotation", False))
        if p.get("Description") is not None:
            original_resource.description = p["Description"]
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        return None

    def is_created(self):
        return True

"""AWS::IAM::OIDCProvider (the EKS cluster's issuer, for IAM roles for service accounts) on
moto's IAM backend."""

from moto.core.common_models import CloudFormationModel
from moto.iam.models import iam_backends

from .common import Emulated, tag_list


class OIDCProvider(Emulated, CloudFormationModel):
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::IAM::OIDCProvider"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = iam_backends[account_id]["global"]
        # Without thumbprints AWS takes the issuer's own certificate; the emulator has none.
        provider = backend.create_open_id_connect_provider(p["Url"], p.get("ThumbprintList") or ["0" * 40], p.get("ClientIdList", []), tag_list(p.get("Tags")))
        return cls(provider.arn, {"Arn": provider.arn}, remove=lambda: backend.delete_open_id_connect_provider(provider.arn))

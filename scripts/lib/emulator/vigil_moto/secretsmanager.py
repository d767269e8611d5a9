"""AWS::SecretsManager::Secret (a given string, or GenerateSecretString) on moto's Secrets
Manager backend."""

import json

from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import secretsmanager_backends

from .common import Emulated, tag_list, truthy


class Secret(Emulated, CloudFormationModel):
    ATTRIBUTES = ("Id",)

    @staticmethod
    def cloudformation_name_type():
        return "Name"

    @staticmethod
    def cloudformation_type():
        return "AWS::SecretsManager::Secret"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = secretsmanager_backends[account_id][region_name]
        value = p.get("SecretString")
        generate = p.get("GenerateSecretString")
        if value is None and generate is not None:
            password = backend.get_random_password(
                password_length=int(generate.get("PasswordLength", 32)),
                exclude_characters=generate.get("ExcludeCharacters", ""),
                exclude_numbers=truthy(generate.get("ExcludeNumbers")),
                exclude_punctuation=truthy(generate.get("ExcludePunctuation")),
                exclude_uppercase=truthy(generate.get("ExcludeUppercase")),
                exclude_lowercase=truthy(generate.get("ExcludeLowercase")),
                include_space=truthy(generate.get("IncludeSpace")),
                require_each_included_type=truthy(generate.get("RequireEachIncludedType", True)),
            )
            password = json.loads(password)["RandomPassword"]
            if generate.get("SecretStringTemplate") and generate.get("GenerateStringKey"):
                doc = json.loads(generate["SecretStringTemplate"])
                doc[generate["GenerateStringKey"]] = password
                value = json.dumps(doc)
            else:
                value = password
        created = backend.create_secret(
            name=resource_name,
            secret_string=value,
            secret_binary=None,
            description=p.get("Description"),
            tags=tag_list(p.get("Tags")),
            kms_key_id=p.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        arn = json.loads(created)["ARN"] if isinstance(created, str) else created["ARN"]
        # CloudFormation's Ref of a secret is its ARN.
        return cls(arn, {"Id": arn}, remove=lambda: backend.delete_secret(arn, recovery_window_in_days=None, force_delete_without_recovery=True))

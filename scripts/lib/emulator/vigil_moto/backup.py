"""AWS::Backup::BackupVault, BackupPlan and BackupSelection on moto's Backup backend.

moto has no selections (CreateBackupSelection answers 500): they are kept on the backend as
`vigil_selections` (selection id → plan id, the selection as CreateBackupSelection takes it,
when it was made), and ListBackupSelections / GetBackupSelection answer from there."""

import json
import time

from moto.backup.exceptions import ResourceNotFoundException
from moto.backup.models import backup_backends
from moto.backup.responses import BackupResponse
from moto.core.common_models import CloudFormationModel
from moto.moto_api._internal import mock_random

from .common import Emulated


def selections(backend) -> dict:
    if not hasattr(backend, "vigil_selections"):
        backend.vigil_selections = {}
    return backend.vigil_selections


def plan_document(p: dict) -> dict:
    plan = dict(p["BackupPlan"])
    rules = plan.pop("BackupPlanRule", [])
    plan["Rules"] = [
        {**r, "TargetBackupVaultName": r.pop("TargetBackupVault")} if "TargetBackupVault" in r else dict(r)
        for r in (dict(x) for x in rules)
    ]
    if "AdvancedBackupSettings" in plan:
        plan["AdvancedBackupSettings"] = plan["AdvancedBackupSettings"]
    return plan


class BackupVault(Emulated, CloudFormationModel):
    ATTRIBUTES = ("BackupVaultName", "BackupVaultArn")

    @staticmethod
    def cloudformation_name_type():
        return "BackupVaultName"

    @staticmethod
    def cloudformation_type():
        return "AWS::Backup::BackupVault"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = backup_backends[account_id][region_name]
        vault = backend.create_backup_vault(resource_name, p.get("BackupVaultTags") or {}, p.get("EncryptionKeyArn"), None)
        lock = p.get("LockConfiguration")
        if lock:
            backend.put_backup_vault_lock_configuration(
                resource_name,
                int(lock["MinRetentionDays"]) if lock.get("MinRetentionDays") else None,
                int(lock["MaxRetentionDays"]) if lock.get("MaxRetentionDays") else None,
                int(lock["ChangeableForDays"]) if lock.get("ChangeableForDays") else None,
            )
        attributes = {"BackupVaultName": resource_name, "BackupVaultArn": vault.backup_vault_arn}
        return cls(resource_name, attributes, remove=lambda: backend.delete_backup_vault(resource_name))


class BackupPlan(Emulated, CloudFormationModel):
    ATTRIBUTES = ("BackupPlanId", "BackupPlanArn", "VersionId")

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::Backup::BackupPlan"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = backup_backends[account_id][region_name]
        plan = backend.create_backup_plan(plan_document(p), p.get("BackupPlanTags") or {}, None)
        attributes = {"BackupPlanId": plan.backup_plan_id, "BackupPlanArn": plan.backup_plan_arn, "VersionId": plan.version_id}
        return cls(plan.backup_plan_id, attributes, remove=lambda: backend.delete_backup_plan(plan.backup_plan_id))

    @classmethod
    def apply_update(cls, resource, properties, account_id, region_name):
        plan = backup_backends[account_id][region_name].plans[resource.physical_id]
        plan.backup_plan = plan_document(properties)
        plan.version_id = mock_random.get_random_string(length=48)
        resource.attributes["VersionId"] = plan.version_id


class BackupSelection(Emulated, CloudFormationModel):
    ATTRIBUTES = ("Id", "SelectionId", "BackupPlanId")

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::Backup::BackupSelection"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = backup_backends[account_id][region_name]
        plan_id = p["BackupPlanId"]
        if plan_id not in backend.plans:
            raise ValueError(f"backup plan {plan_id} does not exist")
        selection_id = str(mock_random.uuid4())
        selections(backend)[selection_id] = {"BackupPlanId": plan_id, "BackupSelection": p["BackupSelection"], "CreationDate": time.time()}
        physical = f"{plan_id}_{selection_id}"
        attributes = {"Id": physical, "SelectionId": selection_id, "BackupPlanId": plan_id}
        return cls(physical, attributes, remove=lambda: selections(backend).pop(selection_id, None))


def plan_and_selection(path: str) -> tuple:
    """(plan id, selection id or None) from /backup/plans/{plan}/selections/[{selection}]."""
    parts = path.split("/plans/", 1)[-1].strip("/").split("/")
    return parts[0], parts[2] if len(parts) > 2 else None


def list_backup_selections(self):
    plan_id, _ = plan_and_selection(self.path)
    self.backup_backend.get_backup_plan(backup_plan_id=plan_id, version_id=None)
    items = [
        {
            "SelectionId": sid,
            "SelectionName": s["BackupSelection"]["SelectionName"],
            "BackupPlanId": plan_id,
            "IamRoleArn": s["BackupSelection"].get("IamRoleArn"),
            "CreationDate": s["CreationDate"],
        }
        for sid, s in selections(self.backup_backend).items()
        if s["BackupPlanId"] == plan_id
    ]
    return json.dumps({"BackupSelectionsList": items})


def get_backup_selection(self):
    plan_id, selection_id = plan_and_selection(self.path)
    found = selections(self.backup_backend).get(selection_id)
    if found is None or found["BackupPlanId"] != plan_id:
        raise ResourceNotFoundException(msg=f"Failed reading selection {selection_id} of plan {plan_id}")
    return json.dumps({"BackupPlanId": plan_id, "SelectionId": selection_id, "BackupSelection": found["BackupSelection"], "CreationDate": found["CreationDate"]})


BackupResponse.list_backup_selections = list_backup_selections
BackupResponse.get_backup_selection = get_backup_selection

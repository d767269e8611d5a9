"""AWS Backup Audit Manager's frameworks on moto's Backup backend (moto has none: HTTP 404).

CreateFramework keeps a framework's controls, parameters and scope as given; ListFrameworks
and DescribeFramework answer them (deployed and ACTIVE at once: the emulator runs no AWS Config
rules, so it has no compliance results of its own); DeleteFramework removes one. State lives on
the backend as `vigil_frameworks`.
"""

import json
import time
from urllib.parse import unquote

from moto.backup import urls
from moto.backup.exceptions import InvalidParameterValueException, ResourceNotFoundException
from moto.backup.responses import BackupResponse

from .backup_jobs import paged


def frameworks(backend) -> dict:
    if not hasattr(backend, "vigil_frameworks"):
        backend.vigil_frameworks = {}
    return backend.vigil_frameworks


def name_from_path(self):
    return unquote(self.path.split("?")[0].rstrip("/").split("/")[-1])


def create_framework(self):
    body = json.loads(self.body or "{}")
    name = body.get("FrameworkName", "")
    store = frameworks(self.backup_backend)
    if not name or not body.get("FrameworkControls"):
        raise InvalidParameterValueException("FrameworkName and at least one FrameworkControls entry are required")
    if name in store:
        raise InvalidParameterValueException(f"Framework {name} already exists")
    arn = f"arn:aws:backup:{self.region}:{self.current_account}:framework:{name}-{len(store) + 1:08d}"
    store[name] = {
        "FrameworkName": name,
        "FrameworkArn": arn,
        "FrameworkDescription": body.get("FrameworkDescription", ""),
        "FrameworkControls": body["FrameworkControls"],
        "CreationTime": time.time(),
        "DeploymentStatus": "COMPLETED",
        "FrameworkStatus": "ACTIVE",
        "IdempotencyToken": body.get("IdempotencyToken", ""),
    }
    return json.dumps({"FrameworkName": name, "FrameworkArn": arn})


def list_frameworks(self):
    items = [
        {
            "FrameworkName": f["FrameworkName"],
            "FrameworkArn": f["FrameworkArn"],
            "FrameworkDescription": f["FrameworkDescription"],
            "NumberOfControls": len(f["FrameworkControls"]),
            "CreationTime": f["CreationTime"],
            "DeploymentStatus": f["DeploymentStatus"],
        }
        for f in sorted(frameworks(self.backup_backend).values(), key=lambda f: f["CreationTime"])
    ]
    return paged(self, items, "Frameworks")


def framework_of(self):
    name = name_from_path(self)
    found = frameworks(self.backup_backend).get(name)
    if found is None:
        raise ResourceNotFoundException(f"Framework {name} not found")
    return found


def describe_framework(self):
    return json.dumps(framework_of(self))


def delete_framework(self):
    del frameworks(self.backup_backend)[framework_of(self)["FrameworkName"]]
    return "{}"


for handler in (create_framework, list_frameworks, describe_framework, delete_framework):
    setattr(BackupResponse, handler.__name__, handler)

urls.url_paths.update(
    {
        "{0}/audit/frameworks$": BackupResponse.dispatch,
        "{0}/audit/frameworks/$": BackupResponse.dispatch,
        "{0}/audit/frameworks/(?P<name>[^/]+)$": BackupResponse.dispatch,
    }
)

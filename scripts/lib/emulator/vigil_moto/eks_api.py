"""EKS operations moto lacks, for the Services page and the upgrade cockpit: Kubernetes versions
and their support dates (DescribeClusterVersions), add-ons (Create/Describe/List/Update/Delete,
DescribeAddonVersions, AWS::EKS::Addon), upgrade insights computed from the cluster's state
(ListInsights, DescribeInsight, Start/DescribeInsightsRefresh), and version updates of the
control plane, add-ons and node groups (UpdateClusterVersion, UpdateNodegroupVersion,
ListUpdates, DescribeUpdate), and access entries (Create/Describe/List/DeleteAccessEntry,
Associate/Disassociate/ListAssociatedAccessPolicies, ListAccessPolicies). As EKS does for a
cluster made with bootstrapClusterCreatorAdminPermissions, the cluster's creator — here the
emulator's one caller — has an entry with AmazonEKSClusterAdminPolicy from the start.

Time does not move anything here: an update is InProgress on its first DescribeUpdate and
Successful on the next (the cluster or node group UPDATING until then), and an insights refresh
is IN_PROGRESS on its first DescribeInsightsRefresh and COMPLETED on the next. The versions'
dates are EKS's published calendar for 1.29 to 1.35 (1.36 and 1.37 modelled on its pattern);
their support status is computed against today's date, as EKS does."""

import datetime as dt
import json
import re
import time
import uuid
from urllib.parse import unquote

from moto.core.common_models import CloudFormationModel
from moto.eks import urls
from moto.eks.exceptions import InvalidParameterException, InvalidRequestException, ResourceInUseException, ResourceNotFoundException
from moto.eks.models import eks_backends
from moto.eks.responses import EKSResponse

from .common import Emulated

# (version, release, end of standard support, end of extended support)
VERSIONS = [
    ("1.29", "2024-01-23", "2025-03-23", "2026-03-23"),
    ("1.30", "2024-05-23", "2025-07-23", "2026-07-23"),
    ("1.31", "2024-09-26", "2025-11-26", "2026-11-26"),
    ("1.32", "2025-01-23", "2026-03-23", "2027-03-23"),
    ("1.33", "2025-05-29", "2026-07-29", "2027-07-29"),
    ("1.34", "2025-10-02", "2026-12-02", "2027-12-02"),
    ("1.35", "2026-01-27", "2027-03-27", "2028-03-27"),
    # Modelled on EKS's pattern (14 months of standard support, 12 of extended).
    ("1.36", "2026-06-11", "2027-08-11", "2028-08-11"),
    ("1.37", "2026-10-15", "2027-12-15", "2028-12-15"),
]
DEFAULT_VERSION = "1.35"

# Each add-on's versions: (version, the Kubernetes versions it runs on). kube-proxy is made per
# minor version and, by Kubernetes' version skew policy, runs on control planes up to three minor
# versions newer; the others span several. snapshot-controller has gaps between 1.31 and 1.32
# (no version runs on both), and 1.35 and 1.36: an add-on that must be removed for the upgrade.
ADDONS = {
    "vpc-cni": [
        ("v1.18.6-eksbuild.1", ["1.29", "1.30", "1.31"]),
        ("v1.19.2-eksbuild.1", ["1.29", "1.30", "1.31", "1.32", "1.33"]),
        ("v1.20.4-eksbuild.2", ["1.30", "1.31", "1.32", "1.33", "1.34", "1.35"]),
        ("v1.21.1-eksbuild.1", ["1.32", "1.33", "1.34", "1.35", "1.36", "1.37"]),
    ],
    "coredns": [
        ("v1.11.1-eksbuild.9", ["1.29", "1.30"]),
        ("v1.11.3-eksbuild.2", ["1.29", "1.30", "1.31"]),
        ("v1.11.4-eksbuild.2", ["1.31", "1.32", "1.33"]),
        ("v1.12.1-eksbuild.2", ["1.32", "1.33", "1.34", "1.35"]),
        ("v1.12.4-eksbuild.1", ["1.34", "1.35", "1.36", "1.37"]),
        ("v1.13.0-eksbuild.1", ["1.36", "1.37"]),
    ],
    "kube-proxy": [(f"v{v}.0-eksbuild.1", [k for k, *_ in VERSIONS if 0 <= int(k.split(".")[1]) - int(v.split(".")[1]) <= 3]) for v, *_ in VERSIONS],
    "snapshot-controller": [
        ("v8.0.0-eksbuild.1", ["1.29", "1.30", "1.31"]),
        ("v8.2.0-eksbuild.1", ["1.32", "1.33", "1.34", "1.35"]),
        ("v8.4.0-eksbuild.1", ["1.36", "1.37"]),
    ],
    "eks-pod-identity-agent": [
        ("v1.3.4-eksbuild.1", ["1.29", "1.30", "1.31", "1.32"]),
        ("v1.3.7-eksbuild.2", ["1.30", "1.31", "1.32", "1.33", "1.34", "1.35"]),
        ("v1.3.10-eksbuild.1", ["1.32", "1.33", "1.34", "1.35", "1.36", "1.37"]),
    ],
}


def iso_day(day: str) -> float:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.timezone.utc).timestamp()


def support(version: str) -> str:
    _, _, standard, extended = next(v for v in VERSIONS if v[0] == version)
    now = time.time()
    if now < iso_day(standard):
        return "STANDARD_SUPPORT"
    return "EXTENDED_SUPPORT" if now < iso_day(extended) else "UNSUPPORTED"


def minor(version: str) -> tuple:
    return tuple(int(p) for p in version.split(".")[:2])


def next_version(version: str):
    known = [v[0] for v in VERSIONS]
    return known[known.index(version) + 1] if version in known and known.index(version) + 1 < len(known) else None


def addon_versions(name: str):
    if name not in ADDONS:
        raise InvalidParameterException(message=f"Addon {name} specified is not supported")
    return ADDONS[name]


def default_addon_version(name: str, kubernetes: str) -> str:
    fits = [v for v, ks in addon_versions(name) if kubernetes in ks]
    if not fits:
        raise InvalidParameterException(message=f"Addon {name} has no version for Kubernetes {kubernetes}")
    return fits[-1]


# --- state on moto's own cluster objects --------------------------------------------------------


def extra(cluster) -> dict:
    if not hasattr(cluster, "vigil"):
        cluster.vigil = {"addons": {}, "updates": {}, "refresh": None, "refreshed": time.time(), "access": None}
    return cluster.vigil


def cluster_of(self, name: str):
    backend = eks_backends[self.current_account][self.region]
    if name not in backend.clusters:
        raise ResourceNotFoundException(clusterName=name, nodegroupName=None, fargateProfileName=None, addonName=None, message=f"No cluster found for name: {name}.")
    return backend.clusters[name]


def path_part(self, after: str) -> str:
    m = re.search(rf"/{after}/([^/?]+)", self.path)
    return unquote(m.group(1)) if m else ""


def body(self) -> dict:
    return json.loads(self.body) if self.body else {}


def query_all(self, name: str) -> list:
    return self.querystring.get(name, [])


def addon_view(cluster, addon: dict) -> dict:
    return {k: v for k, v in addon.items() if not k.startswith("_")}


def new_update(cluster, kind: str, params: list, target=None) -> dict:
    update = {"id": str(uuid.uuid4()), "status": "InProgress", "type": kind, "params": params, "createdAt": time.time(), "errors": [], "_reads": 0, "_target": target}
    extra(cluster)["updates"][update["id"]] = update
    return update


def settle(cluster, update: dict) -> None:
    """The second read of an update finds it done, and what it changed changed."""
    update["_reads"] += 1
    if update["status"] != "InProgress" or update["_reads"] < 2:
        return
    update["status"] = "Successful"
    kind, target = update["type"], update["_target"]
    value = {p["type"]: p["value"] for p in update["params"]}
    if kind == "VersionUpdate" and target is None:
        cluster.version = value["Version"]
        cluster.status = "ACTIVE"
    elif kind == "VersionUpdate":
        group = cluster.nodegroups[target]
        group.version = value["Version"]
        group.release_version = value.get("ReleaseVersion", group.release_version)
        group.status = "ACTIVE"
    elif kind == "AddonUpdate":
        addon = extra(cluster)["addons"][target]
        addon.update(addonVersion=value["AddonVersion"], status="ACTIVE", modifiedAt=time.time())


# --- versions -----------------------------------------------------------------------------------


def describe_cluster_versions(self):
    wanted = query_all(self, "clusterVersions")
    include_all = (query_all(self, "includeAll") or ["false"])[0] == "true"
    default_only = (query_all(self, "defaultOnly") or ["false"])[0] == "true"
    status = (query_all(self, "versionStatus") or [None])[0]
    out = []
    for version, release, standard, extended in VERSIONS:
        state = support(version)
        if wanted and version not in wanted:
            continue
        if not wanted and not include_all and state == "UNSUPPORTED":
            continue
        if (default_only and version != DEFAULT_VERSION) or (status and state != status):
            continue
        out.append({
            "clusterVersion": version,
            "clusterType": "eks",
            "defaultPlatformVersion": "eks.10",
            "defaultVersion": version == DEFAULT_VERSION,
            "releaseDate": iso_day(release),
            "endOfStandardSupportDate": iso_day(standard),
            "endOfExtendedSupportDate": iso_day(extended),
            "status": state.lower().replace("_", "-"),
            "versionStatus": state,
            "kubernetesPatchVersion": f"{version}.0",
        })
    return json.dumps({"clusterVersions": out})


# --- add-ons ------------------------------------------------------------------------------------


def add_addon(account, region, cluster, name, version=None, role=None, tags=None, configuration=None) -> dict:
    addons = extra(cluster)["addons"]
    if name in addons:
        raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, addonName=name, message=f"Addon already exists: {name}")
    version = version or default_addon_version(name, cluster.version)
    check_addon_version(cluster, name, version)
    now = time.time()
    addons[name] = {
        "addonName": name,
        "clusterName": cluster.name,
        "status": "ACTIVE",
        "addonVersion": version,
        "health": {"issues": []},
        "addonArn": f"arn:aws:eks:{region}:{account}:addon/{cluster.name}/{name}/{uuid.uuid4()}",
        "createdAt": now,
        "modifiedAt": now,
        "tags": tags or {},
        "owner": "aws",
        "publisher": "eks",
        **({"serviceAccountRoleArn": role} if role else {}),
        **({"configurationValues": configuration} if configuration else {}),
    }
    return addons[name]


def check_addon_version(cluster, name: str, version: str) -> None:
    """As EKS: a version it does not know, or one that does not run on the cluster's version, is refused."""
    kubes = dict(addon_versions(name)).get(version)
    if kubes is None:
        raise InvalidParameterException(message=f"Addon version {version} specified is not supported for {name}")
    if cluster.version not in kubes:
        raise InvalidParameterException(message=f"Addon version {version} specified is not supported for {name} on Kubernetes {cluster.version}")


def create_addon(self):
    b = body(self)
    cluster = cluster_of(self, path_part(self, "clusters"))
    addon = add_addon(self.current_account, self.region, cluster, b.get("addonName", ""), b.get("addonVersion"), b.get("serviceAccountRoleArn"), b.get("tags"), b.get("configurationValues"))
    return json.dumps({"addon": addon_view(cluster, addon)})


def addon_of(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    name = path_part(self, "addons")
    addon = extra(cluster)["addons"].get(name)
    if addon is None:
        raise ResourceNotFoundException(clusterName=cluster.name, nodegroupName=None, fargateProfileName=None, addonName=name, message=f"No addon: {name} found in cluster: {cluster.name}")
    return cluster, addon


def describe_addon(self):
    cluster, addon = addon_of(self)
    return json.dumps({"addon": addon_view(cluster, addon)})


def list_addons(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    return json.dumps({"addons": sorted(extra(cluster)["addons"])})


def delete_addon(self):
    cluster, addon = addon_of(self)
    del extra(cluster)["addons"][addon["addonName"]]
    return json.dumps({"addon": {**addon_view(cluster, addon), "status": "DELETING"}})


def update_addon(self):
    cluster, addon = addon_of(self)
    b = body(self)
    version = b.get("addonVersion") or addon["addonVersion"]
    check_addon_version(cluster, addon["addonName"], version)
    if any(u["status"] == "InProgress" and u["_target"] == addon["addonName"] for u in extra(cluster)["updates"].values()):
        raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, addonName=addon["addonName"], message="The addon is being updated")
    addon["status"] = "UPDATING"
    update = new_update(cluster, "AddonUpdate", [{"type": "AddonVersion", "value": version}], addon["addonName"])
    return json.dumps({"update": public(update)})


def describe_addon_versions(self):
    kubernetes = (query_all(self, "kubernetesVersion") or [None])[0]
    names = query_all(self, "addonName") or sorted(ADDONS)
    out = []
    for name in names:
        versions = []
        for version, kubes in reversed(addon_versions(name)):
            if kubernetes and kubernetes not in kubes:
                continue
            compat = [{"clusterVersion": k, "platformVersions": ["*"], "defaultVersion": default_addon_version(name, k) == version} for k in kubes if not kubernetes or k == kubernetes]
            versions.append({"addonVersion": version, "architecture": ["amd64", "arm64"], "computeTypes": ["ec2"], "compatibilities": compat, "requiresConfiguration": False, "requiresIamPermissions": name == "vpc-cni"})
        if versions:
            out.append({"addonName": name, "type": "networking" if name in ("vpc-cni", "coredns", "kube-proxy") else "security", "addonVersions": versions, "owner": "aws", "publisher": "eks"})
    return json.dumps({"addons": out})


class EksAddon(Emulated, CloudFormationModel):
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_name_type():
        return "AddonName"

    @staticmethod
    def cloudformation_type():
        return "AWS::EKS::Addon"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        cluster = eks_backends[account_id][region_name].clusters[p["ClusterName"]]
        name = p["AddonName"]
        tags = {t["Key"]: t["Value"] for t in p.get("Tags", [])}
        addon = add_addon(account_id, region_name, cluster, name, p.get("AddonVersion"), p.get("ServiceAccountRoleArn"), tags, p.get("ConfigurationValues"))
        # CloudFormation's Ref of an add-on is "cluster|addon".
        return cls(f"{cluster.name}|{name}", {"Arn": addon["addonArn"]}, remove=lambda: extra(cluster)["addons"].pop(name, None))


# --- insights -----------------------------------------------------------------------------------


def insights(account, region, cluster) -> list:
    """The upgrade-readiness checks EKS runs for the next version, from the cluster's state."""
    target = next_version(cluster.version)
    if target is None:
        return []
    refreshed = extra(cluster)["refreshed"]
    arn = cluster.arn
    out = []

    # Kubelet version skew: every node group at the control plane's version.
    behind = [g for g in cluster.nodegroups.values() if minor(g.version) < minor(cluster.version)]
    status = "WARNING" if behind else "PASSING"
    out.append({
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}/kubelet-skew/{target}")),
        "name": "Kubelet version skew",
        "category": "UPGRADE_READINESS",
        "kubernetesVersion": target,
        "lastRefreshTime": refreshed,
        "lastTransitionTime": refreshed,
        "description": "Checks for kubelet versions of worker nodes in the cluster to see if upgrade would cause non compliance with supported Kubernetes kubelet version skew policy.",
        "insightStatus": {"status": status, "reason": f"{len(behind)} node group(s) run an older kubelet than the control plane" if behind else "No issues found."},
        "recommendation": "Upgrade your worker nodes to match the Kubernetes version of your cluster control plane.",
        "additionalInfo": {"Kubelet version skew policy": "https://kubernetes.io/releases/version-skew-policy/#kubelet"},
        "resources": [{"insightStatus": {"status": "WARNING"}, "arn": g.arn} for g in behind],
        "categorySpecificSummary": {},
    })

    # Add-on version compatibility with the next version.
    details, resources = [], []
    for name, addon in sorted(extra(cluster)["addons"].items()):
        fits = dict(addon_versions(name)).get(addon["addonVersion"], [])
        compatible = [v for v, ks in addon_versions(name) if target in ks]
        if target not in fits:
            details.append({"name": name, "compatibleVersions": compatible})
            resources.append({"insightStatus": {"status": "ERROR"}, "arn": addon["addonArn"]})
    out.append({
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}/addon-compatibility/{target}")),
        "name": "EKS add-on version compatibility",
        "category": "UPGRADE_READINESS",
        "kubernetesVersion": target,
        "lastRefreshTime": refreshed,
        "lastTransitionTime": refreshed,
        "description": "Checks version of installed EKS add-ons to ensure they are compatible with the next version of Kubernetes.",
        "insightStatus": {"status": "ERROR" if details else "PASSING", "reason": f"{len(details)} add-on(s) not compatible with Kubernetes {target}" if details else "No issues found."},
        "recommendation": "Upgrade the add-ons to a version compatible with the next Kubernetes version before upgrading the cluster.",
        "additionalInfo": {},
        "resources": resources,
        "categorySpecificSummary": {"addonCompatibilityDetails": details},
    })

    # Cluster health: the control plane not in a failed or updating state.
    healthy = cluster.status == "ACTIVE"
    out.append({
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}/cluster-health/{target}")),
        "name": "Cluster health issues",
        "category": "UPGRADE_READINESS",
        "kubernetesVersion": target,
        "lastRefreshTime": refreshed,
        "lastTransitionTime": refreshed,
        "description": "Checks for any cluster health issues that prevent successful upgrade to the next Kubernetes version.",
        "insightStatus": {"status": "PASSING" if healthy else "ERROR", "reason": "No issues found." if healthy else f"The cluster is {cluster.status}"},
        "recommendation": "Resolve the cluster's health issues before upgrading.",
        "additionalInfo": {},
        "resources": [],
        "categorySpecificSummary": {},
    })
    return out


SUMMARY = ("id", "name", "category", "kubernetesVersion", "lastRefreshTime", "lastTransitionTime", "description", "insightStatus")


def list_insights(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    f = body(self).get("filter") or {}
    found = [i for i in insights(self.current_account, self.region, cluster)
             if (not f.get("categories") or i["category"] in f["categories"])
             and (not f.get("kubernetesVersions") or i["kubernetesVersion"] in f["kubernetesVersions"])
             and (not f.get("statuses") or i["insightStatus"]["status"] in f["statuses"])]
    return json.dumps({"insights": [{k: i[k] for k in SUMMARY} for i in found]})


def describe_insight(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    wanted = path_part(self, "insights")
    for i in insights(self.current_account, self.region, cluster):
        if i["id"] == wanted:
            return json.dumps({"insight": i})
    raise ResourceNotFoundException(clusterName=cluster.name, nodegroupName=None, fargateProfileName=None, addonName=None, message=f"No insight found for id: {wanted}")


def start_insights_refresh(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    state = extra(cluster)
    if state["refresh"] and state["refresh"]["status"] == "IN_PROGRESS":
        raise InvalidRequestException(message="An insights refresh is already in progress for this cluster")
    state["refresh"] = {"status": "IN_PROGRESS", "startedAt": time.time(), "_reads": 0}
    return json.dumps({"message": "Insights refresh started", "status": "IN_PROGRESS"})


def describe_insights_refresh(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    state = extra(cluster)
    refresh = state["refresh"]
    if refresh is None:
        raise ResourceNotFoundException(clusterName=cluster.name, nodegroupName=None, fargateProfileName=None, addonName=None, message="No insights refresh has been started for this cluster")
    refresh["_reads"] += 1
    if refresh["status"] == "IN_PROGRESS" and refresh["_reads"] >= 2:
        refresh.update(status="COMPLETED", endedAt=time.time())
        state["refreshed"] = refresh["endedAt"]
    return json.dumps({"message": "", **{k: v for k, v in refresh.items() if not k.startswith("_")}})


# --- version updates ----------------------------------------------------------------------------


def public(update: dict) -> dict:
    return {k: v for k, v in update.items() if not k.startswith("_")}


def update_cluster_version(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    b = body(self)
    version = b.get("version", "")
    if version not in [v[0] for v in VERSIONS]:
        raise InvalidParameterException(message=f"unsupported Kubernetes version {version}")
    if version != next_version(cluster.version):
        raise InvalidParameterException(message=f"Unsupported Kubernetes minor version update from {cluster.version} to {version}")
    if cluster.status != "ACTIVE":
        raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, addonName=None, message=f"Cluster {cluster.name} is {cluster.status}; an update is already in progress")
    blocking = [i["name"] for i in insights(self.current_account, self.region, cluster) if i["insightStatus"]["status"] == "ERROR"]
    if blocking and not b.get("force"):
        raise InvalidRequestException(message=f"Upgrade readiness insights report errors: {', '.join(blocking)}. Resolve them, or update with force")
    cluster.status = "UPDATING"
    update = new_update(cluster, "VersionUpdate", [{"type": "Version", "value": version}, {"type": "PlatformVersion", "value": "eks.1"}])
    return json.dumps({"update": public(update)})


def update_nodegroup_version(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    name = path_part(self, "node-groups")
    group = cluster.nodegroups.get(name)
    if group is None:
        raise ResourceNotFoundException(clusterName=cluster.name, nodegroupName=name, fargateProfileName=None, addonName=None, message=f"No node group found for name: {name}.")
    b = body(self)
    version = b.get("version") or cluster.version
    if minor(version) > minor(cluster.version):
        raise InvalidParameterException(message=f"Requested Kubernetes version {version} is newer than the control plane's {cluster.version}")
    if group.status != "ACTIVE":
        raise ResourceInUseException(clusterName=cluster.name, nodegroupName=name, addonName=None, message=f"Nodegroup {name} is {group.status}")
    release = b.get("releaseVersion") or f"{version}.0-20261115"
    group.status = "UPDATING"
    update = new_update(cluster, "VersionUpdate", [{"type": "Version", "value": version}, {"type": "ReleaseVersion", "value": release}], name)
    return json.dumps({"update": public(update)})


def list_updates(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    group = (query_all(self, "nodegroupName") or [None])[0]
    addon = (query_all(self, "addonName") or [None])[0]
    target = group or addon
    ids = [u["id"] for u in extra(cluster)["updates"].values() if u["_target"] == target]
    return json.dumps({"updateIds": ids})


def describe_update(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    wanted = path_part(self, "updates")
    update = extra(cluster)["updates"].get(wanted)
    if update is None:
        raise ResourceNotFoundException(clusterName=cluster.name, nodegroupName=None, fargateProfileName=None, addonName=None, message=f"No update found for id: {wanted}")
    settle(cluster, update)
    return json.dumps({"update": public(update)})


# --- access entries -----------------------------------------------------------------------------

POLICIES = {
    name: f"arn:aws:eks::aws:cluster-access-policy/{name}"
    for name in ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy")
}


def emulator_caller(account: str) -> str:
    """Who every request is signed by here (moto's GetCallerIdentity)."""
    return f"arn:aws:iam::{account}:user/moto"


def access_of(account, region, cluster) -> dict:
    """The cluster's access entries by principal ARN; the creator's is made with the cluster."""
    x = extra(cluster)
    if x["access"] is None:
        x["access"] = {}
        entry = new_entry(account, region, cluster, emulator_caller(account), "STANDARD", None, [])
        entry["_policies"].append({"policyArn": POLICIES["AmazonEKSClusterAdminPolicy"], "accessScope": {"type": "cluster", "namespaces": []}, "associatedAt": time.time(), "modifiedAt": time.time()})
    return x["access"]


def new_entry(account, region, cluster, principal, kind, username, groups) -> dict:
    now = time.time()
    entry = {
        "clusterName": cluster.name,
        "principalArn": principal,
        "kubernetesGroups": groups or [],
        "accessEntryArn": f"arn:aws:eks:{region}:{account}:access-entry/{cluster.name}/{uuid.uuid4()}",
        "createdAt": now,
        "modifiedAt": now,
        "tags": {},
        "username": username or principal,
        "type": kind or "STANDARD",
        "_policies": [],
    }
    extra(cluster)["access"][principal] = entry
    return entry


def entry_view(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if not k.startswith("_")}


def entry_of(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    principal = path_part(self, "access-entries")
    entry = access_of(self.current_account, self.region, cluster).get(principal)
    if entry is None:
        raise ResourceNotFoundException(clusterName=cluster.name, nodegroupName=None, fargateProfileName=None, addonName=None, message=f"The specified principalArn could not be found: {principal}")
    return cluster, entry


def create_access_entry(self):
    b = body(self)
    cluster = cluster_of(self, path_part(self, "clusters"))
    principal = b.get("principalArn", "")
    if not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/.+", principal):
        raise InvalidParameterException(message=f"The principalArn parameter format is not valid: {principal}")
    entries = access_of(self.current_account, self.region, cluster)
    if principal in entries:
        raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, addonName=None, message=f"The specified access entry resource is already in use on this cluster: {principal}")
    entry = new_entry(self.current_account, self.region, cluster, principal, b.get("type"), b.get("username"), b.get("kubernetesGroups"))
    return json.dumps({"accessEntry": entry_view(entry)})


def describe_access_entry(self):
    _, entry = entry_of(self)
    return json.dumps({"accessEntry": entry_view(entry)})


def list_access_entries(self):
    cluster = cluster_of(self, path_part(self, "clusters"))
    wanted = (query_all(self, "associatedPolicyArn") or [None])[0]
    entries = access_of(self.current_account, self.region, cluster).values()
    return json.dumps({"accessEntries": sorted(e["principalArn"] for e in entries if not wanted or any(p["policyArn"] == wanted for p in e["_policies"]))})


def delete_access_entry(self):
    cluster, entry = entry_of(self)
    del extra(cluster)["access"][entry["principalArn"]]
    return json.dumps({})


def associate_access_policy(self):
    cluster, entry = entry_of(self)
    b = body(self)
    policy = b.get("policyArn", "")
    if policy not in POLICIES.values():
        raise InvalidParameterException(message=f"The policyArn parameter is not valid: {policy}")
    scope = b.get("accessScope") or {"type": "cluster"}
    scope = {"type": scope.get("type", "cluster"), "namespaces": scope.get("namespaces", [])}
    entry["_policies"] = [p for p in entry["_policies"] if p["policyArn"] != policy]
    now = time.time()
    entry["_policies"].append({"policyArn": policy, "accessScope": scope, "associatedAt": now, "modifiedAt": now})
    return json.dumps({"clusterName": cluster.name, "principalArn": entry["principalArn"], "associatedAccessPolicy": entry["_policies"][-1]})


def disassociate_access_policy(self):
    _, entry = entry_of(self)
    policy = unquote(self.path.rstrip("/").rsplit("/", 1)[-1])
    entry["_policies"] = [p for p in entry["_policies"] if p["policyArn"] != policy]
    return json.dumps({})


def list_associated_access_policies(self):
    cluster, entry = entry_of(self)
    return json.dumps({"clusterName": cluster.name, "principalArn": entry["principalArn"], "associatedAccessPolicies": entry["_policies"]})


def list_access_policies(self):
    return json.dumps({"accessPolicies": [{"name": n, "arn": a} for n, a in POLICIES.items()]})


HANDLERS = (
    describe_cluster_versions,
    create_addon,
    describe_addon,
    list_addons,
    delete_addon,
    update_addon,
    describe_addon_versions,
    list_insights,
    describe_insight,
    start_insights_refresh,
    describe_insights_refresh,
    update_cluster_version,
    update_nodegroup_version,
    list_updates,
    describe_update,
    create_access_entry,
    describe_access_entry,
    list_access_entries,
    delete_access_entry,
    associate_access_policy,
    disassociate_access_policy,
    list_associated_access_policies,
    list_access_policies,
)
for handler in HANDLERS:
    setattr(EKSResponse, handler.__name__, handler)

urls.url_paths.update(
    {
        "{0}/cluster-versions$": urls.response.dispatch,
        "{0}/addons/supported-versions$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/addons$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)/update$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/insights$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/insights/(?P<id>[^/]+)$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/insights-refresh$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/updates$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$": urls.response.dispatch,
        "{0}/clusters/(?P<name>[^/]+)/access-entries$": urls.response.dispatch,
        # The principal is an ARN with a slash, which routing sees decoded: the rest of the path.
        "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<rest>.+)$": urls.response.dispatch,
        "{0}/access-policies$": urls.response.dispatch,
    }
)

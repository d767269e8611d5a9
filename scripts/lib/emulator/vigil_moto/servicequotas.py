"""Service Quotas for the quotas a deploy's preflight reads: moto knows only the VPC service's
defaults; the EC2, EKS and RDS ones the platform needs are added to its backend here, with
AWS's default values and the CloudWatch usage metric AWS names for each (the emulator's
account publishes no usage, so its usage reads as none)."""

from moto.servicequotas.models import ServiceQuotasBackend

# (service, code, name, default value, usage metric dimensions)
ADDED = [
    ("ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", 1152.0,
     {"Class": "Standard/OnDemand", "Resource": "vCPU", "Service": "EC2", "Type": "Resource"}),
    ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5.0,
     {"Class": "None", "Resource": "ElasticIP", "Service": "EC2", "Type": "Resource"}),
    ("eks", "L-1194D53C", "Clusters", 100.0, None),
    ("rds", "L-952B80B8", "DB clusters", 40.0, {"Class": "None", "Resource": "DBCluster", "Service": "RDS", "Type": "Resource"}),
    ("rds", "L-7B6409FD", "DB instances", 40.0, {"Class": "None", "Resource": "DBInstance", "Service": "RDS", "Type": "Resource"}),
]


def quota(region: str, service: str, code: str, name: str, value: float, usage) -> dict:
    q = {
        "Adjustable": True,
        "GlobalQuota": False,
        "QuotaArn": f"arn:aws:servicequotas:{region}::{service}/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "ServiceCode": service,
        "ServiceName": service,
        "Unit": "None",
        "Value": value,
    }
    if usage:
        q["UsageMetric"] = {
            "MetricNamespace": "AWS/Usage",
            "MetricName": "ResourceCount",
            "MetricDimensions": usage,
            "MetricStatisticRecommendation": "Maximum",
        }
    return q


_moto_get = ServiceQuotasBackend.get_service_quota


def get_service_quota(self, service_code: str, quota_code: str) -> dict:
    for service, code, name, value, usage in ADDED:
        if (service, code) == (service_code, quota_code):
            return quota(self.region_name, service, code, name, value, usage)
    return _moto_get(self, service_code, quota_code)


ServiceQuotasBackend.get_service_quota = get_service_quota

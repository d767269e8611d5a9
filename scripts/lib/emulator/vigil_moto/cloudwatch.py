"""AWS::CloudWatch::Alarm and AWS::CloudWatch::CompositeAlarm on moto's CloudWatch backend, and
DescribeAlarmHistory (moto keeps each alarm's earlier states but does not serve them): an alarm's
state changes, newest first, from moto's own record."""

import json

from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult

from .common import Emulated, tag_list, truthy


def queries(metrics):
    out = []
    for m in metrics or []:
        stat = None
        if m.get("MetricStat"):
            s = m["MetricStat"]
            metric = s["Metric"]
            dims = [Dimension(name=d["Name"], value=d["Value"]) for d in metric.get("Dimensions", [])]
            stat = MetricStat(metric=Metric(metric_name=metric["MetricName"], namespace=metric["Namespace"], dimensions=dims), period=s.get("Period"), stat=s.get("Stat"), unit=s.get("Unit"))
        out.append(MetricDataQuery(query_id=m.get("Id"), label=m.get("Label"), period=m.get("Period"), return_data=m.get("ReturnData"), expression=m.get("Expression"), metric_stat=stat))
    return out


def put(backend, name, p, rule=None):
    def number(key):
        return int(p[key]) if p.get(key) is not None else None

    backend.put_metric_alarm(
        name=name,
        namespace=p.get("Namespace"),
        metric_name=p.get("MetricName"),
        metric_data_queries=queries(p.get("Metrics")) or None,
        comparison_operator=p.get("ComparisonOperator"),
        evaluation_periods=number("EvaluationPeriods"),
        datapoints_to_alarm=number("DatapointsToAlarm"),
        period=number("Period"),
        threshold=float(p["Threshold"]) if p.get("Threshold") is not None else None,
        statistic=p.get("Statistic"),
        extended_statistic=p.get("ExtendedStatistic"),
        description=p.get("AlarmDescription"),
        dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions", [])],
        alarm_actions=p.get("AlarmActions", []),
        ok_actions=p.get("OKActions", []),
        insufficient_data_actions=p.get("InsufficientDataActions", []),
        unit=p.get("Unit"),
        actions_enabled=truthy(p.get("ActionsEnabled", True)),
        treat_missing_data=p.get("TreatMissingData"),
        threshold_metric_id=p.get("ThresholdMetricId"),
        rule=rule,
        tags=tag_list(p.get("Tags")),
    )
    return backend.alarms[name]


class Alarm(Emulated, CloudFormationModel):
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_name_type():
        return "AlarmName"

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        backend = cloudwatch_backends[account_id][region_name]
        alarm = put(backend, resource_name, cloudformation_json["Properties"])
        return cls(resource_name, {"Arn": alarm.alarm_arn}, remove=lambda: backend.delete_alarms([resource_name]))

    @classmethod
    def apply_update(cls, resource, properties, account_id, region_name):
        put(cloudwatch_backends[account_id][region_name], resource.physical_id, properties)


class CompositeAlarm(Emulated, CloudFormationModel):
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_name_type():
        return "AlarmName"

    @staticmethod
    def cloudformation_type():
        return "AWS::CloudWatch::CompositeAlarm"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        backend = cloudwatch_backends[account_id][region_name]
        p = cloudformation_json["Properties"]
        alarm = put(backend, resource_name, p, rule=p["AlarmRule"])
        return cls(resource_name, {"Arn": alarm.alarm_arn}, remove=lambda: backend.delete_alarms([resource_name]))

    @classmethod
    def apply_update(cls, resource, properties, account_id, region_name):
        put(cloudwatch_backends[account_id][region_name], resource.physical_id, properties, rule=properties["AlarmRule"])


def state_changes(alarm) -> list:
    """(time, from, to, reason) of each state change: moto records the state an update left."""
    states = [(h[3], h[1], h[4]) for h in alarm.history if h[0] == "StateUpdate"]
    states.append((alarm.state_value, alarm.state_reason, alarm.state_updated_timestamp))
    return [(new[2], old[0], new[0], new[1]) for old, new in zip(states, states[1:])]


def describe_alarm_history(self):
    backend = self.cloudwatch_backend
    name = self._get_param("AlarmName")
    kind = self._get_param("HistoryItemType")
    start, end = self._get_param("StartDate"), self._get_param("EndDate")
    alarms = [a for a in backend.alarms.values() if not name or a.name == name]
    items = []
    if kind in (None, "StateUpdate"):
        for a in alarms:
            for at, old, new, reason in state_changes(a):
                if (start and at < start) or (end and at > end):
                    continue
                data = {"version": "1.0", "oldState": {"stateValue": old}, "newState": {"stateValue": new, "stateReason": reason}}
                items.append({
                    "AlarmName": a.name,
                    "AlarmType": "CompositeAlarm" if a.rule else "MetricAlarm",
                    "Timestamp": at,
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": f"Alarm updated from {old} to {new}",
                    "HistoryData": json.dumps(data),
                })
    items.sort(key=lambda i: i["Timestamp"], reverse=self._get_param("ScanBy") != "TimestampAscending")
    limit = int(self._get_param("MaxRecords") or 100)
    return ActionResult({"AlarmHistoryItems": items[:limit]})


CloudWatchResponse.describe_alarm_history = describe_alarm_history

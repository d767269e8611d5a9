"""Fixes to moto's CloudFormation, so stacks behave as CloudFormation's: its reading of YAML
templates,

- `!GetAtt Cluster.Endpoint.Address` names resource `Cluster`, attribute `Endpoint.Address`
  (moto split at every dot);
- a short-form function over a mapping, `!ImportValue { "Fn::Sub": "…" }` (the form AWS
  documents for ImportValue over Sub), is that mapping (moto returned YAML nodes);
- `Fn::Cidr` (moto has none) and `Fn::GetAZs ""` in the stack's own region (moto: us-east-1).

moto registers its constructor before each template load, by the name its modules import; the
fixed one replaces that name in both. Then: UpdateTerminationProtection; a stack that fails to
delete (DELETE_FAILED); change sets that give their stacks exports and outputs; a resource that
fails while a change set runs (its *_FAILED event, then the rollback); an update's rollback that
cannot restore a resource deleted behind its back (UPDATE_ROLLBACK_FAILED) and
ContinueUpdateRollback with resources to skip."""

import ipaddress
import itertools

import yaml

import moto.cloudformation.models as models
import moto.cloudformation.parsing as parsing
import moto.cloudformation.responses as responses


def yaml_tag_constructor(loader, tag, node):
    key = "Ref" if tag == "!Ref" else f"Fn::{tag[1:]}"
    if isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    elif tag == "!GetAtt":
        value = node.value.split(".", 1)
    else:
        value = node.value
    return {key: value}


models.yaml_tag_constructor = yaml_tag_constructor
responses.yaml_tag_constructor = yaml_tag_constructor


moto_clean_json = parsing.clean_json


def clean_json(resource_json, resources_map):
    if isinstance(resource_json, dict) and "Fn::Cidr" in resource_json:
        block, count, bits = (moto_clean_json(x, resources_map) for x in resource_json["Fn::Cidr"])
        network = ipaddress.ip_network(block)
        subnets = network.subnets(new_prefix=network.max_prefixlen - int(bits))
        return [str(s) for s in itertools.islice(subnets, int(count))]
    if isinstance(resource_json, dict) and resource_json.get("Fn::GetAZs", None) == "":
        region = resources_map._region_name
        return [f"{region}{zone}" for zone in "abc"]
    return moto_clean_json(resource_json, resources_map)


# moto's clean_json recurses through this module-level name, so nested uses are handled too.
parsing.clean_json = clean_json


# UpdateTerminationProtection, which moto lacks (HTTP 500), on moto's own stacks; DeleteStack
# then refuses a protected stack as CloudFormation does.
from moto.cloudformation.exceptions import ValidationError  # noqa: E402
from moto.core.responses import ActionResult, EmptyResult  # noqa: E402


def update_termination_protection(self):
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection", False)
    return ActionResult({"StackId": stack.stack_id})


moto_delete_stack = responses.CloudFormationResponse.delete_stack


def delete_stack(self):
    name = self._get_param("StackName")
    stack = next((s for s in self.cloudformation_backend.stacks.values() if name in (s.name, s.stack_id)), None)
    if stack is not None and stack.enable_termination_protection:
        raise ValidationError(
            message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled",
        )
    return moto_delete_stack(self)


responses.CloudFormationResponse.update_termination_protection = update_termination_protection
responses.CloudFormationResponse.delete_stack = delete_stack


# A resource that cannot be deleted leaves the stack DELETE_FAILED with the reason, still there
# (moto answered DeleteStack with HTTP 500 and dropped the stack). A deleted stack, described by
# its id, has no outputs (moto evaluated them again, making the deleted resources anew).
moto_backend_delete_stack = models.CloudFormationBackend.delete_stack


class FixedOutputs(dict):
    """Outputs as they were before a deletion (moto's are evaluated on every read)."""

    def __init__(self, outputs=(), exports=()):
        super().__init__(outputs)
        self.exports = list(exports)


def backend_delete_stack(self, name_or_stack_id):
    stack = self.stacks.get(name_or_stack_id) or next((s for s in self.stacks.values() if s.name == name_or_stack_id), None)
    if stack is None:
        return moto_backend_delete_stack(self, name_or_stack_id)
    before = FixedOutputs({k: stack.output_map[k] for k in stack.output_map}, stack.output_map.exports)
    # What was deleted behind CloudFormation's back counts as deleted (moto failed on it).
    resources = stack.resource_map
    for logical_id in [i for i in resources._parsed_resources if gone(stack, i)]:
        resources._parsed_resources.pop(logical_id)
        resources._resource_json_map.pop(logical_id, None)
    try:
        moto_backend_delete_stack(self, stack.stack_id)
        stack.output_map = FixedOutputs()
    except Exception as e:  # noqa: BLE001 - any resource's refusal is the stack's failure
        self.stacks[stack.stack_id] = stack
        self.deleted_stacks.pop(stack.stack_id, None)
        # The stack keeps its outputs and only the resources still there.
        stack.output_map = before
        resources = stack.resource_map
        resources._resource_json_map = {k: v for k, v in resources._resource_json_map.items() if k in resources._parsed_resources}
        reason = getattr(e, "message", None) or str(e)
        stack._add_stack_event("DELETE_FAILED", resource_status_reason=f"The following resource(s) failed to delete: {reason}")
        stack.status = "DELETE_FAILED"


models.CloudFormationBackend.delete_stack = backend_delete_stack


# A stack made or changed by a change set imports the region's exports and gets its own outputs
# and exports, as one made by CreateStack does (moto gave it none of these).
moto_execute_change_set = models.CloudFormationBackend.execute_change_set


def execute_change_set(self, change_set_name, stack_name=None):
    change_set = self.change_sets.get(change_set_name) or next(
        (c for c in self.change_sets.values() if c.change_set_name == change_set_name and stack_name in (None, c.stack_name, c.stack_id)), None
    )
    before = set()
    if change_set is not None:
        before = {e.name for e in change_set.stack.exports}
        # A stack made by CreateChangeSet was given no exports to import from.
        change_set.stack.cross_stack_resources = self.exports
        change_set.stack.resource_map.cross_stack_resources = self.exports
    moto_execute_change_set(self, change_set_name, stack_name)
    if change_set is None:
        return
    stack = self.stacks[change_set.stack_id]
    stack._parse_template()
    stack.output_map = stack._create_output_map()
    after = {e.name: e for e in stack.exports}
    for name in before - after.keys():
        self.exports.pop(name, None)
    self.exports.update(after)


models.CloudFormationBackend.execute_change_set = execute_change_set


# A resource that fails as a change set runs fails the stack as CloudFormation does: the
# resource's *_FAILED event with the reason, then the rollback (a new stack's resources deleted:
# ROLLBACK_COMPLETE; an update's: UPDATE_ROLLBACK_COMPLETE). moto let the error escape
# ExecuteChangeSet and left the stack *_IN_PROGRESS.
class ResourceFailed(Exception):
    def __init__(self, logical_id, resource_type, reason):
        super().__init__(reason)
        self.logical_id, self.resource_type, self.reason = logical_id, resource_type, reason


moto_parse_and_create_resource = parsing.parse_and_create_resource


def parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name):
    try:
        return moto_parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name)
    except ResourceFailed:
        raise
    except Exception as e:  # noqa: BLE001 - any refusal of the service is the resource's failure
        reason = getattr(e, "message", None) or getattr(e, "description", None) or str(e)
        raise ResourceFailed(logical_id, resource_json.get("Type", ""), reason) from e


parsing.parse_and_create_resource = parse_and_create_resource


def resource_event(stack, failed, status):
    stack.events.append(
        models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=failed.logical_id,
            physical_resource_id="",
            resource_type=failed.resource_type,
            resource_status=status,
            resource_status_reason=failed.reason,
            resource_properties=None,
        )
    )


def fail_change_set(stack, change_set, failed):
    if change_set.change_set_type == "CREATE":
        resource_event(stack, failed, "CREATE_FAILED")
        stack._add_stack_event(
            "ROLLBACK_IN_PROGRESS",
            resource_status_reason=f"The following resource(s) failed to create: [{failed.logical_id}]. Rollback requested by user.",
        )
        try:
            stack.resource_map.delete()
        except Exception:  # noqa: BLE001 - what cannot go stays, as a failed rollback would leave it
            stack._add_stack_event("ROLLBACK_FAILED")
            stack.status = "ROLLBACK_FAILED"
            return
        stack._add_stack_event("ROLLBACK_COMPLETE")
        stack.status = "ROLLBACK_COMPLETE"
    else:
        existed = failed.logical_id in (stack.template_dict or {}).get("Resources", {})
        resource_event(stack, failed, "UPDATE_FAILED" if existed else "CREATE_FAILED")
        stack._add_stack_event(
            "UPDATE_ROLLBACK_IN_PROGRESS",
            resource_status_reason=f"The following resource(s) failed to update: [{failed.logical_id}].",
        )
        roll_back(stack, skip=())
    change_set.execution_status = "EXECUTE_FAILED"


# The rollback of an update cannot restore a resource deleted outside CloudFormation: that
# resource's UPDATE_FAILED, the stack UPDATE_ROLLBACK_FAILED, until ContinueUpdateRollback skips
# it (moto has no ContinueUpdateRollback). Deleted is known for log groups, topics and queues.
def gone(stack, logical_id):
    from moto.logs.models import LogGroup, logs_backends
    from moto.sns.models import Topic, sns_backends
    from moto.sqs.models import Queue, sqs_backends

    resource = stack.resource_map._parsed_resources.get(logical_id)
    account, region = stack.account_id, stack.region_name
    if isinstance(resource, LogGroup):
        return resource.name not in logs_backends[account][region].groups
    if isinstance(resource, Topic):
        return resource.arn not in sns_backends[account][region].topics
    if isinstance(resource, Queue):
        return resource.name not in sqs_backends[account][region].queues
    return False


def roll_back(stack, skip):
    resources = (stack.template_dict or {}).get("Resources", {})
    for logical_id in skip:
        resource_event(stack, ResourceFailed(logical_id, resources.get(logical_id, {}).get("Type", ""), "Resource skipped during rollback"), "UPDATE_COMPLETE")
    lost = [(i, r.get("Type", "")) for i, r in resources.items() if i not in skip and gone(stack, i)]
    for logical_id, resource_type in lost:
        reason = f"Resource handler returned message: \"{logical_id} was not found: it was deleted outside CloudFormation\" (HandlerErrorCode: NotFound)"
        resource_event(stack, ResourceFailed(logical_id, resource_type, reason), "UPDATE_FAILED")
    if lost:
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=f"The following resource(s) failed to update: [{', '.join(i for i, _ in lost)}].")
        stack.status = "UPDATE_ROLLBACK_FAILED"
    else:
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"


def continue_update_rollback(self):
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    if stack.status != "UPDATE_ROLLBACK_FAILED":
        raise ValidationError(message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
    skip = self._get_param("ResourcesToSkip", [])
    resources = (stack.template_dict or {}).get("Resources", {})
    unknown = [r for r in skip if r not in resources]
    if unknown:
        raise ValidationError(message=f"Resources to skip are not in the stack: {', '.join(unknown)}")
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason="Continue rollback requested by user.")
    roll_back(stack, skip)
    return EmptyResult()


responses.CloudFormationResponse.continue_update_rollback = continue_update_rollback


exporting_execute_change_set = models.CloudFormationBackend.execute_change_set


def failing_execute_change_set(self, change_set_name, stack_name=None):
    change_set = self.change_sets.get(change_set_name) or next(
        (c for c in self.change_sets.values() if c.change_set_name == change_set_name and stack_name in (None, c.stack_name, c.stack_id)), None
    )
    try:
        exporting_execute_change_set(self, change_set_name, stack_name)
    except ResourceFailed as failed:
        if change_set is None:
            raise
        fail_change_set(self.stacks[change_set.stack_id], change_set, failed)


models.CloudFormationBackend.execute_change_set = failing_execute_change_set

"""What every emulated resource shares: its physical id, its attributes for Fn::GetAtt, and
moto's snake_case names for CloudFormation's property names."""

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.utils import camelcase_to_underscores


class Emulated:
    """A resource a stack made: moto's own object lives in a service backend; this holds the
    id CloudFormation's Ref returns and the attributes its Fn::GetAtt returns."""

    ATTRIBUTES: tuple[str, ...] = ()

    def __init__(self, physical_id: str, attributes: dict[str, Any], remove=None):
        self.physical_id = physical_id
        self.attributes = attributes
        self._remove = remove

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def delete(self, account_id: str, region_name: str) -> None:
        if self._remove:
            self._remove()

    def is_created(self) -> bool:
        return True

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        # Stacks delete through the instance's delete(); nothing is known by name alone.
        return None

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        # In-place: the emulated service keeps its object; a changed name replaces it.
        if new_resource_name != original_resource.physical_id and cls.cloudformation_name_type():
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        cls.apply_update(original_resource, cloudformation_json["Properties"], account_id, region_name)
        return original_resource

    @classmethod
    def apply_update(cls, resource, properties: dict[str, Any], account_id: str, region_name: str) -> None:
        """Changes the emulated object for an in-place update (default: nothing to change)."""


def snake(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's property names as moto's backends name their arguments."""
    return {camelcase_to_underscores(k): v for k, v in properties.items()}


def tag_list(tags) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t["Value"]} for t in (tags or [])]


def tag_map(tags) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (tags or [])}


def truthy(value) -> bool:
    return str(value).lower() == "true"


def camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys as the EKS REST API's camelCase, all the way down."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value

"""Deleting what moto's own EC2 models create but never delete with their stack: NAT gateways,
VPC endpoints and route tables (moto leaves them, so DeleteStack of the network fails with
DependencyViolation on the VPC). Each type is moto's own model with a delete added."""

from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models.nat_gateways import NatGateway as MotoNatGateway
from moto.ec2.models.route_tables import RouteTable as MotoRouteTable
from moto.ec2.models.vpcs import VPCEndPoint as MotoVPCEndPoint


class Delegated:
    """moto's object, with the delete moto lacks."""

    MOTO: type = CloudFormationModel

    def __init__(self, inner, account_id, region_name):
        self.inner = inner
        self.backend = ec2_backends[account_id][region_name]

    def __getattr__(self, name):
        return getattr(self.inner, name)

    @property
    def physical_resource_id(self):
        return self.inner.physical_resource_id

    def get_cfn_attribute(self, attribute_name):
        return self.inner.get_cfn_attribute(attribute_name)

    def is_created(self):
        return True

    @classmethod
    def has_cfn_attr(cls, attr):
        return cls.MOTO.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        inner = cls.MOTO.create_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        return cls(inner, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        return None


class NatGateway(Delegated, CloudFormationModel):
    MOTO = MotoNatGateway

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::EC2::NatGateway"

    def delete(self, account_id, region_name):
        self.backend.delete_nat_gateway(self.inner.id)
        # AWS releases the gateway's network interface; its address can then be released.
        self.backend.nat_gateways.pop(self.inner.id, None)


class VPCEndpoint(Delegated, CloudFormationModel):
    MOTO = MotoVPCEndPoint

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::EC2::VPCEndpoint"

    def delete(self, account_id, region_name):
        # A gateway endpoint's routes go with it, in the route tables that are still there.
        self.inner.route_table_ids = [r for r in self.inner.route_table_ids or [] if r in self.backend.route_tables]
        self.backend.delete_vpc_endpoints([self.inner.id])
        self.backend.vpc_end_points.pop(self.inner.id, None)


class RouteTable(Delegated, CloudFormationModel):
    MOTO = MotoRouteTable

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::EC2::RouteTable"

    def delete(self, account_id, region_name):
        # Its associations go first in the same pass (moto does not delete those either).
        for association in list(self.inner._associations):
            self.backend.disassociate_route_table(association)
        self.backend.delete_route_table(self.inner.id)

"""A private network for ML compute: no route to the internet, AWS APIs through endpoints."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aws_cdk import RemovalPolicy, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from sagemaker_lifecycle._internal.keys import allow_cloudwatch_logs
from sagemaker_lifecycle._internal.nag import (
    acknowledge_each,
    acknowledge_inline_policy,
    in_all_packs,
)
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range

IVS = ec2.InterfaceVpcEndpointAwsService

#: Interface endpoints every ML workload in the network needs, by construct id. SageMaker
#: jobs, endpoints, Lambda functions and Studio reach AWS only through these (and the S3
#: gateway endpoint), since the subnets have no route to the internet.
DEFAULT_INTERFACE_ENDPOINTS: Mapping[str, ec2.InterfaceVpcEndpointAwsService] = MappingProxyType(
    {
        "SageMakerApi": IVS.SAGEMAKER_API,
        "SageMakerRuntime": IVS.SAGEMAKER_RUNTIME,
        "FeatureStoreRuntime": IVS.SAGEMAKER_FEATURESTORE_RUNTIME,
        "Sts": IVS.STS,
        "Logs": IVS.CLOUDWATCH_LOGS,
        "Monitoring": IVS.CLOUDWATCH_MONITORING,
        "EcrApi": IVS.ECR,
        "EcrDocker": IVS.ECR_DOCKER,
        "Events": IVS.EVENTBRIDGE,
        "Sns": IVS.SNS,
        "Sqs": IVS.SQS,
    }
)

_HTTPS = ec2.Port.tcp(443)
_MIN_AZS = 2
_MAX_AZS = 6


class MlNetwork(Construct):
    """A VPC for SageMaker jobs, endpoints, Studio and Lambda, with no internet access.

    By default it creates private isolated subnets in ``max_azs`` Availability Zones, no
    internet or NAT gateway, interface endpoints for the AWS APIs ML workloads call
    (:data:`DEFAULT_INTERFACE_ENDPOINTS`), an S3 gateway endpoint, and VPC flow logs into a
    KMS-encrypted log group. Pass ``vpc`` to use a VPC you already have; endpoints are then
    only added when ``create_endpoints`` is true.

    Two security groups are exposed: :attr:`endpoint_security_group` admits HTTPS from
    inside the VPC to the interface endpoints, and :attr:`security_group` is for workloads,
    which may only send HTTPS (and talk to each other, for distributed training).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        cidr: str = "10.80.0.0/16",
        max_azs: int = 2,
        create_endpoints: bool | None = None,
        interface_endpoints: Mapping[str, ec2.InterfaceVpcEndpointAwsService] | None = None,
        flow_log_key: kms.IKey | None = None,
        flow_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param vpc: an existing VPC to run ML workloads in. Default: a new VPC.
        :param subnets: where workloads run in ``vpc``. Default: the new VPC's isolated
            subnets, or the private subnets of an existing VPC.
        :param cidr: IPv4 range of the new VPC (a /16 to /24). Ignored with ``vpc``.
            Default: 10.80.0.0/16.
        :param max_azs: Availability Zones for the new VPC's subnets, 2 to 6. Default: 2.
        :param create_endpoints: add the VPC endpoints. Default: true for a new VPC, false
            for an existing one (which usually has its own).
        :param interface_endpoints: interface endpoints by construct id. Default:
            :data:`DEFAULT_INTERFACE_ENDPOINTS`.
        :param flow_log_key: KMS key for the flow-log group. Default: a new key with
            rotation on.
        :param flow_log_retention: how long flow logs are kept. Default: one year.
        :param removal_policy: what happens to the flow logs and their key when the stack
            is deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        endpoints = (
            DEFAULT_INTERFACE_ENDPOINTS if interface_endpoints is None else interface_endpoints
        )
        errors = ValidationErrors("MlNetwork")
        if vpc is None:
            int_in_range(errors, "max_azs", max_azs, minimum=_MIN_AZS, maximum=_MAX_AZS)
            _check_cidr(errors, cidr)
        for endpoint_id in endpoints:
            errors.check(
                endpoint_id.isidentifier() and endpoint_id[:1].isupper(),
                f"interface_endpoints keys are construct ids in PascalCase, got {endpoint_id!r}",
            )
        errors.raise_if_any()

        self.vpc: ec2.IVpc = vpc or ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=max_azs,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
                )
            ],
            restrict_default_security_group=True,
        )
        #: The subnets ML workloads run in.
        self.subnet_selection: ec2.SubnetSelection = subnets or (
            ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            if vpc is None
            # CDK's default selection: private subnets with egress, else isolated ones.
            else ec2.SubnetSelection()
        )

        self.flow_log_key: kms.IKey = flow_log_key or self._flow_log_key(removal_policy)
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogGroup",
            encryption_key=self.flow_log_key,
            retention=flow_log_retention,
            removal_policy=removal_policy,
        )
        self.flow_log_role = iam.Role(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="Lets VPC Flow Logs write to the ML network's flow-log group",
        )
        acknowledge_inline_policy(self.flow_log_role)
        self.flow_log = ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                self.flow_log_group, self.flow_log_role
            ),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        # The literal range of a VPC we create keeps the rule reviewable (and checkable by
        # cdk-nag); an imported VPC's range may only be known at deploy time.
        vpc_range = cidr if vpc is None else self.vpc.vpc_cidr_block
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(vpc_range), _HTTPS, "HTTPS from inside the VPC"
        )
        if Token.is_unresolved(vpc_range):
            acknowledge_each(
                self.endpoint_security_group,
                [
                    "AwsSolutions-EC23",
                    *in_all_packs("EC2RestrictedCommonPorts"),
                    *in_all_packs("EC2RestrictedSSH"),
                ],
                "The only ingress rule is HTTPS from the imported VPC's own CIDR block, which "
                "is a deploy-time value the rule cannot evaluate at synth time.",
            )
        self.security_group = ec2.SecurityGroup(
            self,
            "WorkloadSecurityGroup",
            vpc=self.vpc,
            description="ML workloads: HTTPS out, traffic between members for distributed jobs",
            allow_all_outbound=False,
        )
        # Destinations are bounded by routing, not by this rule: the isolated subnets only
        # route to the VPC and to S3 through the gateway endpoint, whose prefix list cannot
        # be resolved at synth time without an account lookup.
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), _HTTPS, "HTTPS to VPC endpoints and the S3 gateway endpoint"
        )
        self.security_group.connections.allow_internally(
            ec2.Port.all_tcp(), "Distributed training and inter-container traffic"
        )

        create = (vpc is None) if create_endpoints is None else create_endpoints
        self.interface_endpoints: Mapping[str, ec2.InterfaceVpcEndpoint] = MappingProxyType({})
        self.s3_endpoint: ec2.GatewayVpcEndpoint | None = None
        if create:
            self.s3_endpoint = self.vpc.add_gateway_endpoint(
                "S3Endpoint",
                service=ec2.GatewayVpcEndpointAwsService.S3,
                subnets=[self.subnet_selection],
            )
            self.interface_endpoints = MappingProxyType(
                {
                    endpoint_id: self.vpc.add_interface_endpoint(
                        endpoint_id,
                        service=service,
                        subnets=self.subnet_selection,
                        security_groups=[self.endpoint_security_group],
                        private_dns_enabled=True,
                        open=False,
                    )
                    for endpoint_id, service in endpoints.items()
                }
            )

    @property
    def subnet_ids(self) -> list[str]:
        """Ids of the subnets ML workloads run in."""
        selection = self.subnet_selection
        return self.vpc.select_subnets(
            availability_zones=selection.availability_zones,
            one_per_az=selection.one_per_az,
            subnet_filters=selection.subnet_filters,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            subnet_type=selection.subnet_type,
        ).subnet_ids

    def sagemaker_vpc_config(self) -> dict[str, Any]:
        """``VpcConfig`` for SageMaker jobs, models and domains.

        Holds ``SecurityGroupIds`` (the workload group) and ``Subnets``.
        """
        return {
            "SecurityGroupIds": [self.security_group.security_group_id],
            "Subnets": self.subnet_ids,
        }

    def grant_flow_log_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the VPC flow logs (for example a security tooling role)."""
        grant = self.flow_log_group.grant_read(grantee)
        self.flow_log_key.grant_decrypt(grantee)
        return grant

    def _flow_log_key(self, removal_policy: RemovalPolicy) -> kms.Key:
        key = kms.Key(
            self,
            "FlowLogKey",
            description="Encrypts the ML network's VPC flow logs",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        allow_cloudwatch_logs(key)
        return key


def _check_cidr(errors: ValidationErrors, cidr: str) -> None:
    try:
        network = ipaddress.ip_network(cidr)
    except ValueError:
        errors.add(f"cidr must be an IPv4 network such as '10.80.0.0/16', got {cidr!r}")
        return
    if network.version != 4 or not 16 <= network.prefixlen <= 24:
        errors.add(f"cidr must be an IPv4 network from /16 to /24, got {cidr!r}")

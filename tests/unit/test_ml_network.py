"""MlNetwork: no route to the internet, every endpoint, HTTPS-only groups, encrypted flow logs."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from sagemaker_lifecycle import DEFAULT_INTERFACE_ENDPOINTS, MlNetwork
from tests.support import new_stack, resources_of_type, template_of

# The service names the interface endpoints must reach (region as a token in the template).
EXPECTED_SERVICES = {
    "sagemaker.api",
    "sagemaker.runtime",
    "sagemaker.featurestore-runtime",
    "sts",
    "logs",
    "monitoring",
    "ecr.api",
    "ecr.dkr",
    "events",
    "sns",
    "sqs",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = new_stack()
    MlNetwork(stack, "Network")
    return template_of(stack)


def _service_suffix(service_name: Any) -> str:
    # "com.amazonaws.<region>.<service>" is rendered as a Join with the region token.
    parts = service_name["Fn::Join"][1]
    return str(parts[-1]).removeprefix(".")


def test_no_internet_gateway_nat_or_egress_route(template: dict[str, Any]) -> None:
    for resource_type in (
        "AWS::EC2::InternetGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EgressOnlyInternetGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::Route",
    ):
        assert resources_of_type(template, resource_type) == {}, resource_type


def test_isolated_subnets_in_two_availability_zones(template: dict[str, Any]) -> None:
    subnets = resources_of_type(template, "AWS::EC2::Subnet")
    assert len(subnets) == 2
    zones = {str(s["Properties"]["AvailabilityZone"]) for s in subnets.values()}
    assert len(zones) == 2
    for subnet in subnets.values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_every_interface_endpoint_is_present_with_private_dns(template: dict[str, Any]) -> None:
    endpoints = [
        e["Properties"]
        for e in resources_of_type(template, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert {_service_suffix(e["ServiceName"]) for e in endpoints} == EXPECTED_SERVICES
    assert len(endpoints) == len(EXPECTED_SERVICES) == len(DEFAULT_INTERFACE_ENDPOINTS)
    for endpoint in endpoints:
        assert endpoint["PrivateDnsEnabled"] is True
        assert len(endpoint["SubnetIds"]) == 2
        (group,) = endpoint["SecurityGroupIds"]
        assert group["Fn::GetAtt"][0].startswith("NetworkEndpointSecurityGroup")


def test_s3_gateway_endpoint_on_every_route_table(template: dict[str, Any]) -> None:
    gateways = [
        e["Properties"]
        for e in resources_of_type(template, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Gateway"
    ]
    assert len(gateways) == 1
    assert _service_suffix(gateways[0]["ServiceName"]) == "s3"
    route_tables = resources_of_type(template, "AWS::EC2::RouteTable")
    assert {r["Ref"] for r in gateways[0]["RouteTableIds"]} == set(route_tables)


def test_endpoint_security_group_admits_only_https_from_the_vpc(template: dict[str, Any]) -> None:
    Template.from_json(template).has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": Match.string_like_regexp("^Interface VPC endpoints"),
            "SecurityGroupIngress": [
                {
                    "CidrIp": "10.80.0.0/16",
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "Description": "HTTPS from inside the VPC",
                }
            ],
            # CDK's placeholder rule for "no egress": 255.255.255.255/32 on ICMP type 252.
            "SecurityGroupEgress": [Match.object_like({"CidrIp": "255.255.255.255/32"})],
        },
    )


def test_workload_security_group_sends_only_https_out(template: dict[str, Any]) -> None:
    groups = [
        g["Properties"]
        for g in resources_of_type(template, "AWS::EC2::SecurityGroup").values()
        if g["Properties"]["GroupDescription"].startswith("ML workloads")
    ]
    assert len(groups) == 1
    assert groups[0].get("SecurityGroupIngress") is None
    (egress,) = groups[0]["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    # Self-references let members of a distributed job reach each other, nothing else.
    for rule_type, peer_key in (
        ("AWS::EC2::SecurityGroupIngress", "SourceSecurityGroupId"),
        ("AWS::EC2::SecurityGroupEgress", "DestinationSecurityGroupId"),
    ):
        (rule,) = resources_of_type(template, rule_type).values()
        assert rule["Properties"][peer_key] == rule["Properties"]["GroupId"]


def test_default_security_group_is_stripped_of_rules(template: dict[str, Any]) -> None:
    assert len(resources_of_type(template, "Custom::VpcRestrictDefaultSG")) == 1


def test_flow_logs_capture_all_traffic_into_an_encrypted_retained_log_group(
    template: dict[str, Any],
) -> None:
    (flow_log,) = resources_of_type(template, "AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["TrafficType"] == "ALL"
    assert flow_log["Properties"]["ResourceType"] == "VPC"
    ((group_id, group),) = resources_of_type(template, "AWS::Logs::LogGroup").items()
    assert flow_log["Properties"]["LogGroupName"] == {"Ref": group_id}
    ((key_id, key),) = resources_of_type(template, "AWS::KMS::Key").items()
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["DeletionPolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_flow_log_key_admits_cloudwatch_logs_for_this_accounts_log_groups_only(
    template: dict[str, Any],
) -> None:
    (key,) = resources_of_type(template, "AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (logs_statement,) = [
        s for s in statements if "Service" in s["Principal"] and "logs" in str(s["Principal"])
    ]
    assert "ArnLike" in logs_statement["Condition"]
    assert "kms:EncryptionContext:aws:logs:arn" in logs_statement["Condition"]["ArnLike"]


def test_sagemaker_vpc_config_names_the_workload_group_and_subnets() -> None:
    stack = new_stack()
    network = MlNetwork(stack, "Network")
    config = stack.resolve(network.sagemaker_vpc_config())
    assert len(config["Subnets"]) == 2
    (group,) = config["SecurityGroupIds"]
    assert group["Fn::GetAtt"][0].startswith("NetworkWorkloadSecurityGroup")


def test_an_existing_vpc_is_used_without_new_endpoints_by_default() -> None:
    stack = new_stack()
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.1.0.0/16",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=["subnet-aaaa", "subnet-bbbb"],
        isolated_subnet_route_table_ids=["rtb-aaaa", "rtb-bbbb"],
    )
    network = MlNetwork(stack, "Network", vpc=vpc)
    template = template_of(stack)
    assert resources_of_type(template, "AWS::EC2::VPC") == {}
    assert resources_of_type(template, "AWS::EC2::VPCEndpoint") == {}
    assert stack.resolve(network.subnet_ids) == ["subnet-aaaa", "subnet-bbbb"]
    assert len(resources_of_type(template, "AWS::EC2::FlowLog")) == 1


def test_an_existing_vpc_gets_endpoints_when_asked() -> None:
    stack = new_stack()
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.1.0.0/16",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=["subnet-aaaa", "subnet-bbbb"],
        isolated_subnet_route_table_ids=["rtb-aaaa", "rtb-bbbb"],
    )
    MlNetwork(stack, "Network", vpc=vpc, create_endpoints=True)
    endpoints = resources_of_type(template_of(stack), "AWS::EC2::VPCEndpoint")
    assert len(endpoints) == len(DEFAULT_INTERFACE_ENDPOINTS) + 1


def test_a_vpc_from_another_stack_passes_the_packs_with_a_deploy_time_cidr() -> None:
    stack = new_stack()
    other = Stack(stack.node.scope, "Other")  # type: ignore[arg-type]
    vpc = MlNetwork(other, "Shared").vpc
    network = MlNetwork(stack, "Network", vpc=vpc)
    assert network.vpc is vpc
    template = template_of(stack)
    (endpoint_group,) = [
        g["Properties"]
        for g in resources_of_type(template, "AWS::EC2::SecurityGroup").values()
        if g["Properties"]["GroupDescription"].startswith("Interface")
    ]
    # The range is only known at deploy time; the acknowledgement says so and synth passes.
    assert "Fn::GetStackOutput" in str(endpoint_group["SecurityGroupIngress"][0]["CidrIp"])


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"max_azs": 1}, "max_azs must be from 2 to 6, got 1"),
        ({"max_azs": 7}, "max_azs must be from 2 to 6, got 7"),
        ({"cidr": "10.0.0.0/8"}, r"cidr must be an IPv4 network from /16 to /24"),
        ({"cidr": "not-a-cidr"}, r"cidr must be an IPv4 network such as"),
        ({"cidr": "2001:db8::/56"}, r"cidr must be an IPv4 network from /16 to /24"),
        ({"interface_endpoints": {"bad id": ec2.InterfaceVpcEndpointAwsService.STS}}, "PascalCase"),
    ],
)
def test_invalid_props_are_rejected_at_synth_time(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MlNetwork(new_stack(), "Network", **props)

"""StudioStack next to the network, data and registry stacks: zero findings, cfn-lint clean."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from cfnlint.api import ManualArgs, lint_file

from sagemaker_lifecycle.model_registry import ModelRegistry
from stacks.config import DataConfig, NetworkConfig
from stacks.data_stack import DataStack
from stacks.network_stack import NetworkStack
from stacks.studio_stack import StudioStack
from tests.support import new_app, resources_of_type


@dataclass(frozen=True)
class Synthesized:
    stack: StudioStack
    template: dict[str, Any]
    path: Path


def _synthesize(*, with_registry: bool) -> Synthesized:
    app = new_app()
    network = NetworkStack(app, "Network", config=NetworkConfig()).network
    data_lake = DataStack(app, "Data", config=DataConfig()).data_lake
    registry = (
        ModelRegistry(Stack(app, "Registry"), "Registry", model_package_group_name="churn")
        if with_registry
        else None
    )
    stack = StudioStack(app, "Studio", data_lake=data_lake, network=network, registry=registry)
    # The compliance packs run here: any open finding fails the synthesis.
    assembly = app.synth()
    artifact = assembly.get_stack_by_name("Studio")
    return Synthesized(stack, artifact.template, Path(assembly.directory) / artifact.template_file)


@pytest.fixture(scope="module")
def synthesized() -> Synthesized:
    return _synthesize(with_registry=True)


def test_template_has_no_cfn_lint_errors_or_warnings(synthesized: Synthesized) -> None:
    matches = lint_file(synthesized.path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert matches == [], "\n".join(f"{m.rule.id} {m.message}" for m in matches)


def test_one_vpc_only_domain_with_two_user_profiles(synthesized: Synthesized) -> None:
    (domain,) = resources_of_type(synthesized.template, "AWS::SageMaker::Domain").values()
    assert domain["Properties"]["AppNetworkAccessType"] == "VpcOnly"
    assert domain["Properties"]["AuthMode"] == "IAM"
    assert domain["DeletionPolicy"] == "Retain"
    # The VPC and subnets come from the network stack.
    assert "Network" in json.dumps(domain["Properties"]["VpcId"])
    profiles = resources_of_type(synthesized.template, "AWS::SageMaker::UserProfile")
    names = sorted(p["Properties"]["UserProfileName"] for p in profiles.values())
    assert names == ["data-scientist", "ml-engineer"]
    # Persona tags follow users' resources into cost reports.
    assert domain["Properties"]["TagPropagation"] == "ENABLED"
    for profile in profiles.values():
        tags = {t["Key"]: t["Value"] for t in profile["Properties"]["Tags"]}
        assert tags["persona"] == profile["Properties"]["UserProfileName"]


def test_users_may_choose_an_idle_timeout_up_to_a_working_day(synthesized: Synthesized) -> None:
    (domain,) = resources_of_type(synthesized.template, "AWS::SageMaker::Domain").values()
    idle = domain["Properties"]["DefaultUserSettings"]["JupyterLabAppSettings"][
        "AppLifecycleManagement"
    ]["IdleSettings"]
    assert idle == {
        "LifecycleManagement": "ENABLED",
        "IdleTimeoutInMinutes": 60,
        "MinIdleTimeoutInMinutes": 60,
        "MaxIdleTimeoutInMinutes": 480,
    }


def test_tracking_server_registers_into_the_registry_and_is_reachable_privately(
    synthesized: Synthesized,
) -> None:
    (server,) = resources_of_type(
        synthesized.template, "AWS::SageMaker::MlflowTrackingServer"
    ).values()
    assert server["Properties"]["AutomaticModelRegistration"] is True
    assert server["Properties"]["WeeklyMaintenanceWindowStart"] == "Sun:03:00"
    assert server["DeletionPolicy"] == "Retain"
    (endpoint,) = resources_of_type(synthesized.template, "AWS::EC2::VPCEndpoint").values()
    assert ".experiments" in json.dumps(endpoint["Properties"]["ServiceName"])


def test_studio_users_may_use_the_tracking_server(synthesized: Synthesized) -> None:
    role_arn = synthesized.stack.studio_domain.execution_role.role_arn
    role_id = synthesized.stack.resolve(role_arn)["Fn::GetAtt"][0]
    policies = [
        p
        for p in resources_of_type(synthesized.template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    (mlflow,) = [s for s in statements if "sagemaker-mlflow:*" in s["Action"]]
    assert mlflow["Resource"]["Fn::GetAtt"][1] == "TrackingServerArn"


def test_without_a_registry_the_server_does_not_register_models() -> None:
    synthesized = _synthesize(with_registry=False)
    (server,) = resources_of_type(
        synthesized.template, "AWS::SageMaker::MlflowTrackingServer"
    ).values()
    assert server["Properties"]["AutomaticModelRegistration"] is False
    assert "ModelPackage" not in json.dumps(synthesized.template)

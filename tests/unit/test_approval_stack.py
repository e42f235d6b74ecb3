"""ApprovalStack in an app next to the network and data stacks: no open findings, cfn-lint clean."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from cfnlint.api import ManualArgs, lint_file

from sagemaker_lifecycle import add_compliance_checks
from sagemaker_lifecycle.model_card import IntendedUses, RiskRating
from sagemaker_lifecycle.model_registry import ModelRegistry
from stacks.approval_stack import ApprovalStack
from stacks.config import DataConfig, NetworkConfig
from stacks.data_stack import DataStack
from stacks.network_stack import NetworkStack
from tests.support import cdk_json_context, resources_of_type

ENDPOINT = "churn-prod"


@dataclass(frozen=True)
class Synthesized:
    path: Path
    template: dict[str, Any]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("approval-app")
    app = App(outdir=str(outdir), context=cdk_json_context())
    add_compliance_checks(app)
    network = NetworkStack(app, "Ml-dev-Network", config=NetworkConfig())
    DataStack(app, "Ml-dev-Data", config=DataConfig())
    registry_stack = Stack(app, "Ml-dev-Registry")
    registry = ModelRegistry(registry_stack, "Registry", model_package_group_name="churn-model")
    # Stands in for the serving stack: the spec's role and key come from another stack.
    serving = Stack(app, "Ml-dev-Serving")
    role = iam.Role(
        serving, "ModelRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
    )
    key = kms.Key(serving, "EndpointKey", enable_key_rotation=True)
    spec = {
        "EndpointName": ENDPOINT,
        "Model": {
            "ExecutionRoleArn": role.role_arn,
            "VpcConfig": network.network.sagemaker_vpc_config(),
            "EnableNetworkIsolation": True,
        },
        "EndpointConfig": {
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 2,
                    "InitialVariantWeight": 1.0,
                }
            ],
            "KmsKeyId": key.key_arn,
        },
        "DeploymentConfig": {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE"},
                "MaximumExecutionTimeoutInSeconds": 3600,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-prod-5xx"}]},
        },
    }
    approval = ApprovalStack(
        app,
        "Ml-dev-Approval",
        registry=registry,
        endpoint_name=ENDPOINT,
        deployment_spec=spec,
        network=network.network,
        approver_emails=["ml-approvers@example.com"],
        intended_uses=IntendedUses(RiskRating.MEDIUM, intended_uses="Retention offers"),
    )
    assembly = app.synth()  # the compliance packs fail synthesis on any open finding
    artifact = assembly.get_stack_by_name(approval.stack_name)
    return Synthesized(path=Path(artifact.template_full_path), template=artifact.template)


def test_the_stack_holds_the_flow_and_the_model_card(app: Synthesized) -> None:
    template = app.template
    assert len(resources_of_type(template, "AWS::Events::Rule")) == 3
    (function,) = resources_of_type(template, "AWS::Lambda::Function").values()
    assert function["Properties"]["VpcConfig"]["SubnetIds"]
    (card,) = resources_of_type(template, "AWS::SageMaker::ModelCard").values()
    (key_id,) = resources_of_type(template, "AWS::KMS::Key")
    assert card["Properties"]["SecurityConfig"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_the_spec_is_built_from_the_other_stacks_values(app: Synthesized) -> None:
    (function,) = resources_of_type(app.template, "AWS::Lambda::Function").values()
    spec = json.dumps(function["Properties"]["Environment"]["Variables"]["DEPLOYMENT_SPEC"])
    # The role, key, subnets and security group come from other stacks' outputs.
    assert spec.count("Fn::GetStackOutput") + spec.count("Fn::ImportValue") >= 4


# Warnings CDK itself generates; each pattern says why.
ALLOWED_WARNINGS = [
    # aws_lambda.Function adds an explicit DependsOn on its role (and the role's default
    # policy) next to the GetAtt of the role's ARN.
    ("W3005", re.compile(r"^'ApprovalFlowDeployerRole\w+' dependency already enforced")),
]


def test_cfn_lint_finds_no_errors_and_only_cdk_warnings(app: Synthesized) -> None:
    matches = lint_file(app.path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    unexpected = [
        m
        for m in matches
        if not any(
            m.rule.id == rule and pattern.search(m.message) for rule, pattern in ALLOWED_WARNINGS
        )
    ]
    assert unexpected == [], "\n".join(f"{m.rule.id} {m.message}" for m in unexpected)

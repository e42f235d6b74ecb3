"""ExecutionRole: least privilege per job kind; "*" only for actions without resource ARNs."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_iam as iam

from sagemaker_lifecycle import DataLake, MlNetwork, Zone
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from sagemaker_lifecycle.execution_roles import (
    WILDCARD_RESOURCE_ACTIONS,
    ExecutionRole,
    JobKind,
)
from sagemaker_lifecycle.pipelines import LakeLocation
from tests.support import new_stack, resources_of_type, template_of


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    network = MlNetwork(stack, "Network")
    training = ExecutionRole(
        stack,
        "Training",
        kind=JobKind.TRAINING,
        key=lake.key,
        network=network,
        read=[LakeLocation(lake, Zone.CURATED, "churn/prepared/")],
        write=[LakeLocation(lake, Zone.ARTIFACTS, "churn/models/")],
    )
    pipeline_role = iam.Role(
        stack, "Caller", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
    )
    training.grant_pass_role(pipeline_role)
    ExecutionRole(stack, "Processing", kind=JobKind.PROCESSING)
    acknowledge_inline_policy(pipeline_role)
    return template_of(stack)


def _statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in resources_of_type(template, "AWS::IAM::Policy").values():
        if any(r["Ref"].startswith(role_prefix) for r in policy["Properties"]["Roles"]):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in _as_list(s["Action"])}


def test_no_action_is_a_wildcard_and_star_resources_only_for_the_allowlist(
    template: dict[str, Any],
) -> None:
    for statement in _statements(template, "Training") + _statements(template, "Processing"):
        actions = _as_list(statement["Action"])
        assert "*" not in actions
        assert not any(a.endswith(":*") for a in actions)
        if "*" in _as_list(statement["Resource"]):
            assert set(actions) <= WILDCARD_RESOURCE_ACTIONS, actions


def test_the_role_is_assumed_by_sagemaker_only(template: dict[str, Any]) -> None:
    roles = resources_of_type(template, "AWS::IAM::Role")
    (role,) = [r for k, r in roles.items() if k.startswith("TrainingRole")]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}


def test_data_access_is_scoped_to_the_given_prefixes(template: dict[str, Any]) -> None:
    text = str(_statements(template, "Training"))
    assert "/churn/prepared/*" in text
    assert "/churn/models/*" in text
    assert "RawBucket" not in text


def test_logs_are_limited_to_the_kinds_log_group(template: dict[str, Any]) -> None:
    (logs,) = [s for s in _statements(template, "Training") if "logs:PutLogEvents" in s["Action"]]
    text = str(logs["Resource"])
    assert ":log-group:/aws/sagemaker/TrainingJobs" in text
    assert "ProcessingJobs" not in text
    (processing,) = [
        s for s in _statements(template, "Processing") if "logs:PutLogEvents" in s["Action"]
    ]
    assert ":log-group:/aws/sagemaker/ProcessingJobs" in str(processing["Resource"])


def test_metrics_are_limited_to_sagemaker_namespaces(template: dict[str, Any]) -> None:
    (metrics,) = [
        s for s in _statements(template, "Training") if s["Action"] == "cloudwatch:PutMetricData"
    ]
    assert metrics["Condition"]["StringLike"]["cloudwatch:namespace"] == [
        "/aws/sagemaker/*",
        "aws/sagemaker/*",
    ]


def test_images_are_pulled_only_from_the_framework_repositories(
    template: dict[str, Any],
) -> None:
    (pull,) = [s for s in _statements(template, "Training") if "ecr:BatchGetImage" in s["Action"]]
    text = str(pull["Resource"])
    assert "SageMakerFrameworkRegistries" in text
    assert "repository/sagemaker-xgboost" in text
    assert "sagemaker-scikit-learn" not in text
    processing = str(_statements(template, "Processing"))
    assert "repository/sagemaker-scikit-learn" in processing


def test_the_volume_key_grant_is_only_for_aws_resources(template: dict[str, Any]) -> None:
    (grant,) = [s for s in _statements(template, "Training") if s["Action"] == "kms:CreateGrant"]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert "LakeKey" in str(grant["Resource"])


def test_eni_permissions_are_scoped_to_the_network(template: dict[str, Any]) -> None:
    statements = _statements(template, "Training")
    (create,) = [s for s in statements if s["Action"] == "ec2:CreateNetworkInterface"]
    text = str(create["Resource"])
    assert ":subnet/" in text
    assert ":security-group/" in text
    assert "network-interface/*" in text
    (manage,) = [s for s in statements if "ec2:DeleteNetworkInterface" in _as_list(s["Action"])]
    assert "ec2:Vpc" in manage["Condition"]["ArnEquals"]


def test_a_role_without_network_gets_no_ec2_permissions(template: dict[str, Any]) -> None:
    assert not any(a.startswith("ec2:") for a in _actions(_statements(template, "Processing")))


def test_pass_role_is_limited_to_sagemaker(template: dict[str, Any]) -> None:
    (passing,) = [s for s in _statements(template, "Caller") if s["Action"] == "iam:PassRole"]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert passing["Resource"]["Fn::GetAtt"][0].startswith("TrainingRole")


def test_a_callers_role_is_used_and_granted() -> None:
    stack = new_stack()
    existing = iam.Role.from_role_arn(
        stack, "Existing", "arn:aws:iam::111111111111:role/platform-training"
    )
    role = ExecutionRole(stack, "Training", kind=JobKind.TRAINING, role=existing)
    assert role.role is existing
    template = template_of(stack)
    (policy,) = resources_of_type(template, "AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == ["platform-training"]
    assert resources_of_type(template, "AWS::IAM::Role") == {}

"""ModelRegistry: the group, its ARNs, the cross-account policy, grants, event patterns."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from sagemaker_lifecycle._internal.nag import (
    acknowledge_each,
    acknowledge_inline_policy,
    in_all_packs,
)
from sagemaker_lifecycle.model_registry import MODEL_PACKAGE_STATE_CHANGE, ModelRegistry
from tests.support import new_stack, resources_of_type, template_of

GROUP = "Churn-Model"


def _arn(stack: Stack, value: str) -> str:
    """A resolved ``Fn::Join`` ARN as text, pseudo parameters shown as ``${Name}``."""
    resolved = stack.resolve(value)
    parts = resolved["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "${" + p["Ref"] + "}" for p in parts)


@pytest.fixture(scope="module")
def shared() -> tuple[dict[str, Any], Stack]:
    stack = new_stack()
    registry = ModelRegistry(
        stack,
        "Registry",
        model_package_group_name=GROUP,
        description="Churn models",
        shared_with_accounts=["111111111111", "222222222222"],
        shared_with_organization="o-a1b2c3d4e5",
        tags={"team": "risk"},
    )
    for role_id, grant in (
        ("Pipeline", registry.grant_register),
        ("Approver", registry.grant_approve),
        ("Deployer", registry.grant_deploy),
        ("Reader", registry.grant_read),
    ):
        role = iam.Role(stack, role_id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        grant(role)
        acknowledge_inline_policy(role)
    queue = sqs.Queue(stack, "Approvals", enforce_ssl=True)
    registry.on_model_package_state_change(
        "OnApproved", target=targets.SqsQueue(queue), approval_statuses=["Approved"]
    )
    acknowledge_each(
        queue,
        ["AwsSolutions-SQS3", *in_all_packs("SQSQueueSSE")],
        "A throwaway queue that only receives the rule's events in this unit test.",
    )
    return template_of(stack), stack


@pytest.fixture(scope="module")
def template(shared: tuple[dict[str, Any], Stack]) -> dict[str, Any]:
    return shared[0]


def _group(template: dict[str, Any]) -> dict[str, Any]:
    (group,) = resources_of_type(template, "AWS::SageMaker::ModelPackageGroup").values()
    return group  # type: ignore[no-any-return]


def _statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in resources_of_type(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith(role_id)
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def _flat(value: Any) -> str:
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_flat(p) for p in value["Fn::Join"][1])
    if isinstance(value, dict) and "Ref" in value:
        return "${" + str(value["Ref"]) + "}"
    return str(value)


def test_group_has_name_description_tags_and_is_retained(template: dict[str, Any]) -> None:
    group = _group(template)
    assert group["Properties"]["ModelPackageGroupName"] == GROUP
    assert group["Properties"]["ModelPackageGroupDescription"] == "Churn models"
    assert {"Key": "team", "Value": "risk"} in group["Properties"]["Tags"]
    assert group["DeletionPolicy"] == "Retain"
    assert group["UpdateReplacePolicy"] == "Retain"


def test_arns_keep_the_case_of_the_group_name() -> None:
    """SageMaker keeps the name's case in these ARNs, and IAM compares them case-sensitively."""
    stack = new_stack()
    registry = ModelRegistry(stack, "Registry", model_package_group_name=GROUP)
    assert _arn(stack, registry.model_package_group_arn).endswith(
        ":sagemaker:${AWS::Region}:${AWS::AccountId}:model-package-group/Churn-Model"
    )
    assert _arn(stack, registry.model_package_arn_pattern).endswith(":model-package/Churn-Model/*")


def test_resource_policy_follows_the_cross_account_deployment_example(
    template: dict[str, Any],
) -> None:
    policy = _group(template)["Properties"]["ModelPackageGroupPolicy"]
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {
        "ShareGroupWithAccounts",
        "ShareVersionsWithAccounts",
        "ShareGroupWithOrganization",
        "ShareVersionsWithOrganization",
    }
    for sid in ("ShareGroupWithAccounts", "ShareGroupWithOrganization"):
        assert statements[sid]["Action"] == ["sagemaker:DescribeModelPackageGroup"]
        assert _flat(statements[sid]["Resource"]).endswith(":model-package-group/Churn-Model")
    for sid in ("ShareVersionsWithAccounts", "ShareVersionsWithOrganization"):
        assert statements[sid]["Action"] == [
            "sagemaker:DescribeModelPackage",
            "sagemaker:ListModelPackages",
            "sagemaker:CreateModel",
        ]
        assert _flat(statements[sid]["Resource"]).endswith(":model-package/Churn-Model/*")
    principals = statements["ShareVersionsWithAccounts"]["Principal"]["AWS"]
    assert [_flat(p) for p in principals] == [
        "arn:${AWS::Partition}:iam::111111111111:root",
        "arn:${AWS::Partition}:iam::222222222222:root",
    ]
    org = statements["ShareVersionsWithOrganization"]
    assert org["Principal"] == {"AWS": "*"}
    assert org["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}
    for statement in policy["Statement"]:
        assert "sagemaker:UpdateModelPackage" not in statement["Action"]


def test_no_resource_policy_unless_shared() -> None:
    stack = new_stack()
    ModelRegistry(stack, "Registry", model_package_group_name="churn")
    group = _group(template_of(stack))
    assert "ModelPackageGroupPolicy" not in group["Properties"]
    assert "Tags" not in group["Properties"]


@pytest.mark.parametrize(
    ("role_id", "actions", "group_too"),
    [
        ("Pipeline", ["sagemaker:AddTags", "sagemaker:CreateModelPackage"], True),
        ("Approver", ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"], False),
        ("Deployer", ["sagemaker:CreateModel", "sagemaker:DescribeModelPackage"], False),
        (
            "Reader",
            ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
            True,
        ),
    ],
)
def test_grants_are_scoped_to_the_group_and_its_versions(
    template: dict[str, Any], role_id: str, actions: list[str], group_too: bool
) -> None:
    statements = _statements(template, role_id)
    scoped = [s for s in statements if s["Resource"] != "*"]
    (statement,) = scoped
    assert sorted(statement["Action"]) == actions
    resources = (
        statement["Resource"]
        if isinstance(statement["Resource"], list)
        else [statement["Resource"]]
    )
    flat = sorted(_flat(r).rsplit(":", 1)[1] for r in resources)
    expected = ["model-package/Churn-Model/*"] + (
        ["model-package-group/Churn-Model"] if group_too else []
    )
    assert flat == sorted(expected)


def test_only_list_model_packages_is_granted_on_star(template: dict[str, Any]) -> None:
    for role_id in ("Pipeline", "Approver", "Deployer", "Reader"):
        star = [s for s in _statements(template, role_id) if s["Resource"] == "*"]
        assert star == (
            [{"Action": "sagemaker:ListModelPackages", "Effect": "Allow", "Resource": "*"}]
            if role_id == "Reader"
            else []
        )


def test_state_change_pattern_matches_approval_changes_of_this_group_only(
    template: dict[str, Any],
) -> None:
    (rule,) = resources_of_type(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
        "detail": {
            "ModelPackageGroupName": [GROUP],
            "ModelApprovalStatus": ["Approved"],
            "UpdatedModelPackageFields": ["ModelApprovalStatus", {"exists": False}],
        },
    }


def _doc_event(group: str, status: str, fields: list[str] | None) -> dict[str, Any]:
    """The example event of the SageMaker Developer Guide ("Model package state change")."""
    detail: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelPackageVersion": 2,
        "ModelPackageArn": f"arn:aws:sagemaker:us-east-2:123456789012:model-package/{group}/2",
        "CreationTime": "2021-02-24T17:00:14Z",
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": status,
        "ModelMetrics": {"ModelQuality": {"Statistics": {"S3Uri": "s3://b/evaluation.json"}}},
    }
    if fields is not None:
        detail["UpdatedModelPackageFields"] = fields
    return detail


@pytest.mark.parametrize(
    ("event", "matches"),
    [
        ((GROUP, "Approved", ["ModelApprovalStatus"]), True),
        ((GROUP, "Approved", ["ModelApprovalStatus", "ApprovalDescription"]), True),
        ((GROUP, "Approved", None), True),  # registered already approved
        ((GROUP, "Approved", ["CustomerMetadataProperties"]), False),  # metadata edit
        ((GROUP, "Rejected", ["ModelApprovalStatus"]), False),
        (("Fraud-Model", "Approved", ["ModelApprovalStatus"]), False),
        (("churn-model", "Approved", ["ModelApprovalStatus"]), False),
    ],
)
def test_state_change_pattern_against_eventbridge_matching_in_moto(
    monkeypatch: pytest.MonkeyPatch,
    template: dict[str, Any],
    event: tuple[str, str, list[str] | None],
    matches: bool,
) -> None:
    """moto's EventBridge matcher stands in for AWS's: the synthesized rule -> SQS, PutEvents."""
    (rule,) = resources_of_type(template, "AWS::Events::Rule").values()
    rule_pattern = rule["Properties"]["EventPattern"]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs_client = boto3.client("sqs", region_name="us-east-1")
        url = sqs_client.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs_client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(Name="r", EventPattern=json.dumps(rule_pattern))
        events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
        events.put_events(
            Entries=[
                {
                    "Source": "aws.sagemaker",
                    "DetailType": MODEL_PACKAGE_STATE_CHANGE,
                    "Detail": json.dumps(_doc_event(*event)),
                }
            ]
        )
        received = sqs_client.receive_message(QueueUrl=url).get("Messages", [])
    assert bool(received) is matches


def test_a_pattern_on_every_field_change_can_be_asked_for() -> None:
    stack = new_stack()
    registry = ModelRegistry(stack, "R", model_package_group_name="churn")
    pattern = registry.model_package_state_change_pattern(approval_status_changes_only=False)
    assert pattern.detail == {"ModelPackageGroupName": ["churn"]}


def test_imported_group_grants_on_its_name() -> None:
    stack = new_stack()
    registry = ModelRegistry.from_model_package_group_name(stack, "Imported", "existing-group")
    role = iam.Role(stack, "Deployer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    registry.grant_deploy(role)
    acknowledge_inline_policy(role)
    template = template_of(stack)
    assert resources_of_type(template, "AWS::SageMaker::ModelPackageGroup") == {}
    (statement,) = _statements(template, "Deployer")
    assert _flat(statement["Resource"]).endswith(":model-package/existing-group/*")


def test_removal_policy_can_be_changed() -> None:
    stack = new_stack()
    ModelRegistry(
        stack, "Registry", model_package_group_name="scratch", removal_policy=RemovalPolicy.DESTROY
    )
    assert _group(template_of(stack))["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"model_package_group_name": "churn_model"}, "model_package_group_name must match"),
        ({"model_package_group_name": "a" * 64}, "model_package_group_name must be 1 to 63"),
        ({"model_package_group_name": "-churn"}, "model_package_group_name"),
        ({"description": "x" * 1025}, "description must be at most 1024 characters, got 1025"),
        (
            {"shared_with_accounts": ["12345"]},
            "shared_with_accounts must hold 12-digit account ids, got '12345'",
        ),
        (
            {"shared_with_organization": "org-1"},
            "shared_with_organization must be an organization id",
        ),
        ({"tags": {"aws:owner": "x"}}, "tags key 'aws:owner'"),
        ({"tags": {"team": "a" * 257}}, "tags value"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags must hold at most 50, got 51"),
    ],
)
def test_invalid_props_are_rejected_at_synth_time(props: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"model_package_group_name": "churn", **props}
    with pytest.raises(ValueError, match=message):
        ModelRegistry(new_stack(), "Registry", **values)


def test_an_unknown_approval_status_in_a_pattern_is_rejected() -> None:
    stack = new_stack()
    registry = ModelRegistry(stack, "R", model_package_group_name="churn")
    with pytest.raises(ValueError, match="approval_statuses must hold values of"):
        registry.model_package_state_change_pattern(["Deployed"])


def test_an_invalid_imported_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="model_package_group_name"):
        ModelRegistry.from_model_package_group_name(new_stack(), "I", "bad_name")


_VALID = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_NAME = st.from_regex(r"[a-zA-Z0-9](-?[a-zA-Z0-9]){0,30}", fullmatch=True)


@settings(max_examples=30, deadline=None)
@given(name=_NAME)
def test_any_valid_group_name_is_used_verbatim_in_its_arns(name: str) -> None:
    stack = new_stack()
    registry = ModelRegistry(stack, "R", model_package_group_name=name)
    assert _arn(stack, registry.model_package_group_arn).endswith(f":model-package-group/{name}")
    assert _arn(stack, registry.model_package_arn_pattern).endswith(f":model-package/{name}/*")


@settings(max_examples=30, deadline=None)
@given(name=st.text(min_size=1, max_size=70).filter(lambda s: not _VALID.fullmatch(s)))
def test_any_name_outside_the_api_pattern_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="model_package_group_name"):
        ModelRegistry(new_stack(), "R", model_package_group_name=name)

"""The quality gate: the three packs run, open findings fail synthesis, reasons are required."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from sagemaker_lifecycle import DataLake, Zone
from sagemaker_lifecycle._internal.nag import (
    acknowledge,
    acknowledge_inline_policy,
    flatten_cfn_reference,
    wildcard_findings,
)
from tests.support import new_stack


def test_an_unacknowledged_finding_fails_synthesis_in_every_pack() -> None:
    stack = new_stack()
    s3.Bucket(stack, "Plain")
    with pytest.raises(RuntimeError, match="ValidationFailed") as error:
        Template.from_stack(stack)
    message = str(error.value)
    for rule in (
        "AwsSolutions-S10",
        "HIPAA.Security-S3DefaultEncryptionKMS",
        "NIST.800.53.R5-S3BucketSSLRequestsOnly",
    ):
        assert rule in message


def test_an_acknowledged_finding_passes_and_is_recorded_with_its_reason() -> None:
    stack = new_stack()
    queue = sqs.Queue(stack, "Queue", encryption=sqs.QueueEncryption.KMS_MANAGED, enforce_ssl=True)
    reason = "A test queue that only exists to show acknowledgements reach the validation report"
    acknowledge(queue, "AwsSolutions-SQS3", reason)
    Template.from_stack(stack)  # raises on any open finding
    recorded = json.dumps([entry.data for entry in queue.node.metadata])
    assert "AwsSolutions-SQS3" in recorded
    assert reason in recorded


@pytest.mark.parametrize(
    "rule_id", ["IAM5", "AwsSolutions", "awssolutions-IAM5", "CdkNag-IAM5", "AwsSolutions-IAM5[]"]
)
def test_acknowledge_rejects_ids_that_are_not_findings(rule_id: str) -> None:
    with pytest.raises(ValueError, match="rule_id"):
        acknowledge(new_stack(), rule_id, "a reason long enough to pass the reason check, surely")


@pytest.mark.parametrize("reason", ["", "ok", "n/a", "needed", "TODO: explain later"])
def test_acknowledge_requires_a_specific_reason(reason: str) -> None:
    with pytest.raises(ValueError, match="reason"):
        acknowledge(new_stack(), "AwsSolutions-S1", reason)


def _role_with_lake_grant(*, extra_wildcard: bool) -> Stack:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    acknowledge_inline_policy(role)
    lake.grant_read(role, Zone.RAW, "input/")
    if extra_wildcard:
        role.add_to_policy(iam.PolicyStatement(actions=["sagemaker:*"], resources=["*"]))
    return stack


def test_grant_acknowledges_only_its_own_wildcards() -> None:
    Template.from_stack(_role_with_lake_grant(extra_wildcard=False))  # acknowledged: passes
    with pytest.raises(RuntimeError) as error:
        Template.from_stack(_role_with_lake_grant(extra_wildcard=True))
    assert "AwsSolutions-IAM5[Action::sagemaker:*]" in str(error.value)
    assert "AwsSolutions-IAM5[Resource::*]" in str(error.value)
    assert "s3:GetObject*" not in str(error.value)


def test_flatten_matches_cdk_nag_rendering() -> None:
    assert flatten_cfn_reference({"Fn::GetAtt": ["Bucket", "Arn"]}) == "<Bucket.Arn>"
    assert flatten_cfn_reference({"Ref": "AWS::Region"}) == "<AWS::Region>"
    assert (
        flatten_cfn_reference("arn:${AWS::Partition}:s3:::x/*") == "arn:<AWS::Partition>:s3:::x/*"
    )
    assert (
        flatten_cfn_reference({"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/p/*"]]})
        == "<B.Arn>/p/*"
    )
    assert flatten_cfn_reference({"Fn::ImportValue": "Stack:Export"}) == "Stack:Export"
    assert flatten_cfn_reference({"Fn::GetStackOutput": {"StackName": "A"}}) == (
        '{"Fn::GetStackOutput":{"StackName":"A"}}'
    )


def test_wildcard_findings_ignore_denies_and_plain_names() -> None:
    assert wildcard_findings({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}) == []
    assert wildcard_findings(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"], "Resource": "arn:x/*"}
    ) == ["AwsSolutions-IAM5[Action::s3:List*]", "AwsSolutions-IAM5[Resource::arn:x/*]"]

"""The helpers every construct shares: API limits, schedules, images, topics and queues."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Match, Template
from hypothesis import given
from hypothesis import strategies as st

from sagemaker_lifecycle._internal.messaging import dead_letter_queue, encrypted_topic
from sagemaker_lifecycle._internal.sagemaker_api import check_enum, check_name, enum_values
from sagemaker_lifecycle._internal.schedules import parse_schedule
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.images import FRAMEWORK_REGISTRIES, Framework, image_uri
from tests.support import new_stack, resources_of_type, template_of


def _errors_of(check: object, *args: object) -> list[str]:
    errors = ValidationErrors("Test")
    check(errors, *args)  # type: ignore[operator]
    return errors._errors


def test_instance_types_come_from_the_api_model() -> None:
    allowed = enum_values("ProductionVariantInstanceType")
    assert "ml.m5.large" in allowed
    assert "ml.m5.lage" not in allowed
    assert (
        _errors_of(check_enum, "instance_type", "ml.m5.large", "ProductionVariantInstanceType")
        == []
    )
    (message,) = _errors_of(
        check_enum, "instance_type", "ml.m5.lage", "ProductionVariantInstanceType"
    )
    assert "instance_type 'ml.m5.lage'" in message
    assert "ml.m5.xlarge" in message  # values of the same family are suggested


def test_names_follow_the_api_pattern_and_length() -> None:
    assert _errors_of(check_name, "endpoint_name", "churn-prod-1", "EndpointName") == []
    assert "must match" in _errors_of(check_name, "endpoint_name", "churn_prod", "EndpointName")[0]
    assert "1 to 63 characters" in _errors_of(check_name, "p", "a" * 64, "EntityName")[0]


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "rate(5 minutes)",
        "rate(2 days)",
        "cron(0 * * * ? *)",
        "cron(15 2 ? * MON-FRI *)",
        "cron(0 6 1 * ? *)",
        "cron(0/30 8-17 ? * 2#1 *)",
        "cron(0 0 L * ? 2030)",
        "at(2030-01-01T00:00:00)",
    ],
)
def test_valid_schedule_expressions_parse(expression: str) -> None:
    assert parse_schedule(expression).expression == expression


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("rate(0 hours)", "at least 1"),
        ("rate(1 hours)", "'hour' for a value of 1"),
        ("rate(2 hour)", "'hours' otherwise"),
        ("rate(1 week)", "must be rate"),
        ("cron(0 * * * *)", "6 fields"),
        ("cron(60 * * * ? *)", "minutes '60' is outside 0-59"),
        ("cron(0 24 * * ? *)", "hours '24' is outside 0-23"),
        ("cron(0 0 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 0 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 0 ? * MON#6 *)", "nth-weekday"),
        ("cron(0 0 32 * ? *)", "day-of-month '32'"),
        ("0 * * * *", "must be rate"),
    ],
)
def test_invalid_schedule_expressions_say_why(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_schedule(expression)


@given(minute=st.integers(0, 59), hour=st.integers(0, 23))
def test_any_daily_cron_parses(minute: int, hour: int) -> None:
    parsed = parse_schedule(f"cron({minute} {hour} * * ? *)")
    assert parsed.cron_fields[:2] == (str(minute), str(hour))


def test_image_uri_of_an_agnostic_stack_uses_one_region_mapping() -> None:
    stack = new_stack()
    sklearn = image_uri(stack, Framework.SKLEARN)
    first = stack.resolve(sklearn)
    # A resource that uses the image, so the mapping is referenced as a real template would.
    ssm.StringParameter(stack, "Image", string_value=sklearn)
    ssm.StringParameter(stack, "Other", string_value=image_uri(stack, Framework.XGBOOST))
    assert first["Fn::Join"][1][0] == {
        "Fn::FindInMap": ["SageMakerFrameworkRegistries", {"Ref": "AWS::Region"}, "account"]
    }
    mappings = Template.from_stack(stack).to_json()["Mappings"]
    assert list(mappings) == ["SageMakerFrameworkRegistries"]
    assert mappings["SageMakerFrameworkRegistries"]["eu-west-1"] == {"account": "141502667606"}


def test_image_uri_of_a_pinned_region_is_literal() -> None:
    stack = Stack(App(), "S", env=Environment(account="111111111111", region="us-east-1"))
    resolved = stack.resolve(image_uri(stack, Framework.XGBOOST))
    assert resolved["Fn::Join"][1][0].startswith(FRAMEWORK_REGISTRIES["us-east-1"])
    assert resolved["Fn::Join"][1][-1] == "/sagemaker-xgboost:1.7-1"


def test_image_uri_of_an_unknown_region_is_rejected() -> None:
    stack = Stack(App(), "S", env=Environment(account="111111111111", region="xx-nowhere-1"))
    with pytest.raises(ValueError, match="no SageMaker framework registry"):
        image_uri(stack, Framework.SKLEARN)


def test_topics_and_dead_letter_queues_are_encrypted_and_tls_only() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    encrypted_topic(stack, "Topic", key=key)
    dead_letter_queue(stack, "Dlq", key=key)
    template = template_of(stack)
    (topic,) = resources_of_type(template, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (queue,) = resources_of_type(template, "AWS::SQS::Queue").values()
    assert "KmsMasterKeyId" in queue["Properties"]
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["DeletionPolicy"] == "Retain"
    for policy_type in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"):
        Template.from_json(template).has_resource_properties(
            policy_type,
            {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                }
            },
        )

"""AsyncEndpoint: S3 paths in the data lake, encrypted topics, backlog scaling to zero."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import DataLake, MlNetwork
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.images import Framework
from sagemaker_lifecycle.serving import (
    AsyncEndpoint,
    AsyncScaling,
    AutoScaling,
    DataCapture,
    EndpointAlarm,
    InferenceImage,
    ModelSource,
    ProductionVariant,
    ScheduledScaling,
)
from sagemaker_lifecycle.serving.async_endpoint import _validate_scaling
from tests.support import new_stack, resources_of_type, template_of


@dataclass
class Synthesized:
    stack: Stack
    template: dict[str, Any]
    endpoint: AsyncEndpoint
    fixed: AsyncEndpoint
    client: iam.Role

    def of(self, construct: Any) -> dict[str, Any]:
        resource: dict[str, Any] = self.template["Resources"][
            self.stack.resolve((construct.node.default_child or construct).logical_id)
        ]
        return resource

    def of_id(self, construct: Any) -> str:
        return str(self.stack.resolve((construct.node.default_child or construct).logical_id))

    def policies(self, role_prefix: str) -> list[dict[str, Any]]:
        statements: list[dict[str, Any]] = []
        for policy in resources_of_type(self.template, "AWS::IAM::Policy").values():
            if any(r["Ref"].startswith(role_prefix) for r in policy["Properties"]["Roles"]):
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
        return statements


def _source(stack: Stack) -> ModelSource:
    return ModelSource.from_artifacts(
        InferenceImage.from_framework(stack, Framework.XGBOOST),
        "models/churn/bootstrap/model.tar.gz",
    )


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    network = MlNetwork(stack, "Network")
    endpoint = AsyncEndpoint(
        stack,
        "Scoring",
        model_source=_source(stack),
        data_lake=lake,
        network=network,
        endpoint_name="churn-async",
        variant=ProductionVariant(instance_type="ml.c5.xlarge"),
        max_concurrent_invocations_per_instance=4,
        include_inference_response_in=("SUCCESS_NOTIFICATION_TOPIC",),
        scaling=AsyncScaling(
            max_capacity=3,
            backlog_per_instance=8,
            schedules=(ScheduledScaling("Nightly", "cron(0 1 * * ? *)", min_capacity=1),),
        ),
    )
    key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
    success = sns.Topic(stack, "OwnSuccess", master_key=key, enforce_ssl=True)
    fixed = AsyncEndpoint(
        stack,
        "Fixed",
        model_source=_source(stack),
        data_lake=lake,
        scaling=None,
        success_topic=success,
        s3_prefix="batch/scores",
        data_capture=DataCapture(sampling_percentage=10),
    )
    client = iam.Role(stack, "Client", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    endpoint.grant_invoke(client)
    acknowledge_inline_policy(client)
    return Synthesized(stack, template_of(stack), endpoint, fixed, client)


def test_results_and_failures_go_to_the_capture_zone_encrypted_with_the_lake_key(
    synth: Synthesized,
) -> None:
    output = synth.of(synth.endpoint.cfn_endpoint_config)["Properties"]["AsyncInferenceConfig"][
        "OutputConfig"
    ]
    for member, folder in (("S3OutputPath", "output"), ("S3FailurePath", "failures")):
        parts = output[member]["Fn::Join"][1]
        assert parts[1]["Ref"].startswith("LakeCaptureBucket")
        assert parts[-1] == f"/async/churn-async/{folder}/"
    assert output["KmsKeyId"]["Fn::GetAtt"][0].startswith("LakeKey")


def test_success_and_error_topics_are_kms_encrypted(synth: Synthesized) -> None:
    notification = synth.of(synth.endpoint.cfn_endpoint_config)["Properties"][
        "AsyncInferenceConfig"
    ]["OutputConfig"]["NotificationConfig"]
    for member, topic in (
        ("SuccessTopic", synth.endpoint.success_topic),
        ("ErrorTopic", synth.endpoint.error_topic),
    ):
        assert notification[member] == {"Ref": synth.stack.resolve(synth.of_id(topic))}
        assert synth.of(topic)["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith(
            "ScoringKey"
        )
    assert notification["IncludeInferenceResponseIn"] == ["SUCCESS_NOTIFICATION_TOPIC"]


def test_client_config_limits_concurrent_requests_per_instance(synth: Synthesized) -> None:
    config = synth.of(synth.endpoint.cfn_endpoint_config)["Properties"]["AsyncInferenceConfig"]
    assert config["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 4}
    assert (
        "ClientConfig"
        not in synth.of(synth.fixed.cfn_endpoint_config)["Properties"]["AsyncInferenceConfig"]
    )


def test_given_topic_and_prefix_are_used(synth: Synthesized) -> None:
    output = synth.of(synth.fixed.cfn_endpoint_config)["Properties"]["AsyncInferenceConfig"][
        "OutputConfig"
    ]
    assert output["NotificationConfig"]["SuccessTopic"]["Ref"].startswith("OwnSuccess")
    assert output["S3OutputPath"]["Fn::Join"][1][-1] == "/batch/scores/output/"
    assert synth.fixed.input_prefix == "batch/scores/input/"


def test_model_role_reads_requests_writes_results_and_publishes(synth: Synthesized) -> None:
    statements = synth.policies("ScoringRole")
    reads = [
        s for s in statements if "s3:GetObject*" in s["Action"] and "async" in str(s["Resource"])
    ]
    assert len(reads) == 1
    assert "/async/churn-async/input/*" in str(reads[0]["Resource"])
    writes = [str(s["Resource"]) for s in statements if "s3:PutObject" in s["Action"]]
    assert any("/async/churn-async/output/*" in w for w in writes)
    assert any("/async/churn-async/failures/*" in w for w in writes)
    assert not any("/async/churn-async/input/*" in w for w in writes)
    published = {
        r["Ref"].split("Topic")[0]
        for s in statements
        if s["Action"] == "sns:Publish"
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert published == {"ScoringSuccess", "ScoringError"}
    # Publishing to a KMS-encrypted topic needs a data key from the topic's key.
    (key_use,) = [
        s
        for s in statements
        if "kms:GenerateDataKey*" in s["Action"] and "ScoringKey" in str(s["Resource"])
    ]
    assert "kms:Decrypt" in key_use["Action"]


def test_client_puts_requests_and_reads_results(synth: Synthesized) -> None:
    statements = synth.policies("Client")
    (invoke,) = [s for s in statements if s["Action"] == "sagemaker:InvokeEndpointAsync"]
    assert invoke["Resource"]["Fn::Join"][1][-1] == ":endpoint/churn-async"
    writes = [str(s["Resource"]) for s in statements if "s3:PutObject" in s["Action"]]
    assert len(writes) == 1
    assert "/async/churn-async/input/*" in writes[0]
    reads = str([s["Resource"] for s in statements if "s3:GetObject*" in s["Action"]])
    assert "/async/churn-async/output/*" in reads
    assert "/async/churn-async/failures/*" in reads


def test_backlog_target_tracking_scales_between_zero_and_max(synth: Synthesized) -> None:
    target = synth.of(synth.endpoint.scalable_target)["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (0, 3)
    assert target["ResourceId"] == "endpoint/churn-async/variant/AllTraffic"
    Template.from_json(synth.template).has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "CustomizedMetricSpecification": {
                    "MetricName": "ApproximateBacklogSizePerInstance",
                    "Namespace": "AWS/SageMaker",
                    "Dimensions": [{"Name": "EndpointName", "Value": "churn-async"}],
                    "Statistic": "Average",
                },
                "TargetValue": 8,
                "ScaleInCooldown": 600,
                "ScaleOutCooldown": 300,
            },
        },
    )


def test_requests_without_capacity_start_one_instance(synth: Synthesized) -> None:
    alarm = synth.of(synth.endpoint.backlog_without_capacity_alarm)["Properties"]
    assert alarm["MetricName"] == "HasBacklogWithoutCapacity"
    assert alarm["Dimensions"] == [{"Name": "EndpointName", "Value": "churn-async"}]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)
    (action,) = alarm["AlarmActions"]
    policy = synth.template["Resources"][action["Ref"]]["Properties"]
    assert policy["PolicyType"] == "StepScaling"
    assert policy["StepScalingPolicyConfiguration"]["AdjustmentType"] == "ChangeInCapacity"
    assert policy["StepScalingPolicyConfiguration"]["StepAdjustments"] == [
        {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}
    ]


def test_schedules_apply_to_the_async_target(synth: Synthesized) -> None:
    (action,) = synth.of(synth.endpoint.scalable_target)["Properties"]["ScheduledActions"]
    assert action["ScalableTargetAction"] == {"MinCapacity": 1}


def test_capture_is_off_by_default_since_requests_and_results_are_kept(synth: Synthesized) -> None:
    assert "DataCaptureConfig" not in synth.of(synth.endpoint.cfn_endpoint_config)["Properties"]
    assert synth.endpoint.capture_s3_uri is None
    capture = synth.of(synth.fixed.cfn_endpoint_config)["Properties"]["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 10


def test_fixed_endpoint_is_not_a_scalable_target(synth: Synthesized) -> None:
    assert synth.fixed.scalable_target is None
    targets = resources_of_type(synth.template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert len(targets) == 1


def test_async_endpoint_is_guarded_and_alarmed_like_a_realtime_one(synth: Synthesized) -> None:
    endpoint = synth.of(synth.endpoint)["Properties"]
    assert (
        endpoint["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"]
        == "ALL_AT_ONCE"
    )
    assert len(endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]) == 2
    assert set(synth.endpoint.alarms) == set(EndpointAlarm)
    assert endpoint["RetainAllVariantProperties"] is True
    assert "RetainAllVariantProperties" not in synth.of(synth.fixed)["Properties"]


def test_backlog_metrics_use_the_endpoint_dimension_only(synth: Synthesized) -> None:
    for metric in (
        synth.endpoint.metric_approximate_backlog_size(),
        synth.endpoint.metric_approximate_backlog_size_per_instance(),
    ):
        assert metric.namespace == "AWS/SageMaker"
        assert metric.dimensions == {"EndpointName": "churn-async"}


@pytest.fixture
def parts() -> tuple[Stack, DataLake, ModelSource]:
    stack = new_stack()
    return stack, DataLake(stack, "Lake"), _source(stack)


INVALID: list[tuple[str, dict[str, Any], str]] = [
    (
        "max below min",
        {"scaling": AsyncScaling(min_capacity=3, max_capacity=2)},
        r"max_capacity \(2\) must be at least min_capacity \(3\)",
    ),
    (
        "negative min",
        {"scaling": AsyncScaling(min_capacity=-1)},
        "scaling.min_capacity must be from 0",
    ),
    (
        "initial count above max",
        {
            "variant": ProductionVariant(initial_instance_count=4),
            "scaling": AsyncScaling(max_capacity=2),
        },
        r"must be at least the variant's initial_instance_count \(4\)",
    ),
    (
        "zero backlog target",
        {"scaling": AsyncScaling(backlog_per_instance=0)},
        "backlog_per_instance must be from",
    ),
    (
        "variant autoscaling",
        {"variant": ProductionVariant(autoscaling=AutoScaling())},
        "variant.autoscaling must be None for an AsyncEndpoint",
    ),
    (
        "concurrency above 1000",
        {"max_concurrent_invocations_per_instance": 1001},
        "max_concurrent_invocations_per_instance must be from 1 to 1000",
    ),
    (
        "response topic type",
        {"include_inference_response_in": ("SUCCESS",)},
        "include_inference_response_in 'SUCCESS' is not one of",
    ),
    ("prefix", {"s3_prefix": "/abs"}, "s3_prefix"),
    (
        "bad instance type",
        {"variant": ProductionVariant(instance_type="ml.m5.huge")},
        "instance_type 'ml.m5.huge'",
    ),
    (
        "schedule",
        {
            "scaling": AsyncScaling(
                schedules=(ScheduledScaling("Night", "rate(0 minutes)", min_capacity=0),)
            )
        },
        "not a valid schedule expression",
    ),
]


@pytest.mark.parametrize(("case", "props", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_props_are_rejected(
    parts: tuple[Stack, DataLake, ModelSource], case: str, props: dict[str, Any], message: str
) -> None:
    stack, lake, source = parts
    with pytest.raises(ValueError, match=message):
        AsyncEndpoint(stack, "Endpoint", model_source=source, data_lake=lake, **props)


@settings(max_examples=50)
@given(
    low=st.integers(min_value=-2, max_value=6),
    high=st.integers(min_value=-2, max_value=6),
    initial=st.integers(min_value=1, max_value=6),
)
def test_scaling_bounds_are_accepted_exactly_when_consistent(
    low: int, high: int, initial: int
) -> None:
    errors = ValidationErrors("Test")
    _validate_scaling(
        errors,
        AsyncScaling(min_capacity=low, max_capacity=high, scale_in_cooldown=Duration.minutes(1)),
        initial,
    )
    assert (errors._errors == []) == (0 <= low <= high and high >= 1 and initial <= high)

"""ServerlessEndpoint: memory and concurrency within the API's limits, encryption, alarms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_sns as sns
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import DataLake
from sagemaker_lifecycle.images import Framework
from sagemaker_lifecycle.serving import (
    SERVERLESS_MEMORY_SIZES,
    EndpointAlarm,
    InferenceImage,
    ModelSource,
    ServerlessEndpoint,
)
from tests.support import new_stack, resources_of_type, template_of

PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3"


@dataclass
class Synthesized:
    stack: Stack
    template: dict[str, Any]
    endpoint: ServerlessEndpoint
    warm: ServerlessEndpoint

    def of(self, construct: Any) -> dict[str, Any]:
        logical_id = self.stack.resolve((construct.node.default_child or construct).logical_id)
        resource: dict[str, Any] = self.template["Resources"][logical_id]
        return resource


def _source(stack: Stack) -> ModelSource:
    return ModelSource.from_artifacts(
        InferenceImage.from_framework(stack, Framework.XGBOOST),
        "models/churn/bootstrap/model.tar.gz",
    )


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    endpoint = ServerlessEndpoint(stack, "Serverless", model_source=_source(stack), data_lake=lake)
    topic = sns.Topic(stack, "Oncall", master_key=lake.key, enforce_ssl=True)
    warm = ServerlessEndpoint(
        stack,
        "Warm",
        model_source=ModelSource.from_model_package(
            PACKAGE_ARN, images=(InferenceImage.from_framework(stack, Framework.XGBOOST),)
        ),
        data_lake=lake,
        artifacts_read_prefix="models/churn/",
        endpoint_name="churn-warm",
        memory_size_mb=6144,
        max_concurrency=200,
        provisioned_concurrency=200,
        alarm_topic=topic,
    )
    return Synthesized(stack, template_of(stack), endpoint, warm)


def test_memory_sizes_are_the_api_range_in_gigabyte_steps() -> None:
    assert SERVERLESS_MEMORY_SIZES == (1024, 2048, 3072, 4096, 5120, 6144)


def test_variant_is_serverless_with_memory_and_concurrency(synth: Synthesized) -> None:
    (variant,) = synth.of(synth.endpoint.cfn_endpoint_config)["Properties"]["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 20}
    assert "InstanceType" not in variant
    assert "InitialInstanceCount" not in variant


def test_provisioned_concurrency_keeps_invocations_warm(synth: Synthesized) -> None:
    (variant,) = synth.of(synth.warm.cfn_endpoint_config)["Properties"]["ProductionVariants"]
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": 6144,
        "MaxConcurrency": 200,
        "ProvisionedConcurrency": 200,
    }


def test_configuration_is_encrypted_and_has_no_capture_or_vpc(synth: Synthesized) -> None:
    config = synth.of(synth.endpoint.cfn_endpoint_config)["Properties"]
    assert config["KmsKeyId"]["Fn::GetAtt"][0].startswith("ServerlessKey")
    assert "DataCaptureConfig" not in config
    model = synth.of(synth.endpoint.cfn_model)["Properties"]
    assert "VpcConfig" not in model
    assert "EnableNetworkIsolation" not in model


def test_configuration_is_built_from_its_spec(synth: Synthesized) -> None:
    spec = synth.stack.resolve(synth.endpoint.endpoint_config_spec)
    config = synth.of(synth.endpoint.cfn_endpoint_config)["Properties"]
    for variant in config["ProductionVariants"]:
        variant.pop("ModelName")
    assert config == spec


def test_model_package_source_and_its_read_prefix(synth: Synthesized) -> None:
    container = synth.of(synth.warm.cfn_model)["Properties"]["PrimaryContainer"]
    assert container == {"ModelPackageName": PACKAGE_ARN}
    reads = [
        s
        for p in resources_of_type(synth.template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith("WarmRole")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "s3:GetObject*" in s["Action"]
    ]
    assert "/models/churn/*" in str(reads)


def test_endpoint_is_named_and_waits_for_its_log_group(synth: Synthesized) -> None:
    endpoint = synth.of(synth.warm)
    assert endpoint["Properties"]["EndpointName"] == "churn-warm"
    assert "DeploymentConfig" not in endpoint["Properties"]  # guardrails do not apply
    log_group = synth.template["Resources"][endpoint["DependsOn"][0]]
    assert log_group["Properties"]["LogGroupName"] == "/aws/sagemaker/Endpoints/churn-warm"


def test_invocation_alarms_only_since_there_are_no_instances(synth: Synthesized) -> None:
    assert set(synth.endpoint.alarms) == {
        EndpointAlarm.INVOCATION_5XX_ERRORS,
        EndpointAlarm.INVOCATION_4XX_ERROR_RATE,
        EndpointAlarm.MODEL_LATENCY_P99,
    }


def test_alarms_notify_the_given_topic(synth: Synthesized) -> None:
    for alarm in synth.warm.alarms.values():
        (action,) = synth.of(alarm)["Properties"]["AlarmActions"]
        assert action["Ref"].startswith("Oncall")
    assert not [
        k
        for k in resources_of_type(synth.template, "AWS::SNS::Topic")
        if k.startswith("WarmAlarmTopic")
    ]


def test_cold_start_metric(synth: Synthesized) -> None:
    metric = synth.warm.metric_model_setup_time()
    assert (metric.metric_name, metric.statistic) == ("ModelSetupTime", "p99")
    assert metric.dimensions == {"EndpointName": "churn-warm", "VariantName": "AllTraffic"}


@pytest.fixture
def parts() -> tuple[Stack, DataLake, ModelSource]:
    stack = new_stack()
    return stack, DataLake(stack, "Lake"), _source(stack)


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("memory not a step", {"memory_size_mb": 1500}, "memory_size_mb must be one of 1024, 2048"),
    ("memory too large", {"memory_size_mb": 7168}, "memory_size_mb must be one of"),
    ("concurrency zero", {"max_concurrency": 0}, "max_concurrency must be from 1 to 200"),
    ("concurrency too high", {"max_concurrency": 201}, "max_concurrency must be from 1 to 200"),
    (
        "provisioned above max",
        {"max_concurrency": 5, "provisioned_concurrency": 6},
        r"provisioned_concurrency \(6\) must be at most max_concurrency \(5\)",
    ),
    (
        "provisioned zero",
        {"provisioned_concurrency": 0},
        "provisioned_concurrency must be from 1 to 200",
    ),
    ("variant name", {"variant_name": "all traffic"}, "variant_name must match"),
    ("endpoint name", {"endpoint_name": "-churn"}, "endpoint_name must match"),
]


@pytest.mark.parametrize(("case", "props", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_props_are_rejected(
    parts: tuple[Stack, DataLake, ModelSource], case: str, props: dict[str, Any], message: str
) -> None:
    stack, lake, source = parts
    with pytest.raises(ValueError, match=message):
        ServerlessEndpoint(stack, "Endpoint", model_source=source, data_lake=lake, **props)


@settings(max_examples=40)
@given(memory=st.integers(min_value=0, max_value=8192))
def test_any_memory_size_outside_the_gigabyte_steps_is_refused(memory: int) -> None:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    valid = memory % 1024 == 0 and 1024 <= memory <= 6144
    if valid:
        ServerlessEndpoint(
            stack, "Endpoint", model_source=_source(stack), data_lake=lake, memory_size_mb=memory
        )
    else:
        with pytest.raises(ValueError, match="memory_size_mb"):
            ServerlessEndpoint(
                stack,
                "Endpoint",
                model_source=_source(stack),
                data_lake=lake,
                memory_size_mb=memory,
            )

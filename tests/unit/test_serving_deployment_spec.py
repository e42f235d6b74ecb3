"""The deployment spec contract with the approval flow: one source of truth, valid API calls.

The approval flow's deployer creates, for each approved version,
``CreateEndpointConfig(EndpointConfigName=<new>, **spec["EndpointConfig"])`` with ModelName
set in every variant, and ``UpdateEndpoint(..., DeploymentConfig=spec["DeploymentConfig"])``.
These tests render the synthesized spec with deploy-time values, check it against botocore's
request shapes and replay the deployer's calls against moto.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_cdk import Duration, Environment, Stack
from aws_cdk import aws_sagemaker as sagemaker
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from sagemaker_lifecycle import DataLake, MlNetwork
from sagemaker_lifecycle._internal.sagemaker_api import enum_values, operation
from sagemaker_lifecycle.images import Framework
from sagemaker_lifecycle.serving import (
    AsyncEndpoint,
    AutoScaling,
    DeploymentGuardrails,
    InferenceImage,
    ModelSource,
    ProductionVariant,
    RealtimeEndpoint,
    TrafficShifting,
)
from sagemaker_lifecycle.serving.deployment_spec import (
    SPEC_KEYS,
    cfn_endpoint_config,
    jsii_struct,
    with_model_name,
)
from sagemaker_lifecycle.serving.production_variant import production_variant_spec
from tests.support import new_app, resources_of_type, template_of

ACCOUNT = "123456789012"
REGION = "eu-west-1"
_AZ_CONTEXT = {
    f"availability-zones:account={ACCOUNT}:region={REGION}": ["eu-west-1a", "eu-west-1b"]
}
NEW_VERSION = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/7"


@dataclass
class Contract:
    stack: Stack
    template: dict[str, Any]
    realtime: RealtimeEndpoint
    asynchronous: AsyncEndpoint
    plain: RealtimeEndpoint

    def cfn(self, resource_type: str, prefix: str) -> dict[str, Any]:
        (resource,) = [
            r["Properties"]
            for logical_id, r in resources_of_type(self.template, resource_type).items()
            if logical_id.startswith(prefix)
        ]
        properties: dict[str, Any] = resource
        return properties

    def render(self, value: Any) -> Any:
        """``value`` with every CloudFormation intrinsic replaced by a deploy-time value."""
        return _render(value, self.template["Resources"])


@pytest.fixture(scope="module")
def contract() -> Contract:
    stack = Stack(new_app(**_AZ_CONTEXT), "Spec", env=Environment(account=ACCOUNT, region=REGION))
    lake = DataLake(stack, "Lake")
    network = MlNetwork(stack, "Network")
    source = ModelSource.from_artifacts(
        InferenceImage.from_framework(stack, Framework.XGBOOST),
        "models/churn/bootstrap/model.tar.gz",
    )
    realtime = RealtimeEndpoint(
        stack,
        "Realtime",
        model_source=source,
        data_lake=lake,
        network=network,
        endpoint_name="churn",
        artifacts_read_prefix="models/churn/",
        variants=[
            ProductionVariant(
                instance_type="ml.m5.large",
                initial_instance_count=2,
                volume_size_gb=20,
                model_data_download_timeout=Duration.minutes(5),
                autoscaling=AutoScaling(min_capacity=2, max_capacity=4),
            ),
            ProductionVariant(
                variant_name="Shadowless", instance_type="ml.c5.xlarge", initial_weight=0.5
            ),
        ],
        guardrails=DeploymentGuardrails(
            traffic_shifting=TrafficShifting.linear(percent=50, wait_interval=Duration.minutes(3)),
            maximum_execution_timeout=Duration.minutes(30),
        ),
    )
    asynchronous = AsyncEndpoint(
        stack,
        "Async",
        model_source=source,
        data_lake=lake,
        network=network,
        max_concurrent_invocations_per_instance=4,
        include_inference_response_in=("SUCCESS_NOTIFICATION_TOPIC",),
    )
    plain = RealtimeEndpoint(stack, "Plain", model_source=source, data_lake=lake, data_capture=None)
    return Contract(stack, template_of(stack), realtime, asynchronous, plain)


def _spec(contract: Contract, endpoint: RealtimeEndpoint | AsyncEndpoint) -> dict[str, Any]:
    resolved: dict[str, Any] = contract.stack.resolve(endpoint.deployment_spec)
    return resolved


# --- shape -------------------------------------------------------------------------------


def test_spec_has_exactly_the_agreed_keys(contract: Contract) -> None:
    for endpoint in (contract.realtime, contract.asynchronous, contract.plain):
        spec = endpoint.deployment_spec
        assert tuple(spec) == SPEC_KEYS
        assert spec["EndpointName"] == endpoint.endpoint_name
        for variant in spec["EndpointConfig"]["ProductionVariants"]:
            assert "ModelName" not in variant


def test_spec_renders_to_json_with_stack_to_json_string(contract: Contract) -> None:
    rendered = contract.stack.resolve(
        contract.stack.to_json_string(contract.realtime.deployment_spec)
    )
    assert "Fn::Join" in json.dumps(rendered)  # deploy-time values stay CloudFormation intrinsics
    json.dumps(_spec(contract, contract.realtime))  # and the resolved dict is plain JSON


def test_spec_is_a_copy_callers_cannot_corrupt(contract: Contract) -> None:
    spec = contract.realtime.deployment_spec
    spec["EndpointConfig"]["ProductionVariants"].clear()
    assert contract.realtime.deployment_spec["EndpointConfig"]["ProductionVariants"]


def test_model_members_are_the_role_network_and_isolation(contract: Contract) -> None:
    model = _spec(contract, contract.realtime)["Model"]
    assert set(model) == {"ExecutionRoleArn", "VpcConfig", "EnableNetworkIsolation"}
    assert set(_spec(contract, contract.plain)["Model"]) == {
        "ExecutionRoleArn",
        "EnableNetworkIsolation",
    }


def test_async_spec_carries_the_async_inference_config(contract: Contract) -> None:
    config = _spec(contract, contract.asynchronous)["EndpointConfig"]
    assert set(config) == {"ProductionVariants", "KmsKeyId", "AsyncInferenceConfig"}
    assert "AsyncInferenceConfig" not in _spec(contract, contract.realtime)["EndpointConfig"]


# --- one source of truth -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["realtime", "asynchronous", "plain"])
def test_cloudformation_endpoint_config_is_the_spec_plus_the_model_name(
    contract: Contract, name: str
) -> None:
    endpoint = getattr(contract, name)
    spec = _spec(contract, endpoint)["EndpointConfig"]
    model_name = contract.stack.resolve(endpoint.cfn_model.attr_model_name)
    expected = {
        **spec,
        "ProductionVariants": with_model_name(spec["ProductionVariants"], model_name),
    }
    prefix = contract.stack.resolve(endpoint.cfn_endpoint_config.logical_id)
    assert contract.cfn("AWS::SageMaker::EndpointConfig", prefix) == expected


@pytest.mark.parametrize("name", ["realtime", "asynchronous"])
def test_cloudformation_endpoint_deploys_with_the_spec_deployment_config(
    contract: Contract, name: str
) -> None:
    endpoint = getattr(contract, name)
    prefix = contract.stack.resolve(endpoint.cfn_endpoint.logical_id)
    deployed = contract.cfn("AWS::SageMaker::Endpoint", prefix)
    assert deployed["DeploymentConfig"] == _spec(contract, endpoint)["DeploymentConfig"]
    assert deployed["EndpointName"] == endpoint.endpoint_name


def test_cloudformation_model_is_the_spec_model_plus_the_container(contract: Contract) -> None:
    model = contract.cfn("AWS::SageMaker::Model", "RealtimeModel")
    container = model.pop("PrimaryContainer")
    assert model == _spec(contract, contract.realtime)["Model"]
    assert set(container) == {"Image", "ModelDataUrl", "Mode"}


# --- the deployer's calls ----------------------------------------------------------------


def _deployer_calls(
    contract: Contract, endpoint: RealtimeEndpoint | AsyncEndpoint
) -> dict[str, dict[str, Any]]:
    spec = contract.render(_spec(contract, endpoint))
    config = spec["EndpointConfig"]
    return {
        "CreateModel": {
            "ModelName": "churn-v7",
            "PrimaryContainer": {"ModelPackageName": NEW_VERSION},
            **spec["Model"],
        },
        "CreateEndpointConfig": {
            "EndpointConfigName": "churn-v7",
            **config,
            "ProductionVariants": with_model_name(config["ProductionVariants"], "churn-v7"),
        },
        "UpdateEndpoint": {
            "EndpointName": spec["EndpointName"],
            "EndpointConfigName": "churn-v7",
            "DeploymentConfig": spec["DeploymentConfig"],
        },
    }


@pytest.mark.parametrize("name", ["realtime", "asynchronous", "plain"])
@pytest.mark.parametrize(
    "operation_name", ["CreateModel", "CreateEndpointConfig", "UpdateEndpoint"]
)
def test_deployer_requests_validate_against_the_api_model(
    contract: Contract, name: str, operation_name: str
) -> None:
    params = _deployer_calls(contract, getattr(contract, name))[operation_name]
    assert "Fn::" not in json.dumps(params)
    assert '"Ref"' not in json.dumps(params)
    input_shape = operation(operation_name).input_shape
    assert input_shape is not None
    report = ParamValidator().validate(params, input_shape)
    assert not report.has_errors(), report.generate_report()


@mock_aws
@pytest.mark.parametrize("name", ["realtime", "asynchronous"])
def test_config_the_deployer_creates_equals_the_synthesized_one_but_for_names(
    contract: Contract, name: str
) -> None:
    endpoint = getattr(contract, name)
    calls = _deployer_calls(contract, endpoint)
    client = boto3.client("sagemaker", region_name=REGION)
    # moto needs an image where SageMaker would resolve the package's container.
    model_call = {**calls["CreateModel"], "PrimaryContainer": {"Image": "image:7"}}
    client.create_model(**model_call)
    client.create_endpoint_config(**calls["CreateEndpointConfig"])
    created = client.describe_endpoint_config(EndpointConfigName="churn-v7")

    prefix = contract.stack.resolve(endpoint.cfn_endpoint_config.logical_id)
    synthesized = contract.render(contract.cfn("AWS::SageMaker::EndpointConfig", prefix))
    for variant in synthesized["ProductionVariants"]:
        variant["ModelName"] = "churn-v7"
    assert {k: v for k, v in created.items() if k in synthesized} == synthesized
    assert set(synthesized) <= set(created)


# --- conversion to CloudFormation --------------------------------------------------------


def test_api_member_names_become_jsii_struct_names() -> None:
    assert jsii_struct(
        {
            "VolumeSizeInGB": 1,
            "S3OutputPath": "s",
            "KmsKeyId": "k",
            "MemorySizeInMB": 2048,
            "EnableSSMAccess": True,
            "Environment": {"MY_VAR": "x"},
        }
    ) == {
        "volumeSizeInGb": 1,
        "s3OutputPath": "s",
        "kmsKeyId": "k",
        "memorySizeInMb": 2048,
        "enableSsmAccess": True,
        "environment": {"MY_VAR": "x"},
    }


def test_a_spec_member_without_a_cloudformation_property_is_refused() -> None:
    stack = Stack()
    with pytest.raises(KeyError, match="ShadowProductionVariants"):
        cfn_endpoint_config(
            stack, "Config", {"ProductionVariants": [], "ShadowProductionVariants": []}, "model"
        )


_INSTANCE_TYPES = st.sampled_from(enum_values("ProductionVariantInstanceType"))
_VARIANTS = st.builds(
    ProductionVariant,
    variant_name=st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,20}", fullmatch=True),
    instance_type=_INSTANCE_TYPES,
    initial_instance_count=st.integers(min_value=1, max_value=100),
    initial_weight=st.floats(min_value=0.01, max_value=100, allow_nan=False),
    volume_size_gb=st.none() | st.integers(min_value=1, max_value=512),
    model_data_download_timeout=st.none() | st.integers(60, 3600).map(Duration.seconds),
    container_startup_health_check_timeout=st.none() | st.integers(60, 3600).map(Duration.seconds),
)


@settings(max_examples=8)
@given(variant_lists=st.lists(st.lists(_VARIANTS, min_size=1, max_size=4), min_size=1, max_size=6))
def test_any_variant_spec_renders_to_the_same_cloudformation(
    variant_lists: list[list[ProductionVariant]],
) -> None:
    stack = Stack()
    specs = []
    for index, variants in enumerate(variant_lists):
        spec = {"ProductionVariants": [production_variant_spec(v) for v in variants]}
        cfn_endpoint_config(stack, f"Config{index}", spec, "model")
        specs.append(spec)
    template = stack.resolve(stack.node.scope.synth().get_stack_by_name(stack.stack_name).template)  # type: ignore[union-attr]
    configs = resources_of_type(template, "AWS::SageMaker::EndpointConfig")
    for index, spec in enumerate(specs):
        (properties,) = [
            c["Properties"] for k, c in configs.items() if k.startswith(f"Config{index}")
        ]
        assert properties == {
            "ProductionVariants": with_model_name(spec["ProductionVariants"], "model")
        }


def test_l1_endpoint_config_stays_typed_for_escape_hatches(contract: Contract) -> None:
    config = contract.realtime.cfn_endpoint_config
    assert isinstance(config, sagemaker.CfnEndpointConfig)
    assert contract.stack.resolve(config.kms_key_id) == contract.stack.resolve(
        contract.realtime.key.key_arn
    )


# --- rendering deploy-time values --------------------------------------------------------


def _render(value: Any, resources: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_render(item, resources) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return _ref(value["Ref"], resources)
    if set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        return _get_att(logical_id, attribute, resources)
    if set(value) == {"Fn::Join"}:
        delimiter, parts = value["Fn::Join"]
        return delimiter.join(str(_render(part, resources)) for part in parts)
    return {key: _render(item, resources) for key, item in value.items()}


def _hex(logical_id: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_OID, logical_id).hex[:17]


def _ref(logical_id: str, resources: dict[str, Any]) -> str:
    pseudo = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    if logical_id in pseudo:
        return pseudo[logical_id]
    kind = resources[logical_id]["Type"]
    values = {
        "AWS::S3::Bucket": logical_id.lower()[:40],
        "AWS::EC2::Subnet": f"subnet-{_hex(logical_id)}",
        "AWS::CloudWatch::Alarm": f"{logical_id}-alarm",
        "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{logical_id}",
    }
    return values[kind]


def _get_att(logical_id: str, attribute: str, resources: dict[str, Any]) -> str:
    kind = resources[logical_id]["Type"]
    values = {
        (
            "AWS::KMS::Key",
            "Arn",
        ): f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{uuid.uuid5(uuid.NAMESPACE_OID, logical_id)}",
        ("AWS::IAM::Role", "Arn"): f"arn:aws:iam::{ACCOUNT}:role/{logical_id}",
        ("AWS::EC2::SecurityGroup", "GroupId"): f"sg-{_hex(logical_id)}",
        ("AWS::SageMaker::Model", "ModelName"): f"{logical_id}-model",
    }
    return values[(kind, attribute)]

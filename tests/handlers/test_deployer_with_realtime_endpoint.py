"""The deployer against a real RealtimeEndpoint's spec: what it sends equals what CloudFormation
deploys, but for the names.

A stack with a RealtimeEndpoint and a ModelApprovalFlow fed its ``deployment_spec`` is
synthesized (with the compliance packs). The spec the function receives is rendered from the
template with every deploy-time value replaced by a stable placeholder, and so is the
endpoint's own ``AWS::SageMaker::EndpointConfig``. The deployer then runs against moto, and
the ``CreateEndpointConfig`` and ``UpdateEndpoint`` requests it sends are read off the wire
(a botocore ``before-call`` hook that records and lets the call through).
"""

from __future__ import annotations

import json
import sys
from types import ModuleType
from typing import Any

import pytest
from aws_cdk import Duration, Environment, Stack

from sagemaker_lifecycle import DataLake, MlNetwork
from sagemaker_lifecycle.images import Framework
from sagemaker_lifecycle.model_approval_flow import ModelApprovalFlow
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.serving import (
    AutoScaling,
    DeploymentGuardrails,
    InferenceImage,
    ModelSource,
    ProductionVariant,
    RealtimeEndpoint,
    TrafficShifting,
)
from tests.handlers.loader import load_handler_module
from tests.handlers.sagemaker_fakes import ACCOUNT, REGION, FakeAccount, aws
from tests.support import new_app, resources_of_type, template_of

__all__ = ["aws"]

GROUP = "churn-model"
ENDPOINT = "churn"
_AZ_CONTEXT = {
    f"availability-zones:account={ACCOUNT}:region={REGION}": [f"{REGION}a", f"{REGION}b"]
}


@pytest.fixture(scope="module")
def synthesized() -> dict[str, Any]:
    stack = Stack(
        new_app(**_AZ_CONTEXT), "Serving", env=Environment(account=ACCOUNT, region=REGION)
    )
    lake = DataLake(stack, "Lake")
    network = MlNetwork(stack, "Network")
    endpoint = RealtimeEndpoint(
        stack,
        "Endpoint",
        model_source=ModelSource.from_artifacts(
            InferenceImage.from_framework(stack, Framework.XGBOOST),
            "models/churn/bootstrap/model.tar.gz",
        ),
        data_lake=lake,
        network=network,
        endpoint_name=ENDPOINT,
        artifacts_read_prefix="models/churn/",
        variants=[
            ProductionVariant(
                instance_type="ml.m5.large",
                initial_instance_count=2,
                autoscaling=AutoScaling(min_capacity=2, max_capacity=4),
            )
        ],
        guardrails=DeploymentGuardrails(
            traffic_shifting=TrafficShifting.linear(percent=50, wait_interval=Duration.minutes(3)),
            maximum_execution_timeout=Duration.minutes(30),
        ),
    )
    registry = ModelRegistry(stack, "Registry", model_package_group_name=GROUP)
    ModelApprovalFlow(
        stack,
        "Flow",
        registry=registry,
        endpoint_name=endpoint.endpoint_name,
        deployment_spec=endpoint.deployment_spec,
        network=network,
    )
    return template_of(stack)  # zero open findings with both constructs in one stack


def _placeholders(value: Any) -> Any:
    """``value`` with each intrinsic function replaced by a stable text standing for it."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
            ((name, argument),) = value.items()
            if name == "Fn::Join":
                delimiter, parts = argument
                return delimiter.join(str(_placeholders(p)) for p in parts)
            return f"<{name}:{json.dumps(argument, sort_keys=True).replace(chr(34), '')}>"
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return value


def _properties(template: dict[str, Any], resource_type: str, prefix: str) -> dict[str, Any]:
    (properties,) = [
        r["Properties"]
        for logical_id, r in resources_of_type(template, resource_type).items()
        if logical_id.startswith(prefix)
    ]
    return _placeholders(properties)  # type: ignore[no-any-return]


def _rendered_spec(template: dict[str, Any]) -> dict[str, Any]:
    (function,) = [
        r["Properties"]
        for logical_id, r in resources_of_type(template, "AWS::Lambda::Function").items()
        if logical_id.startswith("FlowDeployerFunction")
    ]
    text = _placeholders(function["Environment"]["Variables"]["DEPLOYMENT_SPEC"])
    spec: dict[str, Any] = json.loads(text)
    return spec


def _without_model_names(config: dict[str, Any]) -> dict[str, Any]:
    return {
        **config,
        "ProductionVariants": [
            {k: v for k, v in variant.items() if k != "ModelName"}
            for variant in config["ProductionVariants"]
        ],
    }


@pytest.fixture
def deployer() -> ModuleType:
    index = load_handler_module("deploy_approved_model")
    return sys.modules[index.handle.__module__]


def test_the_deployer_sends_the_endpoints_own_configuration_but_for_names(
    synthesized: dict[str, Any], deployer: ModuleType, aws: FakeAccount
) -> None:
    spec = _rendered_spec(synthesized)
    cfn_config = _properties(
        synthesized, "AWS::SageMaker::EndpointConfig", "EndpointEndpointConfig"
    )
    cfn_endpoint = _properties(synthesized, "AWS::SageMaker::Endpoint", "Endpoint")
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(json.loads(params["body"]))

    aws.sagemaker.meta.events.register("before-call.sagemaker.CreateEndpointConfig", record)
    # The endpoint as CloudFormation created it: same variant and instance type.
    aws.sagemaker.create_model(
        ModelName="bootstrap", ExecutionRoleArn=aws.role_arn, PrimaryContainer={"Image": "x"}
    )
    live = {**_without_model_names(cfn_config), "EndpointConfigName": "bootstrap-config"}
    live["ProductionVariants"] = [
        {**v, "ModelName": "bootstrap"} for v in live["ProductionVariants"]
    ]
    aws.sagemaker.create_endpoint_config(
        **{k: v for k, v in live.items() if k in {"EndpointConfigName", "ProductionVariants"}}
    )
    aws.sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="bootstrap-config")
    sent.clear()
    arn = aws.register_version("Approved", group=GROUP)
    settings = deployer.Settings(
        group=GROUP,
        endpoint_name=ENDPOINT,
        name_prefix=ENDPOINT,
        spec=spec,
        event_bus="default",
        event_source="sagemaker-lifecycle.model-deployment",
        topic_arn=aws.topic_arn,
        allow_rollback=False,
    )
    event = {
        "id": "1",
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "detail": {
            "ModelPackageGroupName": GROUP,
            "ModelPackageVersion": 1,
            "ModelPackageArn": arn,
            "ModelApprovalStatus": "Approved",
        },
    }

    result = deployer.handle(
        event, settings, deployer.Clients(sagemaker=aws.sagemaker, events=aws.events, sns=aws.sns)
    )

    assert result["outcome"] == "started"
    (request,) = sent
    name = settings.resource_name(1)
    assert request.pop("EndpointConfigName") == name
    request.pop("Tags")
    assert {v["ModelName"] for v in request["ProductionVariants"]} == {name}
    assert _without_model_names(request) == _without_model_names(cfn_config)
    (update,) = aws.updates.requests
    assert update["DeploymentConfig"] == cfn_endpoint["DeploymentConfig"]
    assert update["RetainAllVariantProperties"] is True

"""The reference ServingStack next to the network and data stacks: nag-clean, cfn-lint-clean."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from sagemaker_lifecycle.serving import AsyncEndpoint, RealtimeEndpoint, ServerlessEndpoint
from stacks.config import DataConfig, NetworkConfig
from stacks.data_stack import DataStack
from stacks.network_stack import NetworkStack
from stacks.serving_stack import BOOTSTRAP_MODEL_KEY, CHURN_MODELS_PREFIX, ServingStack
from tests.support import new_app, resources_of_type

STACK_NAME = "MlPlatform-dev-Serving"


@dataclass
class Synthesized:
    stack: ServingStack
    template: dict[str, Any]
    template_path: Path


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = new_app()
    network = NetworkStack(app, "MlPlatform-dev-Network", config=NetworkConfig())
    data = DataStack(app, "MlPlatform-dev-Data", config=DataConfig(capture_retention_days=30))
    stack = ServingStack(app, STACK_NAME, data_lake=data.data_lake, network=network.network)
    # The compliance packs run here: synthesis fails on any unacknowledged finding.
    assembly = app.synth()
    path = Path(assembly.directory) / f"{STACK_NAME}.template.json"
    return Synthesized(stack, json.loads(path.read_text()), path)


def test_template_has_no_cfn_lint_errors_or_warnings(synth: Synthesized) -> None:
    matches = lint_file(synth.template_path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert matches == [], "\n".join(f"{m.rule.id} {m.message}" for m in matches)


def test_one_endpoint_of_each_kind_is_exposed(synth: Synthesized) -> None:
    assert isinstance(synth.stack.realtime_endpoint, RealtimeEndpoint)
    assert isinstance(synth.stack.serverless_endpoint, ServerlessEndpoint)
    assert isinstance(synth.stack.async_endpoint, AsyncEndpoint)
    assert len(resources_of_type(synth.template, "AWS::SageMaker::Endpoint")) == 3


def test_every_endpoint_serves_the_bootstrap_churn_model(synth: Synthesized) -> None:
    models = resources_of_type(synth.template, "AWS::SageMaker::Model").values()
    assert len(models) == 3
    for model in models:
        container = model["Properties"]["PrimaryContainer"]
        assert container["ModelDataUrl"]["Fn::Join"][1][-1] == f"/{BOOTSTRAP_MODEL_KEY}"
        assert container["Image"]["Fn::Join"][1][-1].startswith("/sagemaker-xgboost:")
    assert BOOTSTRAP_MODEL_KEY.startswith(CHURN_MODELS_PREFIX)


def test_endpoints_share_the_stack_key_and_alarm_topic(synth: Synthesized) -> None:
    assert len(resources_of_type(synth.template, "AWS::KMS::Key")) == 1
    assert (
        len(resources_of_type(synth.template, "AWS::SNS::Topic")) == 3
    )  # alarms, async results, errors
    for endpoint in (
        synth.stack.realtime_endpoint,
        synth.stack.serverless_endpoint,
        synth.stack.async_endpoint,
    ):
        assert endpoint.key is synth.stack.key
        assert endpoint.alarm_topic is synth.stack.alarm_topic


def test_instance_endpoints_run_in_the_ml_network(synth: Synthesized) -> None:
    networked = [
        m
        for m in resources_of_type(synth.template, "AWS::SageMaker::Model").values()
        if "VpcConfig" in m["Properties"]
    ]
    assert len(networked) == 2  # serverless endpoints cannot join a VPC
    for model in networked:
        assert "Fn::GetStackOutput" in json.dumps(model["Properties"]["VpcConfig"])


def test_realtime_endpoint_canaries_one_instance_and_scales_two_to_six(synth: Synthesized) -> None:
    spec = synth.stack.realtime_endpoint.deployment_spec
    routing = spec["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["CanarySize"] == {"Type": "INSTANCE_COUNT", "Value": 1}
    targets = resources_of_type(synth.template, "AWS::ApplicationAutoScaling::ScalableTarget")
    bounds = sorted(
        (t["Properties"]["MinCapacity"], t["Properties"]["MaxCapacity"]) for t in targets.values()
    )
    assert bounds == [(0, 2), (2, 6)]  # async scales to zero, real-time keeps two instances


def test_model_roles_may_read_every_churn_model_version(synth: Synthesized) -> None:
    for endpoint in (
        synth.stack.realtime_endpoint,
        synth.stack.serverless_endpoint,
        synth.stack.async_endpoint,
    ):
        role_id = synth.stack.resolve(endpoint.role.node.default_child.logical_id)  # type: ignore[union-attr]
        statements = [
            s
            for p in resources_of_type(synth.template, "AWS::IAM::Policy").values()
            if p["Properties"]["Roles"] == [{"Ref": role_id}]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert f"/{CHURN_MODELS_PREFIX}*" in json.dumps(statements)

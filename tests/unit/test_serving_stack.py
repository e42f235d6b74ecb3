"""The reference ServingStack next to the network and data stacks: nag-clean, cfn-lint-clean."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from sagemaker_lifecycle.pipelines import validate_definition
from sagemaker_lifecycle.serving import (
    AsyncEndpoint,
    RealtimeEndpoint,
    ScheduledBatchInference,
    ServerlessEndpoint,
)
from stacks.config import DataConfig, NetworkConfig
from stacks.data_stack import DataStack
from stacks.network_stack import NetworkStack
from stacks.serving_stack import (
    BOOTSTRAP_MODEL_KEY,
    CHURN_BATCH_INPUT_PREFIX,
    CHURN_BATCH_PREDICTIONS_PREFIX,
    CHURN_MODELS_PREFIX,
    ServingStack,
)
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


# --- nightly batch scoring -----------------------------------------------------------------


def _batch_step(synth: Synthesized, name: str) -> dict[str, Any]:
    definition = synth.stack.resolve(synth.stack.batch_inference.definition.to_json())
    (step,) = [s for s in definition["Steps"] if s["Name"] == name]
    arguments: dict[str, Any] = step["Arguments"]
    return arguments


def test_churn_customers_are_scored_nightly_at_two_paris_time(synth: Synthesized) -> None:
    batch = synth.stack.batch_inference
    assert isinstance(batch, ScheduledBatchInference)
    assert batch.pipeline_name == f"{STACK_NAME}-churn-batch"
    (schedule,) = resources_of_type(synth.template, "AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["Properties"]["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert validate_definition(batch.definition.to_json()) == []


def test_batch_scoring_reads_customers_and_writes_scores_in_the_curated_zone(
    synth: Synthesized,
) -> None:
    batch = synth.stack.batch_inference
    assert (batch.source.zone.value, batch.source.prefix) == ("curated", CHURN_BATCH_INPUT_PREFIX)
    assert (batch.output.zone.value, batch.output.prefix) == (
        "curated",
        CHURN_BATCH_PREDICTIONS_PREFIX,
    )
    arguments = _batch_step(synth, "BatchTransform")
    # The customer id goes around the model and comes back beside its score.
    assert arguments["DataProcessing"] == {
        "InputFilter": "$[1:]",
        "OutputFilter": "$[0,-1]",
        "JoinSource": "Input",
    }
    output = arguments["TransformOutput"]["S3OutputPath"]["Std:Join"]["Values"]
    assert output[0]["Fn::Join"][1][-1] == "/" + CHURN_BATCH_PREDICTIONS_PREFIX.rstrip("/")
    assert "Fn::GetStackOutput" in json.dumps(arguments["TransformOutput"]["KmsKeyId"])


def test_batch_scoring_uses_the_bootstrap_model_in_the_ml_network(synth: Synthesized) -> None:
    arguments = _batch_step(synth, "CreateModel")
    container = arguments["PrimaryContainer"]
    assert container["ModelDataUrl"]["Fn::Join"][1][-1] == f"/{BOOTSTRAP_MODEL_KEY}"
    assert arguments["EnableNetworkIsolation"] is True
    assert "Fn::GetStackOutput" in json.dumps(arguments["VpcConfig"])


def test_batch_scoring_shares_the_stack_key_and_alarm_topic(synth: Synthesized) -> None:
    batch = synth.stack.batch_inference
    assert batch.key is synth.stack.key
    assert batch.alarm_topic is synth.stack.alarm_topic
    volume_key = _batch_step(synth, "BatchTransform")["TransformResources"]["VolumeKmsKeyId"]
    assert volume_key == synth.stack.resolve(synth.stack.key.key_arn)

"""The reference pipelines, synthesized next to the network and data stacks.

Zero open cdk-nag findings, zero cfn-lint errors, a definition that passes botocore
validation and round-trips through the template, and a snapshot of that definition.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from cfnlint.api import ManualArgs, lint_file
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from sagemaker_lifecycle import DataLake, MlNetwork
from sagemaker_lifecycle.model_registry import ModelRegistry
from stacks.pipeline_stack import PipelineStack
from tests.support import new_app, normalize_values, resources_of_type


@dataclass(frozen=True)
class Synthesized:
    stack: PipelineStack
    template: dict[str, Any]
    template_path: str


@pytest.fixture(scope="module")
def synthesized() -> Synthesized:
    app = new_app()
    network = MlNetwork(Stack(app, "Network"), "Network")
    data = Stack(app, "Data")
    lake = DataLake(data, "DataLake")
    registry = ModelRegistry(data, "Registry", model_package_group_name="churn")
    stack = PipelineStack(app, "Pipelines", data_lake=lake, network=network, registry=registry)
    assembly = app.synth()  # raises on any open cdk-nag finding
    artifact = assembly.get_stack_by_name("Pipelines")
    return Synthesized(stack, artifact.template, artifact.template_full_path)


def _marker(intrinsic: dict[str, Any]) -> str:
    """A JSON-safe stand-in for an intrinsic inside a string."""
    ((name, value),) = intrinsic.items()
    if name == "Ref":
        return f"${{Ref:{value}}}"
    if name == "Fn::GetAtt":
        return f"${{GetAtt:{value[0]}.{value[1]}}}"
    if name == "Fn::GetStackOutput":
        return f"${{Output:{value['StackName']}.{value['OutputName']}}}"
    if name == "Fn::FindInMap":
        return f"${{FindInMap:{value[0]}}}"
    if name == "Fn::Sub":
        return f"${{Sub:{value}}}"
    if name == "Fn::Join":
        return str(value[0]).join(
            part if isinstance(part, str) else _marker(part) for part in value[1]
        )
    raise AssertionError(f"unexpected intrinsic {name}")


def _flatten(value: Any) -> Any:
    """Resolved definition data with every intrinsic string replaced by its marker."""
    if isinstance(value, dict):
        if len(value) == 1 and (next(iter(value)).startswith("Fn::") or "Ref" in value):
            return _marker(value)
        return {k: _flatten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flatten(v) for v in value]
    return value


def _body(template: dict[str, Any], logical_prefix: str) -> dict[str, Any]:
    (pipeline,) = [
        r
        for k, r in resources_of_type(template, "AWS::SageMaker::Pipeline").items()
        if k.startswith(logical_prefix)
    ]
    body = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    text = body if isinstance(body, str) else _marker(body)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def test_the_stack_has_no_cfn_lint_errors(synthesized: Synthesized) -> None:
    matches = lint_file(
        Path(synthesized.template_path), config=ManualArgs(regions=["us-east-1", "eu-west-1"])
    )
    assert [m for m in matches if m.rule.id.startswith("E")] == [], matches
    assert matches == [], "\n".join(f"{m.rule.id} {m.message}" for m in matches)


@pytest.mark.parametrize("pipeline", ["training_pipeline", "tuning_pipeline"])
def test_the_definitions_pass_botocore_validation(synthesized: Synthesized, pipeline: str) -> None:
    assert getattr(synthesized.stack, pipeline).definition.validate() == []


@pytest.mark.parametrize(
    ("pipeline", "logical_prefix"),
    [("training_pipeline", "TrainingPipeline"), ("tuning_pipeline", "TuningPipeline")],
)
def test_the_synthesized_definition_round_trips(
    synthesized: Synthesized, pipeline: str, logical_prefix: str
) -> None:
    built = getattr(synthesized.stack, pipeline).definition.to_json()
    expected = _flatten(synthesized.stack.resolve(built))
    assert _body(synthesized.template, logical_prefix) == expected


def test_the_reference_pipeline_flows_preprocess_train_evaluate_condition_register(
    synthesized: Synthesized,
) -> None:
    body = _body(synthesized.template, "TrainingPipeline")
    steps = {s["Name"]: s for s in body["Steps"]}
    assert list(steps) == ["Preprocess", "Baseline", "Train", "Evaluate", "CheckAuc"]
    train = steps["Train"]["Arguments"]
    assert train["EnableManagedSpotTraining"] is True
    assert (
        train["StoppingCondition"]["MaxWaitTimeInSeconds"]
        >= train["StoppingCondition"]["MaxRuntimeInSeconds"]
    )
    assert "/churn/checkpoints" in train["CheckpointConfig"]["S3Uri"]
    assert train["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert steps["Evaluate"]["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]
    condition = steps["CheckAuc"]["Arguments"]["Conditions"][0]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    assert (
        condition["LeftValue"]["Std:JsonGet"]["Path"] == "binary_classification_metrics.auc.value"
    )
    assert condition["RightValue"] == {"Get": "Parameters.MinimumAuc"}
    (register,) = steps["CheckAuc"]["Arguments"]["IfSteps"]
    assert register["Type"] == "RegisterModel"
    assert register["Arguments"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["Arguments"]["ModelPackageGroupName"] == "churn"
    metrics = register["Arguments"]["ModelMetrics"]
    assert metrics["ModelQuality"]["Statistics"]["S3Uri"]["Std:Join"]["Values"][1] == (
        "evaluation.json"
    )
    assert metrics["ModelDataQuality"]["Statistics"]["S3Uri"]["Std:Join"]["Values"][1] == (
        "statistics.json"
    )


def test_every_job_is_encrypted_isolated_and_in_the_vpc(synthesized: Synthesized) -> None:
    body = _body(synthesized.template, "TrainingPipeline")
    jobs = [s for s in body["Steps"] if s["Type"] in ("Processing", "Training")]
    for step in jobs:
        arguments = step["Arguments"]
        if step["Type"] == "Processing":
            cluster = arguments["ProcessingResources"]["ClusterConfig"]
            network = arguments["NetworkConfig"]
            output_key = arguments["ProcessingOutputConfig"]["KmsKeyId"]
        else:
            cluster = arguments["ResourceConfig"]
            network = arguments
            output_key = arguments["OutputDataConfig"]["KmsKeyId"]
        assert "DataLakeKey" in cluster["VolumeKmsKeyId"], step["Name"]
        assert "DataLakeKey" in output_key, step["Name"]
        assert network["EnableNetworkIsolation"] is True
        assert network["EnableInterContainerTrafficEncryption"] is True
        vpc = network["VpcConfig"]
        assert len(vpc["Subnets"]) == 2
        assert len(vpc["SecurityGroupIds"]) == 1


def test_the_tuning_variant_searches_bayesian_and_registers_the_best_job(
    synthesized: Synthesized,
) -> None:
    body = _body(synthesized.template, "TuningPipeline")
    steps = {s["Name"]: s for s in body["Steps"]}
    config = steps["Tune"]["Arguments"]["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "validation:auc",
    }
    assert {r["Name"] for r in config["ParameterRanges"]["ContinuousParameterRanges"]} == {
        "eta",
        "subsample",
        "min_child_weight",
    }
    (register,) = steps["CheckAuc"]["Arguments"]["IfSteps"]
    model_url = register["Arguments"]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert model_url["Std:Join"]["Values"][1] == {
        "Get": "Steps.Tune.TrainingJobSummaries[0].TrainingJobName"
    }


def test_the_retraining_pipeline_is_exposed_for_the_drift_loop(synthesized: Synthesized) -> None:
    pipeline = synthesized.stack.retraining_pipeline
    assert pipeline.pipeline_name == "churn-training"
    assert "pipeline/churn-training" in json.dumps(synthesized.stack.resolve(pipeline.pipeline_arn))
    schedules = resources_of_type(synthesized.template, "AWS::Scheduler::Schedule")
    (schedule,) = schedules.values()
    assert schedule["Properties"]["ScheduleExpression"] == "rate(7 days)"


def test_the_reference_definition_snapshot(
    synthesized: Synthesized, snapshot: SnapshotAssertion
) -> None:
    body = _body(synthesized.template, "TrainingPipeline")
    assert normalize_values(body) == snapshot.use_extension(JSONSnapshotExtension)

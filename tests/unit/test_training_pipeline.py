"""TrainingPipeline: the CfnPipeline, its role, failure notifications, schedule and errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import DataLake, Zone
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from sagemaker_lifecycle.execution_roles import ExecutionRole, JobKind
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.pipelines import (
    ConditionGreaterThanOrEqualTo,
    ConditionStep,
    FailStep,
    JsonGet,
    LakeLocation,
    MetricsReport,
    ParameterFloat,
    PipelineDefinition,
    ProcessingJob,
    ProcessingOutput,
    ProcessingStep,
    PropertyFile,
    RegisterModelStep,
    TrainingPipeline,
)
from tests.support import new_stack, resources_of_type, template_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def _definition(stack: Stack, lake: DataLake, registry: ModelRegistry) -> PipelineDefinition:
    role = ExecutionRole(stack, "JobRole", kind=JobKind.PROCESSING, key=lake.key)
    report = PropertyFile(name="Report", output_name="report", path="report.json")
    evaluate = ProcessingStep(
        "Evaluate",
        ProcessingJob(
            role=role.role,
            image_uri=IMAGE,
            key=lake.key,
            outputs=[
                ProcessingOutput(
                    name="report",
                    source="/opt/ml/processing/report",
                    destination=LakeLocation(lake, Zone.ARTIFACTS, "reports/"),
                )
            ],
        ),
        property_files=[report],
    )
    threshold = ParameterFloat("Threshold", 0.5)
    register = RegisterModelStep(
        "Register",
        registry=registry,
        image_uri=IMAGE,
        model_data_url="s3://bucket/model.tar.gz",
        model_quality=MetricsReport(s3_uri="s3://bucket/report.json"),
    )
    check = ConditionStep(
        "Check",
        conditions=[ConditionGreaterThanOrEqualTo(JsonGet("Evaluate", report, "auc"), threshold)],
        if_steps=[register],
        else_steps=[FailStep("Stop", error_message="below threshold")],
    )
    return PipelineDefinition(steps=[evaluate, check], parameters=[threshold])


@pytest.fixture(scope="module")
def built() -> tuple[TrainingPipeline, dict[str, Any]]:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    registry = ModelRegistry(stack, "Registry", model_package_group_name="churn")
    pipeline = TrainingPipeline(
        stack,
        "Pipeline",
        pipeline_name="Churn-Training",
        definition=_definition(stack, lake, registry),
        schedule="cron(0 3 ? * MON *)",
        schedule_parameters={"Threshold": "0.8"},
        max_parallel_steps=4,
    )
    starter = iam.Role(stack, "Starter", assumed_by=iam.AccountRootPrincipal())
    acknowledge_inline_policy(starter)
    pipeline.grant_start_execution(starter)
    return pipeline, template_of(stack)


def _statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources_of_type(template, "AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_pipeline_resource_carries_name_role_and_inline_definition(
    built: tuple[TrainingPipeline, dict[str, Any]],
) -> None:
    pipeline, template = built
    (resource,) = resources_of_type(template, "AWS::SageMaker::Pipeline").values()
    assert pipeline.node.default_child is pipeline.resource
    properties = resource["Properties"]
    assert properties["PipelineName"] == "Churn-Training"
    assert properties["RoleArn"]["Fn::GetAtt"][0].startswith("PipelineRole")
    assert properties["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 4}
    body = properties["PipelineDefinition"]["PipelineDefinitionBody"]
    assert '"Version":"2020-12-01"' in json.dumps(body).replace("\\", "")
    assert any(d.startswith("PipelineRoleDefaultPolicy") for d in resource["DependsOn"])


def test_the_pipeline_role_starts_only_pipeline_jobs_and_passes_only_step_roles(
    built: tuple[TrainingPipeline, dict[str, Any]],
) -> None:
    _, template = built
    statements = _statements(template, "PipelineRole")
    (jobs,) = [s for s in statements if "sagemaker:CreateProcessingJob" in s["Action"]]
    assert jobs["Resource"]["Fn::Join"][1][-1] == ":processing-job/pipelines-*"
    assert not any("sagemaker:CreateTrainingJob" in s["Action"] for s in statements)
    (passing,) = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert passing["Resource"]["Fn::GetAtt"][0].startswith("JobRole")
    text = json.dumps(statements)
    assert "sagemaker:CreateModelPackage" in text  # registry.grant_register
    assert "/reports/*" in text  # reads the property file


def test_failed_executions_of_this_pipeline_go_to_an_encrypted_topic(
    built: tuple[TrainingPipeline, dict[str, Any]],
) -> None:
    pipeline, template = built
    (rule,) = resources_of_type(template, "AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.sagemaker"]
    assert pattern["detail-type"] == ["SageMaker Model Building Pipeline Execution Status Change"]
    assert pattern["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    assert "pipeline/churn-training" in json.dumps(pattern["detail"]["pipelineArn"])
    (topic,) = resources_of_type(template, "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    assert rule["Properties"]["Targets"][0]["Arn"]["Ref"].startswith("PipelineFailureTopic")
    assert pipeline.alarm_topic is not None


def test_the_schedule_starts_the_pipeline_with_parameters(
    built: tuple[TrainingPipeline, dict[str, Any]],
) -> None:
    _, template = built
    Template.from_json(template).has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(0 3 ? * MON *)",
            "KmsKeyArn": Match.any_value(),
            "Target": Match.object_like(
                {
                    "SageMakerPipelineParameters": {
                        "PipelineParameterList": [{"Name": "Threshold", "Value": "0.8"}]
                    }
                }
            ),
        },
    )
    (start,) = [
        s
        for s in _statements(template, "PipelineScheduleRole")
        if "StartPipelineExecution" in str(s)
    ]
    assert "pipeline/churn-training" in json.dumps(start["Resource"])


def test_grant_start_execution_names_the_pipeline(
    built: tuple[TrainingPipeline, dict[str, Any]],
) -> None:
    _, template = built
    (statement,) = _statements(template, "Starter")
    assert statement["Action"] == "sagemaker:StartPipelineExecution"
    assert json.dumps(statement["Resource"]).endswith(':pipeline/churn-training"]]}')


def test_metrics_come_from_the_pipeline_namespace(
    built: tuple[TrainingPipeline, dict[str, Any]],
) -> None:
    pipeline, _ = built
    metric = pipeline.metric_execution_failed()
    assert metric.namespace == "AWS/Sagemaker/ModelBuildingPipeline"
    assert metric.metric_name == "ExecutionFailed"
    assert metric.dimensions == {"PipelineName": "Churn-Training"}
    assert pipeline.metric_execution_succeeded().metric_name == "ExecutionSucceeded"


def _pipeline(**props: Any) -> TrainingPipeline:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    registry = ModelRegistry(stack, "Registry", model_package_group_name="churn")
    options: dict[str, Any] = {
        "pipeline_name": "churn",
        "definition": _definition(stack, lake, registry),
    }
    options.update(props)
    return TrainingPipeline(stack, "Pipeline", **options)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"pipeline_name": "churn_training"}, "pipeline_name must match"),
        ({"schedule": "rate(1 hours)"}, "schedule 'rate\\(1 hours\\)' is not a valid"),
        (
            {"schedule_parameters": {"Treshold": "1"}},
            "schedule_parameters names parameter 'Treshold'",
        ),
        ({"max_parallel_steps": 0}, "max_parallel_steps must be from 1"),
        ({"inline_definition_limit": 10}, "inline_definition_limit must be from 1024"),
        ({"description": "x" * 3073}, "description must be at most 3072"),
    ],
)
def test_invalid_props_are_rejected(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _pipeline(**props)


def test_an_invalid_definition_fails_with_the_step_and_path() -> None:
    stack = new_stack()
    broken = PipelineDefinition(steps=[FailStep("Stop", error_message="x", depends_on=["Nope"])])
    with pytest.raises(
        ValueError, match=re.escape("definition: step 'Stop': DependsOn[0]: no step named 'Nope'")
    ):
        TrainingPipeline(stack, "Pipeline", pipeline_name="churn", definition=broken)


def test_a_large_definition_without_a_location_fails() -> None:
    with pytest.raises(ValueError, match="give definition_location"):
        _pipeline(inline_definition_limit=1024)


def test_a_large_definition_is_deployed_to_the_data_lake() -> None:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    registry = ModelRegistry(stack, "Registry", model_package_group_name="churn")
    TrainingPipeline(
        stack,
        "Pipeline",
        pipeline_name="churn",
        definition=_definition(stack, lake, registry),
        inline_definition_limit=1024,
        definition_location=LakeLocation(lake, Zone.ARTIFACTS, "pipelines/"),
    )
    template = template_of(stack)  # no open findings
    (resource,) = resources_of_type(template, "AWS::SageMaker::Pipeline").values()
    location = resource["Properties"]["PipelineDefinition"]["PipelineDefinitionS3Location"]
    assert location["Key"].startswith("pipelines/churn-")
    assert location["Key"].endswith(".json")
    # The bucket comes from the deployment, so the pipeline is created after the copy.
    assert "PipelineDefinitionDeployment" in json.dumps(location["Bucket"])
    (deployment,) = resources_of_type(template, "Custom::CDKBucketDeployment").values()
    assert deployment["Properties"]["DestinationBucketKeyPrefix"] == "pipelines/"
    assert deployment["Properties"]["Prune"] is False
    assert "DestinationBucketName" in deployment["Properties"]


@settings(max_examples=25)
@given(name=st.from_regex(r"[a-zA-Z0-9-]{1,20}", fullmatch=True))
def test_pipeline_names_follow_the_api_pattern(name: str) -> None:
    valid = re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}", name) is not None
    if valid:
        assert _pipeline(pipeline_name=name).pipeline_name == name
    else:
        with pytest.raises(ValueError, match="pipeline_name"):
            _pipeline(pipeline_name=name)

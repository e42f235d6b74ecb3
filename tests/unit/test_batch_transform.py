"""Batch transform: TransformSettings, BatchTransformStep and ScheduledBatchInference.

One stack holds two batch inference pipelines, synthesized once with the compliance packs:
``Nightly`` scores with image + model data in the ML network, a key and topic passed in,
data capture and data-processing filters; ``Versions`` scores with a registered model
version on a GPU (NVMe) instance type, creating its own key and topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from constructs import IConstruct
from hypothesis import given
from hypothesis import strategies as st

from sagemaker_lifecycle import DataLake, MlNetwork, Zone
from sagemaker_lifecycle._internal.messaging import encrypted_topic
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from sagemaker_lifecycle.images import Framework
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.pipelines import (
    LakeLocation,
    ModelDefinition,
    ModelStep,
    ParameterInteger,
    PipelineDefinition,
    TrainingPipeline,
    validate_definition,
)
from sagemaker_lifecycle.serving import (
    BatchTransformStep,
    InferenceImage,
    ModelSource,
    ScheduledBatchInference,
    TransformSettings,
)
from sagemaker_lifecycle.serving.scheduled_batch_inference import DEFAULT_TRANSFORM_RETRY
from tests.support import new_stack, resources_of_type, template_of

MODEL_KEY = "models/churn/bootstrap/model.tar.gz"
GROUP = "churn-models"
PACKAGE_ARN = f"arn:aws:sagemaker:eu-west-1:111122223333:model-package/{GROUP}/7"
NIGHTLY_SETTINGS = TransformSettings(
    instance_type="ml.m5.2xlarge",
    instance_count=3,
    max_payload_mb=10,
    max_concurrent_transforms=4,
    input_filter="$[1:]",
    join_source="Input",
    output_filter="$[0,-1]",
    environment={"SAGEMAKER_MODEL_SERVER_TIMEOUT": "120"},
    invocations_timeout=Duration.minutes(5),
    invocations_max_retries=1,
)


@dataclass
class Built:
    stack: Stack
    template: dict[str, Any]
    lake: DataLake
    network: MlNetwork
    key: kms.Key
    nightly: ScheduledBatchInference
    versions: ScheduledBatchInference
    succeeded_rule: events.Rule

    def logical_id(self, construct: IConstruct) -> str:
        child = construct.node.default_child
        assert child is not None
        return str(self.stack.resolve(child.logical_id))  # type: ignore[attr-defined]

    def definition(self, batch: ScheduledBatchInference) -> dict[str, Any]:
        resolved: dict[str, Any] = self.stack.resolve(batch.definition.to_json())
        return resolved

    def step(self, batch: ScheduledBatchInference, name: str) -> dict[str, Any]:
        steps: list[dict[str, Any]] = self.definition(batch)["Steps"]
        (step,) = [s for s in steps if s["Name"] == name]
        return step

    def statements(self, role: iam.IRole) -> list[dict[str, Any]]:
        role_id = self.logical_id(role)
        return [
            statement
            for policy in resources_of_type(self.template, "AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]

    def arn_of(self, construct: IConstruct) -> dict[str, Any]:
        return {"Fn::GetAtt": [self.logical_id(construct), "Arn"]}


def _image(stack: Stack) -> InferenceImage:
    return InferenceImage.from_framework(stack, Framework.XGBOOST)


@pytest.fixture(scope="module")
def built() -> Built:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    network = MlNetwork(stack, "Network")
    key = kms.Key(stack, "ServingKey", enable_key_rotation=True)
    topic = encrypted_topic(stack, "AlarmTopic", key=key)
    nightly = ScheduledBatchInference(
        stack,
        "Nightly",
        pipeline_name="churn-nightly-scoring",
        model_source=ModelSource.from_artifacts(_image(stack), MODEL_KEY),
        data_lake=lake,
        source=LakeLocation(lake, Zone.CURATED, "batch/churn/input/"),
        output=LakeLocation(lake, Zone.CURATED, "batch/churn/predictions/"),
        data_capture=LakeLocation(lake, Zone.CAPTURE, "batch/churn/"),
        schedule="cron(0 2 * * ? *)",
        schedule_time_zone="Europe/Paris",
        settings=NIGHTLY_SETTINGS,
        network=network,
        key=key,
        alarm_topic=topic,
    )
    registry = ModelRegistry(stack, "Registry", model_package_group_name=GROUP)
    versions = ScheduledBatchInference(
        stack,
        "Versions",
        model_source=ModelSource.from_model_package(PACKAGE_ARN, images=(_image(stack),)),
        registry=registry,
        artifacts_read_prefix="models/churn/",
        data_lake=lake,
        source=LakeLocation(lake, Zone.RAW, "churn/events/"),
        output=LakeLocation(lake, Zone.CURATED, "churn/scores/"),
        schedule="rate(12 hours)",
        settings=TransformSettings(instance_type="ml.g5.xlarge", split_type="None"),
    )
    for grantee_id, grant in (
        ("Starter", nightly.grant_start_execution),
        ("Reader", nightly.grant_read_predictions),
    ):
        role = iam.Role(stack, grantee_id, assumed_by=iam.AccountRootPrincipal())
        acknowledge_inline_policy(role)
        grant(role)
    succeeded = nightly.on_execution_status_change("Succeeded", statuses=["Succeeded"])
    return Built(stack, template_of(stack), lake, network, key, nightly, versions, succeeded)


# --- the pipelines and their schedules -----------------------------------------------------


def test_each_construct_deploys_one_named_pipeline_run_by_its_own_role(built: Built) -> None:
    pipelines = resources_of_type(built.template, "AWS::SageMaker::Pipeline")
    assert len(pipelines) == 2
    nightly = pipelines[built.logical_id(built.nightly.pipeline)]["Properties"]
    assert nightly["PipelineName"] == "churn-nightly-scoring"
    assert nightly["RoleArn"] == built.arn_of(built.nightly.pipeline.role)
    assert built.nightly.pipeline_name == "churn-nightly-scoring"
    assert built.nightly.pipeline_arn == built.nightly.pipeline.pipeline_arn
    # Without a name, one is derived from the construct path.
    versions = pipelines[built.logical_id(built.versions.pipeline)]["Properties"]
    assert versions["PipelineName"].startswith("Test-Versions-")


def test_schedule_starts_the_pipeline_nightly_in_its_time_zone_encrypted(built: Built) -> None:
    schedule = resources_of_type(built.template, "AWS::Scheduler::Schedule")[
        built.logical_id(built.nightly.schedule)
    ]["Properties"]
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["State"] == "ENABLED"
    assert schedule["KmsKeyArn"] == built.arn_of(built.key)
    assert ":pipeline/churn-nightly-scoring" in json.dumps(schedule["Target"]["Arn"])


def test_a_rate_schedule_runs_in_utc(built: Built) -> None:
    schedule = resources_of_type(built.template, "AWS::Scheduler::Schedule")[
        built.logical_id(built.versions.schedule)
    ]["Properties"]
    assert schedule["ScheduleExpression"] == "rate(12 hours)"
    assert schedule["ScheduleExpressionTimezone"] == "Etc/UTC"


def test_the_definition_holds_a_model_step_then_a_transform_step_valid_for_the_api(
    built: Built,
) -> None:
    for batch in (built.nightly, built.versions):
        definition = batch.definition.to_json()
        assert [s["Name"] for s in definition["Steps"]] == ["CreateModel", "BatchTransform"]
        assert [s["Type"] for s in definition["Steps"]] == ["Model", "Transform"]
        assert validate_definition(definition) == []
        transform = built.step(batch, "BatchTransform")
        assert transform["Arguments"]["ModelName"] == {"Get": "Steps.CreateModel.ModelName"}


def test_the_inline_definition_in_the_template_is_the_validated_one(built: Built) -> None:
    resource = resources_of_type(built.template, "AWS::SageMaker::Pipeline")[
        built.logical_id(built.nightly.pipeline)
    ]
    body = resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    assert body == built.stack.resolve(
        built.stack.to_json_string(built.nightly.definition.to_json())
    )


# --- the model step ------------------------------------------------------------------------


def test_model_step_serves_the_artifact_network_isolated_in_the_ml_network(built: Built) -> None:
    arguments = built.step(built.nightly, "CreateModel")["Arguments"]
    assert arguments["ExecutionRoleArn"] == built.arn_of(built.nightly.role)
    assert arguments["EnableNetworkIsolation"] is True
    container = arguments["PrimaryContainer"]
    assert container["ModelDataUrl"]["Fn::Join"][1] == [
        "s3://",
        {"Ref": built.logical_id(built.lake.artifacts_bucket)},
        f"/{MODEL_KEY}",
    ]
    assert container["Image"]["Fn::Join"][1][-1] == "/sagemaker-xgboost:1.7-1"
    assert arguments["VpcConfig"] == built.stack.resolve(built.network.sagemaker_vpc_config())


def test_model_package_source_creates_the_model_from_the_version_parameter(built: Built) -> None:
    definition = built.definition(built.versions)
    arguments = built.step(built.versions, "CreateModel")["Arguments"]
    assert arguments["PrimaryContainer"] == {
        "ModelPackageName": {"Get": "Parameters.ModelPackageArn"}
    }
    assert "VpcConfig" not in arguments
    (parameter,) = [p for p in definition["Parameters"] if p["Name"] == "ModelPackageArn"]
    assert parameter["DefaultValue"] == PACKAGE_ARN
    assert [p["Name"] for p in built.definition(built.nightly)["Parameters"]] == ["InputS3Uri"]


def test_model_step_retries_service_faults_only(built: Built) -> None:
    (policy,) = built.step(built.nightly, "CreateModel")["RetryPolicies"]
    assert policy["ExceptionType"] == ["Step.SERVICE_FAULT", "Step.THROTTLING"]
    assert policy["MaxAttempts"] == 3


# --- the transform step --------------------------------------------------------------------


def test_transform_reads_the_input_parameter_which_defaults_to_the_source_prefix(
    built: Built,
) -> None:
    arguments = built.step(built.nightly, "BatchTransform")["Arguments"]
    source = arguments["TransformInput"]["DataSource"]["S3DataSource"]
    assert source == {"S3DataType": "S3Prefix", "S3Uri": {"Get": "Parameters.InputS3Uri"}}
    (parameter,) = built.definition(built.nightly)["Parameters"]
    assert parameter["Type"] == "String"
    assert parameter["DefaultValue"]["Fn::Join"][1] == [
        "s3://",
        {"Ref": built.logical_id(built.lake.curated_bucket)},
        "/batch/churn/input/",
    ]


def test_predictions_go_to_a_folder_per_execution_encrypted_with_the_lake_key(
    built: Built,
) -> None:
    output = built.step(built.nightly, "BatchTransform")["Arguments"]["TransformOutput"]
    join = output["S3OutputPath"]["Std:Join"]
    assert join["On"] == "/"
    assert join["Values"][1:] == [{"Get": "Execution.PipelineExecutionId"}, "transform"]
    assert join["Values"][0]["Fn::Join"][1][-1] == "/batch/churn/predictions"
    assert output["KmsKeyId"] == built.arn_of(built.lake.key)


def test_volumes_are_encrypted_with_the_construct_key(built: Built) -> None:
    resources = built.step(built.nightly, "BatchTransform")["Arguments"]["TransformResources"]
    assert resources == {
        "InstanceType": "ml.m5.2xlarge",
        "InstanceCount": 3,
        "VolumeKmsKeyId": built.arn_of(built.key),
    }


def test_nvme_instance_types_get_no_volume_key(built: Built) -> None:
    resources = built.step(built.versions, "BatchTransform")["Arguments"]["TransformResources"]
    assert resources == {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1}
    assert built.versions.transform_step.volume_key is None


def test_transform_settings_reach_the_job(built: Built) -> None:
    arguments = built.step(built.nightly, "BatchTransform")["Arguments"]
    assert arguments["TransformInput"]["ContentType"] == "text/csv"
    assert arguments["TransformInput"]["SplitType"] == "Line"
    assert arguments["TransformInput"]["CompressionType"] == "None"
    assert arguments["TransformOutput"]["Accept"] == "text/csv"
    assert arguments["TransformOutput"]["AssembleWith"] == "Line"
    assert arguments["BatchStrategy"] == "MultiRecord"
    assert arguments["MaxPayloadInMB"] == 10
    assert arguments["MaxConcurrentTransforms"] == 4
    assert arguments["DataProcessing"] == {
        "InputFilter": "$[1:]",
        "OutputFilter": "$[0,-1]",
        "JoinSource": "Input",
    }
    assert arguments["Environment"] == {"SAGEMAKER_MODEL_SERVER_TIMEOUT": "120"}
    assert arguments["ModelClientConfig"] == {
        "InvocationsTimeoutInSeconds": 300,
        "InvocationsMaxRetries": 1,
    }


def test_whole_files_are_sent_unbatched_when_not_split(built: Built) -> None:
    arguments = built.step(built.versions, "BatchTransform")["Arguments"]
    assert arguments["TransformInput"]["SplitType"] == "None"
    assert arguments["TransformOutput"]["AssembleWith"] == "None"
    for absent in (
        "BatchStrategy",
        "MaxConcurrentTransforms",
        "DataProcessing",
        "DataCaptureConfig",
    ):
        assert absent not in arguments


def test_data_capture_goes_to_the_capture_zone_with_inference_ids(built: Built) -> None:
    capture = built.step(built.nightly, "BatchTransform")["Arguments"]["DataCaptureConfig"]
    assert capture["GenerateInferenceId"] is True
    assert capture["KmsKeyId"] == built.arn_of(built.lake.key)
    values = capture["DestinationS3Uri"]["Std:Join"]["Values"]
    assert values[0]["Fn::Join"][1] == [
        "s3://",
        {"Ref": built.logical_id(built.lake.capture_bucket)},
        "/batch/churn",
    ]
    assert values[1:] == [{"Get": "Execution.PipelineExecutionId"}, "capture"]


def test_transform_retries_capacity_and_limits_for_two_hours_by_default(built: Built) -> None:
    (policy,) = built.step(built.nightly, "BatchTransform")["RetryPolicies"]
    assert policy == DEFAULT_TRANSFORM_RETRY.to_json()
    assert "SageMaker.CAPACITY_ERROR" in policy["ExceptionType"]
    assert policy["ExpireAfterMin"] == 120


# --- least privilege -----------------------------------------------------------------------


def _s3_resources(statements: list[dict[str, Any]], action: str) -> str:
    return json.dumps([s["Resource"] for s in statements if action in json.dumps(s["Action"])])


def test_model_role_reads_model_data_and_input_and_writes_predictions_and_capture_only(
    built: Built,
) -> None:
    statements = built.statements(built.nightly.role)
    reads = _s3_resources(statements, "s3:GetObject*")
    writes = _s3_resources(statements, "s3:PutObject")
    assert '"/models/churn/bootstrap/*"' in reads
    assert '"/batch/churn/input/*"' in reads
    assert "/batch/churn/predictions/*" not in reads
    assert '"/batch/churn/predictions/*"' in writes
    assert '"/batch/churn/*"' in writes  # the capture prefix, in the capture bucket
    assert "/batch/churn/input/*" not in writes
    assert "/models/" not in writes


def test_model_role_uses_the_volume_key_through_grants_for_aws_resources_only(
    built: Built,
) -> None:
    statements = built.statements(built.nightly.role)
    (create_grant,) = [s for s in statements if s["Action"] == "kms:CreateGrant"]
    assert create_grant["Resource"] == built.arn_of(built.key)
    assert create_grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    # No volume key for NVMe instance storage: no grant on the construct's own key either.
    versions_key = built.versions.key
    assert built.arn_of(versions_key) not in [
        s["Resource"] for s in built.statements(built.versions.role)
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_model_role_pulls_only_the_model_images(built: Built) -> None:
    statements = built.statements(built.nightly.role)
    (pull,) = [s for s in statements if "ecr:BatchGetImage" in s["Action"]]
    assert pull["Resource"]["Fn::Join"][1][-1] == ":repository/sagemaker-xgboost"


def test_only_actions_without_resource_level_permissions_get_a_wildcard(built: Built) -> None:
    wildcard = {
        action
        for statement in built.statements(built.nightly.role)
        if statement["Resource"] == "*"
        for action in _actions(statement)
    }
    assert wildcard == {
        "ecr:GetAuthorizationToken",
        "cloudwatch:PutMetricData",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DeleteNetworkInterfacePermission",
    }


def test_model_role_manages_network_interfaces_only_with_a_network(built: Built) -> None:
    nightly = json.dumps(built.statements(built.nightly.role))
    assert "ec2:CreateNetworkInterface" in nightly
    assert built.logical_id(built.network.security_group) in nightly
    assert "ec2:" not in json.dumps(built.statements(built.versions.role))


def test_pipeline_role_starts_only_pipeline_jobs_and_passes_only_the_model_role(
    built: Built,
) -> None:
    statements = built.statements(built.nightly.pipeline.role)
    (transform,) = [s for s in statements if "sagemaker:CreateTransformJob" in s["Action"]]
    assert transform["Resource"]["Fn::Join"][1][-1] == ":transform-job/pipelines-*"
    (passing,) = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert passing["Resource"] == built.arn_of(built.nightly.role)
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    assert "model-package" not in json.dumps(statements)


def test_pipeline_role_may_create_models_from_the_registry_versions(built: Built) -> None:
    statements = built.statements(built.versions.pipeline.role)
    (deploy,) = [s for s in statements if "sagemaker:DescribeModelPackage" in s["Action"]]
    assert "sagemaker:CreateModel" in deploy["Action"]
    assert json.dumps(deploy["Resource"]).endswith(f':model-package/{GROUP}/*"]]}}')


def _grantee_statements(built: Built, role_prefix: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resources_of_type(built.template, "AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_grant_start_execution_names_the_pipeline_only(built: Built) -> None:
    (statement,) = _grantee_statements(built, "Starter")
    assert statement["Action"] == "sagemaker:StartPipelineExecution"
    assert json.dumps(statement["Resource"]).endswith(':pipeline/churn-nightly-scoring"]]}')


def test_grant_read_predictions_reads_the_output_prefix_only(built: Built) -> None:
    statements = _grantee_statements(built, "Reader")
    reads = _s3_resources(statements, "s3:GetObject*")
    assert '"/batch/churn/predictions/*"' in reads
    assert "/batch/churn/input/" not in reads
    assert "s3:PutObject" not in json.dumps(statements)


# --- notifications, keys, metrics ----------------------------------------------------------


def test_failed_executions_notify_the_given_topic(built: Built) -> None:
    assert built.nightly.alarm_topic is not None
    rule = resources_of_type(built.template, "AWS::Events::Rule")[
        built.logical_id(built.nightly.pipeline.failure_rule)  # type: ignore[arg-type]
    ]["Properties"]
    assert rule["EventPattern"]["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    assert rule["Targets"][0]["Arn"] == {"Ref": built.logical_id(built.nightly.alarm_topic)}


def test_without_a_key_or_topic_an_encrypted_topic_and_a_rotating_retained_key_are_created(
    built: Built,
) -> None:
    key = resources_of_type(built.template, "AWS::KMS::Key")[built.logical_id(built.versions.key)]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    topic = built.versions.alarm_topic
    assert topic is not None
    Template.from_json(built.template).has_resource_properties(
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": built.arn_of(built.versions.key)},
    )
    assert built.logical_id(topic) in resources_of_type(built.template, "AWS::SNS::Topic")


def test_on_execution_status_change_matches_this_pipeline(built: Built) -> None:
    rule = resources_of_type(built.template, "AWS::Events::Rule")[
        built.logical_id(built.succeeded_rule)
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail"]["currentPipelineExecutionStatus"] == ["Succeeded"]
    assert ":pipeline/churn-nightly-scoring" in json.dumps(pattern["detail"]["pipelineArn"])


def test_metrics_are_the_pipeline_metrics(built: Built) -> None:
    for method, name in (
        (built.nightly.metric_execution_started, "ExecutionStarted"),
        (built.nightly.metric_execution_succeeded, "ExecutionSucceeded"),
        (built.nightly.metric_execution_failed, "ExecutionFailed"),
        (built.nightly.metric_execution_stopped, "ExecutionStopped"),
    ):
        metric = method()
        assert metric.namespace == "AWS/Sagemaker/ModelBuildingPipeline"
        assert metric.metric_name == name
        assert metric.dimensions == {"PipelineName": "churn-nightly-scoring"}
    assert built.nightly.metric_execution_failed(period=Duration.hours(1)).period.to_hours() == 1


# --- TransformSettings ---------------------------------------------------------------------


def test_settings_defaults_split_lines_and_batch_as_many_records_as_fit() -> None:
    settings = TransformSettings()
    assert settings.effective_assemble_with == "Line"
    assert settings.effective_batch_strategy == "MultiRecord"
    assert settings.encrypts_volume is True
    assert settings.data_processing == {}
    whole_files = TransformSettings(split_type="None", assemble_with="Line")
    assert whole_files.effective_assemble_with == "Line"
    assert whole_files.effective_batch_strategy is None
    assert TransformSettings(split_type="RecordIO").effective_assemble_with == "None"
    assert TransformSettings(instance_type="ml.g4dn.xlarge").encrypts_volume is False


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"instance_type": "ml.m5.lage"}, "instance_type 'ml.m5.lage' is not one of"),
        ({"instance_type": "ml.t3.medium"}, "TransformInstanceType"),
        ({"instance_count": 0}, "instance_count must be from 1 to 100, got 0"),
        ({"instance_count": 101}, "instance_count must be from 1 to 100, got 101"),
        ({"split_type": "Lines"}, "split_type 'Lines'"),
        ({"assemble_with": "Lines"}, "assemble_with 'Lines'"),
        ({"batch_strategy": "Multi"}, "batch_strategy 'Multi'"),
        (
            {"batch_strategy": "SingleRecord", "split_type": "None"},
            "batch_strategy 'SingleRecord' needs split_type Line, RecordIO or TFRecord",
        ),
        ({"compression_type": "Zip"}, "compression_type 'Zip'"),
        ({"join_source": "Output"}, "join_source 'Output'"),
        ({"content_type": "csv"}, "content_type must be a MIME type"),
        ({"accept": ""}, "accept must be a MIME type"),
        ({"max_payload_mb": 101}, "max_payload_mb must be from 0 to 100, got 101"),
        ({"max_payload_mb": -1}, "max_payload_mb must be from 0 to 100, got -1"),
        ({"max_concurrent_transforms": 0}, "max_concurrent_transforms must be from 1 to 100"),
        (
            {"max_concurrent_transforms": 20, "max_payload_mb": 6},
            r"max_concurrent_transforms x max_payload_mb must be at most 100 MB, got 20 x 6",
        ),
        ({"input_filter": "[1:]"}, r"input_filter must be a JSONPath starting with '\$'"),
        ({"output_filter": "$" + "[0]" * 21}, "output_filter must be a JSONPath .* at most 63"),
        (
            {"content_type": "application/x-recordio-protobuf", "join_source": "Input"},
            "input_filter, output_filter and join_source work on CSV and JSON input only",
        ),
        (
            {"environment": {f"V{i}": "x" for i in range(17)}},
            "environment may hold at most 16 variables, got 17",
        ),
        ({"environment": {"1X": "x"}}, "environment variable name '1X'"),
        ({"environment": {"X": "x" * 10241}}, "environment variable 'X' must be at most 10240"),
        ({"invocations_timeout": Duration.hours(2)}, "invocations_timeout must be from 1 to 3600"),
        (
            {"invocations_timeout": Duration.millis(1500)},
            "invocations_timeout must be a whole number of seconds",
        ),
        ({"invocations_max_retries": 4}, "invocations_max_retries must be from 0 to 3, got 4"),
    ],
)
def test_invalid_settings_are_rejected_naming_the_prop(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"TransformSettings: invalid props:\n(.|\n)*{message}"):
        TransformSettings(**props)


def test_every_bad_setting_is_reported_at_once() -> None:
    with pytest.raises(ValueError, match="TransformSettings: invalid props") as error:
        TransformSettings(instance_type="ml.x", split_type="Words", max_payload_mb=500)
    text = str(error.value)
    for prop in ("instance_type", "split_type", "max_payload_mb"):
        assert prop in text


def test_json_lines_and_content_type_parameters_are_accepted_for_data_processing() -> None:
    for content_type in ("application/jsonlines", "text/csv; charset=utf-8", "application/json"):
        settings = TransformSettings(content_type=content_type, output_filter="$.id")
        assert settings.data_processing == {"OutputFilter": "$.id"}


# --- BatchTransformStep on its own ---------------------------------------------------------


@pytest.fixture(scope="module")
def scratch() -> tuple[Stack, DataLake]:
    """A stack that is never synthesized: steps, definitions and rejected constructs."""
    stack = Stack(App(), "Scratch")
    return stack, DataLake(stack, "Lake")


def _input(lake: DataLake) -> LakeLocation:
    return LakeLocation(lake, Zone.CURATED, "in/")


def _output(lake: DataLake) -> LakeLocation:
    return LakeLocation(lake, Zone.CURATED, "out/")


def test_a_step_for_an_existing_model_needs_the_model_role(
    scratch: tuple[Stack, DataLake],
) -> None:
    _, lake = scratch
    with pytest.raises(ValueError, match="model_role is required when model is a model name"):
        BatchTransformStep("Score", model="churn-model", source=_input(lake), output=_output(lake))


def test_a_step_reads_only_lake_locations(scratch: tuple[Stack, DataLake]) -> None:
    _, lake = scratch
    with pytest.raises(ValueError, match="source must be a LakeLocation"):
        BatchTransformStep(
            "Score",
            model="churn-model",
            model_role=iam.Role.from_role_name(scratch[0], "R1", "model-role"),
            source="s3://bucket/in/",  # type: ignore[arg-type]
            output=LakeLocation(lake, Zone.CURATED, "out/"),
        )


def test_a_step_never_writes_inside_what_it_reads(scratch: tuple[Stack, DataLake]) -> None:
    stack, lake = scratch
    with pytest.raises(ValueError, match="output prefix 'in/scores/' overlaps the source prefix"):
        BatchTransformStep(
            "Score",
            model="churn-model",
            model_role=iam.Role.from_role_name(stack, "R6", "model-role"),
            source=_input(lake),
            output=LakeLocation(lake, Zone.CURATED, "in/scores/"),
        )


def test_a_step_takes_settings_only_as_transform_settings(scratch: tuple[Stack, DataLake]) -> None:
    stack, lake = scratch
    with pytest.raises(ValueError, match="settings must be a TransformSettings, got dict"):
        BatchTransformStep(
            "Score",
            model="churn-model",
            model_role=iam.Role.from_role_name(stack, "R2", "model-role"),
            settings={"instance_type": "ml.m5.xlarge"},  # type: ignore[arg-type]
            source=_input(lake),
            output=_output(lake),
        )


def test_a_step_for_an_existing_model_with_a_parameter_count_is_a_valid_definition(
    scratch: tuple[Stack, DataLake],
) -> None:
    stack, lake = scratch
    count = ParameterInteger("InstanceCount", 2)
    step = BatchTransformStep(
        "Score",
        model="churn-model",
        model_role=iam.Role.from_role_name(stack, "R3", "model-role"),
        settings=TransformSettings(instance_count=count),
        source=_input(lake),
        output=_output(lake),
    )
    definition = PipelineDefinition(steps=[step], parameters=[count]).to_json()
    assert validate_definition(definition) == []
    arguments = step.to_json()["Arguments"]
    assert arguments["ModelName"] == "churn-model"
    assert arguments["TransformResources"]["InstanceCount"] == {"Get": "Parameters.InstanceCount"}
    # Without key=, the volumes use the output lake's key.
    assert stack.resolve(arguments["TransformResources"]["VolumeKmsKeyId"]) == stack.resolve(
        lake.key.key_arn
    )
    assert step.volume_key is lake.key


@given(
    payload=st.integers(min_value=-5, max_value=150),
    concurrency=st.none() | st.integers(min_value=-2, max_value=120),
)
def test_payload_and_concurrency_limits_hold_and_valid_ones_render_valid_definitions(
    scratch: tuple[Stack, DataLake], payload: int, concurrency: int | None
) -> None:
    stack, lake = scratch
    valid = 0 <= payload <= 100 and (
        concurrency is None or (1 <= concurrency <= 100 and concurrency * payload <= 100)
    )
    if not valid:
        with pytest.raises(ValueError, match=r"max_payload_mb|max_concurrent_transforms"):
            TransformSettings(max_payload_mb=payload, max_concurrent_transforms=concurrency)
        return
    settings = TransformSettings(max_payload_mb=payload, max_concurrent_transforms=concurrency)
    model = ModelStep(
        "Model",
        ModelDefinition(
            role=iam.Role.from_role_name(stack, f"Role{payload}x{concurrency}", "model-role"),
            key=lake.key,
            image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            model_data_url="s3://bucket/model.tar.gz",
        ),
    )
    step = BatchTransformStep(
        "Score", model=model, settings=settings, source=_input(lake), output=_output(lake)
    )
    assert validate_definition(PipelineDefinition(steps=[model, step]).to_json()) == []
    assert step.to_json()["Arguments"]["MaxPayloadInMB"] == payload


# --- ScheduledBatchInference validation ----------------------------------------------------


def _batch_props(stack: Stack, lake: DataLake, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "model_source": ModelSource.from_artifacts(_image(stack), MODEL_KEY),
        "data_lake": lake,
        "source": LakeLocation(lake, Zone.CURATED, "batch/in/"),
        "output": LakeLocation(lake, Zone.CURATED, "batch/out/"),
        "schedule": "cron(0 2 * * ? *)",
    }
    props.update(overrides)
    return props


_PACKAGE = {"model_package_arn": PACKAGE_ARN}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pipeline_name": "churn_batch"}, "pipeline_name must match"),
        ({"schedule": "cron(0 2 * * *)"}, "schedule 'cron\\(0 2 \\* \\* \\*\\)' is not a valid"),
        ({"schedule_time_zone": "Paris"}, "schedule_time_zone must be an IANA time zone"),
        (
            {"output": ("CURATED", "batch/in/predictions/")},
            "output prefix 'batch/in/predictions/' overlaps the source prefix 'batch/in/'",
        ),
        ({"output": ("CURATED", "batch/")}, "output prefix 'batch/' overlaps the source prefix"),
        (
            {"data_capture": ("CURATED", "batch/in/capture/")},
            "data_capture prefix 'batch/in/capture/' overlaps",
        ),
        ({"registry": GROUP}, "registry is only used with ModelSource.from_model_package"),
        (
            {"registry": "other-group", "package": True, "artifacts_read_prefix": "models/"},
            "model_source.model_package_arn must be a version of registry 'other-group'",
        ),
        ({"package": True}, "artifacts_read_prefix is required with a model package"),
        ({"model_key": "model.tar.gz"}, "model_source.model_data_key must be inside a folder"),
        ({"model_key": "models/churn/"}, "model_source.model_data_key must be a prefix ending"),
        ({"artifacts_read_prefix": "models/*"}, "artifacts_read_prefix: prefix must be"),
        ({"source": "s3://bucket/batch/in/"}, "source must be a LakeLocation"),
        ({"settings": {"instance_type": "ml.m5.xlarge"}}, "settings must be a TransformSettings"),
    ],
)
def test_invalid_batch_inference_props_are_rejected_naming_the_prop(
    scratch: tuple[Stack, DataLake], overrides: dict[str, Any], message: str
) -> None:
    stack, lake = scratch
    if overrides.pop("package", False):
        overrides["model_source"] = ModelSource.from_model_package(
            PACKAGE_ARN, images=(_image(stack),)
        )
    if "model_key" in overrides:
        overrides["model_source"] = ModelSource.from_artifacts(
            _image(stack), overrides.pop("model_key")
        )
    for prop in ("output", "data_capture"):
        if isinstance(overrides.get(prop), tuple):
            zone, prefix = overrides[prop]
            overrides[prop] = LakeLocation(lake, Zone[zone], prefix)
    if isinstance(overrides.get("registry"), str):
        name = overrides["registry"]
        overrides["registry"] = ModelRegistry.from_model_package_group_name(
            stack, f"Group{len(stack.node.children)}", name
        )
    with pytest.raises(
        ValueError, match=f"ScheduledBatchInference: invalid props:(.|\n)*{message}"
    ):
        ScheduledBatchInference(
            stack, f"Bad{len(stack.node.children)}", **_batch_props(stack, lake, **overrides)
        )


def test_a_folder_in_another_zone_may_share_the_source_prefix(
    scratch: tuple[Stack, DataLake],
) -> None:
    stack, lake = scratch
    batch = ScheduledBatchInference(
        stack,
        "OtherZone",
        **_batch_props(stack, lake, output=LakeLocation(lake, Zone.ARTIFACTS, "batch/in/")),
    )
    assert batch.output.zone is Zone.ARTIFACTS


# --- the pipelines package additions it builds on ------------------------------------------


def test_training_pipeline_rejects_an_unknown_schedule_time_zone(
    scratch: tuple[Stack, DataLake],
) -> None:
    stack, lake = scratch
    step = BatchTransformStep(
        "Score",
        model="churn-model",
        model_role=iam.Role.from_role_name(stack, "R4", "model-role"),
        source=_input(lake),
        output=_output(lake),
    )
    with pytest.raises(ValueError, match="schedule_time_zone must be an IANA time zone"):
        TrainingPipeline(
            stack,
            "TimeZonePipeline",
            pipeline_name="tz",
            definition=PipelineDefinition(steps=[step]),
            schedule="cron(0 2 * * ? *)",
            schedule_time_zone="Mars/Olympus",
        )


def test_model_definition_takes_an_image_or_a_model_package_not_both(
    scratch: tuple[Stack, DataLake],
) -> None:
    stack, lake = scratch
    role = iam.Role.from_role_name(stack, "R5", "model-role")
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    with pytest.raises(ValueError, match=r"give image_uri .* or model_package_name alone"):
        ModelDefinition(role=role, key=lake.key, image_uri=image, model_package_name=PACKAGE_ARN)
    with pytest.raises(ValueError, match=r"give image_uri .* or model_package_name alone"):
        ModelDefinition(role=role, key=lake.key)
    with pytest.raises(ValueError, match=r"give image_uri .* or model_package_name alone"):
        ModelDefinition(
            role=role, key=lake.key, model_package_name=PACKAGE_ARN, model_data_url="s3://b/m"
        )
    # The image form renders as it always has.
    container = ModelDefinition(
        role=role, key=lake.key, image_uri=image, model_data_url="s3://b/m.tar.gz"
    ).to_arguments()["PrimaryContainer"]
    assert container == {"Image": image, "ModelDataUrl": "s3://b/m.tar.gz"}

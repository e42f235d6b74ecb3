"""RealtimeEndpoint: model, capture, encryption, autoscaling, guardrails, alarms, grants."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template
from constructs import IConstruct
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import DataLake, MlNetwork
from sagemaker_lifecycle._internal.instance_types import has_local_instance_storage, vcpu_count
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from sagemaker_lifecycle._internal.sagemaker_api import check_name
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.images import Framework
from sagemaker_lifecycle.serving import (
    AlarmThresholds,
    AutoScaling,
    DataCapture,
    DeploymentGuardrails,
    EndpointAlarm,
    InferenceImage,
    ModelSource,
    ProductionVariant,
    RealtimeEndpoint,
    ScalingMetric,
    ScheduledScaling,
    StepScaling,
    TrafficShifting,
)
from sagemaker_lifecycle.serving.deployment_guardrails import validate_guardrails
from tests.support import new_stack, resources_of_type, template_of

BOOTSTRAP = "models/churn/bootstrap/model.tar.gz"
PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3"


@dataclass
class Synthesized:
    stack: Stack
    template: dict[str, Any]
    full: RealtimeEndpoint
    minimal: RealtimeEndpoint
    nvme: RealtimeEndpoint
    multi_model: RealtimeEndpoint
    package: RealtimeEndpoint
    invoker: iam.Role

    def resources(self, resource_type: str, prefix: str) -> list[dict[str, Any]]:
        return [
            r
            for logical_id, r in resources_of_type(self.template, resource_type).items()
            if logical_id.startswith(prefix)
        ]

    def one(self, resource_type: str, prefix: str) -> dict[str, Any]:
        (resource,) = self.resources(resource_type, prefix)
        return resource

    def logical_id(self, construct: IConstruct) -> str:
        return str(self.stack.resolve(construct.node.default_child.logical_id))  # type: ignore[union-attr]


def _acknowledged(construct: IConstruct) -> set[str]:
    """The cdk-nag finding ids acknowledged on ``construct`` itself."""
    return {
        key.removeprefix("Annotation::")
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for key in entry.data
    }


def _source(stack: Stack) -> ModelSource:
    return ModelSource.from_artifacts(
        InferenceImage.from_framework(stack, Framework.XGBOOST), BOOTSTRAP
    )


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    network = MlNetwork(stack, "Network")
    source = _source(stack)
    full = RealtimeEndpoint(
        stack,
        "Full",
        model_source=source,
        data_lake=lake,
        endpoint_name="churn-full",
        network=network,
        artifacts_read_prefix="models/churn/",
        variants=[
            ProductionVariant(
                variant_name="Primary",
                instance_type="ml.m5.xlarge",
                initial_instance_count=2,
                initial_weight=0.8,
                volume_size_gb=30,
                model_data_download_timeout=Duration.minutes(10),
                container_startup_health_check_timeout=Duration.minutes(5),
                autoscaling=AutoScaling(
                    min_capacity=2,
                    max_capacity=5,
                    invocations_per_instance=250,
                    step_scaling=StepScaling(
                        metric=ScalingMetric.CPU_UTILIZATION,
                        steps=(
                            appscaling.ScalingInterval(upper=20, change=-1),
                            appscaling.ScalingInterval(lower=70, change=+2),
                        ),
                    ),
                    schedules=(
                        ScheduledScaling(
                            "Mornings",
                            "cron(0 7 ? * MON-FRI *)",
                            min_capacity=3,
                            time_zone="Europe/Paris",
                        ),
                    ),
                ),
            ),
            ProductionVariant(
                variant_name="Challenger", instance_type="ml.c5.large", initial_weight=0.2
            ),
        ],
        data_capture=DataCapture(sampling_percentage=25, json_content_types=()),
        guardrails=DeploymentGuardrails(
            traffic_shifting=TrafficShifting.canary(percent=20, wait_interval=Duration.minutes(10)),
            termination_wait=Duration.minutes(15),
            maximum_execution_timeout=Duration.hours(2),
            additional_rollback_alarm_names=("business-kpi-drop",),
        ),
        alarm_thresholds=AlarmThresholds(model_latency_p99=Duration.millis(250)),
    )
    minimal = RealtimeEndpoint(stack, "Minimal", model_source=source, data_lake=lake)
    nvme = RealtimeEndpoint(
        stack,
        "Nvme",
        model_source=source,
        data_lake=lake,
        variants=[ProductionVariant(instance_type="ml.g5.xlarge")],
    )
    multi_model = RealtimeEndpoint(
        stack,
        "Mme",
        model_source=ModelSource.from_artifacts(
            InferenceImage.from_framework(stack, Framework.XGBOOST),
            "models/churn/mme/",
            environment={"SAGEMAKER_MODEL_SERVER_TIMEOUT": "60"},
        ),
        data_lake=lake,
        multi_model=True,
    )
    package = RealtimeEndpoint(
        stack,
        "Package",
        model_source=ModelSource.from_model_package(
            PACKAGE_ARN, images=(InferenceImage.from_framework(stack, Framework.XGBOOST),)
        ),
        data_lake=lake,
        artifacts_read_prefix="models/churn/",
        data_capture=None,
    )
    invoker = iam.Role(stack, "Invoker", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    full.grant_invoke(invoker)
    acknowledge_inline_policy(invoker)
    return Synthesized(
        stack, template_of(stack), full, minimal, nvme, multi_model, package, invoker
    )


# --- model -------------------------------------------------------------------------------


def test_model_runs_network_isolated_in_the_ml_network(synth: Synthesized) -> None:
    model = synth.one("AWS::SageMaker::Model", "FullModel")["Properties"]
    assert model["EnableNetworkIsolation"] is True
    (group,) = model["VpcConfig"]["SecurityGroupIds"]
    assert group["Fn::GetAtt"][0].startswith("NetworkWorkloadSecurityGroup")
    assert len(model["VpcConfig"]["Subnets"]) == 2
    assert model["ExecutionRoleArn"]["Fn::GetAtt"][0].startswith("FullRole")


def test_model_serves_the_image_with_model_data_from_the_artifacts_zone(synth: Synthesized) -> None:
    container = synth.one("AWS::SageMaker::Model", "FullModel")["Properties"]["PrimaryContainer"]
    assert container["Mode"] == "SingleModel"
    assert container["Image"]["Fn::Join"][1][-1] == "/sagemaker-xgboost:1.7-1"
    url = container["ModelDataUrl"]["Fn::Join"][1]
    assert url[1]["Ref"].startswith("LakeArtifactsBucket")
    assert url[-1] == f"/{BOOTSTRAP}"


def test_model_waits_for_its_role_policy(synth: Synthesized) -> None:
    model = synth.one("AWS::SageMaker::Model", "FullModel")
    assert any(d.startswith("FullRoleDefaultPolicy") for d in model["DependsOn"])


def test_without_a_network_the_model_has_no_vpc_config(synth: Synthesized) -> None:
    model = synth.one("AWS::SageMaker::Model", "MinimalModel")["Properties"]
    assert "VpcConfig" not in model
    assert model["EnableNetworkIsolation"] is True


def test_multi_model_hosts_every_model_under_the_prefix(synth: Synthesized) -> None:
    container = synth.one("AWS::SageMaker::Model", "MmeModel")["Properties"]["PrimaryContainer"]
    assert container["Mode"] == "MultiModel"
    assert container["ModelDataUrl"]["Fn::Join"][1][-1] == "/models/churn/mme/"
    assert container["Environment"] == {"SAGEMAKER_MODEL_SERVER_TIMEOUT": "60"}


def test_model_package_source_serves_the_registered_version(synth: Synthesized) -> None:
    container = synth.one("AWS::SageMaker::Model", "PackageModel")["Properties"]["PrimaryContainer"]
    assert container == {"ModelPackageName": PACKAGE_ARN}


# --- endpoint configuration --------------------------------------------------------------


def test_variants_carry_instances_weights_and_timeouts(synth: Synthesized) -> None:
    config = synth.one("AWS::SageMaker::EndpointConfig", "FullEndpointConfig")["Properties"]
    primary, challenger = config["ProductionVariants"]
    model_name = primary.pop("ModelName")
    assert model_name["Fn::GetAtt"][0].startswith("FullModel")
    assert model_name["Fn::GetAtt"][1] == "ModelName"
    assert primary == {
        "VariantName": "Primary",
        "InstanceType": "ml.m5.xlarge",
        "InitialInstanceCount": 2,
        "InitialVariantWeight": 0.8,
        "VolumeSizeInGB": 30,
        "ModelDataDownloadTimeoutInSeconds": 600,
        "ContainerStartupHealthCheckTimeoutInSeconds": 300,
    }
    assert challenger["InstanceType"] == "ml.c5.large"
    assert challenger["InitialVariantWeight"] == 0.2


def test_volumes_are_encrypted_with_the_endpoint_key(synth: Synthesized) -> None:
    config = synth.one("AWS::SageMaker::EndpointConfig", "FullEndpointConfig")["Properties"]
    assert config["KmsKeyId"]["Fn::GetAtt"][0].startswith("FullKey")
    key = synth.one("AWS::KMS::Key", "FullKey")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_local_nvme_instance_types_get_no_volume_key(synth: Synthesized) -> None:
    config = synth.one("AWS::SageMaker::EndpointConfig", "NvmeEndpointConfig")["Properties"]
    assert "KmsKeyId" not in config
    assert "KmsKeyId" not in synth.nvme.deployment_spec["EndpointConfig"]
    assert has_local_instance_storage("ml.g5.xlarge")


def test_only_the_nvme_endpoint_config_acknowledges_the_missing_volume_key(
    synth: Synthesized,
) -> None:
    rule = "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured"
    assert rule in _acknowledged(synth.nvme.cfn_endpoint_config)
    assert rule not in _acknowledged(synth.full.cfn_endpoint_config)


def test_data_capture_writes_requests_and_responses_to_the_capture_zone(synth: Synthesized) -> None:
    capture = synth.one("AWS::SageMaker::EndpointConfig", "FullEndpointConfig")["Properties"][
        "DataCaptureConfig"
    ]
    assert capture["EnableCapture"] is True
    assert capture["InitialSamplingPercentage"] == 25
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert capture["CaptureContentTypeHeader"] == {"CsvContentTypes": ["text/csv"]}
    destination = capture["DestinationS3Uri"]["Fn::Join"][1]
    assert destination[1]["Ref"].startswith("LakeCaptureBucket")
    assert destination[-1] == "/datacapture/churn-full"
    assert capture["KmsKeyId"]["Fn::GetAtt"][0].startswith("LakeKey")


def test_data_capture_can_be_turned_off(synth: Synthesized) -> None:
    config = synth.one("AWS::SageMaker::EndpointConfig", "PackageEndpointConfig")["Properties"]
    assert "DataCaptureConfig" not in config
    assert synth.package.capture_s3_uri is None


# --- endpoint and deployment guardrails --------------------------------------------------


def test_endpoint_has_the_literal_name_and_waits_for_its_encrypted_log_group(
    synth: Synthesized,
) -> None:
    endpoint = synth.one("AWS::SageMaker::Endpoint", "Full")
    assert endpoint["Properties"]["EndpointName"] == "churn-full"
    assert any(d.startswith("FullLogGroup") for d in endpoint["DependsOn"])
    log_group = synth.one("AWS::Logs::LogGroup", "FullLogGroup")
    assert log_group["Properties"]["LogGroupName"] == "/aws/sagemaker/Endpoints/churn-full"
    assert log_group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0].startswith("FullKey")
    assert log_group["Properties"]["RetentionInDays"] == 365
    assert log_group["DeletionPolicy"] == "Retain"


def test_key_lets_cloudwatch_logs_encrypt_only_the_endpoint_log_group(synth: Synthesized) -> None:
    statements = synth.one("AWS::KMS::Key", "FullKey")["Properties"]["KeyPolicy"]["Statement"]
    (logs_statement,) = [s for s in statements if "logs." in str(s["Principal"])]
    arn = logs_statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert arn["Fn::Join"][1][-1] == ":log-group:/aws/sagemaker/Endpoints/churn-full"


def test_deployment_is_a_canary_with_rollback_on_the_endpoint_alarms(synth: Synthesized) -> None:
    config = synth.one("AWS::SageMaker::Endpoint", "Full")["Properties"]["DeploymentConfig"]
    assert config["BlueGreenUpdatePolicy"] == {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 600,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 20},
        },
        "TerminationWaitInSeconds": 900,
        "MaximumExecutionTimeoutInSeconds": 7200,
    }
    alarms = [a["AlarmName"] for a in config["AutoRollbackConfiguration"]["Alarms"]]
    assert alarms[:2] == [
        {"Ref": synth.logical_id(synth.full.alarms[EndpointAlarm.INVOCATION_5XX_ERRORS])},
        {"Ref": synth.logical_id(synth.full.alarms[EndpointAlarm.MODEL_LATENCY_P99])},
    ]
    assert alarms[2] == "business-kpi-drop"


def test_default_guardrails_shift_all_at_once_and_bake(synth: Synthesized) -> None:
    config = synth.one("AWS::SageMaker::Endpoint", "Minimal")["Properties"]["DeploymentConfig"]
    assert config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE",
        "WaitIntervalInSeconds": 300,
    }
    assert len(config["AutoRollbackConfiguration"]["Alarms"]) == 2


def test_stack_updates_keep_the_autoscaled_instance_count(synth: Synthesized) -> None:
    full = synth.one("AWS::SageMaker::Endpoint", "Full")["Properties"]
    assert full["RetainAllVariantProperties"] is True
    assert full["ExcludeRetainedVariantProperties"] == [
        {"VariantPropertyType": "DesiredWeight"},
        {"VariantPropertyType": "DataCaptureConfig"},
    ]
    minimal = synth.one("AWS::SageMaker::Endpoint", "Minimal")["Properties"]
    assert "RetainAllVariantProperties" not in minimal


# --- autoscaling -------------------------------------------------------------------------


def test_autoscaled_variant_is_a_scalable_target_after_the_endpoint(synth: Synthesized) -> None:
    (target,) = synth.resources("AWS::ApplicationAutoScaling::ScalableTarget", "Full")
    assert target["Properties"]["ResourceId"] == "endpoint/churn-full/variant/Primary"
    assert target["Properties"]["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (2, 5)
    assert target["DependsOn"] == [synth.logical_id(synth.full)]
    role = target["Properties"]["RoleARN"]["Fn::Join"][1][-1]
    assert role.endswith("/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")
    # Application Auto Scaling uses its service-linked role: no role of ours is created.
    assert not [k for k in resources_of_type(synth.template, "AWS::IAM::Role") if "Scaling" in k]
    assert set(synth.full.scalable_targets) == {"Primary"}


def test_target_tracking_on_invocations_per_instance(synth: Synthesized) -> None:
    Template.from_json(synth.template).has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "TargetValue": 250,
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        },
    )


def test_step_scaling_on_the_variant_cpu(synth: Synthesized) -> None:
    policies = [
        p["Properties"]
        for p in synth.resources("AWS::ApplicationAutoScaling::ScalingPolicy", "Full")
        if p["Properties"]["PolicyType"] == "StepScaling"
    ]
    assert len(policies) == 2  # one for each direction
    alarms = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm", "Full")
        if a["Properties"].get("MetricName") == "CPUUtilization"
    ]
    assert {a["Namespace"] for a in alarms} == {"/aws/sagemaker/Endpoints"}
    for alarm in alarms:
        assert {"Name": "VariantName", "Value": "Primary"} in alarm["Dimensions"]


def test_scheduled_scaling_in_its_time_zone(synth: Synthesized) -> None:
    (target,) = synth.resources("AWS::ApplicationAutoScaling::ScalableTarget", "Full")
    (action,) = target["Properties"]["ScheduledActions"]
    assert action["Schedule"] == "cron(0 7 ? * MON-FRI *)"
    assert action["ScalableTargetAction"] == {"MinCapacity": 3}
    assert action["Timezone"] == "Europe/Paris"


# --- alarms ------------------------------------------------------------------------------


def test_every_alarm_notifies_the_encrypted_alarm_topic(synth: Synthesized) -> None:
    assert set(synth.full.alarms) == set(EndpointAlarm)
    topic_id = synth.logical_id(synth.full.alarm_topic)
    for alarm in synth.full.alarms.values():
        properties = synth.template["Resources"][synth.logical_id(alarm)]["Properties"]
        assert properties["AlarmActions"] == [{"Ref": topic_id}]
    topic = synth.template["Resources"][topic_id]["Properties"]
    assert topic["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("FullKey")
    statements = synth.one("AWS::KMS::Key", "FullKey")["Properties"]["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)


def _alarm(
    synth: Synthesized, which: EndpointAlarm, endpoint: RealtimeEndpoint | None = None
) -> dict[str, Any]:
    alarm = (endpoint or synth.full).alarms[which]
    properties: dict[str, Any] = synth.template["Resources"][synth.logical_id(alarm)]["Properties"]
    return properties


def test_5xx_alarm_sums_server_errors_over_variants(synth: Synthesized) -> None:
    alarm = _alarm(synth, EndpointAlarm.INVOCATION_5XX_ERRORS)
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "FILL(v0, 0) + FILL(v1, 0)"
    variants = {
        m["MetricStat"]["Metric"]["Dimensions"][1]["Value"]
        for m in alarm["Metrics"]
        if "MetricStat" in m
    }
    assert variants == {"Primary", "Challenger"}
    assert alarm["Threshold"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"


def test_single_variant_5xx_alarm_uses_the_metric_itself(synth: Synthesized) -> None:
    alarm = _alarm(synth, EndpointAlarm.INVOCATION_5XX_ERRORS, synth.minimal)
    assert alarm["MetricName"] == "Invocation5XXErrors"
    assert alarm["Namespace"] == "AWS/SageMaker"
    assert alarm["Statistic"] == "Sum"


def test_4xx_alarm_is_a_rate_of_invocations(synth: Synthesized) -> None:
    alarm = _alarm(synth, EndpointAlarm.INVOCATION_4XX_ERROR_RATE)
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert expression == "100 * (FILL(v0, 0) + FILL(v1, 0)) / (FILL(i0, 0) + FILL(i1, 0))"
    assert alarm["Threshold"] == 10


def test_latency_alarm_compares_p99_in_microseconds(synth: Synthesized) -> None:
    alarm = _alarm(synth, EndpointAlarm.MODEL_LATENCY_P99)
    assert alarm["Threshold"] == 250_000
    stats = {m["MetricStat"]["Stat"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert stats == {"p99"}


def test_cpu_alarm_is_a_percentage_of_all_vcpus(synth: Synthesized) -> None:
    alarm = _alarm(synth, EndpointAlarm.CPU_UTILIZATION)
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert (
        expression == f"MAX([c0 / {vcpu_count('ml.m5.xlarge')}, c1 / {vcpu_count('ml.c5.large')}])"
    )
    assert expression == "MAX([c0 / 4, c1 / 2])"
    assert alarm["Threshold"] == 80
    assert alarm["TreatMissingData"] == "missing"


def test_memory_alarm_watches_the_busiest_variant(synth: Synthesized) -> None:
    alarm = _alarm(synth, EndpointAlarm.MEMORY_UTILIZATION)
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    assert expression == "MAX([m0, m1])"
    namespaces = {
        m["MetricStat"]["Metric"]["Namespace"] for m in alarm["Metrics"] if "MetricStat" in m
    }
    assert namespaces == {"/aws/sagemaker/Endpoints"}


# --- model role --------------------------------------------------------------------------


def _statements(synth: Synthesized, role_prefix: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in resources_of_type(synth.template, "AWS::IAM::Policy").values():
        if any(r["Ref"].startswith(role_prefix) for r in policy["Properties"]["Roles"]):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def test_model_role_reads_only_the_model_prefix_of_the_artifacts_zone(synth: Synthesized) -> None:
    reads = [s for s in _statements(synth, "FullRole") if "s3:GetObject*" in _actions(s)]
    objects = {str(r) for s in reads for r in s["Resource"] if "Fn::Join" in r}
    assert len(objects) == 1
    assert "LakeArtifactsBucket" in next(iter(objects))
    assert "/models/churn/*" in next(iter(objects))


def test_model_role_reads_the_folder_of_the_model_data_by_default(synth: Synthesized) -> None:
    reads = [s for s in _statements(synth, "MinimalRole") if "s3:GetObject*" in _actions(s)]
    assert "/models/churn/bootstrap/*" in str(reads)


def test_model_role_writes_captured_data_under_its_prefix_only(synth: Synthesized) -> None:
    writes = [s for s in _statements(synth, "FullRole") if "s3:PutObject" in _actions(s)]
    assert len(writes) == 1
    assert "LakeCaptureBucket" in str(writes[0]["Resource"])
    assert "/datacapture/churn-full/*" in str(writes[0]["Resource"])
    assert not any("s3:PutObject" in _actions(s) for s in _statements(synth, "PackageRole"))


def test_model_role_pulls_only_the_model_image_repository(synth: Synthesized) -> None:
    (pull,) = [s for s in _statements(synth, "FullRole") if "ecr:BatchGetImage" in _actions(s)]
    assert pull["Resource"]["Fn::Join"][1][-1] == ":repository/sagemaker-xgboost"


def test_model_role_writes_only_its_own_log_group_and_metric_namespace(synth: Synthesized) -> None:
    statements = _statements(synth, "FullRole")
    (logs_statement,) = [s for s in statements if "logs:PutLogEvents" in _actions(s)]
    (group_arn,) = [r for r in logs_statement["Resource"] if "Fn::Join" in r]
    (streams_arn,) = [r for r in logs_statement["Resource"] if "Fn::GetAtt" in r]
    assert group_arn["Fn::Join"][1][-1] == ":log-group:/aws/sagemaker/Endpoints/churn-full"
    assert streams_arn["Fn::GetAtt"][0].startswith("FullLogGroup")
    (metrics_statement,) = [s for s in statements if "cloudwatch:PutMetricData" in _actions(s)]
    assert metrics_statement["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}
    }


def test_model_role_manages_network_interfaces_only_when_networked(synth: Synthesized) -> None:
    (create,) = [
        s for s in _statements(synth, "FullRole") if "ec2:CreateNetworkInterface" in _actions(s)
    ]
    resources = str(create["Resource"])
    assert ":network-interface/*" in resources
    assert "NetworkWorkloadSecurityGroup" in resources
    assert resources.count(":subnet/") == 2
    assert not any(
        a.startswith("ec2:") for s in _statements(synth, "MinimalRole") for a in _actions(s)
    )


def test_model_role_uses_the_volume_key_only_for_aws_resources(synth: Synthesized) -> None:
    (grant,) = [s for s in _statements(synth, "FullRole") if "kms:CreateGrant" in _actions(s)]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert grant["Resource"]["Fn::GetAtt"][0].startswith("FullKey")


# --- grants and metrics ------------------------------------------------------------------


def test_grant_invoke_allows_invoke_endpoint_on_this_endpoint_only(synth: Synthesized) -> None:
    (statement,) = _statements(synth, "Invoker")
    assert statement["Action"] == "sagemaker:InvokeEndpoint"
    assert statement["Resource"]["Fn::Join"][1][-1] == ":endpoint/churn-full"


def test_metrics_name_the_endpoint_and_variant(synth: Synthesized) -> None:
    stack = synth.stack
    endpoint = synth.full
    cases = {
        "Invocations": (endpoint.metric_invocations(), "AWS/SageMaker", "Sum"),
        "Invocation5XXErrors": (endpoint.metric_invocation_5xx_errors(), "AWS/SageMaker", "Sum"),
        "Invocation4XXErrors": (endpoint.metric_invocation_4xx_errors(), "AWS/SageMaker", "Sum"),
        "ModelLatency": (endpoint.metric_model_latency(), "AWS/SageMaker", "p99"),
        "CPUUtilization": (
            endpoint.metric_cpu_utilization(),
            "/aws/sagemaker/Endpoints",
            "Average",
        ),
        "MemoryUtilization": (
            endpoint.metric_memory_utilization(),
            "/aws/sagemaker/Endpoints",
            "Average",
        ),
    }
    for name, (metric, namespace, statistic) in cases.items():
        assert metric.metric_name == name
        assert metric.namespace == namespace
        assert metric.statistic == statistic
        assert stack.resolve(metric.dimensions) == {
            "EndpointName": "churn-full",
            "VariantName": "Primary",
        }
    challenger = endpoint.metric_invocations(variant_name="Challenger")
    assert challenger.dimensions["VariantName"] == "Challenger"  # type: ignore[index]
    with pytest.raises(ValueError, match="variant_name must be one of Primary, Challenger"):
        endpoint.metric_invocations(variant_name="Missing")


def test_generated_endpoint_names_fit_the_api_pattern(synth: Synthesized) -> None:
    for endpoint in (synth.minimal, synth.nvme, synth.multi_model, synth.package):
        errors = ValidationErrors("Test")
        check_name(errors, "endpoint_name", endpoint.endpoint_name, "EndpointName")
        assert errors._errors == []
    assert synth.minimal.endpoint_name != synth.nvme.endpoint_name


# --- validation --------------------------------------------------------------------------


@pytest.fixture
def parts() -> tuple[Stack, DataLake, ModelSource]:
    stack = new_stack()
    return stack, DataLake(stack, "Lake"), _source(stack)


def _endpoint(parts: tuple[Stack, DataLake, ModelSource], **props: Any) -> RealtimeEndpoint:
    stack, lake, source = parts
    props.setdefault("model_source", source)
    return RealtimeEndpoint(stack, "Endpoint", data_lake=lake, **props)


def _variant(**props: Any) -> dict[str, Any]:
    return {"variants": [ProductionVariant(**props)]}


def _scaled(**props: Any) -> dict[str, Any]:
    return {"variants": [ProductionVariant(autoscaling=AutoScaling(**props))]}


def _shifting(shifting: TrafficShifting, **props: Any) -> dict[str, Any]:
    return {"guardrails": DeploymentGuardrails(traffic_shifting=shifting, **props)}


INVALID_PROPS: list[tuple[str, dict[str, Any], str]] = [
    (
        "bad instance type",
        _variant(instance_type="ml.m5.lage"),
        r"instance_type 'ml.m5.lage' is not one of",
    ),
    ("instance type from another API", _variant(instance_type="ml.m5.large.x"), "instance_type"),
    ("zero instances", _variant(initial_instance_count=0), "initial_instance_count must be from 1"),
    (
        "weights do not sum above zero",
        {"variants": [ProductionVariant(initial_weight=0)]},
        "sum to more than 0",
    ),
    ("negative weight", _variant(initial_weight=-1), "initial_weight must be from 0"),
    ("no variants", {"variants": []}, "variants must hold 1 to 10"),
    (
        "too many variants",
        {"variants": [ProductionVariant(variant_name=f"V{i}") for i in range(11)]},
        "variants must hold 1 to 10",
    ),
    (
        "duplicate variant names",
        {"variants": [ProductionVariant(), ProductionVariant()]},
        "names must be unique, got 'AllTraffic'",
    ),
    ("variant name pattern", _variant(variant_name="all_traffic"), "variant_name must match"),
    ("volume too large", _variant(volume_size_gb=513), "volume_size_gb must be from 1 to 512"),
    (
        "download timeout too short",
        _variant(model_data_download_timeout=Duration.seconds(30)),
        "model_data_download_timeout must be from 60 to 3600 seconds",
    ),
    (
        "fractional health check timeout",
        _variant(container_startup_health_check_timeout=Duration.millis(60_500)),
        "whole number of seconds",
    ),
    (
        "min above max",
        _scaled(min_capacity=3, max_capacity=2),
        r"max_capacity \(2\) must be at least min_capacity \(3\)",
    ),
    ("scale to zero", _scaled(min_capacity=0), "min_capacity must be from 1"),
    (
        "initial count outside min and max",
        {
            "variants": [
                ProductionVariant(initial_instance_count=5, autoscaling=AutoScaling(max_capacity=3))
            ]
        },
        r"initial_instance_count \(5\) must be from min_capacity",
    ),
    (
        "target of zero",
        _scaled(invocations_per_instance=0),
        "invocations_per_instance must be from 1",
    ),
    (
        "fractional cooldown",
        _scaled(scale_in_cooldown=Duration.millis(1500)),
        "scale_in_cooldown must be a whole",
    ),
    (
        "bad schedule",
        _scaled(schedules=(ScheduledScaling("Peak", "cron(0 25 * * ? *)", min_capacity=2),)),
        r"schedules\[Peak\].schedule 'cron\(0 25 \* \* \? \*\)' is not a valid schedule",
    ),
    (
        "schedule without capacity",
        _scaled(schedules=(ScheduledScaling("Peak", "rate(1 day)"),)),
        "must set min_capacity, max_capacity or both",
    ),
    (
        "schedule min above max",
        _scaled(
            schedules=(ScheduledScaling("Peak", "rate(1 day)", min_capacity=4, max_capacity=3),)
        ),
        r"schedules\[Peak\].max_capacity \(3\) must be at least min_capacity \(4\)",
    ),
    (
        "schedule time zone",
        _scaled(
            schedules=(
                ScheduledScaling("Peak", "rate(1 day)", min_capacity=1, time_zone="Mars/Base"),
            )
        ),
        "time_zone must be an IANA time zone",
    ),
    (
        "schedule name",
        _scaled(schedules=(ScheduledScaling("peak hours", "rate(1 day)", min_capacity=1),)),
        "name must be PascalCase",
    ),
    (
        "duplicate schedules",
        _scaled(
            schedules=(
                ScheduledScaling("Peak", "rate(1 day)", min_capacity=1),
                ScheduledScaling("Peak", "rate(2 days)", min_capacity=1),
            )
        ),
        "schedules names must be unique",
    ),
    (
        "one step interval",
        _scaled(
            step_scaling=StepScaling(
                ScalingMetric.CPU_UTILIZATION, (appscaling.ScalingInterval(lower=80, change=1),)
            )
        ),
        "needs at least 2 intervals",
    ),
    (
        "fractional step change",
        _scaled(
            step_scaling=StepScaling(
                ScalingMetric.MODEL_LATENCY,
                (
                    appscaling.ScalingInterval(upper=10, change=-1),
                    appscaling.ScalingInterval(lower=90, change=1.5),
                ),
            )
        ),
        r"steps\[1\].change must be a whole number",
    ),
    (
        "capture percentage",
        {"data_capture": DataCapture(sampling_percentage=101)},
        "sampling_percentage must be an integer from 0 to 100",
    ),
    (
        "capture nothing",
        {"data_capture": DataCapture(capture_input=False, capture_output=False)},
        "capture requests, responses or both",
    ),
    (
        "capture content type",
        {"data_capture": DataCapture(csv_content_types=("csv",))},
        "csv_content_types must match",
    ),
    ("capture prefix", {"data_capture": DataCapture(prefix="../elsewhere")}, "data_capture.prefix"),
    (
        "canary too large",
        _shifting(TrafficShifting.canary(percent=60)),
        "percent must be from 1 to 50",
    ),
    (
        "linear step too small",
        _shifting(TrafficShifting.linear(percent=5)),
        "percent must be from 10 to 50",
    ),
    (
        "canary of the whole fleet",
        _shifting(TrafficShifting.canary(instances=1)),
        r"instances \(1\) must be 1% to 50% of the smallest variant's 1 instance",
    ),
    (
        "canary without size",
        _shifting(TrafficShifting.canary()),
        "needs exactly one of percent and instances",
    ),
    (
        "wait too long",
        _shifting(TrafficShifting.all_at_once(bake_time=Duration.hours(2))),
        "wait_interval must be from 0 to 3600 seconds",
    ),
    (
        "termination wait too long",
        _shifting(TrafficShifting.all_at_once(), termination_wait=Duration.hours(2)),
        "termination_wait must be from 0 to 3600",
    ),
    (
        "timeout shorter than the waits",
        _shifting(
            TrafficShifting.linear(percent=25, wait_interval=Duration.minutes(10)),
            maximum_execution_timeout=Duration.minutes(30),
        ),
        r"maximum_execution_timeout \(1800s\) must be longer than the waiting it covers: 4 wait",
    ),
    (
        "too many rollback alarms",
        {
            "guardrails": DeploymentGuardrails(
                additional_rollback_alarm_names=tuple(f"a{i}" for i in range(9))
            )
        },
        "at most 10 rollback alarms, got 11",
    ),
    ("endpoint name", {"endpoint_name": "churn_endpoint"}, "endpoint_name must match"),
    ("endpoint name length", {"endpoint_name": "e" * 64}, "endpoint_name must be 0 to 63"),
    (
        "multi-model needs a prefix",
        {"multi_model": True},
        "must be a prefix ending in '/' for a multi-model",
    ),
    (
        "multi-model with a package",
        {
            "multi_model": True,
            "model_source": ModelSource.from_model_package(PACKAGE_ARN, images=()),
            "artifacts_read_prefix": "models/",
        },
        "multi_model needs model_source.from_artifacts",
    ),
    (
        "package without read prefix",
        {"model_source": ModelSource.from_model_package(PACKAGE_ARN, images=())},
        "artifacts_read_prefix is required with a model package",
    ),
    (
        "package arn",
        {
            "model_source": ModelSource.from_model_package("arn:aws:s3:::bucket/x", images=()),
            "artifacts_read_prefix": "m/",
        },
        "model_package_arn must match",
    ),
    ("read prefix with wildcard", {"artifacts_read_prefix": "models/*"}, "artifacts_read_prefix"),
    (
        "4xx rate above 100",
        {"alarm_thresholds": AlarmThresholds(invocation_4xx_error_rate_percent=150)},
        "invocation_4xx_error_rate_percent must be from",
    ),
    (
        "alarm period",
        {"alarm_thresholds": AlarmThresholds(period=Duration.seconds(90))},
        "period must be a whole number of minutes",
    ),
    (
        "datapoints above periods",
        {"alarm_thresholds": AlarmThresholds(evaluation_periods=2, datapoints_to_alarm=3)},
        "datapoints_to_alarm must be from 1 to 2",
    ),
    (
        "sub-millisecond latency",
        {"alarm_thresholds": AlarmThresholds(model_latency_p99=Duration.millis(0))},
        "model_latency_p99 must be at least 1 millisecond",
    ),
]


@pytest.mark.parametrize(
    ("case", "props", "message"), INVALID_PROPS, ids=[c[0] for c in INVALID_PROPS]
)
def test_invalid_props_are_rejected_before_any_resource_is_created(
    parts: tuple[Stack, DataLake, ModelSource], case: str, props: dict[str, Any], message: str
) -> None:
    stack = parts[0]
    before = len(stack.node.find_all())
    with pytest.raises(ValueError, match=message):
        _endpoint(parts, **props)
    # Only the empty construct itself was added: nothing reached CloudFormation.
    assert len(stack.node.find_all()) == before + 1


def test_every_invalid_prop_is_reported_at_once(parts: tuple[Stack, DataLake, ModelSource]) -> None:
    with pytest.raises(ValueError, match="RealtimeEndpoint: invalid props") as error:
        _endpoint(
            parts,
            endpoint_name="bad_name",
            variants=[ProductionVariant(instance_type="ml.nope.large", initial_instance_count=0)],
        )
    text = str(error.value)
    assert "endpoint_name" in text
    assert "instance_type" in text
    assert "initial_instance_count" in text


def test_an_imported_key_gets_a_warning_about_its_log_group_policy(
    parts: tuple[Stack, DataLake, ModelSource],
) -> None:
    from aws_cdk import aws_kms as kms
    from aws_cdk.assertions import Annotations

    key = kms.Key.from_key_arn(
        parts[0],
        "Imported",
        "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    _endpoint(parts, key=key, endpoint_name="imported-key")
    Annotations.from_stack(parts[0]).has_warning(
        "*",
        Match.string_like_regexp(
            "must let logs\\..* use it for log group /aws/sagemaker/Endpoints/imported-key"
        ),
    )


def test_inf1_canary_warns_that_sagemaker_falls_back_to_all_at_once(
    parts: tuple[Stack, DataLake, ModelSource],
) -> None:
    from aws_cdk.assertions import Annotations

    _endpoint(
        parts,
        variants=[ProductionVariant(instance_type="ml.inf1.xlarge", initial_instance_count=4)],
        guardrails=DeploymentGuardrails(traffic_shifting=TrafficShifting.canary(percent=25)),
    )
    Annotations.from_stack(parts[0]).has_warning(
        "*", Match.string_like_regexp("ignores CANARY traffic shifting on ml.inf1.xlarge")
    )


# --- property tests ----------------------------------------------------------------------


@settings(max_examples=60)
@given(
    kind=st.sampled_from(["canary", "linear"]),
    fleet=st.integers(min_value=1, max_value=40),
    instances=st.integers(min_value=1, max_value=40),
)
def test_instance_sized_shifts_are_accepted_exactly_within_the_api_bounds(
    kind: str, fleet: int, instances: int
) -> None:
    errors = ValidationErrors("Test")
    shifting = getattr(TrafficShifting, kind)(instances=instances)
    validate_guardrails(
        errors, DeploymentGuardrails(traffic_shifting=shifting), fleet_sizes=[fleet], own_alarms=2
    )
    percent = 100 * instances // fleet
    low = 1 if kind == "canary" else 10
    assert (errors._errors == []) == (low <= percent <= 50)


@settings(max_examples=60)
@given(
    percent=st.integers(min_value=-5, max_value=120),
    wait=st.integers(min_value=0, max_value=4000),
    termination=st.integers(min_value=0, max_value=4000),
)
def test_linear_guardrails_validate_like_the_api(percent: int, wait: int, termination: int) -> None:
    errors = ValidationErrors("Test")
    guardrails = DeploymentGuardrails(
        traffic_shifting=TrafficShifting.linear(
            percent=percent, wait_interval=Duration.seconds(wait)
        ),
        termination_wait=Duration.seconds(termination),
    )
    validate_guardrails(errors, guardrails, fleet_sizes=[4], own_alarms=2)
    valid = 10 <= percent <= 50 and wait <= 3600 and termination <= 3600
    assert (errors._errors == []) == valid


@settings(max_examples=40)
@given(percentage=st.integers(min_value=-50, max_value=200))
def test_sampling_percentage_is_accepted_from_0_to_100(percentage: int) -> None:
    from sagemaker_lifecycle.serving.data_capture import validate_data_capture

    errors = ValidationErrors("Test")
    validate_data_capture(errors, replace(DataCapture(), sampling_percentage=percentage))
    assert (errors._errors == []) == (0 <= percentage <= 100)


# --- instance type knowledge -------------------------------------------------------------

# Reviewed against EC2's instance store documentation; a botocore upgrade that adds a
# family with local storage changes this set and must be reviewed the same way.
LOCAL_STORAGE_FAMILIES = {
    "c5d", "c6gd", "dl1", "g4dn", "g5", "g6", "g6e", "m5d", "m6gd", "p4d", "p4de", "p5",
    "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200", "r5d", "r6gd", "r7gd", "trn1",
    "trn1n", "trn2",
}  # fmt: skip


def test_local_storage_rule_classifies_the_api_instance_families() -> None:
    from sagemaker_lifecycle._internal.instance_types import instance_family
    from sagemaker_lifecycle._internal.sagemaker_api import enum_values

    types = enum_values("ProductionVariantInstanceType")
    local = {instance_family(t) for t in types if has_local_instance_storage(t)}
    assert local == LOCAL_STORAGE_FAMILIES & {instance_family(t) for t in types}
    assert not has_local_instance_storage("ml.m5.large")
    assert not has_local_instance_storage("ml.c6gn.large")  # n: network, not disk


def test_every_api_instance_type_has_a_vcpu_count() -> None:
    from sagemaker_lifecycle._internal.sagemaker_api import enum_values

    counts = {t: vcpu_count(t) for t in enum_values("ProductionVariantInstanceType")}
    assert [t for t, n in counts.items() if n is None] == []
    assert (counts["ml.t2.medium"], counts["ml.m5.large"], counts["ml.c5.9xlarge"]) == (2, 2, 36)
    assert (counts["ml.r8g.medium"], counts["ml.p4d.24xlarge"]) == (1, 96)

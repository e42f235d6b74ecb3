"""The SageMaker Model Monitor backend: job definitions and monitoring schedules.

For accounts that already have Amazon SageMaker Model Monitor (closed to new customers).
One ``AWS::SageMaker::<Kind>JobDefinition`` and one ``AWS::SageMaker::MonitoringSchedule``
per monitor kind: data quality (always), model quality, model bias and model
explainability. Every job encrypts its volumes and outputs with the data-lake key, encrypts
traffic between its instances, runs in the ML network when one is given, stops after
``max_runtime``, and (except explainability, whose Clarify container creates a shadow
endpoint through the SageMaker API) runs network-isolated.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from aws_cdk import ArnFormat, Duration, Fn, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_lifecycle._internal.grants import grant_image_pull
from sagemaker_lifecycle._internal.instance_types import has_local_instance_storage
from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards
from sagemaker_lifecycle.data_lake import DataLake
from sagemaker_lifecycle.execution_roles import ExecutionRole, JobKind
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.monitoring.model_monitor_images import (
    MonitorImage,
    monitor_image_repository_arn,
    monitor_image_uri,
)
from sagemaker_lifecycle.monitoring.monitor_config import (
    BiasMonitor,
    ExplainabilityMonitor,
    ModelMonitorBaselines,
    ModelQualityMonitor,
    MonitorCadence,
    PredictionFormat,
)
from sagemaker_lifecycle.monitoring.scripts import monitor_contract as contract
from sagemaker_lifecycle.pipelines.locations import LakeLocation

#: Monitoring types (``MonitoringScheduleConfig.MonitoringType``) by schedule-name suffix.
SCHEDULE_SUFFIXES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "DataQuality": "-data-quality",
        "ModelQuality": "-model-quality",
        "ModelBias": "-model-bias",
        "ModelExplainability": "-explainability",
    }
)
#: ``ModelQualityAppSpecification.ProblemType`` for the script's problem types.
PROBLEM_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        contract.BINARY: "BinaryClassification",
        contract.MULTICLASS: "MulticlassClassification",
        contract.REGRESSION: "Regression",
    }
)
#: The processing-job event whose detail is the DescribeProcessingJob response, which
#: carries the MonitoringScheduleArn of a monitoring execution.
PROCESSING_JOB_STATE_CHANGE: Final = "SageMaker Processing Job State Change"
_ENDPOINT_INPUT_PATH = "/opt/ml/processing/input/endpoint"
_OUTPUT_PATH = "/opt/ml/processing/output"
#: SageMaker Clarify's default name prefix for the shadow endpoints of SHAP analyses.
CLARIFY_SHADOW_ENDPOINT_PREFIX: Final = "sagemaker-clarify-endpoint"


class ModelMonitorSchedules(Construct):
    """Model Monitor job definitions and schedules for one endpoint.

    Built by :class:`~sagemaker_lifecycle.monitoring.ModelMonitor` from props it has
    already validated; use that construct rather than this one.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_lake: DataLake,
        endpoint_name: str,
        capture: LakeLocation,
        output: LakeLocation,
        monitor_name: str,
        baselines: ModelMonitorBaselines,
        model_quality: ModelQualityMonitor | None,
        bias: BiasMonitor | None,
        explainability: ExplainabilityMonitor | None,
        predictions: PredictionFormat,
        cadence: MonitorCadence,
        network: MlNetwork | None,
        alarm_topic: sns.ITopic,
        instance_type: str,
        volume_size_gb: int,
        max_runtime: Duration,
    ) -> None:
        super().__init__(scope, id)
        self._lake = data_lake
        self._endpoint_name = endpoint_name
        self._network = network
        self._instance_type = instance_type
        self._volume_size_gb = volume_size_gb
        self._max_runtime = max_runtime
        self._cadence = cadence
        self._predictions = predictions
        ground_truth = model_quality.ground_truth if model_quality is not None else None
        read = [capture] + [
            location
            for location in (
                baselines.data_quality,
                baselines.model_quality if model_quality is not None else None,
                baselines.model_bias if bias is not None else None,
                baselines.model_explainability if explainability is not None else None,
                ground_truth,
            )
            if location is not None
        ]
        #: The role of every monitoring job.
        self.role = ExecutionRole(
            self,
            "Role",
            kind=JobKind.MONITORING,
            key=data_lake.key,
            network=network,
            frameworks=[],
            read=read,
            write=[output],
            description=f"Runs SageMaker Model Monitor jobs of {monitor_name}",
        )
        images = [MonitorImage.ANALYZER]
        if bias is not None or explainability is not None:
            images.append(MonitorImage.CLARIFY)
        self._grant_image_pull(images)

        self.job_definitions: dict[str, Any] = {}
        assert baselines.data_quality is not None  # checked by ModelMonitor
        self.job_definitions["DataQuality"] = self._data_quality(
            baselines, baselines.data_quality, output
        )
        if model_quality is not None:
            assert baselines.model_quality is not None
            assert ground_truth is not None
            self.job_definitions["ModelQuality"] = self._model_quality(
                baselines, baselines.model_quality, ground_truth, output, model_quality
            )
        if bias is not None:
            assert baselines.model_bias is not None
            assert ground_truth is not None
            self.job_definitions["ModelBias"] = self._model_bias(
                baselines, baselines.model_bias, ground_truth, output, model_quality
            )
        if explainability is not None:
            assert baselines.model_explainability is not None
            self._grant_shadow_endpoints(explainability)
            self.job_definitions["ModelExplainability"] = self._model_explainability(
                baselines, baselines.model_explainability, output
            )

        schedules: dict[str, sagemaker.CfnMonitoringSchedule] = {}
        names: dict[str, str] = {}
        for kind, definition in self.job_definitions.items():
            names[kind] = f"{monitor_name}{SCHEDULE_SUFFIXES[kind]}"
            schedules[kind] = sagemaker.CfnMonitoringSchedule(
                self,
                f"{kind}Schedule",
                monitoring_schedule_name=names[kind],
                endpoint_name=endpoint_name,
                monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                    monitoring_job_definition_name=Fn.select(
                        1, Fn.split("/", definition.attr_job_definition_arn)
                    ),
                    monitoring_type=kind,
                    schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                        schedule_expression=cadence.model_monitor_expression()
                    ),
                ),
            )
            # The role's policy must exist before the first execution assumes it.
            for policy in self.role.node.find_all():
                if isinstance(policy, iam.CfnPolicy):
                    schedules[kind].node.add_dependency(policy)
        #: Monitoring schedules by monitoring type (``DataQuality``, ``ModelQuality`` ...).
        self.schedules: Mapping[str, sagemaker.CfnMonitoringSchedule] = MappingProxyType(schedules)
        #: Their names, the ``MonitoringSchedule`` dimension of Model Monitor's metrics.
        self.schedule_names: Mapping[str, str] = MappingProxyType(names)
        #: Failed monitoring executions (their processing jobs) notify ``alarm_topic``.
        self.failure_rule = events.Rule(
            self,
            "ExecutionFailedRule",
            description=f"Failed Model Monitor executions of {monitor_name}",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[PROCESSING_JOB_STATE_CHANGE],
                detail={
                    "ProcessingJobStatus": ["Failed"],
                    "MonitoringScheduleArn": [
                        s.attr_monitoring_schedule_arn for s in schedules.values()
                    ],
                },
            ),
            targets=[targets.SnsTopic(alarm_topic)],
        )

    # --- job definitions -------------------------------------------------------------------

    def _data_quality(
        self, baselines: ModelMonitorBaselines, location: LakeLocation, output: LakeLocation
    ) -> sagemaker.CfnDataQualityJobDefinition:
        cls = sagemaker.CfnDataQualityJobDefinition
        return cls(
            self,
            "DataQualityJobDefinition",
            data_quality_app_specification=cls.DataQualityAppSpecificationProperty(
                image_uri=monitor_image_uri(self, MonitorImage.ANALYZER)
            ),
            data_quality_baseline_config=cls.DataQualityBaselineConfigProperty(
                constraints_resource=cls.ConstraintsResourceProperty(
                    s3_uri=_file(location, baselines.constraints_file)
                ),
                statistics_resource=cls.StatisticsResourceProperty(
                    s3_uri=_file(location, baselines.statistics_file)
                ),
            ),
            data_quality_job_input=cls.DataQualityJobInputProperty(
                endpoint_input=cls.EndpointInputProperty(**self._endpoint_input())
            ),
            data_quality_job_output_config=self._output(cls, output, "data-quality"),
            job_resources=self._resources(cls),
            network_config=self._network_config(cls, isolated=True),
            role_arn=self.role.role_arn,
            stopping_condition=self._stopping(cls),
        )

    def _model_quality(
        self,
        baselines: ModelMonitorBaselines,
        location: LakeLocation,
        ground_truth: LakeLocation,
        output: LakeLocation,
        model_quality: ModelQualityMonitor,
    ) -> sagemaker.CfnModelQualityJobDefinition:
        cls = sagemaker.CfnModelQualityJobDefinition
        return cls(
            self,
            "ModelQualityJobDefinition",
            model_quality_app_specification=cls.ModelQualityAppSpecificationProperty(
                image_uri=monitor_image_uri(self, MonitorImage.ANALYZER),
                problem_type=PROBLEM_TYPES[model_quality.problem_type or contract.BINARY],
            ),
            model_quality_baseline_config=cls.ModelQualityBaselineConfigProperty(
                constraints_resource=cls.ConstraintsResourceProperty(
                    s3_uri=_file(location, baselines.constraints_file)
                )
            ),
            model_quality_job_input=cls.ModelQualityJobInputProperty(
                endpoint_input=cls.EndpointInputProperty(
                    **self._endpoint_input(), **self._prediction_input(model_quality)
                ),
                ground_truth_s3_input=cls.MonitoringGroundTruthS3InputProperty(
                    s3_uri=ground_truth.uri
                ),
            ),
            model_quality_job_output_config=self._output(cls, output, "model-quality"),
            job_resources=self._resources(cls),
            network_config=self._network_config(cls, isolated=True),
            role_arn=self.role.role_arn,
            stopping_condition=self._stopping(cls),
        )

    def _model_bias(
        self,
        baselines: ModelMonitorBaselines,
        location: LakeLocation,
        ground_truth: LakeLocation,
        output: LakeLocation,
        model_quality: ModelQualityMonitor | None,
    ) -> sagemaker.CfnModelBiasJobDefinition:
        cls = sagemaker.CfnModelBiasJobDefinition
        return cls(
            self,
            "ModelBiasJobDefinition",
            model_bias_app_specification=cls.ModelBiasAppSpecificationProperty(
                image_uri=monitor_image_uri(self, MonitorImage.CLARIFY),
                config_uri=_file(location, baselines.clarify_config_file),
            ),
            model_bias_baseline_config=cls.ModelBiasBaselineConfigProperty(
                constraints_resource=cls.ConstraintsResourceProperty(
                    s3_uri=_file(location, baselines.clarify_constraints_file)
                )
            ),
            model_bias_job_input=cls.ModelBiasJobInputProperty(
                endpoint_input=cls.EndpointInputProperty(
                    **self._endpoint_input(), **self._prediction_input(model_quality)
                ),
                ground_truth_s3_input=cls.MonitoringGroundTruthS3InputProperty(
                    s3_uri=ground_truth.uri
                ),
            ),
            model_bias_job_output_config=self._output(cls, output, "model-bias"),
            job_resources=self._resources(cls),
            network_config=self._network_config(cls, isolated=True),
            role_arn=self.role.role_arn,
            stopping_condition=self._stopping(cls),
        )

    def _model_explainability(
        self, baselines: ModelMonitorBaselines, location: LakeLocation, output: LakeLocation
    ) -> sagemaker.CfnModelExplainabilityJobDefinition:
        cls = sagemaker.CfnModelExplainabilityJobDefinition
        return cls(
            self,
            "ModelExplainabilityJobDefinition",
            model_explainability_app_specification=cls.ModelExplainabilityAppSpecificationProperty(
                image_uri=monitor_image_uri(self, MonitorImage.CLARIFY),
                config_uri=_file(location, baselines.clarify_config_file),
            ),
            model_explainability_baseline_config=cls.ModelExplainabilityBaselineConfigProperty(
                constraints_resource=cls.ConstraintsResourceProperty(
                    s3_uri=_file(location, baselines.clarify_constraints_file)
                )
            ),
            model_explainability_job_input=cls.ModelExplainabilityJobInputProperty(
                endpoint_input=cls.EndpointInputProperty(**self._endpoint_input())
            ),
            model_explainability_job_output_config=self._output(cls, output, "explainability"),
            job_resources=self._resources(cls),
            # Clarify creates a shadow endpoint through the SageMaker API for SHAP values.
            network_config=self._network_config(cls, isolated=False),
            role_arn=self.role.role_arn,
            stopping_condition=self._stopping(cls),
        )

    # --- shared members --------------------------------------------------------------------

    def _endpoint_input(self) -> dict[str, Any]:
        return {
            "endpoint_name": self._endpoint_name,
            "local_path": _ENDPOINT_INPUT_PATH,
            "s3_input_mode": "File",
            "s3_data_distribution_type": "FullyReplicated",
        }

    def _prediction_input(self, model_quality: ModelQualityMonitor | None) -> dict[str, Any]:
        """Where the predicted label or score is in the captured output, and the offsets of
        the analysed window when ground truth arrives late."""
        predictions = self._predictions
        problem = model_quality.problem_type if model_quality is not None else None
        attribute = predictions.key or str(predictions.index)
        members: dict[str, Any] = {}
        kind = predictions.kind or ("label" if problem == contract.MULTICLASS else "score")
        if kind == "label" or problem == contract.REGRESSION:
            members["inference_attribute"] = attribute
        else:
            members["probability_attribute"] = attribute
            members["probability_threshold_attribute"] = predictions.probability_threshold
        delay = int(model_quality.ground_truth_delay.to_hours()) if model_quality else 0
        if delay:
            members["start_time_offset"] = f"-PT{delay + self._cadence.hours}H"
            members["end_time_offset"] = f"-PT{delay}H"
        return members

    def _output(self, cls: Any, output: LakeLocation, folder: str) -> Any:
        return cls.MonitoringOutputConfigProperty(
            kms_key_id=self._lake.key.key_arn,
            monitoring_outputs=[
                cls.MonitoringOutputProperty(
                    s3_output=cls.S3OutputProperty(
                        local_path=_OUTPUT_PATH,
                        s3_uri=output.child(folder).uri,
                        s3_upload_mode="EndOfJob",
                    )
                )
            ],
        )

    def _resources(self, cls: Any) -> Any:
        local = has_local_instance_storage(self._instance_type)
        return cls.MonitoringResourcesProperty(
            cluster_config=cls.ClusterConfigProperty(
                instance_count=1,
                instance_type=self._instance_type,
                volume_size_in_gb=self._volume_size_gb,
                # Instance types with NVMe instance store encrypt it in hardware and reject
                # a volume key (see _internal/instance_types.py).
                volume_kms_key_id=None if local else self._lake.key.key_arn,
            )
        )

    def _network_config(self, cls: Any, *, isolated: bool) -> Any:
        vpc = None
        if self._network is not None:
            config = self._network.sagemaker_vpc_config()
            vpc = cls.VpcConfigProperty(
                security_group_ids=config["SecurityGroupIds"], subnets=config["Subnets"]
            )
        return cls.NetworkConfigProperty(
            enable_inter_container_traffic_encryption=True,
            enable_network_isolation=isolated,
            vpc_config=vpc,
        )

    def _stopping(self, cls: Any) -> Any:
        return cls.StoppingConditionProperty(
            max_runtime_in_seconds=int(self._max_runtime.to_seconds())
        )

    # --- grants -----------------------------------------------------------------------------

    def _grant_image_pull(self, images: list[MonitorImage]) -> None:
        grant_image_pull(
            self.role,
            [monitor_image_repository_arn(self, image) for image in images],
            "the Model Monitor analyzer and Clarify repositories of the region's registry",
        )

    def _grant_shadow_endpoints(self, explainability: ExplainabilityMonitor) -> None:
        stack = Stack.of(self)

        def arn(resource: str, name: str) -> str:
            return stack.format_arn(
                service="sagemaker",
                resource=resource,
                resource_name=name,
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )

        shadow = iam.PolicyStatement(
            actions=[
                "sagemaker:CreateEndpointConfig",
                "sagemaker:DeleteEndpointConfig",
                "sagemaker:CreateEndpoint",
                "sagemaker:DeleteEndpoint",
                "sagemaker:DescribeEndpoint",
                "sagemaker:InvokeEndpoint",
                "sagemaker:AddTags",
            ],
            resources=[
                arn("endpoint", f"{CLARIFY_SHADOW_ENDPOINT_PREFIX}*"),
                arn("endpoint-config", f"{CLARIFY_SHADOW_ENDPOINT_PREFIX}*"),
            ],
        )
        model = iam.PolicyStatement(
            actions=["sagemaker:DescribeModel"],
            resources=[arn("model", explainability.model_name.lower())],
        )
        for statement in (shadow, model):
            self.role.role.add_to_principal_policy(statement)
        acknowledge_grant_wildcards(
            self.role,
            [shadow],
            "SageMaker Clarify names the shadow endpoint of each SHAP analysis at run time "
            f"with the prefix {CLARIFY_SHADOW_ENDPOINT_PREFIX}; the grant covers only "
            "endpoints and configurations with that prefix.",
        )


def _file(location: LakeLocation, name: str) -> str:
    return f"{location.uri}/{name}"

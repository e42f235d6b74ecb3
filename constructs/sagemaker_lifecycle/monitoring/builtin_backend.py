"""The built-in backend: the monitor script in a scheduled SageMaker pipeline.

One processing step per analysis window on the SageMaker scikit-learn image: ``DataQuality``
(drift, completeness, schema and bias of the last hour or day) and, with model quality,
``ModelQuality`` (the window that ended ``ground_truth_delay`` ago, so labels have arrived).
The monitor reads capture files and ground truth straight from S3, writes its report and
violations to the monitoring zone and publishes its figures with ``PutMetricData``, so the
job runs inside the ML network without network isolation, with a role that can read and
write exactly those prefixes and publish only to the monitor's namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards
from sagemaker_lifecycle.data_lake import DataLake
from sagemaker_lifecycle.execution_roles import ExecutionRole, JobKind
from sagemaker_lifecycle.images import Framework, image_uri
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.monitoring.monitor_config import (
    Baseline,
    BaselineSource,
    BiasMonitor,
    DataQualityMonitor,
    ModelQualityMonitor,
    MonitorCadence,
    PredictionFormat,
)
from sagemaker_lifecycle.monitoring.monitor_script import (
    MONITOR_SCRIPT_DIR,
    MONITOR_SCRIPT_EXCLUDES,
    monitor_arguments,
)
from sagemaker_lifecycle.monitoring.scripts import monitor_contract as contract
from sagemaker_lifecycle.pipelines import (
    PipelineDefinition,
    ProcessingInput,
    ProcessingJob,
    ProcessingStep,
    RetryableError,
    RetryPolicy,
    TrainingPipeline,
)
from sagemaker_lifecycle.pipelines.locations import LakeLocation

#: The runner that starts ``monitor.py`` from its zip archive (see ``runner/``).
RUNNER_FILE: Final = Path(__file__).resolve().parent / "runner" / "monitor_runner.py"
RUNNER_DIR: Final = "/opt/ml/processing/input/runner"
CODE_DIR: Final = contract.CONTAINER_CODE_DIR
DATA_QUALITY_STEP: Final = "DataQuality"
MODEL_QUALITY_STEP: Final = "ModelQuality"
#: Suffix of the model-quality run's Monitor dimension (its window differs).
MODEL_QUALITY_SUFFIX: Final = "-model-quality"
# Stands in for a baseline resolved at run time while the script's rules check the options.
_RESOLVED_AT_RUN_TIME = "s3://resolved-at-run-time/statistics.json"
_RETRY = RetryPolicy(
    errors=[
        RetryableError.CAPACITY_ERROR,
        RetryableError.RESOURCE_LIMIT,
        RetryableError.JOB_INTERNAL_ERROR,
    ],
    max_attempts=3,
    interval_seconds=60,
)


class BuiltinMonitoringPipeline(Construct):
    """The monitoring pipeline, its execution role and its EventBridge Scheduler schedule.

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
        baseline: Baseline,
        data_quality: DataQualityMonitor,
        model_quality: ModelQualityMonitor | None,
        bias: BiasMonitor | None,
        predictions: PredictionFormat,
        cadence: MonitorCadence,
        network: MlNetwork,
        key: kms.IKey,
        alarm_topic: sns.ITopic,
        instance_type: str,
        volume_size_gb: int,
        max_runtime: Duration,
    ) -> None:
        super().__init__(scope, id)
        read = [capture, baseline.location]
        if model_quality is not None and model_quality.ground_truth is not None:
            read.append(model_quality.ground_truth)
        #: The processing jobs' role: read capture, ground truth and baseline, write reports.
        self.role = ExecutionRole(
            self,
            "Role",
            kind=JobKind.MONITORING,
            key=data_lake.key,
            network=network,
            frameworks=[Framework.SKLEARN],
            read=read,
            write=[output],
            description=f"Runs the built-in model monitor {monitor_name}",
        )
        self._grant_put_metric_data()
        if baseline.source is BaselineSource.REGISTRY and baseline.registry is not None:
            baseline.registry.grant_read(self.role)
        self.code = s3_assets.Asset(
            self, "MonitorCode", path=str(MONITOR_SCRIPT_DIR), exclude=list(MONITOR_SCRIPT_EXCLUDES)
        )
        self.runner = s3_assets.Asset(self, "MonitorRunner", path=str(RUNNER_FILE))

        common: dict[str, object] = {
            "endpoint_name": endpoint_name,
            "capture_uri": capture.uri,
            "window_hours": cadence.hours,
            "region": Aws.REGION,
            "output_kms_key_id": data_lake.key.key_arn,
        }
        job = _JobFactory(
            scope=self,
            role=self.role,
            data_lake=data_lake,
            network=network,
            code=self.code,
            runner=self.runner,
            instance_type=instance_type,
            volume_size_gb=volume_size_gb,
            max_runtime=max_runtime,
            baseline=baseline,
        )
        steps = [
            ProcessingStep(
                DATA_QUALITY_STEP,
                job.build(
                    _data_quality_options(
                        common=common,
                        monitor_name=monitor_name,
                        output=output,
                        baseline=baseline,
                        data_quality=data_quality,
                        bias=bias,
                        predictions=predictions,
                    ),
                    resolve_baseline=baseline.source is BaselineSource.REGISTRY,
                ),
                retry_policies=[_RETRY],
                description="Drift, completeness, schema and bias of the last window",
            )
        ]
        if model_quality is not None:
            steps.append(
                ProcessingStep(
                    MODEL_QUALITY_STEP,
                    job.build(
                        _model_quality_options(
                            common=common,
                            monitor_name=monitor_name,
                            output=output,
                            data_quality=data_quality,
                            model_quality=model_quality,
                            predictions=predictions,
                        ),
                        resolve_baseline=False,
                    ),
                    retry_policies=[_RETRY],
                    description="Model quality of the window whose ground truth has arrived",
                )
            )
        #: The pipeline; failed executions notify ``alarm_topic``.
        self.pipeline = TrainingPipeline(
            self,
            "Pipeline",
            pipeline_name=f"{monitor_name}-monitor",
            description=f"Built-in model monitor {monitor_name} of endpoint {endpoint_name}",
            definition=PipelineDefinition(steps=steps),
            schedule=cadence.scheduler_expression(),
            notify_on_failure=True,
            alarm_topic=alarm_topic,
            key=key,
        )

    def _grant_put_metric_data(self) -> None:
        statement = iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": metrics.MONITOR_NAMESPACE}},
        )
        self.role.role.add_to_principal_policy(statement)
        acknowledge_grant_wildcards(
            self.role,
            [statement],
            "cloudwatch:PutMetricData has no resource-level permissions; the condition holds "
            f"the monitor to its own namespace {metrics.MONITOR_NAMESPACE}.",
        )


class _JobFactory:
    """Processing jobs that differ only in the monitor's options."""

    def __init__(
        self,
        *,
        scope: Construct,
        role: ExecutionRole,
        data_lake: DataLake,
        network: MlNetwork,
        code: s3_assets.Asset,
        runner: s3_assets.Asset,
        instance_type: str,
        volume_size_gb: int,
        max_runtime: Duration,
        baseline: Baseline,
    ) -> None:
        self._scope = scope
        self._role = role
        self._data_lake = data_lake
        self._network = network
        self._code = code
        self._runner = runner
        self._instance_type = instance_type
        self._volume_size_gb = volume_size_gb
        self._max_runtime = max_runtime
        self._baseline = baseline

    def build(self, options: Mapping[str, object], *, resolve_baseline: bool) -> ProcessingJob:
        runner_options = ["--code", f"{CODE_DIR}/{self._code.s3_object_key}"]
        if resolve_baseline and self._baseline.registry is not None:
            runner_options += [
                "--baseline-model-package-group",
                self._baseline.registry.model_package_group_name,
                "--region",
                Aws.REGION,
            ]
        return ProcessingJob(
            role=self._role.role,
            image_uri=image_uri(self._scope, Framework.SKLEARN),
            entrypoint=["python3", f"{RUNNER_DIR}/{self._runner.s3_object_key}"],
            arguments=[*runner_options, "--", *_arguments(options, resolve_baseline)],
            key=self._data_lake.key,
            network=self._network,
            # The script calls S3 and CloudWatch itself, through the network's endpoints.
            enable_network_isolation=False,
            instance_type=self._instance_type,
            volume_size_gb=self._volume_size_gb,
            max_runtime=self._max_runtime,
            inputs=[
                ProcessingInput(name="code", source=self._code, destination=CODE_DIR),
                ProcessingInput(name="runner", source=self._runner, destination=RUNNER_DIR),
            ],
        )


def _arguments(options: Mapping[str, object], resolve_baseline: bool) -> list[str]:
    """The monitor's command line, checked with the script's rules; a baseline resolved at
    run time is checked as present and then left to the runner to append."""
    if not resolve_baseline:
        return monitor_arguments(**options)
    rendered = monitor_arguments(**options, baseline_uri=_RESOLVED_AT_RUN_TIME)
    at = rendered.index(_RESOLVED_AT_RUN_TIME)
    return rendered[: at - 1] + rendered[at + 1 :]


def _data_quality_options(
    *,
    common: Mapping[str, object],
    monitor_name: str,
    output: LakeLocation,
    baseline: Baseline,
    data_quality: DataQualityMonitor,
    bias: BiasMonitor | None,
    predictions: PredictionFormat,
) -> dict[str, object]:
    options: dict[str, object] = {
        **common,
        "monitor_name": monitor_name,
        "output_uri": output.child("data-quality").uri,
        **data_quality_thresholds(data_quality),
    }
    if baseline.source is BaselineSource.LOCATION:
        options["baseline_uri"] = baseline.uri
    if bias is not None:
        options.update(
            facet=list(bias.facets),
            problem_type=bias.problem_type,
            dppl_threshold=bias.dppl_threshold,
            class_imbalance_threshold=bias.class_imbalance_threshold,
            **prediction_options(predictions),
        )
    return options


def _model_quality_options(
    *,
    common: Mapping[str, object],
    monitor_name: str,
    output: LakeLocation,
    data_quality: DataQualityMonitor,
    model_quality: ModelQualityMonitor,
    predictions: PredictionFormat,
) -> dict[str, object]:
    delay = int(model_quality.ground_truth_delay.to_hours())
    assert model_quality.ground_truth is not None  # checked by ModelMonitor
    return {
        **common,
        "monitor_name": f"{monitor_name}{MODEL_QUALITY_SUFFIX}",
        "output_uri": output.child("model-quality").uri,
        "ground_truth_uri": model_quality.ground_truth.uri,
        "problem_type": model_quality.problem_type,
        "min_records": data_quality.min_records,
        "window_offset_hours": delay,
        "ground_truth_delay_hours": delay,
        **model_quality.thresholds(),
        **prediction_options(predictions),
    }


def data_quality_thresholds(data_quality: DataQualityMonitor) -> dict[str, object]:
    """The script options of ``data_quality``'s thresholds."""
    return {
        "psi_threshold": data_quality.psi_threshold,
        "ks_p_value": data_quality.ks_p_value,
        "ks_min_statistic": data_quality.ks_min_statistic,
        "chi_square_p_value": data_quality.chi_square_p_value,
        "min_linf_distance": data_quality.min_linf_distance,
        "missing_rate_tolerance": data_quality.missing_rate_tolerance,
        "max_type_mismatch_rate": data_quality.max_type_mismatch_rate,
        "min_records": data_quality.min_records,
    }


def prediction_options(predictions: PredictionFormat) -> dict[str, object]:
    """The script options of ``predictions``."""
    return {
        "prediction_kind": predictions.kind,
        "prediction_key": predictions.key,
        "prediction_index": predictions.index,
        "positive_label": predictions.positive_label,
        "probability_threshold": predictions.probability_threshold,
    }

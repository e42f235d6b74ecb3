"""Scheduled batch inference: a SageMaker pipeline that creates a model and scores a data-lake
prefix with a batch transform job, started by EventBridge Scheduler."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Names, RemovalPolicy, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_lifecycle._internal.grants import grant_image_pull
from sagemaker_lifecycle._internal.sagemaker_api import check_name
from sagemaker_lifecycle._internal.schedules import check_schedule
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.execution_roles import ExecutionRole, JobKind
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.model_registry import ModelRegistryBase
from sagemaker_lifecycle.pipelines.definition import PipelineDefinition
from sagemaker_lifecycle.pipelines.jobs import ModelDefinition
from sagemaker_lifecycle.pipelines.locations import LakeLocation
from sagemaker_lifecycle.pipelines.parameters import Parameter, ParameterString
from sagemaker_lifecycle.pipelines.steps import ModelStep, RetryableError, RetryPolicy
from sagemaker_lifecycle.pipelines.training_pipeline import TrainingPipeline
from sagemaker_lifecycle.serving._checks import time_zone
from sagemaker_lifecycle.serving._endpoint import _folder, validate_common
from sagemaker_lifecycle.serving.batch_transform import (
    BatchTransformStep,
    TransformSettings,
    check_disjoint,
)
from sagemaker_lifecycle.serving.model_source import ModelSource

#: Pipeline parameter an execution may set to score one folder under the source prefix.
INPUT_URI_PARAMETER = "InputS3Uri"
#: Pipeline parameter naming the model version to score with (model package sources only).
MODEL_PACKAGE_PARAMETER = "ModelPackageArn"
#: Step names, part of the contract with whoever reads the pipeline's executions.
MODEL_STEP_NAME = "CreateModel"
TRANSFORM_STEP_NAME = "BatchTransform"

#: Retries of the transform step: no capacity or account limit fails a nightly run at once.
DEFAULT_TRANSFORM_RETRY = RetryPolicy(
    errors=[
        RetryableError.CAPACITY_ERROR,
        RetryableError.RESOURCE_LIMIT,
        RetryableError.SERVICE_FAULT,
        RetryableError.THROTTLING,
    ],
    expire_after_minutes=120,
    interval_seconds=60,
)
# CreateModel takes seconds; only service-side faults are worth retrying.
_MODEL_RETRY = RetryPolicy(
    errors=[RetryableError.SERVICE_FAULT, RetryableError.THROTTLING],
    max_attempts=3,
    interval_seconds=10,
)


class ScheduledBatchInference(Construct):
    """Scores a data-lake prefix on a schedule: a SageMaker pipeline with a model step and a
    :class:`BatchTransformStep`, started by EventBridge Scheduler.

    Each execution creates a model (from image and model data in the artifacts zone, or from
    a registered model version) and runs a transform job over ``source``; pipelines name
    every job uniquely, and each execution writes its predictions to
    ``<output>/<execution id>/transform/``. Predictions are encrypted with the output lake's
    key, instance volumes with ``key``; the model runs network-isolated (in ``network`` when
    given) with a role that may read the model data, ``source`` and write ``output`` only.
    Failed executions notify ``alarm_topic``.

    An execution may set the ``InputS3Uri`` parameter to one folder under ``source`` (a
    backfill), and, for a model package source, ``ModelPackageArn`` to another version of
    ``registry``. SageMaker Pipelines has no expression for "the latest approved version":
    pass that version when starting the execution.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_source: ModelSource,
        data_lake: DataLake,
        source: LakeLocation,
        output: LakeLocation,
        schedule: str,
        schedule_time_zone: str | None = None,
        pipeline_name: str | None = None,
        settings: TransformSettings = TransformSettings(),  # noqa: B008 - a frozen dataclass is an immutable value
        data_capture: LakeLocation | None = None,
        registry: ModelRegistryBase | None = None,
        artifacts_read_prefix: str | None = None,
        network: MlNetwork | None = None,
        network_isolation: bool = True,
        role: iam.IRole | None = None,
        pipeline_role: iam.IRole | None = None,
        key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        notify_on_failure: bool = True,
        retry_policies: Sequence[RetryPolicy] = (DEFAULT_TRANSFORM_RETRY,),
        description: str | None = None,
    ) -> None:
        """
        :param model_source: the model: ``ModelSource.from_artifacts`` (an image and model
            data in the artifacts zone) or ``ModelSource.from_model_package``.
        :param data_lake: where the model data is read from (artifacts zone).
        :param source: the data-lake prefix scored on every run.
        :param output: the data-lake prefix predictions go under; it must not overlap
            ``source``, or a run would score the previous run's predictions.
        :param schedule: when runs start: an EventBridge Scheduler expression such as
            ``cron(0 2 * * ? *)`` (nightly at 02:00) or ``rate(12 hours)``.
        :param schedule_time_zone: the IANA time zone a cron ``schedule`` is read in
            (``Europe/Paris``). Default: UTC.
        :param pipeline_name: the pipeline's name, unique per account and region.
            Default: derived from the construct path.
        :param settings: how the transform job runs. Default: one ml.m5.xlarge, CSV lines.
        :param data_capture: also capture inputs and predictions with an inference id here,
            for model monitoring. Default: off.
        :param registry: the model package group of a model package source; executions may
            then score with any of its versions (``ModelPackageArn``). Default: only the
            version of ``model_source``.
        :param artifacts_read_prefix: artifacts-zone prefix the model role may read; it
            must hold the model data. Required with a model package. Default: the folder of
            ``model_source``'s model data.
        :param network: run the model in this network's subnets and workload security
            group. Default: SageMaker's managed network.
        :param network_isolation: deny the container any network access. Default: true.
        :param role: the model's execution role, which the transform jobs run with; the
            grants are added to it. Default: a new least-privilege role.
        :param pipeline_role: the role the pipeline runs as. Default: a new role.
        :param key: KMS key of the instance volumes, the failure topic and the schedule.
            Default: a new key with rotation on, retained on stack deletion.
        :param alarm_topic: where failed executions are published. Default: a new topic
            encrypted with ``key``.
        :param notify_on_failure: publish failed executions to ``alarm_topic``.
            Default: true.
        :param retry_policies: retries of the transform step. Default:
            :data:`DEFAULT_TRANSFORM_RETRY` (capacity, account limits and service faults,
            for up to two hours).
        :param description: the pipeline's description. Default: one naming what it does.
        """
        super().__init__(scope, id)
        errors = ValidationErrors("ScheduledBatchInference")
        validate_common(
            errors,
            endpoint_name=None,
            model_source=model_source,
            artifacts_read_prefix=artifacts_read_prefix,
        )
        if pipeline_name is not None:
            check_name(errors, "pipeline_name", pipeline_name, "PipelineName")
        check_schedule(errors, "schedule", schedule)
        if schedule_time_zone is not None:
            time_zone(errors, "schedule_time_zone", schedule_time_zone)
        _check_model_data_folder(errors, model_source, artifacts_read_prefix)
        _check_registry(errors, registry, model_source)
        errors.check(
            isinstance(settings, TransformSettings),
            f"settings must be a TransformSettings, got {type(settings).__name__}",
        )
        locations = {"source": source, "output": output, "data_capture": data_capture}
        for prop, location in locations.items():
            errors.check(
                location is None or isinstance(location, LakeLocation),
                f"{prop} must be a LakeLocation (a data-lake zone and prefix), got {location!r}",
            )
        if all(isinstance(v, LakeLocation | None) for v in locations.values()):
            check_disjoint(errors, "output", output, source)
            if data_capture is not None:
                check_disjoint(errors, "data_capture", data_capture, source)
        errors.raise_if_any()

        self.data_lake = data_lake
        self.source = source
        self.output = output
        self.data_capture = data_capture
        self.settings = settings
        self.key: kms.IKey = key or kms.Key(
            self,
            "Key",
            description="Encrypts batch inference volumes, failure notifications and schedule",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        model_data = LakeLocation(
            data_lake,
            Zone.ARTIFACTS,
            artifacts_read_prefix or _folder(model_source.model_data_key or ""),
        )
        #: The model's execution role; SageMaker runs the transform jobs with it.
        self.model_role = ExecutionRole(
            self,
            "ModelRole",
            kind=JobKind.TRANSFORM,
            read=[model_data],
            network=network,
            frameworks=(),
            role=role,
            description="Model execution role of a scheduled batch inference pipeline",
        )
        self._grant_image_pull(model_source)

        parameters: list[Parameter] = []
        #: Where a run reads: ``source`` unless the execution names a folder inside it.
        self.input_uri = ParameterString(
            INPUT_URI_PARAMETER,
            f"{source.uri}/",
            "S3 prefix to score; the model role can only read under the source prefix",
        )
        parameters.append(self.input_uri)
        package: ParameterString | None = None
        if model_source.model_package_arn is not None:
            package = ParameterString(
                MODEL_PACKAGE_PARAMETER,
                model_source.model_package_arn,
                "Model version (model package ARN) to score with",
            )
            parameters.append(package)
        self.model_step = ModelStep(
            MODEL_STEP_NAME,
            ModelDefinition(
                role=self.model_role.role,
                key=self.key,
                network=network,
                enable_network_isolation=network_isolation,
                image_uri=model_source.image_uri,
                model_data_url=(
                    data_lake.s3_uri(Zone.ARTIFACTS, model_source.model_data_key)
                    if model_source.model_data_key is not None
                    else None
                ),
                model_package_name=package,
                environment=dict(model_source.environment),
            ),
            retry_policies=[_MODEL_RETRY],
            description="Creates the SageMaker model the transform job runs",
        )
        self.transform_step = BatchTransformStep(
            TRANSFORM_STEP_NAME,
            model=self.model_step,
            source=source,
            source_uri=self.input_uri,
            output=output,
            settings=settings,
            data_capture=data_capture,
            key=self.key,
            retry_policies=retry_policies,
            description="Scores every record under the input prefix",
        )
        self.definition = PipelineDefinition(
            steps=[self.model_step, self.transform_step], parameters=parameters
        )
        self.pipeline = TrainingPipeline(
            self,
            "Pipeline",
            pipeline_name=pipeline_name
            or Names.unique_resource_name(self, max_length=256, separator="-"),
            definition=self.definition,
            role=pipeline_role,
            description=description
            or "Scheduled batch inference: creates the model, then scores the input prefix",
            schedule=schedule,
            schedule_time_zone=schedule_time_zone,
            notify_on_failure=notify_on_failure,
            alarm_topic=alarm_topic,
            key=self.key,
        )
        if model_source.model_package_arn is not None:
            self._grant_model_package(model_source.model_package_arn, registry)

    # -- attributes -----------------------------------------------------------------------

    @property
    def pipeline_name(self) -> str:
        """The pipeline's name."""
        return self.pipeline.pipeline_name

    @property
    def pipeline_arn(self) -> str:
        """The pipeline's ARN."""
        return self.pipeline.pipeline_arn

    @property
    def role(self) -> iam.IRole:
        """The model's execution role (the transform jobs run with it)."""
        return self.model_role.role

    @property
    def schedule(self) -> scheduler.Schedule:
        """The EventBridge Scheduler schedule that starts executions."""
        assert self.pipeline.schedule is not None  # a schedule is required
        return self.pipeline.schedule

    @property
    def alarm_topic(self) -> sns.ITopic | None:
        """Where failed executions are published (None with ``notify_on_failure=False``)."""
        return self.pipeline.alarm_topic

    # -- grants ---------------------------------------------------------------------------

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start executions (a backfill, a run with a new model version)."""
        return self.pipeline.grant_start_execution(grantee)

    def grant_read_executions(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` describe and list this pipeline's executions and their steps."""
        return self.pipeline.grant_read_executions(grantee)

    def grant_read_predictions(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read (and decrypt) the predictions under ``output``."""
        return self.output.grant_read(grantee)

    # -- events ---------------------------------------------------------------------------

    def on_execution_status_change(
        self,
        id: str,
        *,
        statuses: Sequence[str] | None = None,
        target: events.IRuleTarget | None = None,
        description: str | None = None,
    ) -> events.Rule:
        """An EventBridge rule for this pipeline's execution status changes, such as
        ``statuses=["Succeeded"]`` to load fresh scores downstream.

        :param statuses: only these new statuses. Default: every change.
        :param target: where matching events go. Default: none (add targets to the rule).
        :param description: the rule's description. Default: none.
        """
        return self.pipeline.on_execution_status_change(
            id, statuses=statuses, target=target, description=description
        )

    # -- metrics --------------------------------------------------------------------------

    def metric_execution_started(self, **props: object) -> cloudwatch.Metric:
        """Executions started (Sum over five minutes unless ``props`` say otherwise)."""
        return self.pipeline.metric_execution_started(**props)

    def metric_execution_succeeded(self, **props: object) -> cloudwatch.Metric:
        """Executions that succeeded: alarm when a day passes without one."""
        return self.pipeline.metric_execution_succeeded(**props)

    def metric_execution_failed(self, **props: object) -> cloudwatch.Metric:
        """Executions that failed."""
        return self.pipeline.metric_execution_failed(**props)

    def metric_execution_stopped(self, **props: object) -> cloudwatch.Metric:
        """Executions that were stopped."""
        return self.pipeline.metric_execution_stopped(**props)

    # -- internals ------------------------------------------------------------------------

    def _grant_image_pull(self, model_source: ModelSource) -> None:
        grant_image_pull(
            self.model_role.role,
            sorted({image.repository_arn for image in model_source.images}),
            "the repositories of the model's inference images",
        )

    def _grant_model_package(self, arn: str, registry: ModelRegistryBase | None) -> None:
        # CreateModel from a model package is authorized against the version too.
        if registry is not None:
            registry.grant_deploy(self.pipeline.role)
            return
        iam.Grant.add_to_principal(
            grantee=self.pipeline.role,
            actions=["sagemaker:DescribeModelPackage", "sagemaker:CreateModel"],
            resource_arns=[arn],
        )


def _check_model_data_folder(
    errors: ValidationErrors, model_source: ModelSource, artifacts_read_prefix: str | None
) -> None:
    key = model_source.model_data_key
    if key is None or artifacts_read_prefix is not None or Token.is_unresolved(key):
        return
    errors.check(
        bool(_folder(key)),
        "model_source.model_data_key must be inside a folder of the artifacts zone (the model "
        f"role never reads a whole zone), or give artifacts_read_prefix; got {key!r}",
    )


def _check_registry(
    errors: ValidationErrors, registry: ModelRegistryBase | None, model_source: ModelSource
) -> None:
    if registry is None:
        return
    arn = model_source.model_package_arn
    if arn is None:
        errors.add(
            "registry is only used with ModelSource.from_model_package (the versions an "
            "execution may score with); model_source names model data"
        )
        return
    group = registry.model_package_group_name
    if Token.is_unresolved(arn) or Token.is_unresolved(group):
        return
    errors.check(
        f":model-package/{group}/" in arn,
        f"model_source.model_package_arn must be a version of registry {group!r} "
        f"(':model-package/{group}/<n>'), got {arn!r}",
    )

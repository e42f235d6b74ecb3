"""An asynchronous SageMaker endpoint: queued requests, results in S3, scale to zero."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.messaging import encrypted_topic
from sagemaker_lifecycle._internal.sagemaker_api import check_enum, shape
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.serving._checks import key_prefix, number_in_range, seconds_in_range
from sagemaker_lifecycle.serving._endpoint import validate_common
from sagemaker_lifecycle.serving._instance_endpoint import InstanceEndpointBase
from sagemaker_lifecycle.serving.autoscaling import (
    ScheduledScaling,
    apply_schedules,
    validate_schedule,
    variant_scalable_target,
)
from sagemaker_lifecycle.serving.data_capture import DataCapture, validate_data_capture
from sagemaker_lifecycle.serving.deployment_guardrails import (
    DeploymentGuardrails,
    validate_guardrails,
)
from sagemaker_lifecycle.serving.endpoint_alarms import (
    ROLLBACK_ALARMS,
    AlarmThresholds,
    validate_thresholds,
)
from sagemaker_lifecycle.serving.model_source import ModelSource
from sagemaker_lifecycle.serving.production_variant import ProductionVariant, validate_variants

_MAX_INSTANCES = 10_000
_MAX_COOLDOWN_SECONDS = 86_400


@dataclass(frozen=True)
class AsyncScaling:
    """Instance-count scaling on the request backlog (SageMaker's documented async pattern).

    Target tracking keeps ``ApproximateBacklogSizePerInstance`` near
    ``backlog_per_instance``; with ``min_capacity=0`` the endpoint scales in to no
    instances when idle, and a step policy on ``HasBacklogWithoutCapacity`` starts one
    instance when requests arrive (expect minutes of latency for the first request).
    """

    min_capacity: int = 0
    """Fewest instances; 0 lets the endpoint scale to zero. Default: 0."""
    max_capacity: int = 2
    """Most instances. Default: 2."""
    backlog_per_instance: float = 5.0
    """Queued requests per instance to aim for. Default: 5."""
    scale_in_cooldown: Duration = Duration.minutes(10)
    """Wait after a scale-in. Default: 10 minutes."""
    scale_out_cooldown: Duration = Duration.minutes(5)
    """Wait after a scale-out, also between scale-outs from zero. Default: 5 minutes."""
    schedules: tuple[ScheduledScaling, ...] = ()
    """Scheduled capacity changes. Default: none."""


class AsyncEndpoint(InstanceEndpointBase):
    """An asynchronous endpoint: clients put a request in S3 and call
    ``InvokeEndpointAsync``; the result lands in the capture zone and an SNS topic says so.

    Requests, results and failures live under ``async/<endpoint name>/{input,output,
    failures}/`` in the data lake's capture zone, encrypted with the lake's key and expired
    by its capture retention. Success and error topics are KMS-encrypted. The model runs
    network-isolated (inside ``network`` when given); deployments are blue/green with
    rollback on the 5XX and latency alarms, like :class:`RealtimeEndpoint`, and
    :attr:`deployment_spec` carries the ``AsyncInferenceConfig`` to new versions.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_source: ModelSource,
        data_lake: DataLake,
        variant: ProductionVariant = ProductionVariant(),  # noqa: B008 - a frozen dataclass is an immutable value
        endpoint_name: str | None = None,
        max_concurrent_invocations_per_instance: int | None = None,
        scaling: AsyncScaling | None = AsyncScaling(),
        s3_prefix: str | None = None,
        success_topic: sns.ITopic | None = None,
        error_topic: sns.ITopic | None = None,
        include_inference_response_in: tuple[str, ...] = (),
        network: MlNetwork | None = None,
        network_isolation: bool = True,
        role: iam.IRole | None = None,
        key: kms.IKey | None = None,
        artifacts_read_prefix: str | None = None,
        data_capture: DataCapture | None = None,
        guardrails: DeploymentGuardrails = DeploymentGuardrails(),  # noqa: B008 - a frozen dataclass is an immutable value
        alarm_thresholds: AlarmThresholds = AlarmThresholds(),  # noqa: B008 - a frozen dataclass is an immutable value
        alarm_topic: sns.ITopic | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param model_source: the model served at creation (the approval flow replaces it).
        :param data_lake: model data, request payloads, results and captured data.
        :param variant: the instances (its ``autoscaling`` must be None: use ``scaling``).
            Default: one ml.m5.large.
        :param endpoint_name: the endpoint's name. Default: derived from the construct path.
        :param max_concurrent_invocations_per_instance: requests sent to one container at
            a time, 1 to 1000. Default: chosen by SageMaker.
        :param scaling: backlog-based scaling; None keeps the instance count fixed.
            Default: 0 to 2 instances, 5 queued requests per instance.
        :param s3_prefix: capture-zone prefix for requests, results and failures.
            Default: ``async/<endpoint name>``.
        :param success_topic: notified of each result. Default: a new encrypted topic.
        :param error_topic: notified of each failure. Default: a new encrypted topic.
        :param include_inference_response_in: topics whose messages carry the response
            (up to 128 KB): ``SUCCESS_NOTIFICATION_TOPIC``, ``ERROR_NOTIFICATION_TOPIC``.
            Responses may hold personal data. Default: none.
        :param network: run the model in this network. Default: SageMaker's network.
        :param network_isolation: deny the container network access. Default: true.
        :param role: the model's execution role. Default: a new least-privilege role.
        :param key: KMS key for volumes, logs and topics. Default: a new key, rotation on.
        :param artifacts_read_prefix: artifacts-zone prefix the model role may read.
            Default: the folder of ``model_source``'s model data.
        :param data_capture: Model Monitor data capture as well. Default: none, since every
            request and result is already kept under ``s3_prefix`` in the capture zone.
        :param guardrails: blue/green traffic shifting and rollback. Default: all at once,
            5-minute bake, rollback on the 5XX and latency alarms.
        :param alarm_thresholds: when the alarms go off. Default: :class:`AlarmThresholds`.
        :param alarm_topic: where alarms notify. Default: a new KMS-encrypted topic.
        :param log_retention: how long endpoint logs are kept. Default: one year.
        :param removal_policy: what happens to the log group and the created key when the
            stack is deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        errors = ValidationErrors("AsyncEndpoint")
        validate_common(
            errors,
            endpoint_name=endpoint_name,
            model_source=model_source,
            artifacts_read_prefix=artifacts_read_prefix,
        )
        validate_variants(errors, (variant,), max_variants=1)
        errors.check(
            variant.autoscaling is None,
            "variant.autoscaling must be None for an AsyncEndpoint: scale with scaling= "
            "(backlog-based, can scale to zero)",
        )
        if max_concurrent_invocations_per_instance is not None:
            metadata = shape("MaxConcurrentInvocationsPerInstance").metadata
            int_in_range(
                errors,
                "max_concurrent_invocations_per_instance",
                max_concurrent_invocations_per_instance,
                minimum=metadata["min"],
                maximum=metadata["max"],
            )
        if scaling is not None:
            _validate_scaling(errors, scaling, variant.initial_instance_count)
        if s3_prefix is not None:
            key_prefix(errors, "s3_prefix", s3_prefix)
        for value in include_inference_response_in:
            check_enum(
                errors, "include_inference_response_in", value, "AsyncNotificationTopicTypes"
            )
        if data_capture is not None:
            validate_data_capture(errors, data_capture)
        validate_guardrails(
            errors,
            guardrails,
            fleet_sizes=[
                max(1, scaling.min_capacity if scaling else variant.initial_instance_count)
            ],
            own_alarms=len(ROLLBACK_ALARMS),
        )
        validate_thresholds(errors, alarm_thresholds)
        errors.raise_if_any()

        self._init_common(
            endpoint_name=endpoint_name,
            data_lake=data_lake,
            role=role,
            key=key,
            alarm_topic=alarm_topic,
            log_retention=log_retention,
            removal_policy=removal_policy,
            description="asynchronous endpoint",
        )
        prefix = (s3_prefix or f"async/{self.endpoint_name}").rstrip("/")
        #: Capture-zone prefixes of request payloads, results and failures.
        self.input_prefix = f"{prefix}/input/"
        self.output_prefix = f"{prefix}/output/"
        self.failure_prefix = f"{prefix}/failures/"
        self.success_topic: sns.ITopic = success_topic or encrypted_topic(
            self, "SuccessTopic", key=self.key, display_name=f"{self.endpoint_name} results"
        )
        self.error_topic: sns.ITopic = error_topic or encrypted_topic(
            self, "ErrorTopic", key=self.key, display_name=f"{self.endpoint_name} failures"
        )
        self._grant_async_access()
        self._build(
            model_source=model_source,
            variants=(variant,),
            network=network,
            network_isolation=network_isolation,
            multi_model=False,
            data_capture=data_capture,
            guardrails=guardrails,
            alarm_thresholds=alarm_thresholds,
            artifacts_read_prefix=artifacts_read_prefix,
            async_inference_config=self._async_config(
                max_concurrent_invocations_per_instance, include_inference_response_in
            ),
            retain_instance_counts=scaling is not None,
        )
        self.scalable_target: appscaling.ScalableTarget | None = (
            self._autoscale(variant, scaling) if scaling is not None else None
        )

    def _grant_async_access(self) -> None:
        # SageMaker reads requests, writes results and publishes notifications as the
        # model's execution role.
        self.data_lake.grant_read(self.role, Zone.CAPTURE, self.input_prefix)
        self.data_lake.grant_write(self.role, Zone.CAPTURE, self.output_prefix)
        self.data_lake.grant_write(self.role, Zone.CAPTURE, self.failure_prefix)
        self.success_topic.grant_publish(self.role)
        self.error_topic.grant_publish(self.role)

    def _async_config(
        self, max_concurrent: int | None, include_response_in: tuple[str, ...]
    ) -> dict[str, Any]:
        notification: dict[str, Any] = {
            "SuccessTopic": self.success_topic.topic_arn,
            "ErrorTopic": self.error_topic.topic_arn,
        }
        if include_response_in:
            notification["IncludeInferenceResponseIn"] = list(include_response_in)
        config: dict[str, Any] = {
            "OutputConfig": {
                "KmsKeyId": self.data_lake.key.key_arn,
                "S3OutputPath": self.data_lake.s3_uri(Zone.CAPTURE, self.output_prefix),
                "S3FailurePath": self.data_lake.s3_uri(Zone.CAPTURE, self.failure_prefix),
                "NotificationConfig": notification,
            }
        }
        if max_concurrent is not None:
            config["ClientConfig"] = {"MaxConcurrentInvocationsPerInstance": max_concurrent}
        return config

    def _autoscale(
        self, variant: ProductionVariant, scaling: AsyncScaling
    ) -> appscaling.ScalableTarget:
        target = variant_scalable_target(
            self,
            "Scaling",
            endpoint_name=self.endpoint_name,
            variant_name=variant.variant_name,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
        )
        target.node.add_dependency(self.cfn_endpoint)
        target.scale_to_track_metric(
            "BacklogTracking",
            target_value=scaling.backlog_per_instance,
            custom_metric=self.metric_approximate_backlog_size_per_instance(),
            scale_in_cooldown=scaling.scale_in_cooldown,
            scale_out_cooldown=scaling.scale_out_cooldown,
        )
        if scaling.min_capacity == 0:
            self._scale_out_from_zero(target, scaling.scale_out_cooldown)
        apply_schedules(target, scaling.schedules)
        return target

    def _scale_out_from_zero(self, target: appscaling.ScalableTarget, cooldown: Duration) -> None:
        # Target tracking cannot act on a per-instance metric when there is no instance.
        step = appscaling.StepScalingAction(
            self,
            "ScaleOutFromZero",
            scaling_target=target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=cooldown,
            metric_aggregation_type=appscaling.MetricAggregationType.AVERAGE,
        )
        step.add_adjustment(adjustment=1, lower_bound=0)
        self.backlog_without_capacity_alarm = cloudwatch.Alarm(
            self,
            "HasBacklogWithoutCapacityAlarm",
            metric=self._endpoint_metric(metrics.HAS_BACKLOG_WITHOUT_CAPACITY, "Average"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.MISSING,
            alarm_description=f"Endpoint {self.endpoint_name} has queued requests and no instance.",
        )
        self.backlog_without_capacity_alarm.add_alarm_action(
            cw_actions.ApplicationScalingAction(step)
        )

    def _endpoint_metric(self, name: str, statistic: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=metrics.SAGEMAKER_NAMESPACE,
            metric_name=name,
            dimensions_map={metrics.DIM_ENDPOINT_NAME: self.endpoint_name},
            statistic=statistic,
            period=Duration.minutes(1),
        )

    def metric_approximate_backlog_size_per_instance(self) -> cloudwatch.Metric:
        """Queued requests per instance (Average; dimension EndpointName)."""
        return self._endpoint_metric(metrics.APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE, "Average")

    def metric_approximate_backlog_size(self) -> cloudwatch.Metric:
        """Queued requests (Average; dimension EndpointName)."""
        return self._endpoint_metric(metrics.APPROXIMATE_BACKLOG_SIZE, "Average")

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put requests under :attr:`input_prefix`, call
        ``InvokeEndpointAsync`` and read results and failures."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpointAsync"],
            resource_arns=[self.endpoint_arn],
        )
        self.data_lake.grant_write(grantee, Zone.CAPTURE, self.input_prefix)
        self.data_lake.grant_read(grantee, Zone.CAPTURE, self.output_prefix)
        self.data_lake.grant_read(grantee, Zone.CAPTURE, self.failure_prefix)
        return grant


def _validate_scaling(
    errors: ValidationErrors, scaling: AsyncScaling, initial_instance_count: int
) -> None:
    int_in_range(
        errors, "scaling.min_capacity", scaling.min_capacity, minimum=0, maximum=_MAX_INSTANCES
    )
    int_in_range(
        errors, "scaling.max_capacity", scaling.max_capacity, minimum=1, maximum=_MAX_INSTANCES
    )
    counts = (scaling.min_capacity, scaling.max_capacity, initial_instance_count)
    if all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
        errors.check(
            scaling.min_capacity <= scaling.max_capacity,
            f"scaling.max_capacity ({scaling.max_capacity}) must be at least min_capacity "
            f"({scaling.min_capacity})",
        )
        errors.check(
            initial_instance_count <= scaling.max_capacity,
            f"scaling.max_capacity ({scaling.max_capacity}) must be at least the variant's "
            f"initial_instance_count ({initial_instance_count})",
        )
    number_in_range(
        errors,
        "scaling.backlog_per_instance",
        scaling.backlog_per_instance,
        minimum=0.01,
        maximum=1e6,
    )
    for member in ("scale_in_cooldown", "scale_out_cooldown"):
        seconds_in_range(
            errors,
            f"scaling.{member}",
            getattr(scaling, member),
            minimum=0,
            maximum=_MAX_COOLDOWN_SECONDS,
        )
    names = [schedule.name for schedule in scaling.schedules]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.add(f"scaling.schedules names must be unique, got {name!r} more than once")
    for schedule in scaling.schedules:
        validate_schedule(errors, f"scaling.schedules[{schedule.name}]", schedule, minimum=0)

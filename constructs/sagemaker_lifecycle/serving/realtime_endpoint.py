"""A real-time SageMaker endpoint with capture, autoscaling, guardrails and alarms."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from aws_cdk import RemovalPolicy
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.data_lake import DataLake
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.serving._endpoint import validate_common
from sagemaker_lifecycle.serving._instance_endpoint import InstanceEndpointBase
from sagemaker_lifecycle.serving.autoscaling import (
    ScalingMetric,
    apply_autoscaling,
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

_STATISTICS = {
    ScalingMetric.CPU_UTILIZATION: ("Average", metrics.ENDPOINT_INSTANCE_NAMESPACE),
    ScalingMetric.MEMORY_UTILIZATION: ("Average", metrics.ENDPOINT_INSTANCE_NAMESPACE),
    ScalingMetric.MODEL_LATENCY: ("Average", metrics.SAGEMAKER_NAMESPACE),
    ScalingMetric.INVOCATIONS_PER_INSTANCE: ("Sum", metrics.SAGEMAKER_NAMESPACE),
}


class RealtimeEndpoint(InstanceEndpointBase):
    """A real-time endpoint (``AWS::SageMaker::Model``, ``EndpointConfig`` and ``Endpoint``).

    Secure by default: the model runs network-isolated (inside ``network`` when given),
    instance volumes, logs and topics are encrypted with ``key``, requests and responses are
    captured into the data lake's capture zone, and the model role can only read the model
    data prefix, pull the model's images and write its own logs. Every deployment (a stack
    update or the approval flow, see :attr:`deployment_spec`) is blue/green with automatic
    rollback on the 5XX and latency alarms; all alarms notify :attr:`alarm_topic`.

    Autoscaled variants (``ProductionVariant.autoscaling``) can receive a new *model* while
    registered with Application Auto Scaling, but not a new instance type: change instance
    types by first removing ``autoscaling``, deploying, then adding it back.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_source: ModelSource,
        data_lake: DataLake,
        variants: Sequence[ProductionVariant] = (ProductionVariant(),),
        endpoint_name: str | None = None,
        multi_model: bool = False,
        network: MlNetwork | None = None,
        network_isolation: bool = True,
        role: iam.IRole | None = None,
        key: kms.IKey | None = None,
        artifacts_read_prefix: str | None = None,
        data_capture: DataCapture | None = DataCapture(),  # noqa: B008 - a frozen dataclass is an immutable value
        guardrails: DeploymentGuardrails = DeploymentGuardrails(),  # noqa: B008 - a frozen dataclass is an immutable value
        alarm_thresholds: AlarmThresholds = AlarmThresholds(),  # noqa: B008 - a frozen dataclass is an immutable value
        alarm_topic: sns.ITopic | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param model_source: the model served at creation (the approval flow replaces it).
        :param data_lake: where model data is read from and requests are captured to.
        :param variants: production variants (1 to 10), all serving the model. Default: one
            ``AllTraffic`` variant on one ml.m5.large.
        :param endpoint_name: the endpoint's name. Default: derived from the construct path.
        :param multi_model: host many models under ``model_source``'s prefix, chosen per
            request with ``TargetModel`` (``Mode: MultiModel``). Default: false.
        :param network: run the model in this network's subnets and workload security
            group. Default: SageMaker's managed network.
        :param network_isolation: deny the container any network access (model data and
            images are still fetched by SageMaker). Default: true.
        :param role: the model's execution role. Default: a new role with only what the
            model needs (grants are added to a role you pass if it is mutable).
        :param key: KMS key for volumes, logs and topics. Default: a new key, rotation on.
        :param artifacts_read_prefix: artifacts-zone prefix the model role may read; make it
            hold the data of the versions the approval flow will deploy
            (``models/churn/``). Default: the folder of ``model_source``'s model data.
        :param data_capture: request/response capture. None turns capture off. Default:
            every request and response, CSV and JSON as text.
        :param guardrails: blue/green traffic shifting and rollback. Default: all at once,
            5-minute bake, rollback on the 5XX and latency alarms.
        :param alarm_thresholds: when the alarms go off. Default: :class:`AlarmThresholds`.
        :param alarm_topic: where alarms notify. Default: a new KMS-encrypted topic.
        :param log_retention: how long endpoint logs are kept. Default: one year.
        :param removal_policy: what happens to the log group and the created key when the
            stack is deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        variants = tuple(variants)
        errors = ValidationErrors("RealtimeEndpoint")
        validate_common(
            errors,
            endpoint_name=endpoint_name,
            model_source=model_source,
            artifacts_read_prefix=artifacts_read_prefix,
            multi_model=multi_model,
        )
        validate_variants(errors, variants)
        if data_capture is not None:
            validate_data_capture(errors, data_capture)
        validate_guardrails(
            errors,
            guardrails,
            fleet_sizes=[_smallest_fleet(v) for v in variants],
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
            description="real-time endpoint",
        )
        self._build(
            model_source=model_source,
            variants=variants,
            network=network,
            network_isolation=network_isolation,
            multi_model=multi_model,
            data_capture=data_capture,
            guardrails=guardrails,
            alarm_thresholds=alarm_thresholds,
            artifacts_read_prefix=artifacts_read_prefix,
            retain_instance_counts=any(v.autoscaling is not None for v in variants),
        )
        self.scalable_targets: Mapping[str, appscaling.ScalableTarget] = MappingProxyType(
            self._autoscale(variants)
        )

    def _autoscale(
        self, variants: Sequence[ProductionVariant]
    ) -> dict[str, appscaling.ScalableTarget]:
        targets: dict[str, appscaling.ScalableTarget] = {}
        for variant in variants:
            scaling = variant.autoscaling
            if scaling is None:
                continue
            target = variant_scalable_target(
                self,
                f"{variant.variant_name}Scaling",
                endpoint_name=self.endpoint_name,
                variant_name=variant.variant_name,
                min_capacity=scaling.min_capacity,
                max_capacity=scaling.max_capacity,
            )
            target.node.add_dependency(self.cfn_endpoint)
            apply_autoscaling(target, scaling, self._scaling_metrics(variant.variant_name))
            targets[variant.variant_name] = target
        return targets

    def _scaling_metrics(self, variant_name: str) -> Callable[[ScalingMetric], cloudwatch.IMetric]:
        def metric(which: ScalingMetric) -> cloudwatch.IMetric:
            statistic, namespace = _STATISTICS[which]
            return self.metric(
                which.value, variant_name=variant_name, statistic=statistic, namespace=namespace
            )

        return metric


def _smallest_fleet(variant: ProductionVariant) -> int:
    """The fewest instances the variant runs on (what a canary or linear step is cut from)."""
    counts = [variant.initial_instance_count]
    if variant.autoscaling is not None:
        counts.append(variant.autoscaling.min_capacity)
    valid = [c for c in counts if isinstance(c, int) and not isinstance(c, bool) and c >= 1]
    return min(valid, default=1)

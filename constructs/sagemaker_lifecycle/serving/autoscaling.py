"""Application Auto Scaling of endpoint variants: target tracking, steps and schedules."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

from sagemaker_lifecycle._internal.schedules import check_schedule
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.serving._checks import seconds_in_range, time_zone

#: Application Auto Scaling's dimension for a variant's instance count.
VARIANT_INSTANCE_COUNT: str = "sagemaker:variant:DesiredInstanceCount"
# Application Auto Scaling uses this service-linked role for SageMaker whatever role a
# scalable target names; naming it avoids an unused role of our own.
_SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)
_MAX_COOLDOWN_SECONDS = 86_400
_MAX_INSTANCES = 10_000


class ScalingMetric(enum.Enum):
    """A variant metric that step scaling can act on."""

    CPU_UTILIZATION = "CPUUtilization"
    """Average CPU utilisation, summed over cores (0 to 100 x vCPUs)."""
    MEMORY_UTILIZATION = "MemoryUtilization"
    """Average memory utilisation, 0 to 100."""
    MODEL_LATENCY = "ModelLatency"
    """Average model latency in microseconds."""
    INVOCATIONS_PER_INSTANCE = "InvocationsPerInstance"
    """Invocations per instance, summed over the period."""


@dataclass(frozen=True)
class StepScaling:
    """Step scaling on one of the variant's metrics.

    ``steps`` are Application Auto Scaling intervals (``lower``/``upper`` bounds of the
    metric and the capacity ``change``); at least two are needed, one per direction or a
    no-change band.
    """

    metric: ScalingMetric
    """What to scale on."""
    steps: tuple[appscaling.ScalingInterval, ...]
    """The intervals and their capacity changes."""
    cooldown: Duration = Duration.minutes(5)
    """Wait between scaling activities. Default: 5 minutes."""
    evaluation_periods: int = 1
    """One-minute periods the metric must stay in an interval. Default: 1."""


@dataclass(frozen=True)
class ScheduledScaling:
    """A capacity change at a time: ``cron(0 8 ? * MON-FRI *)``, ``rate(1 day)``, ``at(...)``."""

    name: str
    """A PascalCase name (part of the scheduled action's construct id)."""
    schedule: str
    """When: an Application Auto Scaling schedule expression."""
    min_capacity: int | None = None
    """New minimum instances. Default: unchanged."""
    max_capacity: int | None = None
    """New maximum instances. Default: unchanged."""
    time_zone: str | None = None
    """IANA time zone of a cron or at expression. Default: UTC."""


@dataclass(frozen=True)
class AutoScaling:
    """Instance-count scaling of a real-time variant.

    Target tracking keeps invocations per instance near ``invocations_per_instance``. A
    variant registered for scaling can still get a new model from the approval flow, but
    not a new instance type (see the endpoint's docs).
    """

    min_capacity: int = 1
    """Fewest instances (at least 1: real-time variants cannot scale to zero). Default: 1."""
    max_capacity: int = 2
    """Most instances. Default: 2."""
    invocations_per_instance: int | None = 100
    """Target of ``SageMakerVariantInvocationsPerInstance`` (per minute); None turns target
    tracking off. Default: 100."""
    scale_in_cooldown: Duration = Duration.minutes(5)
    """Wait after a scale-in. Default: 5 minutes."""
    scale_out_cooldown: Duration = Duration.minutes(1)
    """Wait after a scale-out. Default: 1 minute."""
    step_scaling: StepScaling | None = None
    """Step scaling in addition to target tracking. Default: none."""
    schedules: tuple[ScheduledScaling, ...] = ()
    """Scheduled capacity changes. Default: none."""


def validate_autoscaling(
    errors: ValidationErrors, prop: str, scaling: AutoScaling, *, initial_instance_count: int
) -> None:
    """Report every invalid member of ``scaling`` under ``<prop>.<member>``."""
    int_in_range(
        errors, f"{prop}.min_capacity", scaling.min_capacity, minimum=1, maximum=_MAX_INSTANCES
    )
    int_in_range(
        errors, f"{prop}.max_capacity", scaling.max_capacity, minimum=1, maximum=_MAX_INSTANCES
    )
    if _ints(scaling.min_capacity, scaling.max_capacity):
        errors.check(
            scaling.min_capacity <= scaling.max_capacity,
            f"{prop}.max_capacity ({scaling.max_capacity}) must be at least min_capacity "
            f"({scaling.min_capacity})",
        )
        errors.check(
            scaling.min_capacity <= initial_instance_count <= scaling.max_capacity,
            f"{prop}: initial_instance_count ({initial_instance_count}) must be from "
            f"min_capacity ({scaling.min_capacity}) to max_capacity ({scaling.max_capacity})",
        )
    if scaling.invocations_per_instance is not None:
        int_in_range(
            errors,
            f"{prop}.invocations_per_instance",
            scaling.invocations_per_instance,
            minimum=1,
            maximum=1_000_000,
        )
    for member in ("scale_in_cooldown", "scale_out_cooldown"):
        seconds_in_range(
            errors,
            f"{prop}.{member}",
            getattr(scaling, member),
            minimum=0,
            maximum=_MAX_COOLDOWN_SECONDS,
        )
    if scaling.step_scaling is not None:
        _validate_steps(errors, f"{prop}.step_scaling", scaling.step_scaling)
    names = [schedule.name for schedule in scaling.schedules]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.add(f"{prop}.schedules names must be unique, got {name!r} more than once")
    for schedule in scaling.schedules:
        validate_schedule(errors, f"{prop}.schedules[{schedule.name}]", schedule, minimum=1)


def validate_schedule(
    errors: ValidationErrors, prop: str, schedule: ScheduledScaling, *, minimum: int
) -> None:
    """Report an invalid scheduled action (``minimum`` is the lowest capacity allowed)."""
    errors.check(
        schedule.name.isidentifier() and schedule.name[:1].isupper(),
        f"{prop}.name must be PascalCase letters and digits, got {schedule.name!r}",
    )
    check_schedule(errors, f"{prop}.schedule", schedule.schedule)
    errors.check(
        schedule.min_capacity is not None or schedule.max_capacity is not None,
        f"{prop} must set min_capacity, max_capacity or both",
    )
    for member in ("min_capacity", "max_capacity"):
        value = getattr(schedule, member)
        if value is not None:
            int_in_range(errors, f"{prop}.{member}", value, minimum=minimum, maximum=_MAX_INSTANCES)
    low, high = schedule.min_capacity, schedule.max_capacity
    if isinstance(low, int) and isinstance(high, int) and _ints(low, high):
        errors.check(
            low <= high,
            f"{prop}.max_capacity ({schedule.max_capacity}) must be at least min_capacity "
            f"({schedule.min_capacity})",
        )
    if schedule.time_zone is not None:
        time_zone(errors, f"{prop}.time_zone", schedule.time_zone)


def _validate_steps(errors: ValidationErrors, prop: str, step: StepScaling) -> None:
    errors.check(
        isinstance(step.metric, ScalingMetric),
        f"{prop}.metric must be a ScalingMetric, got {step.metric!r}",
    )
    errors.check(
        len(step.steps) >= 2, f"{prop}.steps needs at least 2 intervals, got {len(step.steps)}"
    )
    for index, interval in enumerate(step.steps):
        errors.check(
            interval.lower is not None or interval.upper is not None,
            f"{prop}.steps[{index}] needs a lower bound, an upper bound or both",
        )
        if interval.lower is not None and interval.upper is not None:
            errors.check(
                interval.lower < interval.upper,
                f"{prop}.steps[{index}] lower ({interval.lower}) must be below upper "
                f"({interval.upper})",
            )
        errors.check(
            isinstance(interval.change, int) and not isinstance(interval.change, bool),
            f"{prop}.steps[{index}].change must be a whole number of instances, "
            f"got {interval.change!r}",
        )
    seconds_in_range(
        errors, f"{prop}.cooldown", step.cooldown, minimum=0, maximum=_MAX_COOLDOWN_SECONDS
    )
    int_in_range(
        errors, f"{prop}.evaluation_periods", step.evaluation_periods, minimum=1, maximum=60
    )


def variant_scalable_target(
    scope: Construct,
    id: str,
    *,
    endpoint_name: str,
    variant_name: str,
    min_capacity: int,
    max_capacity: int,
) -> appscaling.ScalableTarget:
    """A scalable target for the instance count of one endpoint variant."""
    role = iam.Role.from_role_arn(
        scope,
        f"{id}ServiceLinkedRole",
        Stack.of(scope).format_arn(
            service="iam", region="", resource="role", resource_name=_SERVICE_LINKED_ROLE
        ),
        mutable=False,
    )
    return appscaling.ScalableTarget(
        scope,
        id,
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
        scalable_dimension=VARIANT_INSTANCE_COUNT,
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        role=role,
    )


def apply_autoscaling(
    target: appscaling.ScalableTarget,
    scaling: AutoScaling,
    metric: Callable[[ScalingMetric], cloudwatch.IMetric],
) -> None:
    """Attach ``scaling``'s policies and schedules to ``target``.

    :param metric: the variant's metric for a :class:`ScalingMetric`.
    """
    if scaling.invocations_per_instance is not None:
        target.scale_to_track_metric(
            "InvocationsTracking",
            target_value=scaling.invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=scaling.scale_in_cooldown,
            scale_out_cooldown=scaling.scale_out_cooldown,
        )
    if scaling.step_scaling is not None:
        step = scaling.step_scaling
        target.scale_on_metric(
            "StepScaling",
            metric=metric(step.metric),
            scaling_steps=list(step.steps),
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=step.cooldown,
            evaluation_periods=step.evaluation_periods,
        )
    apply_schedules(target, scaling.schedules)


def apply_schedules(
    target: appscaling.ScalableTarget, schedules: Sequence[ScheduledScaling]
) -> None:
    """Add ``schedules`` to ``target`` as scheduled actions."""
    for schedule in schedules:
        target.scale_on_schedule(
            schedule.name,
            schedule=appscaling.Schedule.expression(schedule.schedule),
            min_capacity=schedule.min_capacity,
            max_capacity=schedule.max_capacity,
            time_zone=TimeZone.of(schedule.time_zone) if schedule.time_zone else None,
        )


def _ints(*values: object) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)

"""The CloudWatch alarms every endpoint creates, and the thresholds they use."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.instance_types import vcpu_count
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.serving._checks import number_in_range, seconds_in_range

_MICROSECONDS_PER_MILLISECOND = 1000
_ONE_DAY_SECONDS = 86_400


class EndpointAlarm(enum.Enum):
    """The alarms of an endpoint, keys of its ``alarms`` mapping."""

    INVOCATION_5XX_ERRORS = "Invocation5XXErrors"
    """Server errors (model or container failures), summed over variants."""
    INVOCATION_4XX_ERROR_RATE = "Invocation4XXErrorRate"
    """Client errors as a percentage of invocations."""
    MODEL_LATENCY_P99 = "ModelLatencyP99"
    """99th-percentile model latency of the slowest variant."""
    CPU_UTILIZATION = "CPUUtilization"
    """CPU utilisation as a percentage of all vCPUs, of the busiest variant."""
    MEMORY_UTILIZATION = "MemoryUtilization"
    """Memory utilisation of the busiest variant."""


#: The alarms that roll a blue/green deployment back.
ROLLBACK_ALARMS = (EndpointAlarm.INVOCATION_5XX_ERRORS, EndpointAlarm.MODEL_LATENCY_P99)


@dataclass(frozen=True)
class AlarmThresholds:
    """When an endpoint's alarms go off. Every alarm needs ``datapoints_to_alarm`` of the
    last ``evaluation_periods`` periods over its threshold."""

    invocation_5xx_errors: int = 1
    """5XX errors per period. Default: 1."""
    invocation_4xx_error_rate_percent: float = 10.0
    """Percentage of invocations answered with a 4XX error. Default: 10."""
    model_latency_p99: Duration = Duration.seconds(1)  # noqa: RUF009 - Durations are immutable
    """99th-percentile model latency. Default: 1 second."""
    cpu_utilization_percent: float = 80.0
    """Average CPU use as a percentage of the instance's vCPUs. Default: 80."""
    memory_utilization_percent: float = 80.0
    """Average memory use in percent. Default: 80."""
    period: Duration = Duration.minutes(1)
    """Period of every alarm (a multiple of one minute). Default: 1 minute."""
    evaluation_periods: int = 3
    """Periods each alarm looks at. Default: 3."""
    datapoints_to_alarm: int = 2
    """Periods over the threshold that set an alarm off. Default: 2."""


def validate_thresholds(errors: ValidationErrors, thresholds: AlarmThresholds) -> None:
    """Report every invalid member of ``thresholds`` under ``alarm_thresholds.<member>``."""
    prop = "alarm_thresholds"
    int_in_range(
        errors,
        f"{prop}.invocation_5xx_errors",
        thresholds.invocation_5xx_errors,
        minimum=1,
        maximum=10**9,
    )
    for member in (
        "invocation_4xx_error_rate_percent",
        "cpu_utilization_percent",
        "memory_utilization_percent",
    ):
        number_in_range(
            errors, f"{prop}.{member}", getattr(thresholds, member), minimum=0.01, maximum=100
        )
    latency_ms = thresholds.model_latency_p99.to_milliseconds()
    errors.check(
        latency_ms >= 1,
        f"{prop}.model_latency_p99 must be at least 1 millisecond, "
        f"got {thresholds.model_latency_p99.to_human_string()}",
    )
    period = seconds_in_range(
        errors, f"{prop}.period", thresholds.period, minimum=60, maximum=_ONE_DAY_SECONDS
    )
    if period is not None:
        errors.check(
            period % 60 == 0,
            f"{prop}.period must be a whole number of minutes, "
            f"got {thresholds.period.to_human_string()}",
        )
    int_in_range(
        errors, f"{prop}.evaluation_periods", thresholds.evaluation_periods, minimum=1, maximum=100
    )
    int_in_range(
        errors,
        f"{prop}.datapoints_to_alarm",
        thresholds.datapoints_to_alarm,
        minimum=1,
        maximum=thresholds.evaluation_periods
        if isinstance(thresholds.evaluation_periods, int)
        else 100,
    )


def variant_metric(
    endpoint_name: str,
    variant_name: str,
    metric_name: str,
    *,
    statistic: str,
    period: Duration,
    namespace: str = metrics.SAGEMAKER_NAMESPACE,
) -> cloudwatch.Metric:
    """A metric of one endpoint variant."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map={
            metrics.DIM_ENDPOINT_NAME: endpoint_name,
            metrics.DIM_VARIANT_NAME: variant_name,
        },
        statistic=statistic,
        period=period,
    )


def create_endpoint_alarms(
    scope: Construct,
    *,
    endpoint_name: str,
    variants: Mapping[str, str | None],
    thresholds: AlarmThresholds,
    topic: sns.ITopic,
) -> dict[EndpointAlarm, cloudwatch.Alarm]:
    """The endpoint's alarms, each notifying ``topic``.

    :param variants: instance type by variant name; None for serverless variants, which have
        no instances and so no CPU or memory alarm.
    """
    period = thresholds.period
    names = list(variants)

    def metric(
        name: str, statistic: str, namespace: str = metrics.SAGEMAKER_NAMESPACE
    ) -> dict[str, cloudwatch.IMetric]:
        return {
            f"v{i}": variant_metric(
                endpoint_name,
                variant,
                name,
                statistic=statistic,
                period=period,
                namespace=namespace,
            )
            for i, variant in enumerate(names)
        }

    alarms: dict[EndpointAlarm, cloudwatch.Alarm] = {}
    alarms[EndpointAlarm.INVOCATION_5XX_ERRORS] = _alarm(
        scope,
        EndpointAlarm.INVOCATION_5XX_ERRORS,
        _sum(metric(metrics.INVOCATION_5XX_ERRORS, "Sum"), "5XX errors", period),
        threshold=thresholds.invocation_5xx_errors,
        description=f"Endpoint {endpoint_name} answers with server (5XX) errors.",
        thresholds=thresholds,
    )
    errors_4xx = metric(metrics.INVOCATION_4XX_ERRORS, "Sum")
    invocations = {f"i{k[1:]}": m for k, m in metric(metrics.INVOCATIONS, "Sum").items()}
    rate = cloudwatch.MathExpression(
        expression=f"100 * ({_fill_sum(errors_4xx)}) / ({_fill_sum(invocations)})",
        using_metrics={**errors_4xx, **invocations},
        label="4XX error rate (%)",
        period=period,
    )
    alarms[EndpointAlarm.INVOCATION_4XX_ERROR_RATE] = _alarm(
        scope,
        EndpointAlarm.INVOCATION_4XX_ERROR_RATE,
        rate,
        threshold=thresholds.invocation_4xx_error_rate_percent,
        description=f"Endpoint {endpoint_name} rejects too many requests (4XX errors).",
        thresholds=thresholds,
    )
    alarms[EndpointAlarm.MODEL_LATENCY_P99] = _alarm(
        scope,
        EndpointAlarm.MODEL_LATENCY_P99,
        _max(metric(metrics.MODEL_LATENCY, "p99"), "Model latency p99 (microseconds)", period),
        threshold=thresholds.model_latency_p99.to_milliseconds() * _MICROSECONDS_PER_MILLISECOND,
        description=f"Endpoint {endpoint_name}: 99th-percentile model latency is too high.",
        thresholds=thresholds,
    )
    if all(instance_type is not None for instance_type in variants.values()):
        alarms.update(_utilisation_alarms(scope, endpoint_name, variants, thresholds))
    for alarm in alarms.values():
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarms


def _utilisation_alarms(
    scope: Construct,
    endpoint_name: str,
    variants: Mapping[str, str | None],
    thresholds: AlarmThresholds,
) -> dict[EndpointAlarm, cloudwatch.Alarm]:
    period = thresholds.period
    cpu: dict[str, cloudwatch.IMetric] = {}
    parts = []
    for i, (variant, instance_type) in enumerate(variants.items()):
        cpu[f"c{i}"] = variant_metric(
            endpoint_name,
            variant,
            metrics.CPU_UTILIZATION,
            statistic="Average",
            period=period,
            namespace=metrics.ENDPOINT_INSTANCE_NAMESPACE,
        )
        vcpus = vcpu_count(instance_type or "") or 1
        parts.append(f"c{i} / {vcpus}")
    cpu_percent = cloudwatch.MathExpression(
        expression=parts[0] if len(parts) == 1 else f"MAX([{', '.join(parts)}])",
        using_metrics=cpu,
        label="CPU utilisation (% of all vCPUs)",
        period=period,
    )
    memory: dict[str, cloudwatch.IMetric] = {
        f"m{i}": variant_metric(
            endpoint_name,
            variant,
            metrics.MEMORY_UTILIZATION,
            statistic="Average",
            period=period,
            namespace=metrics.ENDPOINT_INSTANCE_NAMESPACE,
        )
        for i, variant in enumerate(variants)
    }
    return {
        EndpointAlarm.CPU_UTILIZATION: _alarm(
            scope,
            EndpointAlarm.CPU_UTILIZATION,
            cpu_percent,
            threshold=thresholds.cpu_utilization_percent,
            description=f"Endpoint {endpoint_name}: instances are short of CPU.",
            thresholds=thresholds,
            missing=cloudwatch.TreatMissingData.MISSING,
        ),
        EndpointAlarm.MEMORY_UTILIZATION: _alarm(
            scope,
            EndpointAlarm.MEMORY_UTILIZATION,
            _max(memory, "Memory utilisation (%)", period),
            threshold=thresholds.memory_utilization_percent,
            description=f"Endpoint {endpoint_name}: instances are short of memory.",
            thresholds=thresholds,
            missing=cloudwatch.TreatMissingData.MISSING,
        ),
    }


def _alarm(
    scope: Construct,
    which: EndpointAlarm,
    metric: cloudwatch.IMetric,
    *,
    threshold: float,
    description: str,
    thresholds: AlarmThresholds,
    missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(
        scope,
        f"{which.value}Alarm",
        metric=metric,
        threshold=threshold,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=thresholds.evaluation_periods,
        datapoints_to_alarm=thresholds.datapoints_to_alarm,
        # No traffic means no data; that is not an outage of the model.
        treat_missing_data=missing,
        alarm_description=description,
    )


def _fill_sum(named: Mapping[str, cloudwatch.IMetric]) -> str:
    return " + ".join(f"FILL({name}, 0)" for name in named)


def _sum(named: dict[str, cloudwatch.IMetric], label: str, period: Duration) -> cloudwatch.IMetric:
    if len(named) == 1:
        return next(iter(named.values()))
    return cloudwatch.MathExpression(
        expression=_fill_sum(named), using_metrics=named, label=label, period=period
    )


def _max(named: dict[str, cloudwatch.IMetric], label: str, period: Duration) -> cloudwatch.IMetric:
    if len(named) == 1:
        return next(iter(named.values()))
    return cloudwatch.MathExpression(
        expression=f"MAX([{', '.join(named)}])", using_metrics=named, label=label, period=period
    )


def alarm_names(
    alarms: Mapping[EndpointAlarm, cloudwatch.Alarm], which: Sequence[EndpointAlarm]
) -> list[str]:
    """The names of ``which`` alarms (tokens until deployed)."""
    return [alarms[key].alarm_name for key in which if key in alarms]

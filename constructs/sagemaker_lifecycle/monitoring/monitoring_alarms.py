"""The alarms of a ModelMonitor, the same for both backends and built from its metric methods.

- **drift** per monitored feature (or, built-in backend without named features, on the
  number of drifted features);
- **model quality**, one per threshold set on the model-quality monitor (in the built-in
  backend they look back ``ground_truth_delay`` further: the script timestamps figures with
  the end of the window it analysed);
- **bias**, ``|DPPL|`` (and ``|CI|`` when a threshold is set) per facet;
- **no data**: the window had no capture records, or no run published anything.

Failed runs are not alarms: EventBridge sends them to the same topic (see the backends).
Monitors publish one data point per run (an hour or a day), so alarms use that period and,
by default, go off when one of the last two runs breached: a single late run neither raises
nor clears an alarm, and a flapping metric keeps it in ALARM instead of toggling it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns

from sagemaker_lifecycle.monitoring.monitor_config import MonitorBackend
from sagemaker_lifecycle.monitoring.scripts import monitor_contract as contract

if TYPE_CHECKING:
    from sagemaker_lifecycle.monitoring.model_monitor import ModelMonitor

#: Bias measures alarmed on: Clarify's short names.
DPPL: Final = "DPPL"
CLASS_IMBALANCE: Final = "CI"
_GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
_GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
_LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True)
class MonitorAlarms:
    """A monitor's alarms by what they watch."""

    drift: Mapping[str, cloudwatch.Alarm]
    """By feature; the key ``"*"`` is the built-in backend's alarm on the number of drifted
    features when no feature is named."""
    model_quality: Mapping[str, cloudwatch.Alarm]
    """By figure (``accuracy``, ``rmse`` ...)."""
    bias: Mapping[tuple[str, str], cloudwatch.Alarm]
    """By (facet feature, ``DPPL`` or ``CI``)."""
    no_data: cloudwatch.Alarm

    @property
    def all(self) -> list[cloudwatch.Alarm]:
        return [
            *self.drift.values(),
            *self.model_quality.values(),
            *self.bias.values(),
            self.no_data,
        ]


def construct_id(text: str) -> str:
    """A construct id part for a feature or facet name: its letters and digits, plus a short
    digest of the name when it had other characters (``"a-b"`` and ``"ab"`` stay apart)."""
    safe = _NOT_ALNUM.sub("", text)
    if safe == text and safe:
        return safe
    return f"{safe}{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def create_monitor_alarms(
    monitor: ModelMonitor,
    *,
    topic: sns.ITopic,
    evaluation_periods: int,
    datapoints_to_alarm: int,
) -> MonitorAlarms:
    """Every alarm of ``monitor``, each notifying ``topic``."""
    factory = _AlarmFactory(monitor, topic, evaluation_periods, datapoints_to_alarm)
    builtin = monitor.backend is MonitorBackend.BUILTIN
    data_quality = monitor.data_quality
    drift: dict[str, cloudwatch.Alarm] = {}
    for feature in data_quality.features:
        drift[feature] = factory.alarm(
            f"FeatureDrift{construct_id(feature)}Alarm",
            monitor.metric_feature_drift(feature),
            threshold=1 if builtin else data_quality.baseline_drift_threshold,
            comparison=_GTE if builtin else _GT,
            description=f"Feature {feature!r} of endpoint {monitor.endpoint_name} drifted from "
            "its training baseline.",
        )
    if not drift:
        drift["*"] = factory.alarm(
            "FeaturesDriftedAlarm",
            monitor.metric_feature_drift(),
            threshold=1,
            comparison=_GTE,
            description=f"Features of endpoint {monitor.endpoint_name} drifted from their "
            "training baseline (see the run's violations.json).",
        )

    quality: dict[str, cloudwatch.Alarm] = {}
    if monitor.model_quality is not None:
        for option, threshold in monitor.model_quality.thresholds().items():
            minimum = option in contract.QUALITY_MINIMUMS
            figure = (contract.QUALITY_MINIMUMS if minimum else contract.QUALITY_MAXIMUMS)[option]
            quality[figure] = factory.alarm(
                f"ModelQuality{figure.capitalize()}Alarm",
                monitor.metric_model_quality(figure),
                threshold=threshold,
                comparison=_LT if minimum else _GT,
                description=f"Model quality of endpoint {monitor.endpoint_name}: {figure} is "
                f"{'below' if minimum else 'above'} {threshold}.",
                # The figures carry the timestamp of their delayed window: look back that far.
                evaluation_periods=evaluation_periods + monitor.quality_lag_periods,
            )

    bias: dict[tuple[str, str], cloudwatch.Alarm] = {}
    if monitor.bias is not None:
        for facet in monitor.facets:
            limits = {DPPL: monitor.bias.dppl_threshold}
            if monitor.bias.class_imbalance_threshold is not None:
                limits[CLASS_IMBALANCE] = monitor.bias.class_imbalance_threshold
            for measure, threshold in limits.items():
                absolute = cloudwatch.MathExpression(
                    expression="ABS(m)",
                    using_metrics={"m": monitor.metric_bias(facet.name, measure)},
                    label=f"|{measure}| of {facet}",
                    period=monitor.cadence.period,
                )
                bias[(facet.name, measure)] = factory.alarm(
                    f"Bias{construct_id(facet.name)}{measure.capitalize()}Alarm",
                    absolute,
                    threshold=threshold,
                    comparison=_GT,
                    description=f"Predictions of endpoint {monitor.endpoint_name} are biased "
                    f"on facet {facet}: |{measure}| is above {threshold}.",
                )

    no_data = factory.alarm(
        "NoDataAlarm",
        monitor.metric_no_data(),
        threshold=1,
        comparison=_GTE if builtin else _LT,
        description=f"Monitor {monitor.monitor_name} saw no captured requests of endpoint "
        f"{monitor.endpoint_name}, or published nothing, in its last runs.",
        # A run that published nothing is no data too; both runs of the range must agree.
        missing=cloudwatch.TreatMissingData.BREACHING,
        datapoints=evaluation_periods,
    )
    return MonitorAlarms(
        drift=MappingProxyType(drift),
        model_quality=MappingProxyType(quality),
        bias=MappingProxyType(bias),
        no_data=no_data,
    )


class _AlarmFactory:
    def __init__(
        self, monitor: ModelMonitor, topic: sns.ITopic, evaluation_periods: int, datapoints: int
    ) -> None:
        self._monitor = monitor
        self._action = cw_actions.SnsAction(topic)
        self._evaluation_periods = evaluation_periods
        self._datapoints = datapoints

    def alarm(
        self,
        id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        description: str,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
        datapoints: int | None = None,
        evaluation_periods: int | None = None,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self._monitor,
            id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods or self._evaluation_periods,
            datapoints_to_alarm=datapoints or self._datapoints,
            # A monitor that did not run is reported by the no-data alarm and the
            # failed-run notifications, not by every figure at once.
            treat_missing_data=missing,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        return alarm

"""What a :class:`~sagemaker_lifecycle.monitoring.ModelMonitor` checks, and how often.

Frozen dataclasses for the groups of props that travel together (the data-quality
thresholds, model quality, bias, the baselines), and the schedule rule both backends share:
a monitor runs once an hour or once a day and analyses the hour or day before the run.
Values are checked by :mod:`.model_monitor` when the construct is created, with the built-in
script's own rules (``scripts/monitor_contract.py``), so every error names the prop.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import Duration

from sagemaker_lifecycle._internal.schedules import parse_schedule
from sagemaker_lifecycle.model_registry import ModelRegistryBase
from sagemaker_lifecycle.monitoring.scripts import monitor_contract as contract
from sagemaker_lifecycle.pipelines.locations import LakeLocation


class MonitorBackend(enum.Enum):
    """Which service runs the checks."""

    BUILTIN = "builtin"
    """The library's monitor script in a SageMaker pipeline: works in every account."""
    SAGEMAKER = "sagemaker"
    """Amazon SageMaker Model Monitor job definitions and monitoring schedules, for accounts
    that already have Model Monitor (it is closed to new customers)."""


class BaselineSource(enum.Enum):
    """Where the built-in backend's ``statistics.json`` comes from."""

    LOCATION = "location"
    REGISTRY = "registry"


@dataclass(frozen=True)
class Baseline:
    """The training-data statistics the built-in backend compares requests with.

    Build it with :meth:`from_location` (one fixed ``statistics.json``) or
    :meth:`from_registry` (the statistics of the latest approved model version, looked up at
    every run). The file is the built-in format written by ``monitor_baseline.py``
    (``"format": "sagemaker-lifecycle/monitoring-baseline"``).
    """

    source: BaselineSource
    location: LakeLocation
    file_name: str = contract.BASELINE_FILE
    registry: ModelRegistryBase | None = None

    @staticmethod
    def from_location(location: LakeLocation, file_name: str = contract.BASELINE_FILE) -> Baseline:
        """``<location>/<file_name>``: a baseline that changes only when you move the file.

        :param file_name: Default: ``statistics.json``.
        """
        return Baseline(BaselineSource.LOCATION, location, file_name)

    @staticmethod
    def from_registry(registry: ModelRegistryBase, statistics: LakeLocation) -> Baseline:
        """The ``ModelMetrics.ModelDataQuality.Statistics`` of the newest *Approved* version in
        ``registry``, resolved at the start of every run, so the monitor follows approvals.

        This is the rule SageMaker Pipelines' check steps use for registry baselines. A run
        fails (and notifies) while the group has no approved version with statistics.

        :param statistics: the data-lake prefix the training pipeline writes those
            statistics under (the monitor role may read only there).
        """
        return Baseline(BaselineSource.REGISTRY, statistics, registry=registry)

    @property
    def uri(self) -> str:
        """``s3://<bucket>/<prefix>/<file_name>`` of a fixed baseline."""
        return f"{self.location.uri}/{self.file_name}"


@dataclass(frozen=True, kw_only=True)
class DataQualityMonitor:
    """Data quality of the requests against the training baseline: drift, completeness, schema.

    Data quality always runs. The thresholds below are the built-in script's (see
    ``monitor_contract.OPTIONS``), except ``baseline_drift_threshold``, which is what the
    Model Monitor backend's per-feature drift alarms compare with.
    """

    features: Sequence[str] = ()
    """Features with their own drift alarm and dashboard line. Default: none (the built-in
    backend then alarms once on the number of drifted features; the Model Monitor backend
    needs at least one, since it publishes drift per feature only)."""
    psi_threshold: float = 0.2
    """A feature drifts when its population stability index exceeds this. Default: 0.2."""
    ks_p_value: float = 0.01
    """Numeric features drift when the KS p-value is below this and the KS statistic exceeds
    ``ks_min_statistic``. Default: 0.01."""
    ks_min_statistic: float = 0.1
    """Default: 0.1."""
    chi_square_p_value: float = 0.01
    """Categorical features drift when the chi-square p-value is below this and the
    L-infinity distance exceeds ``min_linf_distance``. Default: 0.01."""
    min_linf_distance: float = 0.1
    """Default: 0.1."""
    missing_rate_tolerance: float = 0.05
    """Completeness is violated when a feature's missing rate exceeds the baseline's by more
    than this. Default: 0.05."""
    max_type_mismatch_rate: float = 0.0
    """A numeric feature's type is violated when more than this share of its values is not a
    number. Default: 0."""
    min_records: int = 30
    """Windows with fewer rows raise no drift or quality violation. Default: 30."""
    baseline_drift_threshold: float = 0.1
    """Model Monitor backend: alarm when ``feature_baseline_drift_<feature>`` (its distance
    from the baseline distribution) exceeds this, Model Monitor's default comparison
    threshold. Default: 0.1."""


@dataclass(frozen=True, kw_only=True)
class ModelQualityMonitor:
    """Model quality: captured predictions joined with uploaded ground truth by inference id.

    Ground truth is JSON Lines in SageMaker's merge format under
    ``<ground_truth>/yyyy/mm/dd/hh/`` (the hour of upload), with ``eventMetadata.eventId``
    set to the request's inference id. Each ``min_*``/``max_*`` threshold raises an alarm
    (and, in the built-in backend, a violation) when the figure is worse.
    """

    ground_truth: LakeLocation | None = None
    """Where labels are uploaded (usually the capture zone). Required."""
    problem_type: str | None = None
    """``binary_classification``, ``multiclass_classification`` or ``regression``. Required."""
    ground_truth_delay: Duration = Duration.hours(0)
    """How long after a request its label may arrive, in whole hours: the model-quality run
    analyses the window that ended this long ago. Default: 0."""
    min_accuracy: float | None = None
    """Default: not checked."""
    min_precision: float | None = None
    """Default: not checked."""
    min_recall: float | None = None
    """Default: not checked."""
    min_f1: float | None = None
    """Default: not checked."""
    min_auc: float | None = None
    """Binary classification with scores. Default: not checked."""
    max_mae: float | None = None
    """Regression. Default: not checked."""
    max_rmse: float | None = None
    """Regression. Default: not checked."""
    min_r2: float | None = None
    """Regression. Default: not checked."""

    def thresholds(self) -> dict[str, float]:
        """The thresholds that are set, by the script's option name (``min_accuracy``)."""
        names = (*contract.QUALITY_MINIMUMS, *contract.QUALITY_MAXIMUMS)
        return {name: value for name in names if (value := getattr(self, name)) is not None}


@dataclass(frozen=True, kw_only=True)
class BiasMonitor:
    """Bias of the predicted labels across facets (SageMaker Clarify's CI and DPPL).

    A facet is ``name=value[|value...]`` (rows with one of the values form the sensitive
    group) or ``name>threshold``; ``name`` is a baseline feature.
    """

    facets: Sequence[str] = ()
    """At least one facet, such as ``"gender=F"`` or ``"age>60"``."""
    problem_type: str | None = None
    """``binary_classification`` or ``multiclass_classification``. Default: the model-quality
    monitor's problem type."""
    dppl_threshold: float = 0.1
    """Alarm when ``|DPPL|`` of a facet exceeds this. Default: 0.1."""
    class_imbalance_threshold: float | None = None
    """Alarm when ``|CI|`` of a facet exceeds this. Default: not checked."""
    label_header: str = "label"
    """Model Monitor backend: the ``label`` of the Clarify analysis configuration (the
    ``Label`` dimension of its metrics). Default: ``label``."""


@dataclass(frozen=True, kw_only=True)
class ExplainabilityMonitor:
    """Feature-attribution drift (SHAP), Model Monitor backend only.

    SageMaker Clarify computes SHAP values on a shadow endpoint it creates from
    ``model_name`` (named ``sagemaker-clarify-endpoint-*``), so these jobs run without
    network isolation; give the ModelMonitor a ``network`` to keep them in the VPC.
    """

    model_name: str
    """The SageMaker model the analysis configuration's predictor names."""


@dataclass(frozen=True, kw_only=True)
class PredictionFormat:
    """How the model's output is read, for model quality and bias (built-in backend).

    See the script's ``--prediction-*``, ``--positive-label`` and
    ``--probability-threshold`` options.
    """

    kind: str | None = None
    """``score`` or ``label``. Default: label for multiclass classification, else score."""
    key: str | None = None
    """Key of the prediction in a JSON output object. Default: the script's guesses."""
    index: int = 0
    """Index of the prediction in a list or CSV output row. Default: 0."""
    positive_label: str = "1"
    """The positive class. Default: ``"1"``."""
    probability_threshold: float = 0.5
    """Scores at or above it predict the positive class. Default: 0.5."""


@dataclass(frozen=True, kw_only=True)
class ModelMonitorBaselines:
    """Model Monitor backend: where the check steps of the training pipeline left their
    baselines (``QualityCheckStep``/``ClarifyCheckStep`` outputs, copied to a fixed prefix).

    Each location is a folder; the monitor role may read only these folders.
    """

    data_quality: LakeLocation | None = None
    """``statistics.json`` and ``constraints.json`` of a DATA_QUALITY QualityCheckStep.
    Required."""
    model_quality: LakeLocation | None = None
    """``constraints.json`` of a MODEL_QUALITY QualityCheckStep. Required for model quality."""
    model_bias: LakeLocation | None = None
    """``analysis_config.json`` and ``analysis.json`` of a MODEL_BIAS ClarifyCheckStep.
    Required for bias."""
    model_explainability: LakeLocation | None = None
    """``analysis_config.json`` and ``analysis.json`` of a MODEL_EXPLAINABILITY
    ClarifyCheckStep. Required for explainability."""
    statistics_file: str = "statistics.json"
    """Default: ``statistics.json``."""
    constraints_file: str = "constraints.json"
    """Default: ``constraints.json``."""
    clarify_config_file: str = "analysis_config.json"
    """Default: ``analysis_config.json``."""
    clarify_constraints_file: str = "analysis.json"
    """Default: ``analysis.json``."""


# --- Schedules -------------------------------------------------------------------------------

HOURLY: Final = "hourly"
DAILY: Final = "daily"
#: Minute past the hour the built-in backend runs at for "hourly" and "daily": SageMaker
#: writes an hour's capture files a few minutes after the hour ends.
DEFAULT_RUN_MINUTE: Final = 15
_ANY = frozenset({"*", "?"})


@dataclass(frozen=True)
class MonitorCadence:
    """A schedule both backends can run: once an hour, or once a day at ``hour``."""

    hours: int
    """The window (and alarm period): 1 or 24."""
    minute: int
    hour: int | None = None
    rate: bool = False

    @property
    def period(self) -> Duration:
        return Duration.hours(self.hours)

    def scheduler_expression(self) -> str:
        """The EventBridge Scheduler expression of the built-in backend's schedule."""
        if self.rate:
            return "rate(1 hour)" if self.hours == 1 else "rate(1 day)"
        hour = "*" if self.hours == 1 else str(self.hour)
        return f"cron({self.minute} {hour} * * ? *)"

    def model_monitor_expression(self) -> str:
        """SageMaker's own format (ScheduleConfig): ``cron(0 * ? * * *)`` or
        ``cron(0 <h> ? * * *)``; the minute is always 0."""
        hour = "*" if self.hours == 1 else str(self.hour or 0)
        return f"cron(0 {hour} ? * * *)"


_SCHEDULE_HELP = (
    "'hourly', 'daily', rate(1 hour), rate(1 day), or a cron expression that runs once an "
    "hour (cron(15 * * * ? *)) or once a day (cron(15 2 * * ? *)): each run analyses the "
    "hour or day before it"
)


def parse_monitor_schedule(expression: str) -> MonitorCadence:
    """The cadence of ``expression``; ``ValueError`` says what is allowed."""
    text = expression.strip()
    if text == HOURLY:
        return MonitorCadence(1, DEFAULT_RUN_MINUTE)
    if text == DAILY:
        return MonitorCadence(24, DEFAULT_RUN_MINUTE, hour=0)
    parsed = parse_schedule(text)  # raises ValueError on a malformed expression
    if parsed.kind == "rate" and parsed.rate_minutes in (60, 1440):
        return MonitorCadence(1 if parsed.rate_minutes == 60 else 24, 0, hour=0, rate=True)
    if parsed.kind == "cron":
        minute, hour, day, month, weekday, year = parsed.cron_fields
        every_day = day in _ANY and month == "*" and weekday in _ANY and year == "*"
        if every_day and minute.isdigit():
            if hour == "*":
                return MonitorCadence(1, int(minute))
            if hour.isdigit():
                return MonitorCadence(24, int(minute), hour=int(hour))
    raise ValueError(f"runs neither once an hour nor once a day; use {_SCHEDULE_HELP}")

"""Monitors a SageMaker endpoint's captured traffic: drift, model quality, bias, alarms."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, Final

from aws_cdk import Duration, RemovalPolicy, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.messaging import encrypted_topic, grant_service_publish
from sagemaker_lifecycle._internal.sagemaker_api import check_enum, check_name
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.execution_roles import ExecutionRole
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.monitoring.builtin_backend import (
    MODEL_QUALITY_SUFFIX,
    BuiltinMonitoringPipeline,
    data_quality_thresholds,
    prediction_options,
)
from sagemaker_lifecycle.monitoring.monitor_config import (
    Baseline,
    BiasMonitor,
    DataQualityMonitor,
    ExplainabilityMonitor,
    ModelMonitorBaselines,
    ModelQualityMonitor,
    MonitorBackend,
    MonitorCadence,
    PredictionFormat,
    parse_monitor_schedule,
)
from sagemaker_lifecycle.monitoring.monitoring_alarms import (
    CLASS_IMBALANCE,
    DPPL,
    MonitorAlarms,
    create_monitor_alarms,
)
from sagemaker_lifecycle.monitoring.sagemaker_backend import ModelMonitorSchedules
from sagemaker_lifecycle.monitoring.scripts import monitor_contract as contract
from sagemaker_lifecycle.pipelines import TrainingPipeline
from sagemaker_lifecycle.pipelines.locations import LakeLocation
from sagemaker_lifecycle.serving._instance_endpoint import InstanceEndpointBase

#: Model-quality figures :meth:`ModelMonitor.metric_model_quality` knows, with the built-in
#: metric name and Model Monitor's (binary classification and regression).
QUALITY_FIGURES: Final[Mapping[str, tuple[str, str]]] = {
    "accuracy": (metrics.MONITOR_ACCURACY, metrics.MODEL_MONITOR_ACCURACY),
    "precision": (metrics.MONITOR_PRECISION, metrics.MODEL_MONITOR_PRECISION),
    "recall": (metrics.MONITOR_RECALL, metrics.MODEL_MONITOR_RECALL),
    "f1": (metrics.MONITOR_F1, metrics.MODEL_MONITOR_F1),
    "auc": (metrics.MONITOR_AUC, metrics.MODEL_MONITOR_AUC),
    "mae": (metrics.MONITOR_MAE, metrics.MODEL_MONITOR_MAE),
    "rmse": (metrics.MONITOR_RMSE, metrics.MODEL_MONITOR_RMSE),
    "r2": (metrics.MONITOR_R2, metrics.MODEL_MONITOR_R2),
}
# Model Monitor names multiclass precision/recall/F1 with this prefix (weighted averages).
_WEIGHTED = metrics.MODEL_MONITOR_WEIGHTED_F1.removesuffix(metrics.MODEL_MONITOR_F1)
_BIAS_METRICS = {
    DPPL: (metrics.MONITOR_DPPL, metrics.MODEL_MONITOR_DPPL, "Post-Training"),
    CLASS_IMBALANCE: (
        metrics.MONITOR_CLASS_IMBALANCE,
        metrics.MODEL_MONITOR_CLASS_IMBALANCE,
        "Pre-training",
    ),
}
# Monitoring schedule names allow letters, digits and hyphens (63 at most); the longest
# suffix a monitor adds is "-model-quality" / "-explainability" (15 with the monitor's own).
_MONITOR_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
MAX_MONITOR_NAME: Final = 48
_HOUR_SECONDS = 3600
_MAX_ALARM_RANGE_SECONDS = 7 * 86_400  # CloudWatch: period x evaluation periods <= 7 days
_MAX_VOLUME_GB = 16384
_MAX_DELAY_HOURS = 720


class ModelMonitor(Construct):
    """Monitors one endpoint's captured requests and responses on a schedule.

    Two backends behind the same props, alarms and metric methods:

    - ``backend="builtin"`` (default, works in every account): a SageMaker pipeline runs the
      library's monitor script (``monitoring/scripts/monitor.py``) on the scikit-learn image,
      started by EventBridge Scheduler. It needs ``network`` (the script reads S3 and
      publishes to CloudWatch itself, from the private subnets, which must reach S3,
      CloudWatch and, for a registry baseline, the SageMaker API: MlNetwork's default
      endpoints do) and a :class:`Baseline`.
    - ``backend="sagemaker"``: SageMaker Model Monitor job definitions and monitoring
      schedules, for accounts that have Model Monitor, with the baselines of the training
      pipeline's check steps (:class:`ModelMonitorBaselines`).

    Data quality (drift, completeness, schema) always runs; ``model_quality`` joins
    predictions with uploaded ground truth; ``bias`` watches facets of the predicted labels.
    Every alarm (:attr:`alarms`) and failed run notifies :attr:`alarm_topic` (KMS-encrypted,
    TLS-only). Runs are hourly or daily (``schedule``), each analysing the hour or day
    before it; reports and violations go to the monitoring zone.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_lake: DataLake,
        endpoint: InstanceEndpointBase | None = None,
        endpoint_name: str | None = None,
        capture: LakeLocation | None = None,
        baseline: Baseline | None = None,
        model_monitor_baselines: ModelMonitorBaselines | None = None,
        data_quality: DataQualityMonitor = DataQualityMonitor(),  # noqa: B008 - a frozen dataclass is an immutable value
        model_quality: ModelQualityMonitor | None = None,
        bias: BiasMonitor | None = None,
        explainability: ExplainabilityMonitor | None = None,
        predictions: PredictionFormat = PredictionFormat(),  # noqa: B008 - a frozen dataclass is an immutable value
        schedule: str = "hourly",
        backend: MonitorBackend | str = MonitorBackend.BUILTIN,
        monitor_name: str | None = None,
        output: LakeLocation | None = None,
        network: MlNetwork | None = None,
        alarm_topic: sns.ITopic | None = None,
        key: kms.IKey | None = None,
        instance_type: str = "ml.m5.large",
        volume_size_gb: int = 30,
        max_runtime: Duration = Duration.minutes(50),
        alarm_evaluation_periods: int = 2,
        alarm_datapoints_to_alarm: int = 1,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param data_lake: holds the capture, ground truth, baselines and reports.
        :param endpoint: the endpoint to monitor (a ``RealtimeEndpoint`` or ``AsyncEndpoint``
            with data capture into ``data_lake``). Default: give ``endpoint_name`` and
            ``capture`` instead.
        :param endpoint_name: an endpoint created elsewhere. Default: ``endpoint``'s.
        :param capture: the capture-zone prefix its ``DataCaptureConfig`` writes to (the
            ``DestinationS3Uri``). Default: ``endpoint``'s.
        :param baseline: built-in backend: the training statistics. Required there.
        :param model_monitor_baselines: Model Monitor backend: the check steps' baselines.
            Required there.
        :param data_quality: drift thresholds and the features with their own alarm.
            Default: :class:`DataQualityMonitor` defaults, no per-feature alarms.
        :param model_quality: ground truth, problem type and quality thresholds.
            Default: no model-quality monitoring.
        :param bias: facets to watch. Default: no bias monitoring.
        :param explainability: Model Monitor backend only: SHAP attribution drift.
            Default: none.
        :param predictions: how outputs are read for model quality and bias.
            Default: :class:`PredictionFormat` defaults.
        :param schedule: ``"hourly"``, ``"daily"``, or a rate or cron expression that runs
            once an hour or once a day. Default: hourly.
        :param backend: ``"builtin"`` or ``"sagemaker"``. Default: builtin.
        :param monitor_name: names the monitor's pipeline or schedules and its ``Monitor``
            dimension (letters, digits, hyphens, up to 48). Default: the endpoint's name.
        :param output: where reports and violations go. Default: ``reports/<monitor name>/``
            in the monitoring zone.
        :param network: run the jobs in this network. Required by the built-in backend.
            Default: no VPC (Model Monitor jobs then stay network-isolated).
        :param alarm_topic: where alarms and failed runs notify; its key must let CloudWatch
            and EventBridge use it. Default: a new topic encrypted with ``key``.
        :param key: KMS key of a new topic and the schedule. Default: a new key, rotation on.
        :param instance_type: a ``ProcessingInstanceType``. Default: ``ml.m5.large``.
        :param volume_size_gb: storage per job, 1 to 16384. Default: 30.
        :param max_runtime: stop a run after this long, at most the schedule's interval.
            Default: 50 minutes.
        :param alarm_evaluation_periods: runs each alarm looks at. Default: 2.
        :param alarm_datapoints_to_alarm: breaching runs among them that set an alarm off.
            Default: 1.
        :param removal_policy: what happens to a new key when the stack is deleted.
            Default: RETAIN.
        """
        super().__init__(scope, id)
        errors = ValidationErrors("ModelMonitor")
        chosen = _backend(errors, backend)
        name, captured = _endpoint_and_capture(errors, data_lake, endpoint, endpoint_name, capture)
        cadence = _cadence(errors, schedule, chosen)
        name_of_monitor = _monitor_name(errors, monitor_name, name)
        _check_data_quality(errors, data_quality, chosen)
        facets = _check_bias(errors, bias, model_quality, chosen)
        _check_model_quality(errors, model_quality)
        _check_predictions(errors, predictions, model_quality, bias)
        _check_backend_props(
            errors,
            chosen,
            baseline=baseline,
            baselines=model_monitor_baselines,
            model_quality=model_quality,
            bias=bias,
            explainability=explainability,
            network=network,
        )
        _check_resources(errors, instance_type, volume_size_gb, max_runtime, cadence)
        _check_alarm_settings(errors, alarm_evaluation_periods, alarm_datapoints_to_alarm, cadence)
        _check_quality_alarm_range(errors, chosen, model_quality, alarm_evaluation_periods, cadence)
        errors.raise_if_any()
        assert captured is not None
        assert cadence is not None
        assert chosen is not None
        if bias is not None and bias.problem_type is None and model_quality is not None:
            bias = dataclasses.replace(bias, problem_type=model_quality.problem_type)

        self.backend: MonitorBackend = chosen
        self.endpoint_name: str = name or ""
        self.monitor_name: str = name_of_monitor or ""
        self.cadence: MonitorCadence = cadence
        self.capture: LakeLocation = captured
        self.data_quality = data_quality
        self.model_quality = model_quality
        self.bias = bias
        self.facets: tuple[contract.Facet, ...] = facets
        self._positive_label = predictions.positive_label
        self.output: LakeLocation = output or LakeLocation(
            data_lake, Zone.MONITORING, f"reports/{self.monitor_name}/"
        )
        self.key: kms.IKey = key or kms.Key(
            self,
            "Key",
            description=f"Encrypts the topic and schedule of model monitor {self.monitor_name}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        if alarm_topic is None:
            topic = encrypted_topic(
                self, "AlarmTopic", key=self.key, display_name=f"{self.monitor_name} monitoring"
            )
            for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
                grant_service_publish(topic, self.key, service)
            alarm_topic = topic
        #: Where every alarm and failed run notifies.
        self.alarm_topic: sns.ITopic = alarm_topic

        #: Built-in backend: the monitoring pipeline (None with Model Monitor).
        self.pipeline: TrainingPipeline | None = None
        #: Model Monitor backend: the schedules' names by monitoring type (empty built-in).
        self.schedule_names: Mapping[str, str] = {}
        shared: dict[str, Any] = {
            "data_lake": data_lake,
            "endpoint_name": self.endpoint_name,
            "capture": captured,
            "output": self.output,
            "monitor_name": self.monitor_name,
            "model_quality": model_quality,
            "bias": bias,
            "predictions": predictions,
            "cadence": cadence,
            "network": network,
            "alarm_topic": self.alarm_topic,
            "instance_type": instance_type,
            "volume_size_gb": volume_size_gb,
            "max_runtime": max_runtime,
        }
        #: The backend's construct (its pipeline or its schedules).
        self.backend_construct = self._build_backend(
            shared,
            baseline=baseline,
            baselines=model_monitor_baselines,
            explainability=explainability,
            endpoint=endpoint,
        )
        #: The jobs' execution role.
        self.role: ExecutionRole = self.backend_construct.role

        self.monitor_alarms: MonitorAlarms = create_monitor_alarms(
            self,
            topic=self.alarm_topic,
            evaluation_periods=alarm_evaluation_periods,
            datapoints_to_alarm=alarm_datapoints_to_alarm,
        )

    def _build_backend(
        self,
        shared: dict[str, Any],
        *,
        baseline: Baseline | None,
        baselines: ModelMonitorBaselines | None,
        explainability: ExplainabilityMonitor | None,
        endpoint: InstanceEndpointBase | None,
    ) -> BuiltinMonitoringPipeline | ModelMonitorSchedules:
        if self.backend is MonitorBackend.BUILTIN:
            assert baseline is not None  # checked with the props
            builtin = BuiltinMonitoringPipeline(
                self,
                "BuiltinBackend",
                baseline=baseline,
                data_quality=self.data_quality,
                key=self.key,
                **shared,
            )
            self.pipeline = builtin.pipeline
            return builtin
        assert baselines is not None  # checked with the props
        schedules = ModelMonitorSchedules(
            self,
            "ModelMonitorBackend",
            baselines=baselines,
            explainability=explainability,
            **shared,
        )
        if endpoint is not None:
            # CreateMonitoringSchedule checks that the endpoint exists.
            for schedule_resource in schedules.schedules.values():
                schedule_resource.node.add_dependency(endpoint)
        self.schedule_names = schedules.schedule_names
        return schedules

    # --- alarms --------------------------------------------------------------------------

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Every alarm of the monitor."""
        return self.monitor_alarms.all

    @property
    def retraining_alarms(self) -> list[cloudwatch.Alarm]:
        """The drift and model-quality alarms: what a retraining loop reacts to."""
        return [
            *self.monitor_alarms.drift.values(),
            *self.monitor_alarms.model_quality.values(),
        ]

    @property
    def quality_lag_periods(self) -> int:
        """Built-in backend: how many alarm periods model-quality figures lag behind.

        The script timestamps a run's figures with the end of the window it analysed, which
        for model quality ended ``ground_truth_delay`` ago, so quality alarms look back that
        much further than the others.
        """
        if self.backend is not MonitorBackend.BUILTIN or self.model_quality is None:
            return 0
        return _lag_periods(self.model_quality, self.cadence)

    # --- metrics -------------------------------------------------------------------------

    def metric_feature_drift(
        self, feature: str | None = None, *, period: Duration | None = None
    ) -> cloudwatch.Metric:
        """Drift of ``feature`` per run: built-in, ``DriftDetected`` (1 drifted, 0 not);
        Model Monitor, ``feature_baseline_drift_<feature>`` (distance from the baseline).

        :param feature: Default: built-in, the number of drifted features
            (``FeaturesDrifted``); Model Monitor publishes drift per feature only.
        """
        if self.backend is MonitorBackend.BUILTIN:
            if feature is None:
                return self._builtin(metrics.MONITOR_FEATURES_DRIFTED, "Maximum", period)
            return self._builtin(metrics.MONITOR_DRIFT_DETECTED, "Maximum", period, feature)
        if feature is None:
            raise ValueError(
                "feature is required with backend='sagemaker': Model Monitor publishes drift "
                "per feature only"
            )
        return self._model_monitor_feature(feature, "Maximum", period)

    def metric_no_data(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Runs without captured data: built-in, ``NoData`` (1 when the window was empty);
        Model Monitor, the number of drift data points of the first monitored feature (0
        or missing when a run had no data)."""
        if self.backend is MonitorBackend.BUILTIN:
            return self._builtin(metrics.MONITOR_NO_DATA, "Maximum", period)
        return self._model_monitor_feature(self.data_quality.features[0], "SampleCount", period)

    def metric_model_quality(
        self, figure: str, *, period: Duration | None = None
    ) -> cloudwatch.Metric:
        """A model-quality figure per run: ``accuracy``, ``precision``, ``recall``, ``f1``,
        ``auc``, ``mae``, ``rmse`` or ``r2``.

        Multiclass precision, recall and F1 are macro averages in the built-in backend and
        weighted averages in Model Monitor (``weighted_f1``).
        """
        if figure not in QUALITY_FIGURES:
            raise ValueError(f"figure must be one of {', '.join(QUALITY_FIGURES)}, got {figure!r}")
        if self.model_quality is None:
            raise ValueError("this monitor has no model_quality")
        builtin_name, model_monitor_name = QUALITY_FIGURES[figure]
        if self.backend is MonitorBackend.BUILTIN:
            return self._builtin(
                builtin_name,
                "Average",
                period,
                monitor_name=f"{self.monitor_name}{MODEL_QUALITY_SUFFIX}",
            )
        if self.model_quality.problem_type == contract.MULTICLASS and figure in (
            "precision",
            "recall",
            "f1",
        ):
            model_monitor_name = f"{_WEIGHTED}{model_monitor_name}"
        return cloudwatch.Metric(
            namespace=metrics.MODEL_MONITOR_MODEL_NAMESPACE,
            metric_name=model_monitor_name,
            dimensions_map={
                metrics.MODEL_MONITOR_DIM_ENDPOINT: self.endpoint_name,
                metrics.MODEL_MONITOR_DIM_SCHEDULE: self.schedule_names["ModelQuality"],
            },
            statistic="Average",
            period=period or self.cadence.period,
        )

    def metric_bias(
        self, facet: str, measure: str = DPPL, *, period: Duration | None = None
    ) -> cloudwatch.Metric:
        """A bias measure of ``facet`` (its feature name) per run: ``DPPL`` (difference in
        positive proportions of predicted labels) or ``CI`` (class imbalance)."""
        if measure not in _BIAS_METRICS:
            raise ValueError(f"measure must be one of {', '.join(_BIAS_METRICS)}, got {measure!r}")
        chosen = [f for f in self.facets if f.name == facet]
        if not chosen:
            raise ValueError(
                f"facet must be one of {', '.join(f.name for f in self.facets) or '(none)'}, "
                f"got {facet!r}"
            )
        builtin_name, model_monitor_name, stage = _BIAS_METRICS[measure]
        if self.backend is MonitorBackend.BUILTIN:
            return self._builtin(builtin_name, "Average", period, facet)
        assert self.bias is not None
        value = chosen[0].values[0] if chosen[0].values else f"{chosen[0].threshold:g}"
        return cloudwatch.Metric(
            namespace=metrics.MODEL_MONITOR_BIAS_NAMESPACE,
            metric_name=model_monitor_name,
            dimensions_map={
                metrics.MODEL_MONITOR_DIM_ENDPOINT: self.endpoint_name,
                metrics.MODEL_MONITOR_DIM_SCHEDULE: self.schedule_names["ModelBias"],
                metrics.MODEL_MONITOR_DIM_BIAS_STAGE: stage,
                metrics.MODEL_MONITOR_DIM_LABEL: self.bias.label_header,
                metrics.MODEL_MONITOR_DIM_LABEL_VALUE: self._positive_label,
                metrics.MODEL_MONITOR_DIM_FACET: facet,
                metrics.MODEL_MONITOR_DIM_FACET_VALUE: value,
            },
            statistic="Average",
            period=period or self.cadence.period,
        )

    def metric_records_analyzed(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Built-in backend: request rows analysed per run (Sum)."""
        self._require_builtin("metric_records_analyzed")
        return self._builtin(metrics.MONITOR_RECORDS_ANALYZED, "Sum", period)

    def metric_violations(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Built-in backend: entries of the data-quality run's ``violations.json`` (Sum)."""
        self._require_builtin("metric_violations")
        return self._builtin(metrics.MONITOR_VIOLATIONS, "Sum", period)

    # --- grants --------------------------------------------------------------------------

    def grant_read_reports(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the monitor's reports and violations."""
        return self.output.grant_read(grantee)

    # --- internals -----------------------------------------------------------------------

    def _builtin(
        self,
        name: str,
        statistic: str,
        period: Duration | None,
        feature: str | None = None,
        *,
        monitor_name: str | None = None,
    ) -> cloudwatch.Metric:
        dimensions = {
            metrics.MONITOR_DIM_ENDPOINT: self.endpoint_name,
            metrics.MONITOR_DIM_MONITOR: monitor_name or self.monitor_name,
        }
        if feature is not None:
            dimensions[metrics.MONITOR_DIM_FEATURE] = feature
        return cloudwatch.Metric(
            namespace=metrics.MONITOR_NAMESPACE,
            metric_name=name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=period or self.cadence.period,
        )

    def _model_monitor_feature(
        self, feature: str, statistic: str, period: Duration | None
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=metrics.MODEL_MONITOR_DATA_NAMESPACE,
            metric_name=f"{metrics.MODEL_MONITOR_FEATURE_BASELINE_DRIFT_PREFIX}{feature}",
            dimensions_map={
                metrics.MODEL_MONITOR_DIM_ENDPOINT: self.endpoint_name,
                metrics.MODEL_MONITOR_DIM_FEATURE: feature,
                metrics.MODEL_MONITOR_DIM_SCHEDULE: self.schedule_names["DataQuality"],
            },
            statistic=statistic,
            period=period or self.cadence.period,
        )

    def _require_builtin(self, method: str) -> None:
        if self.backend is not MonitorBackend.BUILTIN:
            raise ValueError(f"{method} needs backend='builtin'; Model Monitor has no such metric")


# --- validation ----------------------------------------------------------------------------


def _backend(errors: ValidationErrors, backend: MonitorBackend | str) -> MonitorBackend | None:
    if isinstance(backend, MonitorBackend):
        return backend
    for candidate in MonitorBackend:
        if backend == candidate.value:
            return candidate
    errors.add(
        f"backend must be one of {', '.join(repr(b.value) for b in MonitorBackend)}, "
        f"got {backend!r}"
    )
    return None


def _endpoint_and_capture(
    errors: ValidationErrors,
    data_lake: DataLake,
    endpoint: InstanceEndpointBase | None,
    endpoint_name: str | None,
    capture: LakeLocation | None,
) -> tuple[str | None, LakeLocation | None]:
    if (endpoint is None) == (endpoint_name is None):
        errors.add(
            "give endpoint (a RealtimeEndpoint or AsyncEndpoint) or endpoint_name with "
            f"capture, not {'both' if endpoint is not None else 'neither'}"
        )
        return None, None
    if endpoint is not None:
        if capture is not None:
            errors.add("capture comes from endpoint's data capture; do not give both")
        uri = endpoint.capture_s3_uri
        bucket = f"s3://{data_lake.capture_bucket.bucket_name}/"
        if uri is None:
            errors.add(
                f"endpoint {endpoint.endpoint_name!r} has no data capture; create it with "
                "data_capture=DataCapture(...)"
            )
            return endpoint.endpoint_name, None
        if endpoint.data_lake is not data_lake or not uri.startswith(bucket):
            errors.add(
                f"endpoint {endpoint.endpoint_name!r} captures into another data lake than "
                "data_lake; monitor it with that lake"
            )
            return endpoint.endpoint_name, None
        return endpoint.endpoint_name, LakeLocation(data_lake, Zone.CAPTURE, uri[len(bucket) :])
    assert endpoint_name is not None
    check_name(errors, "endpoint_name", endpoint_name, "EndpointName")
    if capture is None:
        errors.add(
            "capture is required with endpoint_name: the capture-zone prefix of the endpoint's "
            "DataCaptureConfig DestinationS3Uri"
        )
    elif capture.data_lake is not data_lake or capture.zone is not Zone.CAPTURE:
        errors.add(
            f"capture must be a prefix of data_lake's capture zone, got {capture.zone.value} "
            f"zone prefix {capture.prefix!r}"
        )
    return endpoint_name, capture


def _cadence(
    errors: ValidationErrors, schedule: str, backend: MonitorBackend | None
) -> MonitorCadence | None:
    try:
        cadence = parse_monitor_schedule(schedule)
    except ValueError as error:
        errors.add(f"schedule {schedule!r} is not allowed: {error}")
        return None
    keyword = schedule.strip() in ("hourly", "daily")
    if backend is MonitorBackend.SAGEMAKER and not (keyword or cadence.rate) and cadence.minute:
        errors.add(
            f"schedule {schedule!r} starts at minute {cadence.minute}; Model Monitor schedules "
            "start on the hour (cron(0 * ? * * *) or cron(0 <hour> ? * * *)): use minute 0"
        )
    return cadence


def _monitor_name(
    errors: ValidationErrors, monitor_name: str | None, endpoint_name: str | None
) -> str | None:
    name = monitor_name if monitor_name is not None else endpoint_name
    if name is None or Token.is_unresolved(name):
        if name is not None and monitor_name is None:
            errors.add("monitor_name is required when the endpoint's name is a deploy-time value")
        return name
    if not (len(name) <= MAX_MONITOR_NAME and _MONITOR_NAME.match(name)):
        prop = (
            "monitor_name" if monitor_name is not None else "monitor_name (default: endpoint name)"
        )
        errors.add(
            f"{prop} must be 1 to {MAX_MONITOR_NAME} letters, digits and hyphens, starting and "
            f"ending with a letter or digit (it names the pipeline or schedules), got {name!r}"
        )
    return name


def _option(errors: ValidationErrors, prop: str, dest: str, value: object) -> None:
    """Check ``value`` with the monitor script's own rule for option ``dest``."""
    try:
        contract.convert(contract.option_for(dest), value)
    except ValueError as error:
        errors.add(f"{prop} {value!r} is not allowed: {error}")


def _check_data_quality(
    errors: ValidationErrors, data_quality: DataQualityMonitor, backend: MonitorBackend | None
) -> None:
    for dest, value in data_quality_thresholds(data_quality).items():
        _option(errors, f"data_quality.{dest}", dest, value)
    if isinstance(data_quality.features, str):
        errors.add(f"data_quality.features must be a list of names, got {data_quality.features!r}")
        return
    features = list(data_quality.features)
    for feature in features:
        errors.check(
            isinstance(feature, str) and 0 < len(feature) <= 1024 and feature.strip() == feature,
            "data_quality.features must hold feature names of 1 to 1024 characters without "
            f"surrounding spaces, got {feature!r}",
        )
    duplicates = sorted({f for f in features if features.count(f) > 1})
    errors.check(not duplicates, f"data_quality.features must be unique, got {duplicates}")
    threshold = data_quality.baseline_drift_threshold
    errors.check(
        isinstance(threshold, int | float)
        and not isinstance(threshold, bool)
        and 0 < threshold <= 1,
        f"data_quality.baseline_drift_threshold must be above 0 and at most 1, got {threshold!r}",
    )
    if backend is MonitorBackend.SAGEMAKER and not features:
        errors.add(
            "data_quality.features must name at least one feature with backend='sagemaker': "
            "Model Monitor publishes drift per feature only"
        )


def _check_model_quality(
    errors: ValidationErrors, model_quality: ModelQualityMonitor | None
) -> None:
    if model_quality is None:
        return
    if model_quality.ground_truth is None:
        errors.add(
            "model_quality.ground_truth is required: the data-lake prefix ground-truth labels "
            "are uploaded to (yyyy/mm/dd/hh/ folders of JSON Lines)"
        )
    problem = model_quality.problem_type
    if problem not in contract.PROBLEM_TYPES:
        errors.add(
            f"model_quality.problem_type must be one of {', '.join(contract.PROBLEM_TYPES)}, "
            f"got {problem!r}"
        )
    delay = model_quality.ground_truth_delay
    if not Token.is_unresolved(delay.to_string()):
        hours = delay.to_seconds() / _HOUR_SECONDS
        errors.check(
            hours == int(hours) and 0 <= hours <= _MAX_DELAY_HOURS,
            "model_quality.ground_truth_delay must be a whole number of hours from 0 to "
            f"{_MAX_DELAY_HOURS}, got {delay.to_human_string()}",
        )
    for dest, value in model_quality.thresholds().items():
        _option(errors, f"model_quality.{dest}", dest, value)
        figure = {**contract.QUALITY_MINIMUMS, **contract.QUALITY_MAXIMUMS}[dest]
        if problem in contract.PROBLEM_TYPES and (figure in contract.REGRESSION_FIGURES) != (
            problem == contract.REGRESSION
        ):
            errors.add(f"model_quality.{dest} does not apply to problem_type {problem!r}")
        if figure == "auc" and problem == contract.MULTICLASS:
            errors.add("model_quality.min_auc applies to binary classification only")


def _check_bias(
    errors: ValidationErrors,
    bias: BiasMonitor | None,
    model_quality: ModelQualityMonitor | None,
    backend: MonitorBackend | None,
) -> tuple[contract.Facet, ...]:
    if bias is None:
        return ()
    facets: list[contract.Facet] = []
    if isinstance(bias.facets, str) or not bias.facets:
        errors.add(
            "bias.facets must name at least one facet such as 'gender=F' or 'age>60', "
            f"got {bias.facets!r}"
        )
    else:
        for text in bias.facets:
            try:
                facets.append(contract.parse_facet(text))
            except ValueError as error:
                errors.add(f"bias.facets {text!r} is not a facet: {error}")
    names = [f.name for f in facets]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    errors.check(not duplicates, f"bias.facets must name each feature once, got {duplicates}")
    quality_problem = model_quality.problem_type if model_quality is not None else None
    problem = bias.problem_type or quality_problem
    if problem not in (contract.BINARY, contract.MULTICLASS):
        errors.add(
            f"bias.problem_type must be {contract.BINARY} or {contract.MULTICLASS} (or come "
            f"from model_quality), got {problem!r}"
        )
    elif bias.problem_type is not None and quality_problem not in (None, bias.problem_type):
        errors.add(
            f"bias.problem_type {bias.problem_type!r} differs from model_quality.problem_type "
            f"{quality_problem!r}: one model has one problem type"
        )
    _option(errors, "bias.dppl_threshold", "dppl_threshold", bias.dppl_threshold)
    if bias.class_imbalance_threshold is not None:
        _option(
            errors,
            "bias.class_imbalance_threshold",
            "class_imbalance_threshold",
            bias.class_imbalance_threshold,
        )
    if backend is MonitorBackend.SAGEMAKER:
        for facet in facets:
            errors.check(
                len(facet.values) <= 1,
                f"bias.facets {str(facet)!r} must have one value with backend='sagemaker' "
                "(the FacetValue dimension of Model Monitor's bias metrics)",
            )
        errors.check(
            bool(bias.label_header.strip()),
            f"bias.label_header must name the label, got {bias.label_header!r}",
        )
    return tuple(facets)


def _check_predictions(
    errors: ValidationErrors,
    predictions: PredictionFormat,
    model_quality: ModelQualityMonitor | None,
    bias: BiasMonitor | None,
) -> None:
    for dest, value in prediction_options(predictions).items():
        if value is not None:
            _option(errors, f"predictions.{dest.removeprefix('prediction_')}", dest, value)
    problem = (model_quality.problem_type if model_quality else None) or (
        bias.problem_type if bias else None
    )
    if predictions.kind == "score" and problem == contract.MULTICLASS:
        errors.add(
            "predictions.kind 'score' needs a binary_classification or regression problem_type; "
            "multiclass predictions are labels"
        )


def _check_backend_props(
    errors: ValidationErrors,
    backend: MonitorBackend | None,
    *,
    baseline: Baseline | None,
    baselines: ModelMonitorBaselines | None,
    model_quality: ModelQualityMonitor | None,
    bias: BiasMonitor | None,
    explainability: ExplainabilityMonitor | None,
    network: MlNetwork | None,
) -> None:
    if backend is MonitorBackend.BUILTIN:
        errors.check(
            baseline is not None,
            "baseline is required with backend='builtin': Baseline.from_location(...) or "
            "Baseline.from_registry(...)",
        )
        errors.check(
            network is not None,
            "network is required with backend='builtin': the monitor script reads S3 and "
            "publishes to CloudWatch itself, so it runs without network isolation and must "
            "stay in the private subnets of an MlNetwork",
        )
        errors.check(
            baselines is None,
            "model_monitor_baselines applies to backend='sagemaker'; the built-in backend "
            "takes baseline",
        )
        errors.check(
            explainability is None,
            "explainability needs backend='sagemaker' (SageMaker Clarify); the built-in "
            "monitor does not compute SHAP values",
        )
    elif backend is MonitorBackend.SAGEMAKER:
        errors.check(
            baseline is None,
            "baseline applies to backend='builtin'; Model Monitor takes "
            "model_monitor_baselines (the QualityCheck/ClarifyCheck step outputs)",
        )
        if baselines is None or baselines.data_quality is None:
            errors.add(
                "model_monitor_baselines.data_quality is required with backend='sagemaker': "
                "the statistics.json and constraints.json of a DATA_QUALITY QualityCheckStep"
            )
        present = baselines or ModelMonitorBaselines()
        if model_quality is not None and present.model_quality is None:
            errors.add(
                "model_monitor_baselines.model_quality is required for model_quality: the "
                "constraints.json of a MODEL_QUALITY QualityCheckStep"
            )
        if bias is not None:
            if present.model_bias is None:
                errors.add(
                    "model_monitor_baselines.model_bias is required for bias: the analysis "
                    "configuration and constraints of a MODEL_BIAS ClarifyCheckStep"
                )
            if model_quality is None or model_quality.ground_truth is None:
                errors.add(
                    "bias with backend='sagemaker' needs model_quality.ground_truth: Model "
                    "Monitor bias jobs require ground truth (ModelBiasJobInput.GroundTruthS3Input)"
                )
        if explainability is not None and present.model_explainability is None:
            errors.add(
                "model_monitor_baselines.model_explainability is required for explainability: "
                "the analysis configuration and constraints of a MODEL_EXPLAINABILITY "
                "ClarifyCheckStep"
            )
        if explainability is not None:
            check_name(errors, "explainability.model_name", explainability.model_name, "ModelName")


def _check_resources(
    errors: ValidationErrors,
    instance_type: str,
    volume_size_gb: int,
    max_runtime: Duration,
    cadence: MonitorCadence | None,
) -> None:
    check_enum(errors, "instance_type", instance_type, "ProcessingInstanceType")
    int_in_range(errors, "volume_size_gb", volume_size_gb, minimum=1, maximum=_MAX_VOLUME_GB)
    if Token.is_unresolved(max_runtime.to_string()):
        return
    seconds = max_runtime.to_seconds()
    limit = (cadence.hours if cadence else 24) * _HOUR_SECONDS
    errors.check(
        seconds == int(seconds) and 60 <= seconds <= limit,
        f"max_runtime must be from 1 minute to the schedule's interval ({limit // 3600} "
        f"hour(s)), so runs never overlap, got {max_runtime.to_human_string()}",
    )


def _lag_periods(model_quality: ModelQualityMonitor, cadence: MonitorCadence) -> int:
    delay = model_quality.ground_truth_delay
    if Token.is_unresolved(delay.to_string()):
        return 0
    hours = int(delay.to_seconds() // _HOUR_SECONDS)
    return -(-hours // cadence.hours)  # whole periods, rounded up


def _check_quality_alarm_range(
    errors: ValidationErrors,
    backend: MonitorBackend | None,
    model_quality: ModelQualityMonitor | None,
    evaluation_periods: int,
    cadence: MonitorCadence | None,
) -> None:
    if (
        backend is not MonitorBackend.BUILTIN
        or model_quality is None
        or cadence is None
        or not isinstance(evaluation_periods, int)
    ):
        return
    periods = _lag_periods(model_quality, cadence) + evaluation_periods
    most = _MAX_ALARM_RANGE_SECONDS // (cadence.hours * _HOUR_SECONDS)
    errors.check(
        periods <= most,
        f"model_quality.ground_truth_delay {model_quality.ground_truth_delay.to_human_string()} "
        f"plus alarm_evaluation_periods ({evaluation_periods}) runs is more than the 7 days a "
        "CloudWatch alarm can look back; the model-quality alarms evaluate figures timestamped "
        "at the end of their (delayed) window",
    )


def _check_alarm_settings(
    errors: ValidationErrors,
    evaluation_periods: int,
    datapoints: int,
    cadence: MonitorCadence | None,
) -> None:
    hours = cadence.hours if cadence else 1
    most = _MAX_ALARM_RANGE_SECONDS // (hours * _HOUR_SECONDS)
    int_in_range(errors, "alarm_evaluation_periods", evaluation_periods, minimum=1, maximum=most)
    int_in_range(
        errors,
        "alarm_datapoints_to_alarm",
        datapoints,
        minimum=1,
        maximum=evaluation_periods if isinstance(evaluation_periods, int) else most,
    )

"""The contract of the built-in monitor script: options, exit codes, metrics and file formats.

Standard library only, Python 3.9: the processing job imports this module next to
``monitor.py``, and the library imports it at synth time to build the job's arguments
(numpy and scipy are not dependencies of the library). Every option is spelled once, in
:data:`OPTIONS`; the script builds its command line from the table and the library checks
the values it passes with the same :func:`convert`.

Metric names, the namespace and dimensions are repeated in ``sagemaker_lifecycle.metrics``
(the script cannot import the library in its container); a test keeps them identical.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

# --- Exit codes -------------------------------------------------------------------------
#: The window was analysed: with or without violations, or with no data at all.
EXIT_OK: Final = 0
#: Bad arguments or configuration (argparse also exits 2).
EXIT_USAGE: Final = 2
#: An input could not be read: baseline, configuration, capture or ground-truth location.
EXIT_UNREADABLE_INPUT: Final = 3
#: The analysis ran but the report, the violations or the metrics could not be written.
EXIT_OUTPUT_FAILED: Final = 4

# --- Paths inside the processing container (conventions for the construct) -------------
ENTRY_POINT: Final = "monitor.py"
CONTAINER_CODE_DIR: Final = "/opt/ml/processing/input/code"
CONTAINER_BASELINE_DIR: Final = "/opt/ml/processing/input/baseline"
CONTAINER_CONFIG_DIR: Final = "/opt/ml/processing/input/config"
CONTAINER_OUTPUT_DIR: Final = "/opt/ml/processing/output/monitoring"

# --- Files -------------------------------------------------------------------------------
BASELINE_FILE: Final = "statistics.json"
BASELINE_FORMAT: Final = "sagemaker-lifecycle/monitoring-baseline"
BASELINE_VERSION: Final = 1
REPORT_FILE: Final = "report.json"
REPORT_FORMAT: Final = "sagemaker-lifecycle/monitoring-report"
REPORT_VERSION: Final = 1
VIOLATIONS_FILE: Final = "violations.json"
VIOLATIONS_VERSION: Final = "1.0"

# Violation types: the names SageMaker Model Monitor uses where it has the same check, so a
# team that knows constraint_violations.json reads ours without a glossary.
CHECK_BASELINE_DRIFT: Final = "baseline_drift_check"
CHECK_COMPLETENESS: Final = "completeness_check"
CHECK_DATA_TYPE: Final = "data_type_check"
CHECK_EXTRA_COLUMN: Final = "extra_column_check"
CHECK_MISSING_COLUMN: Final = "missing_column_check"
CHECK_MODEL_QUALITY: Final = "model_quality_check"
CHECK_BIAS: Final = "bias_drift_check"
SCHEMA_CHECKS: Final = (CHECK_DATA_TYPE, CHECK_EXTRA_COLUMN, CHECK_MISSING_COLUMN)

# --- CloudWatch ----------------------------------------------------------------------------
NAMESPACE: Final = "SageMakerLifecycle/ModelMonitoring"
DIM_ENDPOINT: Final = "Endpoint"
DIM_MONITOR: Final = "Monitor"
DIM_FEATURE: Final = "Feature"

# Per run, dimensions (Endpoint, Monitor).
METRIC_NO_DATA: Final = "NoData"
METRIC_RECORDS_ANALYZED: Final = "RecordsAnalyzed"
METRIC_MALFORMED_RECORDS: Final = "MalformedRecords"
METRIC_VIOLATIONS: Final = "Violations"
METRIC_FEATURES_DRIFTED: Final = "FeaturesDrifted"
METRIC_SCHEMA_VIOLATIONS: Final = "SchemaViolations"
METRIC_GROUND_TRUTH_MATCHED: Final = "GroundTruthMatched"
METRIC_ACCURACY: Final = "Accuracy"
METRIC_PRECISION: Final = "Precision"
METRIC_RECALL: Final = "Recall"
METRIC_F1: Final = "F1"
METRIC_AUC: Final = "AUC"
METRIC_MAE: Final = "MAE"
METRIC_RMSE: Final = "RMSE"
METRIC_R2: Final = "R2"
# Per feature, dimensions (Endpoint, Monitor, Feature).
METRIC_PSI: Final = "PopulationStabilityIndex"
METRIC_KS_STATISTIC: Final = "KSStatistic"
METRIC_KS_P_VALUE: Final = "KSPValue"
METRIC_CHI_SQUARE_P_VALUE: Final = "ChiSquarePValue"
METRIC_LINF_DISTANCE: Final = "LInfinityDistance"
METRIC_MISSING_RATE: Final = "MissingRate"
METRIC_TYPE_MISMATCH_RATE: Final = "TypeMismatchRate"
METRIC_DRIFT_DETECTED: Final = "DriftDetected"
# Per facet, dimensions (Endpoint, Monitor, Feature=<facet>).
METRIC_CLASS_IMBALANCE: Final = "ClassImbalance"
METRIC_DPPL: Final = "DPPL"

RUN_METRICS: Final = (
    METRIC_NO_DATA,
    METRIC_RECORDS_ANALYZED,
    METRIC_MALFORMED_RECORDS,
    METRIC_VIOLATIONS,
    METRIC_FEATURES_DRIFTED,
    METRIC_SCHEMA_VIOLATIONS,
    METRIC_GROUND_TRUTH_MATCHED,
)
QUALITY_METRICS: Final = (
    METRIC_ACCURACY,
    METRIC_PRECISION,
    METRIC_RECALL,
    METRIC_F1,
    METRIC_AUC,
    METRIC_MAE,
    METRIC_RMSE,
    METRIC_R2,
)
FEATURE_METRICS: Final = (
    METRIC_PSI,
    METRIC_KS_STATISTIC,
    METRIC_KS_P_VALUE,
    METRIC_CHI_SQUARE_P_VALUE,
    METRIC_LINF_DISTANCE,
    METRIC_MISSING_RATE,
    METRIC_TYPE_MISMATCH_RATE,
    METRIC_DRIFT_DETECTED,
)
BIAS_METRICS: Final = (METRIC_CLASS_IMBALANCE, METRIC_DPPL)

# --- Problem types -------------------------------------------------------------------------
BINARY: Final = "binary_classification"
MULTICLASS: Final = "multiclass_classification"
REGRESSION: Final = "regression"
PROBLEM_TYPES: Final = (BINARY, MULTICLASS, REGRESSION)
PREDICTION_KINDS: Final = ("score", "label")

# --- Options -------------------------------------------------------------------------------
_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_MONITOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/.*)?$")
_FACET = re.compile(r"^(?P<name>[^=>]+?)\s*(?P<op>=|>)\s*(?P<value>.+)$")
_MAX_DIMENSION_VALUE = 1024  # CloudWatch Dimension.Value limit


@dataclass(frozen=True)
class Option:
    """One command-line option of ``monitor.py`` (also a key of the ``--config`` file).

    ``kind`` is one of text, uri, int, float, choice, flag, text_list, facet_list, hour.
    """

    flag: str
    kind: str
    help: str
    default: object = None
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: re.Pattern[str] | None = None

    @property
    def dest(self) -> str:
        """The option's name in a config file and in :func:`convert`'s results."""
        return self.flag[2:].replace("-", "_")

    @property
    def repeatable(self) -> bool:
        return self.kind.endswith("_list")


@dataclass(frozen=True)
class Facet:
    """A sensitive attribute for bias metrics, as SageMaker Clarify defines a facet.

    Rows whose ``name`` feature is one of ``values`` (or, for a threshold facet, greater
    than ``threshold``) form the sensitive group *d*; every other row with a value is *a*.
    """

    name: str
    values: tuple[str, ...] = ()
    threshold: float | None = None

    def __str__(self) -> str:
        if self.threshold is not None:
            return f"{self.name}>{self.threshold!r}"
        return f"{self.name}={'|'.join(self.values)}"


OPTIONS: Final[tuple[Option, ...]] = (
    # What is monitored
    Option(
        "--endpoint-name",
        "text",
        "The endpoint; the Endpoint dimension.",
        required=True,
        pattern=_ENDPOINT_NAME,
    ),
    Option(
        "--monitor-name",
        "text",
        "This monitor; the Monitor dimension.",
        required=True,
        pattern=_MONITOR_NAME,
    ),
    Option(
        "--capture-uri",
        "uri",
        "The endpoint's DataCaptureConfig DestinationS3Uri (or a "
        "local copy): files are read from <uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/.",
        required=True,
    ),
    Option("--variant", "text_list", "Only these production variants. Default: all."),
    Option(
        "--output-uri",
        "uri",
        "Where report.json and violations.json are written, under "
        "<uri>/yyyy/mm/dd/hh/ of the window start.",
        required=True,
    ),
    Option(
        "--baseline-uri",
        "uri",
        "The baseline statistics.json; enables data quality and defines the input columns.",
    ),
    Option(
        "--ground-truth-uri",
        "uri",
        "Ground-truth JSON Lines under <uri>/yyyy/mm/dd/hh/; enables model quality.",
    ),
    Option(
        "--config",
        "uri",
        "A JSON object of option names (underscored) to values; command-line options win.",
    ),
    # The window
    Option(
        "--window-end",
        "hour",
        "End of the window, a whole UTC hour (2024-05-01T13:00Z). "
        "Default: the current hour minus --window-offset-hours.",
    ),
    Option(
        "--window-hours", "int", "Length of the window in hours.", default=1, minimum=1, maximum=168
    ),
    Option(
        "--window-offset-hours",
        "int",
        "How far the default window end lies before the current hour (ground truth arrives late).",
        default=0,
        minimum=0,
        maximum=720,
    ),
    Option(
        "--ground-truth-delay-hours",
        "int",
        "Ground truth uploaded up to this many hours after the window end is read.",
        default=0,
        minimum=0,
        maximum=720,
    ),
    # Predictions
    Option(
        "--problem-type",
        "choice",
        "What the model predicts; needed for model quality and bias.",
        choices=PROBLEM_TYPES,
    ),
    Option(
        "--prediction-kind",
        "choice",
        "Whether the output is a score or a label. Default: "
        "label for multiclass classification, else score.",
        choices=PREDICTION_KINDS,
    ),
    Option(
        "--prediction-key",
        "text",
        "Key of the prediction in a JSON output object. "
        "Default: score/probability/prediction, or predicted_label/label/prediction.",
    ),
    Option(
        "--prediction-index",
        "int",
        "Index of the prediction in a list or CSV output row.",
        default=0,
        minimum=0,
        maximum=10_000,
    ),
    Option("--positive-label", "text", "The positive class.", default="1"),
    Option(
        "--probability-threshold",
        "float",
        "Scores at or above it predict the positive class.",
        default=0.5,
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--facet",
        "facet_list",
        "A facet for bias metrics: name=value[|value...] or name>threshold; repeatable.",
    ),
    # Thresholds
    Option(
        "--min-records",
        "int",
        "Fewer rows than this compute statistics but raise no drift, "
        "completeness, quality or bias violation.",
        default=30,
        minimum=1,
        maximum=10**9,
    ),
    Option(
        "--psi-threshold",
        "float",
        "A feature drifts when its PSI exceeds this.",
        default=0.2,
        minimum=0.0,
        maximum=100.0,
    ),
    Option(
        "--ks-p-value",
        "float",
        "A numeric feature drifts when the KS p-value is below "
        "this and the KS statistic exceeds --ks-min-statistic.",
        default=0.01,
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--ks-min-statistic", "float", "See --ks-p-value.", default=0.1, minimum=0.0, maximum=1.0
    ),
    Option(
        "--chi-square-p-value",
        "float",
        "A categorical feature drifts when the chi-square "
        "p-value is below this and the L-infinity distance exceeds --min-linf-distance.",
        default=0.01,
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--min-linf-distance",
        "float",
        "See --chi-square-p-value.",
        default=0.1,
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--missing-rate-tolerance",
        "float",
        "A feature violates completeness when its "
        "missing rate exceeds the baseline's by more than this.",
        default=0.05,
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--max-type-mismatch-rate",
        "float",
        "A numeric feature violates its type when more "
        "than this share of its values is not a number.",
        default=0.0,
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--min-accuracy",
        "float",
        "Model-quality minimum. Default: not checked.",
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--min-precision",
        "float",
        "Model-quality minimum. Default: not checked.",
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--min-recall",
        "float",
        "Model-quality minimum. Default: not checked.",
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--min-f1",
        "float",
        "Model-quality minimum. Default: not checked.",
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--min-auc",
        "float",
        "Model-quality minimum. Default: not checked.",
        minimum=0.0,
        maximum=1.0,
    ),
    Option(
        "--max-mae",
        "float",
        "Model-quality maximum. Default: not checked.",
        minimum=0.0,
        maximum=1e300,
    ),
    Option(
        "--max-rmse",
        "float",
        "Model-quality maximum. Default: not checked.",
        minimum=0.0,
        maximum=1e300,
    ),
    Option(
        "--min-r2",
        "float",
        "Model-quality minimum. Default: not checked.",
        minimum=-1e300,
        maximum=1.0,
    ),
    Option(
        "--dppl-threshold",
        "float",
        "A facet violates when |DPPL| exceeds this.",
        default=0.1,
        minimum=0.0,
        maximum=2.0,
    ),
    Option(
        "--class-imbalance-threshold",
        "float",
        "A facet violates when |CI| exceeds this. Default: not checked.",
        minimum=0.0,
        maximum=1.0,
    ),
    # Outputs
    Option(
        "--publish-metrics",
        "flag",
        "Publish CloudWatch metrics (--no-publish-metrics for a local run).",
        default=True,
    ),
    Option("--namespace", "text", "CloudWatch namespace of the metrics.", default=NAMESPACE),
    Option("--region", "text", "AWS Region of the clients. Default: the environment's."),
    Option(
        "--output-kms-key-id",
        "text",
        "KMS key for the report and violations objects. Default: the bucket's default encryption.",
    ),
)

_BY_DEST: Final = {option.dest: option for option in OPTIONS}

#: Options every run needs, on the command line or in --config.
REQUIRED: Final = ("endpoint_name", "monitor_name", "capture_uri", "output_uri")
#: Model-quality thresholds: option -> figure, and the figures of regression models.
QUALITY_MINIMUMS: Final = {
    "min_accuracy": "accuracy",
    "min_precision": "precision",
    "min_recall": "recall",
    "min_f1": "f1",
    "min_auc": "auc",
    "min_r2": "r2",
}
QUALITY_MAXIMUMS: Final = {"max_mae": "mae", "max_rmse": "rmse"}
REGRESSION_FIGURES: Final = frozenset({"mae", "rmse", "r2"})


def option_for(dest: str) -> Option:
    """The option whose config-file name is ``dest``; ``KeyError`` names the allowed ones."""
    try:
        return _BY_DEST[dest]
    except KeyError:
        raise KeyError(f"unknown option {dest!r}; allowed: {', '.join(sorted(_BY_DEST))}") from None


def check_run(values: Mapping[str, object]) -> None:
    """Check that converted option values describe a run; ``ValueError`` says what is missing.

    Values that are not yet known (deploy-time tokens passed through by the library) only
    need to be present.
    """
    for dest in REQUIRED:
        if not values.get(dest):
            raise ValueError(f"{_flag_of(dest)} is required (on the command line or in --config)")
    facets = values.get("facet") or ()
    problem = values.get("problem_type")
    has_ground_truth = bool(values.get("ground_truth_uri"))
    if not (values.get("baseline_uri") or has_ground_truth or facets):
        raise ValueError(
            "nothing to monitor: give --baseline-uri (data quality), --ground-truth-uri "
            "(model quality) or --facet (bias)"
        )
    if has_ground_truth and problem is None:
        raise ValueError(f"--ground-truth-uri needs --problem-type ({', '.join(PROBLEM_TYPES)})")
    if facets:
        _check_facets(values, facets, problem)
    if values.get("prediction_kind") == "score" and problem == MULTICLASS:
        raise ValueError(
            f"--prediction-kind score needs --problem-type {BINARY} or {REGRESSION}; "
            f"got {problem!r}"
        )
    for dest, figure in {**QUALITY_MINIMUMS, **QUALITY_MAXIMUMS}.items():
        if values.get(dest) is None:
            continue
        if not has_ground_truth:
            raise ValueError(f"{_flag_of(dest)} needs --ground-truth-uri (model quality)")
        if (figure in REGRESSION_FIGURES) != (problem == REGRESSION):
            raise ValueError(f"{_flag_of(dest)} does not apply to --problem-type {problem}")


def _check_facets(values: Mapping[str, object], facets: object, problem: object) -> None:
    if problem not in (BINARY, MULTICLASS):
        raise ValueError(f"--facet needs --problem-type {BINARY} or {MULTICLASS}; got {problem!r}")
    if not values.get("baseline_uri"):
        raise ValueError("--facet needs --baseline-uri: the baseline names the input columns")
    names = [f.name for f in facets if isinstance(f, Facet)] if isinstance(facets, tuple) else []
    if len(set(names)) != len(names):
        raise ValueError(f"--facet names must be unique (one sensitive group each); got {names}")


def _flag_of(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def convert(option: Option, raw: object) -> object:
    """``raw`` (a command-line string or a JSON value) as the option's type.

    Raises ``ValueError`` naming the option, the value and what is allowed.
    """
    if option.repeatable:
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        return tuple(_convert_one(option, item) for item in items)
    return _convert_one(option, raw)


def _convert_one(option: Option, raw: object) -> object:  # noqa: PLR0911 - one return per kind
    if option.kind == "int":
        return _in_range(option, _integer(option, raw))
    if option.kind == "float":
        return _in_range(option, _number(option, raw))
    if option.kind == "flag":
        return _flag(option, raw)
    if option.kind == "hour" and isinstance(raw, datetime):
        return _whole_hour(raw, repr(raw), option.flag)
    text = _text(option, raw)
    if option.kind == "choice":
        if text not in option.choices:
            raise ValueError(
                f"{option.flag} must be one of {', '.join(option.choices)}; got {text!r}"
            )
        return text
    if option.kind == "uri":
        return _uri(option, text)
    if option.kind == "hour":
        return parse_hour(text, option.flag)
    if option.kind == "facet_list":
        return parse_facet(text)
    if option.pattern is not None and not option.pattern.match(text):
        raise ValueError(f"{option.flag} must match {option.pattern.pattern}; got {text!r}")
    if option.flag == "--namespace" and (text.startswith("AWS/") or len(text) > 255):
        raise ValueError(
            f"{option.flag} must be a custom namespace of up to 255 characters not starting "
            f"with 'AWS/'; got {text!r}"
        )
    return text


def _text(option: Option, raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{option.flag} must be a non-empty string; got {raw!r}")
    return raw.strip()


def _integer(option: Option, raw: object) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{option.flag} must be an integer; got {raw!r}")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
        return int(raw)
    raise ValueError(f"{option.flag} must be an integer; got {raw!r}")


def _number(option: Option, raw: object) -> float:
    value: float | None = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw)
        except ValueError:
            value = None
    if value is None or not math.isfinite(value):
        raise ValueError(f"{option.flag} must be a finite number; got {raw!r}")
    return value


def _flag(option: Option, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ValueError(f"{option.flag} must be true or false; got {raw!r}")


def _in_range(option: Option, value: float) -> float:
    low, high = option.minimum, option.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{option.flag} must be from {low:g} to {high:g}; got {value!r}")
    return value


def _uri(option: Option, text: str) -> str:
    if text.startswith("s3://"):
        if not _S3_URI.match(text):
            raise ValueError(
                f"{option.flag} must be s3://<bucket>[/<prefix>] with a valid bucket name, "
                f"or a local path; got {text!r}"
            )
        return text
    if "://" in text:
        raise ValueError(f"{option.flag} must be an s3:// URI or a local path; got {text!r}")
    return text


def parse_hour(text: str, flag: str = "--window-end") -> datetime:
    """A whole UTC hour from ISO 8601 text with ``Z`` or an offset (Python 3.9 safe)."""
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}[+-]\d{2}:\d{2}", candidate):
        candidate = candidate[:16] + ":00" + candidate[16:]
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(
            f"{flag} must be an ISO 8601 time with a zone, such as 2024-05-01T13:00:00Z; "
            f"got {text!r}"
        )
    return _whole_hour(moment, repr(text), flag)


def _whole_hour(moment: datetime, shown: str, flag: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(
            f"{flag} must be an ISO 8601 time with a zone, such as 2024-05-01T13:00:00Z; "
            f"got {shown}"
        )
    moment = moment.astimezone(timezone.utc)
    if moment != moment.replace(minute=0, second=0, microsecond=0):
        raise ValueError(
            f"{flag} must be a whole hour (capture is partitioned by hour); got {shown}"
        )
    return moment


def format_hour(moment: datetime) -> str:
    """``2024-05-01T13:00:00Z`` for a UTC time."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour_partitions(start: datetime, end: datetime) -> list[str]:
    """The ``yyyy/mm/dd/hh`` partitions SageMaker writes for the hours in [start, end)."""
    partitions = []
    hour = start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    while hour < end:
        partitions.append(hour.strftime("%Y/%m/%d/%H"))
        hour += timedelta(hours=1)
    return partitions


def parse_facet(text: str) -> Facet:
    """``gender=F|X`` (values forming group d) or ``age>60`` (a threshold)."""
    match = _FACET.match(text.strip())
    if not match:
        raise ValueError(f"--facet must be name=value[|value...] or name>threshold; got {text!r}")
    name = match.group("name").strip()
    value = match.group("value").strip()
    if not name or len(name) > _MAX_DIMENSION_VALUE:
        raise ValueError(
            f"--facet name must be 1 to {_MAX_DIMENSION_VALUE} characters; got {text!r}"
        )
    if match.group("op") == ">":
        try:
            threshold = float(value)
        except ValueError:
            threshold = math.nan
        if not math.isfinite(threshold):
            raise ValueError(f"--facet threshold must be a finite number; got {text!r}")
        return Facet(name, threshold=threshold)
    values = tuple(v.strip() for v in value.split("|") if v.strip())
    if not values:
        raise ValueError(f"--facet needs at least one value after '='; got {text!r}")
    return Facet(name, values=values)

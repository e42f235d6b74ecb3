"""The three checks of a window: data quality, model quality and bias, with their violations.

Each check takes parsed rows and the thresholds, and returns a result that knows its report
section, its violations and its CloudWatch data points. Nothing here reads or writes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING or __package__:
    from . import monitor_contract as contract
    from .monitor_baseline import (
        CATEGORICAL,
        Baseline,
        FeatureBaseline,
        category_key,
        numeric_value,
    )
    from .monitor_quality import (
        binary_classification_metrics,
        class_imbalance,
        difference_in_positive_proportions,
        multiclass_classification_metrics,
        regression_metrics,
    )
    from .monitor_stats import (
        bin_counts,
        chi_square_homogeneity,
        ks_two_sample,
        linf_distance,
        population_stability_index,
        proportions,
    )
else:  # run as a file in the processing container: this folder is on sys.path
    import monitor_contract as contract
    from monitor_baseline import (
        CATEGORICAL,
        Baseline,
        FeatureBaseline,
        category_key,
        numeric_value,
    )
    from monitor_quality import (
        binary_classification_metrics,
        class_imbalance,
        difference_in_positive_proportions,
        multiclass_classification_metrics,
        regression_metrics,
    )
    from monitor_stats import (
        bin_counts,
        chi_square_homogeneity,
        ks_two_sample,
        linf_distance,
        population_stability_index,
        proportions,
    )

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from .monitor_capture import Row

#: Where the window's values of a category the baseline never kept are counted.
OTHER_CATEGORY = "__other__"
_SCORE_KEYS = ("score", "probability", "prediction", "predicted_score")
_LABEL_KEYS = ("predicted_label", "label", "prediction", "class")


@dataclass(frozen=True)
class Thresholds:
    """When a figure becomes a violation (see ``monitor_contract.OPTIONS`` for each)."""

    min_records: int = 30
    psi: float = 0.2
    ks_p_value: float = 0.01
    ks_min_statistic: float = 0.1
    chi_square_p_value: float = 0.01
    min_linf_distance: float = 0.1
    missing_rate_tolerance: float = 0.05
    max_type_mismatch_rate: float = 0.0
    quality_minimums: Mapping[str, float] = field(default_factory=dict)
    quality_maximums: Mapping[str, float] = field(default_factory=dict)
    dppl: float = 0.1
    class_imbalance: float | None = None


@dataclass(frozen=True)
class Violation:
    """One entry of ``violations.json``."""

    check: str
    description: str
    feature: str | None = None
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "feature_name": self.feature,
            "constraint_check_type": self.check,
            "metric_name": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "description": self.description,
        }


# --- Data quality ------------------------------------------------------------------------------


class _Column:
    """The window's values of one baseline feature."""

    def __init__(self, feature: FeatureBaseline) -> None:
        self.feature = feature
        self.rows = 0
        self.missing = 0
        self.mismatched = 0
        self.numbers: list[float] = []
        self.categories: Counter[str] = Counter()

    def add(self, value: object) -> None:
        self.rows += 1
        if self.feature.kind == CATEGORICAL:
            key = category_key(value)
            if key is None:
                self.missing += 1
            else:
                self.categories[key] += 1
            return
        number, mismatched = numeric_value(value)
        if mismatched:
            self.mismatched += 1
        elif number is None:
            self.missing += 1
        else:
            self.numbers.append(number)


class DataQuality:
    """Accumulates request rows against the baseline's columns and evaluates them."""

    def __init__(self, baseline: Baseline) -> None:
        self.baseline = baseline
        self._columns = [_Column(feature) for feature in baseline.features]
        self._names = {feature.name for feature in baseline.features}
        self.rows = 0
        self.too_many_values = 0
        self.too_few_values = 0
        self.unknown_columns: Counter[str] = Counter()

    def add(self, row: Row) -> dict[str, Any] | None:
        """Take one request row; the row's values by feature name, or ``None`` if skipped.

        A positional row must have one value per baseline feature: with more or fewer it
        cannot be aligned, so it is counted as a schema violation and left out.
        """
        if isinstance(row, dict):
            for key in row:
                if key not in self._names:
                    self.unknown_columns[str(key)] += 1
            values = {column.feature.name: row.get(column.feature.name) for column in self._columns}
        elif len(row) != len(self._columns):
            if len(row) > len(self._columns):
                self.too_many_values += 1
            else:
                self.too_few_values += 1
            return None
        else:
            values = {column.feature.name: value for column, value in zip(self._columns, row)}
        self.rows += 1
        for column in self._columns:
            column.add(values[column.feature.name])
        return values

    def evaluate(self, thresholds: Thresholds) -> DataQualityResult:
        features = [_evaluate_column(column, thresholds) for column in self._columns]
        violations = [v for result in features for v in result.violations]
        expected = len(self._columns)
        if self.too_many_values:
            violations.append(
                Violation(
                    contract.CHECK_EXTRA_COLUMN,
                    f"{self.too_many_values} rows had more than the baseline's {expected} "
                    "columns and were not analysed",
                    value=float(self.too_many_values),
                )
            )
        if self.too_few_values:
            violations.append(
                Violation(
                    contract.CHECK_MISSING_COLUMN,
                    f"{self.too_few_values} rows had fewer than the baseline's {expected} "
                    "columns and were not analysed",
                    value=float(self.too_few_values),
                )
            )
        for name, count in sorted(self.unknown_columns.items()):
            violations.append(
                Violation(
                    contract.CHECK_EXTRA_COLUMN,
                    f"column {name!r} is not in the baseline ({count} rows)",
                    feature=name,
                    value=float(count),
                )
            )
        return DataQualityResult(
            rows=self.rows,
            features=features,
            violations=violations,
            rows_with_too_many_values=self.too_many_values,
            rows_with_too_few_values=self.too_few_values,
            unknown_columns=dict(self.unknown_columns),
        )


@dataclass(frozen=True)
class FeatureResult:
    """The window's figures for one feature and the violations they raise."""

    name: str
    kind: str
    rows: int
    count: int
    missing_rate: float | None
    baseline_missing_rate: float
    type_mismatch_rate: float | None
    psi: float | None = None
    ks_statistic: float | None = None
    ks_p_value: float | None = None
    chi_square_statistic: float | None = None
    chi_square_p_value: float | None = None
    linf_distance: float | None = None
    unseen_categories: tuple[str, ...] = ()
    drift: bool = False
    violations: tuple[Violation, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind,
            "rows": self.rows,
            "count": self.count,
            "missing_rate": self.missing_rate,
            "baseline_missing_rate": self.baseline_missing_rate,
            "type_mismatch_rate": self.type_mismatch_rate,
            "psi": self.psi,
            "ks_statistic": self.ks_statistic,
            "ks_p_value": self.ks_p_value,
            "chi_square_statistic": self.chi_square_statistic,
            "chi_square_p_value": self.chi_square_p_value,
            "linf_distance": self.linf_distance,
            "unseen_categories": list(self.unseen_categories),
            "drift": self.drift,
        }

    def metrics(self) -> dict[str, float | None]:
        """Metric name -> value for CloudWatch (``None`` is not published)."""
        return {
            contract.METRIC_PSI: self.psi,
            contract.METRIC_KS_STATISTIC: self.ks_statistic,
            contract.METRIC_KS_P_VALUE: self.ks_p_value,
            contract.METRIC_CHI_SQUARE_P_VALUE: self.chi_square_p_value,
            contract.METRIC_LINF_DISTANCE: self.linf_distance,
            contract.METRIC_MISSING_RATE: self.missing_rate,
            contract.METRIC_TYPE_MISMATCH_RATE: self.type_mismatch_rate,
            contract.METRIC_DRIFT_DETECTED: 1.0 if self.drift else 0.0,
        }


@dataclass(frozen=True)
class DataQualityResult:
    """Every feature's figures, the schema findings and all data-quality violations."""

    rows: int
    features: list[FeatureResult]
    violations: list[Violation]
    rows_with_too_many_values: int
    rows_with_too_few_values: int
    unknown_columns: dict[str, int]

    @property
    def features_drifted(self) -> int:
        return sum(1 for feature in self.features if feature.drift)

    @property
    def schema_violations(self) -> int:
        return sum(1 for v in self.violations if v.check in contract.SCHEMA_CHECKS)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "features_drifted": self.features_drifted,
            "rows_with_too_many_values": self.rows_with_too_many_values,
            "rows_with_too_few_values": self.rows_with_too_few_values,
            "unknown_columns": self.unknown_columns,
            "features": [feature.to_json() for feature in self.features],
        }


def _evaluate_column(column: _Column, thresholds: Thresholds) -> FeatureResult:
    feature = column.feature
    rows = column.rows
    count = rows - column.missing - column.mismatched
    missing_rate = column.missing / rows if rows else None
    mismatch_rate = column.mismatched / rows if rows else None
    if feature.kind == CATEGORICAL:
        figures = _categorical_drift(feature, column.categories, thresholds)
    else:
        figures = _numeric_drift(feature, column.numbers, thresholds)
    enough = count >= thresholds.min_records
    drift = bool(figures.pop("drift")) and enough
    violations = []
    if drift:
        violations.append(_drift_violation(feature.name, figures, thresholds))
    if (
        missing_rate is not None
        and rows >= thresholds.min_records
        and missing_rate > feature.missing_rate + thresholds.missing_rate_tolerance
    ):
        violations.append(
            Violation(
                contract.CHECK_COMPLETENESS,
                f"{feature.name}: {missing_rate:.1%} of values missing, baseline "
                f"{feature.missing_rate:.1%}, tolerance {thresholds.missing_rate_tolerance:.1%}",
                feature=feature.name,
                metric=contract.METRIC_MISSING_RATE,
                value=missing_rate,
                threshold=feature.missing_rate + thresholds.missing_rate_tolerance,
            )
        )
    if mismatch_rate and mismatch_rate > thresholds.max_type_mismatch_rate:
        violations.append(
            Violation(
                contract.CHECK_DATA_TYPE,
                f"{feature.name}: {column.mismatched} of {rows} values are not numbers",
                feature=feature.name,
                metric=contract.METRIC_TYPE_MISMATCH_RATE,
                value=mismatch_rate,
                threshold=thresholds.max_type_mismatch_rate,
            )
        )
    return FeatureResult(
        name=feature.name,
        kind=feature.kind,
        rows=rows,
        count=count,
        missing_rate=missing_rate,
        baseline_missing_rate=feature.missing_rate,
        type_mismatch_rate=mismatch_rate,
        drift=drift,
        violations=tuple(violations),
        **figures,
    )


def _numeric_drift(
    feature: FeatureBaseline, numbers: Sequence[float], thresholds: Thresholds
) -> dict[str, Any]:
    profile = feature.numeric
    if profile is None or not numbers:
        return {"drift": False}
    current = proportions(bin_counts(numbers, profile.bin_edges))
    psi = population_stability_index(profile.bin_proportions, current)
    ks = ks_two_sample(profile.reference_sample, numbers)
    drift = psi > thresholds.psi or (
        ks.p_value < thresholds.ks_p_value and ks.statistic > thresholds.ks_min_statistic
    )
    return {"psi": psi, "ks_statistic": ks.statistic, "ks_p_value": ks.p_value, "drift": drift}


def _categorical_drift(
    feature: FeatureBaseline, categories: Counter[str], thresholds: Thresholds
) -> dict[str, Any]:
    profile = feature.categorical
    if profile is None or not categories:
        return {"drift": False}
    known = list(profile.proportions)
    unseen = sorted(key for key in categories if key not in profile.proportions)
    expected = [*(profile.proportions[key] for key in known), profile.other_proportion]
    observed = [
        *(float(categories[key]) for key in known),
        float(sum(categories[k] for k in unseen)),
    ]
    current = proportions(observed)
    psi = population_stability_index(expected, current)
    test = chi_square_homogeneity(np.asarray(expected) * feature.count, observed)
    distance = linf_distance(expected, current)
    drift = psi > thresholds.psi or (
        test.p_value < thresholds.chi_square_p_value and distance > thresholds.min_linf_distance
    )
    return {
        "psi": psi,
        "chi_square_statistic": test.statistic,
        "chi_square_p_value": test.p_value,
        "linf_distance": distance,
        "unseen_categories": tuple(unseen[:20]),
        "drift": drift,
    }


def _drift_violation(name: str, figures: Mapping[str, Any], thresholds: Thresholds) -> Violation:
    psi = figures.get("psi")
    if psi is not None and psi > thresholds.psi:
        return Violation(
            contract.CHECK_BASELINE_DRIFT,
            f"{name}: population stability index {psi:.4f} exceeds {thresholds.psi}",
            feature=name,
            metric=contract.METRIC_PSI,
            value=psi,
            threshold=thresholds.psi,
        )
    if figures.get("ks_p_value") is not None:
        return Violation(
            contract.CHECK_BASELINE_DRIFT,
            f"{name}: KS statistic {figures['ks_statistic']:.4f} > {thresholds.ks_min_statistic} "
            f"with p-value {figures['ks_p_value']:.3g} < {thresholds.ks_p_value}",
            feature=name,
            metric=contract.METRIC_KS_P_VALUE,
            value=figures["ks_p_value"],
            threshold=thresholds.ks_p_value,
        )
    return Violation(
        contract.CHECK_BASELINE_DRIFT,
        f"{name}: chi-square p-value {figures['chi_square_p_value']:.3g} < "
        f"{thresholds.chi_square_p_value} with L-infinity distance "
        f"{figures['linf_distance']:.4f} > {thresholds.min_linf_distance}",
        feature=name,
        metric=contract.METRIC_CHI_SQUARE_P_VALUE,
        value=figures["chi_square_p_value"],
        threshold=thresholds.chi_square_p_value,
    )


# --- Model quality -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Predictions:
    """How to read a prediction and what counts as the positive class."""

    problem_type: str
    kind: str
    key: str | None
    index: int
    positive_label: str
    probability_threshold: float

    def value(self, row: object) -> object:
        """The prediction in one output row: the row, ``row[index]`` or ``row[key]``.

        Without ``key``, an object's first key of score, probability, prediction (for
        scores) or predicted_label, label, prediction (for labels) is used.
        """
        if isinstance(row, dict):
            if self.key is not None:
                return row.get(self.key)
            keys = _SCORE_KEYS if self.kind == "score" else _LABEL_KEYS
            return next((row[k] for k in keys if k in row), None)
        if isinstance(row, list):
            return row[self.index] if self.index < len(row) else None
        return row

    def positive(self, prediction: object) -> bool | None:
        """Whether a raw prediction is the positive class; ``None`` when unreadable."""
        if self.kind == "score":
            score, _ = numeric_value(prediction)
            return None if score is None else score >= self.probability_threshold
        label = category_key(prediction)
        return None if label is None else label == self.positive_label


@dataclass(frozen=True)
class QualityResult:
    """Model-quality figures over the window's predictions that have ground truth."""

    problem_type: str
    requests_with_predictions: int
    requests_without_ground_truth: int
    requests_with_label_count_mismatch: int
    matched: int
    unreadable: int
    metrics: dict[str, float | None]
    violations: list[Violation]

    def to_json(self) -> dict[str, Any]:
        return {
            "problem_type": self.problem_type,
            "requests_with_predictions": self.requests_with_predictions,
            "requests_without_ground_truth": self.requests_without_ground_truth,
            "requests_with_label_count_mismatch": self.requests_with_label_count_mismatch,
            "matched": self.matched,
            "unreadable_pairs": self.unreadable,
            "metrics": self.metrics,
        }


_METRIC_NAMES = {
    "accuracy": contract.METRIC_ACCURACY,
    "precision": contract.METRIC_PRECISION,
    "recall": contract.METRIC_RECALL,
    "f1": contract.METRIC_F1,
    "auc": contract.METRIC_AUC,
    "mae": contract.METRIC_MAE,
    "rmse": contract.METRIC_RMSE,
    "r2": contract.METRIC_R2,
}


def metric_name(key: str) -> str:
    """The CloudWatch metric name of a model-quality figure (``f1`` -> ``F1``)."""
    return _METRIC_NAMES[key]


def evaluate_quality(
    pairs: Sequence[tuple[object, object]],
    predictions: Predictions,
    thresholds: Thresholds,
    *,
    requests_with_predictions: int,
    requests_without_ground_truth: int,
    requests_with_label_count_mismatch: int,
) -> QualityResult:
    """Model quality of (true label, raw prediction) pairs joined by inference id."""
    metrics, usable = _quality_metrics(pairs, predictions)
    violations = []
    if usable >= thresholds.min_records:
        for key, minimum in sorted(thresholds.quality_minimums.items()):
            value = metrics.get(key)
            if value is not None and value < minimum:
                violations.append(_quality_violation(key, value, minimum, "below the minimum"))
        for key, maximum in sorted(thresholds.quality_maximums.items()):
            value = metrics.get(key)
            if value is not None and value > maximum:
                violations.append(_quality_violation(key, value, maximum, "above the maximum"))
    return QualityResult(
        problem_type=predictions.problem_type,
        requests_with_predictions=requests_with_predictions,
        requests_without_ground_truth=requests_without_ground_truth,
        requests_with_label_count_mismatch=requests_with_label_count_mismatch,
        matched=usable,
        unreadable=len(pairs) - usable,
        metrics=metrics,
        violations=violations,
    )


def _quality_violation(key: str, value: float, threshold: float, relation: str) -> Violation:
    name = metric_name(key)
    return Violation(
        contract.CHECK_MODEL_QUALITY,
        f"{name} {value:.4f} is {relation} {threshold}",
        metric=name,
        value=value,
        threshold=threshold,
    )


def _quality_metrics(
    pairs: Sequence[tuple[object, object]], predictions: Predictions
) -> tuple[dict[str, float | None], int]:
    problem = predictions.problem_type
    if problem == contract.REGRESSION:
        truth_values: list[float] = []
        predicted_values: list[float] = []
        for truth, raw in pairs:
            true_value, _ = numeric_value(truth)
            predicted, _ = numeric_value(predictions.value(raw))
            if true_value is not None and predicted is not None:
                truth_values.append(true_value)
                predicted_values.append(predicted)
        if not truth_values:
            return {"mae": None, "rmse": None, "r2": None}, 0
        return regression_metrics(truth_values, predicted_values), len(truth_values)
    if problem == contract.MULTICLASS:
        labels = [
            (category_key(truth), category_key(predictions.value(raw))) for truth, raw in pairs
        ]
        usable = [(t, p) for t, p in labels if t is not None and p is not None]
        if not usable:
            return _empty_classification(), 0
        return (
            multiclass_classification_metrics([t for t, _ in usable], [p for _, p in usable]),
            len(usable),
        )
    truths: list[bool] = []
    predicted_positive: list[bool] = []
    scores: list[float] = []
    for truth, raw in pairs:
        true_label = category_key(truth)
        value = predictions.value(raw)
        positive = predictions.positive(value)
        if true_label is None or positive is None:
            continue
        truths.append(true_label == predictions.positive_label)
        predicted_positive.append(positive)
        if predictions.kind == "score":
            scores.append(float(numeric_value(value)[0] or 0.0))
    if not truths:
        return _empty_classification(), 0
    metrics = binary_classification_metrics(
        truths, predicted_positive, scores if predictions.kind == "score" else None
    )
    return metrics, len(truths)


def _empty_classification() -> dict[str, float | None]:
    return {"accuracy": None, "precision": None, "recall": None, "f1": None, "auc": None}


# --- Bias --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BiasResult:
    """Class imbalance and DPPL of one facet over the window."""

    facet: contract.Facet
    members_a: int
    members_d: int
    predicted_a: int
    predicted_d: int
    class_imbalance: float | None
    dppl: float | None
    violations: list[Violation]

    def to_json(self) -> dict[str, Any]:
        return {
            "facet": self.facet.name,
            "sensitive_group": str(self.facet),
            "members_a": self.members_a,
            "members_d": self.members_d,
            "predicted_a": self.predicted_a,
            "predicted_d": self.predicted_d,
            "class_imbalance": self.class_imbalance,
            "dppl": self.dppl,
        }


def facet_group(facet: contract.Facet, value: object) -> str | None:
    """``"d"`` for the sensitive group, ``"a"`` for the rest, ``None`` when missing."""
    if facet.threshold is not None:
        number, _ = numeric_value(value)
        if number is None:
            return None
        return "d" if number > facet.threshold else "a"
    key = category_key(value)
    if key is None:
        return None
    return "d" if key in facet.values else "a"


def evaluate_bias(
    facet: contract.Facet,
    rows: Iterable[tuple[object, bool | None]],
    thresholds: Thresholds,
) -> BiasResult:
    """CI over rows with a facet value; DPPL over those that also have a prediction."""
    members = Counter[str]()
    positives: dict[str, list[bool]] = {"a": [], "d": []}
    for value, positive in rows:
        group = facet_group(facet, value)
        if group is None:
            continue
        members[group] += 1
        if positive is not None:
            positives[group].append(positive)
    ci = class_imbalance(members["a"], members["d"])
    dppl = difference_in_positive_proportions(positives["a"], positives["d"])
    violations = []
    if members["a"] + members["d"] >= thresholds.min_records:
        if dppl is not None and abs(dppl) > thresholds.dppl:
            violations.append(
                Violation(
                    contract.CHECK_BIAS,
                    f"{facet}: DPPL {dppl:.4f} is outside +/-{thresholds.dppl}",
                    feature=facet.name,
                    metric=contract.METRIC_DPPL,
                    value=dppl,
                    threshold=thresholds.dppl,
                )
            )
        limit = thresholds.class_imbalance
        if limit is not None and ci is not None and abs(ci) > limit:
            violations.append(
                Violation(
                    contract.CHECK_BIAS,
                    f"{facet}: class imbalance {ci:.4f} is outside +/-{limit}",
                    feature=facet.name,
                    metric=contract.METRIC_CLASS_IMBALANCE,
                    value=ci,
                    threshold=limit,
                )
            )
    return BiasResult(
        facet=facet,
        members_a=members["a"],
        members_d=members["d"],
        predicted_a=len(positives["a"]),
        predicted_d=len(positives["d"]),
        class_imbalance=ci,
        dppl=dppl,
        violations=violations,
    )

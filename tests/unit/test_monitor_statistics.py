"""The monitor's statistics against scipy and scikit-learn on generated data, within 1e-9.

The monitor computes its figures with numpy (they must be the same numbers in the
processing image's numpy 1.24/scipy 1.8 and here); these tests hold them to the reference
implementations a data scientist would check them with.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats  # type: ignore[import-untyped]
from sklearn import metrics  # type: ignore[import-untyped]

from sagemaker_lifecycle.monitoring.scripts import monitor_quality as quality
from sagemaker_lifecycle.monitoring.scripts import monitor_stats as drift

TOLERANCE = 1e-9


def close(actual: float | None, expected: float) -> bool:
    """Within 1e-9: absolute for figures in [0, 1], relative for unbounded ones."""
    assert actual is not None
    return math.isclose(actual, float(expected), rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# --- Kolmogorov-Smirnov ---------------------------------------------------------------------

KS_CASES = [
    # (reference, current): shapes the monitor meets
    pytest.param(_rng(1).normal(0, 1, 2000), _rng(2).normal(0, 1, 800), id="same-distribution"),
    pytest.param(_rng(3).normal(0, 1, 2000), _rng(4).normal(0.5, 1, 600), id="shifted-mean"),
    pytest.param(_rng(5).normal(0, 1, 1500), _rng(6).normal(0, 2, 1500), id="wider"),
    pytest.param(_rng(7).integers(0, 10, 2000), _rng(8).integers(0, 12, 700), id="ties"),
    pytest.param(_rng(9).lognormal(3, 1, 50), _rng(10).lognormal(3, 1, 20_000), id="unbalanced"),
    pytest.param(np.arange(100.0), np.arange(100.0), id="identical"),
    pytest.param(np.zeros(30), np.ones(40), id="disjoint"),
]


@pytest.mark.parametrize(("reference", "current"), KS_CASES)
def test_ks_statistic_equals_scipy_ks_2samp(reference: Any, current: Any) -> None:
    result = drift.ks_two_sample(reference, current)
    expected = stats.ks_2samp(reference, current)  # method="auto", the default
    assert close(result.statistic, expected.statistic)


@pytest.mark.parametrize(("reference", "current"), KS_CASES)
def test_ks_p_value_equals_scipy_asymptotic_p_value(reference: Any, current: Any) -> None:
    result = drift.ks_two_sample(reference, current)
    expected = stats.ks_2samp(reference, current, method="asymp")
    assert close(result.p_value, expected.pvalue)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy's own NaN case, see below
@settings(max_examples=60)
@given(
    reference=hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-1e6, 1e6)),
    current=hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-1e6, 1e6)),
)
def test_ks_statistic_equals_scipy_on_any_samples(reference: Any, current: Any) -> None:
    result = drift.ks_two_sample(reference, current)
    expected = stats.ks_2samp(reference, current, method="asymp")
    assert close(result.statistic, expected.statistic)
    if reference.size + current.size > 2:  # see the single-observations test below
        assert close(result.p_value, expected.pvalue)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_ks_of_two_single_observations_has_a_p_value() -> None:
    # scipy rounds n*m/(n+m) = 0.5 to zero observations and returns NaN; the monitor must
    # publish a number, so it uses one observation.
    assert math.isnan(stats.ks_2samp([0.0], [0.0], method="asymp").pvalue)
    result = drift.ks_two_sample([0.0], [0.0])
    assert result.statistic == 0.0
    assert result.p_value == 1.0


def test_ks_rejects_an_empty_sample() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        drift.ks_two_sample([], [1.0])


# --- Chi-square -------------------------------------------------------------------------------

CHI_SQUARE_CASES = [
    pytest.param([500.0, 300.0, 200.0], [48.0, 33.0, 19.0], id="same-shares"),
    pytest.param([500.0, 300.0, 200.0], [10.0, 30.0, 60.0], id="reversed"),
    pytest.param([4000.0, 100.0, 0.0, 900.0], [400.0, 8.0, 3.0, 89.0], id="unseen-category"),
    pytest.param([123.4, 876.6], [70.0, 30.0], id="two-categories-fractional-baseline"),
]


@pytest.mark.parametrize(("baseline", "current"), CHI_SQUARE_CASES)
def test_chi_square_equals_scipy_chi2_contingency(baseline: Any, current: Any) -> None:
    result = drift.chi_square_homogeneity(baseline, current)
    table = np.array([baseline, current])
    table = table[:, table.sum(axis=0) > 0]
    expected = stats.chi2_contingency(table, correction=False)
    assert close(result.statistic, expected.statistic)
    assert close(result.p_value, expected.pvalue)
    assert result.dof == expected.dof


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.integers(1, 10_000), st.integers(0, 500)), min_size=2, max_size=12
    ).filter(lambda cells: sum(c for _, c in cells) > 0)
)
def test_chi_square_equals_scipy_on_any_table(cells: list[tuple[int, int]]) -> None:
    baseline = [float(b) for b, _ in cells]
    current = [float(c) for _, c in cells]
    result = drift.chi_square_homogeneity(baseline, current)
    expected = stats.chi2_contingency(np.array([baseline, current]), correction=False)
    assert close(result.statistic, expected.statistic)
    assert close(result.p_value, expected.pvalue)


def test_chi_square_of_a_single_category_is_no_evidence() -> None:
    result = drift.chi_square_homogeneity([10.0, 0.0], [5.0, 0.0])
    assert (result.statistic, result.p_value, result.dof) == (0.0, 1.0, 0)


# --- PSI ---------------------------------------------------------------------------------------

shares = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20).filter(lambda v: sum(v) > 0)


def _normalised(values: list[float]) -> list[float]:
    total = sum(values)
    return [v / total for v in values]


@given(shares)
def test_psi_of_identical_distributions_is_zero(values: list[float]) -> None:
    p = _normalised(values)
    assert drift.population_stability_index(p, p) == 0.0


@given(st.data())
def test_psi_is_symmetric_and_never_negative(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 20))
    vector = st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size).filter(
        lambda v: sum(v) > 0
    )
    p = _normalised(data.draw(vector))
    q = _normalised(data.draw(vector))
    forward = drift.population_stability_index(p, q)
    assert forward >= 0.0
    assert close(drift.population_stability_index(q, p), forward)


def test_psi_matches_its_definition_with_the_epsilon_floor() -> None:
    expected_shares = np.array([0.5, 0.3, 0.2, 0.0])
    actual_shares = np.array([0.25, 0.25, 0.25, 0.25])
    e = np.maximum(expected_shares, drift.PSI_EPSILON)
    a = np.maximum(actual_shares, drift.PSI_EPSILON)
    expected = float(np.sum((a - e) * np.log(a / e)))
    assert close(drift.population_stability_index(expected_shares, actual_shares), expected)


def test_psi_rejects_vectors_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="one length"):
        drift.population_stability_index([0.5, 0.5], [1.0])


def test_bins_are_right_closed_with_open_outer_bins() -> None:
    counts = drift.bin_counts([-5.0, 1.0, 1.5, 2.0, 2.0001, 99.0], [1.0, 2.0])
    assert counts.tolist() == [2.0, 2.0, 2.0]


def test_linf_distance_is_the_largest_share_difference() -> None:
    assert close(drift.linf_distance([0.5, 0.3, 0.2], [0.2, 0.4, 0.4]), 0.3)


# --- Classification ---------------------------------------------------------------------------


def _binary_case(seed: int, size: int) -> tuple[Any, Any, Any]:
    rng = _rng(seed)
    truth = rng.random(size) < 0.35
    # Scores that carry signal, with ties from rounding, as real models produce.
    scores = np.round(np.clip(0.35 * truth + rng.normal(0.4, 0.2, size), 0, 1), 2)
    return truth, scores >= 0.5, scores


@pytest.mark.parametrize(("seed", "size"), [(11, 1000), (12, 57), (13, 5)])
def test_binary_metrics_equal_scikit_learn(seed: int, size: int) -> None:
    truth, predicted, scores = _binary_case(seed, size)
    result = quality.binary_classification_metrics(truth.tolist(), predicted.tolist(), scores)
    assert close(result["accuracy"], metrics.accuracy_score(truth, predicted))
    assert close(result["precision"], metrics.precision_score(truth, predicted, zero_division=0))
    assert close(result["recall"], metrics.recall_score(truth, predicted, zero_division=0))
    assert close(result["f1"], metrics.f1_score(truth, predicted, zero_division=0))
    if len(set(truth.tolist())) == 2:
        assert close(result["auc"], metrics.roc_auc_score(truth, scores))


@settings(max_examples=80)
@given(
    st.lists(
        st.tuples(st.booleans(), st.booleans(), st.sampled_from([0.0, 0.1, 0.5, 0.5, 0.9, 1.0])),
        min_size=1,
        max_size=80,
    )
)
def test_binary_metrics_equal_scikit_learn_on_any_labels(
    rows: list[tuple[bool, bool, float]],
) -> None:
    truth = [t for t, _, _ in rows]
    predicted = [p for _, p, _ in rows]
    scores = [s for _, _, s in rows]
    result = quality.binary_classification_metrics(truth, predicted, scores)
    assert close(result["accuracy"], metrics.accuracy_score(truth, predicted))
    assert close(result["precision"], metrics.precision_score(truth, predicted, zero_division=0))
    assert close(result["recall"], metrics.recall_score(truth, predicted, zero_division=0))
    assert close(result["f1"], metrics.f1_score(truth, predicted, zero_division=0))
    if len(set(truth)) == 2:
        assert close(result["auc"], metrics.roc_auc_score(truth, scores))
    else:
        assert result["auc"] is None  # undefined with one class; scikit-learn raises


def test_multiclass_metrics_equal_scikit_learn_macro_averages() -> None:
    rng = _rng(21)
    labels = np.array(["cat", "dog", "bird", "fish"])
    truth = rng.choice(labels, 700, p=[0.4, 0.3, 0.2, 0.1])
    noise = rng.choice(labels, 700)
    predicted = np.where(rng.random(700) < 0.7, truth, noise)
    predicted[:3] = "lizard"  # a label the ground truth never has
    result = quality.multiclass_classification_metrics(truth.tolist(), predicted.tolist())
    assert close(result["accuracy"], metrics.accuracy_score(truth, predicted))
    for key, function in (
        ("precision", metrics.precision_score),
        ("recall", metrics.recall_score),
        ("f1", metrics.f1_score),
    ):
        assert close(result[key], function(truth, predicted, average="macro", zero_division=0))
    assert result["auc"] is None


def test_classification_metrics_reject_vectors_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="one length"):
        quality.binary_classification_metrics([True], [True, False])


# --- Regression -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [31, 32])
def test_regression_metrics_equal_scikit_learn(seed: int) -> None:
    rng = _rng(seed)
    truth = rng.normal(100, 25, 900)
    predicted = truth + rng.normal(3, 10, 900)
    result = quality.regression_metrics(truth.tolist(), predicted.tolist())
    assert close(result["mae"], metrics.mean_absolute_error(truth, predicted))
    assert close(result["rmse"], math.sqrt(metrics.mean_squared_error(truth, predicted)))
    assert close(result["r2"], metrics.r2_score(truth, predicted))


@settings(max_examples=60)
@given(st.lists(st.tuples(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4)), min_size=1, max_size=50))
def test_regression_metrics_equal_scikit_learn_on_any_values(
    rows: list[tuple[float, float]],
) -> None:
    truth = [t for t, _ in rows]
    predicted = [p for _, p in rows]
    result = quality.regression_metrics(truth, predicted)
    assert close(result["mae"], metrics.mean_absolute_error(truth, predicted))
    assert close(result["rmse"], math.sqrt(metrics.mean_squared_error(truth, predicted)))
    if len(rows) > 1:  # scikit-learn warns and returns NaN for R2 of a single sample
        assert close(result["r2"], metrics.r2_score(truth, predicted))


def test_r2_of_a_constant_target_follows_scikit_learn() -> None:
    assert quality.regression_metrics([2.0, 2.0], [2.0, 2.0])["r2"] == 1.0
    assert quality.regression_metrics([2.0, 2.0], [1.0, 3.0])["r2"] == 0.0
    assert metrics.r2_score([2.0, 2.0], [1.0, 3.0]) == 0.0


# --- Bias -------------------------------------------------------------------------------------


def test_class_imbalance_is_clarifys_normalised_difference() -> None:
    assert quality.class_imbalance(75, 25) == 0.5
    assert quality.class_imbalance(0, 10) == -1.0
    assert quality.class_imbalance(0, 0) is None


def test_dppl_is_the_difference_of_positive_prediction_shares() -> None:
    rng = _rng(41)
    positive_a = (rng.random(300) < 0.6).tolist()
    positive_d = (rng.random(120) < 0.45).tolist()
    expected = np.mean(positive_a) - np.mean(positive_d)
    assert close(quality.difference_in_positive_proportions(positive_a, positive_d), expected)
    assert quality.difference_in_positive_proportions([], positive_d) is None

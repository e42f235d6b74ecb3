"""Drift statistics: population stability index, two-sample Kolmogorov-Smirnov, chi-square.

The statistics are computed here with numpy so that they are the same numbers in the
processing image (numpy 1.24, scipy 1.8) and in the tests, which check them against
``scipy.stats.ks_2samp`` and ``scipy.stats.chi2_contingency``; scipy supplies only the
tails of the null distributions for the p-values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import chi2, kstwo  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

#: Proportions are floored at this before PSI's logarithm, so an empty bin on either side
#: contributes a large but finite term (the usual PSI convention).
PSI_EPSILON = 1e-4


@dataclass(frozen=True)
class StatisticResult:
    """A test statistic, its p-value and degrees of freedom (0 where not applicable)."""

    statistic: float
    p_value: float
    dof: int = 0


def bin_counts(
    values: Sequence[float] | FloatArray, edges: Sequence[float] | FloatArray
) -> FloatArray:
    """Counts of ``values`` in the bins ``(-inf, e1], (e1, e2], ..., (ek, inf)``.

    ``edges`` are the interior cut points, ascending; there are ``len(edges) + 1`` bins, so
    values outside the baseline's range still land in the outer bins.
    """
    cut = np.asarray(edges, dtype=float)
    index = np.searchsorted(cut, np.asarray(values, dtype=float), side="left")
    return np.bincount(index, minlength=len(cut) + 1).astype(float)


def proportions(counts: Sequence[float] | FloatArray) -> FloatArray:
    """``counts`` as shares of their total (all zeros when the total is zero)."""
    array = np.asarray(counts, dtype=float)
    total = array.sum()
    return array / total if total > 0 else np.zeros_like(array)


def population_stability_index(
    expected: Sequence[float] | FloatArray,
    actual: Sequence[float] | FloatArray,
    *,
    epsilon: float = PSI_EPSILON,
) -> float:
    """PSI = sum((a - e) * ln(a / e)) over the bins, proportions floored at ``epsilon``.

    Symmetric in its arguments and zero for identical distributions.
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape or e.ndim != 1:
        raise ValueError(
            f"PSI needs two proportion vectors of one length; got {e.shape}, {a.shape}"
        )
    e = np.maximum(e, epsilon)
    a = np.maximum(a, epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def ks_two_sample(
    reference: Sequence[float] | FloatArray, current: Sequence[float] | FloatArray
) -> StatisticResult:
    """Two-sided two-sample Kolmogorov-Smirnov test.

    The statistic is the largest distance between the two empirical CDFs, evaluated at every
    observation (ties handled by ``searchsorted(side="right")``, as scipy does). The p-value
    is Smirnov's asymptotic distribution, ``kstwo.sf(D, round(n*m/(n+m)))``: scipy's
    ``ks_2samp(..., method="asymp")``. Monitoring windows and reference samples are hundreds
    to thousands of rows, where the exact distribution is costly and adds nothing.
    """
    x = np.sort(np.asarray(reference, dtype=float))
    y = np.sort(np.asarray(current, dtype=float))
    n1, n2 = x.size, y.size
    if n1 == 0 or n2 == 0:
        raise ValueError("the KS test needs two non-empty samples")
    pooled = np.concatenate([x, y])
    cdf_x = np.searchsorted(x, pooled, side="right") / n1
    cdf_y = np.searchsorted(y, pooled, side="right") / n2
    statistic = float(np.max(np.abs(cdf_x - cdf_y)))
    m, n = max(n1, n2), min(n1, n2)
    # Two single observations give n*m/(n+m) = 0.5, which scipy rounds to 0 (a NaN p-value);
    # one effective observation is the honest reading of that sample.
    effective_n = max(1.0, float(np.round(float(m) * float(n) / float(m + n))))
    p_value = float(np.clip(kstwo.sf(statistic, effective_n), 0.0, 1.0))
    return StatisticResult(statistic, p_value)


def chi_square_homogeneity(
    baseline_counts: Sequence[float] | FloatArray, current_counts: Sequence[float] | FloatArray
) -> StatisticResult:
    """Pearson's chi-square test that two samples share one categorical distribution.

    A 2 x k contingency table of the baseline's and the window's counts per category
    (categories empty in both are dropped), without Yates' correction: scipy's
    ``chi2_contingency(table, correction=False)``. A homogeneity test rather than a
    goodness-of-fit test because the baseline is itself a sample, not the true distribution.
    """
    table = np.vstack(
        [np.asarray(baseline_counts, dtype=float), np.asarray(current_counts, dtype=float)]
    )
    table = table[:, table.sum(axis=0) > 0]
    rows = table.sum(axis=1)
    if table.shape[1] < 2 or np.any(rows <= 0):
        return StatisticResult(0.0, 1.0, 0)
    expected = np.outer(rows, table.sum(axis=0)) / table.sum()
    statistic = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    return StatisticResult(statistic, float(chi2.sf(statistic, dof)), dof)


def linf_distance(
    first: Sequence[float] | FloatArray, second: Sequence[float] | FloatArray
) -> float:
    """The largest absolute difference between two proportion vectors."""
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"L-infinity needs two vectors of one length; got {a.shape}, {b.shape}")
    return float(np.max(np.abs(a - b))) if a.size else 0.0

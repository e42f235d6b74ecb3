"""Model-quality and bias figures: classification, regression, class imbalance and DPPL.

numpy only. The tests check every figure against scikit-learn on generated data; the
definitions follow scikit-learn's defaults (binary metrics for the positive class, macro
averages for multiclass, 0.0 where a ratio has a zero denominator, R2 of a constant target
1.0 or 0.0) so the numbers match the library a data scientist would check them with.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0


def binary_classification_metrics(
    y_true: Sequence[bool], y_pred: Sequence[bool], scores: Sequence[float] | None = None
) -> dict[str, float | None]:
    """Accuracy, precision, recall and F1 of the positive class, and ROC AUC of ``scores``.

    AUC is ``None`` without scores or when the window holds only one class.
    """
    truth = np.asarray(y_true, dtype=bool)
    predicted = np.asarray(y_pred, dtype=bool)
    if truth.shape != predicted.shape or truth.size == 0:
        raise ValueError("classification metrics need two non-empty label vectors of one length")
    tp = float(np.sum(truth & predicted))
    fp = float(np.sum(~truth & predicted))
    fn = float(np.sum(truth & ~predicted))
    return {
        "accuracy": float(np.mean(truth == predicted)),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "auc": roc_auc(truth, scores) if scores is not None else None,
    }


def multiclass_classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str]
) -> dict[str, float | None]:
    """Accuracy and macro-averaged precision, recall and F1 over every label seen.

    The labels are those in either vector, as scikit-learn's ``average="macro"`` takes them.
    """
    truth = np.asarray(y_true, dtype=object)
    predicted = np.asarray(y_pred, dtype=object)
    if truth.shape != predicted.shape or truth.size == 0:
        raise ValueError("classification metrics need two non-empty label vectors of one length")
    precisions, recalls, f1s = [], [], []
    for label in sorted(set(truth.tolist()) | set(predicted.tolist())):
        is_true = truth == label
        is_pred = predicted == label
        tp = float(np.sum(is_true & is_pred))
        fp = float(np.sum(~is_true & is_pred))
        fn = float(np.sum(is_true & ~is_pred))
        precisions.append(_ratio(tp, tp + fp))
        recalls.append(_ratio(tp, tp + fn))
        f1s.append(_ratio(2 * tp, 2 * tp + fp + fn))
    return {
        "accuracy": float(np.mean(truth == predicted)),
        "precision": float(np.mean(precisions)),
        "recall": float(np.mean(recalls)),
        "f1": float(np.mean(f1s)),
        "auc": None,
    }


def roc_auc(
    y_true: Sequence[bool] | npt.NDArray[np.bool_], scores: Sequence[float]
) -> float | None:
    """Area under the ROC curve: the Mann-Whitney U statistic over n_pos * n_neg.

    Tied scores get their average rank, which equals the trapezoidal area scikit-learn
    computes. ``None`` when either class is absent (the area is undefined).
    """
    truth = np.asarray(y_true, dtype=bool)
    values = np.asarray(scores, dtype=float)
    if truth.shape != values.shape:
        raise ValueError("roc_auc needs one score per label")
    positives = int(truth.sum())
    negatives = truth.size - positives
    if positives == 0 or negatives == 0:
        return None
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts).astype(float)
    average_rank = (ends - counts + 1.0 + ends) / 2.0
    ranks = average_rank[inverse.reshape(-1)]
    u_statistic = float(ranks[truth].sum()) - positives * (positives + 1) / 2.0
    return u_statistic / (positives * negatives)


def regression_metrics(y_true: Sequence[float], y_pred: Sequence[float]) -> dict[str, float | None]:
    """Mean absolute error, root mean squared error and the coefficient of determination.

    R2 of a constant target is 1.0 for a perfect prediction and 0.0 otherwise, as
    scikit-learn's ``r2_score`` (``force_finite=True``) reports it.
    """
    truth = np.asarray(y_true, dtype=float)
    predicted = np.asarray(y_pred, dtype=float)
    if truth.shape != predicted.shape or truth.size == 0:
        raise ValueError("regression metrics need two non-empty vectors of one length")
    errors = truth - predicted
    residual = float(np.sum(errors**2))
    total = float(np.sum((truth - truth.mean()) ** 2))
    r2 = 1.0 - residual / total if total > 0.0 else float(residual == 0.0)
    return {
        "mae": float(np.mean(np.abs(errors))),
        "rmse": math.sqrt(float(np.mean(errors**2))),
        "r2": r2,
    }


def class_imbalance(members_a: int, members_d: int) -> float | None:
    """CI = (n_a - n_d) / (n_a + n_d), SageMaker Clarify's pre-training class imbalance.

    https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-bias-metric-class-imbalance.html
    """
    total = members_a + members_d
    return (members_a - members_d) / total if total > 0 else None


def difference_in_positive_proportions(
    predicted_positive_a: Sequence[bool], predicted_positive_d: Sequence[bool]
) -> float | None:
    """DPPL = q'_a - q'_d, the share of each facet predicted positive (SageMaker Clarify).

    https://docs.aws.amazon.com/sagemaker/latest/dg/clarify-post-training-bias-metric-dppl.html
    ``None`` when either facet has no member in the window.
    """
    if len(predicted_positive_a) == 0 or len(predicted_positive_d) == 0:
        return None
    q_a = float(np.mean(np.asarray(predicted_positive_a, dtype=bool)))
    q_d = float(np.mean(np.asarray(predicted_positive_d, dtype=bool)))
    return q_a - q_d

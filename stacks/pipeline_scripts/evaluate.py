"""Evaluation for the reference churn pipeline (runs in the SageMaker XGBoost image).

Scores ``test.csv`` (label first, no header) with the trained model from
``model.tar.gz`` and writes ``evaluation.json`` in SageMaker's model-quality format
(``binary_classification_metrics.<metric>.value``), which the pipeline reads with JsonGet
and registers as the model version's ``ModelQuality`` statistics.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (  # type: ignore[import-untyped]
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

Predictor = Callable[[np.ndarray], np.ndarray]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", default="/opt/ml/processing/model")
    parser.add_argument("--test-dir", default="/opt/ml/processing/test")
    parser.add_argument("--output-dir", default="/opt/ml/processing/evaluation")
    parser.add_argument("--threshold", type=float, default=0.5)
    return parser.parse_args(argv)


def load_xgboost_predictor(model_dir: Path) -> Predictor:  # pragma: no cover - needs xgboost
    """The booster from ``model.tar.gz`` as a function of the feature matrix."""
    import xgboost  # type: ignore[import-not-found]  # noqa: PLC0415 - only in the XGBoost image

    with tempfile.TemporaryDirectory() as extracted:
        with tarfile.open(model_dir / "model.tar.gz") as archive:
            archive.extractall(extracted, filter="data")
        path = Path(extracted) / "xgboost-model"
        booster = xgboost.Booster()
        try:
            booster.load_model(str(path))
        except xgboost.core.XGBoostError:
            with path.open("rb") as handle:  # models saved by older containers are pickled
                booster = pickle.load(handle)

    def predict(features: np.ndarray) -> np.ndarray:
        return np.asarray(booster.predict(xgboost.DMatrix(features)))

    return predict


def read_test(test_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(test_dir.glob("*.csv"))
    if not files:
        raise ValueError(f"no CSV files under {test_dir}")
    frame = pd.concat([pd.read_csv(f, header=None) for f in files], ignore_index=True)
    return frame.iloc[:, 0].to_numpy(dtype=int), frame.iloc[:, 1:].to_numpy(dtype=float)


def metrics_report(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """SageMaker's model-quality report for binary classification."""
    if len(labels) == 0:
        raise ValueError("the test set is empty")
    predicted = (scores >= threshold).astype(int)
    both_classes = len(np.unique(labels)) == 2
    auc = float(roc_auc_score(labels, scores)) if both_classes else float("nan")
    matrix = confusion_matrix(labels, predicted, labels=[0, 1])

    def metric(value: float) -> dict[str, Any]:
        return {"value": value, "standard_deviation": "NaN"}

    return {
        "binary_classification_metrics": {
            "auc": metric(auc),
            "accuracy": metric(float(accuracy_score(labels, predicted))),
            "precision": metric(float(precision_score(labels, predicted, zero_division=0))),
            "recall": metric(float(recall_score(labels, predicted, zero_division=0))),
            "f1": metric(float(f1_score(labels, predicted, zero_division=0))),
            "confusion_matrix": {
                str(actual): {str(p): int(matrix[actual][p]) for p in (0, 1)} for actual in (0, 1)
            },
        },
        "dataset": {"rows": len(labels), "positive_rate": float(labels.mean())},
        "threshold": threshold,
    }


def main(argv: Sequence[str], predictor: Predictor | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    labels, features = read_test(Path(args.test_dir))
    predict = predictor or load_xgboost_predictor(Path(args.model_dir))
    report = metrics_report(labels, predict(features), args.threshold)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    # allow_nan=False would reject an AUC of a one-class test set; write null instead.
    text = json.dumps(report, indent=2).replace("NaN,", "null,").replace(": NaN", ": null")
    (out / "evaluation.json").write_text(text, encoding="utf-8")
    summary = report["binary_classification_metrics"]
    print(json.dumps({"event": "evaluated", "auc": summary["auc"]["value"], "rows": len(labels)}))
    return report


if __name__ == "__main__":
    main(sys.argv[1:])

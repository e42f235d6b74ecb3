"""Training-data statistics for drift monitoring (runs in the SageMaker scikit-learn image).

Reads ``train_features.csv`` and ``schema.json`` written by ``preprocess.py`` and writes
``statistics.json`` in the drift monitor's baseline format
(``"format": "sagemaker-lifecycle/monitoring-baseline"``, ``"version": 1``, see
``sagemaker_lifecycle/monitoring/scripts/monitor_baseline.py``)::

    {"format": "sagemaker-lifecycle/monitoring-baseline", "version": 1,
     "created_at": "2024-05-01T12:00:00Z", "record_count": 1000,
     "features": [                        # in model-input (request CSV column) order
       {"name": "tenure_months", "type": "numeric", "count": 990, "missing_rate": 0.01,
        "numeric": {"bin_edges": [9 interior decile cut points],
                    "bin_proportions": [len(bin_edges) + 1 shares of (-inf, e1], ...,
                                        (ek, inf)],
                    "quantiles": {"0.01": ..., "0.05": ..., "0.25": ..., "0.5": ...,
                                  "0.75": ..., "0.95": ..., "0.99": ...},
                    "mean": ..., "std": ..., "min": ..., "max": ...,
                    "reference_sample": [sorted, up to 2000 values]}},
       {"name": "contract", "type": "categorical", "count": 1000, "missing_rate": 0.0,
        "categorical": {"proportions": {"0": 0.55, "1": 0.25, "2": 0.2},
                        "other_proportion": 0.0}}]}

Categorical features are the integer codes the model sees (``schema.json`` maps each code
back to its value); shares are over non-missing values.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BASELINE_FORMAT = "sagemaker-lifecycle/monitoring-baseline"
BASELINE_VERSION = 1
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
BINS = 10
SAMPLE_SIZE = 2000


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", default="/opt/ml/processing/input/baseline")
    parser.add_argument("--output-dir", default="/opt/ml/processing/baseline")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def numeric_statistics(name: str, values: pd.Series, rng: np.random.Generator) -> dict[str, Any]:
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    finite = numbers[np.isfinite(numbers)]
    if finite.size == 0:
        raise ValueError(f"feature {name!r} has no numeric value in the training data")
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, BINS + 1)[1:-1]))
    # Bin i holds (edges[i-1], edges[i]]; the first and last bins are open-ended.
    counts = np.bincount(np.searchsorted(edges, finite, side="left"), minlength=len(edges) + 1)
    sample = (
        finite if finite.size <= SAMPLE_SIZE else rng.choice(finite, SAMPLE_SIZE, replace=False)
    )
    return {
        "name": name,
        "type": "numeric",
        "count": int(finite.size),
        "missing_rate": 1.0 - finite.size / len(numbers),
        "numeric": {
            "bin_edges": [float(e) for e in edges],
            "bin_proportions": [float(c) / finite.size for c in counts],
            "quantiles": {repr(q): float(np.quantile(finite, q)) for q in QUANTILES},
            "mean": float(finite.mean()),
            "std": float(finite.std()),
            "min": float(finite.min()),
            "max": float(finite.max()),
            "reference_sample": [float(v) for v in np.sort(sample)],
        },
    }


def categorical_statistics(name: str, values: pd.Series) -> dict[str, Any]:
    present = values.dropna()
    if present.empty:
        raise ValueError(f"feature {name!r} has no value in the training data")
    # Codes are written as numbers (2.0); the monitor compares categories as text ("2").
    counts = present.astype(int).astype(str).value_counts()
    return {
        "name": name,
        "type": "categorical",
        "count": len(present),
        "missing_rate": float(values.isna().mean()),
        "categorical": {
            "proportions": {str(code): float(n) / len(present) for code, n in counts.items()},
            "other_proportion": 0.0,
        },
    }


def build_statistics(frame: pd.DataFrame, schema: dict[str, Any], seed: int) -> dict[str, Any]:
    if frame.empty:
        raise ValueError("the baseline data has no rows")
    rng = np.random.default_rng(seed)
    features = []
    for feature in schema["features"]:
        name = feature["name"]
        if name not in frame.columns:
            raise ValueError(f"feature {name!r} of the schema is not in the baseline data")
        if feature["type"] == "categorical":
            features.append(categorical_statistics(name, frame[name]))
        else:
            features.append(numeric_statistics(name, frame[name], rng))
    return {
        "format": BASELINE_FORMAT,
        "version": BASELINE_VERSION,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "record_count": len(frame),
        "features": features,
    }


def main(argv: Sequence[str]) -> dict[str, Any]:
    args = parse_args(argv)
    source = Path(args.input_dir)
    schema = json.loads((source / "schema.json").read_text(encoding="utf-8"))
    frame = pd.read_csv(source / "train_features.csv")
    statistics = build_statistics(frame, schema, args.seed)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "statistics.json").write_text(
        json.dumps(statistics, indent=2, allow_nan=False), encoding="utf-8"
    )
    print(
        json.dumps(
            {
                "event": "baselined",
                "features": len(statistics["features"]),
                "rows": statistics["record_count"],
            }
        )
    )
    return statistics


if __name__ == "__main__":
    main(sys.argv[1:])

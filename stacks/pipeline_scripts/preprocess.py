"""Preprocessing for the reference churn pipeline (runs in the SageMaker scikit-learn image).

Reads every CSV under ``--input-dir`` (a header row, one column per feature and the
``--target`` column with 0/1 labels), then writes:

- ``train/train.csv``, ``validation/validation.csv``, ``test/test.csv``: the label first,
  then the features in model-input order, no header (what the built-in XGBoost expects).
  Categorical features become integer codes learned on the training split; unseen and
  missing values stay empty, which XGBoost treats as missing.
- ``baseline/train_features.csv``: the training split's model inputs with a header, and
  ``baseline/schema.json``: feature names, types and category codes, for the baseline step.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", default="/opt/ml/processing/input/data")
    parser.add_argument("--output-dir", default="/opt/ml/processing")
    parser.add_argument("--target", default="churn")
    parser.add_argument("--categorical", default="", help="comma-separated feature names")
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def read_input(input_dir: Path) -> pd.DataFrame:
    files = sorted(input_dir.rglob("*.csv"))
    if not files:
        raise ValueError(f"no CSV files under {input_dir}")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def split(
    frame: pd.DataFrame, target: str, validation: float, test: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if not 0 < validation < 1 or not 0 < test < 1 or validation + test >= 1:
        raise ValueError("validation and test fractions must be in (0, 1) and sum below 1")
    labels = frame[target]
    stratify = labels if labels.value_counts().min() >= 3 else None
    train, rest = train_test_split(
        frame, test_size=validation + test, random_state=seed, stratify=stratify
    )
    rest_labels = rest[target] if stratify is not None else None
    validation_part, test_part = train_test_split(
        rest, test_size=test / (validation + test), random_state=seed, stratify=rest_labels
    )
    return train, validation_part, test_part


def encode(
    frame: pd.DataFrame, features: list[str], categories: dict[str, list[str]]
) -> pd.DataFrame:
    encoded = pd.DataFrame(index=frame.index)
    for name in features:
        if name in categories:
            codes = {value: code for code, value in enumerate(categories[name])}
            encoded[name] = frame[name].astype("string").map(codes).astype("float64")
        else:
            encoded[name] = pd.to_numeric(frame[name], errors="coerce")
    return encoded


def main(argv: Sequence[str]) -> dict[str, int]:
    args = parse_args(argv)
    frame = read_input(Path(args.input_dir))
    if args.target not in frame.columns:
        raise ValueError(f"target column {args.target!r} is not in the input")
    frame = frame.dropna(subset=[args.target])
    labels = frame[args.target].astype(int)
    if not set(labels.unique()) <= {0, 1}:
        raise ValueError(f"target {args.target!r} must hold 0/1 labels")
    frame = frame.assign(**{args.target: labels})
    categorical = [c for c in args.categorical.split(",") if c]
    missing = [c for c in categorical if c not in frame.columns]
    if missing:
        raise ValueError(f"categorical columns {missing} are not in the input")
    features = [c for c in frame.columns if c != args.target]

    train, validation, test = split(
        frame, args.target, args.validation_fraction, args.test_fraction, args.seed
    )
    # Codes come from the training split only, so nothing leaks from validation or test.
    categories = {
        name: sorted(train[name].dropna().astype(str).unique().tolist()) for name in categorical
    }
    out = Path(args.output_dir)
    counts = {}
    for part_name, part in (("train", train), ("validation", validation), ("test", test)):
        encoded = encode(part, features, categories)
        encoded.insert(0, args.target, part[args.target].to_numpy())
        (out / part_name).mkdir(parents=True, exist_ok=True)
        encoded.to_csv(out / part_name / f"{part_name}.csv", header=False, index=False)
        counts[part_name] = len(encoded)

    baseline_dir = out / "baseline"
    baseline_dir.mkdir(parents=True, exist_ok=True)
    encode(train, features, categories).to_csv(baseline_dir / "train_features.csv", index=False)
    schema = {
        "target": args.target,
        "features": [
            {
                "name": name,
                "type": "categorical" if name in categories else "numeric",
                **({"categories": categories[name]} if name in categories else {}),
            }
            for name in features
        ],
    }
    (baseline_dir / "schema.json").write_text(json.dumps(schema, indent=2), encoding="utf-8")
    print(json.dumps({"event": "preprocessed", **counts, "features": len(features)}))
    return counts


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(sys.argv[1:])

"""The baseline the monitor compares a window with: ``statistics.json``, built from training data.

Format (``"format": "sagemaker-lifecycle/monitoring-baseline"``, ``"version": 1``)::

    {
      "format": "sagemaker-lifecycle/monitoring-baseline",
      "version": 1,
      "created_at": "2024-05-01T12:00:00Z",
      "record_count": 10000,                 # training rows
      "features": [                          # in the order of the endpoint's CSV columns
        {"name": "age", "type": "numeric",
         "count": 9990,                      # non-missing training values
         "missing_rate": 0.001,
         "numeric": {
           "bin_edges": [23.0, 29.0, ...],   # interior cut points: bins (-inf, e1], (e1, e2],
           "bin_proportions": [0.1, ...],    #   ..., (ek, inf); len(edges) + 1 proportions
           "quantiles": {"0.01": 18.0, "0.05": ..., "0.5": ..., "0.99": ...},
           "mean": 41.2, "std": 12.9, "min": 18.0, "max": 95.0,
           "reference_sample": [18.0, ...]   # sorted, up to sample_size values, for KS
         }},
        {"name": "country", "type": "categorical", "count": 10000, "missing_rate": 0.0,
         "categorical": {
           "proportions": {"DE": 0.41, "FR": 0.33, ...},  # the max_categories most frequent
           "other_proportion": 0.01          # every rarer category, lumped
         }}
      ]
    }

Missing values are ``None``, NaN, infinities and empty strings. Categories are compared as
text: numbers become their shortest form (``1.0`` and ``1`` are ``"1"``), text is stripped.
:func:`build_baseline` writes the format from a DataFrame; :func:`parse_baseline` reads and
validates it; ``python monitor_baseline.py --input train.csv --output out/`` does both from
CSV files in a processing job.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING or __package__:
    from . import monitor_contract as contract
    from .monitor_stats import bin_counts, proportions
else:  # run as a file in the processing container: this folder is on sys.path
    import monitor_contract as contract
    from monitor_stats import bin_counts, proportions

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

NUMERIC = "numeric"
CATEGORICAL = "categorical"
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
_MAX_NAME = 1024  # a feature name is a CloudWatch dimension value
_TOLERANCE = 1e-6  # proportions written as floats sum to 1 within this


class BaselineError(ValueError):
    """``statistics.json`` is not a baseline this monitor can use; the message names the key."""


@dataclass(frozen=True)
class NumericProfile:
    """Histogram, quantiles and a reference sample of a numeric feature."""

    bin_edges: tuple[float, ...]
    bin_proportions: tuple[float, ...]
    reference_sample: tuple[float, ...]
    quantiles: Mapping[str, float]
    mean: float
    std: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class CategoricalProfile:
    """Shares of the most frequent categories; ``other_proportion`` holds the rest."""

    proportions: Mapping[str, float]
    other_proportion: float


@dataclass(frozen=True)
class FeatureBaseline:
    """One input column of the endpoint as it was in the training data."""

    name: str
    kind: str
    count: int
    missing_rate: float
    numeric: NumericProfile | None = None
    categorical: CategoricalProfile | None = None


@dataclass(frozen=True)
class Baseline:
    """A parsed ``statistics.json``: the endpoint's input columns in order."""

    features: tuple[FeatureBaseline, ...]
    record_count: int
    created_at: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features)

    def feature(self, name: str) -> FeatureBaseline | None:
        for feature in self.features:
            if feature.name == name:
                return feature
        return None


# --- Values: how the builder and the monitor agree on "missing" and "category" ------------


def numeric_value(value: object) -> tuple[float | None, bool]:
    """``(number, False)``, ``(None, False)`` when missing, ``(None, True)`` when not numeric."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return None, False
    if isinstance(value, bool):
        return None, True
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None, False
    if isinstance(value, (int, float, str)):
        try:
            number = float(value)
        except (ValueError, OverflowError):
            return None, True
        return (number, False) if math.isfinite(number) else (None, False)
    return None, True


def category_key(value: object) -> str | None:  # noqa: PLR0911 - one return per value type
    """The text a categorical value is compared as; ``None`` when it is missing."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    if isinstance(value, str):
        return value.strip() or None
    return json.dumps(value, sort_keys=True, default=str)


# --- Building --------------------------------------------------------------------------------


def build_baseline(
    frame: pd.DataFrame,
    *,
    exclude: Iterable[str] = (),
    categorical: Iterable[str] = (),
    bins: int = 10,
    sample_size: int = 2000,
    max_categories: int = 100,
    seed: int = 0,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """The ``statistics.json`` document of ``frame``'s columns (minus ``exclude``), in order.

    :param exclude: columns that are not endpoint inputs, such as the label.
    :param categorical: numeric columns to treat as categories (codes, zip codes).
        Default: numeric dtypes (not bool) are numeric, everything else categorical.
    :param bins: quantile bins for PSI; fewer when values repeat. Default: 10 (deciles).
    :param sample_size: values kept for the KS test, drawn without replacement with
        ``seed``. Default: 2000.
    :param max_categories: categories kept by name; rarer ones are lumped. Default: 100.
    """
    excluded, forced = set(exclude), set(categorical)
    unknown = (excluded | forced) - {str(column) for column in frame.columns}
    if unknown:
        raise ValueError(f"columns {sorted(unknown)} are not in the data")
    if bins < 1 or sample_size < 1 or max_categories < 1:
        raise ValueError("bins, sample_size and max_categories must be at least 1")
    rng = np.random.default_rng(seed)
    features = []
    for column in frame.columns:
        name = str(column)
        if name in excluded:
            continue
        if not 0 < len(name) <= _MAX_NAME:
            raise ValueError(f"column name {name!r} must be 1 to {_MAX_NAME} characters")
        series = frame[column]
        is_numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(
            series
        )
        if is_numeric and name not in forced:
            features.append(_numeric_feature(name, series, bins, sample_size, rng))
        else:
            features.append(_categorical_feature(name, series, max_categories))
    if not features:
        raise ValueError("the baseline needs at least one feature column")
    moment = created_at or datetime.now(timezone.utc)
    return {
        "format": contract.BASELINE_FORMAT,
        "version": contract.BASELINE_VERSION,
        "created_at": moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "record_count": len(frame),
        "features": features,
    }


def _numeric_feature(
    name: str, series: pd.Series[Any], bins: int, sample_size: int, rng: np.random.Generator
) -> dict[str, Any]:
    values = series.to_numpy(dtype=float, na_value=np.nan)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError(f"column {name!r} has no numeric value; exclude it from the baseline")
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    sample = (
        finite if finite.size <= sample_size else rng.choice(finite, sample_size, replace=False)
    )
    return {
        "name": name,
        "type": NUMERIC,
        "count": int(finite.size),
        "missing_rate": 1.0 - finite.size / len(values) if len(values) else 0.0,
        NUMERIC: {
            "bin_edges": [float(edge) for edge in edges],
            "bin_proportions": [float(p) for p in proportions(bin_counts(finite, edges))],
            "quantiles": {repr(q): float(np.quantile(finite, q)) for q in QUANTILES},
            "mean": float(finite.mean()),
            "std": float(finite.std()),
            "min": float(finite.min()),
            "max": float(finite.max()),
            "reference_sample": [float(v) for v in np.sort(sample)],
        },
    }


def _categorical_feature(name: str, series: pd.Series[Any], max_categories: int) -> dict[str, Any]:
    keys = [None if missing else category_key(v) for v, missing in zip(series, series.isna())]
    counts = Counter(key for key in keys if key is not None)
    present = sum(counts.values())
    if present == 0:
        raise ValueError(f"column {name!r} has no value; exclude it from the baseline")
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:max_categories]
    kept = {key: count / present for key, count in top}
    return {
        "name": name,
        "type": CATEGORICAL,
        "count": present,
        "missing_rate": 1.0 - present / len(keys),
        CATEGORICAL: {
            "proportions": kept,
            "other_proportion": max(0.0, 1.0 - sum(kept.values())),
        },
    }


# --- Reading ---------------------------------------------------------------------------------


def parse_baseline(document: object) -> Baseline:
    """Validate a ``statistics.json`` document; ``BaselineError`` names the offending key."""
    doc = _mapping(document, "statistics.json")
    if doc.get("format") != contract.BASELINE_FORMAT:
        raise BaselineError(
            f"format must be {contract.BASELINE_FORMAT!r}; got {doc.get('format')!r}"
        )
    if doc.get("version") != contract.BASELINE_VERSION:
        raise BaselineError(
            f"version must be {contract.BASELINE_VERSION}; got {doc.get('version')!r}"
        )
    raw_features = doc.get("features")
    if not isinstance(raw_features, list) or not raw_features:
        raise BaselineError("features must be a non-empty list")
    features = tuple(_feature(item, f"features[{i}]") for i, item in enumerate(raw_features))
    names = [feature.name for feature in features]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise BaselineError(f"features have duplicate names: {duplicates}")
    return Baseline(
        features=features,
        record_count=_count(doc.get("record_count"), "record_count"),
        created_at=str(doc.get("created_at", "")),
    )


def _feature(item: object, path: str) -> FeatureBaseline:
    raw = _mapping(item, path)
    name = raw.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= _MAX_NAME:
        raise BaselineError(f"{path}.name must be a string of 1 to {_MAX_NAME} characters")
    kind = raw.get("type")
    missing_rate = _share(raw.get("missing_rate"), f"{path}.missing_rate")
    count = _count(raw.get("count"), f"{path}.count")
    if kind == NUMERIC:
        profile = _numeric_profile(_mapping(raw.get(NUMERIC), f"{path}.numeric"), f"{path}.numeric")
        return FeatureBaseline(name, NUMERIC, count, missing_rate, numeric=profile)
    if kind == CATEGORICAL:
        categories = _categorical_profile(
            _mapping(raw.get(CATEGORICAL), f"{path}.categorical"), f"{path}.categorical"
        )
        return FeatureBaseline(name, CATEGORICAL, count, missing_rate, categorical=categories)
    raise BaselineError(f"{path}.type must be {NUMERIC!r} or {CATEGORICAL!r}; got {kind!r}")


def _numeric_profile(raw: Mapping[str, Any], path: str) -> NumericProfile:
    edges = _numbers(raw.get("bin_edges"), f"{path}.bin_edges", allow_empty=True)
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise BaselineError(f"{path}.bin_edges must be strictly ascending")
    shares = _numbers(raw.get("bin_proportions"), f"{path}.bin_proportions")
    if len(shares) != len(edges) + 1:
        raise BaselineError(
            f"{path}.bin_proportions must have len(bin_edges) + 1 = {len(edges) + 1} values; "
            f"got {len(shares)}"
        )
    _check_distribution(shares, 0.0, f"{path}.bin_proportions")
    sample = _numbers(raw.get("reference_sample"), f"{path}.reference_sample")
    quantiles = _mapping(raw.get("quantiles", {}), f"{path}.quantiles")
    return NumericProfile(
        bin_edges=tuple(edges),
        bin_proportions=tuple(shares),
        reference_sample=tuple(sorted(sample)),
        quantiles={str(k): _number(v, f"{path}.quantiles.{k}") for k, v in quantiles.items()},
        mean=_number(raw.get("mean", 0.0), f"{path}.mean"),
        std=_number(raw.get("std", 0.0), f"{path}.std"),
        minimum=_number(raw.get("min", min(sample)), f"{path}.min"),
        maximum=_number(raw.get("max", max(sample)), f"{path}.max"),
    )


def _categorical_profile(raw: Mapping[str, Any], path: str) -> CategoricalProfile:
    shares = _mapping(raw.get("proportions"), f"{path}.proportions")
    if not shares:
        raise BaselineError(f"{path}.proportions must name at least one category")
    parsed = {str(k): _share(v, f"{path}.proportions[{k!r}]") for k, v in shares.items()}
    other = _share(raw.get("other_proportion", 0.0), f"{path}.other_proportion")
    _check_distribution(list(parsed.values()), other, f"{path}.proportions")
    return CategoricalProfile(proportions=parsed, other_proportion=other)


def _mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise BaselineError(f"{path} must be a JSON object")
    return value


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BaselineError(f"{path} must be a finite number; got {value!r}")
    return float(value)


def _numbers(value: object, path: str, *, allow_empty: bool = False) -> list[float]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise BaselineError(
            f"{path} must be a {'' if allow_empty else 'non-empty '}list of numbers"
        )
    return [_number(v, f"{path}[{i}]") for i, v in enumerate(value)]


def _share(value: object, path: str) -> float:
    number = _number(value, path)
    if not 0.0 <= number <= 1.0:
        raise BaselineError(f"{path} must be from 0 to 1; got {number!r}")
    return number


def _count(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BaselineError(f"{path} must be a non-negative integer; got {value!r}")
    return value


def _check_distribution(shares: Sequence[float], other: float, path: str) -> None:
    if any(not 0.0 <= s <= 1.0 for s in shares) or abs(sum(shares) + other - 1.0) > _TOLERANCE:
        raise BaselineError(f"{path} must be shares from 0 to 1 that sum to 1")


# --- Command line: build statistics.json from CSV files in a processing job ------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python monitor_baseline.py --input train.csv --output /opt/ml/processing/output``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--input", required=True, action="append", help="CSV file or folder")
    parser.add_argument("--output", required=True, help="file, or folder for statistics.json")
    parser.add_argument("--columns", help="comma-separated names for headerless CSV files")
    parser.add_argument("--exclude", action="append", default=[], help="a non-input column")
    parser.add_argument("--categorical", action="append", default=[], help="numeric codes")
    parser.add_argument("--bins", type=int, default=10)
    parser.add_argument("--sample-size", type=int, default=2000)
    parser.add_argument("--max-categories", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    names = [c.strip() for c in args.columns.split(",")] if args.columns else None
    try:
        frame = _read_csv_files([Path(p) for p in args.input], names)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        print(json.dumps({"event": "unreadable_input", "error": str(error)}), file=sys.stderr)
        return contract.EXIT_UNREADABLE_INPUT
    try:
        document = build_baseline(
            frame,
            exclude=args.exclude,
            categorical=args.categorical,
            bins=args.bins,
            sample_size=args.sample_size,
            max_categories=args.max_categories,
            seed=args.seed,
        )
    except ValueError as error:
        print(json.dumps({"event": "invalid_baseline", "error": str(error)}), file=sys.stderr)
        return contract.EXIT_USAGE
    target = Path(args.output)
    if target.suffix != ".json":
        target = target / contract.BASELINE_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, allow_nan=False), encoding="utf-8")
    print(
        json.dumps(
            {
                "event": "baseline_written",
                "path": str(target),
                "features": len(document["features"]),
            }
        )
    )
    return contract.EXIT_OK


def _read_csv_files(paths: Sequence[Path], names: list[str] | None) -> pd.DataFrame:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.csv")) if path.is_dir() else [path])
    if not files:
        raise ValueError(f"no CSV file under {[str(p) for p in paths]}")
    if names:
        frames = [pd.read_csv(f, header=None, names=names) for f in files]
    else:
        frames = [pd.read_csv(f) for f in files]
    return pd.concat(frames, ignore_index=True)


if __name__ == "__main__":
    sys.exit(main())

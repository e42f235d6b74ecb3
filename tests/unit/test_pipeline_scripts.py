"""The reference pipeline's scripts, run locally on a small generated churn CSV."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]

from sagemaker_lifecycle.monitoring.scripts.monitor_baseline import parse_baseline
from tests.support import REPO_ROOT

SCRIPTS = REPO_ROOT / "stacks" / "pipeline_scripts"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"pipeline_script_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


preprocess = _load("preprocess")
baseline = _load("baseline")
evaluate = _load("evaluate")


def _churn_csv(path: Path, rows: int = 600, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, rows).astype(float)
    charges = rng.normal(70, 20, rows).round(2)
    calls = rng.poisson(2, rows)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], rows, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south"], rows)
    risk = 1.5 * (contract == "month-to-month") + 0.4 * calls - 0.04 * tenure
    churn = (risk + rng.normal(0, 0.7, rows) > 0.6).astype(int)
    frame = pd.DataFrame(
        {
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "contract": contract,
            "region": region,
            "churn": churn,
        }
    )
    frame.loc[rng.choice(rows, 20, replace=False), "monthly_charges"] = np.nan
    frame.loc[rng.choice(rows, 10, replace=False), "region"] = None
    path.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path / "churn.csv", index=False)
    return frame


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("pipeline")
    source = _churn_csv(root / "input")
    counts = preprocess.main(
        [
            "--input-dir", str(root / "input"),
            "--output-dir", str(root / "out"),
            "--categorical", "contract,region",
        ]
    )  # fmt: skip
    statistics = baseline.main(
        ["--input-dir", str(root / "out" / "baseline"), "--output-dir", str(root / "stats")]
    )
    train = pd.read_csv(root / "out" / "train" / "train.csv", header=None)
    model = HistGradientBoostingClassifier(random_state=0).fit(train.iloc[:, 1:], train.iloc[:, 0])
    report = evaluate.main(
        ["--test-dir", str(root / "out" / "test"), "--output-dir", str(root / "evaluation")],
        predictor=lambda features: model.predict_proba(features)[:, 1],
    )
    return {
        "root": root,
        "source": source,
        "counts": counts,
        "statistics": statistics,
        "report": report,
    }


def test_preprocess_splits_every_row_once(run: dict[str, Any]) -> None:
    counts = run["counts"]
    assert sum(counts.values()) == len(run["source"])
    assert counts["train"] == pytest.approx(0.7 * len(run["source"]), abs=2)


def test_preprocess_writes_label_first_numeric_csv_without_header(run: dict[str, Any]) -> None:
    train = pd.read_csv(run["root"] / "out" / "train" / "train.csv", header=None)
    assert set(train.iloc[:, 0].unique()) == {0, 1}
    assert train.shape[1] == 6  # label + five features
    assert all(pd.api.types.is_numeric_dtype(train[c]) for c in train.columns)


def test_categories_become_codes_learned_on_training_data(run: dict[str, Any]) -> None:
    schema = json.loads((run["root"] / "out" / "baseline" / "schema.json").read_text())
    contract = next(f for f in schema["features"] if f["name"] == "contract")
    assert contract == {
        "name": "contract",
        "type": "categorical",
        "categories": ["month-to-month", "one-year", "two-year"],
    }
    features = pd.read_csv(run["root"] / "out" / "baseline" / "train_features.csv")
    assert set(features["contract"].dropna().unique()) <= {0.0, 1.0, 2.0}
    assert features["region"].isna().sum() > 0  # missing stays missing


def test_statistics_describe_every_feature_in_model_input_order(run: dict[str, Any]) -> None:
    statistics = run["statistics"]
    stored = json.loads((run["root"] / "stats" / "statistics.json").read_text())
    assert stored == statistics
    assert statistics["format"] == "sagemaker-lifecycle/monitoring-baseline"
    assert statistics["version"] == 1
    assert statistics["record_count"] == run["counts"]["train"]
    assert [f["name"] for f in statistics["features"]] == [
        "tenure_months",
        "monthly_charges",
        "support_calls",
        "contract",
        "region",
    ]


def test_the_drift_monitor_parses_the_statistics(run: dict[str, Any]) -> None:
    baseline = parse_baseline(run["statistics"])
    assert [f.name for f in baseline.features][:2] == ["tenure_months", "monthly_charges"]


def test_numeric_statistics_have_bins_quantiles_and_a_sample(run: dict[str, Any]) -> None:
    charges = next(f for f in run["statistics"]["features"] if f["name"] == "monthly_charges")
    assert charges["type"] == "numeric"
    numeric = charges["numeric"]
    assert len(numeric["bin_edges"]) == 9  # interior decile cut points
    assert len(numeric["bin_proportions"]) == 10
    assert sum(numeric["bin_proportions"]) == pytest.approx(1.0)
    assert numeric["bin_edges"] == sorted(numeric["bin_edges"])
    assert 0 < charges["missing_rate"] < 0.1
    assert set(numeric["quantiles"]) == {"0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99"}
    assert charges["count"] == len(numeric["reference_sample"])


def test_categorical_statistics_have_code_proportions(run: dict[str, Any]) -> None:
    contract = next(f for f in run["statistics"]["features"] if f["name"] == "contract")
    proportions = contract["categorical"]["proportions"]
    assert set(proportions) == {"0", "1", "2"}
    assert sum(proportions.values()) == pytest.approx(1.0)
    region = next(f for f in run["statistics"]["features"] if f["name"] == "region")
    assert region["missing_rate"] > 0


def test_evaluation_report_is_in_sagemaker_model_quality_format(run: dict[str, Any]) -> None:
    stored = json.loads((run["root"] / "evaluation" / "evaluation.json").read_text())
    metrics = stored["binary_classification_metrics"]
    assert metrics["auc"]["value"] > 0.7  # the generated data carries a real signal
    for name in ("accuracy", "precision", "recall", "f1"):
        assert 0 <= metrics[name]["value"] <= 1
    matrix = metrics["confusion_matrix"]
    assert sum(matrix[a][p] for a in "01" for p in "01") == run["counts"]["test"]


def test_a_one_class_test_set_reports_no_auc(tmp_path: Path) -> None:
    test_dir = tmp_path / "test"
    test_dir.mkdir()
    pd.DataFrame([[0, 1.0], [0, 2.0]]).to_csv(test_dir / "test.csv", header=False, index=False)
    evaluate.main(
        ["--test-dir", str(test_dir), "--output-dir", str(tmp_path / "out")],
        predictor=lambda features: np.full(len(features), 0.2),
    )
    stored = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert stored["binary_classification_metrics"]["auc"]["value"] is None


def test_preprocess_rejects_a_missing_target(tmp_path: Path) -> None:
    (tmp_path / "input").mkdir()
    pd.DataFrame({"a": [1, 2]}).to_csv(tmp_path / "input" / "x.csv", index=False)
    with pytest.raises(ValueError, match="target column 'churn'"):
        preprocess.main(["--input-dir", str(tmp_path / "input"), "--output-dir", str(tmp_path)])


def test_preprocess_rejects_labels_other_than_zero_and_one(tmp_path: Path) -> None:
    (tmp_path / "input").mkdir()
    pd.DataFrame({"a": [1, 2, 3], "churn": [0, 1, 2]}).to_csv(
        tmp_path / "input" / "x.csv", index=False
    )
    with pytest.raises(ValueError, match="0/1 labels"):
        preprocess.main(["--input-dir", str(tmp_path / "input"), "--output-dir", str(tmp_path)])

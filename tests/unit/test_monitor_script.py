"""The built-in monitor script on generated capture files in local folders.

No drift raises no violation, shifted distributions flag exactly the shifted features,
malformed lines are counted and skipped, an empty window is "no data"; the baseline format,
the capture formats, the command-line contract and the exit codes. S3 and CloudWatch I/O are
in test_monitor_io.py.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import json
import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from aws_cdk import Aws
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk  # type: ignore[import-untyped]

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle.monitoring import (
    MONITOR_ENTRY_POINT,
    MONITOR_SCRIPT_DIR,
    MONITOR_SCRIPT_EXCLUDES,
    monitor_arguments,
)
from sagemaker_lifecycle.monitoring.scripts import monitor
from sagemaker_lifecycle.monitoring.scripts import monitor_baseline as baseline_module
from sagemaker_lifecycle.monitoring.scripts import monitor_capture as capture
from sagemaker_lifecycle.monitoring.scripts import monitor_contract as contract
from sagemaker_lifecycle.monitoring.scripts.monitor_checks import DataQuality, Thresholds
from sagemaker_lifecycle.monitoring.scripts.monitor_io import Storage

FEATURES = ["age", "income", "tenure", "country", "plan"]
COUNTRIES = ["DE", "FR", "IT", "ES"]
WINDOW_END = "2024-05-01T13:00:00Z"
HOUR = "2024/05/01/12"  # the window [12:00, 13:00)
ENDPOINT = "churn"


# --- Generated data ---------------------------------------------------------------------------


def draw(seed: int, n: int, *, age_mean: float = 40.0, premium: float = 0.3) -> pd.DataFrame:
    """Customers: two continuous features, a discrete one and two categorical ones."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(age_mean, 10, n).round(1),
            "income": rng.lognormal(10, 0.5, n).round(2),
            "tenure": rng.integers(0, 61, n),
            "country": rng.choice(COUNTRIES, n, p=[0.4, 0.3, 0.2, 0.1]),
            "plan": rng.choice(["basic", "premium"], n, p=[1 - premium, premium]),
            "churned": rng.integers(0, 2, n),
        }
    )


def rows_of(frame: pd.DataFrame) -> list[list[Any]]:
    return frame[FEATURES].to_numpy(dtype=object).tolist()


def capture_line(
    rows: list[list[Any]],
    *,
    event_id: str,
    inference_id: str | None = None,
    outputs: list[Any] | None = None,
) -> str:
    """A data-capture line as SageMaker writes it for a CSV request and CSV response."""
    record: dict[str, Any] = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": "\n".join(",".join(str(v) for v in row) for row in rows) + "\n",
                "encoding": "CSV",
            }
        },
        "eventMetadata": {"eventId": event_id, "inferenceTime": "2024-05-01T12:30:00Z"},
        "eventVersion": "0",
    }
    if outputs is not None:
        record["captureData"]["endpointOutput"] = {
            "observedContentType": "text/csv; charset=utf-8",
            "mode": "OUTPUT",
            "data": "\n".join(str(v) for v in outputs),
            "encoding": "CSV",
        }
    if inference_id is not None:
        record["eventMetadata"]["inferenceId"] = inference_id
    return json.dumps(record)


def ground_truth_line(key: str, labels: list[Any]) -> str:
    data = "\n".join(str(v) for v in labels)
    return json.dumps(
        {
            "groundTruthData": {"data": data, "encoding": "CSV"},
            "eventMetadata": {"eventId": key},
            "eventVersion": "0",
        }
    )


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def window_lines(frame: pd.DataFrame, *, seed: int = 0, prefix: str = "e") -> list[str]:
    scores = np.random.default_rng(seed).random(len(frame)).round(4)
    return [
        capture_line([row], event_id=f"{prefix}{i}", outputs=[scores[i]])
        for i, row in enumerate(rows_of(frame))
    ]


@pytest.fixture(scope="module")
def baseline_document() -> dict[str, Any]:
    created = datetime(2024, 4, 1, tzinfo=UTC)
    return baseline_module.build_baseline(draw(0, 5000), exclude=["churned"], created_at=created)


@pytest.fixture(scope="module")
def baseline_path(
    tmp_path_factory: pytest.TempPathFactory, baseline_document: dict[str, Any]
) -> Path:
    path = tmp_path_factory.mktemp("baseline") / "statistics.json"
    path.write_text(json.dumps(baseline_document), encoding="utf-8")
    return path


def base_args(tmp_path: Path, baseline_path: Path | None) -> list[str]:
    args = [
        "--endpoint-name",
        ENDPOINT,
        "--monitor-name",
        "hourly",
        "--capture-uri",
        str(tmp_path / "capture"),
        "--output-uri",
        str(tmp_path / "out"),
        "--window-end",
        WINDOW_END,
        "--no-publish-metrics",
    ]
    if baseline_path is not None:
        args += ["--baseline-uri", str(baseline_path)]
    return args


def run(
    tmp_path: Path, baseline_path: Path | None, *extra: str
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    (tmp_path / "capture" / ENDPOINT).mkdir(parents=True, exist_ok=True)
    code = monitor.main([*base_args(tmp_path, baseline_path), *extra])
    out = tmp_path / "out" / HOUR
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    found = (out / "violations.json").exists()
    violations = json.loads((out / "violations.json").read_text()) if found else {}
    return code, report, violations


def capture_file(tmp_path: Path, hour: str = HOUR, variant: str = "AllTraffic") -> Path:
    return tmp_path / "capture" / ENDPOINT / variant / hour / "capture-0001.jsonl"


def checks(violations: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(v["constraint_check_type"], v["feature_name"]) for v in violations["violations"]}


# --- Data quality, end to end -----------------------------------------------------------------


def test_no_drift_raises_no_violation(tmp_path: Path, baseline_path: Path) -> None:
    write_lines(capture_file(tmp_path), window_lines(draw(1, 1000)))
    code, report, violations = run(tmp_path, baseline_path)
    assert code == contract.EXIT_OK
    assert report["status"] == "ok"
    assert violations["violations"] == []
    assert report["capture"]["records"] == 1000
    assert [f["drift"] for f in report["data_quality"]["features"]] == [False] * 5


def test_shifted_distributions_flag_exactly_the_shifted_features(
    tmp_path: Path, baseline_path: Path
) -> None:
    write_lines(capture_file(tmp_path), window_lines(draw(2, 1000, age_mean=48.0, premium=0.6)))
    code, report, violations = run(tmp_path, baseline_path)
    assert code == contract.EXIT_OK  # drift is a result, not a failure
    assert report["status"] == "violations"
    assert checks(violations) == {("baseline_drift_check", "age"), ("baseline_drift_check", "plan")}
    drifted = {f["name"] for f in report["data_quality"]["features"] if f["drift"]}
    assert drifted == {"age", "plan"}
    assert report["data_quality"]["features_drifted"] == 2


def test_drifted_feature_figures_are_the_statistics_of_its_values(
    tmp_path: Path, baseline_path: Path, baseline_document: dict[str, Any]
) -> None:
    frame = draw(3, 800, age_mean=45.0)
    write_lines(capture_file(tmp_path), window_lines(frame))
    _, report, _ = run(tmp_path, baseline_path)
    age = next(f for f in report["data_quality"]["features"] if f["name"] == "age")
    from scipy import stats  # type: ignore[import-untyped]

    reference = baseline_document["features"][0]["numeric"]["reference_sample"]
    expected = stats.ks_2samp(reference, frame["age"].to_numpy(), method="asymp")
    assert math.isclose(age["ks_statistic"], expected.statistic, abs_tol=1e-9)
    assert math.isclose(age["ks_p_value"], expected.pvalue, abs_tol=1e-9)


def test_malformed_lines_are_counted_by_reason_and_skipped(
    tmp_path: Path, baseline_path: Path
) -> None:
    good = window_lines(draw(4, 200))
    bad = [
        "not json at all",
        "[1, 2, 3]",
        json.dumps({"captureData": {}}),
        json.dumps(
            {
                "captureData": {"endpointInput": {"data": "!!", "encoding": "BASE64"}},
                "eventMetadata": {"eventId": "x"},
            }
        ),
        capture_line([[1, 2, 3, "DE", "basic"]], event_id="y", outputs=[0.1, 0.2]),
    ]
    path = capture_file(tmp_path)
    write_lines(path, good[:100] + bad + good[100:])
    with path.open("ab") as handle:
        handle.write(b"\xff\xfe not utf-8\n")
    code, report, _ = run(tmp_path, baseline_path)
    assert code == contract.EXIT_OK
    assert report["capture"]["records"] == 200
    assert report["capture"]["malformed"] == 6
    assert report["capture"]["malformed_reasons"] == {
        "invalid_base64": 1,
        "invalid_json": 1,
        "not_a_capture_record": 2,
        "not_utf8": 1,
        "prediction_count_mismatch": 1,
    }


def test_empty_window_is_no_data_and_not_an_error(tmp_path: Path, baseline_path: Path) -> None:
    # Traffic an hour before the window, none inside it.
    write_lines(capture_file(tmp_path, "2024/05/01/11"), window_lines(draw(5, 50)))
    code, report, violations = run(tmp_path, baseline_path)
    assert code == contract.EXIT_OK
    assert report["status"] == "no_data"
    assert report["capture"]["records"] == 0
    assert violations["violations"] == []


def test_empty_window_publishes_a_no_data_metric(baseline_path: Path) -> None:
    config = monitor.resolve(
        monitor.parse_arguments(base_args(Path("/nowhere"), baseline_path)),
        {},
        datetime.now(UTC),
    )
    baseline = monitor.read_baseline(str(baseline_path), Storage(lambda: None))
    evaluation = monitor.evaluate(config, baseline, [], None)
    data = {d.name: d.value for d in monitor.metric_data(config, evaluation, malformed=3)}
    assert data == {
        "NoData": 1.0,
        "RecordsAnalyzed": 0.0,
        "MalformedRecords": 3.0,
        "Violations": 0.0,
    }


def test_window_reads_only_its_hours(tmp_path: Path, baseline_path: Path) -> None:
    write_lines(capture_file(tmp_path, "2024/05/01/10"), window_lines(draw(6, 30), prefix="a"))
    write_lines(capture_file(tmp_path, "2024/05/01/11"), window_lines(draw(7, 40), prefix="b"))
    write_lines(capture_file(tmp_path, "2024/05/01/12"), window_lines(draw(8, 50), prefix="c"))
    write_lines(capture_file(tmp_path, "2024/05/01/13"), window_lines(draw(9, 60), prefix="d"))
    code = monitor.main([*base_args(tmp_path, baseline_path), "--window-hours", "2"])
    assert code == contract.EXIT_OK
    report = json.loads((tmp_path / "out/2024/05/01/11/report.json").read_text())
    assert report["window"] == {
        "start": "2024-05-01T11:00:00Z",
        "end": "2024-05-01T13:00:00Z",
        "ground_truth_end": "2024-05-01T13:00:00Z",
    }
    assert report["capture"]["records"] == 90


def test_only_the_chosen_variants_are_read(tmp_path: Path, baseline_path: Path) -> None:
    write_lines(capture_file(tmp_path, variant="Blue"), window_lines(draw(10, 30)))
    write_lines(capture_file(tmp_path, variant="Green"), window_lines(draw(11, 20)))
    _, every, _ = run(tmp_path, baseline_path)
    assert every["capture"]["variants"] == ["Blue", "Green"]
    assert every["capture"]["records"] == 50
    _, green, _ = run(tmp_path, baseline_path, "--variant", "Green")
    assert green["capture"]["records"] == 20


def test_schema_violations_name_what_changed(tmp_path: Path, baseline_path: Path) -> None:
    frame = draw(12, 100)
    lines = window_lines(frame)
    lines.append(capture_line([[41.0, 100.0, 3, "DE", "basic", "extra"]], event_id="wide"))
    lines.append(capture_line([[41.0, 100.0, 3, "DE"]], event_id="narrow"))
    lines.append(capture_line([["forty", 100.0, 3, "DE", "basic"]], event_id="text"))
    named = {"age": 30.0, "income": 5.0, "tenure": 1, "country": "FR", "plan": "basic", "vip": 1}
    lines.append(
        json.dumps(
            {
                "captureData": {
                    "endpointInput": {
                        "observedContentType": "application/json",
                        "mode": "INPUT",
                        "data": json.dumps(named),
                        "encoding": "JSON",
                    }
                },
                "eventMetadata": {"eventId": "json"},
                "eventVersion": "0",
            }
        )
    )
    write_lines(capture_file(tmp_path), lines)
    _, report, violations = run(tmp_path, baseline_path)
    assert checks(violations) == {
        ("extra_column_check", None),
        ("missing_column_check", None),
        ("extra_column_check", "vip"),
        ("data_type_check", "age"),
    }
    assert report["data_quality"]["rows"] == 102  # 100 + the mistyped row + the JSON row
    assert report["data_quality"]["unknown_columns"] == {"vip": 1}


def test_missing_values_beyond_the_tolerance_violate_completeness(
    tmp_path: Path, baseline_path: Path
) -> None:
    frame = draw(13, 400).astype(object)
    frame.loc[:59, "income"] = ""  # 15% missing, baseline 0%, tolerance 5%
    write_lines(capture_file(tmp_path), window_lines(frame))
    _, report, violations = run(tmp_path, baseline_path)
    assert checks(violations) == {("completeness_check", "income")}
    income = next(f for f in report["data_quality"]["features"] if f["name"] == "income")
    assert income["missing_rate"] == pytest.approx(0.15)


def test_too_few_rows_report_statistics_but_raise_no_drift(
    tmp_path: Path, baseline_path: Path
) -> None:
    write_lines(capture_file(tmp_path), window_lines(draw(14, 10, age_mean=70.0)))
    _, report, violations = run(tmp_path, baseline_path)
    assert violations["violations"] == []
    age = next(f for f in report["data_quality"]["features"] if f["name"] == "age")
    assert age["psi"] > 1.0
    assert age["drift"] is False
    _, _, strict = run(tmp_path, baseline_path, "--min-records", "5")
    assert ("baseline_drift_check", "age") in checks(strict)


def test_outputs_land_in_the_window_start_partition(tmp_path: Path, baseline_path: Path) -> None:
    write_lines(capture_file(tmp_path), window_lines(draw(15, 40)))
    run(tmp_path, baseline_path)
    written = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")
    )
    assert written[-2:] == [f"{HOUR}/report.json", f"{HOUR}/violations.json"]
    report = json.loads((tmp_path / "out" / HOUR / "report.json").read_text())
    assert report["format"] == contract.REPORT_FORMAT
    assert report["baseline"]["created_at"] == "2024-04-01T00:00:00Z"


# --- Model quality ------------------------------------------------------------------------------


def _quality_scenario(tmp_path: Path) -> tuple[list[bool], list[float]]:
    """200 requests: ids for 190 of them arrive in later hours; 10 never do; 5 mismatch."""
    rng = np.random.default_rng(20)
    frame = draw(20, 200)
    truth = rng.random(200) < 0.4
    scores = np.clip(0.3 * truth + rng.normal(0.35, 0.2, 200), 0, 1).round(3)
    lines, truth_lines = [], []
    for i, row in enumerate(rows_of(frame)):
        inference_id = f"inf-{i}" if i % 2 else None  # half joined by eventId
        lines.append(
            capture_line([row], event_id=f"evt-{i}", inference_id=inference_id, outputs=[scores[i]])
        )
        key = inference_id or f"evt-{i}"
        if i < 185:
            truth_lines.append(ground_truth_line(key, [int(truth[i])]))
        elif i < 190:
            truth_lines.append(ground_truth_line(key, [1, 0]))  # two labels for one row
    write_lines(capture_file(tmp_path), lines)
    gt = tmp_path / "ground-truth"
    write_lines(gt / "2024/05/01/12/labels.jsonl", truth_lines[:100])
    write_lines(gt / "2024/05/01/14/labels.jsonl", truth_lines[100:])  # uploaded later
    return truth[:185].tolist(), scores[:185].tolist()


def test_model_quality_joins_ground_truth_by_inference_id(
    tmp_path: Path, baseline_path: Path
) -> None:
    truth, scores = _quality_scenario(tmp_path)
    code, report, _ = run(
        tmp_path,
        baseline_path,
        "--ground-truth-uri",
        str(tmp_path / "ground-truth"),
        "--problem-type",
        "binary_classification",
        "--ground-truth-delay-hours",
        "2",
    )
    assert code == contract.EXIT_OK
    quality = report["model_quality"]
    assert quality["requests_with_predictions"] == 200
    assert quality["requests_without_ground_truth"] == 10
    assert quality["requests_with_label_count_mismatch"] == 5
    assert quality["matched"] == 185
    predicted = [s >= 0.5 for s in scores]
    expected = {
        "accuracy": sk.accuracy_score(truth, predicted),
        "precision": sk.precision_score(truth, predicted),
        "recall": sk.recall_score(truth, predicted),
        "f1": sk.f1_score(truth, predicted),
        "auc": sk.roc_auc_score(truth, scores),
    }
    for key, value in expected.items():
        assert math.isclose(quality["metrics"][key], value, abs_tol=1e-9), key


def test_ground_truth_after_the_delay_is_not_read(tmp_path: Path, baseline_path: Path) -> None:
    _quality_scenario(tmp_path)
    _, report, _ = run(
        tmp_path,
        baseline_path,
        "--ground-truth-uri",
        str(tmp_path / "ground-truth"),
        "--problem-type",
        "binary_classification",
    )
    assert report["model_quality"]["matched"] == 100  # only the 12:00 upload
    assert report["ground_truth"]["objects"] == 1


def test_quality_below_a_minimum_is_a_violation(tmp_path: Path, baseline_path: Path) -> None:
    _quality_scenario(tmp_path)
    _, _, violations = run(
        tmp_path,
        baseline_path,
        "--ground-truth-uri",
        str(tmp_path / "ground-truth"),
        "--problem-type",
        "binary_classification",
        "--ground-truth-delay-hours",
        "2",
        "--min-auc",
        "0.99",
        "--min-accuracy",
        "0.1",
    )
    assert [(v["constraint_check_type"], v["metric_name"]) for v in violations["violations"]] == [
        ("model_quality_check", "AUC")
    ]


def test_regression_quality_equals_scikit_learn(tmp_path: Path) -> None:
    rng = np.random.default_rng(30)
    truth = rng.normal(100, 20, 120).round(2)
    predicted = (truth + rng.normal(2, 8, 120)).round(2)
    lines = [capture_line([[1.0]], event_id=f"r{i}", outputs=[predicted[i]]) for i in range(120)]
    write_lines(capture_file(tmp_path), lines)
    write_lines(
        tmp_path / "gt" / HOUR / "labels.jsonl",
        [ground_truth_line(f"r{i}", [truth[i]]) for i in range(120)],
    )
    code, report, violations = run(
        tmp_path,
        None,
        "--ground-truth-uri",
        str(tmp_path / "gt"),
        "--problem-type",
        "regression",
        "--max-rmse",
        "5",
    )
    assert code == contract.EXIT_OK
    figures = report["model_quality"]["metrics"]
    assert math.isclose(figures["mae"], sk.mean_absolute_error(truth, predicted), rel_tol=1e-9)
    rmse = math.sqrt(sk.mean_squared_error(truth, predicted))
    assert math.isclose(figures["rmse"], rmse, rel_tol=1e-9)
    assert math.isclose(figures["r2"], sk.r2_score(truth, predicted), rel_tol=1e-9)
    assert report["data_quality"] is None  # no baseline given: no data-quality check
    assert [v["metric_name"] for v in violations["violations"]] == ["RMSE"]


def test_multiclass_labels_from_json_predictions(tmp_path: Path) -> None:
    rng = np.random.default_rng(31)
    labels = np.array(["gold", "silver", "bronze"])
    truth = rng.choice(labels, 90)
    predicted = np.where(rng.random(90) < 0.8, truth, rng.choice(labels, 90))
    lines = []
    for i in range(90):
        record = json.loads(capture_line([[1.0]], event_id=f"m{i}"))
        output = {"predictions": [{"predicted_label": str(predicted[i]), "score": 0.9}]}
        record["captureData"]["endpointOutput"] = {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": base64.b64encode(json.dumps(output).encode()).decode(),
            "encoding": "BASE64",
        }
        lines.append(json.dumps(record))
    write_lines(capture_file(tmp_path), lines)
    write_lines(
        tmp_path / "gt" / HOUR / "labels.jsonl",
        [ground_truth_line(f"m{i}", [truth[i]]) for i in range(90)],
    )
    _, report, _ = run(
        tmp_path,
        None,
        "--ground-truth-uri",
        str(tmp_path / "gt"),
        "--problem-type",
        "multiclass_classification",
    )
    figures = report["model_quality"]["metrics"]
    assert math.isclose(figures["accuracy"], sk.accuracy_score(truth, predicted), abs_tol=1e-9)
    macro_f1 = sk.f1_score(truth, predicted, average="macro")
    assert math.isclose(figures["f1"], macro_f1, abs_tol=1e-9)


# --- Bias ---------------------------------------------------------------------------------------


def test_bias_per_facet_follows_clarifys_definitions(tmp_path: Path, baseline_path: Path) -> None:
    frame = draw(40, 600)
    scores = np.random.default_rng(41).random(600).round(4)
    scores[(frame["country"] == "IT").to_numpy()] *= 0.6  # the model favours group a
    lines = [
        capture_line([row], event_id=f"b{i}", outputs=[scores[i]])
        for i, row in enumerate(rows_of(frame))
    ]
    write_lines(capture_file(tmp_path), lines)
    _, report, violations = run(
        tmp_path,
        baseline_path,
        "--problem-type",
        "binary_classification",
        "--facet",
        "country=IT",
        "--facet",
        "age>50",
    )
    italy, older = report["bias"]
    in_d = (frame["country"] == "IT").to_numpy()
    positive = scores >= 0.5
    assert (italy["members_a"], italy["members_d"]) == (int((~in_d).sum()), int(in_d.sum()))
    n_a, n_d = (~in_d).sum(), in_d.sum()
    assert italy["class_imbalance"] == pytest.approx((n_a - n_d) / (n_a + n_d), abs=1e-12)
    expected_dppl = positive[~in_d].mean() - positive[in_d].mean()
    assert italy["dppl"] == pytest.approx(expected_dppl, abs=1e-12)
    assert older["members_d"] == int((frame["age"] > 50).sum())
    assert ("bias_drift_check", "country") in checks(violations)
    assert ("bias_drift_check", "age") not in checks(violations)


# --- Capture formats -------------------------------------------------------------------------


def _record(input_section: dict[str, Any], output_section: dict[str, Any] | None = None) -> str:
    capture_data = {"endpointInput": {"mode": "INPUT", **input_section}}
    if output_section is not None:
        capture_data["endpointOutput"] = {"mode": "OUTPUT", **output_section}
    return json.dumps(
        {"captureData": capture_data, "eventMetadata": {"eventId": "e"}, "eventVersion": "0"}
    )


def _csv(data: str) -> dict[str, Any]:
    return {"observedContentType": "text/csv", "data": data, "encoding": "CSV"}


def _json(value: Any, content_type: str = "application/json") -> dict[str, Any]:
    return {"observedContentType": content_type, "data": json.dumps(value), "encoding": "JSON"}


@pytest.mark.parametrize(
    ("section", "rows"),
    [
        pytest.param(_csv("1,a\n"), [["1", "a"]], id="csv"),
        pytest.param(_csv("1,a\n2,b\n"), [["1", "a"], ["2", "b"]], id="csv-rows"),
        pytest.param(_csv('1,"x, y"'), [["1", "x, y"]], id="csv-quoted"),
        pytest.param(
            {
                "observedContentType": "text/csv",
                "encoding": "BASE64",
                "data": base64.b64encode(b"3,c").decode(),
            },
            [["3", "c"]],
            id="base64-csv",
        ),
        pytest.param(
            _json({"instances": [[1, "a"], [2, "b"]]}), [[1, "a"], [2, "b"]], id="instances"
        ),
        pytest.param(_json({"instances": [{"features": [1, "a"]}]}), [[1, "a"]], id="features"),
        pytest.param(_json({"age": 1, "plan": "a"}), [{"age": 1, "plan": "a"}], id="named"),
        pytest.param(_json([{"age": 1}, {"age": 2}]), [{"age": 1}, {"age": 2}], id="named-rows"),
        pytest.param(_json([1, "a"]), [[1, "a"]], id="list"),
        pytest.param(
            {
                "observedContentType": "application/jsonlines",
                "encoding": "JSON",
                "data": '{"age": 1}\n[2, "b"]\n',
            },
            [{"age": 1}, [2, "b"]],
            id="jsonlines",
        ),
    ],
)
def test_request_formats_become_rows(section: dict[str, Any], rows: list[Any]) -> None:
    assert list(capture.parse_capture_line(_record(section)).inputs) == rows


@pytest.mark.parametrize(
    ("section", "predictions"),
    [
        pytest.param(_csv("0.9\n0.1"), ["0.9", "0.1"], id="csv"),
        pytest.param(_csv("1,0.9\n0,0.2"), [["1", "0.9"], ["0", "0.2"]], id="csv-columns"),
        pytest.param(
            _json({"predictions": [{"score": 0.9}, {"score": 0.1}]}),
            [{"score": 0.9}, {"score": 0.1}],
            id="predictions",
        ),
        pytest.param(_json([0.9, 0.1]), [0.9, 0.1], id="list"),
    ],
)
def test_response_formats_become_one_prediction_per_row(
    section: dict[str, Any], predictions: list[Any]
) -> None:
    record = capture.parse_capture_line(_record(_csv("1\n2"), section))
    assert list(record.outputs or ()) == predictions


def test_join_key_is_the_inference_id_or_else_the_event_id() -> None:
    with_id = json.loads(capture_line([[1]], event_id="evt", inference_id="inf"))
    assert capture.parse_capture_line(json.dumps(with_id)).join_key == "inf"
    assert capture.parse_capture_line(capture_line([[1]], event_id="evt")).join_key == "evt"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(b"\xff", "not_utf8", id="bytes"),
        pytest.param("{", "invalid_json", id="json"),
        pytest.param("42", "not_a_capture_record", id="scalar"),
        pytest.param(
            json.dumps({"captureData": {"endpointInput": _csv("1")}}),
            "not_a_capture_record",
            id="no-metadata",
        ),
        pytest.param(
            json.dumps({"captureData": {"endpointInput": _csv("1")}, "eventMetadata": {}}),
            "missing_event_id",
            id="no-event-id",
        ),
        pytest.param(
            _record({"observedContentType": "text/csv", "data": "1", "encoding": "GZIP"}),
            "unsupported_encoding",
            id="encoding",
        ),
        pytest.param(
            _record({"observedContentType": "image/png", "data": "AAAA", "encoding": "BASE64"}),
            "unsupported_content_type",
            id="content-type",
        ),
        pytest.param(
            _record({"observedContentType": "text/csv", "data": "%%%", "encoding": "BASE64"}),
            "invalid_base64",
            id="base64",
        ),
        pytest.param(_record(_json({"instances": 3})), "invalid_payload", id="instances"),
        pytest.param(
            _record({"observedContentType": "application/json", "data": "{", "encoding": "JSON"}),
            "invalid_payload",
            id="payload",
        ),
        pytest.param(_record(_csv("")), "empty_payload", id="empty"),
        pytest.param(_record(_csv("1\n2"), _csv("0.5")), "prediction_count_mismatch", id="count"),
    ],
)
def test_malformed_lines_have_a_reason(line: str | bytes, reason: str) -> None:
    with pytest.raises(capture.MalformedRecord) as raised:
        capture.parse_capture_line(line)
    assert raised.value.reason == reason


@settings(max_examples=300)
@given(st.one_of(st.text(), st.binary()))
def test_any_line_parses_or_is_malformed_never_crashes(line: str | bytes) -> None:
    with contextlib.suppress(capture.MalformedRecord):
        capture.parse_capture_line(line)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=20,
)


@settings(max_examples=150)
@given(payload=json_values, output=json_values)
def test_any_json_payload_is_analysed_or_skipped_never_crashes(
    baseline_document: dict[str, Any], payload: Any, output: Any
) -> None:
    line = _record(_json(payload), _json(output))
    data_quality = DataQuality(baseline_module.parse_baseline(baseline_document))
    try:
        record = capture.parse_capture_line(line)
    except capture.MalformedRecord:
        return
    for row in record.inputs:
        data_quality.add(row)
    result = data_quality.evaluate(Thresholds(min_records=1))
    json.dumps([f.to_json() for f in result.features], allow_nan=False)


@pytest.mark.parametrize(
    ("data", "labels"),
    [
        pytest.param({"data": "1", "encoding": "CSV"}, ["1"], id="csv"),
        pytest.param({"data": "1\n0", "encoding": "CSV"}, ["1", "0"], id="csv-rows"),
        pytest.param({"data": "[1, 0]", "encoding": "JSON"}, [1, 0], id="json"),
        pytest.param(
            {"data": base64.b64encode(b"yes").decode(), "encoding": "BASE64"}, ["yes"], id="base64"
        ),
    ],
)
def test_ground_truth_formats(data: dict[str, Any], labels: list[Any]) -> None:
    line = json.dumps({"groundTruthData": data, "eventMetadata": {"eventId": "k"}})
    record = capture.parse_ground_truth_line(line)
    assert (record.key, list(record.labels)) == ("k", labels)


def test_malformed_ground_truth_is_rejected() -> None:
    with pytest.raises(capture.MalformedRecord, match="not_a_ground_truth_record"):
        capture.parse_ground_truth_line(json.dumps({"eventMetadata": {"eventId": "k"}}))
    with pytest.raises(capture.MalformedRecord, match="missing_event_id"):
        capture.parse_ground_truth_line(json.dumps({"groundTruthData": {}, "eventMetadata": {}}))


# --- Baseline format --------------------------------------------------------------------------


def test_baseline_describes_every_input_column_in_order(baseline_document: dict[str, Any]) -> None:
    assert baseline_document["format"] == contract.BASELINE_FORMAT
    assert [(f["name"], f["type"]) for f in baseline_document["features"]] == [
        ("age", "numeric"),
        ("income", "numeric"),
        ("tenure", "numeric"),
        ("country", "categorical"),
        ("plan", "categorical"),
    ]  # the excluded label is not an input
    assert baseline_document["record_count"] == 5000


def test_numeric_baseline_holds_deciles_and_a_sorted_reference_sample(
    baseline_document: dict[str, Any],
) -> None:
    age = baseline_document["features"][0]["numeric"]
    values = draw(0, 5000)["age"].to_numpy()
    assert age["bin_edges"] == pytest.approx(np.quantile(values, np.linspace(0, 1, 11)[1:-1]))
    assert len(age["bin_proportions"]) == 10
    assert sum(age["bin_proportions"]) == pytest.approx(1.0)
    assert len(age["reference_sample"]) == 2000
    assert age["reference_sample"] == sorted(age["reference_sample"])
    assert set(age["reference_sample"]) <= set(values.tolist())
    assert age["quantiles"]["0.5"] == pytest.approx(float(np.median(values)))


def test_categorical_baseline_keeps_the_most_frequent_and_lumps_the_rest() -> None:
    frame = pd.DataFrame({"city": ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 5 + [None] * 5})
    document = baseline_module.build_baseline(frame, max_categories=2)
    (city,) = document["features"]
    assert city["categorical"]["proportions"] == {"a": 0.5, "b": 0.3}
    assert city["categorical"]["other_proportion"] == pytest.approx(0.2)
    assert city["missing_rate"] == pytest.approx(5 / 105)
    assert city["count"] == 100


def test_numeric_codes_can_be_declared_categorical() -> None:
    frame = pd.DataFrame({"zip": [10115, 10115, 80331], "x": [1.0, None, 3.0]})
    document = baseline_module.build_baseline(frame, categorical=["zip"])
    zip_code, x = document["features"]
    assert zip_code["categorical"]["proportions"] == {
        "10115": pytest.approx(2 / 3),
        "80331": pytest.approx(1 / 3),
    }
    assert x["missing_rate"] == pytest.approx(1 / 3)


def test_baseline_round_trips_through_json(baseline_document: dict[str, Any]) -> None:
    parsed = baseline_module.parse_baseline(json.loads(json.dumps(baseline_document)))
    assert parsed.names == tuple(FEATURES)
    assert parsed.feature("plan") is not None
    assert parsed.feature("churned") is None


def _broken(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(document))
    target: Any = copy
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return copy


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("format", "sagemaker-model-monitor", "format"),
        ("version", 2, "version"),
        ("features", [], "features must be"),
        ("features.0.name", "", r"features\[0\].name"),
        ("features.1.name", "age", "duplicate"),
        ("features.0.type", "text", r"features\[0\].type"),
        ("features.0.missing_rate", 1.5, "missing_rate"),
        ("features.0.numeric.bin_edges", [2.0, 1.0], "ascending"),
        ("features.0.numeric.bin_proportions", [1.0], "len"),
        ("features.0.numeric.reference_sample", [], "reference_sample"),
        ("features.3.categorical.proportions", {"DE": 0.1}, "sum to 1"),
        ("record_count", -1, "record_count"),
    ],
)
def test_an_invalid_baseline_names_the_key(
    baseline_document: dict[str, Any], path: str, value: Any, message: str
) -> None:
    with pytest.raises(baseline_module.BaselineError, match=message):
        baseline_module.parse_baseline(_broken(baseline_document, path, value))


def test_build_baseline_rejects_unknown_and_empty_columns() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [None, None]})
    with pytest.raises(ValueError, match="not in the data"):
        baseline_module.build_baseline(frame, exclude=["label"])
    with pytest.raises(ValueError, match="'b'"):
        baseline_module.build_baseline(frame)


@pytest.mark.parametrize(
    ("value", "number", "category"),
    [
        (None, (None, False), None),
        ("", (None, False), None),
        (" 3.5 ", (3.5, False), "3.5"),
        ("nan", (None, False), "nan"),
        (float("nan"), (None, False), None),
        (float("inf"), (None, False), None),
        ("abc", (None, True), "abc"),
        (True, (None, True), "True"),
        (2.0, (2.0, False), "2"),
        (np.int64(7), (7.0, False), "7"),
        ([1, 2], (None, True), "[1, 2]"),
    ],
)
def test_values_are_read_the_same_by_the_baseline_and_the_monitor(
    value: Any, number: tuple[float | None, bool], category: str | None
) -> None:
    assert baseline_module.numeric_value(value) == number
    assert baseline_module.category_key(value) == category


def test_baseline_command_line_builds_statistics_from_headerless_csv(tmp_path: Path) -> None:
    draw(50, 300).to_csv(tmp_path / "train.csv", header=False, index=False)
    code = baseline_module.main(
        [
            "--input",
            str(tmp_path),
            "--columns",
            ",".join([*FEATURES, "churned"]),
            "--exclude",
            "churned",
            "--output",
            str(tmp_path / "out"),
        ]
    )
    assert code == contract.EXIT_OK
    parsed = baseline_module.parse_baseline(
        json.loads((tmp_path / "out/statistics.json").read_text())
    )
    assert parsed.names == tuple(FEATURES)
    assert parsed.record_count == 300
    assert baseline_module.main(["--input", str(tmp_path / "none.csv"), "--output", "x"]) == 3


# --- Command line and exit codes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "drop", "message"),
    [
        pytest.param([], "--endpoint-name", "--endpoint-name is required", id="required"),
        pytest.param(
            ["--endpoint-name", "bad_name"], None, "--endpoint-name must match", id="endpoint-name"
        ),
        pytest.param(["--psi-threshold", "-1"], None, "--psi-threshold must be from 0", id="psi"),
        pytest.param(
            ["--window-hours", "0"], None, "--window-hours must be from 1", id="window-hours"
        ),
        pytest.param(["--window-end", "2024-05-01T13:30:00Z"], None, "whole hour", id="window-end"),
        pytest.param(["--capture-uri", "http://x"], None, "--capture-uri must be", id="uri"),
        pytest.param(
            ["--ground-truth-uri", "/gt"], None, "needs --problem-type", id="ground-truth"
        ),
        pytest.param(["--facet", "age"], None, "name=value", id="facet-format"),
        pytest.param(
            ["--problem-type", "regression", "--facet", "age>3"],
            None,
            "--facet needs --problem-type",
            id="facet-regression",
        ),
        pytest.param(
            ["--problem-type", "binary_classification", "--facet", "age>3", "--facet", "age>4"],
            None,
            "unique",
            id="facet-twice",
        ),
        pytest.param(["--min-accuracy", "0.9"], None, "needs --ground-truth-uri", id="minimum"),
        pytest.param(
            ["--ground-truth-uri", "/gt", "--problem-type", "regression", "--min-f1", "0.5"],
            None,
            "does not apply",
            id="wrong-minimum",
        ),
        pytest.param(
            ["--problem-type", "multiclass_classification", "--prediction-kind", "score"],
            None,
            "score needs",
            id="score",
        ),
        pytest.param(["--namespace", "AWS/SageMaker"], None, "custom namespace", id="namespace"),
    ],
)
def test_invalid_options_exit_2_naming_the_option(
    tmp_path: Path,
    baseline_path: Path,
    *,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    drop: str | None,
    message: str,
) -> None:
    args = base_args(tmp_path, baseline_path)
    if drop is not None:
        index = args.index(drop)
        del args[index : index + 2]
    assert monitor.main([*args, *extra]) == contract.EXIT_USAGE
    assert message in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_nothing_to_monitor_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert monitor.main(base_args(tmp_path, None)) == contract.EXIT_USAGE
    assert "nothing to monitor" in capsys.readouterr().out


def test_a_facet_that_is_not_a_baseline_feature_exits_2(
    tmp_path: Path, baseline_path: Path
) -> None:
    code, _, _ = run(
        tmp_path, baseline_path, "--problem-type", "binary_classification", "--facet", "gender=F"
    )
    assert code == contract.EXIT_USAGE


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert monitor.main(["--help"]) == 0
    assert "--psi-threshold" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param(lambda p: None, "cannot read", id="baseline-missing"),
        pytest.param(lambda p: p.write_text("{not json"), "not usable", id="baseline-not-json"),
        pytest.param(
            lambda p: p.write_text('{"format": "other"}'), "format must be", id="baseline-format"
        ),
    ],
)
def test_an_unreadable_baseline_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: Any, message: str
) -> None:
    path = tmp_path / "statistics.json"
    setup(path)
    code, _, _ = run(tmp_path, path)
    assert code == contract.EXIT_UNREADABLE_INPUT
    assert message in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_a_missing_capture_folder_exits_3(tmp_path: Path, baseline_path: Path) -> None:
    args = base_args(tmp_path, baseline_path)
    args[args.index("--capture-uri") + 1] = str(tmp_path / "no-such-folder")
    assert monitor.main(args) == contract.EXIT_UNREADABLE_INPUT


def test_a_config_file_supplies_options_and_the_command_line_wins(
    tmp_path: Path, baseline_path: Path
) -> None:
    write_lines(capture_file(tmp_path), window_lines(draw(60, 300, age_mean=44.0)))
    config = tmp_path / "monitor.json"
    config.write_text(json.dumps({"psi_threshold": 0.01, "min_records": 10, "facet": []}))
    _, report, _ = run(tmp_path, baseline_path, "--config", str(config))
    assert report["thresholds"]["psi"] == 0.01
    assert report["thresholds"]["min_records"] == 10
    _, report, _ = run(tmp_path, baseline_path, "--config", str(config), "--psi-threshold", "0.3")
    assert report["thresholds"]["psi"] == 0.3
    config.write_text(json.dumps({"psi": 0.1}))
    assert run(tmp_path, baseline_path, "--config", str(config))[0] == contract.EXIT_USAGE
    assert run(tmp_path, baseline_path, "--config", str(tmp_path / "none.json"))[0] == 3


def test_default_window_ends_at_the_current_hour_minus_the_offset(baseline_path: Path) -> None:
    args = base_args(Path("/x"), baseline_path)
    del args[args.index("--window-end") : args.index("--window-end") + 2]
    now = datetime(2024, 5, 1, 13, 25, 7, tzinfo=UTC)
    config = monitor.resolve(monitor.parse_arguments(args), {}, now)
    assert (config.window_start.hour, config.window_end.hour) == (12, 13)
    offset = monitor.resolve(
        monitor.parse_arguments([*args, "--window-offset-hours", "2"]), {}, now
    )
    assert (offset.window_start.hour, offset.window_end.hour) == (10, 11)


def test_the_script_runs_as_a_file_in_its_own_folder(tmp_path: Path, baseline_path: Path) -> None:
    """As in the processing container: `python monitor.py` with sibling modules, no package."""
    write_lines(capture_file(tmp_path), window_lines(draw(70, 100)))
    script = MONITOR_SCRIPT_DIR / MONITOR_ENTRY_POINT
    completed = subprocess.run(
        [sys.executable, "-S", str(script), *base_args(tmp_path, baseline_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": _site_packages(), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    events = [json.loads(line)["event"] for line in completed.stdout.splitlines()]
    assert events[0] == "monitor_started"
    assert events[-1] == "monitor_finished"
    assert (tmp_path / "out" / HOUR / "report.json").exists()


def _site_packages() -> str:
    """numpy, scipy, boto3 but not this library: the processing image has no sagemaker_lifecycle."""
    import numpy

    return str(Path(numpy.__file__).resolve().parent.parent)


# --- The contract: Python 3.9, imports, metric names, container arguments ------------------

_ALLOWED_IMPORTS = {"numpy", "pandas", "scipy", "sklearn", "boto3", "botocore"}


@pytest.mark.parametrize("path", sorted(MONITOR_SCRIPT_DIR.glob("*.py")), ids=lambda p: p.name)
def test_scripts_are_python_3_9_and_import_only_what_the_image_has(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 9))
    siblings = {p.stem for p in MONITOR_SCRIPT_DIR.glob("*.py")}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names | _ALLOWED_IMPORTS | siblings, (path.name, name)


def test_metric_names_are_the_same_in_the_script_and_the_library() -> None:
    assert metrics.MONITOR_NAMESPACE == contract.NAMESPACE
    assert (
        metrics.MONITOR_DIM_ENDPOINT,
        metrics.MONITOR_DIM_MONITOR,
        metrics.MONITOR_DIM_FEATURE,
    ) == (
        contract.DIM_ENDPOINT,
        contract.DIM_MONITOR,
        contract.DIM_FEATURE,
    )
    library = {
        value
        for name, value in vars(metrics).items()
        if name.startswith("MONITOR_")
        and not name.startswith(("MONITOR_NAMESPACE", "MONITOR_DIM_"))
    }
    script = set(
        contract.RUN_METRICS
        + contract.QUALITY_METRICS
        + contract.FEATURE_METRICS
        + contract.BIAS_METRICS
    )
    assert library == script


def test_monitor_arguments_round_trip_through_the_script_parser() -> None:
    options: dict[str, Any] = {
        "endpoint_name": "churn",
        "monitor_name": "daily",
        "capture_uri": "s3://capture-bucket/datacapture",
        "output_uri": "s3://monitoring-bucket/reports/churn/daily",
        "baseline_uri": "/opt/ml/processing/input/baseline/statistics.json",
        "ground_truth_uri": "s3://capture-bucket/ground-truth/churn",
        "problem_type": "binary_classification",
        "facet": ["country=IT|ES", "age>60"],
        "variant": ["Blue", "Green"],
        "window_hours": 24,
        "psi_threshold": 0.25,
        "min_auc": 0.7,
        "publish_metrics": False,
        "window_end": datetime(2024, 5, 2, tzinfo=UTC),
    }
    arguments = monitor_arguments(**options)
    assert arguments[:2] == ["--endpoint-name", "churn"]
    assert arguments.count("--facet") == 2
    assert "--no-publish-metrics" in arguments
    parsed = monitor.parse_arguments(arguments)
    assert parsed["psi_threshold"] == 0.25
    assert parsed["window_hours"] == 24
    assert parsed["publish_metrics"] is False
    assert parsed["window_end"] == options["window_end"]
    assert [str(f) for f in parsed["facet"]] == ["country=IT|ES", "age>60.0"]  # type: ignore[attr-defined]
    assert parsed["variant"] == ("Blue", "Green")


def test_monitor_arguments_pass_tokens_through() -> None:
    capture_uri = f"s3://{Aws.ACCOUNT_ID}-capture/datacapture"
    arguments = monitor_arguments(
        endpoint_name="churn",
        monitor_name="m",
        capture_uri=capture_uri,
        output_uri="s3://monitoring-bucket/r",
        baseline_uri="s3://monitoring-bucket/statistics.json",
        region=Aws.REGION,
    )
    assert arguments[arguments.index("--capture-uri") + 1] == capture_uri
    assert arguments[arguments.index("--region") + 1] == Aws.REGION


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bogus": 1}, "unknown option 'bogus'"),
        ({"psi_threshold": "high"}, "--psi-threshold must be a finite number"),
        ({"window_end": "tomorrow"}, "--window-end must be an ISO 8601"),
        ({"ground_truth_uri": "s3://gt-bucket/x"}, "--ground-truth-uri needs --problem-type"),
        ({"endpoint_name": None}, "--endpoint-name is required"),
    ],
)
def test_monitor_arguments_fail_at_synth_time_like_the_script(
    options: dict[str, Any], message: str
) -> None:
    values = {
        "endpoint_name": "churn",
        "monitor_name": "m",
        "capture_uri": "s3://capture-bucket/c",
        "output_uri": "s3://monitoring-bucket/o",
        "baseline_uri": "s3://monitoring-bucket/statistics.json",
        **options,
    }
    with pytest.raises(ValueError, match=message):
        monitor_arguments(**values)


def test_uploaded_code_excludes_caches_and_lint_settings() -> None:
    assert {"__pycache__", "*.pyc", "ruff.toml"} <= set(MONITOR_SCRIPT_EXCLUDES)
    assert (MONITOR_SCRIPT_DIR / MONITOR_ENTRY_POINT).is_file()

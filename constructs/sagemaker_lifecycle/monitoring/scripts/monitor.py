"""Built-in model monitor: data quality, model quality and bias of one endpoint's window.

Run in a SageMaker processing job on the scikit-learn 1.2-1 image::

    python3 /opt/ml/processing/input/code/monitor.py \\
        --endpoint-name churn --monitor-name churn-hourly \\
        --capture-uri s3://capture-bucket/datacapture \\
        --baseline-uri /opt/ml/processing/input/baseline/statistics.json \\
        --output-uri s3://monitoring-bucket/reports/churn/churn-hourly \\
        [--ground-truth-uri s3://capture-bucket/ground-truth/churn --problem-type ...] \\
        [--facet "gender=F"] [--window-hours 24] [threshold options ...]

It reads the data-capture files of the window (the hours in [end - hours, end)), compares
them with the training baseline (``statistics.json``, see ``monitor_baseline``), joins the
predictions with ground truth by inference id, computes bias per facet, writes
``report.json`` and ``violations.json`` under ``<output-uri>/yyyy/mm/dd/hh/`` (the window's
first hour) and publishes every figure to CloudWatch. A window with violations is a result:
the exit code is 0. Exit codes: 2 bad arguments, 3 unreadable input, 4 outputs not written
(``monitor_contract``). Every option can also come from ``--config`` (a JSON object).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

if TYPE_CHECKING or __package__:
    from . import monitor_contract as contract
    from .monitor_baseline import Baseline, BaselineError, parse_baseline
    from .monitor_capture import (
        CaptureRecord,
        GroundTruthRecord,
        MalformedRecord,
        parse_capture_line,
        parse_ground_truth_line,
    )
    from .monitor_checks import (
        BiasResult,
        DataQuality,
        DataQualityResult,
        Predictions,
        QualityResult,
        Thresholds,
        Violation,
        evaluate_bias,
        evaluate_quality,
        metric_name,
    )
    from .monitor_io import Datum, Location, OutputFailed, Storage, UnreadableInput, finite, publish
else:  # run as a file in the processing container: this folder is on sys.path
    import monitor_contract as contract
    from monitor_baseline import Baseline, BaselineError, parse_baseline
    from monitor_capture import (
        CaptureRecord,
        GroundTruthRecord,
        MalformedRecord,
        parse_capture_line,
        parse_ground_truth_line,
    )
    from monitor_checks import (
        BiasResult,
        DataQuality,
        DataQualityResult,
        Predictions,
        QualityResult,
        Thresholds,
        Violation,
        evaluate_bias,
        evaluate_quality,
        metric_name,
    )
    from monitor_io import Datum, Location, OutputFailed, Storage, UnreadableInput, finite, publish

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


class UsageError(ValueError):
    """The options do not describe a run: the message names the option and what is allowed."""


# --- Options ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitorConfig:
    """Every option of one run, checked and combined."""

    endpoint_name: str
    monitor_name: str
    capture_uri: str
    output_uri: str
    window_start: datetime
    window_end: datetime
    ground_truth_end: datetime
    thresholds: Thresholds
    namespace: str = contract.NAMESPACE
    baseline_uri: str | None = None
    ground_truth_uri: str | None = None
    variants: tuple[str, ...] = ()
    predictions: Predictions | None = None
    facets: tuple[contract.Facet, ...] = ()
    publish_metrics: bool = True
    region: str | None = None
    output_kms_key_id: str | None = None


def build_parser() -> argparse.ArgumentParser:
    """The command line, generated from ``monitor_contract.OPTIONS``."""
    parser = argparse.ArgumentParser(
        prog="monitor.py",
        description=(__doc__ or "").splitlines()[0],
        argument_default=argparse.SUPPRESS,
    )
    for option in contract.OPTIONS:
        text = option.help + ("" if option.default is None else f" Default: {option.default}.")
        if option.kind == "flag":
            parser.add_argument(option.flag, action=argparse.BooleanOptionalAction, help=text)
        elif option.repeatable:
            parser.add_argument(option.flag, action="append", help=text)
        elif option.kind == "choice":
            parser.add_argument(option.flag, choices=option.choices, help=text)
        else:
            parser.add_argument(option.flag, help=text)
    return parser


def parse_arguments(argv: Sequence[str]) -> dict[str, object]:
    """The options given on the command line, converted; ``UsageError`` if one is invalid."""
    namespace = build_parser().parse_args(list(argv))
    return _converted(vars(namespace), source="command line")


def _converted(raw: Mapping[str, object], *, source: str) -> dict[str, object]:
    values: dict[str, object] = {}
    for dest, value in raw.items():
        try:
            option = contract.option_for(dest)
        except KeyError as error:
            raise UsageError(f"{source}: {error.args[0]}") from None
        try:
            values[dest] = contract.convert(option, value)
        except ValueError as error:
            raise UsageError(f"{source}: {error}") from None
    return values


def read_config_file(uri: str, storage: Storage) -> dict[str, object]:
    """The options in a ``--config`` JSON object (UnreadableInput when it cannot be read)."""
    try:
        document = json.loads(storage.read(Location.parse(uri)).decode("utf-8"))
    except ValueError as error:  # JSON and UTF-8 errors
        raise UnreadableInput(f"--config {uri} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise UsageError(f"--config {uri} must hold a JSON object of option names to values")
    if "config" in document:
        raise UsageError(f"--config {uri} cannot name another config file")
    return _converted(document, source=f"--config {uri}")


def resolve(
    given: Mapping[str, object], from_file: Mapping[str, object], now: datetime
) -> MonitorConfig:
    """Defaults, then the config file, then the command line; checked as a whole."""
    defaults = {o.dest: o.default for o in contract.OPTIONS if o.default is not None}
    values: dict[str, Any] = {**defaults, **from_file, **given}
    facets: tuple[contract.Facet, ...] = tuple(values.get("facet", ()))
    problem = values.get("problem_type")
    try:
        contract.check_run(values)
    except ValueError as error:
        raise UsageError(str(error)) from None
    end = values.get("window_end") or (
        now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        - timedelta(hours=values["window_offset_hours"])
    )
    predictions = None
    if problem is not None:
        # A regression output is read like a score (its keys: score, prediction ...).
        kind = values.get("prediction_kind") or (
            "label" if problem == contract.MULTICLASS else "score"
        )
        predictions = Predictions(
            problem_type=problem,
            kind=kind,
            key=values.get("prediction_key"),
            index=int(values["prediction_index"]),
            positive_label=values["positive_label"],
            probability_threshold=values["probability_threshold"],
        )
    return MonitorConfig(
        endpoint_name=values["endpoint_name"],
        monitor_name=values["monitor_name"],
        capture_uri=values["capture_uri"],
        output_uri=values["output_uri"],
        window_start=end - timedelta(hours=values["window_hours"]),
        window_end=end,
        ground_truth_end=end + timedelta(hours=values["ground_truth_delay_hours"]),
        thresholds=_thresholds(values),
        namespace=values["namespace"],
        baseline_uri=values.get("baseline_uri"),
        ground_truth_uri=values.get("ground_truth_uri"),
        variants=tuple(values.get("variant", ())),
        predictions=predictions,
        facets=facets,
        publish_metrics=values["publish_metrics"],
        region=values.get("region"),
        output_kms_key_id=values.get("output_kms_key_id"),
    )


def _thresholds(values: Mapping[str, Any]) -> Thresholds:
    return Thresholds(
        min_records=int(values["min_records"]),
        psi=values["psi_threshold"],
        ks_p_value=values["ks_p_value"],
        ks_min_statistic=values["ks_min_statistic"],
        chi_square_p_value=values["chi_square_p_value"],
        min_linf_distance=values["min_linf_distance"],
        missing_rate_tolerance=values["missing_rate_tolerance"],
        max_type_mismatch_rate=values["max_type_mismatch_rate"],
        quality_minimums={
            key: values[dest]
            for dest, key in contract.QUALITY_MINIMUMS.items()
            if values.get(dest) is not None
        },
        quality_maximums={
            key: values[dest]
            for dest, key in contract.QUALITY_MAXIMUMS.items()
            if values.get(dest) is not None
        },
        dppl=values["dppl_threshold"],
        class_imbalance=values.get("class_imbalance_threshold"),
    )


# --- Reading -----------------------------------------------------------------------------------


@dataclass
class Lines:
    """What was read from a set of JSON Lines files."""

    objects: int = 0
    lines: int = 0
    malformed: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "objects": self.objects,
            "lines": self.lines,
            "malformed": sum(self.malformed.values()),
            "malformed_reasons": dict(sorted(self.malformed.items())),
        }


def _lines(storage: Storage, folders: Sequence[Location], summary: Lines) -> Iterator[bytes]:
    for folder in folders:
        for location in storage.files(folder):
            summary.objects += 1
            for line in storage.read(location).split(b"\n"):
                if line.strip():
                    summary.lines += 1
                    yield line


def read_capture(
    config: MonitorConfig, storage: Storage
) -> tuple[list[CaptureRecord], Lines, list[str]]:
    """Every well-formed capture record of the window, what was skipped, and the variants."""
    endpoint = Location.parse(config.capture_uri).child(config.endpoint_name)
    variants = list(config.variants) or storage.subfolders(endpoint)
    hours = contract.hour_partitions(config.window_start, config.window_end)
    folders = [endpoint.child(variant, hour) for variant in variants for hour in hours]
    summary = Lines()
    records = []
    for line in _lines(storage, folders, summary):
        try:
            records.append(parse_capture_line(line))
        except MalformedRecord as error:
            summary.malformed[error.reason] += 1
    return records, summary, variants


def read_ground_truth(
    config: MonitorConfig, storage: Storage
) -> tuple[dict[str, GroundTruthRecord], Lines]:
    """Ground truth uploaded from the window's start to its end plus the delay, by id."""
    assert config.ground_truth_uri is not None
    root = Location.parse(config.ground_truth_uri)
    hours = contract.hour_partitions(config.window_start, config.ground_truth_end)
    summary = Lines()
    labels: dict[str, GroundTruthRecord] = {}
    for line in _lines(storage, [root.child(hour) for hour in hours], summary):
        try:
            record = parse_ground_truth_line(line)
        except MalformedRecord as error:
            summary.malformed[error.reason] += 1
            continue
        labels[record.key] = record  # a later upload corrects an earlier one
    return labels, summary


def read_baseline(uri: str, storage: Storage) -> Baseline:
    """The baseline at ``uri``: a statistics.json file, or a folder holding one."""
    location = Location.parse(uri)
    if not location.path.endswith(".json"):
        location = location.child(contract.BASELINE_FILE)
    try:
        return parse_baseline(json.loads(storage.read(location).decode("utf-8")))
    except (ValueError, BaselineError) as error:
        raise UnreadableInput(f"baseline {location} is not usable: {error}") from None


# --- Evaluating --------------------------------------------------------------------------------


@dataclass
class Evaluation:
    """Everything one run found."""

    records: int = 0
    rows: int = 0
    data_quality: DataQualityResult | None = None
    model_quality: QualityResult | None = None
    bias: list[BiasResult] = field(default_factory=list)

    @property
    def violations(self) -> list[Violation]:
        found = list(self.data_quality.violations) if self.data_quality else []
        if self.model_quality:
            found.extend(self.model_quality.violations)
        for result in self.bias:
            found.extend(result.violations)
        return found


def evaluate(
    config: MonitorConfig,
    baseline: Baseline | None,
    records: Sequence[CaptureRecord],
    ground_truth: Mapping[str, GroundTruthRecord] | None,
) -> Evaluation:
    """Run the checks the options ask for over the window's records."""
    result = Evaluation(records=len(records))
    data_quality = DataQuality(baseline) if baseline is not None else None
    facet_rows: dict[str, list[tuple[object, bool | None]]] = {f.name: [] for f in config.facets}
    predictions = config.predictions
    for record in records:
        for position, row in enumerate(record.inputs):
            result.rows += 1
            values = data_quality.add(row) if data_quality is not None else None
            if values is None or not config.facets or predictions is None:
                continue
            positive = None
            if record.outputs is not None:
                positive = predictions.positive(predictions.value(record.outputs[position]))
            for facet in config.facets:
                facet_rows[facet.name].append((values.get(facet.name), positive))
    if data_quality is not None:
        result.data_quality = data_quality.evaluate(config.thresholds)
        result.rows = result.data_quality.rows
    if ground_truth is not None and predictions is not None:
        result.model_quality = _model_quality(records, ground_truth, predictions, config.thresholds)
    result.bias = [evaluate_bias(f, facet_rows[f.name], config.thresholds) for f in config.facets]
    return result


def _model_quality(
    records: Sequence[CaptureRecord],
    ground_truth: Mapping[str, GroundTruthRecord],
    predictions: Predictions,
    thresholds: Thresholds,
) -> QualityResult:
    pairs: list[tuple[object, object]] = []
    with_predictions = without_truth = count_mismatch = 0
    for record in records:
        if record.outputs is None:
            continue
        with_predictions += 1
        truth = ground_truth.get(record.join_key)
        if truth is None:
            without_truth += 1
        elif len(truth.labels) != len(record.outputs):
            count_mismatch += 1
        else:
            pairs.extend(zip(truth.labels, record.outputs))
    return evaluate_quality(
        pairs,
        predictions,
        thresholds,
        requests_with_predictions=with_predictions,
        requests_without_ground_truth=without_truth,
        requests_with_label_count_mismatch=count_mismatch,
    )


# --- Writing -----------------------------------------------------------------------------------


def metric_data(config: MonitorConfig, evaluation: Evaluation, malformed: int) -> list[Datum]:
    """Every figure of the run as a CloudWatch data point."""
    run = (
        (contract.DIM_ENDPOINT, config.endpoint_name),
        (contract.DIM_MONITOR, config.monitor_name),
    )
    no_data = evaluation.records == 0
    violations = evaluation.violations
    data = [
        Datum(contract.METRIC_NO_DATA, 1.0 if no_data else 0.0, run),
        Datum(contract.METRIC_RECORDS_ANALYZED, float(evaluation.rows), run, "Count"),
        Datum(contract.METRIC_MALFORMED_RECORDS, float(malformed), run, "Count"),
        Datum(contract.METRIC_VIOLATIONS, float(len(violations)), run, "Count"),
    ]
    if no_data:
        return data
    quality = evaluation.data_quality
    if quality is not None:
        data.append(
            Datum(contract.METRIC_FEATURES_DRIFTED, float(quality.features_drifted), run, "Count")
        )
        data.append(
            Datum(contract.METRIC_SCHEMA_VIOLATIONS, float(quality.schema_violations), run, "Count")
        )
        for feature in quality.features:
            dimensions = (*run, (contract.DIM_FEATURE, feature.name))
            for name, value in feature.metrics().items():
                if finite(value):
                    data.append(Datum(name, float(value or 0.0), dimensions))
    model = evaluation.model_quality
    if model is not None:
        data.append(Datum(contract.METRIC_GROUND_TRUTH_MATCHED, float(model.matched), run, "Count"))
        for key, value in model.metrics.items():
            if finite(value):
                data.append(Datum(metric_name(key), float(value or 0.0), run))
    for bias in evaluation.bias:
        dimensions = (*run, (contract.DIM_FEATURE, bias.facet.name))
        for name, value in (
            (contract.METRIC_CLASS_IMBALANCE, bias.class_imbalance),
            (contract.METRIC_DPPL, bias.dppl),
        ):
            if finite(value):
                data.append(Datum(name, float(value or 0.0), dimensions))
    return data


def report_document(
    config: MonitorConfig,
    evaluation: Evaluation,
    *,
    capture: Lines,
    variants: Sequence[str],
    ground_truth: Lines | None,
    baseline: Baseline | None,
    started: datetime,
) -> dict[str, Any]:
    """The content of ``report.json``."""
    violations = evaluation.violations
    status = "no_data" if evaluation.records == 0 else ("violations" if violations else "ok")
    return {
        "format": contract.REPORT_FORMAT,
        "version": contract.REPORT_VERSION,
        "endpoint_name": config.endpoint_name,
        "monitor_name": config.monitor_name,
        "status": status,
        "violations": len(violations),
        "window": _window(config),
        "started_at": _timestamp(started),
        "capture": {
            **capture.to_json(),
            "variants": list(variants),
            "records": evaluation.records,
            "rows": evaluation.rows,
        },
        "ground_truth": ground_truth.to_json() if ground_truth is not None else None,
        "baseline": (
            {
                "uri": config.baseline_uri,
                "created_at": baseline.created_at,
                "record_count": baseline.record_count,
            }
            if baseline is not None
            else None
        ),
        "data_quality": evaluation.data_quality.to_json() if evaluation.data_quality else None,
        "model_quality": evaluation.model_quality.to_json() if evaluation.model_quality else None,
        "bias": [result.to_json() for result in evaluation.bias] if config.facets else None,
        "thresholds": _thresholds_json(config.thresholds),
    }


def violations_document(config: MonitorConfig, evaluation: Evaluation) -> dict[str, Any]:
    """The content of ``violations.json`` (written even when empty, so readers can rely on it)."""
    return {
        "version": contract.VIOLATIONS_VERSION,
        "endpoint_name": config.endpoint_name,
        "monitor_name": config.monitor_name,
        "window": _window(config),
        "violations": [violation.to_json() for violation in evaluation.violations],
    }


def _window(config: MonitorConfig) -> dict[str, str]:
    return {
        "start": contract.format_hour(config.window_start),
        "end": contract.format_hour(config.window_end),
        "ground_truth_end": contract.format_hour(config.ground_truth_end),
    }


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _thresholds_json(thresholds: Thresholds) -> dict[str, Any]:
    return {
        "min_records": thresholds.min_records,
        "psi": thresholds.psi,
        "ks_p_value": thresholds.ks_p_value,
        "ks_min_statistic": thresholds.ks_min_statistic,
        "chi_square_p_value": thresholds.chi_square_p_value,
        "min_linf_distance": thresholds.min_linf_distance,
        "missing_rate_tolerance": thresholds.missing_rate_tolerance,
        "max_type_mismatch_rate": thresholds.max_type_mismatch_rate,
        "quality_minimums": dict(thresholds.quality_minimums),
        "quality_maximums": dict(thresholds.quality_maximums),
        "dppl": thresholds.dppl,
        "class_imbalance": thresholds.class_imbalance,
    }


def output_location(config: MonitorConfig, file_name: str) -> Location:
    """``<output-uri>/yyyy/mm/dd/hh/<file>`` for the window's first hour."""
    partition = config.window_start.strftime("%Y/%m/%d/%H")
    return Location.parse(config.output_uri).child(partition, file_name)


# --- Running -----------------------------------------------------------------------------------


def log(event: str, **fields: object) -> None:
    """One structured log line (the processing job sends stdout to CloudWatch Logs)."""
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def _client_factory(service: Any, region: Any, client: Any = None) -> Callable[[], Any]:
    """Creates the client on first use: a run that publishes nothing needs no CloudWatch."""
    if client is not None:
        return lambda: client
    return lambda: boto3.client(service, region_name=region, config=_RETRIES)


def main(
    argv: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    s3_client: Any = None,
    cloudwatch_client: Any = None,
) -> int:
    """Run the monitor; return the exit code (``monitor_contract.EXIT_*``).

    ``s3_client`` and ``cloudwatch_client`` default to boto3 clients in ``--region``.
    """
    started = now or datetime.now(timezone.utc)
    try:
        given = parse_arguments(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_request:  # argparse: --help or a malformed command line
        return int(exit_request.code or 0)
    except UsageError as error:
        log("invalid_options", error=str(error))
        return contract.EXIT_USAGE
    region = given.get("region")
    storage = Storage(_client_factory("s3", region, s3_client))
    try:
        from_file = read_config_file(str(given["config"]), storage) if "config" in given else {}
        config = resolve(given, from_file, started)
    except UsageError as error:
        log("invalid_options", error=str(error))
        return contract.EXIT_USAGE
    except UnreadableInput as error:
        log("unreadable_input", error=str(error))
        return contract.EXIT_UNREADABLE_INPUT
    cloudwatch = _client_factory("cloudwatch", config.region, cloudwatch_client)
    return run(config, storage, cloudwatch, started)


def run(
    config: MonitorConfig, storage: Storage, cloudwatch: Callable[[], Any], started: datetime
) -> int:
    """Read, evaluate and write one window; the exit code."""
    log(
        "monitor_started",
        endpoint=config.endpoint_name,
        monitor=config.monitor_name,
        window_start=contract.format_hour(config.window_start),
        window_end=contract.format_hour(config.window_end),
    )
    try:
        baseline = read_baseline(config.baseline_uri, storage) if config.baseline_uri else None
        if baseline is not None:
            missing = [f.name for f in config.facets if baseline.feature(f.name) is None]
            if missing:
                raise UsageError(
                    f"--facet names {missing} are not baseline features {list(baseline.names)}"
                )
        records, capture, variants = read_capture(config, storage)
        ground_truth, truth_lines = (
            read_ground_truth(config, storage) if config.ground_truth_uri else (None, None)
        )
    except UsageError as error:
        log("invalid_options", error=str(error))
        return contract.EXIT_USAGE
    except UnreadableInput as error:
        log("unreadable_input", error=str(error))
        return contract.EXIT_UNREADABLE_INPUT
    evaluation = evaluate(config, baseline, records, ground_truth)
    malformed = sum(capture.malformed.values())
    log(
        "window_evaluated",
        records=evaluation.records,
        rows=evaluation.rows,
        malformed=malformed,
        malformed_reasons=dict(capture.malformed),
        violations=len(evaluation.violations),
    )
    report = report_document(
        config,
        evaluation,
        capture=capture,
        variants=variants,
        ground_truth=truth_lines,
        baseline=baseline,
        started=started,
    )
    return _write(
        config,
        evaluation,
        storage=storage,
        cloudwatch=cloudwatch,
        report=report,
        malformed=malformed,
    )


def _write(
    config: MonitorConfig,
    evaluation: Evaluation,
    *,
    storage: Storage,
    cloudwatch: Callable[[], Any],
    report: Mapping[str, Any],
    malformed: int,
) -> int:
    failures = []
    documents = {
        contract.REPORT_FILE: report,
        contract.VIOLATIONS_FILE: violations_document(config, evaluation),
    }
    for file_name, document in documents.items():
        location = output_location(config, file_name)
        try:
            body = json.dumps(document, indent=2, allow_nan=False).encode("utf-8")
            storage.write(location, body, kms_key_id=config.output_kms_key_id)
            log("output_written", location=str(location))
        except OutputFailed as error:
            failures.append(str(error))
    if config.publish_metrics:
        data = metric_data(config, evaluation, malformed)
        try:
            requests = publish(cloudwatch(), config.namespace, data, config.window_end)
            log(
                "metrics_published",
                namespace=config.namespace,
                metrics=len(data),
                requests=requests,
            )
        except (OutputFailed, BotoCoreError) as error:
            failures.append(str(error))
    if failures:
        log("output_failed", errors=failures)
        return contract.EXIT_OUTPUT_FAILED
    log("monitor_finished", status=report["status"], violations=report["violations"])
    return contract.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

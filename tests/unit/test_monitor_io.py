"""The monitor script's S3 and CloudWatch I/O: real boto3 calls against moto.

Capture files, ground truth and the baseline sit in S3 as SageMaker and the pipelines write
them; the tests assert the objects the run writes to the monitoring zone and the metrics it
puts, read back with ListMetrics and GetMetricData.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import boto3
import numpy as np
import pandas as pd
import pytest
from moto import mock_aws

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle.monitoring.scripts import monitor, monitor_io
from sagemaker_lifecycle.monitoring.scripts import monitor_baseline as baseline_module
from sagemaker_lifecycle.monitoring.scripts import monitor_contract as contract

REGION: Final = "eu-west-1"
CAPTURE_BUCKET = "ml-capture-zone"
MONITORING_BUCKET = "ml-monitoring-zone"
ENDPOINT = "churn"
MONITOR = "hourly"
# Metrics are stamped with the window end; CloudWatch (and moto) keep recent data points.
WINDOW_END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW_START = WINDOW_END - timedelta(hours=1)
PARTITION = WINDOW_START.strftime("%Y/%m/%d/%H")
REPORT_PREFIX = f"reports/{ENDPOINT}/{MONITOR}/{PARTITION}/"


# --- Generated data ---------------------------------------------------------------------------


def draw(seed: int, n: int, *, age_mean: float = 40.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(age_mean, 10, n).round(1),
            "income": rng.lognormal(10, 0.5, n).round(2),
            "plan": rng.choice(["basic", "premium"], n, p=[0.7, 0.3]),
        }
    )


def capture_lines(frame: pd.DataFrame, seed: int = 0) -> bytes:
    scores = np.random.default_rng(seed).random(len(frame)).round(4)
    lines = []
    for i, row in enumerate(frame.itertuples(index=False)):
        lines.append(
            json.dumps(
                {
                    "captureData": {
                        "endpointInput": {
                            "observedContentType": "text/csv",
                            "mode": "INPUT",
                            "data": ",".join(str(v) for v in row),
                            "encoding": "CSV",
                        },
                        "endpointOutput": {
                            "observedContentType": "text/csv; charset=utf-8",
                            "mode": "OUTPUT",
                            "data": str(scores[i]),
                            "encoding": "CSV",
                        },
                    },
                    "eventMetadata": {"eventId": f"evt-{seed}-{i}", "inferenceId": f"inf-{i}"},
                    "eventVersion": "0",
                }
            )
        )
    return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class Aws:
    s3: Any
    cloudwatch: Any
    kms_key_id: str

    def put_capture(
        self, body: bytes, *, variant: str = "AllTraffic", hour: str = PARTITION
    ) -> None:
        key = f"datacapture/{ENDPOINT}/{variant}/{hour}/capture-{len(body)}.jsonl"
        self.s3.put_object(Bucket=CAPTURE_BUCKET, Key=key, Body=body)

    def json_object(self, key: str) -> dict[str, Any]:
        body = self.s3.get_object(Bucket=MONITORING_BUCKET, Key=key)["Body"].read()
        document: dict[str, Any] = json.loads(body)
        return document

    def metric_names(self, **dimensions: str) -> set[str]:
        """Names of the metrics in our namespace with exactly these dimensions."""
        wanted = sorted(dimensions.items())
        found = self.cloudwatch.list_metrics(Namespace=metrics.MONITOR_NAMESPACE)["Metrics"]
        return {
            m["MetricName"]
            for m in found
            if sorted((d["Name"], d["Value"]) for d in m["Dimensions"]) == wanted
        }

    def value(self, name: str, **dimensions: str) -> float:
        result = self.cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": metrics.MONITOR_NAMESPACE,
                            "MetricName": name,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                        },
                        "Period": 60,
                        "Stat": "Maximum",
                    },
                }
            ],
            StartTime=WINDOW_START,
            EndTime=datetime.now(UTC) + timedelta(hours=1),
        )["MetricDataResults"][0]
        assert len(result["Values"]) == 1, (name, dimensions, result)
        return float(result["Values"][0])


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        key_id = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
        for bucket in (CAPTURE_BUCKET, MONITORING_BUCKET):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        baseline = baseline_module.build_baseline(draw(0, 3000))
        s3.put_object(
            Bucket=MONITORING_BUCKET,
            Key=f"baselines/{ENDPOINT}/statistics.json",
            Body=json.dumps(baseline).encode(),
        )
        yield Aws(s3, boto3.client("cloudwatch", region_name=REGION), key_id)


def args(*extra: str) -> list[str]:
    return [
        "--endpoint-name",
        ENDPOINT,
        "--monitor-name",
        MONITOR,
        "--capture-uri",
        f"s3://{CAPTURE_BUCKET}/datacapture",
        "--baseline-uri",
        f"s3://{MONITORING_BUCKET}/baselines/{ENDPOINT}/statistics.json",
        "--output-uri",
        f"s3://{MONITORING_BUCKET}/reports/{ENDPOINT}/{MONITOR}",
        "--window-end",
        contract.format_hour(WINDOW_END),
        "--region",
        REGION,
        *extra,
    ]


def args_with(flag: str, value: str) -> list[str]:
    replaced = args()
    replaced[replaced.index(flag) + 1] = value
    return replaced


RUN = {"Endpoint": ENDPOINT, "Monitor": MONITOR}


# --- Reports and violations in the monitoring zone --------------------------------------------


def test_report_and_violations_are_written_to_the_monitoring_zone(aws: Aws) -> None:
    aws.put_capture(capture_lines(draw(1, 600, age_mean=50.0)))
    assert monitor.main(args()) == contract.EXIT_OK
    listed = aws.s3.list_objects_v2(Bucket=MONITORING_BUCKET, Prefix="reports/")["Contents"]
    assert sorted(item["Key"] for item in listed) == [
        f"{REPORT_PREFIX}report.json",
        f"{REPORT_PREFIX}violations.json",
    ]
    head = aws.s3.head_object(Bucket=MONITORING_BUCKET, Key=f"{REPORT_PREFIX}report.json")
    assert head["ContentType"] == "application/json"
    report = aws.json_object(f"{REPORT_PREFIX}report.json")
    assert report["status"] == "violations"
    assert report["capture"]["records"] == 600
    violations = aws.json_object(f"{REPORT_PREFIX}violations.json")["violations"]
    assert [(v["constraint_check_type"], v["feature_name"]) for v in violations] == [
        ("baseline_drift_check", "age")
    ]


def test_outputs_can_be_encrypted_with_a_named_key(aws: Aws) -> None:
    aws.put_capture(capture_lines(draw(2, 50)))
    assert monitor.main(args("--output-kms-key-id", aws.kms_key_id)) == contract.EXIT_OK
    for name in ("report.json", "violations.json"):
        head = aws.s3.head_object(Bucket=MONITORING_BUCKET, Key=f"{REPORT_PREFIX}{name}")
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"].endswith(aws.kms_key_id)


def test_every_variant_under_the_endpoint_is_read(aws: Aws) -> None:
    aws.put_capture(capture_lines(draw(3, 70)), variant="Blue")
    aws.put_capture(capture_lines(draw(4, 30)), variant="Green")
    aws.put_capture(capture_lines(draw(5, 99)), hour=WINDOW_END.strftime("%Y/%m/%d/%H"))
    assert monitor.main(args()) == contract.EXIT_OK
    report = aws.json_object(f"{REPORT_PREFIX}report.json")
    assert report["capture"]["variants"] == ["AllTraffic", "Blue", "Green"]
    assert report["capture"]["records"] == 100  # the next hour's file is not in the window


def test_config_file_is_read_from_s3(aws: Aws) -> None:
    aws.put_capture(capture_lines(draw(6, 80)))
    aws.s3.put_object(
        Bucket=MONITORING_BUCKET, Key="config/hourly.json", Body=b'{"psi_threshold": 0.5}'
    )
    code = monitor.main(args("--config", f"s3://{MONITORING_BUCKET}/config/hourly.json"))
    assert code == contract.EXIT_OK
    assert aws.json_object(f"{REPORT_PREFIX}report.json")["thresholds"]["psi"] == 0.5


# --- CloudWatch -------------------------------------------------------------------------------


def test_every_figure_is_a_metric_with_endpoint_monitor_and_feature(aws: Aws) -> None:
    aws.put_capture(capture_lines(draw(7, 500, age_mean=50.0)))
    assert monitor.main(args()) == contract.EXIT_OK
    assert aws.metric_names(**RUN) == {
        metrics.MONITOR_NO_DATA,
        metrics.MONITOR_RECORDS_ANALYZED,
        metrics.MONITOR_MALFORMED_RECORDS,
        metrics.MONITOR_VIOLATIONS,
        metrics.MONITOR_FEATURES_DRIFTED,
        metrics.MONITOR_SCHEMA_VIOLATIONS,
    }
    numeric = {
        metrics.MONITOR_PSI,
        metrics.MONITOR_KS_STATISTIC,
        metrics.MONITOR_KS_P_VALUE,
        metrics.MONITOR_MISSING_RATE,
        metrics.MONITOR_TYPE_MISMATCH_RATE,
        metrics.MONITOR_DRIFT_DETECTED,
    }
    assert aws.metric_names(**RUN, Feature="age") == numeric
    assert aws.metric_names(**RUN, Feature="plan") == {
        metrics.MONITOR_PSI,
        metrics.MONITOR_CHI_SQUARE_P_VALUE,
        metrics.MONITOR_LINF_DISTANCE,
        metrics.MONITOR_MISSING_RATE,
        metrics.MONITOR_TYPE_MISMATCH_RATE,
        metrics.MONITOR_DRIFT_DETECTED,
    }
    assert aws.value(metrics.MONITOR_DRIFT_DETECTED, **RUN, Feature="age") == 1.0
    assert aws.value(metrics.MONITOR_DRIFT_DETECTED, **RUN, Feature="plan") == 0.0
    assert aws.value(metrics.MONITOR_NO_DATA, **RUN) == 0.0
    assert aws.value(metrics.MONITOR_RECORDS_ANALYZED, **RUN) == 500.0
    assert aws.value(metrics.MONITOR_FEATURES_DRIFTED, **RUN) == 1.0
    report = aws.json_object(f"{REPORT_PREFIX}report.json")
    age = next(f for f in report["data_quality"]["features"] if f["name"] == "age")
    assert aws.value(metrics.MONITOR_PSI, **RUN, Feature="age") == pytest.approx(age["psi"])


def test_an_empty_window_puts_a_no_data_metric(aws: Aws) -> None:
    aws.put_capture(capture_lines(draw(8, 20)), hour=WINDOW_END.strftime("%Y/%m/%d/%H"))
    aws.put_capture(b"garbage\n")
    assert monitor.main(args()) == contract.EXIT_OK
    assert aws.value(metrics.MONITOR_NO_DATA, **RUN) == 1.0
    assert aws.value(metrics.MONITOR_MALFORMED_RECORDS, **RUN) == 1.0
    assert aws.metric_names(**RUN, Feature="age") == set()
    assert aws.json_object(f"{REPORT_PREFIX}report.json")["status"] == "no_data"


def test_model_quality_and_bias_metrics_from_ground_truth_in_s3(aws: Aws) -> None:
    frame = draw(9, 120)
    aws.put_capture(capture_lines(frame, seed=9))
    labels = np.random.default_rng(10).integers(0, 2, 120)
    body = "\n".join(
        json.dumps(
            {
                "groundTruthData": {"data": str(labels[i]), "encoding": "CSV"},
                "eventMetadata": {"eventId": f"inf-{i}"},
                "eventVersion": "0",
            }
        )
        for i in range(120)
    )
    later = (WINDOW_END + timedelta(hours=1)).strftime("%Y/%m/%d/%H")
    aws.s3.put_object(
        Bucket=CAPTURE_BUCKET, Key=f"ground-truth/{ENDPOINT}/{later}/gt.jsonl", Body=body
    )
    code = monitor.main(
        args(
            "--ground-truth-uri",
            f"s3://{CAPTURE_BUCKET}/ground-truth/{ENDPOINT}",
            "--ground-truth-delay-hours",
            "2",
            "--problem-type",
            "binary_classification",
            "--facet",
            "plan=premium",
        )
    )
    assert code == contract.EXIT_OK
    quality = {
        metrics.MONITOR_ACCURACY,
        metrics.MONITOR_PRECISION,
        metrics.MONITOR_RECALL,
        metrics.MONITOR_F1,
        metrics.MONITOR_AUC,
        metrics.MONITOR_GROUND_TRUTH_MATCHED,
    }
    assert quality <= aws.metric_names(**RUN)
    assert aws.value(metrics.MONITOR_GROUND_TRUTH_MATCHED, **RUN) == 120.0
    report = aws.json_object(f"{REPORT_PREFIX}report.json")
    accuracy = report["model_quality"]["metrics"]["accuracy"]
    assert aws.value(metrics.MONITOR_ACCURACY, **RUN) == pytest.approx(accuracy)
    bias = {metrics.MONITOR_CLASS_IMBALANCE, metrics.MONITOR_DPPL}
    assert bias <= aws.metric_names(**RUN, Feature="plan")
    assert aws.value(metrics.MONITOR_DPPL, **RUN, Feature="plan") == pytest.approx(
        report["bias"][0]["dppl"]
    )


def test_metrics_are_put_in_batches_within_the_api_limits(aws: Aws) -> None:
    sizes: list[int] = []
    bodies: list[int] = []
    aws.cloudwatch.meta.events.register(
        "provide-client-params.cloudwatch.PutMetricData",
        lambda params, **_: sizes.append(len(params["MetricData"])),
    )
    aws.cloudwatch.meta.events.register(
        "before-send.cloudwatch.PutMetricData",
        lambda request, **_: bodies.append(len(request.body or b"")),
    )
    run = (("Endpoint", ENDPOINT), ("Monitor", MONITOR))
    many = [
        monitor_io.Datum("PopulationStabilityIndex", 0.01 * i, (*run, ("Feature", f"f{i}")))
        for i in range(2500)
    ]
    assert monitor_io.publish(aws.cloudwatch, metrics.MONITOR_NAMESPACE, many, WINDOW_END) == 3
    assert sizes == [1000, 1000, 500]
    # Dimension values up to CloudWatch's 1024 characters: the 1 MB request limit binds first.
    wide = [
        monitor_io.Datum("MissingRate", 0.5, (*run, ("Feature", f"{i:04d}" + "x" * 1020)))
        for i in range(1000)
    ]
    sizes.clear()
    bodies.clear()
    requests = monitor_io.publish(aws.cloudwatch, metrics.MONITOR_NAMESPACE, wide, WINDOW_END)
    assert requests > 1
    assert sum(sizes) == 1000
    assert max(bodies) <= monitor_io.MAX_REQUEST_BYTES
    listed = aws.cloudwatch.get_paginator("list_metrics").paginate(
        Namespace=metrics.MONITOR_NAMESPACE
    )
    assert sum(len(page["Metrics"]) for page in listed) == 3500


def test_a_refused_put_is_an_output_failure(aws: Aws) -> None:
    refused = [monitor_io.Datum("", 1.0, (("Endpoint", ENDPOINT),))]
    with pytest.raises(monitor_io.OutputFailed, match="PutMetricData"):
        monitor_io.publish(aws.cloudwatch, metrics.MONITOR_NAMESPACE, refused, WINDOW_END)


def test_values_beyond_cloudwatch_range_are_clamped() -> None:
    datum = monitor_io.Datum("MAE", 1e300, ())
    assert datum.to_api(WINDOW_END)["Value"] == monitor_io.CLOUDWATCH_MAX_VALUE


# --- Exit codes -------------------------------------------------------------------------------


def test_a_missing_capture_bucket_is_unreadable_input(aws: Aws) -> None:
    code = monitor.main(args_with("--capture-uri", "s3://no-such-capture-bucket/x"))
    assert code == contract.EXIT_UNREADABLE_INPUT
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=MONITORING_BUCKET, Prefix="reports/")
    assert aws.metric_names(**RUN) == set()


def test_a_missing_baseline_object_is_unreadable_input(aws: Aws) -> None:
    aws.s3.delete_object(Bucket=MONITORING_BUCKET, Key=f"baselines/{ENDPOINT}/statistics.json")
    aws.put_capture(capture_lines(draw(11, 10)))
    assert monitor.main(args()) == contract.EXIT_UNREADABLE_INPUT


def test_an_unwritable_output_fails_the_run_but_still_publishes(aws: Aws) -> None:
    aws.put_capture(capture_lines(draw(12, 40)))
    code = monitor.main(args_with("--output-uri", "s3://no-such-monitoring-bucket/r"))
    assert code == contract.EXIT_OUTPUT_FAILED
    assert aws.value(metrics.MONITOR_NO_DATA, **RUN) == 0.0

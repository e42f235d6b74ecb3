"""ModelMonitor, built-in backend: the monitoring pipeline, its role, schedule and alarms,
the validation of every prop, and the runner that starts the script (against moto).

The template is synthesized once (with the compliance packs) in a Data/Network/Monitor app;
the runner is run end to end on moto's S3, SageMaker and CloudWatch from the same zip
archive CDK uploads, so zipimport, the registry baseline and the script's outputs are real.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import boto3
import numpy as np
import pandas as pd
import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_iam as iam
from cfnlint.api import ManualArgs, lint_file
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from sagemaker_lifecycle import DataLake, MlNetwork, Zone, add_compliance_checks, metrics
from sagemaker_lifecycle.images import Framework
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.monitoring import (
    MONITOR_SCRIPT_DIR,
    MONITOR_SCRIPT_EXCLUDES,
    Baseline,
    BiasMonitor,
    DataQualityMonitor,
    ExplainabilityMonitor,
    ModelMonitor,
    ModelMonitorBaselines,
    ModelQualityMonitor,
    PredictionFormat,
)
from sagemaker_lifecycle.monitoring.monitor_config import parse_monitor_schedule
from sagemaker_lifecycle.monitoring.monitoring_alarms import construct_id
from sagemaker_lifecycle.monitoring.runner import monitor_runner
from sagemaker_lifecycle.monitoring.scripts import monitor_baseline
from sagemaker_lifecycle.monitoring.scripts import monitor_contract as contract
from sagemaker_lifecycle.pipelines import LakeLocation
from sagemaker_lifecycle.serving import DataCapture, InferenceImage, ModelSource, RealtimeEndpoint
from tests.support import cdk_json_context, normalize_template, resources_of_type

REGION: Final = "eu-west-1"
FEATURES = ("tenure_months", "contract", "region")


@dataclass
class Built:
    app: App
    monitor_stack: Stack
    lake: DataLake
    network: MlNetwork
    registry: ModelRegistry
    endpoint: RealtimeEndpoint
    monitor: ModelMonitor


def build(outdir: Path | None = None) -> Built:
    app = App(context=cdk_json_context(), outdir=str(outdir) if outdir else None)
    add_compliance_checks(app)
    network = MlNetwork(Stack(app, "Network"), "Network")
    data = Stack(app, "Data")
    lake = DataLake(data, "DataLake")
    registry = ModelRegistry(data, "Registry", model_package_group_name="churn")
    serving = Stack(app, "Serving")
    endpoint = RealtimeEndpoint(
        serving,
        "Churn",
        endpoint_name="churn",
        model_source=ModelSource.from_artifacts(
            InferenceImage.from_framework(serving, Framework.XGBOOST),
            "models/churn/bootstrap/model.tar.gz",
        ),
        data_lake=lake,
        network=network,
        data_capture=DataCapture(),
    )
    stack = Stack(app, "Monitor")
    monitor = ModelMonitor(
        stack,
        "Monitor",
        data_lake=lake,
        endpoint=endpoint,
        monitor_name="churn-hourly",
        baseline=Baseline.from_registry(
            registry, statistics=LakeLocation(lake, Zone.MONITORING, "churn/baseline/")
        ),
        data_quality=DataQualityMonitor(features=FEATURES, psi_threshold=0.25),
        model_quality=ModelQualityMonitor(
            ground_truth=LakeLocation(lake, Zone.CAPTURE, "ground-truth/churn/"),
            problem_type="binary_classification",
            ground_truth_delay=Duration.hours(24),
            min_auc=0.75,
            min_recall=0.5,
        ),
        bias=BiasMonitor(facets=["contract=0"], class_imbalance_threshold=0.3),
        network=network,
    )
    return Built(app, stack, lake, network, registry, endpoint, monitor)


@dataclass
class Synthesized:
    built: Built
    template: dict[str, Any]
    template_path: Path

    def one(self, resource_type: str, prefix: str = "") -> dict[str, Any]:
        (resource,) = [
            r
            for logical_id, r in resources_of_type(self.template, resource_type).items()
            if logical_id.startswith(prefix)
        ]
        found: dict[str, Any] = resource
        return found

    def steps(self) -> dict[str, dict[str, Any]]:
        body = self.one("AWS::SageMaker::Pipeline")["Properties"]["PipelineDefinition"]
        definition = json.loads(_text(body["PipelineDefinitionBody"]))
        return {step["Name"]: step for step in definition["Steps"]}

    def policy_statements(self, role_prefix: str) -> list[dict[str, Any]]:
        statements: list[dict[str, Any]] = []
        for policy in resources_of_type(self.template, "AWS::IAM::Policy").values():
            roles = [r["Ref"] for r in policy["Properties"]["Roles"]]
            if any(r.startswith(role_prefix) for r in roles):
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
        return statements


_MARKERS: dict[str, Any] = {
    "Ref": lambda inner: f"<{inner}>",
    "Fn::GetAtt": lambda inner: f"<{inner[0]}.{inner[1]}>",
    "Fn::GetStackOutput": lambda inner: f"<{inner['StackName']}.{inner['OutputName']}>",
    "Fn::FindInMap": lambda inner: f"<FindInMap:{inner[0]}>",
    "Fn::Sub": lambda inner: f"<Sub:{inner}>",
}


def _text(value: Any) -> str:
    """A template string with every intrinsic replaced by a readable marker."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(p) for p in parts)
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _MARKERS:
        ((name, inner),) = value.items()
        return str(_MARKERS[name](inner))
    return json.dumps(value)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    built = build(outdir)
    assembly = built.app.synth()  # raises on any open cdk-nag finding
    artifact = assembly.get_stack_by_name("Monitor")
    yield Synthesized(built, artifact.template, Path(artifact.template_full_path))
    shutil.rmtree(outdir, ignore_errors=True)


def _args(step: dict[str, Any]) -> list[str]:
    return [_text(a) for a in step["Arguments"]["AppSpecification"]["ContainerArguments"]]


def _option(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


# --- the pipeline -----------------------------------------------------------------------------


def test_two_steps_run_the_runner_on_the_sklearn_image(synth: Synthesized) -> None:
    steps = synth.steps()
    assert set(steps) == {"DataQuality", "ModelQuality"}
    for step in steps.values():
        app = step["Arguments"]["AppSpecification"]
        assert "sagemaker-scikit-learn:1.2-1-cpu-py3" in _text(app["ImageUri"])
        python, runner = app["ContainerEntrypoint"]
        assert python == "python3"
        assert runner.startswith("/opt/ml/processing/input/runner/")
        assert runner.endswith(".py")
        code = _option(_args(step), "--code")[0]
        assert code.startswith(f"{contract.CONTAINER_CODE_DIR}/")
        assert code.endswith(".zip")
        inputs = {i["InputName"]: i["S3Input"] for i in step["Arguments"]["ProcessingInputs"]}
        assert set(inputs) == {"code", "runner"}
        assert inputs["code"]["LocalPath"] == contract.CONTAINER_CODE_DIR
        assert code.rsplit("/", 1)[1] in _text(inputs["code"]["S3Uri"])
        assert runner.rsplit("/", 1)[1] in _text(inputs["runner"]["S3Uri"])


def test_jobs_run_in_the_private_network_without_isolation_with_encrypted_volumes(
    synth: Synthesized,
) -> None:
    for step in synth.steps().values():
        arguments = step["Arguments"]
        network = arguments["NetworkConfig"]
        # The script calls S3 and CloudWatch itself: no isolation, but only in the VPC.
        assert network["EnableNetworkIsolation"] is False
        assert network["EnableInterContainerTrafficEncryption"] is True
        assert len(network["VpcConfig"]["Subnets"]) == 2
        assert "DataLakeKey" in _text(
            arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"]
        )
        assert arguments["StoppingCondition"] == {"MaxRuntimeInSeconds": 3000}
        assert arguments["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.large"
        assert [p["ExceptionType"] for p in step["RetryPolicies"]] == [
            ["SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT", "SageMaker.JOB_INTERNAL_ERROR"]
        ]


def test_data_quality_step_resolves_the_registry_baseline_and_checks_bias(
    synth: Synthesized,
) -> None:
    args = _args(synth.steps()["DataQuality"])
    runner, monitor = args[: args.index("--")], args[args.index("--") + 1 :]
    assert _option(runner, "--baseline-model-package-group") == ["churn"]
    assert _option(runner, "--region") == ["<AWS::Region>"]
    assert "--baseline-uri" not in monitor  # the runner appends the resolved one
    assert _option(monitor, "--endpoint-name") == ["churn"]
    assert _option(monitor, "--monitor-name") == ["churn-hourly"]
    assert _option(monitor, "--capture-uri")[0].endswith("/datacapture/churn")
    assert "CaptureBucket" in _option(monitor, "--capture-uri")[0]
    assert _option(monitor, "--output-uri")[0].endswith("/reports/churn-hourly/data-quality")
    assert _option(monitor, "--window-hours") == ["1"]
    assert _option(monitor, "--psi-threshold") == ["0.25"]
    assert _option(monitor, "--facet") == ["contract=0"]
    # The bias facet takes its problem type from model quality.
    assert _option(monitor, "--problem-type") == ["binary_classification"]
    assert _option(monitor, "--class-imbalance-threshold") == ["0.3"]
    assert _option(monitor, "--region") == ["<AWS::Region>"]
    assert "DataLakeKey" in _option(monitor, "--output-kms-key-id")[0]
    assert "--window-end" not in monitor  # the window ends at the run's hour


def test_model_quality_step_analyses_the_window_whose_labels_arrived(synth: Synthesized) -> None:
    args = _args(synth.steps()["ModelQuality"])
    runner, monitor = args[: args.index("--")], args[args.index("--") + 1 :]
    assert "--baseline-model-package-group" not in runner
    assert _option(monitor, "--monitor-name") == ["churn-hourly-model-quality"]
    assert _option(monitor, "--ground-truth-uri")[0].endswith("/ground-truth/churn")
    assert _option(monitor, "--window-offset-hours") == ["24"]
    assert _option(monitor, "--ground-truth-delay-hours") == ["24"]
    assert _option(monitor, "--min-auc") == ["0.75"]
    assert _option(monitor, "--min-recall") == ["0.5"]
    assert _option(monitor, "--output-uri")[0].endswith("/reports/churn-hourly/model-quality")
    assert "--facet" not in monitor


def test_monitoring_pipeline_is_named_after_the_monitor_and_scheduled_hourly(
    synth: Synthesized,
) -> None:
    pipeline = synth.one("AWS::SageMaker::Pipeline")["Properties"]
    assert pipeline["PipelineName"] == "churn-hourly-monitor"
    schedule = synth.one("AWS::Scheduler::Schedule")["Properties"]
    assert schedule["ScheduleExpression"] == "cron(15 * * * ? *)"
    assert schedule["Target"]["Arn"]["Fn::Join"][1][-1] == ":pipeline/churn-hourly-monitor"
    assert "KmsKeyArn" in schedule


def test_failed_monitoring_runs_notify_the_alarm_topic(synth: Synthesized) -> None:
    rule = synth.one("AWS::Events::Rule")["Properties"]
    assert rule["EventPattern"]["detail"]["currentPipelineExecutionStatus"] == ["Failed"]
    (target,) = rule["Targets"]
    assert target["Arn"]["Ref"].startswith("MonitorAlarmTopic")


# --- the role ---------------------------------------------------------------------------------


def test_role_publishes_metrics_only_to_the_monitor_namespace(synth: Synthesized) -> None:
    statements = synth.policy_statements("MonitorBuiltinBackendRole")
    put = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert {"StringEquals": {"cloudwatch:namespace": metrics.MONITOR_NAMESPACE}} in [
        s["Condition"] for s in put
    ]


def test_role_reads_capture_ground_truth_and_baselines_and_writes_only_reports(
    synth: Synthesized,
) -> None:
    statements = synth.policy_statements("MonitorBuiltinBackendRole")

    def prefixes(action: str) -> set[str]:
        found = set()
        for statement in statements:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if action in actions:
                resources = statement["Resource"]
                for resource in resources if isinstance(resources, list) else [resources]:
                    text = _text(resource)
                    if text.endswith("*"):
                        found.add(text.split(">", 1)[-1])
        return found

    assert prefixes("s3:GetObject*") >= {
        "/datacapture/churn/*",
        "/ground-truth/churn/*",
        "/churn/baseline/*",
    }
    assert prefixes("s3:PutObject") == {"/reports/churn-hourly/*"}


def test_role_reads_the_registry_to_resolve_the_baseline(synth: Synthesized) -> None:
    statements = synth.policy_statements("MonitorBuiltinBackendRole")
    described = [s for s in statements if "sagemaker:DescribeModelPackage" in s["Action"]]
    assert described
    assert "model-package/churn/*" in _text(described[0]["Resource"])


# --- alarms -----------------------------------------------------------------------------------


def _alarms(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        logical_id: alarm["Properties"]
        for logical_id, alarm in resources_of_type(synth.template, "AWS::CloudWatch::Alarm").items()
    }


def test_one_drift_alarm_per_feature_on_drift_detected(synth: Synthesized) -> None:
    drift = [
        a for a in _alarms(synth).values() if a.get("MetricName") == metrics.MONITOR_DRIFT_DETECTED
    ]
    assert len(drift) == len(FEATURES)
    features = set()
    for alarm in drift:
        assert alarm["Namespace"] == metrics.MONITOR_NAMESPACE
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dimensions[metrics.MONITOR_DIM_ENDPOINT] == "churn"
        assert dimensions[metrics.MONITOR_DIM_MONITOR] == "churn-hourly"
        features.add(dimensions[metrics.MONITOR_DIM_FEATURE])
        assert alarm["Period"] == 3600
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 1)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["Threshold"] == 1
        assert alarm["TreatMissingData"] == "notBreaching"
    assert features == set(FEATURES)


def test_model_quality_alarms_fire_below_each_minimum(synth: Synthesized) -> None:
    quality = {
        a["MetricName"]: a
        for a in _alarms(synth).values()
        if a.get("MetricName") in (metrics.MONITOR_AUC, metrics.MONITOR_RECALL)
    }
    assert quality[metrics.MONITOR_AUC]["Threshold"] == 0.75
    assert quality[metrics.MONITOR_RECALL]["Threshold"] == 0.5
    for alarm in quality.values():
        assert alarm["ComparisonOperator"] == "LessThanThreshold"
        # Figures are timestamped at the end of their window, 24 hours back: look that far.
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (24 + 2, 1)
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dimensions[metrics.MONITOR_DIM_MONITOR] == "churn-hourly-model-quality"


def test_bias_alarms_watch_the_absolute_dppl_and_class_imbalance(synth: Synthesized) -> None:
    bias = [a for a in _alarms(synth).values() if "Metrics" in a]
    assert len(bias) == 2
    names = set()
    for alarm in bias:
        expression, metric = alarm["Metrics"]
        assert expression["Expression"] == "ABS(m)"
        names.add(metric["MetricStat"]["Metric"]["MetricName"])
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert names == {metrics.MONITOR_DPPL, metrics.MONITOR_CLASS_IMBALANCE}


def test_no_data_alarm_counts_silent_runs_as_no_data(synth: Synthesized) -> None:
    (alarm,) = [
        a for a in _alarms(synth).values() if a.get("MetricName") == metrics.MONITOR_NO_DATA
    ]
    assert alarm["TreatMissingData"] == "breaching"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)


def test_every_alarm_notifies_the_encrypted_topic(synth: Synthesized) -> None:
    alarms = _alarms(synth)
    assert len(alarms) == len(synth.built.monitor.alarms) == 3 + 2 + 2 + 1
    for alarm in alarms.values():
        (action,) = alarm["AlarmActions"]
        assert action["Ref"].startswith("MonitorAlarmTopic")
    topic = synth.one("AWS::SNS::Topic")["Properties"]
    assert topic["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("MonitorKey")
    key = synth.one("AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    services = {
        s["Principal"].get("Service")
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if isinstance(s["Principal"], dict)
    }
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= services


def test_retraining_alarms_are_the_drift_and_quality_alarms(synth: Synthesized) -> None:
    monitor = synth.built.monitor
    assert len(monitor.retraining_alarms) == 5
    assert monitor.monitor_alarms.no_data not in monitor.retraining_alarms


def test_template_has_no_cfn_lint_errors(synth: Synthesized) -> None:
    matches = lint_file(synth.template_path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert matches == [], "\n".join(f"{m.rule.id} {m.message} ({m.path})" for m in matches)


def test_template_snapshot(synth: Synthesized, snapshot: SnapshotAssertion) -> None:
    assert normalize_template(synth.template) == snapshot(extension_class=JSONSnapshotExtension)


# --- metric methods ---------------------------------------------------------------------------


def test_metric_methods_use_the_monitor_dimensions(synth: Synthesized) -> None:
    monitor = synth.built.monitor
    stack = synth.built.monitor_stack
    drift = monitor.metric_feature_drift("region")
    assert (drift.namespace, drift.metric_name) == (
        metrics.MONITOR_NAMESPACE,
        metrics.MONITOR_DRIFT_DETECTED,
    )
    assert stack.resolve(drift.dimensions)[metrics.MONITOR_DIM_FEATURE] == "region"
    assert monitor.metric_feature_drift().metric_name == metrics.MONITOR_FEATURES_DRIFTED
    assert monitor.metric_model_quality("auc").metric_name == metrics.MONITOR_AUC
    assert monitor.metric_bias("contract").metric_name == metrics.MONITOR_DPPL
    assert monitor.metric_records_analyzed().statistic == "Sum"
    assert monitor.metric_violations().metric_name == metrics.MONITOR_VIOLATIONS
    assert monitor.metric_no_data().period.to_seconds() == 3600


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: m.metric_model_quality("logloss"), "figure must be one of"),
        (lambda m: m.metric_bias("age"), "facet must be one of contract"),
        (lambda m: m.metric_bias("contract", "KL"), "measure must be one of"),
    ],
)
def test_metric_methods_reject_unknown_names(synth: Synthesized, call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(synth.built.monitor)


# --- validation -------------------------------------------------------------------------------


@dataclass
class Bare:
    stack: Stack
    lake: DataLake
    network: MlNetwork
    registry: ModelRegistry
    counter: list[int]

    def props(self, **changes: Any) -> dict[str, Any]:
        props: dict[str, Any] = {
            "data_lake": self.lake,
            "endpoint_name": "churn",
            "capture": LakeLocation(self.lake, Zone.CAPTURE, "datacapture/churn/"),
            "baseline": Baseline.from_location(
                LakeLocation(self.lake, Zone.MONITORING, "churn/baseline/current/")
            ),
            "network": self.network,
        }
        props.update(changes)
        return props

    def monitor(self, **changes: Any) -> ModelMonitor:
        self.counter[0] += 1
        return ModelMonitor(self.stack, f"Monitor{self.counter[0]}", **self.props(**changes))


@pytest.fixture(scope="module")
def bare() -> Bare:
    app = App(context=cdk_json_context())
    stack = Stack(app, "Bare")
    lake = DataLake(stack, "Lake")
    return Bare(
        stack,
        lake,
        MlNetwork(stack, "Network"),
        ModelRegistry(stack, "Registry", model_package_group_name="churn"),
        [0],
    )


def _gt(bare: Bare) -> LakeLocation:
    return LakeLocation(bare.lake, Zone.CAPTURE, "ground-truth/churn/")


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("cron every two hours", {"schedule": "cron(0 */2 * * ? *)"}, "schedule 'cron"),
    ("weekly rate", {"schedule": "rate(7 days)"}, "neither once an hour nor once a day"),
    ("one-time schedule", {"schedule": "at(2030-01-01T00:00:00)"}, "schedule 'at"),
    ("malformed schedule", {"schedule": "every hour"}, "schedule 'every hour'"),
    ("unknown backend", {"backend": "clarify"}, "backend must be one of"),
    ("no network", {"network": None}, "network is required with backend='builtin'"),
    ("no baseline", {"baseline": None}, "baseline is required with backend='builtin'"),
    (
        "explainability",
        {"explainability": ExplainabilityMonitor(model_name="churn")},
        "explainability needs backend='sagemaker'",
    ),
    (
        "model monitor baselines",
        {"model_monitor_baselines": ModelMonitorBaselines()},
        "model_monitor_baselines applies to backend='sagemaker'",
    ),
    ("monitor name too long", {"monitor_name": "m" * 49}, "monitor_name must be 1 to 48"),
    ("monitor name underscore", {"monitor_name": "churn_hourly"}, "monitor_name must be"),
    ("instance type", {"instance_type": "ml.m5.huge"}, "instance_type 'ml.m5.huge'"),
    ("volume", {"volume_size_gb": 0}, "volume_size_gb must be from 1"),
    ("runtime above interval", {"max_runtime": Duration.minutes(61)}, "max_runtime must be"),
    ("alarm periods", {"alarm_evaluation_periods": 200}, "alarm_evaluation_periods must be"),
    (
        "alarm datapoints",
        {"alarm_evaluation_periods": 2, "alarm_datapoints_to_alarm": 3},
        "alarm_datapoints_to_alarm must be from 1 to 2",
    ),
    (
        "psi threshold",
        {"data_quality": DataQualityMonitor(psi_threshold=-1.0)},
        "data_quality.psi_threshold -1.0",
    ),
    (
        "min records",
        {"data_quality": DataQualityMonitor(min_records=0)},
        "data_quality.min_records 0",
    ),
    (
        "duplicate features",
        {"data_quality": DataQualityMonitor(features=("a", "a"))},
        "data_quality.features must be unique",
    ),
    (
        "features as a string",
        {"data_quality": DataQualityMonitor(features="age")},
        "data_quality.features must be a list",
    ),
    (
        "drift distance",
        {"data_quality": DataQualityMonitor(baseline_drift_threshold=0)},
        "data_quality.baseline_drift_threshold",
    ),
    (
        "predictions kind",
        {"predictions": PredictionFormat(kind="probability")},
        "predictions.kind 'probability'",
    ),
    (
        "probability threshold",
        {"predictions": PredictionFormat(probability_threshold=1.5)},
        "predictions.probability_threshold 1.5",
    ),
]


@pytest.mark.parametrize(("case", "changes", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_props_are_rejected(
    bare: Bare, case: str, changes: dict[str, Any], message: str
) -> None:
    del case
    with pytest.raises(ValueError, match=message):
        bare.monitor(**changes)


def test_model_quality_without_ground_truth_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"model_quality.ground_truth is required"):
        bare.monitor(model_quality=ModelQualityMonitor(problem_type="regression"))


def test_model_quality_without_problem_type_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"model_quality.problem_type must be one of"):
        bare.monitor(model_quality=ModelQualityMonitor(ground_truth=_gt(bare)))


def test_regression_threshold_on_a_classifier_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"model_quality.max_rmse does not apply"):
        bare.monitor(
            model_quality=ModelQualityMonitor(
                ground_truth=_gt(bare), problem_type="binary_classification", max_rmse=3.0
            )
        )


def test_fractional_ground_truth_delay_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match="ground_truth_delay must be a whole number of hours"):
        bare.monitor(
            model_quality=ModelQualityMonitor(
                ground_truth=_gt(bare),
                problem_type="regression",
                ground_truth_delay=Duration.minutes(90),
            )
        )


def test_ground_truth_delay_beyond_the_alarm_range_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"ground_truth_delay 7 days plus alarm_evaluation"):
        bare.monitor(
            model_quality=ModelQualityMonitor(
                ground_truth=_gt(bare),
                problem_type="regression",
                ground_truth_delay=Duration.days(7),
            )
        )


def test_bias_without_facets_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"bias.facets must name at least one facet"):
        bare.monitor(bias=BiasMonitor(problem_type="binary_classification"))


def test_malformed_facet_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"bias.facets 'gender' is not a facet"):
        bare.monitor(bias=BiasMonitor(facets=["gender"], problem_type="binary_classification"))


def test_bias_of_a_regression_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"bias.problem_type must be binary_classification"):
        bare.monitor(bias=BiasMonitor(facets=["gender=F"], problem_type="regression"))


def test_conflicting_problem_types_are_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"differs from model_quality.problem_type"):
        bare.monitor(
            model_quality=ModelQualityMonitor(ground_truth=_gt(bare), problem_type="regression"),
            bias=BiasMonitor(facets=["gender=F"], problem_type="binary_classification"),
        )


def test_scores_of_a_multiclass_model_are_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"predictions.kind 'score' needs"):
        bare.monitor(
            model_quality=ModelQualityMonitor(
                ground_truth=_gt(bare), problem_type="multiclass_classification"
            ),
            predictions=PredictionFormat(kind="score"),
        )


def test_endpoint_and_endpoint_name_are_exclusive(bare: Bare) -> None:
    with pytest.raises(ValueError, match=r"give endpoint .* not neither"):
        bare.monitor(endpoint_name=None, capture=None)


def test_endpoint_name_needs_capture(bare: Bare) -> None:
    with pytest.raises(ValueError, match="capture is required with endpoint_name"):
        bare.monitor(capture=None)


def test_capture_outside_the_capture_zone_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match="capture must be a prefix of data_lake's capture zone"):
        bare.monitor(capture=LakeLocation(bare.lake, Zone.RAW, "datacapture/churn/"))


def test_invalid_endpoint_name_is_rejected(bare: Bare) -> None:
    with pytest.raises(ValueError, match="endpoint_name must match"):
        bare.monitor(endpoint_name="churn_endpoint", monitor_name="churn")


def test_every_invalid_prop_is_reported_at_once(bare: Bare) -> None:
    with pytest.raises(ValueError, match="schedule") as error:
        bare.monitor(schedule="rate(5 minutes)", network=None, volume_size_gb=0)
    assert "network is required" in str(error.value)
    assert "volume_size_gb" in str(error.value)


def test_an_endpoint_without_capture_is_rejected(bare: Bare) -> None:
    endpoint = RealtimeEndpoint(
        bare.stack,
        "NoCapture",
        endpoint_name="nocapture",
        model_source=ModelSource.from_artifacts(
            InferenceImage.from_framework(bare.stack, Framework.XGBOOST), "models/m/model.tar.gz"
        ),
        data_lake=bare.lake,
        data_capture=None,
    )
    with pytest.raises(ValueError, match="has no data capture"):
        bare.monitor(endpoint=endpoint, endpoint_name=None, capture=None)


def test_grant_read_reports_covers_only_the_reports(bare: Bare) -> None:
    monitor = bare.monitor()
    reader = iam.Role(bare.stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    grant = monitor.grant_read_reports(reader)
    resources = json.dumps(
        bare.stack.resolve([s.to_statement_json() for s in grant.principal_statements])
    )
    assert f"/reports/{monitor.monitor_name}/*" in resources
    assert "datacapture" not in resources


def test_a_static_baseline_is_passed_to_the_script(bare: Bare) -> None:
    monitor = bare.monitor(schedule="daily")
    assert monitor.pipeline is not None
    definition = bare.stack.resolve(monitor.pipeline.definition.to_json())
    (step,) = definition["Steps"]
    args = [_text(a) for a in step["Arguments"]["AppSpecification"]["ContainerArguments"]]
    assert _option(args, "--baseline-uri")[0].endswith("/churn/baseline/current/statistics.json")
    assert "--baseline-model-package-group" not in args
    assert _option(args, "--window-hours") == ["24"]
    assert monitor.cadence.scheduler_expression() == "cron(15 0 * * ? *)"


# --- schedules ------------------------------------------------------------------------------


@settings(max_examples=60)
@given(minute=st.integers(0, 59), hour=st.one_of(st.none(), st.integers(0, 23)))
def test_any_hourly_or_daily_cron_is_accepted_with_its_window(
    minute: int, hour: int | None
) -> None:
    expression = f"cron({minute} {'*' if hour is None else hour} * * ? *)"
    cadence = parse_monitor_schedule(expression)
    assert cadence.hours == (1 if hour is None else 24)
    assert cadence.scheduler_expression() == expression


@settings(max_examples=60)
@given(
    minutes=st.sampled_from(["*", "0/5", "0,30", "10-20"]),
    hours=st.sampled_from(["*", "*/2", "1,13", "0-5", "3"]),
)
def test_crons_running_more_than_once_an_hour_or_day_are_rejected(minutes: str, hours: str) -> None:
    with pytest.raises(ValueError, match="neither once an hour nor once a day"):
        parse_monitor_schedule(f"cron({minutes} {hours} * * ? *)")


@pytest.mark.parametrize(
    ("expression", "hours"),
    [
        ("hourly", 1),
        ("daily", 24),
        ("rate(1 hour)", 1),
        ("rate(1 day)", 24),
        ("rate(24 hours)", 24),
    ],
)
def test_keywords_and_rates_map_to_their_window(expression: str, hours: int) -> None:
    assert parse_monitor_schedule(expression).hours == hours


@settings(max_examples=80)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=2, unique=True))
def test_distinct_feature_names_get_distinct_construct_ids(names: list[str]) -> None:
    first, second = (construct_id(name) for name in names)
    assert first != second
    assert first.isalnum()
    assert second.isalnum()


# --- the runner, end to end on moto ------------------------------------------------------------

WINDOW_END = "2024-05-01T13:00:00Z"
HOUR = "2024/05/01/12"


def _archive(tmp_path: Path) -> Path:
    """The monitor folder zipped as CDK zips an asset folder (the same excludes)."""
    path = tmp_path / "code.zip"
    excluded = set(MONITOR_SCRIPT_EXCLUDES)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(MONITOR_SCRIPT_DIR.iterdir()):
            if file.is_file() and file.name not in excluded and file.suffix != ".pyc":
                archive.write(file, file.name)
    return path


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh moto account with fake credentials (never a real one)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def fresh_monitor_modules() -> Iterator[None]:
    """The runner imports ``monitor`` from its archive: forget any earlier import."""
    names = [n for n in sys.modules if n == "monitor" or n.startswith("monitor_")]
    saved = {name: sys.modules.pop(name) for name in names}
    path = list(sys.path)
    yield
    for name in [n for n in sys.modules if n == "monitor" or n.startswith("monitor_")]:
        del sys.modules[name]
    sys.modules.update(saved)
    sys.path[:] = path


def _capture_lines(frame: pd.DataFrame) -> list[str]:
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
                            "observedContentType": "text/csv",
                            "mode": "OUTPUT",
                            "data": "0.3",
                            "encoding": "CSV",
                        },
                    },
                    "eventMetadata": {"eventId": f"e{i}", "inferenceTime": "2024-05-01T12:30:00Z"},
                    "eventVersion": "0",
                }
            )
        )
    return lines


def _customers(seed: int, n: int, tenure_mean: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure_months": rng.normal(tenure_mean, 8, n).round(1),
            "contract": rng.choice(["0", "1", "2"], n, p=[0.5, 0.3, 0.2]),
        }
    )


@pytest.mark.usefixtures("aws", "fresh_monitor_modules")
def test_runner_monitors_against_the_newest_approved_baseline(tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for bucket in ("capture-bucket", "monitoring-bucket"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    training = _customers(0, 3000, 30.0)
    baseline = monitor_baseline.build_baseline(
        training, categorical=["contract"], created_at=datetime(2024, 4, 1, tzinfo=UTC)
    )
    s3.put_object(
        Bucket="monitoring-bucket",
        Key="churn/baseline/e2/statistics/statistics.json",
        Body=json.dumps(baseline).encode(),
    )
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    versions: list[tuple[str, Literal["Approved", "PendingManualApproval"]]] = [
        ("e1", "Approved"),
        ("e2", "Approved"),
        ("e3", "PendingManualApproval"),
    ]
    for version, status in versions:
        sagemaker.create_model_package(
            ModelPackageGroupName="churn",
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": "1.dkr.ecr.eu-west-1.amazonaws.com/x:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelMetrics={
                "ModelDataQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": f"s3://monitoring-bucket/churn/baseline/{version}/statistics/statistics.json",
                    }
                }
            },
        )
    drifted = _customers(1, 500, 45.0)
    s3.put_object(
        Bucket="capture-bucket",
        Key=f"datacapture/churn/churn/AllTraffic/{HOUR}/capture-1.jsonl",
        Body="\n".join(_capture_lines(drifted)).encode(),
    )
    code = monitor_runner.main(
        [
            "--code",
            str(_archive(tmp_path)),
            "--baseline-model-package-group",
            "churn",
            "--region",
            REGION,
            "--",
            "--endpoint-name",
            "churn",
            "--monitor-name",
            "churn-hourly",
            "--capture-uri",
            "s3://capture-bucket/datacapture/churn",
            "--output-uri",
            "s3://monitoring-bucket/reports/churn-hourly/data-quality",
            "--window-end",
            WINDOW_END,
            "--region",
            REGION,
        ],
        sagemaker_client=sagemaker,
    )
    assert code == contract.EXIT_OK
    # The monitor was imported from the zip archive, not from the library.
    assert str(importlib.import_module("monitor").__file__).startswith(str(tmp_path / "code.zip"))
    report = json.loads(
        s3.get_object(
            Bucket="monitoring-bucket", Key=f"reports/churn-hourly/data-quality/{HOUR}/report.json"
        )["Body"].read()
    )
    assert report["baseline"]["uri"].endswith("/e2/statistics/statistics.json")
    drifted_features = {f["name"] for f in report["data_quality"]["features"] if f["drift"]}
    assert drifted_features == {"tenure_months"}
    published = cloudwatch.list_metrics(Namespace=metrics.MONITOR_NAMESPACE)["Metrics"]
    assert metrics.MONITOR_DRIFT_DETECTED in {m["MetricName"] for m in published}


@pytest.mark.usefixtures("aws")
def test_runner_without_an_approved_version_reports_unreadable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    code = monitor_runner.main(
        ["--code", str(tmp_path), "--baseline-model-package-group", "churn", "--", "--x"],
        sagemaker_client=sagemaker,
    )
    assert code == contract.EXIT_UNREADABLE_INPUT == monitor_runner.EXIT_UNREADABLE_INPUT
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["event"] == "baseline_not_found"
    assert "no Approved version" in line["error"]


@pytest.mark.usefixtures("aws")
def test_runner_rejects_an_approved_version_without_statistics(tmp_path: Path) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    sagemaker.create_model_package(
        ModelPackageGroupName="churn",
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": "1.dkr.ecr.eu-west-1.amazonaws.com/x:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
    with pytest.raises(monitor_runner.BaselineNotFound, match="no ModelMetrics"):
        monitor_runner.latest_approved_statistics(sagemaker, "churn")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--code", "x"], "after '--'"),
        (["--code", "--", "--x"], "one value"),
        (["--bogus", "1", "--"], "unknown runner option"),
        (["--region", "eu-west-1", "--"], "--code"),
    ],
)
def test_runner_usage_errors_exit_2(argv: list[str], message: str) -> None:
    with pytest.raises(monitor_runner.RunnerUsageError, match=message):
        monitor_runner.split_arguments(argv)
    assert monitor_runner.main(argv) == contract.EXIT_USAGE


def test_runner_exit_codes_match_the_contract() -> None:
    assert monitor_runner.EXIT_USAGE == contract.EXIT_USAGE
    assert monitor_runner.EXIT_UNREADABLE_INPUT == contract.EXIT_UNREADABLE_INPUT


def test_runner_is_python_39_compatible_and_standalone() -> None:
    source = Path(monitor_runner.__file__).read_text(encoding="utf-8")
    assert "sagemaker_lifecycle" not in source  # it runs in the container without the library
    assert "from __future__ import annotations" in source

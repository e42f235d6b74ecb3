"""ModelMonitor, SageMaker Model Monitor backend: job definitions, schedules, the failed-run
rule, Model Monitor's metrics in the alarms, the role, and the backend's own validation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Environment, Stack
from cfnlint.api import ManualArgs, lint_file
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from sagemaker_lifecycle import DataLake, MlNetwork, Zone, add_compliance_checks, metrics
from sagemaker_lifecycle._internal.sagemaker_api import operation
from sagemaker_lifecycle.monitoring import (
    Baseline,
    BiasMonitor,
    DataQualityMonitor,
    ExplainabilityMonitor,
    ModelMonitor,
    ModelMonitorBaselines,
    ModelQualityMonitor,
)
from sagemaker_lifecycle.monitoring.model_monitor_images import MonitorImage, monitor_image_uri
from sagemaker_lifecycle.monitoring.sagemaker_backend import ModelMonitorSchedules
from sagemaker_lifecycle.pipelines import LakeLocation
from tests.support import cdk_json_context, normalize_template, resources_of_type

FEATURES = ("tenure_months", "contract")


def _baselines(lake: DataLake) -> ModelMonitorBaselines:
    return ModelMonitorBaselines(
        data_quality=LakeLocation(lake, Zone.MONITORING, "churn/checks/data-quality/"),
        model_quality=LakeLocation(lake, Zone.MONITORING, "churn/checks/model-quality/"),
        model_bias=LakeLocation(lake, Zone.MONITORING, "churn/checks/model-bias/"),
        model_explainability=LakeLocation(lake, Zone.MONITORING, "churn/checks/explainability/"),
    )


@dataclass
class Synthesized:
    stack: Stack
    monitor: ModelMonitor
    template: dict[str, Any]
    template_path: str

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: r["Properties"]
            for logical_id, r in resources_of_type(self.template, resource_type).items()
        }

    def one(self, resource_type: str) -> dict[str, Any]:
        (resource,) = self.of_type(resource_type).values()
        return resource


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = App(context=cdk_json_context())
    add_compliance_checks(app)
    network = MlNetwork(Stack(app, "Network"), "Network")
    lake = DataLake(Stack(app, "Data"), "DataLake")
    stack = Stack(app, "Monitor")
    monitor = ModelMonitor(
        stack,
        "Monitor",
        backend="sagemaker",
        data_lake=lake,
        endpoint_name="churn",
        capture=LakeLocation(lake, Zone.CAPTURE, "datacapture/churn/"),
        monitor_name="churn",
        model_monitor_baselines=_baselines(lake),
        data_quality=DataQualityMonitor(features=FEATURES, baseline_drift_threshold=0.2),
        model_quality=ModelQualityMonitor(
            ground_truth=LakeLocation(lake, Zone.CAPTURE, "ground-truth/churn/"),
            problem_type="binary_classification",
            ground_truth_delay=Duration.hours(24),
            min_accuracy=0.8,
        ),
        bias=BiasMonitor(facets=["contract=0"], label_header="churned"),
        explainability=ExplainabilityMonitor(model_name="churn-model"),
        network=network,
    )
    assembly = app.synth()  # raises on any open cdk-nag finding
    artifact = assembly.get_stack_by_name("Monitor")
    return Synthesized(stack, monitor, artifact.template, artifact.template_full_path)


JOB_DEFINITIONS = {
    "AWS::SageMaker::DataQualityJobDefinition": "DataQuality",
    "AWS::SageMaker::ModelQualityJobDefinition": "ModelQuality",
    "AWS::SageMaker::ModelBiasJobDefinition": "ModelBias",
    "AWS::SageMaker::ModelExplainabilityJobDefinition": "ModelExplainability",
}


def _flat(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("resource_type", JOB_DEFINITIONS)
def test_every_job_encrypts_volumes_and_outputs_in_the_vpc(
    synth: Synthesized, resource_type: str
) -> None:
    definition = synth.one(resource_type)
    kind = JOB_DEFINITIONS[resource_type]
    cluster = definition["JobResources"]["ClusterConfig"]
    assert "DataLakeKey" in _flat(cluster["VolumeKmsKeyId"])
    assert (cluster["InstanceType"], cluster["InstanceCount"]) == ("ml.m5.large", 1)
    output = definition[f"{kind}JobOutputConfig"]
    assert "DataLakeKey" in _flat(output["KmsKeyId"])
    (s3_output,) = output["MonitoringOutputs"]
    assert "MonitoringBucket" in _flat(s3_output["S3Output"]["S3Uri"])
    network = definition["NetworkConfig"]
    assert network["EnableInterContainerTrafficEncryption"] is True
    assert len(network["VpcConfig"]["Subnets"]) == 2
    # Only Clarify's SHAP analysis needs the SageMaker API (its shadow endpoint).
    assert network["EnableNetworkIsolation"] is (kind != "ModelExplainability")
    assert definition["StoppingCondition"] == {"MaxRuntimeInSeconds": 3000}
    assert definition["RoleArn"]["Fn::GetAtt"][0].startswith("MonitorModelMonitorBackendRole")


@pytest.mark.parametrize("resource_type", JOB_DEFINITIONS)
def test_job_definitions_read_the_endpoint_capture(synth: Synthesized, resource_type: str) -> None:
    kind = JOB_DEFINITIONS[resource_type]
    endpoint_input = synth.one(resource_type)[f"{kind}JobInput"]["EndpointInput"]
    assert endpoint_input["EndpointName"] == "churn"
    assert endpoint_input["LocalPath"] == "/opt/ml/processing/input/endpoint"


def test_images_are_the_analyzer_and_clarify_of_the_region(synth: Synthesized) -> None:
    analyzer = _flat(synth.one("AWS::SageMaker::DataQualityJobDefinition"))
    assert "sagemaker-model-monitor-analyzer:latest" in analyzer
    assert "ModelMonitorAnalyzerRegistries" in analyzer
    clarify = _flat(synth.one("AWS::SageMaker::ModelBiasJobDefinition"))
    assert "sagemaker-clarify-processing:1.0" in clarify
    assert set(synth.template["Mappings"]) >= {
        "ModelMonitorAnalyzerRegistries",
        "ModelMonitorClarifyRegistries",
    }


def test_baselines_come_from_the_check_steps(synth: Synthesized) -> None:
    data = synth.one("AWS::SageMaker::DataQualityJobDefinition")["DataQualityBaselineConfig"]
    assert _flat(data["StatisticsResource"]).endswith(
        '/churn/checks/data-quality/statistics.json"]]}}'
    )
    assert "/churn/checks/data-quality/constraints.json" in _flat(data["ConstraintsResource"])
    quality = synth.one("AWS::SageMaker::ModelQualityJobDefinition")
    assert "/churn/checks/model-quality/constraints.json" in _flat(
        quality["ModelQualityBaselineConfig"]
    )
    bias = synth.one("AWS::SageMaker::ModelBiasJobDefinition")
    assert "/churn/checks/model-bias/analysis_config.json" in _flat(
        bias["ModelBiasAppSpecification"]["ConfigUri"]
    )
    assert "/churn/checks/model-bias/analysis.json" in _flat(bias["ModelBiasBaselineConfig"])


def test_model_quality_reads_scores_and_delayed_ground_truth(synth: Synthesized) -> None:
    quality = synth.one("AWS::SageMaker::ModelQualityJobDefinition")
    assert quality["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    job_input = quality["ModelQualityJobInput"]
    endpoint = job_input["EndpointInput"]
    assert (endpoint["ProbabilityAttribute"], endpoint["ProbabilityThresholdAttribute"]) == (
        "0",
        0.5,
    )
    assert (endpoint["StartTimeOffset"], endpoint["EndTimeOffset"]) == ("-PT25H", "-PT24H")
    assert "/ground-truth/churn" in _flat(job_input["GroundTruthS3Input"])
    assert "/ground-truth/churn" in _flat(
        synth.one("AWS::SageMaker::ModelBiasJobDefinition")["ModelBiasJobInput"][
            "GroundTruthS3Input"
        ]
    )


def test_one_hourly_schedule_per_monitoring_type(synth: Synthesized) -> None:
    schedules = synth.of_type("AWS::SageMaker::MonitoringSchedule").values()
    by_type = {s["MonitoringScheduleConfig"]["MonitoringType"]: s for s in schedules}
    assert set(by_type) == set(JOB_DEFINITIONS.values())
    for kind, schedule in by_type.items():
        config = schedule["MonitoringScheduleConfig"]
        assert config["ScheduleConfig"] == {"ScheduleExpression": "cron(0 * ? * * *)"}
        assert schedule["EndpointName"] == "churn"
        assert schedule["MonitoringScheduleName"] == synth.monitor.schedule_names[kind]
        # The generated job definition name is the last part of its ARN.
        select = config["MonitoringJobDefinitionName"]["Fn::Select"]
        assert select[0] == 1
        assert select[1]["Fn::Split"][0] == "/"
    assert synth.monitor.schedule_names["DataQuality"] == "churn-data-quality"


def test_schedule_names_fit_the_api(synth: Synthesized) -> None:
    request = operation("CreateMonitoringSchedule").input_shape
    assert request is not None
    shape = request.members["MonitoringScheduleName"]
    for name in synth.monitor.schedule_names.values():
        assert len(name) <= shape.metadata["max"]


def test_failed_executions_of_the_schedules_notify_the_topic(synth: Synthesized) -> None:
    (rule,) = synth.of_type("AWS::Events::Rule").values()
    pattern = rule["EventPattern"]
    assert pattern["detail-type"] == ["SageMaker Processing Job State Change"]
    assert pattern["detail"]["ProcessingJobStatus"] == ["Failed"]
    assert len(pattern["detail"]["MonitoringScheduleArn"]) == 4
    (target,) = rule["Targets"]
    assert target["Arn"]["Ref"].startswith("MonitorAlarmTopic")


def test_alarms_read_model_monitor_namespaces(synth: Synthesized) -> None:
    alarms = list(synth.of_type("AWS::CloudWatch::Alarm").values())
    drift = [
        a
        for a in alarms
        if str(a.get("MetricName", "")).startswith("feature_baseline_drift_")
        and a["Statistic"] == "Maximum"
    ]
    assert {a["MetricName"] for a in drift} == {f"feature_baseline_drift_{f}" for f in FEATURES}
    for alarm in drift:
        assert alarm["Namespace"] == metrics.MODEL_MONITOR_DATA_NAMESPACE
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dimensions == {
            "Endpoint": "churn",
            "Feature": alarm["MetricName"].removeprefix("feature_baseline_drift_"),
            "MonitoringSchedule": "churn-data-quality",
        }
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0.2)
    (accuracy,) = [a for a in alarms if a.get("MetricName") == "accuracy"]
    assert accuracy["Namespace"] == metrics.MODEL_MONITOR_MODEL_NAMESPACE
    assert (accuracy["ComparisonOperator"], accuracy["Threshold"]) == ("LessThanThreshold", 0.8)
    # Model Monitor's offsets move the analysed window, not the figures' timestamps.
    assert accuracy["EvaluationPeriods"] == 2
    (bias,) = [a for a in alarms if "Metrics" in a]
    metric = bias["Metrics"][1]["MetricStat"]["Metric"]
    assert metric["MetricName"] == metrics.MODEL_MONITOR_DPPL
    assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {
        "Endpoint": "churn",
        "MonitoringSchedule": "churn-model-bias",
        "BiasStage": "Post-Training",
        "Label": "churned",
        "LabelValue": "1",
        "Facet": "contract",
        "FacetValue": "0",
    }


def test_no_data_is_a_missing_drift_data_point(synth: Synthesized) -> None:
    (no_data,) = [
        a
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a.get("Statistic") == "SampleCount"
    ]
    assert no_data["MetricName"] == "feature_baseline_drift_tenure_months"
    assert no_data["ComparisonOperator"] == "LessThanThreshold"
    assert no_data["TreatMissingData"] == "breaching"


def _statements(synth: Synthesized) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in synth.of_type("AWS::IAM::Policy").values()
        if p["Roles"][0]["Ref"].startswith("MonitorModelMonitorBackendRole")
    ]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def test_role_pulls_only_the_monitor_images(synth: Synthesized) -> None:
    (pull,) = [s for s in _statements(synth) if "ecr:BatchGetImage" in s["Action"]]
    repositories = _flat(pull["Resource"])
    assert "repository/sagemaker-model-monitor-analyzer" in repositories
    assert "repository/sagemaker-clarify-processing" in repositories
    assert "sagemaker-scikit-learn" not in repositories


def test_role_may_create_only_clarify_shadow_endpoints(synth: Synthesized) -> None:
    (shadow,) = [s for s in _statements(synth) if "sagemaker:CreateEndpoint" in s["Action"]]
    resources = _flat(shadow["Resource"])
    assert ":endpoint/sagemaker-clarify-endpoint*" in resources
    assert ":endpoint-config/sagemaker-clarify-endpoint*" in resources
    (model,) = [s for s in _statements(synth) if s["Action"] == "sagemaker:DescribeModel"]
    assert _flat(model["Resource"]).endswith(':model/churn-model"]]}')


def test_role_writes_only_the_reports(synth: Synthesized) -> None:
    writes = [s for s in _statements(synth) if "s3:PutObject" in s["Action"]]
    assert writes
    for statement in writes:
        text = _flat(statement["Resource"])
        assert "/reports/churn/*" in text
        assert "capture" not in text.lower().replace("capturebucket", "")


def test_metric_methods_follow_the_backend(synth: Synthesized) -> None:
    monitor = synth.monitor
    assert monitor.metric_model_quality("f1").metric_name == metrics.MODEL_MONITOR_F1
    with pytest.raises(ValueError, match="feature is required with backend='sagemaker'"):
        monitor.metric_feature_drift()
    with pytest.raises(ValueError, match="needs backend='builtin'"):
        monitor.metric_records_analyzed()
    assert monitor.pipeline is None


def test_template_has_no_cfn_lint_errors(synth: Synthesized) -> None:
    matches = lint_file(
        Path(synth.template_path), config=ManualArgs(regions=["us-east-1", "eu-west-1"])
    )
    assert matches == [], "\n".join(f"{m.rule.id} {m.message} ({m.path})" for m in matches)


def test_template_snapshot(synth: Synthesized, snapshot: SnapshotAssertion) -> None:
    assert normalize_template(synth.template) == snapshot(extension_class=JSONSnapshotExtension)


# --- variants -------------------------------------------------------------------------------


def _monitor(stack: Stack, lake: DataLake, **changes: Any) -> ModelMonitor:
    props: dict[str, Any] = {
        "backend": "sagemaker",
        "data_lake": lake,
        "endpoint_name": "churn",
        "capture": LakeLocation(lake, Zone.CAPTURE, "datacapture/churn/"),
        "model_monitor_baselines": _baselines(lake),
        "data_quality": DataQualityMonitor(features=FEATURES),
    }
    props.update(changes)
    return ModelMonitor(stack, f"Monitor{len(stack.node.children)}", **props)


def _definitions(monitor: ModelMonitor) -> dict[str, Any]:
    backend = monitor.backend_construct
    assert isinstance(backend, ModelMonitorSchedules)
    return backend.job_definitions


@pytest.fixture(scope="module")
def bare() -> tuple[Stack, DataLake]:
    stack = Stack(App(context=cdk_json_context()), "Bare")
    return stack, DataLake(stack, "Lake")


def test_without_a_network_jobs_stay_isolated_outside_any_vpc(bare: tuple[Stack, DataLake]) -> None:
    stack, lake = bare
    monitor = _monitor(stack, lake, schedule="cron(0 3 * * ? *)")
    definition = stack.resolve(_definitions(monitor)["DataQuality"].network_config)
    assert definition == {
        "enableInterContainerTrafficEncryption": True,
        "enableNetworkIsolation": True,
    }
    assert monitor.cadence.model_monitor_expression() == "cron(0 3 ? * * *)"


def test_multiclass_model_quality_reads_labels_and_weighted_metrics(
    bare: tuple[Stack, DataLake],
) -> None:
    stack, lake = bare
    monitor = _monitor(
        stack,
        lake,
        model_quality=ModelQualityMonitor(
            ground_truth=LakeLocation(lake, Zone.CAPTURE, "ground-truth/churn/"),
            problem_type="multiclass_classification",
            min_f1=0.6,
        ),
    )
    assert monitor.metric_model_quality("f1").metric_name == metrics.MODEL_MONITOR_WEIGHTED_F1
    job_input = stack.resolve(_definitions(monitor)["ModelQuality"].model_quality_job_input)
    assert job_input["endpointInput"]["inferenceAttribute"] == "0"
    assert "startTimeOffset" not in job_input["endpointInput"]


def test_image_of_a_concrete_region_is_a_literal_account() -> None:
    stack = Stack(App(), "Concrete", env=Environment(account="111111111111", region="eu-west-1"))
    uri = stack.resolve(monitor_image_uri(stack, MonitorImage.ANALYZER))
    assert uri["Fn::Join"][1][0].startswith("468650794304.dkr.ecr.eu-west-1.")


def test_image_of_an_unsupported_region_is_rejected() -> None:
    stack = Stack(App(), "Far", env=Environment(account="111111111111", region="ap-south-2"))
    with pytest.raises(ValueError, match="not published in region 'ap-south-2'"):
        monitor_image_uri(stack, MonitorImage.ANALYZER)


INVALID: list[tuple[str, dict[str, Any], str]] = [
    (
        "no features",
        {"data_quality": DataQualityMonitor()},
        "data_quality.features must name at least one feature with backend='sagemaker'",
    ),
    (
        "no baselines",
        {"model_monitor_baselines": None},
        "model_monitor_baselines.data_quality is required",
    ),
    (
        "minute past the hour",
        {"schedule": "cron(15 * * * ? *)"},
        "Model Monitor schedules start on the hour",
    ),
    ("every six hours", {"schedule": "cron(0 */6 * * ? *)"}, "neither once an hour nor once a day"),
]


@pytest.mark.parametrize(("case", "changes", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_props_are_rejected(
    bare: tuple[Stack, DataLake], case: str, changes: dict[str, Any], message: str
) -> None:
    del case
    stack, lake = bare
    with pytest.raises(ValueError, match=message):
        _monitor(stack, lake, **changes)


def test_a_builtin_baseline_is_rejected(bare: tuple[Stack, DataLake]) -> None:
    stack, lake = bare
    with pytest.raises(ValueError, match="baseline applies to backend='builtin'"):
        _monitor(
            stack,
            lake,
            baseline=Baseline.from_location(LakeLocation(lake, Zone.MONITORING, "b/")),
        )


def test_model_quality_without_its_baseline_is_rejected(bare: tuple[Stack, DataLake]) -> None:
    stack, lake = bare
    with pytest.raises(ValueError, match=r"model_monitor_baselines.model_quality is required"):
        _monitor(
            stack,
            lake,
            model_monitor_baselines=ModelMonitorBaselines(
                data_quality=LakeLocation(lake, Zone.MONITORING, "dq/")
            ),
            model_quality=ModelQualityMonitor(
                ground_truth=LakeLocation(lake, Zone.CAPTURE, "gt/"), problem_type="regression"
            ),
        )


def test_bias_without_ground_truth_is_rejected(bare: tuple[Stack, DataLake]) -> None:
    stack, lake = bare
    with pytest.raises(ValueError, match="bias with backend='sagemaker' needs model_quality"):
        _monitor(
            stack,
            lake,
            bias=BiasMonitor(facets=["contract=0"], problem_type="binary_classification"),
        )


def test_multi_valued_facet_is_rejected(bare: tuple[Stack, DataLake]) -> None:
    stack, lake = bare
    with pytest.raises(ValueError, match="must have one value with backend='sagemaker'"):
        _monitor(
            stack,
            lake,
            model_quality=ModelQualityMonitor(
                ground_truth=LakeLocation(lake, Zone.CAPTURE, "gt/"),
                problem_type="binary_classification",
            ),
            bias=BiasMonitor(facets=["contract=0|1"]),
        )


def test_explainability_without_its_baseline_is_rejected(bare: tuple[Stack, DataLake]) -> None:
    stack, lake = bare
    with pytest.raises(ValueError, match=r"model_monitor_baselines.model_explainability"):
        _monitor(
            stack,
            lake,
            model_monitor_baselines=ModelMonitorBaselines(
                data_quality=LakeLocation(lake, Zone.MONITORING, "dq/")
            ),
            explainability=ExplainabilityMonitor(model_name="churn"),
        )


def test_explainability_model_name_is_checked(bare: tuple[Stack, DataLake]) -> None:
    stack, lake = bare
    with pytest.raises(ValueError, match=r"explainability.model_name must"):
        _monitor(stack, lake, explainability=ExplainabilityMonitor(model_name="churn model"))

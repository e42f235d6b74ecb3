"""MlDashboard: every graph comes from a construct's metric method; and the approval flow's
``metric_approval_decisions`` added for it.

The dashboard body is parsed from the synthesized template and each metric it charts is
compared with the metrics the constructs' ``metric_*`` methods return, so a re-typed name,
namespace or dimension would show up as a metric no method produces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch

from sagemaker_lifecycle import DataLake, MlNetwork, Zone, add_compliance_checks, metrics
from sagemaker_lifecycle.images import Framework
from sagemaker_lifecycle.model_approval_flow import ModelApprovalFlow
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.monitoring import (
    Baseline,
    BiasMonitor,
    DataQualityMonitor,
    DriftRetrainingLoop,
    MlDashboard,
    ModelMonitor,
    ModelQualityMonitor,
)
from sagemaker_lifecycle.pipelines import (
    FailStep,
    LakeLocation,
    PipelineDefinition,
    TrainingPipeline,
)
from sagemaker_lifecycle.serving import (
    InferenceImage,
    ModelSource,
    RealtimeEndpoint,
    ServerlessEndpoint,
)
from tests.support import cdk_json_context, resources_of_type


@dataclass
class Synthesized:
    stack: Stack
    realtime: RealtimeEndpoint
    serverless: ServerlessEndpoint
    monitor: ModelMonitor
    pipeline: TrainingPipeline
    flow: ModelApprovalFlow
    loop: DriftRetrainingLoop
    template: dict[str, Any]
    body: dict[str, Any]

    def resolve(self, value: Any) -> Any:
        return _marker(self.stack.resolve(value))


def _marker(value: Any) -> Any:
    """Intrinsics as readable strings, so resolved metrics and the body compare equal."""
    if isinstance(value, dict):
        if "Ref" in value and len(value) == 1:
            return f"<Ref:{value['Ref']}>"
        if "Fn::GetAtt" in value:
            return f"<GetAtt:{value['Fn::GetAtt'][0]}.{value['Fn::GetAtt'][1]}>"
        if "Fn::Join" in value:
            return "".join(str(_marker(v)) for v in value["Fn::Join"][1])
        return {k: _marker(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_marker(v) for v in value]
    return value


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = App(context=cdk_json_context())
    add_compliance_checks(app)
    stack = Stack(app, "Dashboard")
    lake = DataLake(stack, "Lake")
    network = MlNetwork(stack, "Network")
    registry = ModelRegistry(stack, "Registry", model_package_group_name="churn")
    source = ModelSource.from_artifacts(
        InferenceImage.from_framework(stack, Framework.XGBOOST), "models/churn/m/model.tar.gz"
    )
    realtime = RealtimeEndpoint(
        stack,
        "Realtime",
        endpoint_name="churn",
        model_source=source,
        data_lake=lake,
        network=network,
    )
    serverless = ServerlessEndpoint(
        stack, "Serverless", endpoint_name="churn-serverless", model_source=source, data_lake=lake
    )
    monitor = ModelMonitor(
        stack,
        "Monitor",
        data_lake=lake,
        endpoint=realtime,
        baseline=Baseline.from_location(LakeLocation(lake, Zone.MONITORING, "churn/baseline/")),
        data_quality=DataQualityMonitor(features=("age", "plan")),
        model_quality=ModelQualityMonitor(
            ground_truth=LakeLocation(lake, Zone.CAPTURE, "ground-truth/churn/"),
            problem_type="binary_classification",
            min_auc=0.7,
        ),
        bias=BiasMonitor(facets=["plan=basic"], class_imbalance_threshold=0.4),
        network=network,
    )
    pipeline = TrainingPipeline(
        stack,
        "Training",
        pipeline_name="churn-training",
        definition=PipelineDefinition(steps=[FailStep("Stop", error_message="placeholder")]),
    )
    flow = ModelApprovalFlow(
        stack,
        "Approval",
        registry=registry,
        endpoint_name=realtime.endpoint_name,
        deployment_spec=realtime.deployment_spec,
        network=network,
    )
    loop = DriftRetrainingLoop(stack, "Loop", retraining_pipeline=pipeline, monitors=[monitor])
    MlDashboard(
        stack,
        "Dashboard",
        dashboard_name="churn-lifecycle",
        endpoints=[realtime, serverless],
        monitors=[monitor],
        pipelines=[pipeline, pipeline],
        approval_flows=[flow],
        retraining_loops=[loop],
    )
    template = app.synth().get_stack_by_name("Dashboard").template  # raises on open findings
    (dashboard,) = resources_of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(_marker(dashboard["Properties"]["DashboardBody"]))
    return Synthesized(stack, realtime, serverless, monitor, pipeline, flow, loop, template, body)


def _charted(body: dict[str, Any]) -> list[tuple[str, str, tuple[tuple[str, str], ...], str]]:
    """(namespace, name, dimensions, statistic) of every metric the dashboard charts."""
    charted = []
    for widget in body["widgets"]:
        for entry in widget["properties"].get("metrics", []):
            namespace, name, *rest = entry
            options = rest.pop() if rest and isinstance(rest[-1], dict) else {}
            dimensions = tuple(zip(rest[::2], rest[1::2], strict=True))
            # CloudWatch's default statistic is left out of the body.
            statistic = options.get("stat", "Average")
            charted.append((namespace, name, tuple(sorted(dimensions)), statistic))
    return charted


def _key(
    synth: Synthesized, metric: cloudwatch.Metric
) -> tuple[str, str, tuple[tuple[str, str], ...], str]:
    dimensions = synth.resolve(metric.dimensions or {})
    return (
        metric.namespace,
        metric.metric_name,
        tuple(sorted(dimensions.items())),
        metric.statistic,
    )


def test_every_charted_metric_comes_from_a_metric_method(synth: Synthesized) -> None:
    realtime, serverless, monitor = synth.realtime, synth.serverless, synth.monitor
    produced: list[cloudwatch.Metric] = []
    for endpoint in (realtime, serverless):
        produced += [
            endpoint.metric_invocations(period=Duration.minutes(5)),
            endpoint.metric_invocation_4xx_errors(period=Duration.minutes(5)),
            endpoint.metric_invocation_5xx_errors(period=Duration.minutes(5)),
            *(endpoint.metric_model_latency(statistic=p) for p in ("p50", "p90", "p99")),
        ]
    produced += [realtime.metric_cpu_utilization(), realtime.metric_memory_utilization()]
    produced += [monitor.metric_feature_drift(f) for f in ("age", "plan")]
    produced += [monitor.metric_no_data()]
    produced += [
        monitor.metric_model_quality(f) for f in ("accuracy", "precision", "recall", "f1", "auc")
    ]
    produced += [monitor.metric_bias("plan", m) for m in ("DPPL", "CI")]
    assert monitor.pipeline is not None
    for pipeline in (synth.pipeline, monitor.pipeline):
        produced += [pipeline.metric_execution_succeeded(), pipeline.metric_execution_failed()]
    produced += [synth.pipeline.metric_execution_started()]
    produced += [
        synth.flow.metric_approval_decisions(),
        synth.flow.metric_deployer_errors(),
        synth.flow.metric_dead_letter_messages(),
        synth.loop.metric_dead_letter_messages(),
    ]
    expected = {_key(synth, metric) for metric in produced}
    charted = _charted(synth.body)
    assert set(charted) == expected
    # Each pipeline is charted once even when passed twice and as a monitor's pipeline.
    assert len(charted) == len(set(charted))


def test_endpoints_get_traffic_latency_and_instance_utilisation(synth: Synthesized) -> None:
    titles = [w["properties"].get("title", "") for w in synth.body["widgets"]]
    assert "churn: invocations and errors" in titles
    assert "churn: model latency (microseconds)" in titles
    assert "churn: utilisation (%)" in titles
    # Serverless endpoints have no instances to chart.
    assert "churn-serverless: model latency (microseconds)" in titles
    assert "churn-serverless: utilisation (%)" not in titles


def test_monitor_widgets_show_drift_quality_bias_and_thresholds(synth: Synthesized) -> None:
    widgets = {w["properties"].get("title", ""): w["properties"] for w in synth.body["widgets"]}
    prefix = "churn (churn)"
    assert f"{prefix}: drift per feature" in widgets
    assert f"{prefix}: runs without data" in widgets
    quality = widgets[f"{prefix}: model quality"]
    (threshold,) = quality["annotations"]["horizontal"]
    assert (threshold["value"], threshold["label"]) == (0.7, "auc threshold")
    bias = widgets[f"{prefix}: bias per facet"]
    assert {a["value"] for a in bias["annotations"]["horizontal"]} == {0.1, -0.1}


def test_alarm_status_shows_every_monitor_and_loop_alarm(synth: Synthesized) -> None:
    (status,) = [w for w in synth.body["widgets"] if w["type"] == "alarm"]
    shown = set(status["properties"]["alarms"])
    expected = {
        synth.resolve(alarm.alarm_arn) for alarm in [*synth.monitor.alarms, *synth.loop.alarms]
    }
    assert shown == expected


def test_dashboard_name_and_range(synth: Synthesized) -> None:
    (dashboard,) = resources_of_type(synth.template, "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == "churn-lifecycle"
    assert synth.body["start"] == "-P7D"


def test_approval_decisions_are_the_decision_rule_invocations(synth: Synthesized) -> None:
    metric = synth.flow.metric_approval_decisions()
    assert (metric.namespace, metric.metric_name, metric.statistic) == (
        metrics.EVENTS_NAMESPACE,
        metrics.EVENTS_INVOCATIONS,
        "Sum",
    )
    dimensions = synth.stack.resolve(metric.dimensions)
    rule_id = synth.stack.resolve(
        synth.flow.approval_decision_rule.node.default_child.logical_id  # type: ignore[union-attr]
    )
    assert dimensions == {metrics.EVENTS_DIM_RULE_NAME: {"Ref": rule_id}}


@pytest.fixture(scope="module")
def bare() -> tuple[Stack, TrainingPipeline]:
    stack = Stack(App(), "Bare")
    pipeline = TrainingPipeline(
        stack,
        "Training",
        pipeline_name="p",
        definition=PipelineDefinition(steps=[FailStep("Stop", error_message="x")]),
        notify_on_failure=False,
    )
    return stack, pipeline


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({}, "give at least one of endpoints"),
        ({"dashboard_name": "churn lifecycle"}, "dashboard_name must be 1 to 255"),
        ({"period": Duration.seconds(90)}, "period must be a whole number of minutes"),
    ],
)
def test_invalid_props_are_rejected(
    bare: tuple[Stack, TrainingPipeline], props: dict[str, Any], message: str
) -> None:
    stack, pipeline = bare
    if props:
        props = {"pipelines": [pipeline], **props}
    with pytest.raises(ValueError, match=message):
        MlDashboard(stack, f"Dashboard{len(stack.node.children)}", **props)


def test_a_pipeline_only_dashboard_has_one_graph(bare: tuple[Stack, TrainingPipeline]) -> None:
    stack, pipeline = bare
    dashboard = MlDashboard(stack, "PipelinesOnly", pipelines=[pipeline])
    body = json.loads(_marker(stack.resolve(dashboard.dashboard.node.default_child.dashboard_body)))  # type: ignore[union-attr]
    assert [w["properties"]["title"] for w in body["widgets"]] == ["Pipeline executions"]

"""The reference monitoring stack, synthesized next to the stacks it watches.

Zero open cdk-nag findings (the app runs the three packs), zero cfn-lint errors, and the
wiring: the churn endpoint monitored by the built-in backend against the registry's approved
baseline, the loop starting the retraining pipeline, the dashboard charting the rest.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from cfnlint.api import ManualArgs, lint_file

from sagemaker_lifecycle import DataLake, MlNetwork, add_compliance_checks
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.monitoring import MonitorBackend
from stacks.approval_stack import ApprovalStack
from stacks.monitoring_stack import CHURN_DRIFT_FEATURES, MonitoringStack
from stacks.pipeline_stack import PipelineStack
from stacks.serving_stack import ServingStack
from tests.support import cdk_json_context, resources_of_type


@dataclass(frozen=True)
class Synthesized:
    stack: MonitoringStack
    pipelines: PipelineStack
    serving: ServingStack
    template: dict[str, Any]
    template_path: Path

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r["Properties"] for r in resources_of_type(self.template, resource_type).values()]


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(context=cdk_json_context(), outdir=str(outdir))
    add_compliance_checks(app)
    network = MlNetwork(Stack(app, "Network"), "Network")
    data = Stack(app, "Data")
    lake = DataLake(data, "DataLake")
    registry = ModelRegistry(data, "Registry", model_package_group_name="churn")
    pipelines = PipelineStack(app, "Pipelines", data_lake=lake, network=network, registry=registry)
    serving = ServingStack(app, "Serving", data_lake=lake, network=network)
    approval = ApprovalStack(
        app,
        "Approval",
        registry=registry,
        endpoint_name=serving.realtime_endpoint.endpoint_name,
        deployment_spec=serving.realtime_endpoint.deployment_spec,
        network=network,
    )
    stack = MonitoringStack(
        app,
        "Monitoring",
        data_lake=lake,
        network=network,
        endpoint=serving.realtime_endpoint,
        retraining_pipeline=pipelines.retraining_pipeline,
        registry=registry,
        baselines=pipelines.baselines,
        approval_flow=approval.approval_flow,
        training_pipelines=[pipelines.training_pipeline, pipelines.tuning_pipeline],
    )
    assembly = app.synth()  # raises on any open cdk-nag finding in any stack
    artifact = assembly.get_stack_by_name("Monitoring")
    yield Synthesized(
        stack, pipelines, serving, artifact.template, Path(artifact.template_full_path)
    )
    shutil.rmtree(outdir, ignore_errors=True)


def test_template_has_no_cfn_lint_errors(synth: Synthesized) -> None:
    matches = lint_file(synth.template_path, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert matches == [], "\n".join(f"{m.rule.id} {m.message} ({m.path})" for m in matches)


def test_endpoint_is_monitored_by_the_builtin_backend_against_the_registry(
    synth: Synthesized,
) -> None:
    monitor = synth.stack.monitor
    assert monitor.backend is MonitorBackend.BUILTIN
    assert monitor.endpoint_name == synth.serving.realtime_endpoint.endpoint_name
    (pipeline,) = synth.of_type("AWS::SageMaker::Pipeline")
    body = json.dumps(pipeline["PipelineDefinition"])
    assert "--baseline-model-package-group" in body
    assert '\\"churn\\"' in body
    assert "--ground-truth-uri" in body
    assert "--facet" in body
    assert "contract=0" in body
    drift = {
        {d["Name"]: d["Value"] for d in a["Dimensions"]}.get("Feature")
        for a in synth.of_type("AWS::CloudWatch::Alarm")
        if a.get("MetricName") == "DriftDetected"
    }
    assert drift == set(CHURN_DRIFT_FEATURES)


def test_the_loop_starts_the_retraining_pipeline(synth: Synthesized) -> None:
    (rule,) = [
        r
        for r in synth.of_type("AWS::Events::Rule")
        if r["EventPattern"]["source"] == ["aws.cloudwatch"]
    ]
    (target,) = rule["Targets"]
    name = synth.pipelines.retraining_pipeline.pipeline_name
    assert target["Arn"]["Fn::Join"][1][-1] == f":pipeline/{name.lower()}"
    (composite,) = synth.of_type("AWS::CloudWatch::CompositeAlarm")
    # Three drift alarms and two quality alarms, then the cool-down.
    assert json.dumps(composite["AlarmRule"]).count("ALARM(") == 3 + 2 + 1


def test_one_topic_and_one_key_serve_monitor_and_loop(synth: Synthesized) -> None:
    assert len(synth.of_type("AWS::SNS::Topic")) == 1
    assert len(synth.of_type("AWS::KMS::Key")) == 1
    for alarm in [
        *synth.of_type("AWS::CloudWatch::Alarm"),
        *synth.of_type("AWS::CloudWatch::CompositeAlarm"),
    ]:
        if alarm.get("AlarmActions"):
            (action,) = alarm["AlarmActions"]
            assert action["Ref"].startswith("AlarmTopic")


def test_dashboard_charts_the_approval_flow_and_every_pipeline(synth: Synthesized) -> None:
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["DashboardBody"])
    assert "Approval flow of" in body
    for pipeline in (
        synth.pipelines.training_pipeline,
        synth.pipelines.tuning_pipeline,
        synth.stack.monitor.pipeline,
    ):
        assert pipeline is not None
        assert f"{pipeline.pipeline_name} succeeded" in body

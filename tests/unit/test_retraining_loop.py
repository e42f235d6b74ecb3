"""DriftRetrainingLoop and SageMakerPipelineTarget: the composite alarm with its cool-down,
the EventBridge rule and native SageMaker pipeline target, the DLQ, and validation.

The cool-down is checked on the synthesized alarm rule itself: the rule is turned into a
predicate and driven through a flapping drift alarm, with the cool-down alarm's own window
from the template.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import add_compliance_checks, metrics
from sagemaker_lifecycle._internal.messaging import encrypted_topic, grant_service_publish
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.monitoring import DriftRetrainingLoop, SageMakerPipelineTarget
from sagemaker_lifecycle.monitoring.retraining_loop import _cool_down_window
from sagemaker_lifecycle.pipelines import (
    FailStep,
    ParameterFloat,
    PipelineDefinition,
    TrainingPipeline,
)
from tests.support import cdk_json_context, resources_of_type


def _pipeline(stack: Stack, name: str = "churn-training") -> TrainingPipeline:
    return TrainingPipeline(
        stack,
        f"Pipeline{name.replace('-', '')}",
        pipeline_name=name,
        definition=PipelineDefinition(
            parameters=[ParameterFloat("MinimumAuc", 0.75)],
            steps=[FailStep("Stop", error_message="placeholder")],
        ),
        notify_on_failure=False,
    )


def _alarm(stack: Stack, id: str, topic: sns.ITopic) -> cloudwatch.Alarm:
    alarm = cloudwatch.Alarm(
        stack,
        id,
        metric=cloudwatch.Metric(namespace=metrics.MONITOR_NAMESPACE, metric_name=id),
        threshold=1,
        evaluation_periods=1,
    )
    alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarm


@dataclass
class Synthesized:
    stack: Stack
    loop: DriftRetrainingLoop
    template: dict[str, Any]

    def one(self, resource_type: str, prefix: str = "") -> dict[str, Any]:
        (resource,) = [
            r["Properties"]
            for logical_id, r in resources_of_type(self.template, resource_type).items()
            if logical_id.startswith(prefix)
        ]
        found: dict[str, Any] = resource
        return found

    def logical_id(self, construct: Any) -> str:
        return str(self.stack.resolve(construct.node.default_child.logical_id))


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    app = App(context=cdk_json_context())
    add_compliance_checks(app)
    stack = Stack(app, "Loop")
    key = kms.Key(stack, "TopicKey", enable_key_rotation=True)
    topic = encrypted_topic(stack, "Topic", key=key)
    grant_service_publish(topic, key, "cloudwatch.amazonaws.com")
    loop = DriftRetrainingLoop(
        stack,
        "Loop",
        retraining_pipeline=_pipeline(stack),
        alarms=[_alarm(stack, "DriftAge", topic), _alarm(stack, "QualityAuc", topic)],
        pipeline_parameters={"MinimumAuc": "0.8"},
        alarm_topic=topic,
    )
    template = app.synth().get_stack_by_name("Loop").template  # raises on open findings
    return Synthesized(stack, loop, template)


# --- the alarms -------------------------------------------------------------------------------


def rule_predicate(rule: dict[str, Any]) -> Callable[[dict[str, str]], bool]:
    """The synthesized composite alarm rule as a function of alarm states by logical id."""
    text = "".join(
        part if isinstance(part, str) else f"@{part['Fn::GetAtt'][0]}@"
        for part in rule["Fn::Join"][1]
    )
    expression = re.sub(r'ALARM\("@(\w+)@"\)', r'(states["\1"] == "ALARM")', text)
    expression = re.sub(
        r"\bAND\b", "and", re.sub(r"\bOR\b", "or", re.sub(r"\bNOT\b", "not", expression))
    )
    assert "@" not in expression
    assert "states" in expression

    def predicate(states: dict[str, str]) -> bool:
        return bool(eval(expression, {"states": states}))

    return predicate


def test_composite_alarm_is_any_trigger_outside_the_cool_down(synth: Synthesized) -> None:
    rule = rule_predicate(synth.one("AWS::CloudWatch::CompositeAlarm")["AlarmRule"])
    drift, quality = (
        synth.logical_id(synth.stack.node.find_child(name)) for name in ("DriftAge", "QualityAuc")
    )
    cool = synth.logical_id(synth.loop.cool_down_alarm)
    states = {drift: "OK", quality: "OK", cool: "OK"}
    assert rule(states) is False
    assert rule({**states, drift: "ALARM"}) is True
    assert rule({**states, quality: "ALARM"}) is True
    assert rule({**states, drift: "ALARM", cool: "ALARM"}) is False
    assert rule({**states, drift: "ALARM", cool: "INSUFFICIENT_DATA"}) is True


def test_cool_down_alarm_counts_starts_of_the_retraining_pipeline(synth: Synthesized) -> None:
    alarm = synth.one("AWS::CloudWatch::Alarm", "LoopCoolDownAlarm")
    assert alarm["Namespace"] == metrics.PIPELINE_NAMESPACE
    assert alarm["MetricName"] == metrics.PIPELINE_EXECUTION_STARTED
    assert alarm["Dimensions"] == [{"Name": metrics.DIM_PIPELINE_NAME, "Value": "churn-training"}]
    assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 24 * 3600
    assert alarm["DatapointsToAlarm"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    # Back to OK tells the team the loop is armed again; ALARM is told by the composite.
    assert "AlarmActions" not in alarm
    (action,) = alarm["OKActions"]
    assert action["Ref"].startswith("Topic")


def _starts(
    rule: Callable[[dict[str, str]], bool],
    ids: tuple[str, str, str],
    window_minutes: int,
    hours: int,
    latency_minutes: int = 2,
) -> list[int]:
    """Minutes at which EventBridge would start the pipeline, with drift flapping every
    half hour and the ExecutionStarted metric ``latency_minutes`` late."""
    drift, quality, cool = ids
    starts: list[int] = []
    composite = "OK"
    for minute in range(hours * 60):
        seen = [s for s in starts if s + latency_minutes <= minute]
        cooling = any(minute - s < window_minutes for s in seen)
        states = {
            drift: "ALARM" if (minute // 30) % 2 == 0 else "OK",
            quality: "OK",
            cool: "ALARM" if cooling else "OK",
        }
        now = "ALARM" if rule(states) else "OK"
        if now == "ALARM" and composite != "ALARM":  # the state-change event
            starts.append(minute)
        composite = now
    return starts


def test_a_flapping_drift_alarm_starts_retraining_once_per_cool_down(
    synth: Synthesized,
) -> None:
    rule = rule_predicate(synth.one("AWS::CloudWatch::CompositeAlarm")["AlarmRule"])
    cool_alarm = synth.one("AWS::CloudWatch::Alarm", "LoopCoolDownAlarm")
    window = cool_alarm["Period"] * cool_alarm["EvaluationPeriods"] // 60
    ids = (
        synth.logical_id(synth.stack.node.find_child("DriftAge")),
        synth.logical_id(synth.stack.node.find_child("QualityAuc")),
        synth.logical_id(synth.loop.cool_down_alarm),
    )
    starts = _starts(rule, ids, window, hours=72)
    assert len(starts) == math.ceil(72 * 60 / window) == 3
    assert all(b - a >= window for a, b in itertools.pairwise(starts))
    # Without the cool-down the same flapping alarm would start 72 pipelines.
    assert len(_starts(rule, ids, 0, hours=72)) == 72


def test_composite_alarm_tells_the_topic_that_retraining_started(synth: Synthesized) -> None:
    composite = synth.one("AWS::CloudWatch::CompositeAlarm")
    (action,) = composite["AlarmActions"]
    assert action["Ref"].startswith("Topic")


# --- the rule and its target ------------------------------------------------------------------


def test_rule_matches_only_the_composite_alarm_entering_alarm(synth: Synthesized) -> None:
    pattern = synth.one("AWS::Events::Rule")["EventPattern"]
    assert pattern["source"] == ["aws.cloudwatch"]
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}
    (resource,) = pattern["resources"]
    assert resource["Fn::GetAtt"][0] == synth.logical_id(synth.loop.composite_alarm)


def test_target_is_the_pipeline_with_retries_dlq_and_parameters(synth: Synthesized) -> None:
    (target,) = synth.one("AWS::Events::Rule")["Targets"]
    assert target["Arn"]["Fn::Join"][1][-1] == ":pipeline/churn-training"
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("LoopDeadLetterQueue")
    assert target["SageMakerPipelineParameters"] == {
        "PipelineParameterList": [{"Name": "MinimumAuc", "Value": "0.8"}]
    }
    assert target["RoleArn"]["Fn::GetAtt"][0].startswith("LoopStartRetrainingRuleStartPipelineRole")


def test_target_role_may_only_start_that_pipeline(synth: Synthesized) -> None:
    role = synth.one("AWS::IAM::Role", "LoopStartRetrainingRuleStartPipelineRole")
    (assume,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert assume["Principal"] == {"Service": "events.amazonaws.com"}
    policy = synth.one("AWS::IAM::Policy", "LoopStartRetrainingRuleStartPipelineRole")
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sagemaker:StartPipelineExecution"
    assert statement["Resource"]["Fn::Join"][1][-1] == ":pipeline/churn-training"


def test_dead_letter_queue_admits_only_this_rule_and_is_encrypted(synth: Synthesized) -> None:
    queue = synth.one("AWS::SQS::Queue")
    assert queue["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("LoopKey")
    (allow,) = [
        s
        for s in synth.one("AWS::SQS::QueuePolicy")["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    rule_arn = allow["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert rule_arn["Fn::GetAtt"][0].startswith("LoopStartRetrainingRule")
    key = synth.one("AWS::KMS::Key", "LoopKey")
    services = [s["Principal"].get("Service") for s in key["KeyPolicy"]["Statement"]]
    assert "events.amazonaws.com" in services


def test_dead_letters_raise_an_alarm(synth: Synthesized) -> None:
    alarm = synth.one("AWS::CloudWatch::Alarm", "LoopDeadLetterAlarm")
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    (action,) = alarm["AlarmActions"]
    assert action["Ref"].startswith("Topic")


def test_a_second_target_on_the_same_rule_gets_its_own_override() -> None:
    stack = Stack(App(), "Two")
    first, second = _pipeline(stack, "a"), _pipeline(stack, "b")
    rule = events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=["x"]))
    rule.add_target(SageMakerPipelineTarget(first))
    rule.add_target(SageMakerPipelineTarget(second, parameters={"MinimumAuc": "0.9"}))
    template = Template.from_stack(stack).to_json()
    (properties,) = [
        r["Properties"] for r in resources_of_type(template, "AWS::Events::Rule").values()
    ]
    assert "SageMakerPipelineParameters" not in properties["Targets"][0]
    assert properties["Targets"][1]["SageMakerPipelineParameters"]["PipelineParameterList"] == [
        {"Name": "MinimumAuc", "Value": "0.9"}
    ]
    # One role per rule, allowed to start both pipelines.
    assert len(resources_of_type(template, "AWS::IAM::Role")) == 1 + 2  # + the pipelines' roles


# --- validation -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bare() -> tuple[Stack, TrainingPipeline, cloudwatch.Alarm]:
    stack = Stack(App(), "Bare")
    topic = sns.Topic(stack, "Topic")
    return stack, _pipeline(stack), _alarm(stack, "Drift", topic)


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("no trigger", {"alarms": []}, "give monitors"),
    ("seven minutes", {"cool_down": Duration.minutes(7)}, "cool_down must be a multiple"),
    ("eight days", {"cool_down": Duration.days(8)}, "cool_down must be a multiple"),
    ("unknown parameter", {"pipeline_parameters": {"Depth": "3"}}, "parameters names 'Depth'"),
    ("retries", {"retry_attempts": 200}, "retry_attempts must be from 0 to 185"),
    ("event age", {"max_event_age": Duration.seconds(30)}, "max_event_age must be"),
]


@pytest.mark.parametrize(("case", "changes", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_props_are_rejected(
    bare: tuple[Stack, TrainingPipeline, cloudwatch.Alarm],
    case: str,
    changes: dict[str, Any],
    message: str,
) -> None:
    del case
    stack, pipeline, alarm = bare
    props: dict[str, Any] = {"retraining_pipeline": pipeline, "alarms": [alarm]}
    props.update(changes)
    with pytest.raises(ValueError, match=message):
        DriftRetrainingLoop(stack, f"Loop{len(stack.node.children)}", **props)


def test_more_alarms_than_a_composite_alarm_takes_are_rejected(
    bare: tuple[Stack, TrainingPipeline, cloudwatch.Alarm],
) -> None:
    stack, pipeline, alarm = bare
    with pytest.raises(ValueError, match="a composite alarm takes at most 100"):
        DriftRetrainingLoop(stack, "TooMany", retraining_pipeline=pipeline, alarms=[alarm] * 100)


def test_a_long_cool_down_counts_hours(
    bare: tuple[Stack, TrainingPipeline, cloudwatch.Alarm],
) -> None:
    stack, pipeline, alarm = bare
    loop = DriftRetrainingLoop(
        stack, "ThreeDays", retraining_pipeline=pipeline, alarms=[alarm], cool_down=Duration.days(3)
    )
    cfn = loop.cool_down_alarm.node.default_child
    assert isinstance(cfn, cloudwatch.CfnAlarm)
    assert (cfn.period, cfn.evaluation_periods) == (3600, 72)


def test_target_rejects_an_unknown_parameter(
    bare: tuple[Stack, TrainingPipeline, cloudwatch.Alarm],
) -> None:
    _, pipeline, _ = bare
    with pytest.raises(ValueError, match="parameters names 'Depth'"):
        SageMakerPipelineTarget(pipeline, parameters={"Depth": "3"})


@settings(max_examples=80)
@given(minutes=st.integers(min_value=1, max_value=8 * 24 * 60))
def test_every_cool_down_is_either_covered_exactly_or_rejected(minutes: int) -> None:
    errors = ValidationErrors("test")
    period, periods = _cool_down_window(errors, Duration.minutes(minutes))
    try:
        errors.raise_if_any()
    except ValueError:
        assert minutes % 5 or minutes > 7 * 24 * 60 or (minutes > 24 * 60 and minutes % 60)
        return
    assert period.to_minutes() * periods == minutes
    # CloudWatch: sub-hour periods evaluate at most a day, longer ones at most 7 days.
    limit = 24 * 60 if period.to_minutes() < 60 else 7 * 24 * 60
    assert period.to_minutes() * periods <= limit

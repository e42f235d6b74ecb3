"""Drift -> retrain: a composite alarm starts the retraining pipeline, at most once per cool-down.

How the cool-down works, and why this way (CloudWatch and EventBridge semantics):

- CloudWatch sends a "CloudWatch Alarm State Change" event to EventBridge on every state
  *change* of an alarm, whatever its actions. A composite alarm over flapping drift alarms
  changes state on each flap, so a rule on "state is ALARM" alone would start a pipeline
  per flap.
- A composite alarm's ``ActionsSuppressor`` only suppresses the alarm's *actions* (SNS,
  Lambda ...): the state still changes and EventBridge still gets the event (the event
  merely carries ``actionsSuppressedBy``). It cannot gate an EventBridge target.
- So the cool-down is part of the composite alarm's *rule*:
  ``(ALARM(drift or quality) ...) AND NOT ALARM(cool-down)``, where the cool-down alarm is
  in ALARM while the retraining pipeline's ``ExecutionStarted`` metric counted a start in
  the last ``cool_down``. Once that data point arrives (pipeline metrics are per minute and
  alarms are evaluated every minute: a few minutes after the start), the composite alarm
  returns to OK and cannot re-enter ALARM, so there is no event and no start, until the
  cool-down has passed; if drift persists then, it re-enters ALARM and retrains once more.
  Any start counts, so a scheduled, manual or failed retraining also holds the loop off.
  A second start within those first minutes would need every child alarm to clear and one
  to fire again; they change only when a monitor run publishes or a period ends (hourly
  or daily).
- A Lambda guard that reads the last execution's start time would be exact to the second,
  but it replaces the native pipeline target with a function to run, patch and secure;
  the alarm rule needs no code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

import jsii
from aws_cdk import Duration, RemovalPolicy, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from sagemaker_lifecycle._internal.messaging import (
    dead_letter_queue,
    encrypted_topic,
    grant_service_publish,
)
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.monitoring.model_monitor import ModelMonitor
from sagemaker_lifecycle.pipelines import TrainingPipeline
from sagemaker_lifecycle.pipelines.expressions import NAME_PATTERN

#: The detail-type of CloudWatch alarm state changes on EventBridge.
ALARM_STATE_CHANGE: Final = "CloudWatch Alarm State Change"
_TARGET_ID = re.compile(r"^Target(\d+)$")
_MAX_RETRY_ATTEMPTS = 185  # EventBridge RetryPolicy.MaximumRetryAttempts
_MIN_EVENT_AGE, _MAX_EVENT_AGE = 60, 86_400
_ONE_DAY = Duration.days(1)
_MAX_COOL_DOWN_HOURS = 7 * 24  # a CloudWatch alarm evaluates at most 7 days
_MAX_PARAMETER_VALUE = 1024
_MAX_COMPOSITE_CHILDREN = 100  # alarms one composite alarm rule may name (CloudWatch quota)


@jsii.implements(events.IRuleTarget)
class SageMakerPipelineTarget:
    """EventBridge's native SageMaker Pipelines target: a matching event starts an execution.

    aws-cdk-lib 2.275 has no ``aws_events_targets`` class for it. The target gets a role
    that may only start this pipeline, retries with ``retry_attempts`` within
    ``max_event_age`` and, when given, puts events it could not deliver on
    ``dead_letter_queue`` (the queue policy admits only this rule). Pipeline parameters go
    to ``SageMakerPipelineParameters``, which ``RuleTargetConfig`` cannot carry, through a
    property override on the rule.
    """

    def __init__(
        self,
        pipeline: TrainingPipeline,
        *,
        parameters: Mapping[str, str] | None = None,
        role: iam.IRole | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = 2,
        max_event_age: Duration = Duration.hours(1),
    ) -> None:
        """
        :param pipeline: the pipeline to start.
        :param parameters: pipeline parameter values for the execution. Default: the
            parameters' defaults.
        :param role: the role EventBridge assumes; it is granted the start. Default: a new
            role per rule.
        :param dead_letter_queue: where undeliverable events go; its key, if any, must let
            EventBridge use it. Default: none.
        :param retry_attempts: retries of a failed start, 0 to 185. Default: 2.
        :param max_event_age: how long an event is retried, 1 minute to 24 hours.
            Default: 1 hour.
        """
        errors = ValidationErrors("SageMakerPipelineTarget")
        check_target_props(errors, pipeline, parameters, retry_attempts, max_event_age)
        errors.raise_if_any()
        self.pipeline = pipeline
        self.parameters = dict(parameters or {})
        self.role = role
        self.dead_letter_queue = dead_letter_queue
        self.retry_attempts = retry_attempts
        self.max_event_age = max_event_age

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        """Called by ``Rule.add_target``: the role, queue policy and target settings."""
        role = self.role or self._rule_role(rule)
        self.pipeline.grant_start_execution(role)
        dead_letter_config = None
        if self.dead_letter_queue is not None:
            self.dead_letter_queue.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"AllowEventRule{_target_index(id)}",
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[self.dead_letter_queue.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": rule.rule_ref.rule_arn}},
                )
            )
            dead_letter_config = events.CfnRule.DeadLetterConfigProperty(
                arn=self.dead_letter_queue.queue_arn
            )
        if self.parameters:
            cfn_rule = rule.node.default_child
            if not isinstance(cfn_rule, events.CfnRule):
                raise ValueError("SageMakerPipelineTarget parameters need an events.Rule")
            cfn_rule.add_property_override(
                f"Targets.{_target_index(id)}.SageMakerPipelineParameters",
                {
                    "PipelineParameterList": [
                        {"Name": name, "Value": value}
                        for name, value in sorted(self.parameters.items())
                    ]
                },
            )
        return events.RuleTargetConfig(
            arn=self.pipeline.pipeline_arn,
            role=role,
            dead_letter_config=dead_letter_config,
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self.retry_attempts,
                maximum_event_age_in_seconds=int(self.max_event_age.to_seconds()),
            ),
        )

    def _rule_role(self, rule: events_refs.IRuleRef) -> iam.IRole:
        existing = rule.node.try_find_child("StartPipelineRole")
        if isinstance(existing, iam.Role):
            return existing
        if not isinstance(rule, Construct):
            raise ValueError("SageMakerPipelineTarget needs a role= for an imported rule")
        role = iam.Role(
            rule,
            "StartPipelineRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description=f"Lets EventBridge start SageMaker pipeline {self.pipeline.pipeline_name}",
        )
        acknowledge_inline_policy(role)
        return role


def check_target_props(
    errors: ValidationErrors,
    pipeline: TrainingPipeline,
    parameters: Mapping[str, str] | None,
    retry_attempts: int,
    max_event_age: Duration,
) -> None:
    """Report invalid :class:`SageMakerPipelineTarget` props into ``errors``."""
    declared = {p.name for p in pipeline.definition.parameters}
    for name, value in (parameters or {}).items():
        errors.check(
            name in declared,
            f"parameters names {name!r}, which pipeline {pipeline.pipeline_name} does not "
            f"declare (declared: {sorted(declared)})",
        )
        errors.check(
            bool(NAME_PATTERN.match(name)) and len(str(value)) <= _MAX_PARAMETER_VALUE,
            f"parameters {name!r} must be a parameter name with a value of at most "
            f"{_MAX_PARAMETER_VALUE} characters",
        )
    int_in_range(errors, "retry_attempts", retry_attempts, minimum=0, maximum=_MAX_RETRY_ATTEMPTS)
    if not Token.is_unresolved(max_event_age.to_string()):
        seconds = max_event_age.to_seconds()
        errors.check(
            seconds == int(seconds) and _MIN_EVENT_AGE <= seconds <= _MAX_EVENT_AGE,
            "max_event_age must be whole seconds from 1 minute to 24 hours, got "
            f"{max_event_age.to_human_string()}",
        )


def _target_index(id: str | None) -> int:
    match = _TARGET_ID.match(id or "")
    if match is None:
        raise ValueError(f"SageMakerPipelineTarget expects a target id 'Target<n>', got {id!r}")
    return int(match.group(1))


class DriftRetrainingLoop(Construct):
    """Starts the retraining pipeline when drift or model-quality alarms go off.

    A composite alarm (:attr:`composite_alarm`) is in ALARM when any drift or quality alarm
    of ``monitors`` (and any of ``alarms``) is, unless the retraining pipeline started within
    ``cool_down`` (:attr:`cool_down_alarm`, on the pipeline's ``ExecutionStarted`` metric).
    Its change to ALARM starts the pipeline through EventBridge's native SageMaker Pipelines
    target, whose role may only start that pipeline; undeliverable starts land in a
    KMS-encrypted dead-letter queue with an alarm. The composite alarm notifies
    ``alarm_topic`` that a retraining was started. The new model version then waits for
    approval in the registry, as any other. See the module docstring for why the cool-down
    is part of the alarm rule.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        retraining_pipeline: TrainingPipeline,
        monitors: Sequence[ModelMonitor] = (),
        alarms: Sequence[cloudwatch.IAlarm] = (),
        cool_down: Duration = Duration.hours(24),
        pipeline_parameters: Mapping[str, str] | None = None,
        alarm_topic: sns.ITopic | None = None,
        key: kms.IKey | None = None,
        retry_attempts: int = 2,
        max_event_age: Duration = Duration.hours(1),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param retraining_pipeline: the pipeline to start (it registers the new version).
        :param monitors: monitors whose drift and model-quality alarms trigger retraining.
            Default: none (give ``alarms``).
        :param alarms: further alarms that trigger retraining. Default: none.
        :param cool_down: no second start within this long of any start of the pipeline:
            whole multiples of 5 minutes up to a day, whole hours up to 7 days.
            Default: 24 hours.
        :param pipeline_parameters: parameter values for the started executions.
            Default: the parameters' defaults.
        :param alarm_topic: told when retraining starts or cannot be started; its key must
            let CloudWatch use it. Default: the first monitor's topic, else a new topic.
        :param key: KMS key of the dead-letter queue (and a new topic); it must let
            EventBridge use it (``kms:GenerateDataKey*``, ``kms:Decrypt``). Default: a new key
            with rotation on, which does.
        :param retry_attempts: EventBridge retries of a failed start, 0 to 185. Default: 2.
        :param max_event_age: how long a start is retried. Default: 1 hour.
        :param removal_policy: what happens to a new key and the queue when the stack is
            deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        triggers: list[cloudwatch.IAlarm] = [
            alarm for monitor in monitors for alarm in monitor.retraining_alarms
        ] + list(alarms)
        errors = ValidationErrors("DriftRetrainingLoop")
        errors.check(
            bool(triggers),
            "give monitors (their drift and model-quality alarms) or alarms: nothing would "
            "trigger retraining",
        )
        errors.check(
            len(triggers) < _MAX_COMPOSITE_CHILDREN,
            f"monitors and alarms give {len(triggers)} alarms; a composite alarm takes at most "
            f"{_MAX_COMPOSITE_CHILDREN} (one is the cool-down): name fewer drift features or "
            "use several loops",
        )
        period, periods = _cool_down_window(errors, cool_down)
        check_target_props(
            errors, retraining_pipeline, pipeline_parameters, retry_attempts, max_event_age
        )
        errors.raise_if_any()

        self.retraining_pipeline = retraining_pipeline
        self.key: kms.IKey = key or kms.Key(
            self,
            "Key",
            description="Encrypts the drift retraining loop's dead-letter queue",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        topic = alarm_topic or (monitors[0].alarm_topic if monitors else None)
        if topic is None:
            new_topic = encrypted_topic(
                self, "AlarmTopic", key=self.key, display_name="Drift retraining"
            )
            grant_service_publish(new_topic, self.key, "cloudwatch.amazonaws.com")
            topic = new_topic
        self.alarm_topic: sns.ITopic = topic
        notify = cw_actions.SnsAction(topic)

        #: In ALARM while the retraining pipeline started within the cool-down.
        self.cool_down_alarm = cloudwatch.Alarm(
            self,
            "CoolDownAlarm",
            metric=retraining_pipeline.metric_execution_started(period=period, statistic="Sum"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=periods,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"Pipeline {retraining_pipeline.pipeline_name} started within the retraining "
                f"cool-down ({cool_down.to_human_string()}): drift cannot start it again. OK "
                "means the loop is armed again."
            ),
        )
        # Its OK action tells the team the loop is armed again (once per cool-down); an ALARM
        # action would only repeat the composite alarm's "retraining started".
        self.cool_down_alarm.add_ok_action(notify)
        #: In ALARM when drift or quality alarms are, outside the cool-down.
        self.composite_alarm = cloudwatch.CompositeAlarm(
            self,
            "RetrainingAlarm",
            alarm_rule=cloudwatch.AlarmRule.all_of(
                cloudwatch.AlarmRule.any_of(
                    *(
                        cloudwatch.AlarmRule.from_alarm(a, cloudwatch.AlarmState.ALARM)
                        for a in triggers
                    )
                ),
                cloudwatch.AlarmRule.not_(
                    cloudwatch.AlarmRule.from_alarm(
                        self.cool_down_alarm, cloudwatch.AlarmState.ALARM
                    )
                ),
            ),
            alarm_description=(
                f"Drift or model quality alarms fired: retraining pipeline "
                f"{retraining_pipeline.pipeline_name} is started (at most once per "
                f"{cool_down.to_human_string()})."
            ),
        )
        self.composite_alarm.add_alarm_action(notify)

        self.dead_letter_queue: sqs.IQueue = dead_letter_queue(
            self, "DeadLetterQueue", key=self.key, removal_policy=removal_policy
        )
        target = SageMakerPipelineTarget(
            retraining_pipeline,
            parameters=pipeline_parameters,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
        )
        if key is None:
            # EventBridge encrypts what it puts on the queue with the queue's key.
            grant_service_publish(topic, self.key, "events.amazonaws.com")
        #: Starts the pipeline when the composite alarm changes to ALARM.
        self.rule = events.Rule(
            self,
            "StartRetrainingRule",
            description=f"Starts {retraining_pipeline.pipeline_name} when drift alarms fire",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=[ALARM_STATE_CHANGE],
                resources=[self.composite_alarm.alarm_arn],
                detail={"state": {"value": ["ALARM"]}},
            ),
        )
        self.rule.add_target(target)
        #: Starts EventBridge could not deliver after its retries.
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            metric=self.metric_dead_letter_messages(),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"EventBridge could not start pipeline {retraining_pipeline.pipeline_name} "
                "after drift; inspect the dead-letter queue"
            ),
        )
        self.dead_letter_alarm.add_alarm_action(notify)

    def metric_dead_letter_messages(
        self, period: Duration = Duration.minutes(1)
    ) -> cloudwatch.Metric:
        """Start requests waiting in the dead-letter queue (the maximum over ``period``)."""
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=period, statistic="Maximum"
        )

    @property
    def alarms(self) -> list[cloudwatch.IAlarm]:
        """The loop's own alarms, for dashboards."""
        return [self.composite_alarm, self.cool_down_alarm, self.dead_letter_alarm]


def _cool_down_window(errors: ValidationErrors, cool_down: Duration) -> tuple[Duration, int]:
    """The cool-down alarm's period and evaluation periods: 5-minute periods up to a day
    (CloudWatch limits sub-hour periods to a day of evaluation), hours up to 7 days."""
    if Token.is_unresolved(cool_down.to_string()):
        errors.add("cool_down must be known at synth time: it sizes the cool-down alarm")
        return Duration.minutes(5), 1
    seconds = cool_down.to_seconds()
    fine = Duration.minutes(5)
    if 0 < seconds <= _ONE_DAY.to_seconds() and seconds % fine.to_seconds() == 0:
        return fine, int(seconds // fine.to_seconds())
    hours = seconds / 3600
    if _ONE_DAY.to_seconds() < seconds and hours == int(hours) and hours <= _MAX_COOL_DOWN_HOURS:
        return Duration.hours(1), int(hours)
    errors.add(
        "cool_down must be a multiple of 5 minutes up to 1 day, or of 1 hour up to 7 days "
        f"(the cool-down alarm's evaluation range), got {cool_down.to_human_string()}"
    )
    return fine, 1

"""Blue/green deployment guardrails: traffic shifting, baking and automatic rollback.

Limits come from botocore's ``TrafficRoutingConfig`` and ``BlueGreenUpdatePolicy`` shapes:
wait intervals and the termination wait are 0 to 3600 seconds, the execution timeout 600
to 28800 seconds and larger than the total waiting time; a canary is at most 50% of the
variant's instances and a linear step 10% to 50% of them.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration

from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.serving._checks import seconds_in_range

_MAX_WAIT_SECONDS = 3600
_MIN_TIMEOUT_SECONDS = 600
_MAX_TIMEOUT_SECONDS = 28_800
#: AutoRollbackConfiguration.Alarms holds at most this many alarms (AlarmList).
MAX_ROLLBACK_ALARMS = 10
_CANARY_MAX_PERCENT = 50
_LINEAR_PERCENT = (10, 50)


class TrafficShiftingType(enum.Enum):
    """How traffic moves from the old fleet to the new one (``TrafficRoutingConfigType``)."""

    ALL_AT_ONCE = "ALL_AT_ONCE"
    CANARY = "CANARY"
    LINEAR = "LINEAR"


@dataclass(frozen=True)
class TrafficShifting:
    """A traffic-shifting mode: build it with :meth:`all_at_once`, :meth:`canary` or
    :meth:`linear`.

    ``wait_interval`` is the baking time after each step, during which the rollback alarms
    are watched.
    """

    type: TrafficShiftingType
    wait_interval: Duration
    percent: int | None = None
    instances: int | None = None

    @classmethod
    def all_at_once(cls, *, bake_time: Duration = Duration.minutes(5)) -> TrafficShifting:
        """Shift all traffic at once, then watch the alarms for ``bake_time``."""
        return cls(TrafficShiftingType.ALL_AT_ONCE, bake_time)

    @classmethod
    def canary(
        cls,
        *,
        percent: int | None = None,
        instances: int | None = None,
        wait_interval: Duration = Duration.minutes(5),
    ) -> TrafficShifting:
        """Shift a canary (``percent`` of capacity or ``instances``) first, then the rest."""
        return cls(TrafficShiftingType.CANARY, wait_interval, percent, instances)

    @classmethod
    def linear(
        cls,
        *,
        percent: int | None = None,
        instances: int | None = None,
        wait_interval: Duration = Duration.minutes(5),
    ) -> TrafficShifting:
        """Shift traffic in equal steps of ``percent`` of capacity or ``instances``."""
        return cls(TrafficShiftingType.LINEAR, wait_interval, percent, instances)


@dataclass(frozen=True)
class DeploymentGuardrails:
    """How a new endpoint configuration replaces the old one (CloudFormation updates and the
    approval flow alike).

    By default traffic moves all at once, the new fleet bakes for 5 minutes and the
    deployment rolls back if the endpoint's 5XX or model-latency alarm goes off; the old
    fleet is kept for another 5 minutes after success.
    """

    traffic_shifting: TrafficShifting = TrafficShifting.all_at_once()  # noqa: RUF009 - immutable
    """The traffic-shifting mode. Default: all at once with a 5-minute bake."""
    termination_wait: Duration = Duration.minutes(5)
    """How long the old fleet is kept after the shift completes. Default: 5 minutes."""
    maximum_execution_timeout: Duration | None = None
    """Upper bound on the whole deployment (600 to 28800 seconds). Default: the API's."""
    auto_rollback: bool = True
    """Roll back when the endpoint's Invocation5XXErrors or ModelLatencyP99 alarm goes
    off. Default: true."""
    additional_rollback_alarm_names: tuple[str, ...] = ()
    """Names of other CloudWatch alarms that roll a deployment back. Default: none."""


def validate_guardrails(
    errors: ValidationErrors,
    guardrails: DeploymentGuardrails,
    *,
    fleet_sizes: Sequence[int],
    own_alarms: int,
) -> None:
    """Report invalid guardrails for variants with ``fleet_sizes`` instances (their minimum).

    :param own_alarms: rollback alarms the endpoint adds itself.
    """
    shifting = guardrails.traffic_shifting
    wait = seconds_in_range(
        errors,
        "guardrails.traffic_shifting.wait_interval",
        shifting.wait_interval,
        minimum=0,
        maximum=_MAX_WAIT_SECONDS,
    )
    termination = seconds_in_range(
        errors,
        "guardrails.termination_wait",
        guardrails.termination_wait,
        minimum=0,
        maximum=_MAX_WAIT_SECONDS,
    )
    steps = _validate_size(errors, shifting, fleet_sizes)
    if guardrails.maximum_execution_timeout is not None:
        timeout = seconds_in_range(
            errors,
            "guardrails.maximum_execution_timeout",
            guardrails.maximum_execution_timeout,
            minimum=_MIN_TIMEOUT_SECONDS,
            maximum=_MAX_TIMEOUT_SECONDS,
        )
        if None not in (timeout, wait, termination):
            waiting = (wait or 0) * steps + (termination or 0)
            errors.check(
                (timeout or 0) > waiting,
                f"guardrails.maximum_execution_timeout ({timeout}s) must be longer than the "
                f"waiting it covers: {steps} wait interval(s) plus termination_wait = {waiting}s",
            )
    alarms = len(guardrails.additional_rollback_alarm_names) + (
        own_alarms if guardrails.auto_rollback else 0
    )
    errors.check(
        alarms <= MAX_ROLLBACK_ALARMS,
        f"guardrails may name at most {MAX_ROLLBACK_ALARMS} rollback alarms, got {alarms}",
    )


def _validate_size(
    errors: ValidationErrors, shifting: TrafficShifting, fleet_sizes: Sequence[int]
) -> int:
    """Check the canary/step size; return how many traffic steps the deployment waits on."""
    prop = "guardrails.traffic_shifting"
    if shifting.type is TrafficShiftingType.ALL_AT_ONCE:
        errors.check(
            shifting.percent is None and shifting.instances is None,
            f"{prop}: an ALL_AT_ONCE shift takes no percent or instances",
        )
        return 1
    if (shifting.percent is None) == (shifting.instances is None):
        errors.add(
            f"{prop}: a {shifting.type.value} shift needs exactly one of percent and instances"
        )
        return 1
    low, high = (
        (1, _CANARY_MAX_PERCENT) if shifting.type is TrafficShiftingType.CANARY else _LINEAR_PERCENT
    )
    if shifting.percent is not None:
        int_in_range(errors, f"{prop}.percent", shifting.percent, minimum=low, maximum=high)
        step_percent = shifting.percent
    else:
        instances = shifting.instances
        if isinstance(instances, bool) or not isinstance(instances, int) or instances < 1:
            errors.add(
                f"{prop}.instances must be a positive number of instances, got {instances!r}"
            )
            return 1
        smallest = min(fleet_sizes, default=1)
        step_percent = 100 * instances // max(smallest, 1)
        errors.check(
            low <= step_percent <= high,
            f"{prop}.instances ({shifting.instances}) must be {low}% to {high}% of the "
            f"smallest variant's {smallest} instance(s) for a {shifting.type.value} shift",
        )
    if shifting.type is TrafficShiftingType.CANARY:
        return 2
    return max(1, math.ceil(100 / max(step_percent, 1)))


def deployment_config(
    guardrails: DeploymentGuardrails, rollback_alarm_names: Sequence[str]
) -> dict[str, Any]:
    """``DeploymentConfig`` (UpdateEndpoint) for ``guardrails``.

    :param rollback_alarm_names: the endpoint's own rollback alarms.
    """
    shifting = guardrails.traffic_shifting
    routing: dict[str, Any] = {
        "Type": shifting.type.value,
        "WaitIntervalInSeconds": int(shifting.wait_interval.to_seconds()),
    }
    if shifting.type is not TrafficShiftingType.ALL_AT_ONCE:
        size = (
            {"Type": "CAPACITY_PERCENT", "Value": shifting.percent}
            if shifting.percent is not None
            else {"Type": "INSTANCE_COUNT", "Value": shifting.instances}
        )
        key = "CanarySize" if shifting.type is TrafficShiftingType.CANARY else "LinearStepSize"
        routing[key] = size
    policy: dict[str, Any] = {
        "TrafficRoutingConfiguration": routing,
        "TerminationWaitInSeconds": int(guardrails.termination_wait.to_seconds()),
    }
    if guardrails.maximum_execution_timeout is not None:
        policy["MaximumExecutionTimeoutInSeconds"] = int(
            guardrails.maximum_execution_timeout.to_seconds()
        )
    config: dict[str, Any] = {"BlueGreenUpdatePolicy": policy}
    names = [
        *(rollback_alarm_names if guardrails.auto_rollback else ()),
        *guardrails.additional_rollback_alarm_names,
    ]
    if names:
        config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": name} for name in names]}
    return config

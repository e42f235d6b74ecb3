"""A Python Lambda function built the same, secure way by every construct of the library."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from sagemaker_lifecycle._internal.assets import lambda_code, lambda_source_dir
from sagemaker_lifecycle._internal.keys import allow_cloudwatch_logs
from sagemaker_lifecycle._internal.messaging import dead_letter_queue
from sagemaker_lifecycle._internal.nag import (
    acknowledge_each,
    acknowledge_grant_wildcards,
    acknowledge_inline_policy,
    in_all_packs,
)
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range

if TYPE_CHECKING:
    from sagemaker_lifecycle.ml_network import MlNetwork

#: The newest Python runtime aws-cdk-lib 2.275 knows (cdk-nag's AwsSolutions-L1 compares
#: against the same list). ``Runtime.determine_latest_python_runtime`` still answers 3.13.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14

_ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Lambda reserves these names for its own use.
_RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
_MIN_MEMORY, _MAX_MEMORY = 128, 10240
_MAX_TIMEOUT_SECONDS = 900
_MIN_EVENT_AGE_SECONDS, _MAX_EVENT_AGE_SECONDS = 60, 6 * 3600
_MAX_ASYNC_RETRIES = 2
#: ENI management for a function in a VPC: the actions of AWSLambdaVPCAccessExecutionRole.
_VPC_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]


class PythonFunction(Construct):
    """A Python Lambda function from ``lambda/<source>/index.py``, secure by default.

    - the newest Python runtime CDK knows (:data:`PYTHON_RUNTIME`), X-Ray tracing on;
    - its own role, holding only what the caller grants plus logging, tracing and its
      dead-letter queue (no AWS managed policies);
    - environment variables encrypted with ``key``;
    - its own log group, encrypted with ``key``, with a retention;
    - reserved concurrency (one by default: the functions of this library change state and
      must not race each other);
    - failed asynchronous invocations kept in a KMS-encrypted SQS dead-letter queue;
    - in the VPC of ``network`` (its subnets and workload security group) when given.

    ``key`` must let CloudWatch Logs use it; a key created by CDK (``kms.Key``) is given that
    permission here, an imported key must already have it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source: str,
        description: str,
        key: kms.IKey,
        environment: Mapping[str, str] | None = None,
        handler: str = "index.handler",
        timeout: Duration = Duration.minutes(1),
        memory_size: int = 256,
        reserved_concurrent_executions: int = 1,
        retry_attempts: int = 2,
        max_event_age: Duration = Duration.hours(6),
        network: MlNetwork | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        dead_letter_queue: sqs.IQueue | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param source: the folder under ``lambda/`` that holds ``index.py``.
        :param description: what the function does (shown in the console).
        :param key: KMS key for the environment, the log group and the dead-letter queue.
        :param environment: environment variables. Default: none.
        :param handler: the handler, ``module.function``. Default: ``index.handler``.
        :param timeout: how long one invocation may run, up to 15 minutes. Default: 1 minute.
        :param memory_size: MiB of memory, 128 to 10240. Default: 256.
        :param reserved_concurrent_executions: how many invocations may run at once.
            Default: 1.
        :param retry_attempts: retries of a failed asynchronous invocation, 0 to 2. Default: 2.
        :param max_event_age: how long an asynchronous event may wait to be processed,
            1 minute to 6 hours. Default: 6 hours.
        :param network: run the function in this network's subnets with its workload
            security group. Default: outside a VPC.
        :param log_retention: how long the function's logs are kept. Default: one year.
        :param dead_letter_queue: where failed asynchronous invocations go. Default: a new
            KMS-encrypted queue keeping them 14 days.
        :param removal_policy: what happens to the log group and a new dead-letter queue
            when the stack is deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        env = dict(environment or {})
        errors = ValidationErrors("PythonFunction")
        try:
            lambda_source_dir(source)
        except FileNotFoundError as error:
            errors.add(f"source {source!r} has no index.py: {error}")
        int_in_range(errors, "memory_size", memory_size, minimum=_MIN_MEMORY, maximum=_MAX_MEMORY)
        int_in_range(
            errors,
            "reserved_concurrent_executions",
            reserved_concurrent_executions,
            minimum=1,
            maximum=1000,
        )
        int_in_range(
            errors, "retry_attempts", retry_attempts, minimum=0, maximum=_MAX_ASYNC_RETRIES
        )
        _seconds_in_range(errors, "timeout", timeout, 1, _MAX_TIMEOUT_SECONDS)
        _seconds_in_range(
            errors, "max_event_age", max_event_age, _MIN_EVENT_AGE_SECONDS, _MAX_EVENT_AGE_SECONDS
        )
        for name in env:
            errors.check(
                bool(_ENV_NAME.match(name)) and name not in _RESERVED_ENV,
                f"environment variable name {name!r} must be letters, digits and _ starting "
                "with a letter, and not one Lambda reserves",
            )
        errors.raise_if_any()

        self.key = key
        allow_cloudwatch_logs(key)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the {source} Lambda function",
        )
        acknowledge_inline_policy(self.role)
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            encryption_key=key,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue or _new_dead_letter_queue(
            self, key, removal_policy
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=PYTHON_RUNTIME,
            handler=handler,
            code=lambda_code(source),
            description=description,
            role=self.role,
            environment=env,
            environment_encryption=key,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrent_executions,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            dead_letter_queue=self.dead_letter_queue,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            vpc=network.vpc if network else None,
            vpc_subnets=network.subnet_selection if network else None,
            security_groups=[network.security_group] if network else None,
        )
        self._grant_runtime_needs(network)
        if network is None:
            acknowledge_each(
                self.function,
                in_all_packs("LambdaInsideVPC"),
                "No MlNetwork was given, so the function runs in the Lambda service network "
                "and reaches only AWS APIs, over TLS and authorized by its own role; pass "
                "network= to run it in the private subnets instead.",
            )

    def metric_errors(self, period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Invocations that ended in an error (the function raised or timed out)."""
        return self.function.metric_errors(period=period)

    def metric_dead_letter_messages(
        self, period: Duration = Duration.minutes(1)
    ) -> cloudwatch.Metric:
        """Events waiting in the dead-letter queue (the maximum over ``period``)."""
        return self.dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=period, statistic="Maximum"
        )

    def _grant_runtime_needs(self, network: MlNetwork | None) -> None:
        write = self.log_group.grant_write(self.role)
        acknowledge_grant_wildcards(
            self.role,
            write.principal_statements,
            "The function writes log streams into its own log group only; streams are "
            "created per execution environment, so they can only be named with a wildcard.",
        )
        # Lambda sends failed asynchronous events to the queue with the function's role,
        # and the queue is encrypted: the role needs a data key for each message.
        self.key.grant(self.role, "kms:GenerateDataKey", "kms:Decrypt")
        xray = iam.PolicyStatement(
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]
        )
        acknowledge_grant_wildcards(
            self.role,
            [xray],
            "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level "
            "permissions; CDK adds them for active tracing.",
        )
        if network is not None:
            vpc_access = iam.PolicyStatement(actions=_VPC_ACTIONS, resources=["*"])
            self.role.add_to_policy(vpc_access)
            acknowledge_grant_wildcards(
                self.role,
                [vpc_access],
                "Lambda manages the function's network interfaces with these EC2 actions "
                "(those of the AWSLambdaVPCAccessExecutionRole managed policy); the describe "
                "actions have no resource-level permissions and the interfaces' ids are only "
                "known once Lambda creates them.",
            )


def _new_dead_letter_queue(
    scope: Construct, key: kms.IKey, removal_policy: RemovalPolicy
) -> sqs.Queue:
    return dead_letter_queue(scope, "DeadLetterQueue", key=key, removal_policy=removal_policy)


def _seconds_in_range(
    errors: ValidationErrors, prop: str, value: Duration, minimum: int, maximum: int
) -> None:
    if Token.is_unresolved(value.to_string()):
        return
    try:
        seconds = value.to_seconds()
    except Exception:  # jsii raises a plain Error for fractional conversions
        errors.add(f"{prop} must be a whole number of seconds, got {value.to_human_string()}")
        return
    errors.check(
        minimum <= seconds <= maximum,
        f"{prop} must be from {minimum} to {maximum} seconds, got {value.to_human_string()}",
    )

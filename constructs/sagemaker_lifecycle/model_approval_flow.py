"""Approve a model version, and it is deployed: EventBridge rules, the deployer and its alarms."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack, Token, Tokenization
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_ssm as ssm
from botocore.model import StructureShape
from constructs import Construct

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.lambda_function import PythonFunction
from sagemaker_lifecycle._internal.messaging import (
    dead_letter_queue,
    encrypted_topic,
    grant_service_publish,
)
from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards
from sagemaker_lifecycle._internal.sagemaker_api import check_enum, check_name, operation, shape
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.model_registry import ModelRegistryBase

#: The ``source`` of the custom events the deployer puts on the event bus.
DEPLOYMENT_EVENT_SOURCE = "sagemaker-lifecycle.model-deployment"
#: The detail-type SageMaker gives endpoint status events on EventBridge.
ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"


class DeploymentEvent(enum.Enum):
    """The detail-types of the deployer's custom events."""

    STARTED = "Model Deployment Started"
    """An endpoint update (or creation) to an approved version was started."""
    SUCCEEDED = "Model Deployment Succeeded"
    """SageMaker reports the endpoint InService on the deployed configuration."""
    FAILED = "Model Deployment Failed"
    """The deployment was refused or rolled back by SageMaker (``detail.FailureReason``)."""


# Lambda allows 4 KB of environment variables (names and values) per function.
_ENVIRONMENT_LIMIT = 4096
# An SSM parameter holds up to 4 KB in the standard tier and 8 KB in the advanced tier.
_STANDARD_PARAMETER_LIMIT = 4096
_ADVANCED_PARAMETER_LIMIT = 8192
# A deploy-time value (an ARN, an id, a name) is estimated at this many characters when the
# spec's size is checked at synth time; role, key and queue ARNs are well below it.
_TOKEN_ALLOWANCE = 160
# How CDK encodes a token inside a string ("${Token[TOKEN.123]}").
_ENCODED_TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")
_MAX_NAME_PREFIX = 40
_NAME_PREFIX = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SPEC_KEYS = frozenset({"EndpointName", "Model", "EndpointConfig", "DeploymentConfig"})
_REQUIRED_SPEC_KEYS = ("Model", "EndpointConfig", "DeploymentConfig")
# Names the deployer sets itself, so the spec must not carry them.
_DEPLOYER_OWNED = {
    "Model": {"ModelName", "PrimaryContainer", "Containers", "Tags"},
    "EndpointConfig": {"EndpointConfigName", "Tags"},
    "Variant": {"ModelName"},
}


class ModelApprovalFlow(Construct):
    """Deploys the approved versions of one model package group to one SageMaker endpoint.

    Three EventBridge rules, each matching only this group's (or this endpoint's) events:

    - a version waiting for approval (``PendingManualApproval``) notifies the approvers topic
      with the group, version, ARN and metrics location;
    - an approval or rejection (``UpdatedModelPackageFields`` lists ``ModelApprovalStatus``,
      or a version registered with its status) invokes the deployer
      (``lambda/deploy_approved_model``): an approved version becomes a Model and an
      EndpointConfig named after the version and a blue/green endpoint update with the
      endpoint's traffic shifting and auto-rollback alarms; a rejected version that is live is
      reported to the approvers;
    - "SageMaker Endpoint State Change" for the endpoint invokes the deployer again, which
      compares the endpoint's active configuration with the deployed one and reads
      ``FailureReason``, so a rollback by SageMaker is a failed deployment. No function waits
      for a deployment that may bake for an hour.

    The deployer emits :class:`DeploymentEvent` events (source
    :data:`DEPLOYMENT_EVENT_SOURCE`), runs one invocation at a time, retries failed events and
    finally keeps them in a KMS-encrypted dead-letter queue whose depth raises an alarm. Its
    role can only touch this group's versions, this endpoint, the models and endpoint
    configurations named with :attr:`name_prefix`, and pass only the model execution role of
    the spec, to SageMaker only.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry: ModelRegistryBase,
        endpoint_name: str,
        deployment_spec: Mapping[str, Any],
        network: MlNetwork | None = None,
        key: kms.IKey | None = None,
        approvers_topic: sns.ITopic | None = None,
        approver_emails: Sequence[str] = (),
        alarm_topic: sns.ITopic | None = None,
        event_bus: events.IEventBus | None = None,
        allow_rollback_by_approval: bool = False,
        name_prefix: str | None = None,
        retry_attempts: int = 2,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param registry: the model package group whose versions are deployed.
        :param endpoint_name: the SageMaker endpoint that serves the group.
        :param deployment_spec: how to build a version's Model, EndpointConfig and update
            (``RealtimeEndpoint.deployment_spec``): the keys ``Model``, ``EndpointConfig``
            (variants without ``ModelName``) and ``DeploymentConfig`` hold SageMaker API
            request members, and ``EndpointName`` (optional) must equal ``endpoint_name``.
        :param network: run the deployer in this network's private subnets. Default: outside
            a VPC.
        :param key: KMS key for the topic, the dead-letter queue, the function's environment
            and logs. Default: a new key with rotation on. A key you pass must allow
            EventBridge, CloudWatch and CloudWatch Logs to use it.
        :param approvers_topic: where approvers are told about pending versions, failed
            deployments and rejected live versions. Default: a new topic encrypted with
            ``key`` that refuses publishes without TLS.
        :param approver_emails: email addresses subscribed to a new approvers topic.
            Default: none.
        :param alarm_topic: where the dead-letter alarm goes. Default: the approvers topic.
        :param event_bus: the bus the deployer puts its events on. Default: the account's
            default bus.
        :param allow_rollback_by_approval: deploy a version older than the deployed one when
            it is approved. Default: false (the version is skipped and the approvers told).
        :param name_prefix: prefix of the models and endpoint configurations the deployer
            creates, and of the IAM resources that allow it (lowercase letters, digits and
            hyphens, at most 40). Default: ``endpoint_name`` in lowercase (required when
            ``endpoint_name`` is a deploy-time value).
        :param retry_attempts: retries of a failed event by EventBridge and by Lambda, 0 to 2.
            Default: 2.
        :param log_retention: how long the deployer's logs are kept. Default: one year.
        :param removal_policy: what happens to the key, queue and logs when the stack is
            deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        errors = ValidationErrors("ModelApprovalFlow")
        check_name(errors, "endpoint_name", endpoint_name, "EndpointName")
        _check_spec(errors, deployment_spec, endpoint_name)
        prefix = _name_prefix(errors, name_prefix, endpoint_name)
        int_in_range(errors, "retry_attempts", retry_attempts, minimum=0, maximum=2)
        for email in approver_emails:
            errors.check(
                Token.is_unresolved(email) or bool(_EMAIL.match(email)),
                f"approver_emails must hold email addresses, got {email!r}",
            )
        if approver_emails and approvers_topic is not None:
            errors.add(
                "approver_emails subscribes addresses to a new topic; subscribe them to the "
                "approvers_topic you pass instead"
            )
        errors.raise_if_any()

        self.registry = registry
        self.endpoint_name = endpoint_name
        #: Prefix of the models and endpoint configurations the deployer creates.
        self.name_prefix = prefix
        self.key: kms.IKey = key or kms.Key(
            self,
            "Key",
            description="Encrypts the model approval flow's topic, queue, environment and logs",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.approvers_topic: sns.ITopic = approvers_topic or encrypted_topic(
            self, "ApproversTopic", key=self.key, display_name="Model approvals"
        )
        for service in ("events.amazonaws.com", "cloudwatch.amazonaws.com"):
            # EventBridge writes to the encrypted topic and dead-letter queue, CloudWatch
            # alarms publish to the topic.
            grant_service_publish(self.approvers_topic, self.key, service)
        for email in approver_emails:
            self.approvers_topic.add_subscription(subscriptions.EmailSubscription(email))
        self.event_bus: events.IEventBus = event_bus or events.EventBus.from_event_bus_name(
            self, "DefaultBus", "default"
        )
        self.dead_letter_queue = dead_letter_queue(
            self, "DeadLetterQueue", key=self.key, removal_policy=removal_policy
        )

        spec_json = Stack.of(self).to_json_string(dict(deployment_spec))
        environment = {
            "MODEL_PACKAGE_GROUP_NAME": registry.model_package_group_name,
            "ENDPOINT_NAME": endpoint_name,
            "NAME_PREFIX": prefix,
            "EVENT_BUS_NAME": self.event_bus.event_bus_name,
            "EVENT_SOURCE": DEPLOYMENT_EVENT_SOURCE,
            "APPROVERS_TOPIC_ARN": self.approvers_topic.topic_arn,
            "ALLOW_ROLLBACK_BY_APPROVAL": "true" if allow_rollback_by_approval else "false",
        }
        #: Where the spec is kept when it is too large for the environment, else ``None``.
        self.spec_parameter: ssm.StringParameter | None = None
        spec_size = _estimated_json_length(dict(deployment_spec))
        if (
            _environment_size(environment) + len("DEPLOYMENT_SPEC") + spec_size
            <= _ENVIRONMENT_LIMIT
        ):
            # Inline, the spec changes atomically with the function, is encrypted with the
            # key and costs no call at run time.
            environment["DEPLOYMENT_SPEC"] = spec_json
        else:
            self.spec_parameter = self._spec_parameter(spec_json, spec_size, network)
            environment["DEPLOYMENT_SPEC_PARAMETER"] = self.spec_parameter.parameter_name

        self.deployer = PythonFunction(
            self,
            "Deployer",
            source="deploy_approved_model",
            description=(
                f"Deploys approved versions of {registry.model_package_group_name} to "
                f"endpoint {endpoint_name}"
                if not Token.is_unresolved(registry.model_package_group_name)
                and not Token.is_unresolved(endpoint_name)
                else "Deploys approved model package versions to a SageMaker endpoint"
            ),
            key=self.key,
            environment=environment,
            # Deployments of one endpoint must not race: one invocation at a time.
            reserved_concurrent_executions=1,
            retry_attempts=retry_attempts,
            network=network,
            log_retention=log_retention,
            dead_letter_queue=self.dead_letter_queue,
            removal_policy=removal_policy,
        )
        self.function = self.deployer.function
        if self.spec_parameter is not None:
            self.spec_parameter.grant_read(self.deployer.role)
        self._grant_deployer(deployment_spec, prefix)

        target_options: dict[str, Any] = {
            "dead_letter_queue": self.dead_letter_queue,
            "retry_attempts": retry_attempts,
            "max_event_age": Duration.hours(6),
        }
        self.pending_approval_rule = events.Rule(
            self,
            "PendingApprovalRule",
            description="Tells the approvers about a model version waiting for approval",
            event_pattern=registry.model_package_state_change_pattern(["PendingManualApproval"]),
        )
        self.pending_approval_rule.add_target(
            targets.SnsTopic(self.approvers_topic, message=_pending_message(), **target_options)
        )
        self.approval_decision_rule = events.Rule(
            self,
            "ApprovalDecisionRule",
            description="Deploys an approved model version, records a rejected one",
            event_pattern=registry.model_package_state_change_pattern(["Approved", "Rejected"]),
        )
        self.approval_decision_rule.add_target(
            targets.LambdaFunction(self.function, **target_options)
        )
        self.endpoint_state_rule = events.Rule(
            self,
            "EndpointStateRule",
            description="Checks the outcome of a deployment when the endpoint changes state",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[ENDPOINT_STATE_CHANGE],
                detail={"EndpointName": [endpoint_name]},
            ),
        )
        self.endpoint_state_rule.add_target(targets.LambdaFunction(self.function, **target_options))

        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            alarm_description=(
                "Model approval events could not be handled after retries; inspect the "
                "dead-letter queue and the deployer's logs"
            ),
            metric=self.metric_dead_letter_messages(),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.dead_letter_alarm.add_alarm_action(
            cloudwatch_actions.SnsAction(alarm_topic or self.approvers_topic)
        )

    def metric_dead_letter_messages(
        self, period: Duration = Duration.minutes(1)
    ) -> cloudwatch.Metric:
        """Events waiting in the dead-letter queue (the maximum over ``period``)."""
        return self.deployer.metric_dead_letter_messages(period)

    def metric_approval_decisions(
        self, period: Duration = Duration.minutes(5)
    ) -> cloudwatch.Metric:
        """Approval decisions handed to the deployer (Sum): one per version approved (a
        deployment starts) or rejected, from EventBridge's invocations of the decision rule."""
        return cloudwatch.Metric(
            namespace=metrics.EVENTS_NAMESPACE,
            metric_name=metrics.EVENTS_INVOCATIONS,
            dimensions_map={metrics.EVENTS_DIM_RULE_NAME: self.approval_decision_rule.rule_name},
            statistic="Sum",
            period=period,
        )

    def metric_deployer_errors(self, period: Duration = Duration.minutes(5)) -> cloudwatch.Metric:
        """Deployer invocations that raised (each is retried, then dead-lettered)."""
        return self.deployer.metric_errors(period)

    def deployment_event_pattern(self, *kinds: DeploymentEvent) -> events.EventPattern:
        """The pattern of this flow's deployment events of ``kinds`` (all when none given)."""
        chosen = kinds or tuple(DeploymentEvent)
        return events.EventPattern(
            source=[DEPLOYMENT_EVENT_SOURCE],
            detail_type=[kind.value for kind in chosen],
            detail={"EndpointName": [self.endpoint_name]},
        )

    def on_deployment_event(
        self,
        id: str,
        *kinds: DeploymentEvent,
        target: events.IRuleTarget | None = None,
    ) -> events.Rule:
        """A rule on this flow's deployment events of ``kinds`` (all when none given).

        :param target: where matching events go. Default: none (add targets to the rule).
        """
        rule = events.Rule(
            self,
            id,
            event_bus=self.event_bus,
            event_pattern=self.deployment_event_pattern(*kinds),
        )
        if target is not None:
            rule.add_target(target)
        return rule

    def on_deployment_failed(
        self, id: str, target: events.IRuleTarget | None = None
    ) -> events.Rule:
        """A rule on failed deployments (refused, or rolled back by SageMaker)."""
        return self.on_deployment_event(id, DeploymentEvent.FAILED, target=target)

    def on_deployment_succeeded(
        self, id: str, target: events.IRuleTarget | None = None
    ) -> events.Rule:
        """A rule on deployments that completed."""
        return self.on_deployment_event(id, DeploymentEvent.SUCCEEDED, target=target)

    def _spec_parameter(
        self, spec_json: str, spec_size: int, network: MlNetwork | None
    ) -> ssm.StringParameter:
        errors = ValidationErrors("ModelApprovalFlow")
        errors.check(
            spec_size <= _ADVANCED_PARAMETER_LIMIT,
            f"deployment_spec is about {spec_size} characters as JSON; at most "
            f"{_ADVANCED_PARAMETER_LIMIT} fit in an SSM parameter, which holds it when it "
            "does not fit the function's 4 KB environment",
        )
        if network is not None and network.interface_endpoints:
            errors.check(
                any(_is_service(e, "ssm") for e in network.interface_endpoints.values()),
                f"deployment_spec is about {spec_size} characters, too large for the "
                "function's 4 KB environment, so the deployer reads it from SSM Parameter "
                "Store; network has no 'ssm' interface endpoint to reach it: add "
                "InterfaceVpcEndpointAwsService.SSM to MlNetwork(interface_endpoints=...)",
            )
        errors.raise_if_any()
        # CloudFormation cannot create SecureString parameters; the spec names resources
        # (ARNs, ids), never secrets.
        return ssm.StringParameter(
            self,
            "DeploymentSpec",
            string_value=spec_json,
            description="Deployment spec of the model approval flow's endpoint",
            tier=ssm.ParameterTier.ADVANCED
            if spec_size > _STANDARD_PARAMETER_LIMIT
            else ssm.ParameterTier.STANDARD,
        )

    def _grant_deployer(self, spec: Mapping[str, Any], prefix: str) -> None:
        role = self.deployer.role
        stack = Stack.of(self)

        def arns(resource: str, *names: str) -> list[str]:
            unique = list(dict.fromkeys(names))
            return [
                stack.format_arn(service="sagemaker", resource=resource, resource_name=name)
                for name in unique
            ]

        # SageMaker lower-cases endpoint, model and endpoint configuration names in their
        # ARNs, and the names the deployer creates are lowercase already.
        endpoints = arns(
            "endpoint",
            self.endpoint_name,
            *(() if Token.is_unresolved(self.endpoint_name) else (self.endpoint_name.lower(),)),
        )
        models = arns("model", f"{prefix}-v*")
        configs = arns("endpoint-config", f"{prefix}-v*")
        statements = [
            iam.PolicyStatement(
                sid="CreateVersionModels",
                actions=["sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:AddTags"],
                resources=models,
            ),
            iam.PolicyStatement(
                sid="CreateVersionEndpointConfigs",
                actions=[
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:AddTags",
                ],
                resources=configs,
            ),
            iam.PolicyStatement(
                sid="DeployToTheEndpoint",
                actions=["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"],
                resources=[*endpoints, *configs],
            ),
            iam.PolicyStatement(
                sid="TrackTheEndpoint",
                actions=[
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:ListTags",
                    "sagemaker:AddTags",
                    "sagemaker:DeleteTags",
                ],
                resources=endpoints,
            ),
        ]
        for statement in statements:
            role.add_to_policy(statement)
        acknowledge_grant_wildcards(
            role,
            statements,
            f"The deployer creates one model and one endpoint configuration per approved "
            f"version, named '{prefix}-v<version>-<digest>'; the prefix with a wildcard is the "
            "narrowest way to name versions that do not exist yet.",
        )
        # The endpoint's current configuration was created by the stack that owns the
        # endpoint, under a name CloudFormation generates; the deployer only reads it to
        # compare variant names and instance types before an update.
        read_live_config = iam.PolicyStatement(
            sid="ReadTheLiveEndpointConfig",
            actions=["sagemaker:DescribeEndpointConfig"],
            resources=arns("endpoint-config", "*"),
        )
        role.add_to_policy(read_live_config)
        acknowledge_grant_wildcards(
            role,
            [read_live_config],
            "DescribeEndpointConfig only reads configuration metadata; the endpoint's live "
            "configuration has a name CloudFormation generates in another stack, so it cannot "
            "be named here.",
        )
        self.registry.grant_deploy(role)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PassTheModelExecutionRole",
                actions=["iam:PassRole"],
                resources=[spec["Model"]["ExecutionRoleArn"]],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        keys = _spec_key_arns(spec["EndpointConfig"])
        if keys:
            # SageMaker creates grants on the volume, capture and async output keys with the
            # caller's credentials when it builds the endpoint's resources.
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="GrantTheEndpointKeysToSageMaker",
                    actions=["kms:CreateGrant"],
                    resources=keys,
                    conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
                )
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="DescribeTheEndpointKeys", actions=["kms:DescribeKey"], resources=keys
                )
            )
        self.event_bus.grant_put_events_to(role)
        self.approvers_topic.grant_publish(role)
        topic_key = self.approvers_topic.master_key
        if topic_key is not None:
            # grant_publish also lets the role use the topic's key, with CDK's action group.
            acknowledge_grant_wildcards(
                role,
                [
                    iam.PolicyStatement(
                        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                        resources=[topic_key.key_arn],
                    )
                ],
                "Publishing to the encrypted approvers topic needs a data key from the "
                "topic's KMS key; kms:GenerateDataKey* is CDK's action group for that key.",
            )


def _spec_key_arns(config: Mapping[str, Any]) -> list[str]:
    """The KMS key ARNs an EndpointConfig names (volume, capture, async output)."""
    capture = config.get("DataCaptureConfig") or {}
    output = (config.get("AsyncInferenceConfig") or {}).get("OutputConfig") or {}
    candidates = [config.get("KmsKeyId"), capture.get("KmsKeyId"), output.get("KmsKeyId")]
    keys: list[str] = []
    for key in candidates:
        # Key ids and aliases cannot be IAM resources; a key ARN (or a token for one) can.
        if not isinstance(key, str) or key in keys:
            continue
        if Token.is_unresolved(key) or key.startswith("arn:"):
            keys.append(key)
    return keys


def _pending_message() -> events.RuleTargetInput:
    group = events.EventField.from_path("$.detail.ModelPackageGroupName")
    version = events.EventField.from_path("$.detail.ModelPackageVersion")
    arn = events.EventField.from_path("$.detail.ModelPackageArn")
    metrics = events.EventField.from_path("$.detail.ModelMetrics.ModelQuality.Statistics.S3Uri")
    return events.RuleTargetInput.from_text(
        f"Model package group {group}, version {version} is waiting for approval. "
        f"Model package: {arn}. Metrics: {metrics}. "
        f"Review it, then run: python -m sagemaker_lifecycle.approve {group} "
        f'--version {version} --approve --comment "why" (or --reject).'
    )


def _check_spec(errors: ValidationErrors, spec: Mapping[str, Any], endpoint_name: str) -> None:
    if not isinstance(spec, Mapping):
        errors.add(f"deployment_spec must be a mapping, got {type(spec).__name__}")
        return
    try:
        json.dumps(spec)
    except (TypeError, ValueError) as error:
        errors.add(f"deployment_spec must hold only JSON values and tokens: {error}")
        return
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        errors.add(f"deployment_spec has unknown keys {unknown}; allowed: {sorted(_SPEC_KEYS)}")
    for key in _REQUIRED_SPEC_KEYS:
        if not isinstance(spec.get(key), Mapping):
            errors.add(f"deployment_spec[{key!r}] must be an object of SageMaker request members")
    named = spec.get("EndpointName")
    if (
        named is not None
        and not Token.is_unresolved(named)
        and not Token.is_unresolved(endpoint_name)
        and named != endpoint_name
    ):
        errors.add(
            f"deployment_spec['EndpointName'] {named!r} must equal endpoint_name {endpoint_name!r}"
        )
    model = spec.get("Model")
    if isinstance(model, Mapping):
        _check_members(errors, "deployment_spec['Model']", model, "CreateModel", "Model")
        if not model.get("ExecutionRoleArn"):
            errors.add("deployment_spec['Model'] must name the ExecutionRoleArn the model runs as")
    config = spec.get("EndpointConfig")
    if isinstance(config, Mapping):
        _check_members(
            errors,
            "deployment_spec['EndpointConfig']",
            config,
            "CreateEndpointConfig",
            "EndpointConfig",
        )
        _check_variants(errors, config.get("ProductionVariants"))
    deployment = spec.get("DeploymentConfig")
    if isinstance(deployment, Mapping):
        allowed = _members("DeploymentConfig")
        extra = sorted(set(deployment) - allowed)
        if extra:
            errors.add(
                f"deployment_spec['DeploymentConfig'] has members {extra} that DeploymentConfig "
                f"does not have; allowed: {sorted(allowed)}"
            )


def _check_members(
    errors: ValidationErrors, where: str, value: Mapping[str, Any], api: str, owner: str
) -> None:
    input_shape = operation(api).input_shape
    members = set(input_shape.members) if input_shape is not None else set()
    owned = _DEPLOYER_OWNED[owner]
    for member in sorted(value):
        if member in owned:
            errors.add(f"{where} must not set {member}: the deployer sets it for each version")
        elif member not in members:
            errors.add(
                f"{where} has {member!r}, which is not a {api} request member; allowed: "
                f"{sorted(members - owned)}"
            )


def _check_variants(errors: ValidationErrors, variants: Any) -> None:
    where = "deployment_spec['EndpointConfig']['ProductionVariants']"
    if not isinstance(variants, Sequence) or isinstance(variants, str) or not variants:
        errors.add(f"{where} must be a non-empty list of production variants")
        return
    allowed = _members("ProductionVariant") - _DEPLOYER_OWNED["Variant"]
    names: list[str] = []
    for index, variant in enumerate(variants):
        if not isinstance(variant, Mapping):
            errors.add(f"{where}[{index}] must be an object")
            continue
        for member in sorted(set(variant) - allowed):
            errors.add(
                f"{where}[{index}] must not set {member}"
                + (
                    ": the deployer sets it"
                    if member == "ModelName"
                    else f"; allowed: {sorted(allowed)}"
                )
            )
        name = variant.get("VariantName")
        if not isinstance(name, str):
            errors.add(f"{where}[{index}] must have a VariantName")
            continue
        check_name(errors, f"{where}[{index}]['VariantName']", name, "VariantName")
        names.append(name)
        instance_type = variant.get("InstanceType")
        if isinstance(instance_type, str):
            check_enum(
                errors,
                f"{where}[{index}]['InstanceType']",
                instance_type,
                "ProductionVariantInstanceType",
            )
    duplicates = sorted({n for n in names if names.count(n) > 1 and not Token.is_unresolved(n)})
    if duplicates:
        errors.add(f"{where} repeats variant names {duplicates}")


def _members(shape_name: str) -> set[str]:
    structure = shape(shape_name)
    assert isinstance(structure, StructureShape), shape_name
    return set(structure.members)


def _name_prefix(errors: ValidationErrors, name_prefix: str | None, endpoint_name: str) -> str:
    if name_prefix is None:
        if Token.is_unresolved(endpoint_name):
            errors.add(
                "name_prefix is required when endpoint_name is a deploy-time value: it names "
                "the models and endpoint configurations in IAM policies at synth time"
            )
            return "unresolved"
        return endpoint_name.lower()[:_MAX_NAME_PREFIX].rstrip("-")
    errors.check(
        len(name_prefix) <= _MAX_NAME_PREFIX and bool(_NAME_PREFIX.match(name_prefix)),
        f"name_prefix must be 1 to {_MAX_NAME_PREFIX} lowercase letters, digits and hyphens "
        f"(not at either end), got {name_prefix!r}",
    )
    return name_prefix


def _estimated_json_length(value: Any) -> int:  # noqa: PLR0911 - one return per JSON type
    """Characters of ``value`` as JSON once deployed, with each token at its allowance."""
    if isinstance(value, str):
        if not Token.is_unresolved(value):
            return len(json.dumps(value))
        tokens = len(Tokenization.reverse_string(value).tokens)
        literal = _ENCODED_TOKEN.sub("", value)
        return len(json.dumps(literal)) + _TOKEN_ALLOWANCE * tokens
    if isinstance(value, Mapping):
        items = [len(json.dumps(str(k))) + 1 + _estimated_json_length(v) for k, v in value.items()]
        return 2 + sum(items) + max(len(items) - 1, 0)
    if isinstance(value, list | tuple):
        if Token.is_unresolved(value):
            return _TOKEN_ALLOWANCE * 4
        parts = [_estimated_json_length(v) for v in value]
        return 2 + sum(parts) + max(len(parts) - 1, 0)
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and Token.is_unresolved(value)
    ):
        return 20
    return len(json.dumps(value))


def _environment_size(environment: Mapping[str, str]) -> int:
    return sum(len(name) + _estimated_json_length(value) - 2 for name, value in environment.items())


def _is_service(endpoint: Any, service: str) -> bool:
    cfn = endpoint.node.default_child
    name = json.dumps(Stack.of(endpoint).resolve(cfn.service_name))
    return name.endswith(f'.{service}"]]}}') or name.endswith(f'.{service}"')

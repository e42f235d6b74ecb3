"""What every endpoint kind shares: model, role, key, log group, alarms, metrics, grants."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aws_cdk import Annotations, ArnFormat, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.grants import grant_image_pull
from sagemaker_lifecycle._internal.keys import allow_cloudwatch_logs
from sagemaker_lifecycle._internal.messaging import encrypted_topic, grant_service_publish
from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards, acknowledge_inline_policy
from sagemaker_lifecycle._internal.sagemaker_api import check_name
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.serving._checks import key_prefix
from sagemaker_lifecycle.serving.deployment_spec import cfn_model
from sagemaker_lifecycle.serving.endpoint_alarms import (
    AlarmThresholds,
    EndpointAlarm,
    create_endpoint_alarms,
    variant_metric,
)
from sagemaker_lifecycle.serving.model_source import ModelSource

_MAX_ENVIRONMENT = 100
_MAX_ENVIRONMENT_TEXT = 1024
_ENI_ACTIONS = [
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
]
# SageMaker's documented VPC permissions for a model role; none of these Describe actions
# supports resource-level permissions.
_ENI_DESCRIBE = [
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
]


def validate_common(
    errors: ValidationErrors,
    *,
    endpoint_name: str | None,
    model_source: ModelSource,
    artifacts_read_prefix: str | None,
    multi_model: bool = False,
) -> None:
    """Report invalid props every endpoint kind takes."""
    if endpoint_name is not None:
        check_name(errors, "endpoint_name", endpoint_name, "EndpointName")
    source = model_source
    if (source.model_data_key is None) == (source.model_package_arn is None):
        errors.add(
            "model_source must name model data or a model package: build it with "
            "ModelSource.from_artifacts or ModelSource.from_model_package"
        )
    errors.check(bool(source.images), "model_source.images must name at least one image")
    if source.model_data_key is not None:
        key_prefix(errors, "model_source.model_data_key", source.model_data_key)
        errors.check(
            source.model_data_key.endswith("/") == multi_model,
            "model_source.model_data_key must be a prefix ending in '/' for a multi-model "
            "endpoint and an object key otherwise, got "
            f"{source.model_data_key!r} with multi_model={multi_model}",
        )
    if source.model_package_arn is not None:
        check_name(
            errors, "model_source.model_package_arn", source.model_package_arn, "VersionedArnOrName"
        )
        errors.check(
            not multi_model,
            "multi_model needs model_source.from_artifacts (a prefix of models); a model "
            "package holds one model",
        )
        errors.check(
            artifacts_read_prefix is not None,
            "artifacts_read_prefix is required with a model package: name the artifacts-zone "
            "prefix that holds the package's model data",
        )
    if artifacts_read_prefix is not None:
        key_prefix(errors, "artifacts_read_prefix", artifacts_read_prefix)
    errors.check(
        len(source.environment) <= _MAX_ENVIRONMENT,
        f"model_source.environment may hold at most {_MAX_ENVIRONMENT} variables, "
        f"got {len(source.environment)}",
    )
    for name, value in source.environment.items():
        errors.check(
            0 < len(name) <= _MAX_ENVIRONMENT_TEXT and len(value) <= _MAX_ENVIRONMENT_TEXT,
            f"model_source.environment names and values must be 1 to {_MAX_ENVIRONMENT_TEXT} "
            f"characters, got {name[:40]!r}",
        )


class EndpointBase(Construct):
    """The parts every endpoint kind has. Subclasses validate their props, then call
    :meth:`_init_common` and build their endpoint configuration."""

    endpoint_name: str
    """The endpoint's name (a synth-time literal: alarms and scaling refer to it)."""
    endpoint_arn: str
    """The endpoint's ARN (SageMaker lower-cases the name in it)."""
    role: iam.IRole
    """The model's execution role."""
    key: kms.IKey
    """Encrypts the instance volumes, the log group and the construct's topics."""
    log_group: logs.LogGroup
    """``/aws/sagemaker/Endpoints/<endpoint name>``, created encrypted before SageMaker
    would create it unencrypted."""
    alarm_topic: sns.ITopic
    """Where every alarm of the endpoint notifies."""
    alarms: Mapping[EndpointAlarm, cloudwatch.Alarm]
    """The endpoint's alarms by kind."""
    cfn_model: sagemaker.CfnModel
    """Escape hatch: the ``AWS::SageMaker::Model``."""
    cfn_endpoint_config: sagemaker.CfnEndpointConfig
    """Escape hatch: the ``AWS::SageMaker::EndpointConfig``."""
    cfn_endpoint: sagemaker.CfnEndpoint
    """Escape hatch: the ``AWS::SageMaker::Endpoint`` (the construct's default child)."""
    data_lake: DataLake
    _log_group_arn: str

    def _init_common(
        self,
        *,
        endpoint_name: str | None,
        data_lake: DataLake,
        role: iam.IRole | None,
        key: kms.IKey | None,
        alarm_topic: sns.ITopic | None,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        description: str,
    ) -> None:
        stack = Stack.of(self)
        self.data_lake = data_lake
        self.endpoint_name = endpoint_name or Names.unique_resource_name(
            self, max_length=63, separator="-"
        )
        self.endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name.lower()
        )
        self.key = key or kms.Key(
            self,
            "Key",
            description=f"Encrypts {description} {self.endpoint_name}: volumes, logs, topics",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.role = role or iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Model execution role of {description} {self.endpoint_name}",
        )
        acknowledge_inline_policy(self.role)
        self.log_group = self._log_group(log_retention, removal_policy)
        if alarm_topic is None:
            topic = encrypted_topic(
                self, "AlarmTopic", key=self.key, display_name=f"{self.endpoint_name} alarms"
            )
            grant_service_publish(topic, self.key, "cloudwatch.amazonaws.com")
            alarm_topic = topic
        self.alarm_topic = alarm_topic

    def _log_group(
        self, retention: logs.RetentionDays, removal_policy: RemovalPolicy
    ) -> logs.LogGroup:
        stack = Stack.of(self)
        name = f"/aws/sagemaker/Endpoints/{self.endpoint_name}"
        arn = self._log_group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # The encryption context pins the key statement to this one log group.
        added = allow_cloudwatch_logs(self.key, log_group_arn=arn)
        if not added:
            Annotations.of(self).add_warning_v2(
                "sagemaker-lifecycle:endpoint-log-key",
                f"The imported key's policy must let logs.{stack.region}.amazonaws.com use it "
                f"for log group {name}, or the log group cannot be created.",
            )
        return logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=name,
            encryption_key=self.key,
            retention=retention,
            removal_policy=removal_policy,
        )

    def _grant_model_access(
        self,
        model_source: ModelSource,
        artifacts_read_prefix: str | None,
        network: MlNetwork | None,
    ) -> None:
        """What the model role needs: model data, images, logs, metrics, volume key, ENIs."""
        role = self.role
        prefix = artifacts_read_prefix or _folder(model_source.model_data_key or "")
        self.data_lake.grant_read(role, Zone.ARTIFACTS, prefix or None)
        stack = Stack.of(self)
        grant_image_pull(
            role,
            sorted({i.repository_arn for i in model_source.images}),
            "the repositories of the model's inference images",
        )
        statements = [
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                # The group's own ARN, and the ARN with ":*" that its streams fall under.
                resources=[self._log_group_arn, self.log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringEquals": {"cloudwatch:namespace": metrics.ENDPOINT_INSTANCE_NAMESPACE}
                },
            ),
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                resources=[self.key.key_arn],
            ),
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[self.key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
        ]
        if network is not None:
            statements += _eni_statements(stack, network)
        for statement in statements:
            role.add_to_principal_policy(statement)
        acknowledge_grant_wildcards(
            role,
            statements,
            f"Model execution role of endpoint {self.endpoint_name}: "
            "cloudwatch:PutMetricData (held to the endpoint-instance namespace by a condition) "
            "and the EC2 Describe calls have no resource-level permissions; network interfaces "
            "get their IDs only when SageMaker creates them in the named subnets; "
            "kms:GenerateDataKey* is CDK's data-key action group on one named key.",
        )

    def _create_model(
        self, model_source: ModelSource, model_spec: Mapping[str, Any], *, multi_model: bool = False
    ) -> sagemaker.CfnModel:
        container: dict[str, Any] = {}
        if model_source.model_package_arn is not None:
            container["ModelPackageName"] = model_source.model_package_arn
        else:
            container["Image"] = model_source.images[0].image_uri
            container["ModelDataUrl"] = self.data_lake.s3_uri(
                Zone.ARTIFACTS, model_source.model_data_key or ""
            )
            container["Mode"] = "MultiModel" if multi_model else "SingleModel"
        if model_source.environment:
            container["Environment"] = dict(model_source.environment)
        model = cfn_model(self, "Model", model_spec, container)
        # The role's policy must exist before SageMaker checks it can pull the image.
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            model.node.add_dependency(policy)
        return model

    def _create_alarms(
        self, variants: Mapping[str, str | None], thresholds: AlarmThresholds
    ) -> None:
        self.alarms = MappingProxyType(
            create_endpoint_alarms(
                self,
                endpoint_name=self.endpoint_name,
                variants=variants,
                thresholds=thresholds,
                topic=self.alarm_topic,
            )
        )

    # --- metrics -------------------------------------------------------------------------

    @property
    def variant_names(self) -> tuple[str, ...]:
        """The endpoint's production variant names, in order."""
        return tuple(self._variant_names)

    _variant_names: list[str]

    def metric(
        self,
        metric_name: str,
        *,
        variant_name: str | None = None,
        statistic: str = "Sum",
        period: Duration = Duration.minutes(1),
        namespace: str = metrics.SAGEMAKER_NAMESPACE,
    ) -> cloudwatch.Metric:
        """A metric of one of the endpoint's variants.

        :param variant_name: Default: the first variant.
        """
        variant = variant_name or self._variant_names[0]
        if variant not in self._variant_names:
            raise ValueError(
                f"variant_name must be one of {', '.join(self._variant_names)}, got {variant!r}"
            )
        return variant_metric(
            self.endpoint_name,
            variant,
            metric_name,
            statistic=statistic,
            period=period,
            namespace=namespace,
        )

    def metric_invocations(
        self, *, variant_name: str | None = None, period: Duration = Duration.minutes(1)
    ) -> cloudwatch.Metric:
        """Requests sent to the model (Sum)."""
        return self.metric(metrics.INVOCATIONS, variant_name=variant_name, period=period)

    def metric_invocation_5xx_errors(
        self, *, variant_name: str | None = None, period: Duration = Duration.minutes(1)
    ) -> cloudwatch.Metric:
        """Requests the model answered with a 5XX error (Sum)."""
        return self.metric(metrics.INVOCATION_5XX_ERRORS, variant_name=variant_name, period=period)

    def metric_invocation_4xx_errors(
        self, *, variant_name: str | None = None, period: Duration = Duration.minutes(1)
    ) -> cloudwatch.Metric:
        """Requests the model answered with a 4XX error (Sum)."""
        return self.metric(metrics.INVOCATION_4XX_ERRORS, variant_name=variant_name, period=period)

    def metric_model_latency(
        self,
        *,
        variant_name: str | None = None,
        statistic: str = "p99",
        period: Duration = Duration.minutes(1),
    ) -> cloudwatch.Metric:
        """Time the model takes to respond, in microseconds. Default statistic: p99."""
        return self.metric(
            metrics.MODEL_LATENCY, variant_name=variant_name, statistic=statistic, period=period
        )

    # --- grants --------------------------------------------------------------------------

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call ``InvokeEndpoint`` on this endpoint."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpoint"], resource_arns=[self.endpoint_arn]
        )


def _folder(key: str) -> str:
    if key.endswith("/"):
        return key
    folder = posixpath.dirname(key)
    return f"{folder}/" if folder else ""


def _eni_statements(stack: Stack, network: MlNetwork) -> list[iam.PolicyStatement]:
    def ec2_arn(resource: str, name: str) -> str:
        return stack.format_arn(service="ec2", resource=resource, resource_name=name)

    interfaces = ec2_arn("network-interface", "*")
    return [
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface"],
            resources=[
                interfaces,
                ec2_arn("security-group", network.security_group.security_group_id),
                *(ec2_arn("subnet", subnet) for subnet in network.subnet_ids),
            ],
        ),
        iam.PolicyStatement(actions=_ENI_ACTIONS, resources=[interfaces]),
        iam.PolicyStatement(actions=_ENI_DESCRIBE, resources=["*"]),
    ]

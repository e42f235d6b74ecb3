"""A serverless SageMaker endpoint: pay per request, no instances to manage."""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from botocore.model import StructureShape
from constructs import Construct

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.sagemaker_api import check_name, shape
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.data_lake import DataLake
from sagemaker_lifecycle.serving._endpoint import EndpointBase, validate_common
from sagemaker_lifecycle.serving.deployment_spec import cfn_endpoint_config
from sagemaker_lifecycle.serving.endpoint_alarms import AlarmThresholds, validate_thresholds
from sagemaker_lifecycle.serving.model_source import ModelSource

# "Valid values are in 1 GB increments" (ProductionVariantServerlessConfig.MemorySizeInMB);
# the range comes from the shape.
_MEMORY_STEP_MB = 1024


def _limits(member: str) -> tuple[int, int]:
    metadata = (
        cast(StructureShape, shape("ProductionVariantServerlessConfig")).members[member].metadata
    )
    return int(metadata["min"]), int(metadata["max"])


#: Memory sizes a serverless endpoint accepts, in MB.
SERVERLESS_MEMORY_SIZES: tuple[int, ...] = tuple(
    range(_limits("MemorySizeInMB")[0], _limits("MemorySizeInMB")[1] + 1, _MEMORY_STEP_MB)
)


class ServerlessEndpoint(EndpointBase):
    """A serverless endpoint: SageMaker runs the model on demand, billed per request.

    Serverless Inference does not support VPC configuration, network isolation, data
    capture, multi-model hosting, GPUs or deployment guardrails (SageMaker developer guide,
    "Serverless Inference: feature exclusions"), so this construct offers none of them; use
    :class:`RealtimeEndpoint` where a model must stay inside a VPC or be monitored. The
    configuration is still KMS-encrypted, logs go to an encrypted log group and the model
    role can only read its model data, pull its images and write its logs. Cold starts are
    avoided with ``provisioned_concurrency``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_source: ModelSource,
        data_lake: DataLake,
        memory_size_mb: int = 2048,
        max_concurrency: int = 20,
        provisioned_concurrency: int | None = None,
        variant_name: str = "AllTraffic",
        endpoint_name: str | None = None,
        role: iam.IRole | None = None,
        key: kms.IKey | None = None,
        artifacts_read_prefix: str | None = None,
        alarm_thresholds: AlarmThresholds = AlarmThresholds(),  # noqa: B008 - a frozen dataclass is an immutable value
        alarm_topic: sns.ITopic | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param model_source: the model served.
        :param data_lake: where the model data is read from.
        :param memory_size_mb: memory per concurrent invocation: 1024 to 6144 in steps of
            1024 (more memory also means more vCPUs). Default: 2048.
        :param max_concurrency: concurrent invocations before requests are throttled,
            1 to 200. Default: 20.
        :param provisioned_concurrency: invocations kept warm (billed while idle), at most
            ``max_concurrency``. Default: none (cold starts after idle periods).
        :param variant_name: the production variant's name. Default: AllTraffic.
        :param endpoint_name: the endpoint's name. Default: derived from the construct path.
        :param role: the model's execution role. Default: a new least-privilege role.
        :param key: KMS key for the configuration, logs and topic. Default: a new key,
            rotation on.
        :param artifacts_read_prefix: artifacts-zone prefix the model role may read.
            Default: the folder of ``model_source``'s model data.
        :param alarm_thresholds: when the alarms go off (serverless endpoints have no
            instance CPU or memory alarm). Default: :class:`AlarmThresholds`.
        :param alarm_topic: where alarms notify. Default: a new KMS-encrypted topic.
        :param log_retention: how long endpoint logs are kept. Default: one year.
        :param removal_policy: what happens to the log group and the created key when the
            stack is deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        errors = ValidationErrors("ServerlessEndpoint")
        validate_common(
            errors,
            endpoint_name=endpoint_name,
            model_source=model_source,
            artifacts_read_prefix=artifacts_read_prefix,
        )
        errors.check(
            memory_size_mb in SERVERLESS_MEMORY_SIZES and not isinstance(memory_size_mb, bool),
            f"memory_size_mb must be one of {', '.join(map(str, SERVERLESS_MEMORY_SIZES))}, "
            f"got {memory_size_mb!r}",
        )
        low, high = _limits("MaxConcurrency")
        int_in_range(errors, "max_concurrency", max_concurrency, minimum=low, maximum=high)
        if provisioned_concurrency is not None:
            low, high = _limits("ProvisionedConcurrency")
            int_in_range(
                errors,
                "provisioned_concurrency",
                provisioned_concurrency,
                minimum=low,
                maximum=high,
            )
            if isinstance(provisioned_concurrency, int) and isinstance(max_concurrency, int):
                errors.check(
                    provisioned_concurrency <= max_concurrency,
                    f"provisioned_concurrency ({provisioned_concurrency}) must be at most "
                    f"max_concurrency ({max_concurrency})",
                )
        check_name(errors, "variant_name", variant_name, "VariantName")
        validate_thresholds(errors, alarm_thresholds)
        errors.raise_if_any()

        self._init_common(
            endpoint_name=endpoint_name,
            data_lake=data_lake,
            role=role,
            key=key,
            alarm_topic=alarm_topic,
            log_retention=log_retention,
            removal_policy=removal_policy,
            description="serverless endpoint",
        )
        self._variant_names = [variant_name]
        self._grant_model_access(model_source, artifacts_read_prefix, None)
        self.cfn_model = self._create_model(model_source, {"ExecutionRoleArn": self.role.role_arn})
        self._create_alarms({variant_name: None}, alarm_thresholds)
        serverless: dict[str, Any] = {
            "MemorySizeInMB": memory_size_mb,
            "MaxConcurrency": max_concurrency,
        }
        if provisioned_concurrency is not None:
            serverless["ProvisionedConcurrency"] = provisioned_concurrency
        #: The ``EndpointConfig`` members (CreateEndpointConfig) the endpoint is built from.
        self.endpoint_config_spec: dict[str, Any] = {
            "ProductionVariants": [{"VariantName": variant_name, "ServerlessConfig": serverless}],
            "KmsKeyId": self.key.key_arn,
        }
        self.cfn_endpoint_config = cfn_endpoint_config(
            self, "EndpointConfig", self.endpoint_config_spec, self.cfn_model.attr_model_name
        )
        self.cfn_endpoint = sagemaker.CfnEndpoint(
            self,
            "Resource",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.cfn_endpoint_config.attr_endpoint_config_name,
        )
        self.cfn_endpoint.node.add_dependency(self.log_group)

    def metric_model_setup_time(
        self, *, statistic: str = "p99", period: Duration = Duration.minutes(1)
    ) -> cloudwatch.Metric:
        """Time to launch compute for a cold start, in microseconds. Default statistic: p99."""
        return self.metric(metrics.MODEL_SETUP_TIME, statistic=statistic, period=period)

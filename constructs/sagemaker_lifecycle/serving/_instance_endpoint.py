"""What real-time and asynchronous endpoints share: instances, capture, guardrails, spec."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker

from sagemaker_lifecycle import metrics
from sagemaker_lifecycle._internal.instance_types import has_local_instance_storage, instance_family
from sagemaker_lifecycle._internal.nag import (
    acknowledge_each,
    in_all_packs,
)
from sagemaker_lifecycle.data_lake import Zone
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.serving._endpoint import EndpointBase
from sagemaker_lifecycle.serving.data_capture import (
    DataCapture,
    capture_prefix,
    data_capture_config,
)
from sagemaker_lifecycle.serving.deployment_guardrails import (
    DeploymentGuardrails,
    TrafficShiftingType,
    deployment_config,
)
from sagemaker_lifecycle.serving.deployment_spec import (
    DeploymentSpec,
    cfn_endpoint_config,
    jsii_struct,
)
from sagemaker_lifecycle.serving.endpoint_alarms import (
    ROLLBACK_ALARMS,
    AlarmThresholds,
    alarm_names,
)
from sagemaker_lifecycle.serving.model_source import ModelSource
from sagemaker_lifecycle.serving.production_variant import (
    ProductionVariant,
    production_variant_spec,
)

# Deployment guardrails fall back to all-at-once shifting on Inferentia 1 instances
# (SageMaker developer guide, "Deployment guardrails: exclusions").
_NO_GUARDRAIL_FAMILIES = frozenset({"inf1"})
# CloudFormation updates of an auto-scaled endpoint keep the live instance count; weights
# and capture settings still come from the template.
_NOT_RETAINED = [
    {"VariantPropertyType": "DesiredWeight"},
    {"VariantPropertyType": "DataCaptureConfig"},
]


class InstanceEndpointBase(EndpointBase):
    """An endpoint on ML instances: real-time or asynchronous."""

    capture_s3_uri: str | None
    """Where captured requests and responses go (None without data capture)."""

    def _build(
        self,
        *,
        model_source: ModelSource,
        variants: Sequence[ProductionVariant],
        network: MlNetwork | None,
        network_isolation: bool,
        multi_model: bool,
        data_capture: DataCapture | None,
        guardrails: DeploymentGuardrails,
        alarm_thresholds: AlarmThresholds,
        artifacts_read_prefix: str | None,
        async_inference_config: dict[str, Any] | None = None,
        retain_instance_counts: bool = False,
    ) -> None:
        self._variant_names = [variant.variant_name for variant in variants]
        self._grant_model_access(model_source, artifacts_read_prefix, network)
        model_spec: dict[str, Any] = {"ExecutionRoleArn": self.role.role_arn}
        if network is not None:
            model_spec["VpcConfig"] = network.sagemaker_vpc_config()
        model_spec["EnableNetworkIsolation"] = network_isolation
        self.cfn_model = self._create_model(model_source, model_spec, multi_model=multi_model)
        self._create_alarms({v.variant_name: v.instance_type for v in variants}, alarm_thresholds)

        config, local_storage = self._endpoint_config_spec(
            variants, data_capture, async_inference_config
        )
        deployment = deployment_config(guardrails, alarm_names(self.alarms, ROLLBACK_ALARMS))
        self._deployment_spec: DeploymentSpec = {
            "EndpointName": self.endpoint_name,
            "Model": model_spec,
            "EndpointConfig": config,
            "DeploymentConfig": deployment,
        }
        self.cfn_endpoint_config = cfn_endpoint_config(
            self, "EndpointConfig", config, self.cfn_model.attr_model_name
        )
        if local_storage:
            acknowledge_each(
                self.cfn_endpoint_config,
                in_all_packs("SageMakerEndpointConfigurationKMSKeyConfigured"),
                f"Instance type(s) {', '.join(local_storage)} keep the endpoint's ML storage on "
                "NVMe instance store, encrypted by a hardware module on the instance (XTS-AES-256, "
                "keys never leave it). A volume KMS key does not encrypt that storage "
                "(CreateEndpointConfig KmsKeyId, botocore 1.44) and the API as documented up to "
                "botocore 1.43 rejects the call with one.",
            )
        self._warn_about_guardrails(variants, guardrails)
        self.cfn_endpoint = sagemaker.CfnEndpoint(
            self,
            "Resource",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.cfn_endpoint_config.attr_endpoint_config_name,
            deployment_config=jsii_struct(deployment),
            retain_all_variant_properties=True if retain_instance_counts else None,
            exclude_retained_variant_properties=jsii_struct(_NOT_RETAINED)
            if retain_instance_counts
            else None,
        )
        # The log group must exist before SageMaker would create it without encryption.
        self.cfn_endpoint.node.add_dependency(self.log_group)

    def _endpoint_config_spec(
        self,
        variants: Sequence[ProductionVariant],
        data_capture: DataCapture | None,
        async_inference_config: dict[str, Any] | None,
    ) -> tuple[dict[str, Any], list[str]]:
        """The "EndpointConfig" members, and the variants' instance types with local NVMe
        storage (which get no volume key)."""
        config: dict[str, Any] = {
            "ProductionVariants": [production_variant_spec(v) for v in variants]
        }
        self.capture_s3_uri = None
        if data_capture is not None:
            config["DataCaptureConfig"] = data_capture_config(
                data_capture, self.data_lake, self.endpoint_name
            )
            self.capture_s3_uri = config["DataCaptureConfig"]["DestinationS3Uri"]
            self.data_lake.grant_write(
                self.role, Zone.CAPTURE, capture_prefix(data_capture, self.endpoint_name)
            )
        local_storage = sorted(
            {v.instance_type for v in variants if has_local_instance_storage(v.instance_type)}
        )
        if not local_storage:
            config["KmsKeyId"] = self.key.key_arn
        if async_inference_config is not None:
            config["AsyncInferenceConfig"] = async_inference_config
        return config, local_storage

    def _warn_about_guardrails(
        self, variants: Sequence[ProductionVariant], guardrails: DeploymentGuardrails
    ) -> None:
        if guardrails.traffic_shifting.type is TrafficShiftingType.ALL_AT_ONCE:
            return
        excluded = sorted(
            {
                v.instance_type
                for v in variants
                if instance_family(v.instance_type) in _NO_GUARDRAIL_FAMILIES
            }
        )
        if excluded:
            Annotations.of(self).add_warning_v2(
                "sagemaker-lifecycle:guardrails-fallback",
                f"SageMaker ignores {guardrails.traffic_shifting.type.value} traffic shifting on "
                f"{', '.join(excluded)} and shifts all traffic at once without baking.",
            )

    @property
    def deployment_spec(self) -> DeploymentSpec:
        """How the approval flow deploys a new model version to this endpoint.

        A JSON-serialisable dict (render it with ``Stack.to_json_string``) holding
        ``EndpointName``, ``Model`` (CreateModel members but the name and container),
        ``EndpointConfig`` (CreateEndpointConfig members; each production variant without
        ``ModelName``) and ``DeploymentConfig`` (UpdateEndpoint). The construct builds its
        own ``AWS::SageMaker::EndpointConfig`` from the same ``EndpointConfig`` dict.
        """
        return copy.deepcopy(self._deployment_spec)

    def metric_cpu_utilization(
        self, *, variant_name: str | None = None, period: Duration = Duration.minutes(1)
    ) -> cloudwatch.Metric:
        """Average CPU utilisation of the variant's instances, summed over cores
        (0 to 100 x vCPUs)."""
        return self.metric(
            metrics.CPU_UTILIZATION,
            variant_name=variant_name,
            statistic="Average",
            period=period,
            namespace=metrics.ENDPOINT_INSTANCE_NAMESPACE,
        )

    def metric_memory_utilization(
        self, *, variant_name: str | None = None, period: Duration = Duration.minutes(1)
    ) -> cloudwatch.Metric:
        """Average memory utilisation of the variant's instances, 0 to 100."""
        return self.metric(
            metrics.MEMORY_UTILIZATION,
            variant_name=variant_name,
            statistic="Average",
            period=period,
            namespace=metrics.ENDPOINT_INSTANCE_NAMESPACE,
        )

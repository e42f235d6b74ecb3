"""Serving: real-time, serverless and asynchronous SageMaker endpoints, and batch inference.

Every endpoint kind builds its CloudFormation resources from one description in SageMaker
API terms; real-time and asynchronous endpoints hand the same description to the approval
flow as :attr:`RealtimeEndpoint.deployment_spec` (see :mod:`.deployment_spec`).
:class:`ScheduledBatchInference` scores a data-lake prefix on a schedule with a pipeline's
:class:`BatchTransformStep`.
"""

from sagemaker_lifecycle._internal.instance_types import has_local_instance_storage
from sagemaker_lifecycle.serving.async_endpoint import AsyncEndpoint, AsyncScaling
from sagemaker_lifecycle.serving.autoscaling import (
    AutoScaling,
    ScalingMetric,
    ScheduledScaling,
    StepScaling,
)
from sagemaker_lifecycle.serving.batch_transform import BatchTransformStep, TransformSettings
from sagemaker_lifecycle.serving.data_capture import DataCapture
from sagemaker_lifecycle.serving.deployment_guardrails import (
    DeploymentGuardrails,
    TrafficShifting,
    TrafficShiftingType,
)
from sagemaker_lifecycle.serving.deployment_spec import DeploymentSpec
from sagemaker_lifecycle.serving.endpoint_alarms import AlarmThresholds, EndpointAlarm
from sagemaker_lifecycle.serving.model_source import InferenceImage, ModelSource
from sagemaker_lifecycle.serving.production_variant import ProductionVariant
from sagemaker_lifecycle.serving.realtime_endpoint import RealtimeEndpoint
from sagemaker_lifecycle.serving.scheduled_batch_inference import ScheduledBatchInference
from sagemaker_lifecycle.serving.serverless_endpoint import (
    SERVERLESS_MEMORY_SIZES,
    ServerlessEndpoint,
)

__all__ = [
    "SERVERLESS_MEMORY_SIZES",
    "AlarmThresholds",
    "AsyncEndpoint",
    "AsyncScaling",
    "AutoScaling",
    "BatchTransformStep",
    "DataCapture",
    "DeploymentGuardrails",
    "DeploymentSpec",
    "EndpointAlarm",
    "InferenceImage",
    "ModelSource",
    "ProductionVariant",
    "RealtimeEndpoint",
    "ScalingMetric",
    "ScheduledBatchInference",
    "ScheduledScaling",
    "ServerlessEndpoint",
    "StepScaling",
    "TrafficShifting",
    "TrafficShiftingType",
    "TransformSettings",
    "has_local_instance_storage",
]

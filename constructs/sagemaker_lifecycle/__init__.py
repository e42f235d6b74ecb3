"""AWS CDK v2 constructs for the whole Amazon SageMaker ML lifecycle, secure by default.

Every construct encrypts with KMS, keeps traffic inside a VPC when given an
:class:`MlNetwork`, grants least privilege through ``grant_*`` methods and passes the
AwsSolutions, HIPAA Security and NIST 800-53 rev 5 cdk-nag packs
(:func:`add_compliance_checks`).

The main constructs are re-exported here; each concern's package
(:mod:`sagemaker_lifecycle.feature_store`, :mod:`~sagemaker_lifecycle.pipelines`,
:mod:`~sagemaker_lifecycle.serving`, :mod:`~sagemaker_lifecycle.monitoring`) exports its
supporting types as well.

Names are imported on first use, so that ``python -m sagemaker_lifecycle.approve`` (boto3
only) starts without loading aws-cdk-lib and its Node.js runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sagemaker_lifecycle.compliance import add_compliance_checks, compliance_packs
    from sagemaker_lifecycle.data_lake import DataLake, Zone
    from sagemaker_lifecycle.execution_roles import ExecutionRole, JobKind
    from sagemaker_lifecycle.feature_store import (
        Feature,
        FeatureGroup,
        FeatureType,
        OfflineQueryWorkgroup,
        OfflineStore,
        OnlineStore,
    )
    from sagemaker_lifecycle.images import Framework, image_uri
    from sagemaker_lifecycle.ml_network import DEFAULT_INTERFACE_ENDPOINTS, MlNetwork
    from sagemaker_lifecycle.mlflow_tracking_server import MlflowTrackingServer
    from sagemaker_lifecycle.model_approval_flow import DeploymentEvent, ModelApprovalFlow
    from sagemaker_lifecycle.model_card import (
        IntendedUses,
        ModelCard,
        ModelCardStatus,
        RiskRating,
        TrainingDetails,
    )
    from sagemaker_lifecycle.model_registry import ModelRegistry, ModelRegistryBase
    from sagemaker_lifecycle.monitoring import DriftRetrainingLoop, MlDashboard, ModelMonitor
    from sagemaker_lifecycle.pipelines import LakeLocation, PipelineDefinition, TrainingPipeline
    from sagemaker_lifecycle.serving import (
        AsyncEndpoint,
        BatchTransformStep,
        ModelSource,
        RealtimeEndpoint,
        ScheduledBatchInference,
        ServerlessEndpoint,
    )
    from sagemaker_lifecycle.studio_domain import StudioDomain, StudioUserProfile
    from sagemaker_lifecycle.tagging import apply_lifecycle_tags

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "AsyncEndpoint": "sagemaker_lifecycle.serving",
    "BatchTransformStep": "sagemaker_lifecycle.serving",
    "DEFAULT_INTERFACE_ENDPOINTS": "sagemaker_lifecycle.ml_network",
    "DataLake": "sagemaker_lifecycle.data_lake",
    "DeploymentEvent": "sagemaker_lifecycle.model_approval_flow",
    "ExecutionRole": "sagemaker_lifecycle.execution_roles",
    "Feature": "sagemaker_lifecycle.feature_store",
    "FeatureGroup": "sagemaker_lifecycle.feature_store",
    "FeatureType": "sagemaker_lifecycle.feature_store",
    "Framework": "sagemaker_lifecycle.images",
    "IntendedUses": "sagemaker_lifecycle.model_card",
    "JobKind": "sagemaker_lifecycle.execution_roles",
    "LakeLocation": "sagemaker_lifecycle.pipelines",
    "MlNetwork": "sagemaker_lifecycle.ml_network",
    "MlflowTrackingServer": "sagemaker_lifecycle.mlflow_tracking_server",
    "MlDashboard": "sagemaker_lifecycle.monitoring",
    "ModelMonitor": "sagemaker_lifecycle.monitoring",
    "DriftRetrainingLoop": "sagemaker_lifecycle.monitoring",
    "ModelApprovalFlow": "sagemaker_lifecycle.model_approval_flow",
    "ModelCard": "sagemaker_lifecycle.model_card",
    "ModelCardStatus": "sagemaker_lifecycle.model_card",
    "ModelRegistry": "sagemaker_lifecycle.model_registry",
    "ModelRegistryBase": "sagemaker_lifecycle.model_registry",
    "ModelSource": "sagemaker_lifecycle.serving",
    "OfflineQueryWorkgroup": "sagemaker_lifecycle.feature_store",
    "OfflineStore": "sagemaker_lifecycle.feature_store",
    "OnlineStore": "sagemaker_lifecycle.feature_store",
    "PipelineDefinition": "sagemaker_lifecycle.pipelines",
    "RealtimeEndpoint": "sagemaker_lifecycle.serving",
    "RiskRating": "sagemaker_lifecycle.model_card",
    "ScheduledBatchInference": "sagemaker_lifecycle.serving",
    "ServerlessEndpoint": "sagemaker_lifecycle.serving",
    "StudioDomain": "sagemaker_lifecycle.studio_domain",
    "StudioUserProfile": "sagemaker_lifecycle.studio_domain",
    "TrainingDetails": "sagemaker_lifecycle.model_card",
    "TrainingPipeline": "sagemaker_lifecycle.pipelines",
    "Zone": "sagemaker_lifecycle.data_lake",
    "add_compliance_checks": "sagemaker_lifecycle.compliance",
    "apply_lifecycle_tags": "sagemaker_lifecycle.tagging",
    "compliance_packs": "sagemaker_lifecycle.compliance",
    "image_uri": "sagemaker_lifecycle.images",
}

__all__ = [
    "DEFAULT_INTERFACE_ENDPOINTS",
    "AsyncEndpoint",
    "BatchTransformStep",
    "DataLake",
    "DeploymentEvent",
    "DriftRetrainingLoop",
    "ExecutionRole",
    "Feature",
    "FeatureGroup",
    "FeatureType",
    "Framework",
    "IntendedUses",
    "JobKind",
    "LakeLocation",
    "MlDashboard",
    "MlNetwork",
    "MlflowTrackingServer",
    "ModelApprovalFlow",
    "ModelCard",
    "ModelCardStatus",
    "ModelMonitor",
    "ModelRegistry",
    "ModelRegistryBase",
    "ModelSource",
    "OfflineQueryWorkgroup",
    "OfflineStore",
    "OnlineStore",
    "PipelineDefinition",
    "RealtimeEndpoint",
    "RiskRating",
    "ScheduledBatchInference",
    "ServerlessEndpoint",
    "StudioDomain",
    "StudioUserProfile",
    "TrainingDetails",
    "TrainingPipeline",
    "Zone",
    "add_compliance_checks",
    "apply_lifecycle_tags",
    "compliance_packs",
    "image_uri",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sagemaker_lifecycle' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

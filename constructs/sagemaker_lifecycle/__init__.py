"""AWS CDK v2 constructs for the whole Amazon SageMaker ML lifecycle, secure by default.

Every construct encrypts with KMS, keeps traffic inside a VPC when given an
:class:`MlNetwork`, grants least privilege through ``grant_*`` methods and passes the
AwsSolutions, HIPAA Security and NIST 800-53 rev 5 cdk-nag packs
(:func:`add_compliance_checks`).

The main constructs are re-exported here; each concern's package
(:mod:`sagemaker_lifecycle.feature_store`, :mod:`~sagemaker_lifecycle.pipelines`,
:mod:`~sagemaker_lifecycle.serving`, :mod:`~sagemaker_lifecycle.monitoring`) exports its
supporting types as well.
"""

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

__all__ = [
    "DEFAULT_INTERFACE_ENDPOINTS",
    "AsyncEndpoint",
    "BatchTransformStep",
    "DataLake",
    "DeploymentEvent",
    "ExecutionRole",
    "Feature",
    "FeatureGroup",
    "FeatureType",
    "Framework",
    "IntendedUses",
    "JobKind",
    "LakeLocation",
    "MlNetwork",
    "MlflowTrackingServer",
    "ModelApprovalFlow",
    "ModelCard",
    "ModelCardStatus",
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

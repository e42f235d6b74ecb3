"""AWS CDK v2 constructs for the whole Amazon SageMaker ML lifecycle, secure by default.

Every construct encrypts with KMS, keeps traffic inside a VPC when given an
:class:`MlNetwork`, grants least privilege through ``grant_*`` methods and passes the
AwsSolutions, HIPAA Security and NIST 800-53 rev 5 cdk-nag packs
(:func:`add_compliance_checks`).
"""

from sagemaker_lifecycle.compliance import add_compliance_checks, compliance_packs
from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.ml_network import DEFAULT_INTERFACE_ENDPOINTS, MlNetwork
from sagemaker_lifecycle.tagging import apply_lifecycle_tags

__all__ = [
    "DEFAULT_INTERFACE_ENDPOINTS",
    "DataLake",
    "MlNetwork",
    "Zone",
    "add_compliance_checks",
    "apply_lifecycle_tags",
    "compliance_packs",
]

"""The stage's data lake and model registry: the state that outlives every other stack."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from sagemaker_lifecycle import DataLake
from sagemaker_lifecycle.model_registry import ModelRegistry
from stacks.config import DataConfig


class DataStack(Stack):
    """A :class:`DataLake` with the stage's retention settings and the churn model registry.

    Both hold state (data, model versions and their lineage) and are retained on deletion.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DataConfig,
        model_package_group_name: str = "churn",
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        capture = config.capture_retention_days
        self.data_lake = DataLake(
            self,
            "DataLake",
            noncurrent_version_expiration=Duration.days(config.noncurrent_version_days),
            capture_expiration=None if capture is None else Duration.days(capture),
            access_log_expiration=Duration.days(config.access_log_retention_days),
        )
        self.registry = ModelRegistry(
            self,
            "ChurnModelRegistry",
            model_package_group_name=model_package_group_name,
            description="Customer churn classifier (XGBoost), registered by the training pipeline",
        )

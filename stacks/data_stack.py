"""The stage's data lake."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from sagemaker_lifecycle import DataLake
from stacks.config import DataConfig


class DataStack(Stack):
    """A :class:`DataLake` with the stage's retention settings."""

    def __init__(self, scope: Construct, id: str, *, config: DataConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        capture = config.capture_retention_days
        self.data_lake = DataLake(
            self,
            "DataLake",
            noncurrent_version_expiration=Duration.days(config.noncurrent_version_days),
            capture_expiration=None if capture is None else Duration.days(capture),
            access_log_expiration=Duration.days(config.access_log_retention_days),
        )

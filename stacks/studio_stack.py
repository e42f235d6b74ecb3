"""The stage's SageMaker Studio domain and MLflow experiment tracking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from sagemaker_lifecycle.data_lake import DataLake
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.mlflow_tracking_server import MlflowTrackingServer
from sagemaker_lifecycle.model_registry import ModelRegistry
from sagemaker_lifecycle.studio_domain import IdleShutdown, StudioDomain, StudioUserProfile

#: The reference app's users, in the config format of :meth:`StudioUserProfile.from_config`.
DEFAULT_USER_PROFILES: tuple[Mapping[str, Any], ...] = (
    {"name": "data-scientist", "tags": {"persona": "data-scientist"}},
    {"name": "ml-engineer", "tags": {"persona": "ml-engineer"}},
)


class StudioStack(Stack):
    """A VPC-only :class:`StudioDomain` with user profiles and an MLflow tracking server.

    The domain's execution role reads curated data, works in ``artifacts/studio/`` and uses
    the tracking server; with a ``registry``, users may register versions in it and the
    tracking server registers MLflow models there automatically.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_lake: DataLake,
        network: MlNetwork,
        registry: ModelRegistry | None = None,
        user_profiles: Sequence[Mapping[str, Any]] = DEFAULT_USER_PROFILES,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.studio_domain = StudioDomain(
            self,
            "StudioDomain",
            network=network,
            data_lake=data_lake,
            model_registry=registry,
            user_profiles=[StudioUserProfile.from_config(p) for p in user_profiles],
            # Users may keep idle apps up to a working day before they are shut down.
            idle_shutdown=IdleShutdown(
                timeout=Duration.hours(1), minimum=Duration.hours(1), maximum=Duration.hours(8)
            ),
            # The persona tags then follow users' spaces and apps into cost reports.
            tag_propagation=True,
        )
        self.tracking_server = MlflowTrackingServer(
            self,
            "TrackingServer",
            data_lake=data_lake,
            network=network,
            automatic_model_registration=registry is not None,
            model_registry=registry,
            weekly_maintenance_window_start="Sun:03:00",
        )
        self.tracking_server.grant_access(self.studio_domain.execution_role)

"""The stage's private ML network."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from sagemaker_lifecycle import MlNetwork
from stacks.config import NetworkConfig


class NetworkStack(Stack):
    """An :class:`MlNetwork`: isolated subnets, VPC endpoints, flow logs."""

    def __init__(self, scope: Construct, id: str, *, config: NetworkConfig, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self.network = MlNetwork(self, "Network", cidr=config.cidr, max_azs=config.max_azs)

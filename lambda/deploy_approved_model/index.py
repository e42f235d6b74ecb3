"""Lambda handler: deploy approved versions of a model package group to one SageMaker endpoint.

Triggered by EventBridge with "SageMaker Model Package State Change" events for one group
(approved: deploy; rejected: record, and warn when the version is live) and "SageMaker
Endpoint State Change" events for one endpoint (check the outcome of a started deployment).
The logic lives in ``deployer``; this module only reads the settings and creates clients.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from deployer import Clients, Settings, handle

# Standard retry mode backs off on throttling; what still fails is raised to Lambda, which
# retries the event and finally sends it to the dead-letter queue.
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30
)

_state: dict[str, Any] = {}


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Handle one EventBridge event (see the module docstring)."""
    if "settings" not in _state:
        _state["settings"] = Settings.from_environment(os.environ, _load_parameter)
        _state["clients"] = Clients(
            sagemaker=boto3.client("sagemaker", config=_CONFIG),
            events=boto3.client("events", config=_CONFIG),
            sns=boto3.client("sns", config=_CONFIG),
        )
    result: dict[str, Any] = handle(event, _state["settings"], _state["clients"])
    return result


def _load_parameter(name: str) -> str:
    value: str = boto3.client("ssm", config=_CONFIG).get_parameter(Name=name)["Parameter"]["Value"]
    return value

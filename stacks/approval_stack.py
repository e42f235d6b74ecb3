"""The stage's approval flow: approve a model version, and the endpoint gets it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from constructs import Construct

from sagemaker_lifecycle import MlNetwork
from sagemaker_lifecycle.model_approval_flow import ModelApprovalFlow
from sagemaker_lifecycle.model_card import IntendedUses, ModelCard, TrainingDetails
from sagemaker_lifecycle.model_registry import ModelRegistryBase


class ApprovalStack(Stack):
    """A :class:`ModelApprovalFlow` for one registry and endpoint, and the family's model card.

    The registry is passed in because pipelines register into it and it outlives this flow;
    the endpoint's ``deployment_spec`` comes from the serving stack.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        registry: ModelRegistryBase,
        endpoint_name: str,
        deployment_spec: Mapping[str, Any],
        network: MlNetwork,
        approver_emails: Sequence[str] = (),
        intended_uses: IntendedUses | None = None,
        training_details: TrainingDetails | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.approval_flow = ModelApprovalFlow(
            self,
            "ApprovalFlow",
            registry=registry,
            endpoint_name=endpoint_name,
            deployment_spec=deployment_spec,
            network=network,
            approver_emails=approver_emails,
        )
        self.model_card: ModelCard | None = None
        if intended_uses is not None:
            self.model_card = ModelCard(
                self,
                "ModelCard",
                registry=registry,
                intended_uses=intended_uses,
                training_details=training_details,
                key=self.approval_flow.key,
            )

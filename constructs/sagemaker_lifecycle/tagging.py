"""The tags every resource of the lifecycle carries, applied in one place."""

from __future__ import annotations

from aws_cdk import Tags
from constructs import IConstruct

TAG_PREFIX = "sagemaker-lifecycle"


def apply_lifecycle_tags(scope: IConstruct, *, project: str, stage: str) -> None:
    """Tag ``scope`` and everything below it with the project, the stage and the manager.

    Cost allocation and ABAC policies key on these, so their names are part of the contract.
    """
    tags = Tags.of(scope)
    tags.add(f"{TAG_PREFIX}:project", project)
    tags.add(f"{TAG_PREFIX}:stage", stage)
    tags.add(f"{TAG_PREFIX}:managed-by", "aws-cdk")

"""The tags every resource of the lifecycle carries, applied in one place."""

from __future__ import annotations

from aws_cdk import Tags
from constructs import IConstruct

TAG_PREFIX = "sagemaker-lifecycle"

#: Resource types whose Tags CloudFormation can only set at creation: a change to the tag
#: set would replace them, and a named resource cannot be replaced in place. They take
#: tags through their own ``tags`` prop instead.
CREATE_ONLY_TAGS = ["AWS::SageMaker::FeatureGroup"]


def apply_lifecycle_tags(scope: IConstruct, *, project: str, stage: str) -> None:
    """Tag ``scope`` and everything below it with the project, the stage and the manager.

    Cost allocation and ABAC policies key on these, so their names are part of the contract.
    """
    tags = Tags.of(scope)
    for key, value in (("project", project), ("stage", stage), ("managed-by", "aws-cdk")):
        tags.add(f"{TAG_PREFIX}:{key}", value, exclude_resource_types=CREATE_ONLY_TAGS)

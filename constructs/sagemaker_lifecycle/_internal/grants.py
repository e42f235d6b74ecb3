"""IAM grants that several constructs give their roles, written once."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam

from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards

#: What pulling a container image from ECR takes, on the repository.
ECR_PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
]


def grant_image_pull(grantee: iam.IGrantable, repository_arns: Sequence[str], scope: str) -> None:
    """Let ``grantee`` pull images from ``repository_arns`` only.

    ``ecr:GetAuthorizationToken`` has no resource-level permissions, so it is granted on
    ``*`` and its one wildcard finding is acknowledged; ``scope`` says, for that reason,
    which repositories the pulls are limited to.
    """
    token = iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
    for statement in (
        iam.PolicyStatement(actions=ECR_PULL_ACTIONS, resources=list(repository_arns)),
        token,
    ):
        grantee.grant_principal.add_to_principal_policy(statement)
    acknowledge_grant_wildcards(
        grantee,
        [token],
        f"ecr:GetAuthorizationToken has no resource-level permissions; image pulls are "
        f"limited to {scope}.",
    )

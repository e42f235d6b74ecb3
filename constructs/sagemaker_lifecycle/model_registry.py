"""A SageMaker Model Registry group: where pipelines register model versions for approval."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards
from sagemaker_lifecycle._internal.sagemaker_api import check_name
from sagemaker_lifecycle._internal.validation import ValidationErrors

_ACCOUNT = re.compile(r"^\d{12}$")
_ORGANIZATION = re.compile(r"^o-[a-z0-9]{10,32}$")
_MAX_DESCRIPTION = 1024

#: What other accounts may do with this group's model packages (deploy a version there).
_CROSS_ACCOUNT_PACKAGE_ACTIONS = [
    "sagemaker:DescribeModelPackage",
    "sagemaker:ListModelPackages",
    "sagemaker:CreateModel",
]


class ModelRegistry(Construct):
    """A model package group (``AWS::SageMaker::ModelPackageGroup``) for one model family.

    Pipelines register versions with :meth:`grant_register`; approvers change their status
    with :meth:`grant_approve`; deployers read them with :meth:`grant_read`. With
    ``shared_with_accounts`` or ``shared_with_organization`` a resource policy lets other
    accounts (staging, prod) describe the group's versions and create models from them.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model_package_group_name: str,
        description: str | None = None,
        shared_with_accounts: Sequence[str] = (),
        shared_with_organization: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param model_package_group_name: the group's name, part of the contract with
            pipelines and the approval flow (1 to 63 letters, digits and hyphens).
        :param description: what the group holds. Default: none.
        :param shared_with_accounts: account ids that may describe the group's versions and
            create models from them. Default: none.
        :param shared_with_organization: an AWS Organizations id (``o-...``) whose accounts
            may do the same. Default: none.
        :param removal_policy: what happens to the group (and its versions' lineage) when
            the stack is deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        errors = ValidationErrors("ModelRegistry")
        check_name(errors, "model_package_group_name", model_package_group_name, "EntityName")
        if description is not None and len(description) > _MAX_DESCRIPTION:
            errors.add(
                f"description must be at most {_MAX_DESCRIPTION} characters, got {len(description)}"
            )
        for account in shared_with_accounts:
            errors.check(
                Token.is_unresolved(account) or bool(_ACCOUNT.match(account)),
                f"shared_with_accounts must hold 12-digit account ids, got {account!r}",
            )
        if shared_with_organization is not None and not Token.is_unresolved(
            shared_with_organization
        ):
            errors.check(
                bool(_ORGANIZATION.match(shared_with_organization)),
                "shared_with_organization must be an organization id such as "
                f"'o-a1b2c3d4e5', got {shared_with_organization!r}",
            )
        errors.raise_if_any()

        self.model_package_group_name = model_package_group_name
        stack = Stack.of(self)
        #: ARN of the group (SageMaker lower-cases names in ARNs).
        self.model_package_group_arn = stack.format_arn(
            service="sagemaker",
            resource="model-package-group",
            resource_name=_arn_name(model_package_group_name),
        )
        #: ARN pattern of every version in the group.
        self.model_package_arn_pattern = stack.format_arn(
            service="sagemaker",
            resource="model-package",
            resource_name=f"{_arn_name(model_package_group_name)}/*",
        )
        policy = self._resource_policy(list(shared_with_accounts), shared_with_organization)
        self.resource = sagemaker.CfnModelPackageGroup(
            self,
            "Resource",
            model_package_group_name=model_package_group_name,
            model_package_group_description=description,
            model_package_group_policy=policy,
        )
        self.resource.apply_removal_policy(removal_policy)

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (a pipeline role) register new versions in this group."""
        return self._grant(
            grantee,
            ["sagemaker:CreateModelPackage", "sagemaker:AddTags"],
            "register versions",
            include_group=True,
        )

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` approve or reject versions (``UpdateModelPackage``)."""
        return self._grant(
            grantee,
            ["sagemaker:UpdateModelPackage", "sagemaker:DescribeModelPackage"],
            "approve or reject versions",
            include_group=False,
        )

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` describe the group and its versions, and list the versions."""
        grant = self._grant(
            grantee,
            ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
            "read versions",
            include_group=True,
        )
        # ListModelPackages takes the group as a request parameter and has no resource-level
        # permissions, so IAM only accepts "*" for it.
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:ListModelPackages"], resource_arns=["*"]
        )
        acknowledge_grant_wildcards(
            grantee,
            [iam.PolicyStatement(actions=["sagemaker:ListModelPackages"], resources=["*"])],
            "sagemaker:ListModelPackages has no resource-level permissions in IAM; it only "
            "lists version metadata, never model artifacts.",
        )
        return grant

    def _grant(
        self, grantee: iam.IGrantable, actions: list[str], what: str, *, include_group: bool
    ) -> iam.Grant:
        resources = [self.model_package_arn_pattern]
        if include_group:
            resources.append(self.model_package_group_arn)
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=actions, resource_arns=resources
        )
        acknowledge_grant_wildcards(
            grantee,
            grant.principal_statements,
            f"Lets the grantee {what} of model package group {self.model_package_group_name}: "
            "versions are named <group>/<n>, so the only way to name them all is the group "
            "prefix with a wildcard.",
        )
        return grant

    def _resource_policy(
        self, accounts: list[str], organization: str | None
    ) -> dict[str, object] | None:
        if not accounts and organization is None:
            return None
        statements: list[dict[str, object]] = []
        resources = [self.model_package_group_arn, self.model_package_arn_pattern]
        actions = ["sagemaker:DescribeModelPackageGroup", *_CROSS_ACCOUNT_PACKAGE_ACTIONS]
        if accounts:
            statements.append(
                {
                    "Sid": "ShareWithAccounts",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": [f"arn:{Stack.of(self).partition}:iam::{a}:root" for a in accounts]
                    },
                    "Action": actions,
                    "Resource": resources,
                }
            )
        if organization is not None:
            statements.append(
                {
                    "Sid": "ShareWithOrganization",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": actions,
                    "Resource": resources,
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization}},
                }
            )
        return {"Version": "2012-10-17", "Statement": statements}


def _arn_name(name: str) -> str:
    return name if Token.is_unresolved(name) else name.lower()

"""A SageMaker Model Registry group: where pipelines register model versions for approval."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnTag, RemovalPolicy, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards
from sagemaker_lifecycle._internal.sagemaker_api import check_name, enum_values
from sagemaker_lifecycle._internal.validation import ValidationErrors

_ACCOUNT = re.compile(r"^\d{12}$")
_ORGANIZATION = re.compile(r"^o-[a-z0-9]{10,32}$")
_MAX_DESCRIPTION = 1024
_MAX_TAGS = 50
_MAX_TAG_KEY = 128
_MAX_TAG_VALUE = 256
_TAG_TEXT = re.compile(r"^[\w\s.:/=+\-@]*$")

#: The detail-type SageMaker gives model package (version) events on EventBridge.
MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"

# What other accounts may do with this group, following the SageMaker Developer Guide's
# "Deploy a model version from a different account" example: describe the group, and
# describe, list and create models from its versions (CreateModel is authorized against the
# version when the model is built from a model package). Approving (UpdateModelPackage) stays
# with the owning account: the approval flow runs where the registry's events are emitted.
_CROSS_ACCOUNT_GROUP_ACTIONS = ["sagemaker:DescribeModelPackageGroup"]
_CROSS_ACCOUNT_PACKAGE_ACTIONS = [
    "sagemaker:DescribeModelPackage",
    "sagemaker:ListModelPackages",
    "sagemaker:CreateModel",
]


class ModelRegistryBase(Construct):
    """What every model package group offers, created here or imported.

    SageMaker keeps the group name's case in the ARNs of the group and its versions
    (``model-package/<GroupName>/<n>``), and IAM compares ARNs case-sensitively, so the ARNs
    are built from the name exactly as given.
    """

    def __init__(self, scope: Construct, id: str, *, model_package_group_name: str) -> None:
        super().__init__(scope, id)
        self.model_package_group_name = model_package_group_name
        stack = Stack.of(self)
        #: ARN of the group.
        self.model_package_group_arn = stack.format_arn(
            service="sagemaker",
            resource="model-package-group",
            resource_name=model_package_group_name,
        )
        #: ARN pattern of every version in the group.
        self.model_package_arn_pattern = stack.format_arn(
            service="sagemaker",
            resource="model-package",
            resource_name=f"{model_package_group_name}/*",
        )

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

    def grant_deploy(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` describe versions and create SageMaker models from them.

        The model itself (``model/<name>``) must be granted separately: this only covers the
        side of ``CreateModel`` that SageMaker authorizes against the version.
        """
        return self._grant(
            grantee,
            ["sagemaker:DescribeModelPackage", "sagemaker:CreateModel"],
            "deploy versions",
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

    def model_package_state_change_pattern(
        self,
        approval_statuses: Sequence[str] | None = None,
        *,
        approval_status_changes_only: bool = True,
    ) -> events.EventPattern:
        """The EventBridge pattern of this group's "SageMaker Model Package State Change" events.

        :param approval_statuses: match only these ``ModelApprovalStatus`` values
            (``Approved``, ``Rejected``, ``PendingManualApproval``). Default: any status.
        :param approval_status_changes_only: match only events whose
            ``UpdatedModelPackageFields`` lists ``ModelApprovalStatus``, plus events without
            that field (a version registered with its status), so that editing a version's
            metadata does not match. Default: true.
        """
        errors = ValidationErrors("ModelRegistry")
        allowed = enum_values("ModelApprovalStatus")
        for status in approval_statuses or ():
            errors.check(
                status in allowed,
                f"approval_statuses must hold values of {', '.join(allowed)}, got {status!r}",
            )
        errors.raise_if_any()
        detail: dict[str, Any] = {"ModelPackageGroupName": [self.model_package_group_name]}
        if approval_statuses:
            detail["ModelApprovalStatus"] = list(approval_statuses)
        if approval_status_changes_only:
            # An array field matches when it shares an element with the pattern's array; a
            # version created with its status carries no UpdatedModelPackageFields at all.
            detail["UpdatedModelPackageFields"] = ["ModelApprovalStatus", {"exists": False}]
        return events.EventPattern(
            source=["aws.sagemaker"],
            detail_type=[MODEL_PACKAGE_STATE_CHANGE],
            detail=detail,
        )

    def on_model_package_state_change(
        self,
        id: str,
        *,
        target: events.IRuleTarget | None = None,
        approval_statuses: Sequence[str] | None = None,
        approval_status_changes_only: bool = True,
        description: str | None = None,
    ) -> events.Rule:
        """A rule on this group's version events (see :meth:`model_package_state_change_pattern`).

        :param target: where matching events go. Default: none (add targets to the rule).
        :param description: the rule's description. Default: none.
        """
        rule = events.Rule(
            self,
            id,
            description=description,
            event_pattern=self.model_package_state_change_pattern(
                approval_statuses, approval_status_changes_only=approval_status_changes_only
            ),
        )
        if target is not None:
            rule.add_target(target)
        return rule

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


class ModelRegistry(ModelRegistryBase):
    """A model package group (``AWS::SageMaker::ModelPackageGroup``) for one model family.

    Pipelines register versions with :meth:`grant_register`; approvers change their status
    with :meth:`grant_approve`; deployers read them with :meth:`grant_read` or
    :meth:`grant_deploy`. With ``shared_with_accounts`` or ``shared_with_organization`` a
    resource policy lets other accounts (staging, prod) describe the group's versions and
    create models from them. The group is retained when the stack is deleted.
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
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """
        :param model_package_group_name: the group's name, part of the contract with
            pipelines and the approval flow (1 to 63 letters, digits and hyphens).
        :param description: what the group holds. CloudFormation replaces the group (and
            loses its versions) when this changes, so choose it once. Default: none.
        :param shared_with_accounts: account ids that may describe the group's versions and
            create models from them. Default: none.
        :param shared_with_organization: an AWS Organizations id (``o-...``) whose accounts
            may do the same. Default: none.
        :param removal_policy: what happens to the group (and its versions' lineage) when
            the stack is deleted. Default: RETAIN.
        :param tags: tags of the group, besides those applied with ``Tags.of``. Default: none.
        """
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
        _check_tags(errors, dict(tags or {}))
        errors.raise_if_any()
        super().__init__(scope, id, model_package_group_name=model_package_group_name)

        policy = self._resource_policy(list(shared_with_accounts), shared_with_organization)
        self.resource = sagemaker.CfnModelPackageGroup(
            self,
            "Resource",
            model_package_group_name=model_package_group_name,
            model_package_group_description=description,
            model_package_group_policy=policy,
            tags=[CfnTag(key=k, value=v) for k, v in sorted((tags or {}).items())] or None,
        )
        self.resource.apply_removal_policy(removal_policy)

    @staticmethod
    def from_model_package_group_name(
        scope: Construct, id: str, model_package_group_name: str
    ) -> ModelRegistryBase:
        """A group that already exists (in this stack's account and region), by name."""
        errors = ValidationErrors("ModelRegistry")
        check_name(errors, "model_package_group_name", model_package_group_name, "EntityName")
        errors.raise_if_any()
        return ModelRegistryBase(scope, id, model_package_group_name=model_package_group_name)

    def _resource_policy(
        self, accounts: list[str], organization: str | None
    ) -> dict[str, object] | None:
        if not accounts and organization is None:
            return None
        principals: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        if accounts:
            partition = Stack.of(self).partition
            principals.append(
                (
                    "Accounts",
                    {"AWS": [f"arn:{partition}:iam::{a}:root" for a in accounts]},
                    None,
                )
            )
        if organization is not None:
            principals.append(
                (
                    "Organization",
                    {"AWS": "*"},
                    {"StringEquals": {"aws:PrincipalOrgID": organization}},
                )
            )
        statements: list[dict[str, object]] = []
        for name, principal, condition in principals:
            for sid, actions, resource in (
                ("Group", _CROSS_ACCOUNT_GROUP_ACTIONS, self.model_package_group_arn),
                ("Versions", _CROSS_ACCOUNT_PACKAGE_ACTIONS, self.model_package_arn_pattern),
            ):
                statement: dict[str, object] = {
                    "Sid": f"Share{sid}With{name}",
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": actions,
                    "Resource": resource,
                }
                if condition is not None:
                    statement["Condition"] = condition
                statements.append(statement)
        return {"Version": "2012-10-17", "Statement": statements}


def _check_tags(errors: ValidationErrors, tags: dict[str, str]) -> None:
    errors.check(len(tags) <= _MAX_TAGS, f"tags must hold at most {_MAX_TAGS}, got {len(tags)}")
    for key, value in tags.items():
        if Token.is_unresolved(key) or Token.is_unresolved(value):
            continue
        errors.check(
            0 < len(key) <= _MAX_TAG_KEY
            and not key.lower().startswith("aws:")
            and bool(_TAG_TEXT.match(key)),
            f"tags key {key!r} must be 1 to {_MAX_TAG_KEY} letters, digits, spaces or _.:/=+-@ "
            "and must not start with 'aws:'",
        )
        errors.check(
            len(value) <= _MAX_TAG_VALUE and bool(_TAG_TEXT.match(value)),
            f"tags value {value!r} of {key!r} must be at most {_MAX_TAG_VALUE} letters, digits, "
            "spaces or _.:/=+-@",
        )

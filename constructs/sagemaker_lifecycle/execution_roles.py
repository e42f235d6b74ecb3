"""Least-privilege execution roles for SageMaker jobs and pipelines, one per job kind."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

import jsii
from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from sagemaker_lifecycle._internal.grants import grant_image_pull
from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards, acknowledge_inline_policy
from sagemaker_lifecycle.images import Framework, registry_account
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.pipelines.locations import LakeLocation

SAGEMAKER_SERVICE: Final = "sagemaker.amazonaws.com"

#: Actions that have no resource-level permissions in IAM, so a policy can only name "*"
#: for them. Everything else the roles get is scoped to named resources.
WILDCARD_RESOURCE_ACTIONS: Final = frozenset(
    {
        # Returns a registry login token; IAM has no resource for it.
        "ecr:GetAuthorizationToken",
        # Metrics have no ARNs; the statement is conditioned on SageMaker's namespaces.
        "cloudwatch:PutMetricData",
        # EC2 Describe* calls never support resource-level permissions.
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        # Takes a permission id, which has no ARN.
        "ec2:DeleteNetworkInterfacePermission",
        # Lists a group's versions by request parameter (ModelRegistry.grant_read).
        "sagemaker:ListModelPackages",
    }
)


class JobKind(enum.Enum):
    """The kind of work a role runs; it decides the log group and default images."""

    PROCESSING = "processing"
    """Processing jobs (feature engineering, evaluation, baselines)."""
    TRAINING = "training"
    """Training jobs."""
    TUNING = "tuning"
    """The training jobs of a hyperparameter tuning job."""
    TRANSFORM = "transform"
    """Batch transform jobs (the role of the model they run)."""
    MONITORING = "monitoring"
    """Model monitor and check jobs (processing jobs of monitoring schedules)."""
    PIPELINE = "pipeline"
    """A SageMaker pipeline, which starts the other jobs."""


#: CloudWatch Logs group each kind writes to (``/aws/sagemaker/<name>``).
LOG_GROUPS: Final[Mapping[JobKind, str | None]] = MappingProxyType(
    {
        JobKind.PROCESSING: "ProcessingJobs",
        JobKind.TRAINING: "TrainingJobs",
        JobKind.TUNING: "TrainingJobs",
        JobKind.TRANSFORM: "TransformJobs",
        JobKind.MONITORING: "ProcessingJobs",
        JobKind.PIPELINE: None,
    }
)

#: The framework images each kind pulls unless told otherwise.
DEFAULT_FRAMEWORKS: Final[Mapping[JobKind, tuple[Framework, ...]]] = MappingProxyType(
    {
        JobKind.PROCESSING: (Framework.SKLEARN, Framework.XGBOOST),
        JobKind.TRAINING: (Framework.XGBOOST,),
        JobKind.TUNING: (Framework.XGBOOST,),
        JobKind.TRANSFORM: (Framework.XGBOOST,),
        JobKind.MONITORING: (),
        JobKind.PIPELINE: (),
    }
)

_ENI_ACTIONS = [
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
]
_DESCRIBE_NETWORK_ACTIONS = [
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DeleteNetworkInterfacePermission",
]


@jsii.implements(iam.IGrantable)
class ExecutionRole(Construct):
    """An IAM role SageMaker assumes to run one kind of job, with least privilege.

    It may read the ``read`` locations and write the ``write`` locations of the data lake
    (and use the lake key for them), use ``key`` for volume encryption, pull the framework
    images of its kind, write its own CloudWatch Logs group and SageMaker metrics, and, with
    a ``network``, manage the ENIs of jobs in that VPC. Pipeline steps add the grants for
    the exact prefixes their jobs use.

    Only actions without resource-level permissions get ``Resource: "*"`` (see
    :data:`WILDCARD_RESOURCE_ACTIONS`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        kind: JobKind,
        key: kms.IKey | None = None,
        read: Sequence[LakeLocation] = (),
        write: Sequence[LakeLocation] = (),
        network: MlNetwork | None = None,
        frameworks: Sequence[Framework] | None = None,
        repositories: Sequence[ecr.IRepository] = (),
        role: iam.IRole | None = None,
        description: str | None = None,
    ) -> None:
        """
        :param kind: what the role runs.
        :param key: KMS key of job volumes and outputs (usually the data lake key).
            Default: none (only the keys behind ``read``/``write`` are usable).
        :param read: data-lake locations the jobs read. Default: none.
        :param write: data-lake locations the jobs write. Default: none.
        :param network: the network jobs run in; adds the ENI permissions. Default: none.
        :param frameworks: SageMaker framework images the jobs pull. Default: per kind
            (:data:`DEFAULT_FRAMEWORKS`).
        :param repositories: your own ECR repositories the jobs pull from. Default: none.
        :param role: use this role instead of creating one; the grants are added to it.
            Default: a new role assumed by SageMaker.
        :param description: the role's description. Default: one naming the kind.
        """
        super().__init__(scope, id)
        self.kind = kind
        self.role: iam.IRole = role or iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(SAGEMAKER_SERVICE),
            description=description or f"SageMaker {kind.value} execution role",
        )
        acknowledge_inline_policy(self.role)
        for location in read:
            location.grant_read(self)
        for location in write:
            location.grant_write(self)
        if key is not None:
            self._grant_key(key)
        log_group = LOG_GROUPS[kind]
        if log_group is not None:
            self._grant_logs(log_group)
            self._grant_metrics()
        images = DEFAULT_FRAMEWORKS[kind] if frameworks is None else tuple(frameworks)
        if images:
            self._grant_framework_pull(images)
        for repository in repositories:
            repository.grant_pull(self)
            acknowledge_grant_wildcards(
                self,
                [iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])],
                "ecr:GetAuthorizationToken has no resource-level permissions; image pulls are "
                "scoped to the named repository.",
            )
        if network is not None:
            self._grant_network(network)

    @property
    def grant_principal(self) -> iam.IPrincipal:
        """The role, as the principal of grants."""
        return self.role.grant_principal

    @property
    def role_arn(self) -> str:
        """The role's ARN."""
        return self.role.role_arn

    def grant_pass_role(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` pass this role to SageMaker (and to nothing else)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["iam:PassRole"],
            resource_arns=[self.role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
        )

    def _add(self, statement: iam.PolicyStatement, reason: str | None = None) -> None:
        self.role.add_to_principal_policy(statement)
        if reason is not None:
            acknowledge_grant_wildcards(self, [statement], reason)

    def _grant_key(self, key: kms.IKey) -> None:
        self._add(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            )
        )
        # Encrypted EBS volumes are attached through a KMS grant for the job's instances.
        self._add(
            iam.PolicyStatement(
                actions=["kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )

    def _grant_logs(self, log_group: str) -> None:
        stack = Stack.of(self)
        group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"/aws/sagemaker/{log_group}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self._add(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[group_arn, f"{group_arn}:log-stream:*"],
            ),
            f"SageMaker names each job's log streams in /aws/sagemaker/{log_group} at run "
            "time (<job name>/<host>); the grant covers streams of that one group.",
        )

    def _grant_metrics(self) -> None:
        self._add(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={
                    "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}
                },
            ),
            "cloudwatch:PutMetricData has no resource-level permissions; the condition limits "
            "it to SageMaker's own metric namespaces.",
        )

    def _grant_framework_pull(self, frameworks: Sequence[Framework]) -> None:
        stack = Stack.of(self)
        account = registry_account(self)
        repositories = sorted({f.repository for f in frameworks})
        grant_image_pull(
            self,
            [
                stack.format_arn(
                    service="ecr",
                    account=account,
                    resource="repository",
                    resource_name=repository,
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                )
                for repository in repositories
            ],
            "the SageMaker framework repositories of the region's registry account",
        )

    def _grant_network(self, network: MlNetwork) -> None:
        stack = Stack.of(self)

        def ec2_arn(resource: str, name: str) -> str:
            return stack.format_arn(
                service="ec2",
                resource=resource,
                resource_name=name,
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )

        eni_arn = ec2_arn("network-interface", "*")
        vpc_arn = ec2_arn("vpc", network.vpc.vpc_id)
        reason = (
            "SageMaker creates and deletes the ENIs of a job in the VPC at run time, so "
            "their ids are unknown; ENI creation is limited to the network's subnets and "
            "security group, and the other ENI actions to ENIs in its VPC."
        )
        self._add(
            iam.PolicyStatement(
                actions=["ec2:CreateNetworkInterface"],
                resources=[
                    eni_arn,
                    ec2_arn("security-group", network.security_group.security_group_id),
                    *(ec2_arn("subnet", subnet_id) for subnet_id in network.subnet_ids),
                ],
            ),
            reason,
        )
        self._add(
            iam.PolicyStatement(
                actions=_ENI_ACTIONS,
                resources=[eni_arn],
                conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
            ),
            reason,
        )
        self._add(
            iam.PolicyStatement(actions=_DESCRIBE_NETWORK_ACTIONS, resources=["*"]),
            "EC2 Describe calls and DeleteNetworkInterfacePermission have no resource-level "
            "permissions; SageMaker needs them to attach job ENIs in the VPC.",
        )

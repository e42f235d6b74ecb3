"""A SageMaker Studio domain in VPC-only mode, with user profiles and Canvas settings."""

from __future__ import annotations

import base64
import enum
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from aws_cdk import (
    ArnFormat,
    CfnDeletionPolicy,
    CfnTag,
    Duration,
    Names,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import custom_resources as cr
from constructs import Construct

from sagemaker_lifecycle._internal.keys import allow_cloudwatch_logs
from sagemaker_lifecycle._internal.nag import (
    acknowledge,
    acknowledge_each,
    acknowledge_grant_wildcards,
    acknowledge_inline_policy,
    in_all_packs,
)
from sagemaker_lifecycle._internal.sagemaker_api import check_enum, check_name
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.model_registry import ModelRegistry

#: A feature group the execution role may use: its ARN (read access: describe the group and
#: read records), or a grant method such as ``feature_group.grant_read`` that is called with
#: the role.
FeatureGroupAccess = str | Callable[[iam.IGrantable], iam.Grant]


class StudioApp(enum.Enum):
    """A Studio application type that idle shutdown and lifecycle scripts apply to."""

    JUPYTER_LAB = "JupyterLab"
    """JupyterLab spaces."""
    CODE_EDITOR = "CodeEditor"
    """Code Editor (based on Code-OSS) spaces."""


@dataclass(frozen=True)
class IdleShutdown:
    """Shut down JupyterLab and Code Editor apps after they have been idle for ``timeout``.

    With ``minimum`` and ``maximum`` set, users may choose their own timeout in that range.
    SageMaker accepts 60 minutes to 365 days for each.
    """

    timeout: Duration = Duration.hours(1)
    minimum: Duration | None = None
    maximum: Duration | None = None


@dataclass(frozen=True)
class LakeAccess:
    """Access of the execution role to one data lake zone, optionally under a key prefix."""

    zone: Zone
    prefix: str | None = None
    """Key prefix such as ``"features/"``. Default: the whole zone."""
    write: bool = False
    """Also write and delete objects. Default: read only."""


@dataclass(frozen=True)
class LifecycleScript:
    """A shell script that runs when a user starts a JupyterLab or Code Editor app.

    The script becomes an ``AWS::SageMaker::StudioLifecycleConfig`` whose name carries a hash
    of the script: lifecycle configs cannot be changed in place, so a new script is a new
    config and the domain switches to it in the same deployment.
    """

    app: StudioApp
    script: str
    run_by_default: bool = True
    """Run it for every new app; otherwise users pick it when they start an app."""


#: The settings a user profile config may hold (see :meth:`StudioUserProfile.from_config`).
USER_PROFILE_SETTINGS = frozenset({"name", "execution_role", "hidden_ml_tools", "tags"})


@dataclass(frozen=True)
class StudioUserProfile:
    """A Studio user profile: one person's home directory, private spaces and settings.

    Users choose their own idle-shutdown timeout in Studio within the domain's
    :class:`IdleShutdown` minimum and maximum (CloudFormation's ``AWS::SageMaker::UserProfile``
    has no idle settings).
    """

    name: str
    """The profile name (1 to 63 letters, digits and hyphens), shown when the user signs in."""
    execution_role: iam.IRole | None = None
    """The role this user's apps run as; it must trust ``sagemaker.amazonaws.com`` for
    ``sts:AssumeRole`` and ``sts:SetSourceIdentity``. It is granted what running Studio apps
    needs (:meth:`StudioDomain.grant_run_apps`); its data access is up to you. Default: the
    domain's role."""
    hidden_ml_tools: tuple[str, ...] = ()
    """Studio tools left out of this user's navigation (values of the SageMaker API's
    ``MlTools`` enum, such as ``"Endpoints"``). Hiding is not access control. Default: none."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the profile; with the domain's ``tag_propagation`` they also land on the
    SageMaker resources this user creates (cost allocation). Default: none."""

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, roles: Mapping[str, iam.IRole] | None = None
    ) -> StudioUserProfile:
        """A profile from parsed JSON settings, for profiles kept in app config.

        ``config`` holds ``name`` and optionally ``execution_role`` (a key of ``roles``),
        ``hidden_ml_tools`` (a list) and ``tags`` (an object of strings). Raises
        ``ValueError`` for an unknown setting or a value of the wrong type, naming it.
        """
        unknown = sorted(set(config) - USER_PROFILE_SETTINGS)
        if unknown:
            raise ValueError(
                f"user profile config setting {unknown[0]!r} is not known; known settings: "
                f"{', '.join(sorted(USER_PROFILE_SETTINGS))}"
            )
        name = config.get("name")
        if not isinstance(name, str):
            raise ValueError(f"user profile config 'name' must be a string, got {name!r}")
        tools = config.get("hidden_ml_tools", [])
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise ValueError(
                f"user profile {name!r}: 'hidden_ml_tools' must be a list of strings, got {tools!r}"
            )
        tags = config.get("tags", {})
        if not isinstance(tags, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        ):
            raise ValueError(
                f"user profile {name!r}: 'tags' must map strings to strings, got {tags!r}"
            )
        role_key = config.get("execution_role")
        role = None
        if role_key is not None:
            known = roles or {}
            if not isinstance(role_key, str) or role_key not in known:
                raise ValueError(
                    f"user profile {name!r}: 'execution_role' must name one of the roles "
                    f"given ({', '.join(sorted(known)) or 'none'}), got {role_key!r}"
                )
            role = known[role_key]
        return cls(name=name, execution_role=role, hidden_ml_tools=tuple(tools), tags=dict(tags))


@dataclass(frozen=True)
class CanvasSettings:
    """SageMaker Canvas features for every user of the domain.

    CloudFormation's ``AWS::SageMaker::Domain`` has no ``CanvasAppSettings``, so these are
    applied with the SageMaker ``UpdateDomain`` API during deployment (and switched off when
    removed). Canvas runs as the execution role, which gets the AWS managed Canvas policies
    for the features turned on: Canvas names the jobs, models and endpoints it creates at
    run time, so its permissions cannot be written for named resources at synth time.
    In VPC-only mode Canvas reaches AWS services through the network's endpoints only; add
    endpoints for the services your users' Canvas work needs (Athena, Glue, ...).
    """

    time_series_forecasting: bool = True
    """Let users build time-series forecasting models."""
    forecast_role: iam.IRole | None = None
    """The role Canvas passes to Amazon Forecast. Default: the execution role, which then
    trusts ``forecast.amazonaws.com`` (from this account only) and gets the
    ``AmazonSageMakerCanvasForecastAccess`` policy (a role you pass as ``execution_role``
    must trust Forecast itself)."""
    model_registration: bool = True
    """Let users register Canvas models in the SageMaker Model Registry (the domain's
    ``model_registry`` group when given)."""
    cross_account_model_register_role_arn: str | None = None
    """A role in the registry's account, when the Model Registry lives in another account;
    the execution role may assume it, and it must trust the execution role. Default: the
    registry is in this account."""
    direct_deploy: bool = False
    """Let users deploy Canvas models to real-time endpoints themselves."""
    data_preparation: bool = True
    """Let users prepare data with Data Wrangler in Canvas."""
    workspace_prefix: str = "canvas/"
    """Where Canvas keeps its artifacts: a key prefix in the data lake's artifacts zone,
    encrypted with the lake key."""


#: The execution role's default data access: curated training data and feature offline
#: stores (read), and a Studio work area in the artifacts zone (read-write).
DEFAULT_DATA_ACCESS: tuple[LakeAccess, ...] = (
    LakeAccess(Zone.CURATED),
    LakeAccess(Zone.ARTIFACTS, "studio/", write=True),
)
DEFAULT_IDLE_SHUTDOWN = IdleShutdown()

# SageMaker's limits (botocore IdleTimeoutInMinutes, CloudFormation SpaceEbsVolumeSizeInGb).
_IDLE_MINUTES = (60, 525_600)
_EBS_GB = (5, 16_384)
_MAX_LIFECYCLE_CONFIGS = 30
_LIFECYCLE_CONTENT_MAX = 16_384  # characters of the base64-encoded script
_FEATURE_GROUP_ARN = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:\d{12}:feature-group/"
    r"[a-zA-Z0-9](?:[_-]*[a-zA-Z0-9]){0,63}$"
)
# CloudFormation's tag pattern for SageMaker resources.
_TAG_KEY = re.compile(r"^[\w\s_.:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w\s_.:/=+\-@]{0,256}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_FEATURE_GROUP_READ = [
    "sagemaker:DescribeFeatureGroup",
    "sagemaker:GetRecord",
    "sagemaker:BatchGetRecord",
]

# What running JupyterLab and Code Editor apps needs from the role, inside this domain: the
# Studio UI creates spaces and apps with the execution role's credentials.
_APP_ACTIONS = {
    "space": [
        "sagemaker:CreateSpace",
        "sagemaker:UpdateSpace",
        "sagemaker:DeleteSpace",
        "sagemaker:DescribeSpace",
        "sagemaker:AddTags",
        "sagemaker:ListTags",
    ],
    "app": [
        "sagemaker:CreateApp",
        "sagemaker:DeleteApp",
        "sagemaker:DescribeApp",
        "sagemaker:AddTags",
        "sagemaker:ListTags",
    ],
    "user-profile": ["sagemaker:DescribeUserProfile"],
}
# List actions of SageMaker have no resource-level permissions.
_UNSCOPED_APP_ACTIONS = ["sagemaker:ListApps", "sagemaker:ListSpaces"]

_CANVAS_POLICY = "AmazonSageMakerCanvasFullAccess"
_CANVAS_DATA_PREP_POLICY = "AmazonSageMakerCanvasDataPrepFullAccess"
_CANVAS_DEPLOY_POLICY = "service-role/AmazonSageMakerCanvasDirectDeployAccess"
_CANVAS_FORECAST_POLICY = "service-role/AmazonSageMakerCanvasForecastAccess"


class StudioDomain(Construct):
    """A SageMaker Studio domain (``AWS::SageMaker::Domain``) in VPC-only mode, IAM auth.

    Apps run in the :class:`MlNetwork`'s subnets with no internet access, behind a security
    group this construct owns (:attr:`security_group`: HTTPS out to the VPC endpoints, NFS
    to the domain's home EFS, app-to-app traffic inside the group, as the SageMaker guide
    "Connect Studio notebooks in a VPC to external resources" requires). The home EFS and
    space volumes are encrypted with a customer-managed key. Users' apps run as an execution
    role scoped to the data lake zones in ``data_access``, the ``feature_groups`` and the
    ``model_registry`` group; CloudTrail records the user profile name as the role session's
    source identity. Idle JupyterLab and Code Editor apps are shut down, notebook output
    sharing and Docker access are off.

    The domain holds users' home directories on EFS, so it (with its EFS), its user profiles
    and its key are retained when the stack is deleted. With ``removal_policy=DESTROY``,
    CloudFormation deletes the domain and its home EFS with it (the resource's delete handler
    deletes the file system); there is no CloudFormation property for the API's
    ``RetentionPolicy``, so back up home directories first.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        network: MlNetwork,
        data_lake: DataLake,
        domain_name: str | None = None,
        data_access: Sequence[LakeAccess] = DEFAULT_DATA_ACCESS,
        feature_groups: Sequence[FeatureGroupAccess] = (),
        model_registry: ModelRegistry | None = None,
        user_profiles: Sequence[StudioUserProfile] = (),
        idle_shutdown: IdleShutdown | None = DEFAULT_IDLE_SHUTDOWN,
        lifecycle_scripts: Sequence[LifecycleScript] = (),
        canvas: CanvasSettings | None = None,
        default_ebs_volume_size_gb: int = 5,
        max_ebs_volume_size_gb: int = 100,
        tag_propagation: bool = False,
        key: kms.IKey | None = None,
        execution_role: iam.IRole | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param network: the network whose subnets the apps run in (VPC-only: no internet).
        :param data_lake: the data lake the execution role reads and writes.
        :param domain_name: the domain's name (1 to 63 letters, digits and hyphens).
            Changing it replaces the domain. Default: a name derived from the construct path.
        :param data_access: data lake zones (and prefixes) the execution role may use.
            Default: :data:`DEFAULT_DATA_ACCESS` (read curated, read-write
            ``artifacts/studio/``).
        :param feature_groups: feature groups the execution role may use, as ARNs (read
            access) or grant methods. Default: none.
        :param model_registry: a model package group whose versions users may read and
            register. Default: none.
        :param user_profiles: the users of the domain. Default: none (add them later).
        :param idle_shutdown: when idle JupyterLab and Code Editor apps are shut down;
            ``None`` keeps apps running until users stop them (and billing). Default: after
            one hour.
        :param lifecycle_scripts: scripts run when apps start. Default: none.
        :param canvas: SageMaker Canvas features to turn on. Default: Canvas settings are
            left as SageMaker sets them and the role gets no Canvas permissions.
        :param default_ebs_volume_size_gb: size of a new space's volume, 5 to 16384.
            Default: 5.
        :param max_ebs_volume_size_gb: largest volume a user may give a space, at least the
            default. Default: 100.
        :param tag_propagation: copy the domain's and user profiles' tags onto the SageMaker
            resources users create (per-user cost allocation); the execution role then needs
            ``sagemaker:AddTags`` on every resource type it creates (spaces and apps are
            granted here; jobs and endpoints by the constructs that grant those).
            Default: false.
        :param key: KMS key for the home EFS and space volumes. Default: a new key with
            rotation on, retained on stack deletion.
        :param execution_role: the role users' apps run as; it receives the grants above
            and must trust ``sagemaker.amazonaws.com`` for ``sts:AssumeRole`` and
            ``sts:SetSourceIdentity``. Default: a new role with only those grants.
        :param removal_policy: what happens to the domain, its home EFS, its user profiles
            and its key when the stack is deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        name = domain_name or Names.unique_resource_name(self, max_length=63, separator="-")
        errors = ValidationErrors("StudioDomain")
        check_name(errors, "domain_name", name, "DomainName")
        idle = _check_idle_shutdown(errors, idle_shutdown)
        _check_ebs(errors, default_ebs_volume_size_gb, max_ebs_volume_size_gb)
        _check_data_access(errors, data_lake, data_access)
        _check_feature_groups(errors, feature_groups)
        _check_user_profiles(errors, user_profiles)
        _check_lifecycle_scripts(errors, lifecycle_scripts)
        if canvas is not None:
            _check_canvas(errors, data_lake, canvas)
        errors.raise_if_any()

        self.network = network
        self.data_lake = data_lake
        self.domain_name = name
        self.key: kms.IKey = key or kms.Key(
            self,
            "Key",
            description="Encrypts the SageMaker Studio domain's home EFS and space volumes",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.security_group = self._security_group(network)
        #: Network connections of the Studio apps (``domain.connections.allow_to(...)``).
        self.connections = ec2.Connections(security_groups=[self.security_group])
        self.execution_role: iam.IRole = execution_role or self._execution_role()

        self.lifecycle_configs: dict[StudioApp, list[sagemaker.CfnStudioLifecycleConfig]] = {
            app: [] for app in StudioApp
        }
        defaults: dict[StudioApp, str] = {}
        for script in lifecycle_scripts:
            config = self._lifecycle_config(script, removal_policy)
            self.lifecycle_configs[script.app].append(config)
            if script.run_by_default:
                defaults[script.app] = config.attr_studio_lifecycle_config_arn
        self._default_lifecycle_arns = defaults

        storage = sagemaker.CfnDomain.DefaultSpaceStorageSettingsProperty(
            default_ebs_storage_settings=sagemaker.CfnDomain.DefaultEbsStorageSettingsProperty(
                default_ebs_volume_size_in_gb=default_ebs_volume_size_gb,
                maximum_ebs_volume_size_in_gb=max_ebs_volume_size_gb,
            )
        )
        security_groups = [self.security_group.security_group_id]
        self.resource = sagemaker.CfnDomain(
            self,
            "Resource",
            domain_name=name,
            auth_mode="IAM",
            app_network_access_type="VpcOnly",
            vpc_id=network.vpc.vpc_id,
            subnet_ids=network.subnet_ids,
            kms_key_id=self.key.key_arn,
            tag_propagation="ENABLED" if tag_propagation else "DISABLED",
            domain_settings=sagemaker.CfnDomain.DomainSettingsProperty(
                # CloudTrail then shows which user acted through the shared role.
                execution_role_identity_config="USER_PROFILE_NAME",
                docker_settings=sagemaker.CfnDomain.DockerSettingsProperty(
                    enable_docker_access="DISABLED"
                ),
            ),
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=self.execution_role.role_arn,
                security_groups=security_groups,
                default_landing_uri="studio::",
                studio_web_portal="ENABLED",
                sharing_settings=sagemaker.CfnDomain.SharingSettingsProperty(
                    notebook_output_option="Disabled"
                ),
                jupyter_lab_app_settings=self._jupyter_lab_settings(idle),
                code_editor_app_settings=self._code_editor_settings(idle),
                space_storage_settings=storage,
            ),
            default_space_settings=sagemaker.CfnDomain.DefaultSpaceSettingsProperty(
                execution_role=self.execution_role.role_arn,
                security_groups=security_groups,
                jupyter_lab_app_settings=self._jupyter_lab_settings(idle),
                space_storage_settings=storage,
            ),
        )
        self.resource.apply_removal_policy(removal_policy)
        self.domain_id = self.resource.attr_domain_id
        self.domain_arn = self.resource.attr_domain_arn
        #: The Studio URL users reach through a presigned URL.
        self.domain_url = self.resource.attr_url
        #: The home EFS file system SageMaker created (retained with the domain).
        self.home_efs_file_system_id = self.resource.attr_home_efs_file_system_id

        self._grant_execution_role(
            self.execution_role, data_access, feature_groups, model_registry, canvas
        )
        profiles: dict[str, sagemaker.CfnUserProfile] = {}
        for profile in user_profiles:
            profiles[profile.name] = self._user_profile(profile, removal_policy)
        #: User profiles by name.
        self.user_profiles: Mapping[str, sagemaker.CfnUserProfile] = MappingProxyType(profiles)
        self.canvas_settings: cr.AwsCustomResource | None = None
        if canvas is not None:
            self.canvas_settings = self._apply_canvas(canvas, removal_policy)

    # --- grants --------------------------------------------------------------------------

    def grant_run_apps(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (an execution role) run JupyterLab and Code Editor in this domain.

        Covers the spaces and apps of this domain only, Studio's log group, and the domain
        key for space volumes. Other Studio features (training, pipelines, endpoints) need
        the grants of the constructs that own those resources.
        """
        stack = Stack.of(self)
        grants = [
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["sagemaker:DescribeDomain"],
                resource_arns=[self.domain_arn],
            )
        ]
        statements: list[iam.PolicyStatement] = []
        for resource_type, actions in _APP_ACTIONS.items():
            arn = stack.format_arn(
                service="sagemaker", resource=resource_type, resource_name=f"{self.domain_id}/*"
            )
            grants.append(
                iam.Grant.add_to_principal(grantee=grantee, actions=actions, resource_arns=[arn])
            )
            statements.append(iam.PolicyStatement(actions=actions, resources=[arn]))
        iam.Grant.add_to_principal(
            grantee=grantee, actions=_UNSCOPED_APP_ACTIONS, resource_arns=["*"]
        )
        statements.append(iam.PolicyStatement(actions=_UNSCOPED_APP_ACTIONS, resources=["*"]))
        log_actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
        # The group itself (CreateLogGroup) and its streams.
        log_groups = [
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for name in ("/aws/sagemaker/studio", "/aws/sagemaker/studio:*")
        ]
        iam.Grant.add_to_principal(grantee=grantee, actions=log_actions, resource_arns=log_groups)
        statements.append(iam.PolicyStatement(actions=log_actions, resources=log_groups))
        acknowledge_grant_wildcards(
            grantee,
            statements,
            f"Studio apps of domain {self.domain_name}: spaces, apps and user profiles are "
            "named <domain-id>/<name> and created by users at run time, so the domain id "
            "prefix is the narrowest resource; ListApps and ListSpaces have no resource-level "
            "permissions; Studio apps log to streams of the /aws/sagemaker/studio group.",
        )
        # Space volumes are encrypted with the domain key under grants SageMaker creates on
        # the user's behalf when an app starts.
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:CreateGrant"],
            resource_arns=[self.key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
        self.key.grant(
            grantee, "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext"
        )
        combined = grants[0]
        for grant in grants[1:]:
            combined = combined.combine(grant)
        return combined

    def grant_create_presigned_url(
        self, grantee: iam.IGrantable, user_profile_name: str | None = None
    ) -> iam.Grant:
        """Let ``grantee`` (a person's IAM role) open Studio as ``user_profile_name``.

        With IAM authentication, opening Studio is ``CreatePresignedDomainUrl`` on the user
        profile. Default ``user_profile_name``: any profile of this domain (for admins).
        """
        if user_profile_name is not None:
            errors = ValidationErrors("StudioDomain.grant_create_presigned_url")
            check_name(errors, "user_profile_name", user_profile_name, "UserProfileName")
            errors.raise_if_any()
        arn = Stack.of(self).format_arn(
            service="sagemaker",
            resource="user-profile",
            resource_name=f"{self.domain_id}/{user_profile_name or '*'}",
        )
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:CreatePresignedDomainUrl"], resource_arns=[arn]
        )
        if user_profile_name is None:
            acknowledge_grant_wildcards(
                grantee,
                grant.principal_statements,
                f"Opens Studio as any user profile of domain {self.domain_name} only; profiles "
                "are named <domain-id>/<profile> and an administrator needs all of them.",
            )
        return grant

    # --- building blocks -------------------------------------------------------------------

    def _security_group(self, network: MlNetwork) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description="SageMaker Studio apps: HTTPS and NFS out, app-to-app traffic inside",
            allow_all_outbound=False,
        )
        # Destinations are bounded by routing: the subnets only reach the VPC and, through
        # the gateway endpoint, S3 (whose prefix list needs an account lookup to name).
        group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to VPC endpoints and the S3 endpoint"
        )
        # The home EFS mount targets sit in the domain's subnets, behind security groups
        # SageMaker creates; their addresses are only known at deploy time.
        group.add_egress_rule(
            ec2.Peer.ipv4(network.vpc.vpc_cidr_block),
            ec2.Port.tcp(2049),
            "NFS to the domain's home EFS mount targets",
        )
        group.connections.allow_internally(
            ec2.Port.tcp_range(8192, 65535), "Traffic between the apps of the domain"
        )
        return group

    def _execution_role(self) -> iam.Role:
        sagemaker_principal = iam.ServicePrincipal("sagemaker.amazonaws.com")
        role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=sagemaker_principal,
            description="Runs the SageMaker Studio apps of the domain's users",
        )
        # SetSourceIdentity lets SageMaker stamp the user profile name on each session.
        role.assume_role_policy.add_statements(  # type: ignore[union-attr]
            iam.PolicyStatement(actions=["sts:SetSourceIdentity"], principals=[sagemaker_principal])
        )
        acknowledge_inline_policy(role)
        return role

    def _grant_execution_role(
        self,
        role: iam.IRole,
        data_access: Sequence[LakeAccess],
        feature_groups: Sequence[FeatureGroupAccess],
        registry: ModelRegistry | None,
        canvas: CanvasSettings | None,
    ) -> None:
        self.grant_run_apps(role)
        for access in data_access:
            if access.write:
                self.data_lake.grant_read_write(role, access.zone, access.prefix)
            else:
                self.data_lake.grant_read(role, access.zone, access.prefix)
        arns = [group for group in feature_groups if isinstance(group, str)]
        if arns:
            iam.Grant.add_to_principal(
                grantee=role, actions=_FEATURE_GROUP_READ, resource_arns=arns
            )
        for group in feature_groups:
            if not isinstance(group, str):
                group(role)
        if registry is not None:
            registry.grant_read(role)
            registry.grant_register(role)
        if canvas is not None:
            self._grant_canvas(role, canvas)

    def _jupyter_lab_settings(
        self, idle: tuple[int, int | None, int | None] | None
    ) -> sagemaker.CfnDomain.JupyterLabAppSettingsProperty:
        default_arn, arns = self._lifecycle_arns(StudioApp.JUPYTER_LAB)
        return sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
            app_lifecycle_management=_domain_lifecycle_management(idle),
            default_resource_spec=None
            if default_arn is None
            else sagemaker.CfnDomain.ResourceSpecProperty(lifecycle_config_arn=default_arn),
            lifecycle_config_arns=arns,
        )

    def _code_editor_settings(
        self, idle: tuple[int, int | None, int | None] | None
    ) -> sagemaker.CfnDomain.CodeEditorAppSettingsProperty:
        default_arn, arns = self._lifecycle_arns(StudioApp.CODE_EDITOR)
        return sagemaker.CfnDomain.CodeEditorAppSettingsProperty(
            app_lifecycle_management=_domain_lifecycle_management(idle),
            default_resource_spec=None
            if default_arn is None
            else sagemaker.CfnDomain.ResourceSpecProperty(lifecycle_config_arn=default_arn),
            lifecycle_config_arns=arns,
        )

    def _lifecycle_arns(self, app: StudioApp) -> tuple[str | None, list[str] | None]:
        arns = [c.attr_studio_lifecycle_config_arn for c in self.lifecycle_configs[app]]
        return self._default_lifecycle_arns.get(app), arns or None

    def _lifecycle_config(
        self, script: LifecycleScript, removal_policy: RemovalPolicy
    ) -> sagemaker.CfnStudioLifecycleConfig:
        position = len(self.lifecycle_configs[script.app]) + 1
        suffix = str(position) if position > 1 else ""
        content = base64.b64encode(script.script.encode("utf-8")).decode("ascii")
        config = sagemaker.CfnStudioLifecycleConfig(
            self,
            f"{script.app.value}LifecycleConfig{suffix}",
            studio_lifecycle_config_app_type=script.app.value,
            studio_lifecycle_config_content=content,
            # Set below: the name is derived from the construct path.
            studio_lifecycle_config_name="-",
        )
        config.studio_lifecycle_config_name = _lifecycle_config_name(config, content)
        config.apply_removal_policy(removal_policy)
        # Every property is create-only: a changed script is a new config (its name carries
        # the script's hash), and the config it replaces is deleted, not kept.
        config.cfn_options.update_replace_policy = CfnDeletionPolicy.DELETE
        return config

    def _user_profile(
        self, profile: StudioUserProfile, removal_policy: RemovalPolicy
    ) -> sagemaker.CfnUserProfile:
        role = profile.execution_role
        if role is not None:
            self.grant_run_apps(role)
        settings = None
        if role is not None or profile.hidden_ml_tools:
            settings = sagemaker.CfnUserProfile.UserSettingsProperty(
                execution_role=None if role is None else role.role_arn,
                studio_web_portal_settings=sagemaker.CfnUserProfile.StudioWebPortalSettingsProperty(
                    hidden_ml_tools=list(profile.hidden_ml_tools)
                )
                if profile.hidden_ml_tools
                else None,
            )
        resource = sagemaker.CfnUserProfile(
            self,
            f"UserProfile-{profile.name}",
            domain_id=self.domain_id,
            user_profile_name=profile.name,
            user_settings=settings,
            tags=[CfnTag(key=k, value=v) for k, v in sorted(profile.tags.items())] or None,
        )
        resource.apply_removal_policy(removal_policy)
        return resource

    # --- Canvas ----------------------------------------------------------------------------

    def _grant_canvas(self, role: iam.IRole, canvas: CanvasSettings) -> None:
        policies = [_CANVAS_POLICY]
        if canvas.data_preparation:
            policies.append(_CANVAS_DATA_PREP_POLICY)
        if canvas.direct_deploy:
            policies.append(_CANVAS_DEPLOY_POLICY)
        if canvas.time_series_forecasting and canvas.forecast_role is None:
            policies.append(_CANVAS_FORECAST_POLICY)
            if isinstance(role, iam.Role):
                forecast = iam.ServicePrincipal("forecast.amazonaws.com")
                role.assume_role_policy.add_statements(  # type: ignore[union-attr]
                    iam.PolicyStatement(
                        actions=["sts:AssumeRole"],
                        principals=[forecast],
                        conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
                    )
                )
        for name in policies:
            role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(name))
            acknowledge(
                role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]",
                "Opt-in Canvas feature: Canvas creates jobs, models and endpoints whose names "
                "it picks at run time, and AWS maintains this policy as Canvas evolves; it is "
                "attached only when the feature is turned on in CanvasSettings.",
            )
        self.data_lake.grant_read_write(role, Zone.ARTIFACTS, canvas.workspace_prefix)
        if canvas.cross_account_model_register_role_arn is not None:
            # Canvas registers into the other account's registry as that account's role.
            iam.Grant.add_to_principal(
                grantee=role,
                actions=["sts:AssumeRole"],
                resource_arns=[canvas.cross_account_model_register_role_arn],
            )

    def _apply_canvas(
        self, canvas: CanvasSettings, removal_policy: RemovalPolicy
    ) -> cr.AwsCustomResource:
        def status(enabled: bool) -> str:
            return "ENABLED" if enabled else "DISABLED"

        forecasting: dict[str, Any] = {"Status": status(canvas.time_series_forecasting)}
        if canvas.forecast_role is not None:
            forecasting["AmazonForecastRoleArn"] = canvas.forecast_role.role_arn
        registration: dict[str, Any] = {"Status": status(canvas.model_registration)}
        if canvas.cross_account_model_register_role_arn is not None:
            registration["CrossAccountModelRegisterRoleArn"] = (
                canvas.cross_account_model_register_role_arn
            )
        settings = {
            "TimeSeriesForecastingSettings": forecasting,
            "ModelRegisterSettings": registration,
            "DirectDeploySettings": {"Status": status(canvas.direct_deploy)},
            "WorkspaceSettings": {
                "S3ArtifactPath": self.data_lake.s3_uri(Zone.ARTIFACTS, canvas.workspace_prefix),
                "S3KmsKeyId": self.data_lake.key.key_arn,
            },
        }
        disabled = {
            "TimeSeriesForecastingSettings": {"Status": "DISABLED"},
            "ModelRegisterSettings": {"Status": "DISABLED"},
            "DirectDeploySettings": {"Status": "DISABLED"},
        }

        def update(canvas_settings: Mapping[str, Any], ignore: str | None = None) -> cr.AwsSdkCall:
            return cr.AwsSdkCall(
                service="SageMaker",
                action="updateDomain",
                parameters={
                    "DomainId": self.domain_id,
                    "DefaultUserSettings": {"CanvasAppSettings": canvas_settings},
                },
                physical_resource_id=cr.PhysicalResourceId.of(self.domain_id),
                ignore_error_codes_matching=ignore,
                logging=cr.Logging.with_data_hidden(),
            )

        statements = [
            iam.PolicyStatement(actions=["sagemaker:UpdateDomain"], resources=[self.domain_arn])
        ]
        if canvas.forecast_role is not None:
            statements.append(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[canvas.forecast_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
                )
            )
        log_group = logs.LogGroup(
            self,
            "CanvasSettingsLogGroup",
            encryption_key=self.key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=removal_policy,
        )
        allow_cloudwatch_logs(self.key)
        custom = cr.AwsCustomResource(
            self,
            "CanvasSettings",
            on_create=update(settings),
            on_update=update(settings),
            # A domain deleted outside CloudFormation has no Canvas left to switch off.
            on_delete=update(disabled, ignore="ResourceNotFound"),
            policy=cr.AwsCustomResourcePolicy.from_statements(statements),
            install_latest_aws_sdk=False,
            vpc=self.network.vpc,
            vpc_subnets=self.network.subnet_selection,
            log_group=log_group,
            resource_type="Custom::StudioCanvasSettings",
        )
        # The user profiles are created before Canvas is switched on, so a profile never
        # sees a half-configured domain.
        for profile in self.user_profiles.values():
            custom.node.add_dependency(profile)
        self._acknowledge_canvas_provider(custom)
        return custom

    def _acknowledge_canvas_provider(self, custom: cr.AwsCustomResource) -> None:
        policy = custom.node.try_find_child("CustomResourcePolicy")
        if policy is not None:
            acknowledge_each(
                policy,
                in_all_packs("IAMNoInlinePolicy"),
                "CDK's AwsCustomResource writes this inline policy for its one provider "
                "function: sagemaker:UpdateDomain on this domain only.",
            )
        stack = Stack.of(self)
        provider = stack.node.try_find_child(
            "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
        )
        if provider is None:
            return
        # The provider only calls the SageMaker API through the network's endpoints; CDK
        # gives its security group every outbound port, which HTTPS replaces.
        group = provider.node.try_find_child("SecurityGroup")
        cfn_group = group.node.default_child if group is not None else None
        if isinstance(group, ec2.SecurityGroup) and isinstance(cfn_group, ec2.CfnSecurityGroup):
            cfn_group.add_property_override(
                "SecurityGroupEgress",
                [
                    {
                        "CidrIp": "0.0.0.0/0",
                        "Description": "HTTPS to the SageMaker API endpoint",
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                    }
                ],
            )
        for name in ("AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"):
            acknowledge(
                provider,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/{name}]",
                "CDK's AwsCustomResource provider function attaches this AWS managed policy "
                "for its own logs and its network interfaces in the ML network; it runs only "
                "during deployments.",
            )
        acknowledge_each(
            provider,
            in_all_packs("LambdaConcurrency"),
            "The custom-resource provider runs only when CloudFormation deploys the stack, one "
            "invocation per changed resource; a concurrency limit would only fail deployments.",
        )
        acknowledge_each(
            provider,
            in_all_packs("LambdaDLQ"),
            "CloudFormation invokes the custom-resource provider synchronously and reports a "
            "failure as a failed deployment; there is no asynchronous event to dead-letter.",
        )


def _lifecycle_config_name(config: Construct, content: str) -> str:
    digest = hashlib.sha256(content.encode("ascii")).hexdigest()[:8]
    return f"{Names.unique_resource_name(config, max_length=54, separator='-')}-{digest}"


def _domain_lifecycle_management(
    idle: tuple[int, int | None, int | None] | None,
) -> sagemaker.CfnDomain.AppLifecycleManagementProperty:
    if idle is None:
        return sagemaker.CfnDomain.AppLifecycleManagementProperty(
            idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(lifecycle_management="DISABLED")
        )
    timeout, minimum, maximum = idle
    return sagemaker.CfnDomain.AppLifecycleManagementProperty(
        idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
            lifecycle_management="ENABLED",
            idle_timeout_in_minutes=timeout,
            min_idle_timeout_in_minutes=minimum,
            max_idle_timeout_in_minutes=maximum,
        )
    )


# --- validation ----------------------------------------------------------------------------


def _minutes(errors: ValidationErrors, prop: str, value: Duration) -> int | None:
    if Token.is_unresolved(value.to_string()):
        return None
    try:
        minutes = int(value.to_minutes())
    except Exception:  # jsii raises a plain Error for fractional conversions
        errors.add(f"{prop} must be a whole number of minutes, got {value.to_human_string()}")
        return None
    low, high = _IDLE_MINUTES
    if not low <= minutes <= high:
        errors.add(
            f"{prop} must be from {low} minutes to {high} minutes (365 days), "
            f"got {value.to_human_string()}"
        )
        return None
    return minutes


def _check_idle_shutdown(
    errors: ValidationErrors, idle: IdleShutdown | None
) -> tuple[int, int | None, int | None] | None:
    if idle is None:
        return None
    timeout = _minutes(errors, "idle_shutdown.timeout", idle.timeout)
    minimum = (
        None if idle.minimum is None else _minutes(errors, "idle_shutdown.minimum", idle.minimum)
    )
    maximum = (
        None if idle.maximum is None else _minutes(errors, "idle_shutdown.maximum", idle.maximum)
    )
    if timeout is None:
        return None
    if minimum is not None and minimum > timeout:
        errors.add(
            f"idle_shutdown.minimum ({minimum} minutes) must not exceed idle_shutdown.timeout "
            f"({timeout} minutes)"
        )
    if maximum is not None and maximum < timeout:
        errors.add(
            f"idle_shutdown.maximum ({maximum} minutes) must not be below idle_shutdown.timeout "
            f"({timeout} minutes)"
        )
    return timeout, minimum, maximum


def _check_ebs(errors: ValidationErrors, default_gb: int, max_gb: int) -> None:
    low, high = _EBS_GB
    int_in_range(errors, "default_ebs_volume_size_gb", default_gb, minimum=low, maximum=high)
    int_in_range(errors, "max_ebs_volume_size_gb", max_gb, minimum=low, maximum=high)
    if isinstance(default_gb, int) and isinstance(max_gb, int) and default_gb > max_gb:
        errors.add(
            f"max_ebs_volume_size_gb ({max_gb}) must be at least default_ebs_volume_size_gb "
            f"({default_gb})"
        )


def _check_data_access(
    errors: ValidationErrors, data_lake: DataLake, data_access: Sequence[LakeAccess]
) -> None:
    for i, access in enumerate(data_access):
        if not isinstance(access, LakeAccess):
            errors.add(f"data_access[{i}] must be a LakeAccess, got {access!r}")
            continue
        if access.prefix is not None:
            try:
                data_lake.s3_uri(access.zone, access.prefix)
            except ValueError as error:
                errors.add(f"data_access[{i}].prefix {access.prefix!r}: {error}")


def _check_feature_groups(errors: ValidationErrors, groups: Sequence[FeatureGroupAccess]) -> None:
    for i, group in enumerate(groups):
        if isinstance(group, str):
            errors.check(
                Token.is_unresolved(group) or bool(_FEATURE_GROUP_ARN.match(group)),
                f"feature_groups[{i}] must be a feature group ARN "
                f"('arn:aws:sagemaker:<region>:<account>:feature-group/<name>', no wildcards) "
                f"or a grant method, got {group!r}",
            )
        elif not callable(group):
            errors.add(
                f"feature_groups[{i}] must be a feature group ARN or a grant method such as "
                f"feature_group.grant_read, got {group!r}"
            )


def _check_user_profiles(errors: ValidationErrors, profiles: Sequence[StudioUserProfile]) -> None:
    seen: set[str] = set()
    for i, profile in enumerate(profiles):
        if not isinstance(profile, StudioUserProfile):
            errors.add(f"user_profiles[{i}] must be a StudioUserProfile, got {profile!r}")
            continue
        check_name(errors, f"user_profiles[{i}].name", profile.name, "UserProfileName")
        if profile.name in seen:
            errors.add(f"user_profiles[{i}].name {profile.name!r} is used by another profile")
        seen.add(profile.name)
        for tool in profile.hidden_ml_tools:
            check_enum(errors, f"user_profiles[{i}].hidden_ml_tools", tool, "MlTools")
        for key, value in profile.tags.items():
            errors.check(
                _TAG_KEY.match(key) is not None and not key.lower().startswith("aws:"),
                f"user_profiles[{i}].tags key {key!r} must be 1 to 128 letters, digits, spaces "
                "and _.:/=+-@, not starting with 'aws:'",
            )
            errors.check(
                _TAG_VALUE.match(value) is not None,
                f"user_profiles[{i}].tags[{key!r}] value {value!r} must be at most 256 letters, "
                "digits, spaces and _.:/=+-@",
            )


def _check_lifecycle_scripts(errors: ValidationErrors, scripts: Sequence[LifecycleScript]) -> None:
    defaults: dict[StudioApp, int] = {}
    counts: dict[StudioApp, int] = {}
    for i, script in enumerate(scripts):
        if not isinstance(script, LifecycleScript) or not isinstance(script.app, StudioApp):
            errors.add(
                f"lifecycle_scripts[{i}] must be a LifecycleScript for a StudioApp, got {script!r}"
            )
            continue
        counts[script.app] = counts.get(script.app, 0) + 1
        if not script.script.strip():
            errors.add(f"lifecycle_scripts[{i}].script must not be empty")
        encoded = len(base64.b64encode(script.script.encode("utf-8")))
        if encoded > _LIFECYCLE_CONTENT_MAX:
            errors.add(
                f"lifecycle_scripts[{i}].script is {encoded} characters base64-encoded; "
                f"SageMaker accepts at most {_LIFECYCLE_CONTENT_MAX}"
            )
        if script.run_by_default:
            defaults[script.app] = defaults.get(script.app, 0) + 1
    for app, count in defaults.items():
        if count > 1:
            errors.add(
                f"lifecycle_scripts: at most one {app.value} script may have run_by_default=True, "
                f"got {count}"
            )
    for app, count in counts.items():
        if count > _MAX_LIFECYCLE_CONFIGS:
            errors.add(
                f"lifecycle_scripts: at most {_MAX_LIFECYCLE_CONFIGS} {app.value} scripts, "
                f"got {count}"
            )


def _check_canvas(errors: ValidationErrors, data_lake: DataLake, canvas: CanvasSettings) -> None:
    arn = canvas.cross_account_model_register_role_arn
    if arn is not None and not Token.is_unresolved(arn):
        errors.check(
            bool(_ROLE_ARN.match(arn)),
            "canvas.cross_account_model_register_role_arn must be an IAM role ARN "
            f"('arn:aws:iam::<account>:role/<name>'), got {arn!r}",
        )
    try:
        data_lake.s3_uri(Zone.ARTIFACTS, canvas.workspace_prefix)
    except ValueError as error:
        errors.add(f"canvas.workspace_prefix {canvas.workspace_prefix!r}: {error}")

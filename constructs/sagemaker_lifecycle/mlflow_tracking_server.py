"""A SageMaker managed MLflow tracking server for experiment tracking."""

from __future__ import annotations

import re

from aws_cdk import Names, RemovalPolicy, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards, acknowledge_inline_policy
from sagemaker_lifecycle._internal.sagemaker_api import check_enum, check_name
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.ml_network import MlNetwork
from sagemaker_lifecycle.model_registry import ModelRegistry

# CloudFormation's pattern for MlflowVersion; botocore's ('[0-9]*.[0-9]*.[0-9]*') would let
# '3x0' through and fail at deploy time.
_MLFLOW_VERSION = re.compile(r"^\d+(\.\d+)+$")
_MLFLOW_VERSION_MAX = 16

#: Read and list actions of the ``sagemaker-mlflow`` service (Service Authorization Reference,
#: "Amazon SageMaker with MLflow"); every one takes the ``mlflow-tracking-server`` resource.
_READ_ACTIONS = tuple(
    f"sagemaker-mlflow:{action}"
    for action in (
        "GetDownloadURIForModelVersionArtifacts",
        "GetExperiment",
        "GetExperimentByName",
        "GetLatestModelVersions",
        "GetLoggedModel",
        "GetMetricHistory",
        "GetModelVersion",
        "GetModelVersionByAlias",
        "GetRegisteredModel",
        "GetRun",
        "GetTraceInfo",
        "ListArtifacts",
        "ListLoggedModelArtifacts",
        "SearchExperiments",
        "SearchLoggedModels",
        "SearchModelVersions",
        "SearchRegisteredModels",
        "SearchRuns",
        "SearchTraces",
    )
)
#: SageMaker API actions on the tracking server resource itself that clients need: the
#: sagemaker-mlflow plugin resolves the server URL from its ARN, and Studio opens the UI
#: through a presigned URL.
_SERVER_ACTIONS = (
    "sagemaker:DescribeMlflowTrackingServer",
    "sagemaker:CreatePresignedMlflowTrackingServerUrl",
)
#: Actions IAM only accepts on ``"*"``: AccessUI lists no resource type in the Service
#: Authorization Reference, and List* actions of SageMaker have no resource-level permissions.
_UNSCOPED_ACTIONS = ("sagemaker-mlflow:AccessUI", "sagemaker:ListMlflowTrackingServers")


class MlflowTrackingServer(Construct):
    """An MLflow tracking server (``AWS::SageMaker::MlflowTrackingServer``).

    Artifacts are stored in the data lake's artifacts zone under :attr:`artifact_prefix`
    (KMS-encrypted, versioned, retained). The server runs as a role that may only read and
    write that prefix and, with ``automatic_model_registration``, register versions in one
    :class:`ModelRegistry` group: register the MLflow model under the group's name.

    MLflow clients (Studio, training jobs) log metadata through the server and write
    artifacts straight to S3 with their own credentials; :meth:`grant_access` gives them
    both. The tracking URI clients pass to ``mlflow.set_tracking_uri`` is the server's ARN
    (:attr:`tracking_uri`, with the ``sagemaker-mlflow`` plugin installed).

    The server holds experiment metadata in a SageMaker-managed store, so it is retained
    when the stack is deleted unless ``removal_policy`` says otherwise.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_lake: DataLake,
        tracking_server_name: str | None = None,
        artifact_prefix: str | None = None,
        tracking_server_size: str = "Small",
        mlflow_version: str | None = None,
        weekly_maintenance_window_start: str | None = None,
        automatic_model_registration: bool = False,
        model_registry: ModelRegistry | None = None,
        network: MlNetwork | None = None,
        role: iam.IRole | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param data_lake: the lake whose artifacts zone stores the MLflow artifacts.
        :param tracking_server_name: the server's name (1 to 256 letters, digits and
            hyphens); it is part of the ARN clients use. Default: a name derived from the
            construct path.
        :param artifact_prefix: key prefix in the artifacts zone for this server's
            artifacts. Default: ``mlflow/<tracking_server_name>/``.
        :param tracking_server_size: ``Small``, ``Medium`` or ``Large`` (the SageMaker
            API's TrackingServerSize enum); larger sizes serve more concurrent users and
            cost more. Default: ``Small``.
        :param mlflow_version: the MLflow version to run, such as ``"3.0"``. Default: the
            version SageMaker picks when the server is created.
        :param weekly_maintenance_window_start: start of the weekly maintenance window in
            UTC, ``Ddd:HH:MM`` such as ``"Tue:03:30"``. Default: a window SageMaker picks.
        :param automatic_model_registration: register models that MLflow registers as
            versions in ``model_registry`` too. Default: false.
        :param model_registry: the model package group automatic registration writes to;
            required with ``automatic_model_registration`` so the server's role can be
            scoped to one group. Default: none.
        :param network: an :class:`MlNetwork` whose workloads call the server; an interface
            endpoint for ``aws.sagemaker.<region>.experiments`` with private DNS is added to
            it, since its subnets have no internet route. Omit it when the VPC already has
            that endpoint (a VPC holds one private-DNS endpoint per service). Default: no
            endpoint.
        :param role: the role the server runs as; it is granted the artifact prefix (and
            the registry group). Default: a new role for this server only.
        :param removal_policy: what happens to the server (and its experiment metadata)
            when the stack is deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        name = tracking_server_name or Names.unique_resource_name(
            self, max_length=63, separator="-"
        )
        prefix = artifact_prefix or (
            f"mlflow/{name}/" if not Token.is_unresolved(name) else "mlflow/"
        )
        errors = ValidationErrors("MlflowTrackingServer")
        check_name(errors, "tracking_server_name", name, "TrackingServerName")
        check_enum(errors, "tracking_server_size", tracking_server_size, "TrackingServerSize")
        _check_mlflow_version(errors, mlflow_version)
        if weekly_maintenance_window_start is not None:
            check_name(
                errors,
                "weekly_maintenance_window_start",
                weekly_maintenance_window_start,
                "WeeklyMaintenanceWindowStart",
            )
        errors.check(
            not automatic_model_registration or model_registry is not None,
            "automatic_model_registration=True needs model_registry: the server's role is "
            "scoped to one model package group instead of every group in the account",
        )
        try:
            artifact_uri = data_lake.s3_uri(Zone.ARTIFACTS, prefix)
        except ValueError as error:
            errors.add(f"artifact_prefix {prefix!r}: {error}")
            artifact_uri = ""
        errors.raise_if_any()

        self.data_lake = data_lake
        self.model_registry = model_registry
        #: Key prefix of this server's artifacts in the artifacts zone.
        self.artifact_prefix = prefix
        #: ``s3://`` URI of the artifact store.
        self.artifact_store_uri = artifact_uri
        self.role: iam.IRole = role or iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="Lets a SageMaker MLflow tracking server use its artifact store",
        )
        if isinstance(self.role, iam.Role):
            acknowledge_inline_policy(self.role)
        data_lake.grant_read_write(self.role, Zone.ARTIFACTS, prefix)
        if automatic_model_registration and model_registry is not None:
            model_registry.grant_register(self.role)
            model_registry.grant_read(self.role)

        self.resource = sagemaker.CfnMlflowTrackingServer(
            self,
            "Resource",
            tracking_server_name=name,
            artifact_store_uri=artifact_uri,
            role_arn=self.role.role_arn,
            tracking_server_size=tracking_server_size,
            mlflow_version=mlflow_version,
            weekly_maintenance_window_start=weekly_maintenance_window_start,
            automatic_model_registration=automatic_model_registration,
        )
        self.resource.apply_removal_policy(removal_policy)
        # The server writes to its artifact store as soon as it runs: no window in which the
        # role exists without its policy.
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            self.resource.node.add_dependency(policy)

        self.tracking_server_name = name
        self.tracking_server_arn = self.resource.attr_tracking_server_arn
        self.vpc_endpoint: ec2.InterfaceVpcEndpoint | None = None
        if network is not None:
            self.vpc_endpoint = ec2.InterfaceVpcEndpoint(
                self,
                "VpcEndpoint",
                vpc=network.vpc,
                service=ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_EXPERIMENTS,
                subnets=network.subnet_selection,
                security_groups=[network.endpoint_security_group],
                private_dns_enabled=True,
                open=False,
            )

    @property
    def tracking_uri(self) -> str:
        """What MLflow clients pass to ``mlflow.set_tracking_uri``: the server's ARN.

        The ``sagemaker-mlflow`` plugin resolves the server's HTTPS URL from it and signs
        requests with the caller's credentials. CloudFormation does not return the URL
        itself (the resource's only read-only attribute is the ARN).
        """
        return self.tracking_server_arn

    def grant_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (a Studio or training role) use this server read-write.

        Gives every ``sagemaker-mlflow`` action on this server, the MLflow UI, the presigned
        UI URL, and read-write access to the artifact prefix (MLflow clients upload
        artifacts to S3 themselves).
        """
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker-mlflow:*", *_SERVER_ACTIONS],
            resource_arns=[self.tracking_server_arn],
        )
        self._grant_unscoped(grantee)
        acknowledge_grant_wildcards(
            grantee,
            grant.principal_statements,
            f"Every sagemaker-mlflow action on the one tracking server {self.tracking_server_name}"
            ": the service's actions all act on experiments, runs and models inside that "
            "server, and the list grows with MLflow releases (traces, logged models).",
        )
        self.data_lake.grant_read_write(grantee, Zone.ARTIFACTS, self.artifact_prefix)
        return grant

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` browse experiments, runs and models and read their artifacts."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[*_READ_ACTIONS, *_SERVER_ACTIONS],
            resource_arns=[self.tracking_server_arn],
        )
        self._grant_unscoped(grantee)
        self.data_lake.grant_read(grantee, Zone.ARTIFACTS, self.artifact_prefix)
        return grant

    def _grant_unscoped(self, grantee: iam.IGrantable) -> None:
        # IAM ignores a named resource for these actions, so "*" is the only resource that
        # grants them; AccessUI opens no data by itself (every API behind the UI is scoped
        # above) and ListMlflowTrackingServers returns names and ARNs only.
        statement = iam.PolicyStatement(actions=list(_UNSCOPED_ACTIONS), resources=["*"])
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(_UNSCOPED_ACTIONS), resource_arns=["*"]
        )
        acknowledge_grant_wildcards(
            grantee,
            [statement],
            "sagemaker-mlflow:AccessUI has no resource type in the Service Authorization "
            "Reference and sagemaker:ListMlflowTrackingServers has no resource-level "
            "permissions; neither reads experiment data, which stays scoped to the server.",
        )


def _check_mlflow_version(errors: ValidationErrors, version: str | None) -> None:
    if version is None or Token.is_unresolved(version):
        return
    errors.check(
        bool(_MLFLOW_VERSION.match(version)) and len(version) <= _MLFLOW_VERSION_MAX,
        f"mlflow_version must be a version number such as '3.0' or '2.16.2' (at most "
        f"{_MLFLOW_VERSION_MAX} characters), got {version!r}",
    )

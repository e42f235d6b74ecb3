"""An Athena workgroup for point-in-time queries of the Feature Store offline store."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Size, Stack, Token
from aws_cdk import aws_athena as athena
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from sagemaker_lifecycle._internal.sagemaker_api import check_name
from sagemaker_lifecycle._internal.validation import ValidationErrors, whole_days
from sagemaker_lifecycle.data_lake import DataLake, Zone

#: Athena's smallest per-query data usage limit (BytesScannedCutoffPerQuery, botocore and
#: the CloudFormation schema: minimum 10,000,000 bytes).
MIN_BYTES_SCANNED_CUTOFF = 10_000_000
# The CloudFormation schema types the cutoff as int64.
_MAX_BYTES_SCANNED_CUTOFF = 2**63 - 1
_DEFAULT_CUTOFF = Size.gibibytes(100)
# Engine 3 (Trino) reads Iceberg tables and has from_iso8601_timestamp / to_unixtime.
_ENGINE_VERSION = "Athena engine version 3"

#: What a query runner does in the workgroup; each action takes the workgroup as resource.
_QUERY_ACTIONS = [
    "athena:StartQueryExecution",
    "athena:StopQueryExecution",
    "athena:GetQueryExecution",
    "athena:BatchGetQueryExecution",
    "athena:ListQueryExecutions",
    "athena:GetQueryResults",
    "athena:GetQueryResultsStream",
    "athena:GetWorkGroup",
]


class OfflineQueryWorkgroup(Construct):
    """An Athena workgroup whose query results land encrypted in the data lake.

    Results go to the data lake's curated zone under ``athena-results/<workgroup>/``: they
    are copies of feature data, so they belong with it, behind the same key and zone
    boundary, not with model artifacts. The workgroup enforces its configuration (clients
    cannot send results elsewhere or unencrypted), encrypts results with SSE-KMS, checks the
    results bucket's owner, cancels queries that scan more than ``bytes_scanned_cutoff``,
    publishes CloudWatch metrics, runs Athena engine version 3 and is retained when the stack
    is deleted.

    Grant query access with :meth:`grant_query`, or
    :meth:`FeatureGroup.grant_query_offline` for a feature group's table as well.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        workgroup_name: str,
        data_lake: DataLake,
        results_prefix: str | None = None,
        key: kms.IKey | None = None,
        bytes_scanned_cutoff: Size = _DEFAULT_CUTOFF,
        results_expiration: Duration | None = None,
        description: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param workgroup_name: the workgroup's name, which query clients pass (1 to 128
            letters, digits, ``.``, ``_`` and ``-``).
        :param data_lake: the data lake whose curated zone receives query results.
        :param results_prefix: key prefix of the results in the curated zone.
            Default: ``athena-results/<workgroup_name>/``.
        :param key: KMS key that encrypts query results (SSE-KMS). Default: the data lake's
            key.
        :param bytes_scanned_cutoff: a query that scans more is cancelled (at least
            10,000,000 bytes). Default: 100 GiB.
        :param results_expiration: expire results (and their old versions) this many whole
            days after they are written, through a lifecycle rule on the curated bucket.
            Default: kept under the data lake's own rules.
        :param description: what the workgroup is for (at most 1,024 characters).
            Default: a description naming the data lake zone.
        :param removal_policy: what happens to the workgroup (and its query history) when
            the stack is deleted. Default: RETAIN.
        """
        super().__init__(scope, id)
        errors = ValidationErrors("OfflineQueryWorkgroup")
        check_name(errors, "workgroup_name", workgroup_name, "WorkGroupName", "athena")
        prefix = results_prefix or f"athena-results/{workgroup_name}/"
        try:
            results_uri = data_lake.s3_uri(Zone.CURATED, prefix)
        except ValueError as error:
            errors.add(f"results_{error}")
            results_uri = ""
        cutoff = _check_cutoff(errors, bytes_scanned_cutoff)
        if results_expiration is not None:
            whole_days(errors, "results_expiration", results_expiration)
        if description is not None and len(description) > 1024:
            errors.add(f"description must be at most 1024 characters, got {len(description)}")
        errors.raise_if_any()

        self.data_lake = data_lake
        #: The key that encrypts query results.
        self.key: kms.IKey = key or data_lake.key
        self.workgroup_name = workgroup_name
        #: Key prefix of the query results in the curated zone (ends with ``/``).
        self.results_prefix = prefix if prefix.endswith("/") else f"{prefix}/"
        #: ``s3://<curated bucket>/<results_prefix>``.
        self.results_s3_uri = results_uri if results_uri.endswith("/") else f"{results_uri}/"
        stack = Stack.of(self)
        #: ARN of the workgroup, for IAM policies.
        self.workgroup_arn = stack.format_arn(
            service="athena", resource="workgroup", resource_name=workgroup_name
        )
        #: The L1 resource, as an escape hatch (also ``node.default_child``).
        self.resource = athena.CfnWorkGroup(
            self,
            "Resource",
            name=workgroup_name,
            description=description
            or "Point-in-time queries of the Feature Store offline store; results are "
            "SSE-KMS encrypted in the data lake's curated zone",
            state="ENABLED",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                requester_pays_enabled=False,
                bytes_scanned_cutoff_per_query=cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=_ENGINE_VERSION
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self.results_s3_uri,
                    expected_bucket_owner=stack.account,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self.key.key_arn
                    ),
                ),
            ),
        )
        self.resource.apply_removal_policy(removal_policy)
        if results_expiration is not None:
            data_lake.bucket(Zone.CURATED).add_lifecycle_rule(
                id=f"ExpireAthenaResults-{workgroup_name}",
                prefix=self.results_prefix,
                expiration=results_expiration,
                noncurrent_version_expiration=Duration.days(1),
            )

    def grant_query(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` run queries in this workgroup and read and write its results.

        Reading a table needs grants on the table too
        (:meth:`FeatureGroup.grant_query_offline`).
        """
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=_QUERY_ACTIONS, resource_arns=[self.workgroup_arn]
        )
        grant = grant.combine(
            self.data_lake.grant_read_write(grantee, Zone.CURATED, self.results_prefix)
        )
        if self.key is not self.data_lake.key:
            grant = grant.combine(
                iam.Grant.add_to_principal(
                    grantee=grantee,
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resource_arns=[self.key.key_arn],
                )
            )
        return grant


def _check_cutoff(errors: ValidationErrors, cutoff: Size) -> int | None:
    if not isinstance(cutoff, Size):
        errors.add(
            f"bytes_scanned_cutoff must be a Size such as Size.gibibytes(10), got {cutoff!r}"
        )
        return None
    try:
        raw = cutoff.to_bytes()
    except Exception:  # jsii raises a plain Error for fractional conversions
        errors.add(f"bytes_scanned_cutoff must be a whole number of bytes, got {cutoff}")
        return None
    if Token.is_unresolved(raw):
        return int(raw)
    value = int(raw)
    if not MIN_BYTES_SCANNED_CUTOFF <= value <= _MAX_BYTES_SCANNED_CUTOFF:
        errors.add(
            f"bytes_scanned_cutoff must be from {MIN_BYTES_SCANNED_CUTOFF} bytes (10 MB) to "
            f"{_MAX_BYTES_SCANNED_CUTOFF} bytes, got {value} bytes"
        )
    return value

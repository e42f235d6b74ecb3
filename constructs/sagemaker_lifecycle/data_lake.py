"""KMS-encrypted S3 zones for the ML lifecycle."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from types import MappingProxyType

from aws_cdk import Duration, RemovalPolicy, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from sagemaker_lifecycle._internal.nag import (
    acknowledge_each,
    acknowledge_grant_wildcards,
    in_all_packs,
)
from sagemaker_lifecycle._internal.validation import ValidationErrors, whole_days


class Zone(enum.Enum):
    """A data-lake zone: one bucket per stage of the data's life."""

    RAW = "raw"
    """Data as it arrives, before any processing."""
    CURATED = "curated"
    """Processed training data and the Feature Store offline store."""
    ARTIFACTS = "artifacts"
    """Model artifacts, pipeline definitions, checkpoints, evaluation reports."""
    CAPTURE = "capture"
    """Endpoint data capture (requests and responses) and ground truth."""
    MONITORING = "monitoring"
    """Monitoring baselines, reports and violations."""


_BUCKET_IDS: Mapping[Zone, str] = MappingProxyType(
    {
        Zone.RAW: "RawBucket",
        Zone.CURATED: "CuratedBucket",
        Zone.ARTIFACTS: "ArtifactsBucket",
        Zone.CAPTURE: "CaptureBucket",
        Zone.MONITORING: "MonitoringBucket",
    }
)

# S3 object keys may hold almost anything, but a prefix we turn into an IAM resource must
# not contain wildcards or path tricks that would widen the grant.
_PREFIX = re.compile(r"^[A-Za-z0-9!_.'()=-]+(?:/[A-Za-z0-9!_.'()=-]+)*/?$")

_REPLICATION_REASON = (
    "Cross-region replication is a disaster-recovery choice that needs a bucket in a second "
    "region the platform team owns; every bucket here is versioned and retained on stack "
    "deletion, which covers accidental deletion and overwrite."
)


class DataLake(Construct):
    """KMS-encrypted S3 zones for the ML lifecycle, with a server-access-log bucket.

    One customer-managed key (rotation on, retained) encrypts every zone bucket. Every
    bucket is TLS-only (TLS 1.2 or newer), blocks public access, enforces bucket-owner object
    ownership, is versioned, expires noncurrent versions, aborts incomplete multipart
    uploads and is retained when the stack is deleted. Access to a zone goes through
    :meth:`grant_read` and :meth:`grant_write`, scoped to a key prefix.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        key: kms.IKey | None = None,
        noncurrent_version_expiration: Duration = Duration.days(90),
        abort_incomplete_multipart_upload_after: Duration = Duration.days(7),
        capture_expiration: Duration | None = None,
        access_log_expiration: Duration = Duration.days(365),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param key: KMS key for every zone bucket. Default: a new key with rotation on,
            retained on stack deletion.
        :param noncurrent_version_expiration: how long an overwritten or deleted object
            version is kept. Default: 90 days.
        :param abort_incomplete_multipart_upload_after: when unfinished multipart uploads are
            cleaned up (they are billed). Default: 7 days.
        :param capture_expiration: when captured inference data expires. Captured requests
            may hold personal data, so set this to your retention policy. Default: kept.
        :param access_log_expiration: how long server access logs are kept. Default: 365 days.
        :param removal_policy: what happens to the buckets and key when the stack is
            deleted. Default: RETAIN, since they hold data.
        """
        super().__init__(scope, id)
        errors = ValidationErrors("DataLake")
        whole_days(errors, "noncurrent_version_expiration", noncurrent_version_expiration)
        whole_days(
            errors,
            "abort_incomplete_multipart_upload_after",
            abort_incomplete_multipart_upload_after,
        )
        if capture_expiration is not None:
            whole_days(errors, "capture_expiration", capture_expiration)
        whole_days(errors, "access_log_expiration", access_log_expiration)
        errors.raise_if_any()
        # Grant log delivery through the log bucket's policy rather than ACLs, whatever the
        # app's feature flags: ACLs would need ObjectWriter ownership on the log bucket.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)

        self.key: kms.IKey = key or kms.Key(
            self,
            "Key",
            description="Encrypts the ML lifecycle data lake",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.access_log_bucket: s3.Bucket = self._access_log_bucket(
            access_log_expiration, abort_incomplete_multipart_upload_after, removal_policy
        )
        buckets: dict[Zone, s3.Bucket] = {}
        for zone, bucket_id in _BUCKET_IDS.items():
            expiration = capture_expiration if zone is Zone.CAPTURE else None
            buckets[zone] = self._zone_bucket(
                bucket_id,
                zone,
                expiration=expiration,
                noncurrent_version_expiration=noncurrent_version_expiration,
                abort_after=abort_incomplete_multipart_upload_after,
                removal_policy=removal_policy,
            )
        self.buckets: Mapping[Zone, s3.Bucket] = MappingProxyType(buckets)
        self.raw_bucket = buckets[Zone.RAW]
        self.curated_bucket = buckets[Zone.CURATED]
        self.artifacts_bucket = buckets[Zone.ARTIFACTS]
        self.capture_bucket = buckets[Zone.CAPTURE]
        self.monitoring_bucket = buckets[Zone.MONITORING]

    def bucket(self, zone: Zone) -> s3.Bucket:
        """The bucket that holds ``zone``."""
        return self.buckets[zone]

    def s3_uri(self, zone: Zone, prefix: str = "") -> str:
        """``s3://<bucket>/<prefix>`` for ``zone``, for job inputs and outputs."""
        key = _validated_prefix(prefix) if prefix else ""
        return f"s3://{self.bucket(zone).bucket_name}/{key}"

    def grant_read(
        self, grantee: iam.IGrantable, zone: Zone, prefix: str | None = None
    ) -> iam.Grant:
        """Let ``grantee`` read objects of ``zone`` under ``prefix`` (and decrypt them).

        :param prefix: key prefix such as ``"features/churn/"``. Default: the whole zone.
        """
        return self._grant(grantee, zone, prefix, read=True, write=False)

    def grant_write(
        self, grantee: iam.IGrantable, zone: Zone, prefix: str | None = None
    ) -> iam.Grant:
        """Let ``grantee`` write and delete objects of ``zone`` under ``prefix``.

        :param prefix: key prefix such as ``"models/churn/"``. Default: the whole zone.
        """
        return self._grant(grantee, zone, prefix, read=False, write=True)

    def grant_read_write(
        self, grantee: iam.IGrantable, zone: Zone, prefix: str | None = None
    ) -> iam.Grant:
        """Both :meth:`grant_read` and :meth:`grant_write` on ``zone`` under ``prefix``."""
        return self._grant(grantee, zone, prefix, read=True, write=True)

    def _grant(
        self, grantee: iam.IGrantable, zone: Zone, prefix: str | None, *, read: bool, write: bool
    ) -> iam.Grant:
        bucket = self.bucket(zone)
        pattern = _objects_pattern(prefix)
        if read and write:
            grant = bucket.grant_read_write(grantee, pattern)
        elif write:
            grant = bucket.grant_write(grantee, pattern)
        else:
            grant = bucket.grant_read(grantee, pattern)
        # The bucket's grant also gives the key actions below on the lake key; they are
        # listed here only so their action wildcards are acknowledged with the grant.
        key_actions = ["kms:Decrypt"] if read else []
        if write:
            key_actions += ["kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
        key_statement = iam.PolicyStatement(actions=key_actions, resources=[self.key.key_arn])
        acknowledge_grant_wildcards(
            grantee,
            [*grant.principal_statements, key_statement],
            f"Data lake {zone.value} zone, keys under '{pattern}': S3 offers no resource finer "
            "than a key prefix, and the action wildcards are CDK's S3 and KMS "
            "read/write action groups for one bucket and its key.",
        )
        return grant

    def _zone_bucket(
        self,
        bucket_id: str,
        zone: Zone,
        *,
        expiration: Duration | None,
        noncurrent_version_expiration: Duration,
        abort_after: Duration,
        removal_policy: RemovalPolicy,
    ) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            bucket_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            # One data key per bucket instead of one KMS call per object: same protection,
            # a fraction of the KMS request cost.
            bucket_key_enabled=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix=f"{zone.value}/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireNoncurrentVersions",
                    noncurrent_version_expiration=noncurrent_version_expiration,
                    abort_incomplete_multipart_upload_after=abort_after,
                    expiration=expiration,
                    expired_object_delete_marker=None if expiration else True,
                )
            ],
            removal_policy=removal_policy,
        )
        acknowledge_each(bucket, in_all_packs("S3BucketReplicationEnabled"), _REPLICATION_REASON)
        return bucket

    def _access_log_bucket(
        self, expiration: Duration, abort_after: Duration, removal_policy: RemovalPolicy
    ) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogBucket",
            # S3 server access log delivery only supports SSE-S3 on the target bucket; a
            # KMS default key makes delivery fail silently.
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=expiration,
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=abort_after,
                )
            ],
            removal_policy=removal_policy,
        )
        acknowledge_each(
            bucket,
            in_all_packs("S3DefaultEncryptionKMS"),
            "S3 server access log delivery supports only SSE-S3 on the target bucket; "
            "this bucket holds access logs only, never training or inference data.",
        )
        acknowledge_each(
            bucket,
            in_all_packs("S3BucketLoggingEnabled", "S1"),
            "This is the server-access-log target bucket; logging it into itself would loop "
            "and logging it elsewhere needs yet another bucket.",
        )
        acknowledge_each(bucket, in_all_packs("S3BucketReplicationEnabled"), _REPLICATION_REASON)
        return bucket


def _validated_prefix(prefix: str) -> str:
    if Token.is_unresolved(prefix):
        return prefix
    if not _PREFIX.match(prefix) or {".", ".."} & set(prefix.split("/")):
        raise ValueError(
            f"prefix must be a relative S3 key prefix of letters, digits and !_.'()=- "
            f"separated by '/', without wildcards, '.' or '..' segments, got {prefix!r}"
        )
    return prefix


def _objects_pattern(prefix: str | None) -> str:
    if prefix is None:
        return "*"
    return f"{_validated_prefix(prefix).rstrip('/')}/*"

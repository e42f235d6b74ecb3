"""Where a pipeline reads and writes in the data lake: a zone and a key prefix."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_iam as iam

from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.pipelines.expressions import ExecutionVariables, Join


@dataclass(frozen=True)
class LakeLocation:
    """A key prefix in one zone of a :class:`~sagemaker_lifecycle.DataLake`.

    Jobs that read or write a ``LakeLocation`` get exactly that access: the step grants its
    job role read (inputs) or write (outputs) on ``<zone>/<prefix>*`` and nothing else.

    :param data_lake: the lake.
    :param zone: the zone (bucket).
    :param prefix: key prefix such as ``"churn/training/"`` (no wildcards, no ``..``).
    """

    data_lake: DataLake
    zone: Zone
    prefix: str

    def __post_init__(self) -> None:
        if not self.prefix.strip("/"):
            raise ValueError(
                "LakeLocation prefix must name a folder such as 'churn/training/', got "
                f"{self.prefix!r}: jobs never get a whole zone"
            )
        self.data_lake.s3_uri(self.zone, self.prefix)  # raises ValueError on a bad prefix

    @property
    def key_prefix(self) -> str:
        """The prefix without a trailing slash."""
        return self.prefix.strip("/")

    @property
    def uri(self) -> str:
        """``s3://<bucket>/<prefix>`` (no trailing slash)."""
        return self.data_lake.s3_uri(self.zone, self.key_prefix)

    def child(self, suffix: str) -> LakeLocation:
        """The location ``<prefix>/<suffix>`` in the same zone."""
        return LakeLocation(self.data_lake, self.zone, f"{self.key_prefix}/{suffix.strip('/')}")

    def execution_uri(self, *parts: str) -> Join:
        """``s3://<bucket>/<prefix>/<execution id>/<parts>``: a folder of its own for every
        pipeline execution, so one run never overwrites another."""
        return Join("/", [self.uri, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read (and decrypt) objects under the prefix."""
        return self.data_lake.grant_read(grantee, self.zone, self.key_prefix)

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Write (and encrypt) objects under the prefix."""
        return self.data_lake.grant_write(grantee, self.zone, self.key_prefix)

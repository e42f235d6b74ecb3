"""Online store, offline store and throughput options of a feature group."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_kms as kms


class StorageType(enum.Enum):
    """Online store tier (``OnlineStoreConfig.StorageType``).

    The API also has ``Standard_V2``; CloudFormation's resource schema allows only these two.
    """

    STANDARD = "Standard"
    """Managed low-latency store; billed per request (on demand) or per provisioned unit."""
    IN_MEMORY = "InMemory"
    """ElastiCache-backed tier for very low latency; supports collection types, not
    provisioned throughput."""


class TableFormat(enum.Enum):
    """Format of the offline store's table (``OfflineStoreConfig.TableFormat``)."""

    ICEBERG = "Iceberg"
    """Apache Iceberg: compaction, snapshot time travel and efficient point-in-time reads."""
    GLUE = "Glue"
    """Plain Parquet files under a Glue (Hive) table."""


class ThroughputMode(enum.Enum):
    """How the feature group is billed and throttled (``ThroughputConfig.ThroughputMode``)."""

    ON_DEMAND = "OnDemand"
    """Pay per read and write request; scales with the workload."""
    PROVISIONED = "Provisioned"
    """Pay for fixed read and write capacity units; requests above them are throttled."""


@dataclass(frozen=True)
class OnlineStore:
    """The low-latency store that serves the latest record per id.

    :param storage_type: the tier. Default: ``StorageType.STANDARD``.
    :param ttl: records are hard-deleted from the online store this long after their event
        time (whole seconds, at least one). Default: kept until overwritten.
    :param key: KMS key (symmetric) that encrypts the online store. Default: the feature
        group's key.
    """

    storage_type: StorageType = StorageType.STANDARD
    ttl: Duration | None = None
    key: kms.IKey | None = None


@dataclass(frozen=True)
class OfflineStore:
    """The historical store in the data lake's curated zone, queryable with Athena.

    :param table_format: ``ICEBERG`` or ``GLUE``. Default: ``TableFormat.ICEBERG``.
    :param prefix: S3 key prefix in the curated zone. Default:
        ``feature-store/<feature_group_name>/``.
    :param database: Glue database of the table (lower-case letters, digits, ``_``).
        Default: ``sagemaker_featurestore``, the database Feature Store itself uses.
    :param table_name: Glue table name (lower-case letters, digits, ``_``). Default: the
        group name in lower case with ``-`` replaced by ``_``.
    :param create_table: let Feature Store create the Glue table. Turning it off
        (``DisableGlueTableCreation``) means you manage the table; Iceberg requires it on.
        Default: true.
    """

    table_format: TableFormat = TableFormat.ICEBERG
    prefix: str | None = None
    database: str = "sagemaker_featurestore"
    table_name: str | None = None
    create_table: bool = True


@dataclass(frozen=True)
class Throughput:
    """Throughput mode and, for provisioned mode, capacity units.

    Use :meth:`on_demand` or :meth:`provisioned`.

    :param mode: the throughput mode. Default: ``ThroughputMode.ON_DEMAND``.
    :param read_units: provisioned read capacity units (only with an online store).
        Default: none.
    :param write_units: provisioned write capacity units. Default: none.
    """

    mode: ThroughputMode = ThroughputMode.ON_DEMAND
    read_units: int | None = None
    write_units: int | None = None

    @classmethod
    def on_demand(cls) -> Throughput:
        """Pay per request."""
        return cls(ThroughputMode.ON_DEMAND)

    @classmethod
    def provisioned(cls, *, write_units: int, read_units: int | None = None) -> Throughput:
        """Fixed capacity: ``read_units`` only apply when the group has an online store."""
        return cls(ThroughputMode.PROVISIONED, read_units=read_units, write_units=write_units)

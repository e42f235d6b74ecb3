"""SageMaker Feature Store: feature groups, an Athena workgroup and point-in-time SQL.

:class:`FeatureGroup` declares a feature group from typed :class:`Feature` definitions with
a KMS-encrypted online store and an offline store in the data lake;
:class:`OfflineQueryWorkgroup` is the Athena workgroup that queries it; the builders of
:mod:`~sagemaker_lifecycle.feature_store.time_travel` write the point-in-time SQL.
"""

from sagemaker_lifecycle.feature_store.feature_group import FeatureGroup
from sagemaker_lifecycle.feature_store.features import (
    MAX_FEATURES,
    RESERVED_FEATURE_NAMES,
    CollectionType,
    Feature,
    FeatureType,
)
from sagemaker_lifecycle.feature_store.offline_query import (
    MIN_BYTES_SCANNED_CUTOFF,
    OfflineQueryWorkgroup,
)
from sagemaker_lifecycle.feature_store.stores import (
    OfflineStore,
    OnlineStore,
    StorageType,
    TableFormat,
    Throughput,
    ThroughputMode,
)
from sagemaker_lifecycle.feature_store.time_travel import (
    MAX_QUERY_BYTES,
    EntityTable,
    EventTimeFormat,
    FeatureJoin,
    OfflineTable,
    describe_offline_table,
    latest_records_sql,
    point_in_time_join_sql,
)

__all__ = [
    "MAX_FEATURES",
    "MAX_QUERY_BYTES",
    "MIN_BYTES_SCANNED_CUTOFF",
    "RESERVED_FEATURE_NAMES",
    "CollectionType",
    "EntityTable",
    "EventTimeFormat",
    "Feature",
    "FeatureGroup",
    "FeatureJoin",
    "FeatureType",
    "OfflineQueryWorkgroup",
    "OfflineStore",
    "OfflineTable",
    "OnlineStore",
    "StorageType",
    "TableFormat",
    "Throughput",
    "ThroughputMode",
    "describe_offline_table",
    "latest_records_sql",
    "point_in_time_join_sql",
]

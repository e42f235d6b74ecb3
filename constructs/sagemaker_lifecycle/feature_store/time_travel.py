"""Point-in-time SQL over the Feature Store offline store, for Amazon Athena.

The offline store keeps every version of every record: one row per ``PutRecord`` (and per
``DeleteRecord``, with ``is_deleted`` true), with the feature group's event-time feature and
two columns Feature Store adds, ``write_time`` (when the row reached the offline store) and
``api_invocation_time`` (when the API call was made). The builders here turn that history
into the state of each record at a point in time:

- only versions whose event time is at or before the point in time count;
- the latest event time wins, ties on event time go to the latest ``write_time`` (then the
  latest ``api_invocation_time``), so a re-sent or corrected record replaces the first one;
- when the winning version is a deletion, the record does not exist at that time (an older
  version must not resurface);
- ``written_before`` optionally ignores versions that reached the store later, so a training
  set can be rebuilt exactly as it could have been built at that moment.

The SQL is Athena (Trino) SQL. Event times are compared as Unix epoch seconds, through
``from_iso8601_timestamp`` for ISO-8601 strings and ``to_unixtime`` for timestamps.
Identifiers are validated against a strict pattern and double-quoted, never escaped, so no
value given to a builder can change the shape of a query. Nothing here needs the CDK.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sagemaker_lifecycle.feature_store.features import FeatureType

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

#: Athena rejects query strings longer than this many UTF-8 bytes (a fixed quota).
MAX_QUERY_BYTES = 262_144

# Glue lower-cases names; we accept the characters Feature Store and Glue produce (letters,
# digits, '_' and '-') and nothing that could end a quoted identifier or start a comment.
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$")
# Our own aliases start with this; user columns may not, so they can never collide.
_INTERNAL = "_pit_"


class EventTimeFormat(enum.Enum):
    """How a column holds event times, and so how it is turned into epoch seconds."""

    ISO8601 = "iso8601"
    """ISO-8601 strings such as ``2024-05-01T12:00:00Z`` (a String event-time feature)."""
    EPOCH_SECONDS = "epoch_seconds"
    """Unix epoch seconds as a number (a Fractional event-time feature)."""
    TIMESTAMP = "timestamp"
    """A SQL ``timestamp`` column, in UTC (typical for an entity table)."""

    @classmethod
    def of(cls, feature_type: FeatureType) -> EventTimeFormat:
        """The format of an event-time feature of ``feature_type``."""
        if feature_type is FeatureType.STRING:
            return cls.ISO8601
        if feature_type is FeatureType.FRACTIONAL:
            return cls.EPOCH_SECONDS
        raise ValueError(
            f"an event-time feature must be String or Fractional, got {feature_type!r}"
        )


@dataclass(frozen=True)
class OfflineTable:
    """Where and how a feature group's offline store is queried.

    :class:`~sagemaker_lifecycle.FeatureGroup` exposes one as ``offline_table``; at run time
    build one with :func:`describe_offline_table`.

    :param database: Glue database of the offline store table.
    :param table: Glue table name.
    :param record_identifier: the record identifier feature.
    :param event_time: the event-time feature.
    :param event_time_format: ``ISO8601`` (String feature) or ``EPOCH_SECONDS`` (Fractional).
    :param features: every feature of the group, including the two above.
    """

    database: str
    table: str
    record_identifier: str
    event_time: str
    event_time_format: EventTimeFormat
    features: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        for prop in ("database", "table", "record_identifier", "event_time"):
            _check_identifier(f"OfflineTable.{prop}", getattr(self, prop))
        for index, name in enumerate(self.features):
            _check_identifier(f"OfflineTable.features[{index}]", name)
            if name.lower().startswith(_INTERNAL):
                raise ValueError(
                    f"OfflineTable.features[{index}] {name!r} must not start with {_INTERNAL!r}"
                )
        if not isinstance(self.event_time_format, EventTimeFormat) or (
            self.event_time_format is EventTimeFormat.TIMESTAMP
        ):
            raise ValueError(
                "OfflineTable.event_time_format must be EventTimeFormat.ISO8601 or "
                f"EventTimeFormat.EPOCH_SECONDS, got {self.event_time_format!r}"
            )
        names = [n.lower() for n in self.features]
        _check_unique("OfflineTable.features", names)
        for prop in ("record_identifier", "event_time"):
            value = getattr(self, prop)
            if value.lower() not in names:
                raise ValueError(
                    f"OfflineTable.{prop} {value!r} must be one of the features {self.features}"
                )

    @classmethod
    def from_description(cls, description: Mapping[str, Any]) -> OfflineTable:
        """Build from a ``DescribeFeatureGroup`` response."""
        catalog = description.get("OfflineStoreConfig", {}).get("DataCatalogConfig")
        name = description.get("FeatureGroupName", "?")
        if not catalog:
            raise ValueError(
                f"feature group {name!r} has no offline store Glue table (DataCatalogConfig)"
            )
        definitions = {
            d["FeatureName"]: FeatureType(d["FeatureType"])
            for d in description["FeatureDefinitions"]
        }
        event_time = description["EventTimeFeatureName"]
        return cls(
            database=catalog["Database"],
            table=catalog["TableName"],
            record_identifier=description["RecordIdentifierFeatureName"],
            event_time=event_time,
            event_time_format=EventTimeFormat.of(definitions[event_time]),
            features=tuple(definitions),
        )

    @property
    def qualified_name(self) -> str:
        """``"database"."table"``, quoted for Athena."""
        return f"{_quote(self.database)}.{_quote(self.table)}"


def describe_offline_table(client: SageMakerClient, feature_group_name: str) -> OfflineTable:
    """The :class:`OfflineTable` of a deployed feature group (``DescribeFeatureGroup``)."""
    description = client.describe_feature_group(FeatureGroupName=feature_group_name)
    return OfflineTable.from_description(description)


@dataclass(frozen=True)
class EntityTable:
    """The rows to enrich with features: ids and the time each row's prediction is made.

    :param table: table name (for example a CTAS of the labelled events).
    :param event_time: column holding each row's point in time.
    :param database: its database. Default: the query's current database.
    :param event_time_format: how ``event_time`` is stored. Default: ``TIMESTAMP``.
    :param columns: entity columns to keep in the output, in order. Default: the event-time
        column and every join key.
    """

    table: str
    event_time: str
    database: str | None = None
    event_time_format: EventTimeFormat = EventTimeFormat.TIMESTAMP
    columns: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        _check_identifier("EntityTable.table", self.table)
        _check_identifier("EntityTable.event_time", self.event_time)
        if self.database is not None:
            _check_identifier("EntityTable.database", self.database)
        for index, column in enumerate(self.columns):
            _check_identifier(f"EntityTable.columns[{index}]", column)
        if not isinstance(self.event_time_format, EventTimeFormat):
            raise ValueError(
                "EntityTable.event_time_format must be an EventTimeFormat, "
                f"got {self.event_time_format!r}"
            )

    @property
    def qualified_name(self) -> str:
        table = _quote(self.table)
        return table if self.database is None else f"{_quote(self.database)}.{table}"


@dataclass(frozen=True)
class FeatureJoin:
    """One feature group joined point-in-time-correctly onto an :class:`EntityTable`.

    :param table: the group's offline table.
    :param entity_key: the entity column that holds the group's record identifier.
        Default: a column named like the record identifier.
    :param features: features to add. Default: every feature except the record identifier
        and the event time.
    :param prefix: prepended to each added column's name, to tell groups apart.
        Default: no prefix.
    """

    table: OfflineTable
    entity_key: str | None = None
    features: tuple[str, ...] | None = None
    prefix: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.table, OfflineTable):
            raise ValueError(f"FeatureJoin.table must be an OfflineTable, got {self.table!r}")
        if self.entity_key is not None:
            _check_identifier("FeatureJoin.entity_key", self.entity_key)
        if self.features is not None:
            object.__setattr__(self, "features", tuple(self.features))
            known = {f.lower() for f in self.table.features}
            for index, name in enumerate(self.features):
                _check_identifier(f"FeatureJoin.features[{index}]", name)
                if name.lower() not in known:
                    raise ValueError(
                        f"FeatureJoin.features[{index}] {name!r} is not a feature of "
                        f"{self.table.qualified_name}: {self.table.features}"
                    )
        if self.prefix and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_]{0,62}", self.prefix):
            raise ValueError(
                "FeatureJoin.prefix must be up to 63 letters, digits and '_', starting with a "
                f"letter or digit, got {self.prefix!r}"
            )

    @property
    def key(self) -> str:
        return self.entity_key or self.table.record_identifier

    @property
    def selected(self) -> tuple[str, ...]:
        if self.features is not None:
            return self.features
        special = {self.table.record_identifier.lower(), self.table.event_time.lower()}
        return tuple(f for f in self.table.features if f.lower() not in special)


def latest_records_sql(
    table: OfflineTable,
    *,
    as_of: datetime,
    written_before: datetime | None = None,
    features: Sequence[str] | None = None,
) -> str:
    """SQL for the latest version of every record as of ``as_of`` (event time).

    Records whose latest version at ``as_of`` is a deletion are left out, and versions with
    a later event time are ignored.

    :param as_of: the point in time (timezone-aware).
    :param written_before: also ignore versions written to the offline store at or after
        this time (timezone-aware), to reproduce what could be read then. Default: every
        version written so far.
    :param features: columns to return after the record identifier. Default: every feature.
    """
    as_of_epoch = _epoch_literal("as_of", as_of)
    columns = _columns_of(table, features)
    event = _epoch_expression(_quote(table.event_time), table.event_time_format)
    conditions = [f"{event} <= {as_of_epoch}"]
    if written_before is not None:
        cutoff = _epoch_literal("written_before", written_before)
        conditions.append(f'to_unixtime("write_time") < {cutoff}')
    listed = ", ".join(_quote(c) for c in columns)
    where = " AND ".join(conditions)
    sql = f"""SELECT {listed}
FROM (
    SELECT {listed},
        COALESCE("is_deleted", FALSE) AS "{_INTERNAL}deleted",
        ROW_NUMBER() OVER (
            PARTITION BY {_quote(table.record_identifier)}
            ORDER BY {event} DESC NULLS LAST,
                "write_time" DESC NULLS LAST,
                "api_invocation_time" DESC NULLS LAST
        ) AS "{_INTERNAL}rank"
    FROM {table.qualified_name}
    WHERE {where}
) AS "{_INTERNAL}latest"
WHERE "{_INTERNAL}rank" = 1 AND NOT "{_INTERNAL}deleted"
"""
    return _checked_length(sql)


def point_in_time_join_sql(
    entities: EntityTable,
    joins: Sequence[FeatureJoin | OfflineTable],
    *,
    written_before: datetime | None = None,
) -> str:
    """SQL that adds to each entity row the features as they were at that row's time.

    For every entity row and every joined group, the group's latest version of the record
    named by the row's key with an event time at or before the row's event time is used;
    when that version is a deletion, or there is none, the features are NULL. Every entity
    row appears exactly once, in no particular order.

    :param entities: the rows to enrich.
    :param joins: the feature groups (an :class:`OfflineTable` joins all its features on a
        column named like its record identifier).
    :param written_before: ignore feature versions written at or after this time
        (timezone-aware). Default: every version written so far.
    """
    if not isinstance(entities, EntityTable):
        raise ValueError(f"entities must be an EntityTable, got {entities!r}")
    plans = [j if isinstance(j, FeatureJoin) else FeatureJoin(j) for j in joins]
    if not plans:
        raise ValueError("joins must name at least one feature group")
    cutoff = None if written_before is None else _epoch_literal("written_before", written_before)
    keep = entities.columns or tuple(dict.fromkeys([entities.event_time, *(p.key for p in plans)]))
    outputs = [c.lower() for c in keep]
    for plan in plans:
        outputs += [f"{plan.prefix}{name}".lower() for name in plan.selected]
    _check_unique("output columns (entity columns and prefixed features)", outputs)
    for column in keep:
        if column.lower().startswith(_INTERNAL):
            raise ValueError(f"EntityTable.columns {column!r} must not start with {_INTERNAL!r}")

    entity_time = _epoch_expression(
        f'"e".{_quote(entities.event_time)}', entities.event_time_format
    )
    ctes = [
        _group_cte(index, plan, entities, cutoff, entities.event_time_format)
        for index, plan in enumerate(plans)
    ]
    select = [f'"e".{_quote(c)}' for c in keep]
    joined = []
    for index, plan in enumerate(plans):
        alias = f'"{_INTERNAL}g{index}"'
        select += [
            f"{alias}.{_quote(name)} AS {_quote(plan.prefix + name)}" for name in plan.selected
        ]
        joined.append(
            f'LEFT JOIN "{_INTERNAL}group{index}" AS {alias}\n'
            f'    ON {alias}."{_INTERNAL}key" = "e".{_quote(plan.key)}\n'
            f'    AND {alias}."{_INTERNAL}time" = {entity_time}\n'
            f'    AND {alias}."{_INTERNAL}rank" = 1\n'
            f'    AND NOT {alias}."{_INTERNAL}deleted"'
        )
    sql = (
        "WITH "
        + ",\n".join(ctes)
        + "\nSELECT "
        + ",\n    ".join(select)
        + f'\nFROM {entities.qualified_name} AS "e"\n'
        + "\n".join(joined)
    )
    return _checked_length(sql)


def _group_cte(
    index: int,
    plan: FeatureJoin,
    entities: EntityTable,
    cutoff: str | None,
    entity_format: EventTimeFormat,
) -> str:
    table = plan.table
    feature_time = _epoch_expression(f'"f".{_quote(table.event_time)}', table.event_time_format)
    key_time = _epoch_expression(_quote(entities.event_time), entity_format)
    conditions = [
        f'"f".{_quote(table.record_identifier)} = "k"."{_INTERNAL}key"',
        f'{feature_time} <= "k"."{_INTERNAL}time"',
    ]
    if cutoff is not None:
        conditions.append(f'to_unixtime("f"."write_time") < {cutoff}')
    features = "".join(f'\n        "f".{_quote(name)},' for name in plan.selected)
    on = "\n        AND ".join(conditions)
    # Distinct (key, time) pairs: the window runs once per pair, not once per entity row,
    # and rows that share a pair share the result when joined back.
    return f""""{_INTERNAL}group{index}" AS (
    SELECT "k"."{_INTERNAL}key", "k"."{_INTERNAL}time",{features}
        COALESCE("f"."is_deleted", FALSE) AS "{_INTERNAL}deleted",
        ROW_NUMBER() OVER (
            PARTITION BY "k"."{_INTERNAL}key", "k"."{_INTERNAL}time"
            ORDER BY {feature_time} DESC NULLS LAST,
                "f"."write_time" DESC NULLS LAST,
                "f"."api_invocation_time" DESC NULLS LAST
        ) AS "{_INTERNAL}rank"
    FROM (
        SELECT DISTINCT {_quote(plan.key)} AS "{_INTERNAL}key", {key_time} AS "{_INTERNAL}time"
        FROM {entities.qualified_name}
    ) AS "k"
    JOIN {table.qualified_name} AS "f"
        ON {on}
)"""


def _columns_of(table: OfflineTable, features: Sequence[str] | None) -> list[str]:
    if features is None:
        return list(table.features)
    known = {f.lower() for f in table.features}
    columns = [table.record_identifier]
    for index, name in enumerate(features):
        _check_identifier(f"features[{index}]", name)
        if name.lower() not in known:
            raise ValueError(
                f"features[{index}] {name!r} is not a feature of {table.qualified_name}: "
                f"{table.features}"
            )
        if name.lower() != table.record_identifier.lower():
            columns.append(name)
    _check_unique("features", [c.lower() for c in columns])
    return columns


def _epoch_expression(column: str, event_format: EventTimeFormat) -> str:
    if event_format is EventTimeFormat.ISO8601:
        return f"to_unixtime(from_iso8601_timestamp({column}))"
    if event_format is EventTimeFormat.EPOCH_SECONDS:
        return f"CAST({column} AS DOUBLE)"
    return f"to_unixtime({column})"


def _epoch_literal(prop: str, value: datetime) -> str:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(
            f"{prop} must be a timezone-aware datetime (for example "
            f"datetime(2024, 5, 1, tzinfo=timezone.utc)), got {value!r}"
        )
    return f"CAST({value.timestamp()!r} AS DOUBLE)"


def _check_identifier(prop: str, value: object) -> None:
    if not isinstance(value, str) or not _IDENTIFIER.match(value):
        raise ValueError(
            f"{prop} must be 1 to 255 letters, digits, '_' and '-' (starting with a letter, "
            f"digit or '_'), got {value!r}"
        )


def _check_unique(prop: str, names: Sequence[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{prop} must be unique ignoring case, {name!r} appears twice")
        seen.add(name)


def _quote(identifier: str) -> str:
    # Only called on validated identifiers: they hold no quote to escape.
    return f'"{identifier.lower()}"'


def _checked_length(sql: str) -> str:
    size = len(sql.encode("utf-8"))
    if size > MAX_QUERY_BYTES:
        raise ValueError(
            f"the query is {size} bytes, above Athena's limit of {MAX_QUERY_BYTES}: "
            "select fewer features or split the join"
        )
    return sql

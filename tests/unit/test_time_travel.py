"""Point-in-time SQL, run on a real engine (DuckDB) over small offline-store tables.

The builders emit Athena (Trino) SQL. DuckDB runs it unchanged once the two Trino functions
it uses are defined with DuckDB's equivalents (``from_iso8601_timestamp`` -> a cast to
TIMESTAMPTZ, ``to_unixtime`` -> ``epoch``); everything that decides the result (windows,
ordering, joins, filters) is the engine's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from sagemaker_lifecycle.feature_store import (
    MAX_QUERY_BYTES,
    EntityTable,
    EventTimeFormat,
    FeatureJoin,
    FeatureType,
    OfflineTable,
    describe_offline_table,
    latest_records_sql,
    point_in_time_join_sql,
)

DATABASE = "sagemaker_featurestore"
WRONG_TYPE: Any = "2024-01-01"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    """``n`` days after 2024-01-01 UTC."""
    return T0 + timedelta(days=n)


@dataclass(frozen=True)
class Version:
    """One row of an offline store table: a PutRecord, or a DeleteRecord when deleted."""

    id: str
    event: datetime
    value: int | None
    written: datetime
    deleted: bool = False
    iso_millis: bool = False  # write the event time as yyyy-MM-ddTHH:mm:ss.SSSZ


def iso(moment: datetime, *, millis: bool = False) -> str:
    """Either format Feature Store accepts; a fraction of a second forces the long one."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if millis or moment.microsecond:
        return f"{text}.{moment.microsecond // 1000:03d}Z"
    return f"{text}Z"


def engine() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)")
    connection.execute("CREATE MACRO to_unixtime(t) AS epoch(t)")
    connection.execute(f"CREATE SCHEMA {DATABASE}")
    return connection


@pytest.fixture
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = engine()
    yield connection
    connection.close()


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def load(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    versions: Sequence[Version],
    *,
    key: str = "customer_id",
    value: str = "calls",
    fractional: bool = False,
) -> OfflineTable:
    """Create ``table`` the way the offline store lays it out and fill it."""
    event_type = "DOUBLE" if fractional else "VARCHAR"
    connection.execute(
        f'CREATE TABLE {DATABASE}.{table} ("{key}" VARCHAR, "event_time" {event_type}, '
        f'"{value}" BIGINT, "write_time" TIMESTAMP, "api_invocation_time" TIMESTAMP, '
        '"is_deleted" BOOLEAN)'
    )
    rows = [
        [
            v.id,
            v.event.timestamp() if fractional else iso(v.event, millis=v.iso_millis),
            None if v.deleted else v.value,
            naive_utc(v.written),
            naive_utc(v.written - timedelta(seconds=30)),
            v.deleted,
        ]
        for v in versions
    ]
    if rows:
        connection.executemany(f"INSERT INTO {DATABASE}.{table} VALUES (?, ?, ?, ?, ?, ?)", rows)
    return OfflineTable(
        database=DATABASE,
        table=table,
        record_identifier=key,
        event_time="event_time",
        event_time_format=(
            EventTimeFormat.EPOCH_SECONDS if fractional else EventTimeFormat.ISO8601
        ),
        features=(key, "event_time", value),
    )


# Each customer's history tells one story; the point in time is day 5.
HISTORY = [
    # latest before T: the day-3 value wins over day 1
    Version("latest", day(1), 1, day(1)),
    Version("latest", day(3), 3, day(3)),
    # after T: the day-6 version does not exist yet at day 5
    Version("future", day(2), 20, day(2)),
    Version("future", day(6), 60, day(6)),
    # deleted before T: gone
    Version("deleted", day(1), 10, day(1)),
    Version("deleted", day(4), None, day(4), deleted=True),
    # deleted after T: still there at day 5, with the value before the deletion
    Version("deleted_later", day(2), 22, day(2)),
    Version("deleted_later", day(7), None, day(7), deleted=True),
    # deleted, then written again before T: back
    Version("revived", day(1), 11, day(1)),
    Version("revived", day(2), None, day(2), deleted=True),
    Version("revived", day(3), 33, day(3)),
    # same event time written twice (a correction): the later write wins, in either
    # ISO-8601 spelling of the same instant
    Version("tie", day(2), 200, day(2)),
    Version("tie", day(2), 201, day(2.5), iso_millis=True),
    # a deletion with the same event time as the record it deletes wins when written later
    Version("tie_deleted", day(3), 300, day(3)),
    Version("tie_deleted", day(3), None, day(3.1), deleted=True),
    # late: the day-4 event only reached the store on day 9
    Version("late", day(1), 1, day(1)),
    Version("late", day(4), 4, day(9)),
]


def latest(
    connection: duckdb.DuckDBPyConnection, table: OfflineTable, **kwargs: Any
) -> dict[str, int | None]:
    sql = latest_records_sql(table, features=["calls"], **kwargs)
    return {row[0]: row[1] for row in connection.execute(sql).fetchall()}


@pytest.fixture
def as_of_day_5(db: duckdb.DuckDBPyConnection) -> dict[str, int | None]:
    return latest(db, load(db, "usage", HISTORY), as_of=day(5))


def test_the_latest_value_before_the_point_in_time_is_returned(
    as_of_day_5: dict[str, int | None],
) -> None:
    assert as_of_day_5["latest"] == 3
    assert as_of_day_5["revived"] == 33


def test_versions_after_the_point_in_time_are_ignored(as_of_day_5: dict[str, int | None]) -> None:
    assert as_of_day_5["future"] == 20
    assert as_of_day_5["deleted_later"] == 22


def test_deleted_records_are_excluded(as_of_day_5: dict[str, int | None]) -> None:
    assert "deleted" not in as_of_day_5
    assert "tie_deleted" not in as_of_day_5


def test_ties_on_event_time_go_to_the_latest_write(as_of_day_5: dict[str, int | None]) -> None:
    assert as_of_day_5["tie"] == 201


def test_one_row_per_live_record(as_of_day_5: dict[str, int | None]) -> None:
    assert set(as_of_day_5) == {"latest", "future", "deleted_later", "revived", "tie", "late"}


def test_a_version_at_exactly_the_point_in_time_counts(db: duckdb.DuckDBPyConnection) -> None:
    table = load(db, "usage", HISTORY)
    assert latest(db, table, as_of=day(6))["future"] == 60
    assert latest(db, table, as_of=day(6) - timedelta(milliseconds=1))["future"] == 20


def test_late_records_count_unless_written_after_the_cutoff(db: duckdb.DuckDBPyConnection) -> None:
    table = load(db, "usage", HISTORY)
    assert latest(db, table, as_of=day(5))["late"] == 4
    # What a training job could have read on day 5: the day-4 event had not arrived.
    assert latest(db, table, as_of=day(5), written_before=day(5))["late"] == 1
    # The correction of "tie" was written on day 2.5.
    assert latest(db, table, as_of=day(5), written_before=day(2.2))["tie"] == 200


def test_fractional_event_times(db: duckdb.DuckDBPyConnection) -> None:
    table = load(db, "usage_epoch", HISTORY, fractional=True)
    assert latest(db, table, as_of=day(5)) == {
        "latest": 3,
        "future": 20,
        "deleted_later": 22,
        "revived": 33,
        "tie": 201,
        "late": 4,
    }


def test_all_features_are_returned_by_default(db: duckdb.DuckDBPyConnection) -> None:
    table = load(db, "usage", HISTORY)
    cursor = db.execute(latest_records_sql(table, as_of=day(5)))
    assert [c[0] for c in cursor.description] == ["customer_id", "event_time", "calls"]


# --- point-in-time join ---------------------------------------------------------------------


def entity_table(db: duckdb.DuckDBPyConnection, rows: Sequence[tuple[str, datetime, int]]) -> None:
    db.execute(f"CREATE TABLE {DATABASE}.labels (customer_id VARCHAR, ts TIMESTAMP, churned INT)")
    for customer, moment, label in rows:
        db.execute(
            f"INSERT INTO {DATABASE}.labels VALUES (?, ?, ?)", [customer, naive_utc(moment), label]
        )


def test_join_takes_each_rows_own_point_in_time(db: duckdb.DuckDBPyConnection) -> None:
    usage = load(db, "usage", HISTORY)
    entity_table(
        db,
        [
            ("latest", day(2), 0),
            ("latest", day(4), 1),
            ("future", day(7), 0),
            ("deleted", day(3), 0),  # before the deletion
            ("deleted", day(5), 1),  # after it
            ("tie", day(2.2), 0),  # both writes have event time day 2: the later one wins
            ("nobody", day(5), 0),  # no history at all
            ("latest", day(4), 1),  # a duplicate entity row stays a separate row
        ],
    )
    entities = EntityTable(
        "labels", "ts", database=DATABASE, columns=("customer_id", "ts", "churned")
    )
    rows = db.execute(point_in_time_join_sql(entities, [usage])).fetchall()
    assert sorted(rows) == sorted(
        [
            ("latest", naive_utc(day(2)), 0, 1),
            ("latest", naive_utc(day(4)), 1, 3),
            ("latest", naive_utc(day(4)), 1, 3),
            ("future", naive_utc(day(7)), 0, 60),
            ("deleted", naive_utc(day(3)), 0, 10),
            ("deleted", naive_utc(day(5)), 1, None),
            ("tie", naive_utc(day(2.2)), 0, 201),
            ("nobody", naive_utc(day(5)), 0, None),
        ]
    )


def test_join_of_two_groups_on_different_keys_with_prefixes(db: duckdb.DuckDBPyConnection) -> None:
    usage = load(db, "usage", HISTORY)
    billing = load(
        db,
        "billing",
        [Version("acct-1", day(1), 100, day(1)), Version("acct-1", day(3), 300, day(3))],
        key="account_id",
        value="balance",
    )
    db.execute(
        f"CREATE TABLE {DATABASE}.events (customer_id VARCHAR, account VARCHAR, seen_at VARCHAR)"
    )
    db.execute(
        f"INSERT INTO {DATABASE}.events VALUES ('latest', 'acct-1', ?), ('future', 'acct-1', ?)",
        [iso(day(2)), iso(day(6))],
    )
    entities = EntityTable(
        "events", "seen_at", database=DATABASE, event_time_format=EventTimeFormat.ISO8601
    )
    sql = point_in_time_join_sql(
        entities,
        [
            FeatureJoin(usage, prefix="usage_"),
            FeatureJoin(billing, entity_key="account", features=("balance",), prefix="billing_"),
        ],
    )
    cursor = db.execute(sql)
    assert [c[0] for c in cursor.description] == [
        "seen_at",
        "customer_id",
        "account",
        "usage_calls",
        "billing_balance",
    ]
    assert sorted(cursor.fetchall()) == sorted(
        [(iso(day(2)), "latest", "acct-1", 1, 100), (iso(day(6)), "future", "acct-1", 60, 300)]
    )


def test_join_ignores_versions_written_after_the_cutoff(db: duckdb.DuckDBPyConnection) -> None:
    usage = load(db, "usage", HISTORY)
    entity_table(db, [("late", day(5), 0)])
    entities = EntityTable("labels", "ts", database=DATABASE)
    assert db.execute(point_in_time_join_sql(entities, [usage])).fetchall()[0][-1] == 4
    sql = point_in_time_join_sql(entities, [usage], written_before=day(5))
    assert db.execute(sql).fetchall()[0][-1] == 1


def test_join_accepts_epoch_seconds_entity_times(db: duckdb.DuckDBPyConnection) -> None:
    usage = load(db, "usage", HISTORY)
    db.execute(f"CREATE TABLE {DATABASE}.scores (customer_id VARCHAR, t DOUBLE)")
    db.execute(f"INSERT INTO {DATABASE}.scores VALUES ('latest', ?)", [day(2).timestamp()])
    entities = EntityTable(
        "scores", "t", database=DATABASE, event_time_format=EventTimeFormat.EPOCH_SECONDS
    )
    assert db.execute(point_in_time_join_sql(entities, [usage])).fetchall() == [
        (day(2).timestamp(), "latest", 1)
    ]


# --- a property test against a plain-Python model of the semantics -------------------------

IDS = ["a", "b", "c"]


@st.composite
def histories(draw: st.DrawFn) -> list[Version]:
    count = draw(st.integers(min_value=0, max_value=25))
    # Distinct write times: a real store never writes two rows at the same instant, and
    # equal (event, write) pairs with different values would have no defined winner.
    writes = draw(st.lists(st.integers(0, 10_000), min_size=count, max_size=count, unique=True))
    versions = []
    for written in writes:
        event_ms = draw(st.integers(0, 20)) * 500  # half-second steps, often tied
        versions.append(
            Version(
                id=draw(st.sampled_from(IDS)),
                event=T0 + timedelta(milliseconds=event_ms),
                value=draw(st.integers(-5, 5)),
                written=T0 + timedelta(seconds=written),
                deleted=draw(st.booleans()),
                iso_millis=draw(st.booleans()),
            )
        )
    return versions


def model_latest(
    versions: Sequence[Version], key: str, as_of: datetime, written_before: datetime | None
) -> int | str | None:
    """What the record ``key`` holds at ``as_of``; ``"absent"`` when it does not exist."""
    candidates = [
        v
        for v in versions
        if v.id == key
        and v.event <= as_of
        and (written_before is None or v.written < written_before)
    ]
    if not candidates:
        return "absent"
    winner = max(candidates, key=lambda v: (v.event, v.written))
    return "absent" if winner.deleted else winner.value


moments = st.integers(0, 21).map(lambda n: T0 + timedelta(milliseconds=n * 500 - 250 * (n % 2)))
cutoffs = st.none() | st.integers(0, 10_001).map(lambda s: T0 + timedelta(seconds=s))


@settings(max_examples=60)
@given(versions=histories(), as_of=moments, written_before=cutoffs)
def test_latest_records_match_the_model(
    versions: list[Version], as_of: datetime, written_before: datetime | None
) -> None:
    connection = engine()
    table = load(connection, "usage", versions)
    got = latest(connection, table, as_of=as_of, written_before=written_before)
    expected = {
        key: model_latest(versions, key, as_of, written_before)
        for key in IDS
        if model_latest(versions, key, as_of, written_before) != "absent"
    }
    assert got == expected


@settings(max_examples=40)
@given(
    versions=histories(),
    rows=st.lists(st.tuples(st.sampled_from([*IDS, "z"]), moments), max_size=8),
    written_before=cutoffs,
)
def test_point_in_time_join_matches_the_model(
    versions: list[Version], rows: list[tuple[str, datetime]], written_before: datetime | None
) -> None:
    connection = engine()
    usage = load(connection, "usage", versions)
    connection.execute(f"CREATE TABLE {DATABASE}.rows (customer_id VARCHAR, ts TIMESTAMP)")
    for customer, moment in rows:
        connection.execute(
            f"INSERT INTO {DATABASE}.rows VALUES (?, ?)", [customer, naive_utc(moment)]
        )
    entities = EntityTable("rows", "ts", database=DATABASE, columns=("customer_id", "ts"))
    sql = point_in_time_join_sql(entities, [usage], written_before=written_before)
    got = sorted(connection.execute(sql).fetchall(), key=repr)
    expected = []
    for customer, moment in rows:
        value = model_latest(versions, customer, moment, written_before)
        expected.append((customer, naive_utc(moment), None if value == "absent" else value))
    assert got == sorted(expected, key=repr)


# --- safety and validation --------------------------------------------------------------------


def usage_table(**overrides: Any) -> OfflineTable:
    props: dict[str, Any] = {
        "database": DATABASE,
        "table": "usage",
        "record_identifier": "customer_id",
        "event_time": "event_time",
        "event_time_format": EventTimeFormat.ISO8601,
        "features": ("customer_id", "event_time", "calls"),
    }
    return OfflineTable(**{**props, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"table": 'usage"; DROP TABLE x; --'}, "OfflineTable.table"),
        ({"database": "db.other"}, "OfflineTable.database"),
        ({"features": ("customer_id", "event_time", "calls /* */")}, r"OfflineTable.features\[2\]"),
        ({"features": ("customer_id", "event_time", "CALLS", "calls")}, "unique ignoring case"),
        ({"record_identifier": "missing"}, "OfflineTable.record_identifier 'missing'"),
        ({"event_time_format": EventTimeFormat.TIMESTAMP}, "OfflineTable.event_time_format"),
        ({"table": ""}, "OfflineTable.table"),
        ({"features": ("customer_id", "event_time", "_pit_rank")}, "must not start with"),
    ],
)
def test_unsafe_or_inconsistent_tables_are_rejected(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        usage_table(**overrides)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: EntityTable("labels", "ts'--"), "EntityTable.event_time"),
        (lambda: EntityTable("labels", "ts", columns=("a;b",)), r"EntityTable.columns\[0\]"),
        (lambda: FeatureJoin(usage_table(), entity_key="id) OR (1=1"), "FeatureJoin.entity_key"),
        (lambda: FeatureJoin(usage_table(), features=("nope",)), "not a feature"),
        (lambda: FeatureJoin(usage_table(), prefix="bad prefix"), "FeatureJoin.prefix"),
        (
            lambda: point_in_time_join_sql(
                EntityTable("labels", "ts", columns=("customer_id", "calls")), [usage_table()]
            ),
            "output columns",
        ),
        (
            lambda: point_in_time_join_sql(
                EntityTable("labels", "ts", columns=("_pit_key",)), [usage_table()]
            ),
            "must not start with",
        ),
        (lambda: point_in_time_join_sql(EntityTable("labels", "ts"), []), "joins"),
        (
            lambda: latest_records_sql(usage_table(), as_of=datetime(2024, 1, 1)),
            "as_of must be a timezone-aware datetime",
        ),
        (
            lambda: latest_records_sql(usage_table(), as_of=day(1), written_before=WRONG_TYPE),
            "written_before must be a timezone-aware datetime",
        ),
        (lambda: latest_records_sql(usage_table(), as_of=day(1), features=["x"]), "not a feature"),
    ],
)
def test_bad_builder_input_raises_a_value_error(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_a_query_above_athenas_length_limit_is_refused() -> None:
    names = tuple(f"f{i:04d}_{'x' * 58}" for i in range(2500))
    table = usage_table(features=("customer_id", "event_time", *names))
    with pytest.raises(ValueError, match=f"above Athena's limit of {MAX_QUERY_BYTES}"):
        latest_records_sql(table, as_of=day(1))


@given(name=st.text(min_size=1, max_size=40))
def test_any_identifier_is_either_rejected_or_cannot_break_out_of_its_quotes(name: str) -> None:
    try:
        table = usage_table(table=name)
    except ValueError:
        return
    assert not {'"', ";", " "} & set(name)
    assert f'"{DATABASE}"."{name.lower()}"' in latest_records_sql(table, as_of=day(1))


def test_event_time_format_follows_the_feature_type() -> None:
    assert EventTimeFormat.of(FeatureType.STRING) is EventTimeFormat.ISO8601
    assert EventTimeFormat.of(FeatureType.FRACTIONAL) is EventTimeFormat.EPOCH_SECONDS
    with pytest.raises(ValueError, match="String or Fractional"):
        EventTimeFormat.of(FeatureType.INTEGRAL)


# --- the table of a deployed group, from DescribeFeatureGroup (moto) ------------------------


@mock_aws
def test_describe_offline_table_reads_the_groups_catalog_entry() -> None:
    client = boto3.client("sagemaker", region_name="eu-west-1")
    client.create_feature_group(
        FeatureGroupName="customer-churn",
        RecordIdentifierFeatureName="customer_id",
        EventTimeFeatureName="event_time",
        FeatureDefinitions=[
            {"FeatureName": "customer_id", "FeatureType": "String"},
            {"FeatureName": "event_time", "FeatureType": "Fractional"},
            {"FeatureName": "age", "FeatureType": "Integral"},
        ],
        OfflineStoreConfig={
            "S3StorageConfig": {"S3Uri": "s3://curated/feature-store/customer-churn/"}
        },
        RoleArn="arn:aws:iam::123456789012:role/offline-store",
    )
    # The service names the table when the request does not (customer_churn_<epoch>).
    catalog = client.describe_feature_group(FeatureGroupName="customer-churn")[
        "OfflineStoreConfig"
    ]["DataCatalogConfig"]
    table = describe_offline_table(client, "customer-churn")
    assert table == OfflineTable(
        database=catalog["Database"],
        table=catalog["TableName"],
        record_identifier="customer_id",
        event_time="event_time",
        event_time_format=EventTimeFormat.EPOCH_SECONDS,
        features=("customer_id", "event_time", "age"),
    )
    assert table.table.startswith("customer_churn_")


def test_a_description_without_an_offline_store_is_refused() -> None:
    description = {
        "FeatureGroupName": "online-only",
        "RecordIdentifierFeatureName": "id",
        "EventTimeFeatureName": "t",
        "FeatureDefinitions": [
            {"FeatureName": "id", "FeatureType": "String"},
            {"FeatureName": "t", "FeatureType": "String"},
        ],
        "OnlineStoreConfig": {"EnableOnlineStore": True},
    }
    with pytest.raises(ValueError, match="'online-only' has no offline store Glue table"):
        OfflineTable.from_description(description)
    description["OfflineStoreConfig"] = {
        "DataCatalogConfig": {"Catalog": "AwsDataCatalog", "Database": DATABASE, "TableName": "t1"}
    }
    assert OfflineTable.from_description(description).event_time_format is EventTimeFormat.ISO8601

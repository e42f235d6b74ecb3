"""FeatureGroup and OfflineQueryWorkgroup props: one test per validation error, and property
tests that random valid definitions synthesize while random invalid ones raise ValueError."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from aws_cdk import Duration, Size, Stack, Token
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import DataLake
from sagemaker_lifecycle.feature_store import (
    MAX_FEATURES,
    RESERVED_FEATURE_NAMES,
    CollectionType,
    Feature,
    FeatureGroup,
    FeatureType,
    OfflineQueryWorkgroup,
    OfflineStore,
    OnlineStore,
    StorageType,
    TableFormat,
    Throughput,
    ThroughputMode,
)
from tests.support import new_stack, resources_of_type, template_of

BASE_FEATURES = [
    Feature("customer_id", FeatureType.STRING),
    Feature("event_time", FeatureType.STRING),
    Feature("age", FeatureType.INTEGRAL),
]
_ids = itertools.count()


@pytest.fixture(scope="module")
def scope() -> tuple[Stack, DataLake]:
    """One stack for constructs that must fail validation; it is never synthesized."""
    stack = new_stack()
    return stack, DataLake(stack, "Lake")


def build(scope: tuple[Stack, DataLake], **overrides: Any) -> FeatureGroup:
    stack, lake = scope
    props: dict[str, Any] = {
        "feature_group_name": "customer-churn",
        "features": BASE_FEATURES,
        "record_identifier": "customer_id",
        "event_time": "event_time",
        "data_lake": lake,
    }
    return FeatureGroup(stack, f"Group{next(_ids)}", **{**props, **overrides})


def wrong(value: object) -> Any:
    """A value of the wrong type, as an untyped caller could pass it."""
    return value


def with_feature(*extra: Feature) -> list[Feature]:
    return [*BASE_FEATURES, *extra]


VECTOR = Feature("embedding", FeatureType.FRACTIONAL, CollectionType.VECTOR, vector_dimension=8)
IN_MEMORY = OnlineStore(storage_type=StorageType.IN_MEMORY)

INVALID_PROPS: list[tuple[str, dict[str, Any], str]] = [
    # names
    (
        "group name pattern",
        {"feature_group_name": "customer churn"},
        "feature_group_name must match",
    ),
    ("group name length", {"feature_group_name": "a" * 65}, "feature_group_name must be 1 to 64"),
    ("group name token", {"feature_group_name": Token.as_string({"Ref": "Name"})}, "plain string"),
    (
        "feature name pattern",
        {"features": with_feature(Feature("age!", FeatureType.INTEGRAL))},
        r"features\[3\].name must match",
    ),
    (
        "feature name length",
        {"features": with_feature(Feature("f" * 65, FeatureType.INTEGRAL))},
        r"features\[3\].name must be 1 to 64",
    ),
    (
        "feature name trailing hyphen",
        {"features": with_feature(Feature("age-", FeatureType.INTEGRAL))},
        r"features\[3\].name must match",
    ),
    # feature definitions
    ("no features", {"features": [], "record_identifier": "x"}, "features must hold 1 to 2500"),
    (
        "too many features",
        {
            "features": with_feature(
                *[Feature(f"f{i}", FeatureType.INTEGRAL) for i in range(MAX_FEATURES)]
            )
        },
        "features must hold 1 to 2500 definitions",
    ),
    (
        "features not a sequence",
        {"features": "customer_id"},
        "features must be a sequence of Feature",
    ),
    (
        "not a Feature",
        {"features": [*BASE_FEATURES, ("age", "Integral")]},
        r"features\[3\] must be a Feature",
    ),
    (
        "duplicate name",
        {"features": with_feature(Feature("age", FeatureType.FRACTIONAL))},
        "'age' duplicates 'age'",
    ),
    (
        "duplicate ignoring case",
        {"features": with_feature(Feature("AGE", FeatureType.FRACTIONAL))},
        "'AGE' duplicates 'age'",
    ),
    (
        "reserved name",
        {"features": with_feature(Feature("write_time", FeatureType.STRING))},
        "'write_time' is reserved",
    ),
    (
        "reserved name ignoring case",
        {"features": with_feature(Feature("Is_Deleted", FeatureType.STRING))},
        "'Is_Deleted' is reserved",
    ),
    (
        "feature type",
        {"features": with_feature(Feature("spend", wrong("Fractional")))},
        r"features\[3\].type must be one of",
    ),
    (
        "record identifier missing",
        {"record_identifier": "id"},
        "record_identifier 'id' must be the name of one of the features",
    ),
    (
        "event time missing",
        {"event_time": "ts"},
        "event_time 'ts' must be the name of one of the features",
    ),
    (
        "event time integral",
        {"event_time": "age"},
        "event_time feature 'age' must be of type String .* or Fractional",
    ),
    (
        "description length",
        {"description": "d" * 129},
        "description must be a string of at most 128",
    ),
    # collections
    (
        "collections in CloudFormation",
        {"features": with_feature(VECTOR), "online_store": IN_MEMORY},
        "CloudFormation cannot declare",
    ),
    (
        "collections need InMemory",
        {"features": with_feature(Feature("tags", FeatureType.STRING, CollectionType.SET))},
        "only allows with online_store.storage_type StorageType.IN_MEMORY",
    ),
    (
        "one vector per group",
        {
            "features": with_feature(VECTOR, replace(VECTOR, name="other")),
            "online_store": IN_MEMORY,
        },
        "at most one VECTOR",
    ),
    (
        "vector of integers",
        {
            "features": with_feature(replace(VECTOR, type=FeatureType.INTEGRAL)),
            "online_store": IN_MEMORY,
        },
        r"features\[3\].type must be FeatureType.FRACTIONAL for a VECTOR",
    ),
    (
        "vector dimension range",
        {
            "features": with_feature(replace(VECTOR, vector_dimension=8193)),
            "online_store": IN_MEMORY,
        },
        r"features\[3\].vector_dimension must be from 1 to 8192, got 8193",
    ),
    (
        "vector dimension missing",
        {
            "features": with_feature(replace(VECTOR, vector_dimension=None)),
            "online_store": IN_MEMORY,
        },
        r"vector_dimension must be an integer from 1 to 8192",
    ),
    (
        "dimension without vector",
        {"features": with_feature(Feature("n", FeatureType.FRACTIONAL, vector_dimension=3))},
        "only allowed with CollectionType.VECTOR",
    ),
    (
        "collection type",
        {"features": with_feature(Feature("n", FeatureType.STRING, wrong("List")))},
        r"features\[3\].collection_type must be one of",
    ),
    (
        "identifier collection",
        {
            "features": [
                replace(BASE_FEATURES[0], collection_type=CollectionType.LIST),
                *BASE_FEATURES[1:],
            ],
            "online_store": IN_MEMORY,
        },
        "record_identifier feature 'customer_id' must hold a single value",
    ),
    # stores
    (
        "no store",
        {"online_store": None, "offline_store": None},
        "online_store and offline_store are both None",
    ),
    ("online store type", {"online_store": True}, "online_store must be an OnlineStore or None"),
    (
        "storage type",
        {"online_store": OnlineStore(storage_type=wrong("Standard"))},
        "online_store.storage_type must be one of",
    ),
    (
        "ttl zero",
        {"online_store": OnlineStore(ttl=Duration.seconds(0))},
        "online_store.ttl must be at least 1 second",
    ),
    (
        "ttl fraction",
        {"online_store": OnlineStore(ttl=Duration.millis(1500))},
        "online_store.ttl must be a whole number of seconds",
    ),
    (
        "ttl too long",
        {"online_store": OnlineStore(ttl=Duration.seconds(2**31 + 1))},
        "32-bit integer",
    ),
    (
        "ttl type",
        {"online_store": OnlineStore(ttl=wrong(3600))},
        "online_store.ttl must be a Duration",
    ),
    ("offline without lake", {"data_lake": None}, "data_lake is required with an offline store"),
    (
        "offline store type",
        {"offline_store": "s3://bucket"},
        "offline_store must be an OfflineStore or None",
    ),
    (
        "offline prefix",
        {"offline_store": OfflineStore(prefix="../other")},
        "offline_store.prefix must be a relative S3 key prefix",
    ),
    (
        "offline prefix wildcard",
        {"offline_store": OfflineStore(prefix="feature-store/*")},
        "offline_store.prefix must be",
    ),
    (
        "table format",
        {"offline_store": OfflineStore(table_format=wrong("Iceberg"))},
        "offline_store.table_format must be one of",
    ),
    (
        "iceberg needs the table",
        {"offline_store": OfflineStore(create_table=False)},
        "offline_store.create_table must be true with TableFormat.ICEBERG",
    ),
    (
        "database name",
        {"offline_store": OfflineStore(database="Finance-DB")},
        "offline_store.database must be 1 to 255 lower-case",
    ),
    (
        "table name",
        {"offline_store": OfflineStore(table_name="churn.v2")},
        "offline_store.table_name must be 1 to 255 lower-case",
    ),
    # throughput
    ("throughput type", {"throughput": "OnDemand"}, "throughput must be Throughput.on_demand"),
    (
        "units without provisioned mode",
        {"throughput": Throughput(ThroughputMode.ON_DEMAND, write_units=5)},
        "only allowed with ThroughputMode.PROVISIONED",
    ),
    (
        "provisioned without write units",
        {"throughput": Throughput(ThroughputMode.PROVISIONED, read_units=5)},
        "throughput.write_units is required",
    ),
    (
        "write units range",
        {"throughput": Throughput.provisioned(write_units=0, read_units=1)},
        "throughput.write_units must be from 1 to 40000, got 0",
    ),
    (
        "read units range",
        {"throughput": Throughput.provisioned(write_units=1, read_units=40_001)},
        "throughput.read_units must be from 1 to 40000, got 40001",
    ),
    (
        "read units required online",
        {"throughput": Throughput.provisioned(write_units=1)},
        "throughput.read_units is required",
    ),
    (
        "read units offline only",
        {"online_store": None, "throughput": Throughput.provisioned(write_units=1, read_units=1)},
        "only applies to a group with an online store",
    ),
    (
        "provisioned in memory",
        {
            "online_store": IN_MEMORY,
            "throughput": Throughput.provisioned(write_units=1, read_units=1),
        },
        "not IN_MEMORY",
    ),
    # tags
    ("too many tags", {"tags": {f"k{i}": "v" for i in range(51)}}, "tags may hold at most 50"),
    ("tag key characters", {"tags": {"cost center!": "ml"}}, "tags keys must be 1 to 128"),
    ("tag key length", {"tags": {"k" * 129: "v"}}, "tags keys must be 1 to 128"),
    ("reserved tag prefix", {"tags": {"aws:team": "ml"}}, "reserved 'aws:' prefix"),
    ("tag value", {"tags": {"team": "ml;platform"}}, "tags values must be at most 256"),
]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [pytest.param(o, m, id=name) for name, o, m in INVALID_PROPS],
)
def test_invalid_props_are_rejected_at_synth_time(
    scope: tuple[Stack, DataLake], overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build(scope, **overrides)


def test_every_problem_is_reported_in_one_error(scope: tuple[Stack, DataLake]) -> None:
    with pytest.raises(ValueError, match="FeatureGroup: invalid props") as error:
        build(
            scope,
            feature_group_name="bad name",
            event_time="age",
            online_store=OnlineStore(ttl=Duration.seconds(0)),
            throughput=Throughput(ThroughputMode.ON_DEMAND, read_units=1),
        )
    for prop in ("feature_group_name", "event_time", "online_store.ttl", "throughput"):
        assert prop in str(error.value)


WORKGROUP_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("name pattern", {"workgroup_name": "feature store"}, "workgroup_name must match"),
    ("name length", {"workgroup_name": "w" * 129}, "workgroup_name must match"),
    (
        "results prefix",
        {"results_prefix": "athena/../raw/"},
        "results_prefix must be a relative S3 key prefix",
    ),
    (
        "cutoff minimum",
        {"bytes_scanned_cutoff": Size.mebibytes(5)},
        "bytes_scanned_cutoff must be from 10000000 bytes",
    ),
    ("cutoff type", {"bytes_scanned_cutoff": 10**9}, "bytes_scanned_cutoff must be a Size"),
    (
        "results expiration",
        {"results_expiration": Duration.hours(12)},
        "results_expiration must be a whole number of days",
    ),
    ("description", {"description": "d" * 1025}, "description must be at most 1024 characters"),
]


@pytest.mark.parametrize(
    ("overrides", "message"), [pytest.param(o, m, id=name) for name, o, m in WORKGROUP_ERRORS]
)
def test_invalid_workgroup_props_are_rejected(
    scope: tuple[Stack, DataLake], overrides: dict[str, Any], message: str
) -> None:
    stack, lake = scope
    props: dict[str, Any] = {"workgroup_name": "features", "data_lake": lake}
    with pytest.raises(ValueError, match=message):
        OfflineQueryWorkgroup(stack, f"Workgroup{next(_ids)}", **{**props, **overrides})


def test_the_smallest_cutoff_athena_allows_is_accepted(scope: tuple[Stack, DataLake]) -> None:
    stack, lake = scope
    workgroup = OfflineQueryWorkgroup(
        stack,
        f"Workgroup{next(_ids)}",
        workgroup_name="small",
        data_lake=lake,
        bytes_scanned_cutoff=Size.bytes(10_000_000),
    )
    config = stack.resolve(workgroup.resource.work_group_configuration)
    assert config["bytesScannedCutoffPerQuery"] == 10_000_000


# --- property tests ---------------------------------------------------------------------------

_name = st.from_regex(r"[a-zA-Z0-9]([-_]?[a-zA-Z0-9]){0,20}", fullmatch=True)
feature_names = _name.filter(lambda n: n.lower() not in RESERVED_FEATURE_NAMES)
group_names = st.from_regex(r"[a-zA-Z0-9]([-_]?[a-zA-Z0-9]){0,40}", fullmatch=True)


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    """Props of a feature group the API and CloudFormation accept (data_lake excluded)."""
    names = draw(st.lists(feature_names, min_size=2, max_size=12, unique_by=lambda n: n.lower()))
    record_identifier, event_time, *others = names
    features = [
        Feature(
            record_identifier, draw(st.sampled_from([FeatureType.STRING, FeatureType.INTEGRAL]))
        ),
        Feature(event_time, draw(st.sampled_from([FeatureType.STRING, FeatureType.FRACTIONAL]))),
        *[Feature(n, draw(st.sampled_from(list(FeatureType)))) for n in others],
    ]
    features = draw(st.permutations(features))
    ttl = draw(
        st.none()
        | st.integers(1, 10**6).map(Duration.seconds)
        | st.integers(1, 3650).map(Duration.days)
    )
    online = draw(
        st.none()
        | st.builds(OnlineStore, storage_type=st.sampled_from(list(StorageType)), ttl=st.just(ttl))
    )
    table_format = draw(st.sampled_from(list(TableFormat)))
    offline = draw(
        st.none()
        | st.just(
            OfflineStore(
                table_format=table_format,
                create_table=table_format is TableFormat.ICEBERG or draw(st.booleans()),
            )
        )
    )
    if online is None and offline is None:
        offline = OfflineStore()
    throughput = Throughput.on_demand()
    if (online is None or online.storage_type is StorageType.STANDARD) and draw(st.booleans()):
        throughput = Throughput.provisioned(
            write_units=draw(st.integers(1, 40_000)),
            read_units=None if online is None else draw(st.integers(1, 40_000)),
        )
    return {
        "feature_group_name": draw(group_names),
        "features": features,
        "record_identifier": record_identifier,
        "event_time": event_time,
        "online_store": online,
        "offline_store": offline,
        "throughput": throughput,
        "description": draw(st.none() | st.text(max_size=128)),
        "tags": draw(
            st.dictionaries(
                st.from_regex(r"[A-Za-z][A-Za-z0-9 _.:/=+@-]{0,30}", fullmatch=True).filter(
                    lambda k: not k.lower().startswith("aws:")
                ),
                st.from_regex(r"[A-Za-z0-9 _.:/=+@-]{0,40}", fullmatch=True),
                max_size=5,
            )
        ),
    }


@settings(max_examples=8)
@given(
    specs=st.lists(
        valid_specs(), min_size=1, max_size=3, unique_by=lambda s: s["feature_group_name"].lower()
    )
)
def test_random_valid_definitions_synthesize(specs: list[dict[str, Any]]) -> None:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    for index, spec in enumerate(specs):
        FeatureGroup(stack, f"Group{index}", data_lake=lake, **spec)
    groups = resources_of_type(template_of(stack), "AWS::SageMaker::FeatureGroup")
    by_name = {g["Properties"]["FeatureGroupName"]: g["Properties"] for g in groups.values()}
    for spec in specs:
        props = by_name[spec["feature_group_name"]]
        assert [d["FeatureName"] for d in props["FeatureDefinitions"]] == [
            f.name for f in spec["features"]
        ]
        assert ("OnlineStoreConfig" in props) == (spec["online_store"] is not None)
        assert ("OfflineStoreConfig" in props) == (spec["offline_store"] is not None)


Mutation = Callable[[dict[str, Any]], dict[str, Any]]


def _set(**changes: Any) -> Mutation:
    return lambda spec: {**spec, **changes}


def _add_feature(feature: Feature) -> Mutation:
    return lambda spec: {**spec, "features": [*spec["features"], feature]}


def _duplicate(spec: dict[str, Any]) -> dict[str, Any]:
    first = spec["features"][0]
    return {**spec, "features": [*spec["features"], replace(first, name=first.name.swapcase())]}


def _integral_event_time(spec: dict[str, Any]) -> dict[str, Any]:
    features = [
        replace(f, type=FeatureType.INTEGRAL) if f.name == spec["event_time"] else f
        for f in spec["features"]
    ]
    return {**spec, "features": features}


MUTATIONS: list[tuple[Mutation, str]] = [
    (lambda s: {**s, "feature_group_name": s["feature_group_name"] + "!"}, "feature_group_name"),
    (_set(feature_group_name="g" * 65), "feature_group_name"),
    (_duplicate, "duplicates"),
    (_add_feature(Feature("API_INVOCATION_TIME", FeatureType.STRING)), "is reserved"),
    (_add_feature(Feature("_leading", FeatureType.STRING)), r"features\[\d+\].name"),
    (_set(record_identifier="not-a-feature"), "record_identifier"),
    (_integral_event_time, "event_time feature"),
    (_set(online_store=OnlineStore(ttl=Duration.seconds(0))), "online_store.ttl"),
    (_set(online_store=None, offline_store=None), "both None"),
    (_set(throughput=Throughput(ThroughputMode.ON_DEMAND, write_units=1)), "PROVISIONED"),
    (_set(offline_store=OfflineStore(create_table=False)), "create_table"),
    (_set(offline_store=OfflineStore(database="bad-db")), "offline_store.database"),
    (_set(description="x" * 129), "description"),
    (_set(tags={"aws:owner": "me"}), "aws:"),
    (
        _add_feature(Feature("vec", FeatureType.FRACTIONAL, CollectionType.VECTOR, 4)),
        "collection_type",
    ),
]


@settings(max_examples=60)
@given(spec=valid_specs(), mutation=st.sampled_from(MUTATIONS))
def test_random_invalid_definitions_raise_value_error(
    scope: tuple[Stack, DataLake], spec: dict[str, Any], mutation: tuple[Mutation, str]
) -> None:
    mutate, message = mutation
    with pytest.raises(ValueError, match=message):
        build(scope, **mutate(spec))

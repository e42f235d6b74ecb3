"""A SageMaker Feature Store feature group with KMS-encrypted online and offline stores."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from sagemaker_lifecycle._internal.nag import acknowledge_grant_wildcards, acknowledge_inline_policy
from sagemaker_lifecycle._internal.sagemaker_api import check_name, shape
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.feature_store.features import (
    CollectionType,
    Feature,
    check_features,
)
from sagemaker_lifecycle.feature_store.stores import (
    OfflineStore,
    OnlineStore,
    StorageType,
    TableFormat,
    Throughput,
    ThroughputMode,
)
from sagemaker_lifecycle.feature_store.time_travel import EventTimeFormat, OfflineTable

if TYPE_CHECKING:
    from sagemaker_lifecycle.feature_store.offline_query import OfflineQueryWorkgroup

_DEFAULT_ONLINE_STORE = OnlineStore()
_DEFAULT_OFFLINE_STORE = OfflineStore()
_DATA_CATALOG = "AwsDataCatalog"
# Athena's naming rule for databases and tables: lower case, digits and underscores.
_GLUE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
# "Max Read/Write Capacity Units that can be provisioned on a single feature group: 40000"
# (Feature Store quotas); the API's own range (0 to 10,000,000) is wider.
_MAX_CAPACITY_UNITS = 40_000
# TtlDuration.Value is an API Integer (32-bit); its minimum is 1.
_MAX_TTL_VALUE = 2**31 - 1
_TTL_UNITS = (("Weeks", 604_800), ("Days", 86_400), ("Hours", 3_600), ("Minutes", 60))
# Tag keys and values: the API pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*, checked per character
# because Python's re has no \p classes.
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


class FeatureGroup(Construct):
    """A feature group (``AWS::SageMaker::FeatureGroup``) declared from typed features.

    The online store (on by default) serves the latest record per id with low latency and
    is encrypted with a customer-managed key. The offline store (on by default) keeps every
    version of every record as an Apache Iceberg table in the data lake's curated zone under
    ``feature-store/<name>/``, encrypted with the same key and catalogued in Glue, so
    :mod:`~sagemaker_lifecycle.feature_store.time_travel` can query it point in time.
    Feature Store writes the offline store with :attr:`role`, which may only write this
    group's prefix, use its key and update its Glue table.

    Access goes through :meth:`grant_read_online`, :meth:`grant_write` and
    :meth:`grant_query_offline`. The group is retained when the stack is deleted.

    Most properties (name, stores, role, description, tags) cannot change once the group
    exists: CloudFormation would have to replace a named resource, which fails. Adding
    features is an in-place update; removing one is not possible.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        feature_group_name: str,
        features: Sequence[Feature],
        record_identifier: str,
        event_time: str,
        data_lake: DataLake | None = None,
        description: str | None = None,
        online_store: OnlineStore | None = _DEFAULT_ONLINE_STORE,
        offline_store: OfflineStore | None = _DEFAULT_OFFLINE_STORE,
        throughput: Throughput | None = None,
        key: kms.IKey | None = None,
        role: iam.IRole | None = None,
        tags: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """
        :param feature_group_name: the group's name, unique per account and region and part
            of the contract with writers and readers (1 to 64 letters, digits, ``-`` and
            ``_``).
        :param features: the feature definitions, including the record identifier and the
            event time (1 to 2,500).
        :param record_identifier: name of the feature that identifies a record.
        :param event_time: name of the String (ISO-8601) or Fractional (epoch seconds)
            feature that dates each record version.
        :param data_lake: the data lake whose curated zone holds the offline store.
            Required with an offline store. Default: none.
        :param description: what the group holds (at most 128 characters). Default: none.
        :param online_store: online store options, or None for no online store.
            Default: a Standard online store encrypted with ``key``, records kept until
            overwritten.
        :param offline_store: offline store options, or None for no offline store.
            Default: an Iceberg table in the curated zone under ``feature-store/<name>/``.
        :param throughput: throughput mode and capacity. Default: on demand.
        :param key: KMS key for both stores. Default: the data lake's key, or a new key
            (rotation on) when there is no data lake.
        :param role: role Feature Store assumes to write the offline store; the grants it
            needs are added to it. Default: a new role scoped to this group.
        :param tags: tags of the feature group (at most 50). Changing them replaces the
            group, which CloudFormation cannot do for a named resource. Default: none.
        :param removal_policy: what happens to the group (and its online store data) when
            the stack is deleted; offline store objects stay in the data lake either way.
            Default: RETAIN.
        """
        super().__init__(scope, id)
        throughput = throughput or Throughput.on_demand()
        errors = ValidationErrors("FeatureGroup")
        _check_group_name(errors, feature_group_name)
        check_features(errors, features, record_identifier=record_identifier, event_time=event_time)
        _check_description(errors, description)
        if online_store is None and offline_store is None:
            errors.add(
                "online_store and offline_store are both None: a feature group needs at least "
                "one store (CreateFeatureGroup)"
            )
        if online_store is not None:
            _check_online_store(errors, online_store)
        _check_collections(errors, features, online_store)
        if offline_store is not None:
            _check_offline_store(errors, offline_store, data_lake, feature_group_name)
        _check_throughput(errors, throughput, online_store)
        _check_tags(errors, tags or {})
        errors.raise_if_any()

        self.feature_group_name = feature_group_name
        #: The feature definitions, in declaration order.
        self.features: tuple[Feature, ...] = tuple(features)
        self.record_identifier = record_identifier
        self.event_time = event_time
        self.data_lake = data_lake
        #: The key of the offline store objects (and, by default, of the online store).
        self.key: kms.IKey = key or (
            data_lake.key
            if data_lake is not None
            else kms.Key(
                self,
                "Key",
                description=f"Encrypts feature group {feature_group_name}",
                enable_key_rotation=True,
                removal_policy=removal_policy,
            )
        )
        stack = Stack.of(self)
        # SageMaker ARNs usually carry names in lower case; grants name both spellings so
        # they hold whichever the service reports for a mixed-case name.
        names = dict.fromkeys([feature_group_name.lower(), feature_group_name])
        self._group_arns = [
            stack.format_arn(service="sagemaker", resource="feature-group", resource_name=name)
            for name in names
        ]
        #: ARN of the feature group.
        self.feature_group_arn: str = self._group_arns[0]

        #: The online store's options, or None without an online store.
        self.online_store = online_store
        #: Key of the online store, or None without an online store.
        self.online_store_key: kms.IKey | None = (
            None if online_store is None else online_store.key or self.key
        )
        #: The offline store's options, or None without an offline store.
        self.offline_store = offline_store
        #: Key prefix of the offline store in the curated zone (ends with ``/``).
        self.offline_store_prefix: str | None = None
        #: ``s3://<curated bucket>/<offline_store_prefix>``.
        self.offline_store_s3_uri: str | None = None
        #: Glue database and table of the offline store.
        self.glue_database_name: str | None = None
        self.glue_table_name: str | None = None
        #: Where time-travel queries read the offline store, or None without one.
        self.offline_table: OfflineTable | None = None
        #: The role Feature Store writes the offline store with, or None without one.
        self.role: iam.IRole | None = None
        offline_config = None
        if offline_store is not None and data_lake is not None:
            offline_config = self._offline_store(offline_store, data_lake, role)
        elif role is not None:
            Annotations.of(self).add_warning_v2(
                "sagemaker-lifecycle:FeatureGroupRoleUnused",
                "role is only used to write the offline store, and this group has none.",
            )

        #: The L1 resource, as an escape hatch (also ``node.default_child``).
        self.resource = sagemaker.CfnFeatureGroup(
            self,
            "Resource",
            feature_group_name=feature_group_name,
            record_identifier_feature_name=record_identifier,
            event_time_feature_name=event_time,
            feature_definitions=[
                sagemaker.CfnFeatureGroup.FeatureDefinitionProperty(
                    feature_name=f.name, feature_type=f.type.value
                )
                for f in features
            ],
            description=description,
            online_store_config=self._online_config(online_store),
            offline_store_config=offline_config,
            role_arn=None if self.role is None else self.role.role_arn,
            throughput_config=sagemaker.CfnFeatureGroup.ThroughputConfigProperty(
                throughput_mode=throughput.mode.value,
                provisioned_read_capacity_units=throughput.read_units,
                provisioned_write_capacity_units=throughput.write_units,
            ),
            tags=[{"key": k, "value": v} for k, v in (tags or {}).items()] or None,
        )
        self.resource.apply_removal_policy(removal_policy)
        if self.role is not None:
            # Feature Store checks the role's access when the group is created, so the
            # policies our grants wrote must exist first (RoleArn already orders the role).
            for policy in self.role.node.children:
                if isinstance(policy, iam.Policy):
                    self.resource.node.add_dependency(policy)

    def grant_read_online(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read records from the online store (``GetRecord``,
        ``BatchGetRecord``) of this group only, decrypting with its key."""
        key = self._require_online("grant_read_online")
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:GetRecord", "sagemaker:BatchGetRecord"],
            resource_arns=self._group_arns,
        )
        return grant.combine(self._grant_key(grantee, key, ["kms:Decrypt"]))

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put and delete records (``PutRecord``, ``DeleteRecord``) of this
        group only; Feature Store copies them to the offline store with :attr:`role`."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:PutRecord", "sagemaker:DeleteRecord"],
            resource_arns=self._group_arns,
        )
        if self.online_store_key is not None:
            # The API reference asks data-plane callers of an encrypted online store for
            # kms:Decrypt on its key.
            grant = grant.combine(self._grant_key(grantee, self.online_store_key, ["kms:Decrypt"]))
        return grant

    def grant_query_offline(
        self, grantee: iam.IGrantable, workgroup: OfflineQueryWorkgroup | None = None
    ) -> iam.Grant:
        """Let ``grantee`` query this group's offline store.

        Grants the Glue reads Athena makes on the group's catalog, database and table, and
        S3 reads (with the key) on the group's prefix only. With ``workgroup``, also lets
        ``grantee`` run queries in it and read and write its results.

        :param workgroup: the Athena workgroup to query through. Default: none (for
            readers such as Spark jobs that read the table directly).
        """
        if (
            self.offline_table is None
            or self.data_lake is None
            or self.offline_store_prefix is None
        ):
            raise ValueError(
                f"grant_query_offline: feature group {self.feature_group_name!r} has no "
                "offline store"
            )
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "glue:GetDatabase",
                "glue:GetTable",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:BatchGetPartition",
            ],
            resource_arns=self._glue_arns(),
        )
        grant = grant.combine(
            self.data_lake.grant_read(grantee, Zone.CURATED, self.offline_store_prefix)
        )
        if self.key is not self.data_lake.key:
            grant = grant.combine(self._grant_key(grantee, self.key, ["kms:Decrypt"]))
        if workgroup is not None:
            grant = grant.combine(workgroup.grant_query(grantee))
        return grant

    def _offline_store(
        self, store: OfflineStore, lake: DataLake, role: iam.IRole | None
    ) -> dict[str, Any]:
        name = self.feature_group_name
        prefix = store.prefix or f"feature-store/{name}/"
        prefix = prefix if prefix.endswith("/") else f"{prefix}/"
        self.offline_store_prefix = prefix
        self.offline_store_s3_uri = lake.s3_uri(Zone.CURATED, prefix)
        self.glue_database_name = store.database
        self.glue_table_name = store.table_name or _default_table_name(name)
        by_name = {f.name: f for f in self.features}
        self.offline_table = OfflineTable(
            database=self.glue_database_name,
            table=self.glue_table_name,
            record_identifier=self.record_identifier,
            event_time=self.event_time,
            event_time_format=EventTimeFormat.of(by_name[self.event_time].type),
            features=tuple(by_name),
        )
        self.role = role or iam.Role(
            self,
            "OfflineStoreRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Lets Feature Store write the offline store of feature group {name}",
        )
        self._grant_offline_store_role(self.role, lake, prefix)
        if role is None:
            acknowledge_inline_policy(self.role)
        # CfnFeatureGroup types both store configs as raw JSON, so they are written with
        # CloudFormation's own property names.
        return {
            "S3StorageConfig": {"S3Uri": self.offline_store_s3_uri, "KmsKeyId": self.key.key_arn},
            "DisableGlueTableCreation": not store.create_table,
            "DataCatalogConfig": {
                "Catalog": _DATA_CATALOG,
                "Database": self.glue_database_name,
                "TableName": self.glue_table_name,
            },
            "TableFormat": store.table_format.value,
        }

    def _grant_offline_store_role(self, role: iam.IRole, lake: DataLake, prefix: str) -> None:
        # The actions of the AmazonSageMakerFeatureStoreAccess managed policy, narrowed from
        # every "*sagemaker*" bucket and the whole sagemaker_featurestore database to this
        # group's prefix, key and table.
        bucket = lake.bucket(Zone.CURATED)
        objects = f"{bucket.bucket_arn}/{prefix}*"
        statements = [
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:PutObjectAcl", "s3:GetObject"], resources=[objects]
            ),
            iam.PolicyStatement(actions=["s3:GetBucketAcl"], resources=[bucket.bucket_arn]),
            # GenerateDataKey for the objects it writes (S3StorageConfig.KmsKeyId), Decrypt
            # for the table metadata it reads back.
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn]
            ),
            iam.PolicyStatement(
                actions=["glue:GetTable", "glue:UpdateTable"], resources=self._glue_arns()
            ),
        ]
        for statement in statements:
            role.add_to_principal_policy(statement)
        acknowledge_grant_wildcards(
            role,
            statements,
            f"Feature Store writes the offline store of {self.feature_group_name} as objects "
            f"under '{prefix}' with generated names; S3 offers no resource finer than the key "
            "prefix.",
        )

    def _glue_arns(self) -> list[str]:
        stack = Stack.of(self)
        database = self.glue_database_name
        return [
            stack.format_arn(service="glue", resource="catalog"),
            stack.format_arn(service="glue", resource="database", resource_name=database),
            stack.format_arn(
                service="glue", resource="table", resource_name=f"{database}/{self.glue_table_name}"
            ),
        ]

    def _online_config(self, store: OnlineStore | None) -> dict[str, Any] | None:
        if store is None or self.online_store_key is None:
            return None
        config: dict[str, Any] = {
            "EnableOnlineStore": True,
            "SecurityConfig": {"KmsKeyId": self.online_store_key.key_arn},
            "StorageType": store.storage_type.value,
        }
        if store.ttl is not None:
            unit, value = _ttl_unit_and_value(store.ttl)
            config["TtlDuration"] = {"Unit": unit, "Value": value}
        return config

    def _require_online(self, method: str) -> kms.IKey:
        if self.online_store_key is None:
            raise ValueError(
                f"{method}: feature group {self.feature_group_name!r} has no online store"
            )
        return self.online_store_key

    @staticmethod
    def _grant_key(grantee: iam.IGrantable, key: kms.IKey, actions: list[str]) -> iam.Grant:
        # A principal policy naming the key, rather than key.grant(): the key may live in
        # another stack (the data lake's), whose key policy must not change for each reader.
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=actions, resource_arns=[key.key_arn]
        )


def _default_table_name(feature_group_name: str) -> str:
    return feature_group_name.lower().replace("-", "_")


def _check_group_name(errors: ValidationErrors, name: str) -> None:
    if isinstance(name, str) and Token.is_unresolved(name):
        errors.add(
            "feature_group_name must be a plain string, not a token: it names the Glue table, "
            "the S3 prefix and the IAM resources at synth time"
        )
        return
    check_name(errors, "feature_group_name", name, "FeatureGroupName")


def _check_description(errors: ValidationErrors, description: str | None) -> None:
    if description is None or Token.is_unresolved(description):
        return
    maximum = shape("Description").metadata["max"]
    if not isinstance(description, str) or len(description) > maximum:
        errors.add(
            f"description must be a string of at most {maximum} characters, got {description!r:.60}"
        )


def _check_online_store(errors: ValidationErrors, store: OnlineStore) -> None:
    if not isinstance(store, OnlineStore):
        errors.add(f"online_store must be an OnlineStore or None, got {store!r}")
        return
    if not isinstance(store.storage_type, StorageType):
        allowed = ", ".join(f"StorageType.{t.name}" for t in StorageType)
        errors.add(
            f"online_store.storage_type must be one of {allowed}, got {store.storage_type!r}"
        )
    if store.ttl is not None:
        try:
            _ttl_unit_and_value(store.ttl)
        except ValueError as error:
            errors.add(str(error))


def _ttl_unit_and_value(ttl: Duration) -> tuple[str, int]:
    if not isinstance(ttl, Duration):
        raise ValueError(f"online_store.ttl must be a Duration, got {ttl!r}")
    try:
        seconds = int(ttl.to_seconds())
    except Exception as error:  # jsii raises a plain Error for fractional conversions
        raise ValueError(
            f"online_store.ttl must be a whole number of seconds, got {ttl.to_human_string()}"
        ) from error
    if seconds < 1:
        raise ValueError(f"online_store.ttl must be at least 1 second, got {ttl.to_human_string()}")
    for unit, size in _TTL_UNITS:
        if seconds % size == 0 and seconds // size <= _MAX_TTL_VALUE:
            return unit, seconds // size
    if seconds > _MAX_TTL_VALUE:
        raise ValueError(
            f"online_store.ttl {ttl.to_human_string()} cannot be written as at most "
            f"{_MAX_TTL_VALUE} of one unit (TtlDuration.Value is a 32-bit integer)"
        )
    return "Seconds", seconds


def _check_collections(
    errors: ValidationErrors, features: Sequence[Feature], online: OnlineStore | None
) -> None:
    if not isinstance(features, Sequence):
        return
    collections = [f for f in features if isinstance(f, Feature) and f.collection_type is not None]
    if not collections:
        return
    names = ", ".join(repr(f.name) for f in collections)
    errors.add(
        f"features {names} have a collection_type, which CloudFormation cannot declare: the "
        "AWS::SageMaker::FeatureGroup FeatureDefinition has only FeatureName and FeatureType. "
        "Declare these features as single values, or create the group with the SageMaker API"
    )
    if online is None or online.storage_type is not StorageType.IN_MEMORY:
        errors.add(
            f"features {names} have a collection_type, which the SageMaker API only allows "
            "with online_store.storage_type StorageType.IN_MEMORY"
        )
    vectors = [f for f in collections if f.collection_type is CollectionType.VECTOR]
    if len(vectors) > 1:
        errors.add(
            "features may hold at most one VECTOR collection per InMemory feature group, got "
            + ", ".join(repr(f.name) for f in vectors)
        )


def _check_offline_store(
    errors: ValidationErrors, store: OfflineStore, lake: DataLake | None, group_name: str
) -> None:
    if not isinstance(store, OfflineStore):
        errors.add(f"offline_store must be an OfflineStore or None, got {store!r}")
        return
    if lake is None:
        errors.add(
            "data_lake is required with an offline store: the offline store lives in the data "
            "lake's curated zone (pass data_lake, or offline_store=None)"
        )
    elif store.prefix is not None:
        try:
            lake.s3_uri(Zone.CURATED, store.prefix)
        except ValueError as error:
            errors.add(f"offline_store.{error}")
    if not isinstance(store.table_format, TableFormat):
        allowed = ", ".join(f"TableFormat.{t.name}" for t in TableFormat)
        errors.add(
            f"offline_store.table_format must be one of {allowed}, got {store.table_format!r}"
        )
    elif store.table_format is TableFormat.ICEBERG and not store.create_table:
        errors.add(
            "offline_store.create_table must be true with TableFormat.ICEBERG: Feature Store "
            "supports Iceberg only when it creates the Glue table (DisableGlueTableCreation)"
        )
    table = store.table_name
    if table is None and isinstance(group_name, str):
        table = _default_table_name(group_name)
    for prop, value in (("database", store.database), ("table_name", table)):
        if not isinstance(value, str) or not _GLUE_NAME.match(value):
            errors.add(
                f"offline_store.{prop} must be 1 to 255 lower-case letters, digits and '_' "
                f"(Athena's naming rule for Glue databases and tables), got {value!r}"
            )


def _check_throughput(
    errors: ValidationErrors, throughput: Throughput, online: OnlineStore | None
) -> None:
    if not isinstance(throughput, Throughput) or not isinstance(throughput.mode, ThroughputMode):
        errors.add(
            "throughput must be Throughput.on_demand() or Throughput.provisioned(...), "
            f"got {throughput!r}"
        )
        return
    read, write = throughput.read_units, throughput.write_units
    if throughput.mode is ThroughputMode.ON_DEMAND:
        if read is not None or write is not None:
            errors.add(
                "throughput read_units and write_units are only allowed with "
                f"ThroughputMode.PROVISIONED, got read_units={read!r}, write_units={write!r} "
                "with ON_DEMAND"
            )
        return
    if write is None:
        errors.add("throughput.write_units is required with ThroughputMode.PROVISIONED")
    else:
        int_in_range(
            errors, "throughput.write_units", write, minimum=1, maximum=_MAX_CAPACITY_UNITS
        )
    if online is None:
        if read is not None:
            errors.add(
                f"throughput.read_units ({read!r}) only applies to a group with an online store"
            )
    elif read is None:
        errors.add(
            "throughput.read_units is required with ThroughputMode.PROVISIONED and an online store"
        )
    else:
        int_in_range(errors, "throughput.read_units", read, minimum=1, maximum=_MAX_CAPACITY_UNITS)
    if isinstance(online, OnlineStore) and online.storage_type is StorageType.IN_MEMORY:
        errors.add(
            "throughput ThroughputMode.PROVISIONED is only supported for offline-only groups "
            "or a StorageType.STANDARD online store, not IN_MEMORY"
        )


def _check_tags(errors: ValidationErrors, tags: Mapping[str, str]) -> None:
    if len(tags) > 50:
        errors.add(f"tags may hold at most 50 tags (CreateFeatureGroup), got {len(tags)}")
    for key, value in tags.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or not _tag_text(key):
            errors.add(
                f"tags keys must be 1 to 128 letters, digits, spaces and _.:/=+-@, got {key!r}"
            )
        elif key.lower().startswith("aws:"):
            errors.add(f"tags key {key!r} uses the reserved 'aws:' prefix")
        if not isinstance(value, str) or len(value) > 256 or not _tag_text(value):
            errors.add(
                "tags values must be at most 256 letters, digits, spaces and _.:/=+-@, "
                f"got {value!r} for {key!r}"
            )


def _tag_text(text: str) -> bool:
    return Token.is_unresolved(text) or all(
        unicodedata.category(c)[0] in "LZN" or c in _TAG_PUNCTUATION for c in text
    )

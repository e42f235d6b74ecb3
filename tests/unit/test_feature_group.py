"""FeatureGroup and OfflineQueryWorkgroup: every store option, the role, the grants."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template

from sagemaker_lifecycle import DataLake
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from sagemaker_lifecycle.feature_store import (
    EventTimeFormat,
    Feature,
    FeatureGroup,
    FeatureType,
    OfflineQueryWorkgroup,
    OfflineStore,
    OfflineTable,
    OnlineStore,
    StorageType,
    TableFormat,
    Throughput,
)
from tests.support import new_stack, resources_of_type, template_of

CHURN_FEATURES = [
    Feature("customer_id", FeatureType.STRING),
    Feature("event_time", FeatureType.STRING),
    Feature("age", FeatureType.INTEGRAL),
    Feature("monthly_spend", FeatureType.FRACTIONAL),
]


def _role(stack: Any, id: str) -> iam.Role:
    role = iam.Role(stack, id, assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    acknowledge_inline_policy(role)
    return role


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    churn = FeatureGroup(
        stack,
        "Churn",
        feature_group_name="customer-churn",
        features=CHURN_FEATURES,
        record_identifier="customer_id",
        event_time="event_time",
        data_lake=lake,
        description="Churn features",
        online_store=OnlineStore(ttl=Duration.hours(36)),
        tags={"team": "ml-platform"},
    )
    sessions = FeatureGroup(
        stack,
        "Sessions",
        feature_group_name="Session_Features",
        features=[Feature("SessionId", FeatureType.STRING), Feature("ts", FeatureType.FRACTIONAL)],
        record_identifier="SessionId",
        event_time="ts",
        online_store=OnlineStore(storage_type=StorageType.IN_MEMORY),
        offline_store=None,
    )
    scores = FeatureGroup(
        stack,
        "Scores",
        feature_group_name="scores",
        features=[Feature("id", FeatureType.INTEGRAL), Feature("ts", FeatureType.FRACTIONAL)],
        record_identifier="id",
        event_time="ts",
        data_lake=lake,
        offline_store=None,
        throughput=Throughput.provisioned(read_units=10, write_units=5),
    )
    ledger_key = kms.Key(stack, "LedgerKey", enable_key_rotation=True)
    ledger_role = _role(stack, "LedgerRole")
    ledger = FeatureGroup(
        stack,
        "Ledger",
        feature_group_name="ledger-v2",
        features=[Feature("account", FeatureType.STRING), Feature("ts", FeatureType.STRING)],
        record_identifier="account",
        event_time="ts",
        data_lake=lake,
        online_store=None,
        offline_store=OfflineStore(
            table_format=TableFormat.GLUE,
            prefix="fs/ledger",
            database="finance_features",
            table_name="ledger",
        ),
        throughput=Throughput.provisioned(write_units=5),
        key=ledger_key,
        role=ledger_role,
    )
    workgroup = OfflineQueryWorkgroup(
        stack,
        "Query",
        workgroup_name="features.dev",
        data_lake=lake,
        bytes_scanned_cutoff=Size.gibibytes(10),
        results_expiration=Duration.days(7),
    )
    reader = _role(stack, "Reader")
    churn.grant_read_online(reader)
    churn.grant_query_offline(reader, workgroup)
    writer = _role(stack, "Writer")
    churn.grant_write(writer)
    ledger_writer = _role(stack, "LedgerWriter")
    ledger.grant_write(ledger_writer)
    analyst = _role(stack, "Analyst")
    ledger.grant_query_offline(analyst)
    session_reader = _role(stack, "SessionReader")
    sessions.grant_read_online(session_reader)
    return {
        "template": template_of(stack),
        "churn": churn,
        "sessions": sessions,
        "scores": scores,
        "ledger": ledger,
        "workgroup": workgroup,
        "stack": stack,
    }


@pytest.fixture(scope="module")
def template(built: dict[str, Any]) -> dict[str, Any]:
    return built["template"]  # type: ignore[no-any-return]


def _group(template: dict[str, Any], name: str) -> dict[str, Any]:
    (resource,) = [
        r
        for r in resources_of_type(template, "AWS::SageMaker::FeatureGroup").values()
        if r["Properties"]["FeatureGroupName"] == name
    ]
    return resource  # type: ignore[no-any-return]


def _statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in resources_of_type(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found.update(action if isinstance(action, list) else [action])
    return found


def _logical_id(template: dict[str, Any], resource_type: str, prefix: str) -> str:
    (logical_id,) = [k for k in resources_of_type(template, resource_type) if k.startswith(prefix)]
    return logical_id


def _key_arn(template: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [_logical_id(template, "AWS::KMS::Key", prefix), "Arn"]}


# --- the feature group resource -----------------------------------------------------------------


def test_features_are_declared_in_order_with_their_types(template: dict[str, Any]) -> None:
    props = _group(template, "customer-churn")["Properties"]
    assert props["FeatureDefinitions"] == [
        {"FeatureName": "customer_id", "FeatureType": "String"},
        {"FeatureName": "event_time", "FeatureType": "String"},
        {"FeatureName": "age", "FeatureType": "Integral"},
        {"FeatureName": "monthly_spend", "FeatureType": "Fractional"},
    ]
    assert props["RecordIdentifierFeatureName"] == "customer_id"
    assert props["EventTimeFeatureName"] == "event_time"
    assert props["Description"] == "Churn features"
    assert props["Tags"] == [{"Key": "team", "Value": "ml-platform"}]


def test_online_store_is_encrypted_with_the_lake_key_and_expires_records(
    template: dict[str, Any],
) -> None:
    online = _group(template, "customer-churn")["Properties"]["OnlineStoreConfig"]
    assert online == {
        "EnableOnlineStore": True,
        "SecurityConfig": {"KmsKeyId": _key_arn(template, "LakeKey")},
        "StorageType": "Standard",
        "TtlDuration": {"Unit": "Hours", "Value": 36},
    }


def test_offline_store_is_an_iceberg_table_in_the_curated_zone(template: dict[str, Any]) -> None:
    offline = _group(template, "customer-churn")["Properties"]["OfflineStoreConfig"]
    curated = _logical_id(template, "AWS::S3::Bucket", "LakeCuratedBucket")
    assert offline == {
        "S3StorageConfig": {
            "S3Uri": {
                "Fn::Join": ["", ["s3://", {"Ref": curated}, "/feature-store/customer-churn/"]]
            },
            "KmsKeyId": _key_arn(template, "LakeKey"),
        },
        "DisableGlueTableCreation": False,
        "DataCatalogConfig": {
            "Catalog": "AwsDataCatalog",
            "Database": "sagemaker_featurestore",
            "TableName": "customer_churn",
        },
        "TableFormat": "Iceberg",
    }


def test_feature_groups_are_retained_and_on_demand_by_default(template: dict[str, Any]) -> None:
    churn = _group(template, "customer-churn")
    assert churn["DeletionPolicy"] == "Retain"
    assert churn["UpdateReplacePolicy"] == "Retain"
    assert churn["Properties"]["ThroughputConfig"] == {"ThroughputMode": "OnDemand"}


def test_the_group_waits_for_its_offline_store_role_and_policy(template: dict[str, Any]) -> None:
    # The policy explicitly; the role through RoleArn (a DependsOn on it would be redundant).
    assert _group(template, "customer-churn")["DependsOn"] == [
        _logical_id(template, "AWS::IAM::Policy", "ChurnOfflineStoreRole")
    ]
    assert _group(template, "ledger-v2")["DependsOn"] == [
        _logical_id(template, "AWS::IAM::Policy", "LedgerRole")
    ]
    role_arn = _group(template, "customer-churn")["Properties"]["RoleArn"]
    assert role_arn["Fn::GetAtt"][0].startswith("ChurnOfflineStoreRole")


def test_an_online_only_group_has_its_own_key_and_no_role(template: dict[str, Any]) -> None:
    props = _group(template, "Session_Features")["Properties"]
    assert "OfflineStoreConfig" not in props
    assert "RoleArn" not in props
    assert props["OnlineStoreConfig"]["StorageType"] == "InMemory"
    assert props["OnlineStoreConfig"]["SecurityConfig"] == {
        "KmsKeyId": _key_arn(template, "SessionsKey")
    }
    key = resources_of_type(template, "AWS::KMS::Key")[
        _logical_id(template, "AWS::KMS::Key", "SessionsKey")
    ]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_provisioned_throughput_with_an_online_store(template: dict[str, Any]) -> None:
    assert _group(template, "scores")["Properties"]["ThroughputConfig"] == {
        "ThroughputMode": "Provisioned",
        "ProvisionedReadCapacityUnits": 10,
        "ProvisionedWriteCapacityUnits": 5,
    }


def test_an_offline_only_group_uses_the_given_format_prefix_catalog_key_and_role(
    template: dict[str, Any],
) -> None:
    props = _group(template, "ledger-v2")["Properties"]
    assert "OnlineStoreConfig" not in props
    offline = props["OfflineStoreConfig"]
    assert offline["TableFormat"] == "Glue"
    assert offline["S3StorageConfig"]["S3Uri"]["Fn::Join"][1][-1] == "/fs/ledger/"
    assert offline["S3StorageConfig"]["KmsKeyId"] == _key_arn(template, "LedgerKey")
    assert offline["DataCatalogConfig"]["Database"] == "finance_features"
    assert offline["DataCatalogConfig"]["TableName"] == "ledger"
    assert props["RoleArn"]["Fn::GetAtt"][0].startswith("LedgerRole")
    assert props["ThroughputConfig"] == {
        "ThroughputMode": "Provisioned",
        "ProvisionedWriteCapacityUnits": 5,
    }
    assert not [
        r for r in resources_of_type(template, "AWS::IAM::Role") if r.startswith("LedgerOffline")
    ]


# --- the offline store role ---------------------------------------------------------------------


def test_offline_store_role_is_assumed_by_sagemaker_only(template: dict[str, Any]) -> None:
    role = resources_of_type(template, "AWS::IAM::Role")[
        _logical_id(template, "AWS::IAM::Role", "ChurnOfflineStoreRole")
    ]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role["Properties"]


def test_offline_store_role_is_scoped_to_the_groups_prefix_key_and_table(
    template: dict[str, Any],
) -> None:
    statements = _statements(template, "ChurnOfflineStoreRole")
    curated = _logical_id(template, "AWS::S3::Bucket", "LakeCuratedBucket")
    by_action = {
        tuple(sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]])): s
        for s in statements
    }
    objects = by_action[("s3:GetObject", "s3:PutObject", "s3:PutObjectAcl")]
    assert objects["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [curated, "Arn"]}, "/feature-store/customer-churn/*"]]
    }
    assert by_action[("s3:GetBucketAcl",)]["Resource"] == {"Fn::GetAtt": [curated, "Arn"]}
    assert by_action[("kms:Decrypt", "kms:GenerateDataKey")]["Resource"] == _key_arn(
        template, "LakeKey"
    )
    glue = by_action[("glue:GetTable", "glue:UpdateTable")]["Resource"]
    suffixes = [r["Fn::Join"][1][-1] for r in glue]
    assert suffixes == [
        ":catalog",
        ":database/sagemaker_featurestore",
        ":table/sagemaker_featurestore/customer_churn",
    ]
    assert all("*" not in action for action in _actions(statements))


def test_a_given_role_receives_the_offline_store_grants(template: dict[str, Any]) -> None:
    statements = _statements(template, "LedgerRole")
    assert {"s3:PutObject", "glue:UpdateTable", "kms:GenerateDataKey"} <= _actions(statements)
    assert "/fs/ledger/*" in str(statements)
    assert ":table/finance_features/ledger" in str(statements)


# --- grants ---------------------------------------------------------------------------------------


def _group_arn_suffixes(statement: dict[str, Any]) -> list[str]:
    resources = (
        statement["Resource"]
        if isinstance(statement["Resource"], list)
        else [statement["Resource"]]
    )
    return [r["Fn::Join"][1][-1] for r in resources]


def test_grant_read_online_reads_this_group_and_decrypts_its_key(template: dict[str, Any]) -> None:
    statements = _statements(template, "Reader")
    (records,) = [s for s in statements if "sagemaker:GetRecord" in s["Action"]]
    assert sorted(records["Action"]) == ["sagemaker:BatchGetRecord", "sagemaker:GetRecord"]
    assert _group_arn_suffixes(records) == [":feature-group/customer-churn"]
    assert "sagemaker:PutRecord" not in _actions(statements)
    assert any(
        "kms:Decrypt" in s["Action"] and s["Resource"] == _key_arn(template, "LakeKey")
        for s in statements
    )


def test_grant_write_puts_and_deletes_records_of_this_group_only(template: dict[str, Any]) -> None:
    statements = _statements(template, "Writer")
    (records,) = [s for s in statements if "sagemaker:PutRecord" in s["Action"]]
    assert sorted(records["Action"]) == ["sagemaker:DeleteRecord", "sagemaker:PutRecord"]
    assert _group_arn_suffixes(records) == [":feature-group/customer-churn"]
    assert "sagemaker:GetRecord" not in _actions(statements)
    assert "kms:Decrypt" in _actions(statements)


def test_writing_an_offline_only_group_needs_no_key(template: dict[str, Any]) -> None:
    statements = _statements(template, "LedgerWriter")
    assert _actions(statements) == {"sagemaker:PutRecord", "sagemaker:DeleteRecord"}


def test_a_mixed_case_group_is_granted_under_both_arn_spellings(template: dict[str, Any]) -> None:
    statements = _statements(template, "SessionReader")
    (records,) = [s for s in statements if "sagemaker:GetRecord" in s["Action"]]
    assert set(_group_arn_suffixes(records)) == {
        ":feature-group/session_features",
        ":feature-group/Session_Features",
    }


def test_grant_query_offline_reads_only_this_groups_table_and_prefix(
    template: dict[str, Any],
) -> None:
    statements = _statements(template, "Reader")
    (glue,) = [s for s in statements if "glue:GetTable" in s["Action"]]
    assert "glue:UpdateTable" not in glue["Action"]
    assert [r["Fn::Join"][1][-1] for r in glue["Resource"]] == [
        ":catalog",
        ":database/sagemaker_featurestore",
        ":table/sagemaker_featurestore/customer_churn",
    ]
    object_prefixes = {
        part
        for s in statements
        if any(a.startswith("s3:") for a in s["Action"])
        for r in s["Resource"]
        if isinstance(r, dict) and "Fn::Join" in r
        for part in r["Fn::Join"][1]
        if isinstance(part, str)
    }
    assert object_prefixes == {"/feature-store/customer-churn/*", "/athena-results/features.dev/*"}
    (reads,) = [s for s in statements if "/feature-store/customer-churn/*" in str(s["Resource"])]
    assert "s3:PutObject" not in reads["Action"]


def test_grant_query_offline_runs_queries_in_the_workgroup_only(template: dict[str, Any]) -> None:
    statements = _statements(template, "Reader")
    (athena,) = [s for s in statements if "athena:StartQueryExecution" in s["Action"]]
    assert athena["Resource"]["Fn::Join"][1][-1] == ":workgroup/features.dev"
    assert "athena:*" not in athena["Action"]


def test_grant_query_offline_without_workgroup_decrypts_the_groups_own_key(
    template: dict[str, Any],
) -> None:
    statements = _statements(template, "Analyst")
    assert not [a for a in _actions(statements) if a.startswith("athena:")]
    assert any(
        s["Action"] == "kms:Decrypt" and s["Resource"] == _key_arn(template, "LedgerKey")
        for s in statements
    )
    assert ":table/finance_features/ledger" in str(statements)


def test_grants_need_the_store_they_read(built: dict[str, Any]) -> None:
    with pytest.raises(
        ValueError, match="grant_read_online: feature group 'ledger-v2' has no online store"
    ):
        built["ledger"].grant_read_online(iam.AccountRootPrincipal())
    with pytest.raises(
        ValueError, match="grant_query_offline: feature group 'scores' has no offline store"
    ):
        built["scores"].grant_query_offline(iam.AccountRootPrincipal())


def test_offline_table_describes_the_glue_table_for_time_travel(built: dict[str, Any]) -> None:
    assert built["churn"].offline_table == OfflineTable(
        database="sagemaker_featurestore",
        table="customer_churn",
        record_identifier="customer_id",
        event_time="event_time",
        event_time_format=EventTimeFormat.ISO8601,
        features=("customer_id", "event_time", "age", "monthly_spend"),
    )
    assert built["scores"].offline_table is None


# --- the Athena workgroup -----------------------------------------------------------------------


def test_workgroup_enforces_encrypted_results_in_the_curated_zone(template: dict[str, Any]) -> None:
    (workgroup,) = resources_of_type(template, "AWS::Athena::WorkGroup").values()
    curated = _logical_id(template, "AWS::S3::Bucket", "LakeCuratedBucket")
    assert workgroup["DeletionPolicy"] == "Retain"
    props = workgroup["Properties"]
    assert props["Name"] == "features.dev"
    assert props["State"] == "ENABLED"
    config = props["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["PublishCloudWatchMetricsEnabled"] is True
    assert config["BytesScannedCutoffPerQuery"] == 10 * 1024**3
    assert config["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
    assert config["ResultConfiguration"] == {
        "EncryptionConfiguration": {
            "EncryptionOption": "SSE_KMS",
            "KmsKey": _key_arn(template, "LakeKey"),
        },
        "ExpectedBucketOwner": {"Ref": "AWS::AccountId"},
        "OutputLocation": {
            "Fn::Join": ["", ["s3://", {"Ref": curated}, "/athena-results/features.dev/"]]
        },
    }


def test_workgroup_results_expire_through_a_prefix_lifecycle_rule(template: dict[str, Any]) -> None:
    Template.from_json(template).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        {
                            "Id": "ExpireAthenaResults-features.dev",
                            "Prefix": "athena-results/features.dev/",
                            "ExpirationInDays": 7,
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                            "Status": "Enabled",
                        }
                    ]
                )
            }
        },
    )


def test_a_given_role_without_offline_store_is_flagged() -> None:
    stack = new_stack()
    FeatureGroup(
        stack,
        "Group",
        feature_group_name="g",
        features=[Feature("id", FeatureType.STRING), Feature("t", FeatureType.STRING)],
        record_identifier="id",
        event_time="t",
        offline_store=None,
        role=iam.Role.from_role_name(stack, "Existing", "existing"),
        removal_policy=RemovalPolicy.DESTROY,
    )
    Annotations.from_stack(stack).has_warning(
        "/Test/Group", Match.string_like_regexp("role is only used to write the offline store")
    )
    group = _group(template_of(stack), "g")
    assert group["DeletionPolicy"] == "Delete"
    assert "RoleArn" not in group["Properties"]

"""DataLake: every security property of every bucket, the grants, and the validation errors."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemaker_lifecycle import DataLake, Zone
from sagemaker_lifecycle._internal.nag import acknowledge_inline_policy
from tests.support import new_stack, resources_of_type, template_of

ZONE_BUCKETS = [
    "RawBucket",
    "CuratedBucket",
    "ArtifactsBucket",
    "CaptureBucket",
    "MonitoringBucket",
]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    stack = new_stack()
    lake = DataLake(stack, "Lake", capture_expiration=Duration.days(30))
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    lake.grant_read(reader, Zone.CURATED, "features/churn/")
    writer = iam.Role(stack, "Writer", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    lake.grant_write(writer, Zone.ARTIFACTS, "models/churn")
    for role in (reader, writer):
        acknowledge_inline_policy(role)
    return template_of(stack)


def _bucket(template: dict[str, Any], construct_id: str) -> dict[str, Any]:
    matches = [
        resource
        for logical_id, resource in resources_of_type(template, "AWS::S3::Bucket").items()
        if logical_id.startswith(f"Lake{construct_id}")
    ]
    assert len(matches) == 1, construct_id
    bucket: dict[str, Any] = matches[0]
    return bucket


def test_six_buckets_and_one_key(template: dict[str, Any]) -> None:
    assert len(resources_of_type(template, "AWS::S3::Bucket")) == 6
    keys = resources_of_type(template, "AWS::KMS::Key")
    assert len(keys) == 1
    (key,) = keys.values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert key["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("bucket_id", ZONE_BUCKETS)
def test_zone_bucket_is_kms_encrypted_with_the_lake_key(
    template: dict[str, Any], bucket_id: str
) -> None:
    (key_id,) = resources_of_type(template, "AWS::KMS::Key")
    rule = _bucket(template, bucket_id)["Properties"]["BucketEncryption"][
        "ServerSideEncryptionConfiguration"
    ][0]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
    }
    assert rule["BucketKeyEnabled"] is True


def test_access_log_bucket_uses_sse_s3_because_log_delivery_requires_it(
    template: dict[str, Any],
) -> None:
    encryption = _bucket(template, "AccessLogBucket")["Properties"]["BucketEncryption"]
    assert encryption["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }


@pytest.mark.parametrize("bucket_id", [*ZONE_BUCKETS, "AccessLogBucket"])
def test_bucket_blocks_public_access_is_versioned_and_retained(
    template: dict[str, Any], bucket_id: str
) -> None:
    bucket = _bucket(template, bucket_id)
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["Properties"]["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("bucket_id", [*ZONE_BUCKETS, "AccessLogBucket"])
def test_bucket_policy_denies_plain_http_and_old_tls(
    template: dict[str, Any], bucket_id: str
) -> None:
    policies = [
        p
        for p in resources_of_type(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"]["Ref"].startswith(f"Lake{bucket_id}")
    ]
    assert len(policies) == 1
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in denies]
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in [s["Condition"] for s in denies]
    for deny in denies:
        assert deny["Principal"] == {"AWS": "*"}
        assert deny["Action"] == "s3:*"


@pytest.mark.parametrize("bucket_id", ZONE_BUCKETS)
def test_zone_bucket_logs_access_to_the_log_bucket(
    template: dict[str, Any], bucket_id: str
) -> None:
    logging = _bucket(template, bucket_id)["Properties"]["LoggingConfiguration"]
    assert logging["DestinationBucketName"]["Ref"].startswith("LakeAccessLogBucket")
    assert logging["LogFilePrefix"].endswith("/")


@pytest.mark.parametrize("bucket_id", ZONE_BUCKETS)
def test_zone_bucket_lifecycle_expires_old_versions_and_aborts_uploads(
    template: dict[str, Any], bucket_id: str
) -> None:
    (rule,) = _bucket(template, bucket_id)["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rule["Status"] == "Enabled"


def test_only_capture_bucket_expires_current_objects(template: dict[str, Any]) -> None:
    for bucket_id in ZONE_BUCKETS:
        (rule,) = _bucket(template, bucket_id)["Properties"]["LifecycleConfiguration"]["Rules"]
        assert rule.get("ExpirationInDays") == (30 if bucket_id == "CaptureBucket" else None)


def test_grant_read_is_scoped_to_the_prefix(template: dict[str, Any]) -> None:
    Template.from_json(template).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("^Reader")}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": Match.array_with(["s3:GetObject*"]),
                                "Resource": Match.array_with(
                                    [
                                        {
                                            "Fn::Join": [
                                                "",
                                                [
                                                    {
                                                        "Fn::GetAtt": [
                                                            Match.string_like_regexp(
                                                                "^LakeCuratedBucket"
                                                            ),
                                                            "Arn",
                                                        ]
                                                    },
                                                    "/features/churn/*",
                                                ],
                                            ]
                                        }
                                    ]
                                ),
                            }
                        ),
                        Match.object_like({"Action": Match.array_with(["kms:Decrypt"])}),
                    ]
                )
            },
        },
    )


def test_grant_write_does_not_grant_read(template: dict[str, Any]) -> None:
    (policy,) = [
        p
        for p in resources_of_type(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith("Writer")
    ]
    actions = {
        action
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert "s3:PutObject" in actions
    assert "s3:GetObject*" not in actions
    resources = str(policy["Properties"]["PolicyDocument"])
    assert "/models/churn/*" in resources
    assert "Curated" not in resources


def test_retention_can_be_changed_for_throwaway_environments() -> None:
    stack = new_stack()
    DataLake(stack, "Lake", removal_policy=RemovalPolicy.DESTROY)
    buckets = resources_of_type(template_of(stack), "AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in buckets.values()} == {"Delete"}


def test_s3_uri_points_into_the_zone() -> None:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    uri = stack.resolve(lake.s3_uri(Zone.MONITORING, "reports/"))
    assert "Fn::Join" in uri
    assert uri["Fn::Join"][1][0] == "s3://"
    assert uri["Fn::Join"][1][-1] == "/reports/"


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"noncurrent_version_expiration": Duration.days(0)}, "noncurrent_version_expiration"),
        ({"noncurrent_version_expiration": Duration.hours(36)}, "whole number of days"),
        (
            {"abort_incomplete_multipart_upload_after": Duration.days(0)},
            "abort_incomplete_multipart_upload_after",
        ),
        ({"capture_expiration": Duration.days(0)}, "capture_expiration must be at least 1"),
        ({"access_log_expiration": Duration.minutes(5)}, "access_log_expiration"),
    ],
)
def test_invalid_retention_is_rejected_at_synth_time(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DataLake(new_stack(), "Lake", **props)


def test_every_invalid_prop_is_reported_at_once() -> None:
    with pytest.raises(ValueError, match="noncurrent_version_expiration") as error:
        DataLake(
            new_stack(),
            "Lake",
            noncurrent_version_expiration=Duration.days(0),
            access_log_expiration=Duration.days(0),
        )
    assert "access_log_expiration" in str(error.value)


@pytest.mark.parametrize(
    "prefix", ["/absolute", "a/*", "a//b", "../escape", "a/../b", "", "sp ace", "*"]
)
def test_grant_with_a_widening_prefix_is_rejected(prefix: str) -> None:
    stack = new_stack()
    lake = DataLake(stack, "Lake")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    with pytest.raises(ValueError, match="prefix must be a relative S3 key prefix"):
        lake.grant_read(role, Zone.RAW, prefix)


_SEGMENT = st.text(alphabet=st.sampled_from("abcXYZ019!_.'()=-"), min_size=1, max_size=8).filter(
    lambda s: s not in {".", ".."}
)


@settings(max_examples=40, deadline=None)
@given(segments=st.lists(_SEGMENT, min_size=1, max_size=4), trailing=st.booleans())
def test_any_plain_relative_prefix_is_granted_as_prefix_star(
    segments: list[str], trailing: bool
) -> None:
    from sagemaker_lifecycle.data_lake import _objects_pattern

    prefix = "/".join(segments) + ("/" if trailing else "")
    assert _objects_pattern(prefix) == "/".join(segments) + "/*"


_WIDENING_PREFIX = st.one_of(
    st.builds(
        lambda head, bad, tail: head + bad + tail,
        _SEGMENT,
        st.sampled_from(["*", "?", " ", "\\", "\n", "//", "/../", "/./"]),
        _SEGMENT,
    ),
    st.builds(lambda tail: "/" + tail, _SEGMENT),
    st.builds(lambda head: head + "/..", _SEGMENT),
)


@settings(max_examples=40)
@given(prefix=_WIDENING_PREFIX)
def test_any_prefix_with_wildcards_or_bad_separators_is_rejected(prefix: str) -> None:
    from sagemaker_lifecycle.data_lake import _objects_pattern

    with pytest.raises(ValueError, match="prefix"):
        _objects_pattern(prefix)

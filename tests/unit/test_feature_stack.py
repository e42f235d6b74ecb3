"""The reference feature stack, synthesized next to a data stack: packs, cfn-lint, contents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import cx_api
from cfnlint.api import ManualArgs, lint_file

from stacks.config import DataConfig
from stacks.data_stack import DataStack
from stacks.feature_stack import CUSTOMER_CHURN_FEATURES, FeatureStack
from tests.support import new_app, resources_of_type

REGIONS = ["us-east-1", "eu-west-1"]


@pytest.fixture(scope="module")
def assembly() -> cx_api.CloudAssembly:
    app = new_app()
    data = DataStack(app, "Data", config=DataConfig())
    FeatureStack(app, "Features", data_lake=data.data_lake, name_prefix="dev-")
    # Synthesis runs the AwsSolutions, HIPAA and NIST packs and fails on any open finding.
    return app.synth()


@pytest.fixture(scope="module")
def template(assembly: cx_api.CloudAssembly) -> dict[str, Any]:
    return assembly.get_stack_by_name("Features").template  # type: ignore[no-any-return]


@pytest.mark.parametrize("stack_name", ["Features", "Data"])
def test_templates_have_no_cfn_lint_findings(
    assembly: cx_api.CloudAssembly, stack_name: str
) -> None:
    path = Path(assembly.get_stack_by_name(stack_name).template_full_path)
    matches = lint_file(path, config=ManualArgs(regions=REGIONS))
    assert matches == [], "\n".join(f"{m.rule.id} {m.message} ({m.path})" for m in matches)


def test_one_churn_feature_group_in_the_curated_zone(template: dict[str, Any]) -> None:
    (group,) = resources_of_type(template, "AWS::SageMaker::FeatureGroup").values()
    props = group["Properties"]
    assert props["FeatureGroupName"] == "dev-customer-churn"
    assert [d["FeatureName"] for d in props["FeatureDefinitions"]] == [
        f.name for f in CUSTOMER_CHURN_FEATURES
    ]
    assert props["OnlineStoreConfig"]["TtlDuration"] == {"Unit": "Days", "Value": 365}
    offline = props["OfflineStoreConfig"]
    assert offline["TableFormat"] == "Iceberg"
    assert offline["DataCatalogConfig"]["TableName"] == "dev_customer_churn"
    # The bucket and key come from the data stack.
    for reference in (offline["S3StorageConfig"]["KmsKeyId"], offline["S3StorageConfig"]["S3Uri"]):
        assert "'Fn::GetStackOutput': {'StackName': 'Data'" in str(reference)


def test_one_workgroup_writing_results_to_the_curated_zone(template: dict[str, Any]) -> None:
    (workgroup,) = resources_of_type(template, "AWS::Athena::WorkGroup").values()
    assert workgroup["Properties"]["Name"] == "dev-feature-store"
    location = str(workgroup["Properties"]["WorkGroupConfiguration"]["ResultConfiguration"])
    assert "/athena-results/dev-feature-store/" in location


def test_query_results_expire_in_the_data_stacks_curated_bucket(
    assembly: cx_api.CloudAssembly,
) -> None:
    buckets = resources_of_type(assembly.get_stack_by_name("Data").template, "AWS::S3::Bucket")
    rules = [
        rule
        for logical_id, bucket in buckets.items()
        if logical_id.startswith("DataLakeCuratedBucket")
        for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    ]
    assert {
        "Id": "ExpireAthenaResults-dev-feature-store",
        "Prefix": "athena-results/dev-feature-store/",
    }.items() <= next(r for r in rules if r.get("Id", "").startswith("ExpireAthena")).items()

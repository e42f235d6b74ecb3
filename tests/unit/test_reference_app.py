"""The reference app as a whole: stages, environments, tags, and the synthesized files."""

from __future__ import annotations

from aws_cdk import App, Token

from sagemaker_lifecycle.tagging import TAG_PREFIX
from stacks.config import parse_config
from stacks.platform import build_platform
from tests.conftest import SynthesizedApp
from tests.support import cdk_json_context


def test_default_app_is_one_environment_agnostic_dev_stage(reference_app: SynthesizedApp) -> None:
    (stage,) = reference_app.stages
    assert stage.config.name == "dev"
    for stack in stage.stacks:
        assert Token.is_unresolved(stack.account)
        assert Token.is_unresolved(stack.region)
        assert (reference_app.outdir / f"{stack.stack_name}.template.json").is_file()


TAGGABLE = {"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::EC2::VPC", "AWS::Logs::LogGroup"}


def test_taggable_resources_carry_project_and_stage(reference_app: SynthesizedApp) -> None:
    tagged_types = set()
    for template in reference_app.templates.values():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in TAGGABLE:
                tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
                assert tags[f"{TAG_PREFIX}:project"] == "MlPlatform", logical_id
                assert tags[f"{TAG_PREFIX}:stage"] == "dev", logical_id
                tagged_types.add(resource["Type"])
    assert tagged_types == TAGGABLE


def test_stages_are_pinned_to_their_accounts_and_regions() -> None:
    app = App(context=cdk_json_context())
    config = parse_config(
        {
            "stages": [
                {"name": "dev", "account": "111111111111", "region": "eu-west-1"},
                {"name": "prod", "account": "333333333333", "region": "us-east-1"},
            ]
        }
    )
    stages = build_platform(app, config)
    assert [s.network.stack_name for s in stages] == [
        "MlPlatform-dev-Network",
        "MlPlatform-prod-Network",
    ]
    assert [(s.data.account, s.data.region) for s in stages] == [
        ("111111111111", "eu-west-1"),
        ("333333333333", "us-east-1"),
    ]

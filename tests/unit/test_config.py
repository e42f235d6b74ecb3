"""The reference app's config: the embedded default, files, context, and one clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from stacks.config import (
    CONFIG_FILE_CONTEXT_KEY,
    CONTEXT_KEY,
    AppConfig,
    ConfigError,
    load_config,
    parse_config,
)

THREE_STAGES = {
    "project": "Churn",
    "stages": [
        {"name": "dev", "account": "111111111111", "region": "eu-west-1"},
        {"name": "staging", "account": "222222222222", "region": "eu-west-1"},
        {
            "name": "prod",
            "account": "333333333333",
            "region": "eu-central-1",
            "network": {"cidr": "10.90.0.0/16", "max_azs": 3},
            "data": {"capture_retention_days": 30},
        },
    ],
}


def test_no_context_gives_one_environment_agnostic_dev_stage() -> None:
    config = load_config(App().node)
    assert config == AppConfig(project="MlPlatform", stages=config.stages)
    (stage,) = config.stages
    assert (stage.name, stage.account, stage.region) == ("dev", None, None)


def test_config_file_from_context(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(THREE_STAGES))
    config = load_config(App(context={CONFIG_FILE_CONTEXT_KEY: str(path)}).node)
    assert [s.name for s in config.stages] == ["dev", "staging", "prod"]
    prod = config.stages[2]
    assert (prod.account, prod.region) == ("333333333333", "eu-central-1")
    assert (prod.network.cidr, prod.network.max_azs) == ("10.90.0.0/16", 3)
    assert prod.data.capture_retention_days == 30
    assert config.stages[0].data.capture_retention_days is None


@pytest.mark.parametrize("as_string", [False, True])
def test_inline_config_from_context(as_string: bool) -> None:
    value: Any = json.dumps(THREE_STAGES) if as_string else THREE_STAGES
    config = load_config(App(context={CONTEXT_KEY: value}).node)
    assert config.project == "Churn"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ([], "<root>"),
        ({"stages": []}, "stages"),
        ({"stagez": [{"name": "dev"}]}, "stagez"),
        ({"stages": [{"name": "Dev"}]}, "stages[0].name"),
        ({"stages": [{"name": "dev"}, {"name": "dev"}]}, "stages[1].name"),
        ({"stages": [{"name": "dev", "account": "123"}]}, "stages[0].account"),
        (
            {"stages": [{"name": "dev", "account": 111111111111, "region": "eu-west-1"}]},
            "stages[0].account",
        ),
        ({"stages": [{"name": "dev", "account": "111111111111"}]}, "stages[0].account"),
        (
            {"stages": [{"name": "dev", "region": "Europe", "account": "111111111111"}]},
            "stages[0].region",
        ),
        ({"stages": [{"name": "dev", "network": {"max_azs": 1}}]}, "stages[0].network.max_azs"),
        ({"stages": [{"name": "dev", "network": {"cidr": 10}}]}, "stages[0].network.cidr"),
        ({"stages": [{"name": "dev", "network": {"vpc": "x"}}]}, "stages[0].network.vpc"),
        (
            {"stages": [{"name": "dev", "data": {"noncurrent_version_days": 0}}]},
            "stages[0].data.noncurrent_version_days",
        ),
        (
            {"stages": [{"name": "dev", "data": {"capture_retention_days": True}}]},
            "stages[0].data.capture_retention_days",
        ),
        ({"project": "my project", "stages": [{"name": "dev"}]}, "project"),
    ],
)
def test_bad_config_names_the_key(raw: Any, key: str) -> None:
    with pytest.raises(ConfigError, match=f"key '{key}'".replace("[", r"\[").replace("]", r"\]")):
        parse_config(raw)


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(App(context={CONFIG_FILE_CONTEXT_KEY: str(tmp_path / "nope.json")}).node)


def test_malformed_json_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(App(context={CONFIG_FILE_CONTEXT_KEY: str(path)}).node)

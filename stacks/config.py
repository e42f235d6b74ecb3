"""Typed configuration of the reference app: which stages, in which accounts and regions.

With no context the app builds one environment-agnostic ``dev`` stage (:data:`DEFAULT_CONFIG`).
Otherwise the config comes from ``-c config=path/to/config.json`` or from the
``sagemaker-lifecycle`` key of ``cdk.json``'s context. Unknown keys and bad values fail with
one :class:`ConfigError` that names the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from constructs import Node

CONTEXT_KEY = "sagemaker-lifecycle"
CONFIG_FILE_CONTEXT_KEY = "config"

DEFAULT_CONFIG: Mapping[str, Any] = {"project": "MlPlatform", "stages": [{"name": "dev"}]}

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_PROJECT = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,23}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$")


class ConfigError(ValueError):
    """The app's configuration is invalid; the message names the key."""


@dataclass(frozen=True)
class NetworkConfig:
    """The stage's ML network."""

    cidr: str = "10.80.0.0/16"
    max_azs: int = 2


@dataclass(frozen=True)
class DataConfig:
    """The stage's data lake retention, in days."""

    noncurrent_version_days: int = 90
    capture_retention_days: int | None = None
    access_log_retention_days: int = 365


@dataclass(frozen=True)
class StageConfig:
    """One deployment stage (dev, staging, prod), optionally pinned to an account/region."""

    name: str
    account: str | None = None
    region: str | None = None
    network: NetworkConfig = field(default_factory=NetworkConfig)
    data: DataConfig = field(default_factory=DataConfig)


@dataclass(frozen=True)
class AppConfig:
    """The whole reference app."""

    project: str
    stages: tuple[StageConfig, ...]


def load_config(node: Node) -> AppConfig:
    """Read the config from the app's context, falling back to :data:`DEFAULT_CONFIG`."""
    path = node.try_get_context(CONFIG_FILE_CONTEXT_KEY)
    if path is not None:
        return parse_config(_read_json(str(path)), source=str(path))
    inline = node.try_get_context(CONTEXT_KEY)
    if inline is not None:
        if isinstance(inline, str):  # `-c sagemaker-lifecycle='{...}'` arrives as a string
            inline = _loads(inline, source=f"context {CONTEXT_KEY}")
        return parse_config(inline, source=f"context {CONTEXT_KEY}")
    return parse_config(DEFAULT_CONFIG, source="default config")


def parse_config(raw: object, *, source: str = "config") -> AppConfig:
    """Validate ``raw`` (parsed JSON) into an :class:`AppConfig`."""
    root = _object(raw, "", source, allowed={"project", "stages"})
    project = root.get("project", DEFAULT_CONFIG["project"])
    if not isinstance(project, str) or not _PROJECT.match(project):
        _fail(
            source, "project", f"must match {_PROJECT.pattern} (it prefixes stack names)", project
        )
    stages_raw = root.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        _fail(source, "stages", "must be a non-empty list of stages", stages_raw)
    stages = tuple(_stage(item, f"stages[{i}]", source) for i, item in enumerate(stages_raw))
    seen: set[str] = set()
    for i, stage in enumerate(stages):
        if stage.name in seen:
            _fail(source, f"stages[{i}].name", "must be unique across stages", stage.name)
        seen.add(stage.name)
    return AppConfig(project=project, stages=stages)


def _stage(raw: object, key: str, source: str) -> StageConfig:
    obj = _object(raw, key, source, allowed={"name", "account", "region", "network", "data"})
    name = obj.get("name")
    if not isinstance(name, str) or not _STAGE_NAME.match(name):
        _fail(source, f"{key}.name", f"must match {_STAGE_NAME.pattern}", name)
    account = obj.get("account")
    if account is not None and (not isinstance(account, str) or not _ACCOUNT.match(account)):
        _fail(source, f"{key}.account", "must be a 12-digit AWS account id as a string", account)
    region = obj.get("region")
    if region is not None and (not isinstance(region, str) or not _REGION.match(region)):
        _fail(source, f"{key}.region", "must be an AWS region such as 'eu-west-1'", region)
    if (account is None) != (region is None):
        _fail(source, f"{key}.account", "and region must be given together or not at all", account)
    return StageConfig(
        name=name,
        account=account,
        region=region,
        network=_network(obj.get("network", {}), f"{key}.network", source),
        data=_data(obj.get("data", {}), f"{key}.data", source),
    )


def _network(raw: object, key: str, source: str) -> NetworkConfig:
    obj = _object(raw, key, source, allowed={"cidr", "max_azs"})
    defaults = NetworkConfig()
    cidr = obj.get("cidr", defaults.cidr)
    if not isinstance(cidr, str):
        _fail(source, f"{key}.cidr", "must be a string such as '10.80.0.0/16'", cidr)
    return NetworkConfig(
        cidr=cidr, max_azs=_int(obj, "max_azs", key, source, defaults.max_azs, minimum=2)
    )


def _data(raw: object, key: str, source: str) -> DataConfig:
    obj = _object(
        raw,
        key,
        source,
        allowed={"noncurrent_version_days", "capture_retention_days", "access_log_retention_days"},
    )
    defaults = DataConfig()
    capture = obj.get("capture_retention_days")
    return DataConfig(
        noncurrent_version_days=_int(
            obj, "noncurrent_version_days", key, source, defaults.noncurrent_version_days
        ),
        capture_retention_days=None
        if capture is None
        else _int(obj, "capture_retention_days", key, source, 0),
        access_log_retention_days=_int(
            obj, "access_log_retention_days", key, source, defaults.access_log_retention_days
        ),
    )


def _int(
    obj: Mapping[str, Any], name: str, key: str, source: str, default: int, *, minimum: int = 1
) -> int:
    value = obj.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(source, f"{key}.{name}", f"must be an integer >= {minimum}", value)
    return value


def _object(raw: object, key: str, source: str, *, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        _fail(source, key or "<root>", "must be a JSON object", raw)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        where = f"{key}.{unknown[0]}" if key else unknown[0]
        _fail(source, where, f"is not a known key (known: {', '.join(sorted(allowed))})", None)
    return raw


def _read_json(path: str) -> object:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"config: cannot read config file {path!r}: {error}") from error
    return _loads(text, source=path)


def _loads(text: str, *, source: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{source}: not valid JSON: {error}") from error


def _fail(source: str, key: str, rule: str, value: object) -> NoReturn:
    shown = "" if value is None else f", got {value!r}"
    raise ConfigError(f"{source}: key '{key}' {rule}{shown}")

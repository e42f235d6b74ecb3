"""Helpers shared by the tests: apps that run the compliance packs, template normalization."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from sagemaker_lifecycle import add_compliance_checks

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Every stack the default reference app synthesizes; snapshot and cfn-lint tests run per
#: stack, and a test checks this list against the app so a new stack cannot go unchecked.
REFERENCE_STACKS = (
    "MlPlatform-dev-Network",
    "MlPlatform-dev-Data",
    "MlPlatform-dev-Features",
    "MlPlatform-dev-Pipelines",
    "MlPlatform-dev-Serving",
    "MlPlatform-dev-Approval",
    "MlPlatform-dev-Monitoring",
    "MlPlatform-dev-Studio",
)

# 64 hex digits: asset hashes in S3 keys, asset paths and ECR tags.
_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def cdk_json_context() -> dict[str, Any]:
    """The feature flags and context of cdk.json, so tests synthesize what the CLI does."""
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8"))[
        "context"
    ]
    return context


def new_app(**context: Any) -> App:
    """An app with cdk.json's context and the compliance packs: any open finding fails."""
    app = App(context={**cdk_json_context(), **context})
    add_compliance_checks(app)
    return app


def new_stack(stack_id: str = "Test", **context: Any) -> Stack:
    """A stack in :func:`new_app`."""
    return Stack(new_app(**context), stack_id)


def normalize_template(template: dict[str, Any]) -> dict[str, Any]:
    """The one place where volatile values are taken out of a template for snapshots.

    - asset hashes (they change with any byte of a Lambda source) become ``<asset-hash>``;
    - the bootstrap-version parameter and rule (synthesizer plumbing) are dropped;
    - ``AWS::CDK::Metadata`` (present from the CLI only) is dropped.
    """
    result = copy.deepcopy(template)
    result.get("Parameters", {}).pop("BootstrapVersion", None)
    result.get("Rules", {}).pop("CheckBootstrapVersion", None)
    result.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    resources = result.get("Resources", {})
    for logical_id in [k for k, v in resources.items() if v["Type"] == "AWS::CDK::Metadata"]:
        del resources[logical_id]
    for section in ("Parameters", "Rules", "Conditions"):
        if section in result and not result[section]:
            del result[section]
    normalized: dict[str, Any] = normalize_values(result)
    return normalized


def normalize_values(value: Any) -> Any:
    """``value`` (any JSON) with asset hashes replaced and keys sorted, for snapshots."""
    return json.loads(_ASSET_HASH.sub("<asset-hash>", json.dumps(value, sort_keys=True)))


def template_of(stack: Stack) -> dict[str, Any]:
    """The synthesized template of ``stack`` as plain JSON (runs the compliance packs)."""
    return dict(Template.from_stack(stack).to_json())


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    """Logical id -> resource for every resource of ``resource_type``."""
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == resource_type
    }

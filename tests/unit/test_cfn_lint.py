"""cfn-lint over every template the reference app synthesizes: zero errors, no surprises."""

from __future__ import annotations

import re

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.conftest import SynthesizedApp
from tests.support import REFERENCE_STACKS

# Regions the templates are linted for: the default region and one with fewer services.
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]

# Warnings that CDK itself generates and we cannot change; each pattern says why.
ALLOWED_WARNINGS: list[tuple[str, re.Pattern[str]]] = [
    # CDK's CustomResourceProvider (used by the VPC's restrict-default-security-group
    # resource) adds an explicit DependsOn on its role next to the GetAtt of that role.
    ("W3005", re.compile(r"^'Custom\w+CustomResourceProviderRole\w+' dependency already enforced")),
    # CDK's lambda.Function adds an explicit DependsOn on its role (and the role's default
    # policy) next to the GetAtt of the role's ARN.
    ("W3005", re.compile(r"^'\w+Role[0-9A-F]{8}' dependency already enforced by a 'GetAtt'")),
]


@pytest.mark.parametrize("stack_name", REFERENCE_STACKS)
def test_template_has_no_cfn_lint_errors_or_unexpected_warnings(
    reference_app: SynthesizedApp, stack_name: str
) -> None:
    path = reference_app.outdir / f"{stack_name}.template.json"
    matches = lint_file(path, config=ManualArgs(regions=REGIONS))
    unexpected = [
        match
        for match in matches
        if not any(
            match.rule.id == rule_id and pattern.search(match.message)
            for rule_id, pattern in ALLOWED_WARNINGS
        )
    ]
    assert unexpected == [], "\n".join(f"{m.rule.id} {m.message} ({m.path})" for m in unexpected)

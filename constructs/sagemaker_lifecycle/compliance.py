"""Compliance gates: the cdk-nag packs every app using the library is checked against."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks


def compliance_packs(app: App) -> list[NagPack]:
    """The packs the library's constructs are written to pass with zero open findings."""
    return [AwsSolutionsChecks(app), HIPAASecurityChecks(app), NIST80053R5Checks(app)]


def add_compliance_checks(app: App) -> None:
    """Register AwsSolutions, HIPAA Security and NIST 800-53 rev 5 as validation plugins.

    Synthesis (and ``Template.from_stack``) then fails on any finding that is not
    acknowledged with a reason.
    """
    Validations.of(app).add_plugins(*compliance_packs(app))

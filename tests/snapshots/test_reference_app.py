"""One snapshot per stack of the reference app, normalized so any machine gets the same bytes.

A change to infrastructure shows up here as a readable JSON diff; `make snapshots` accepts it.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import SynthesizedApp
from tests.support import REFERENCE_STACKS, normalize_template


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_every_stack_has_a_snapshot(reference_app: SynthesizedApp) -> None:
    assert sorted(reference_app.templates) == sorted(REFERENCE_STACKS)


@pytest.mark.parametrize("stack_name", REFERENCE_STACKS)
def test_stack_template(
    reference_app: SynthesizedApp, json_snapshot: SnapshotAssertion, stack_name: str
) -> None:
    assert normalize_template(reference_app.templates[stack_name]) == json_snapshot

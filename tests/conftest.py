"""Session fixtures: the reference app is synthesized once and read by many tests."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from hypothesis import settings

from stacks.config import DEFAULT_CONFIG, parse_config
from stacks.platform import PlatformStage, build_platform
from tests.support import REPO_ROOT, cdk_json_context

# jsii runs its kernel on `node`; use the venv's supported Node.js when the suite is started
# without the Makefile's PATH.
_VENV_NODE = REPO_ROOT / ".venv" / "bin" / "node"
if _VENV_NODE.exists() and "JSII_NODE" not in os.environ:
    os.environ["JSII_NODE"] = str(_VENV_NODE)


@dataclass(frozen=True)
class SynthesizedApp:
    """The reference app synthesized into ``outdir``: templates by stack name."""

    outdir: Path
    stages: list[PlatformStage]
    templates: dict[str, dict[str, Any]]


@pytest.fixture(scope="session")
def reference_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynthesizedApp]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(outdir=str(outdir), context=cdk_json_context())
    stages = build_platform(app, parse_config(DEFAULT_CONFIG))
    assembly = app.synth()
    templates = {stack.stack_name: stack.template for stack in assembly.stacks}
    # The same files `cdk synth` leaves, for the tests that read files (cfn-lint).
    for stack in assembly.stacks:
        assert (outdir / stack.template_file).exists()
        assert json.loads((outdir / stack.template_file).read_text()) == stack.template
    yield SynthesizedApp(outdir=outdir, stages=stages, templates=templates)
    shutil.rmtree(outdir, ignore_errors=True)


# Property tests draw the same examples on every machine and run, so a red build is
# reproducible; HYPOTHESIS_PROFILE=explore draws new ones when hunting for bugs.
settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("explore", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

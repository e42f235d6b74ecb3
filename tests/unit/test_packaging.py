"""The wheel carries the Lambda handler code, and a stack synthesizes from it outside the repo.

Slow (builds a wheel and a virtual environment): marked ``slow``; part of ``make test``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

pytestmark = pytest.mark.slow

# A user's app: the compliance packs, a registry and the approval flow, from the wheel only.
_APP = """
import json
import pathlib
import sys

import sagemaker_lifecycle
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from sagemaker_lifecycle import add_compliance_checks
from sagemaker_lifecycle.model_approval_flow import ModelApprovalFlow
from sagemaker_lifecycle.model_registry import ModelRegistry

app = App(outdir="cdk.out")
add_compliance_checks(app)
stack = Stack(app, "UserApp")
registry = ModelRegistry(stack, "Registry", model_package_group_name="churn-model")
role = iam.Role(stack, "ModelRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
ModelApprovalFlow(
    stack,
    "Flow",
    registry=registry,
    endpoint_name="churn-prod",
    deployment_spec={
        "Model": {"ExecutionRoleArn": role.role_arn},
        "EndpointConfig": {
            "ProductionVariants": [
                {"VariantName": "AllTraffic", "InstanceType": "ml.m5.large",
                 "InitialInstanceCount": 1}
            ]
        },
        "DeploymentConfig": {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}]}},
    },
)
assembly = app.synth()
template = assembly.get_stack_by_name("UserApp").template
(function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
manifest = json.loads(pathlib.Path("cdk.out/UserApp.assets.json").read_text())
(asset,) = [
    a["source"]["path"] for a in manifest["files"].values() if a["source"].get("packaging") == "zip"
]
print(json.dumps({
    "package": str(pathlib.Path(sagemaker_lifecycle.__file__).parent),
    "asset_files": sorted(p.name for p in (pathlib.Path("cdk.out") / asset).iterdir()),
    "asset": asset,
    "code_key": function["Properties"]["Code"]["S3Key"],
    "runtime": function["Properties"]["Runtime"],
}))
"""


def _uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    fallback = REPO_ROOT / ".tools" / "bin" / "uv"
    if not fallback.exists():
        pytest.fail(f"uv is neither on PATH nor at {fallback}; run `make install`")
    return str(fallback)


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([_uv(), "build", "--wheel", "--out-dir", str(out)], cwd=REPO_ROOT)
    (built,) = out.glob("sagemaker_lifecycle-*.whl")
    return built


def test_the_wheel_contains_the_handler_and_the_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    handler = "sagemaker_lifecycle/lambda/deploy_approved_model/"
    assert {n for n in names if n.startswith(handler)} == {
        f"{handler}index.py",
        f"{handler}deployer.py",
    }  # the handler and its module, no caches
    assert "sagemaker_lifecycle/py.typed" in names
    assert "sagemaker_lifecycle/approve.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_a_stack_with_the_approval_flow_synthesizes_from_the_installed_wheel(
    wheel: Path, tmp_path: Path
) -> None:
    uv = _uv()
    venv = tmp_path / "venv"
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([uv, "pip", "install", "--quiet", "--python", str(python), str(wheel)], cwd=tmp_path)
    user_app = tmp_path / "user_app"
    user_app.mkdir()
    (user_app / "app.py").write_text(_APP, encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        # jsii needs a supported Node.js; the repository's venv ships one.
        "JSII_NODE": os.environ.get("JSII_NODE", str(REPO_ROOT / ".venv" / "bin" / "node")),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }

    output = _run([str(python), "app.py"], cwd=user_app, env=env)

    result = json.loads(output.strip().splitlines()[-1])
    package = Path(result["package"])
    assert package.is_relative_to(venv)  # imported from the wheel, not the checkout
    assert not package.is_relative_to(REPO_ROOT)
    assert result["asset_files"] == ["deployer.py", "index.py"]
    assert (
        result["code_key"] == result["asset"].removeprefix("asset.") + ".zip"
    )  # the function's code
    assert result["runtime"] == "python3.14"

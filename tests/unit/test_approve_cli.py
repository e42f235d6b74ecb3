"""``python -m sagemaker_lifecycle.approve``: list, approve and reject versions, against moto."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sagemaker_lifecycle.approve import main
from tests.support import REPO_ROOT

GROUP = "churn-model"
REGION = "us-east-1"


class Account:
    def __init__(self) -> None:
        self.sagemaker: Any = boto3.client("sagemaker", region_name=REGION)
        self.s3: Any = boto3.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket="artifacts")
        self.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)

    def register(self, status: str = "PendingManualApproval", report: Any = None) -> str:
        version = len(self.versions()) + 1
        key = f"{GROUP}/{version}/evaluation.json"
        if report is not None:
            self.s3.put_object(Bucket="artifacts", Key=key, Body=json.dumps(report).encode())
        arn: str = self.sagemaker.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": "123.dkr.ecr.us-east-1.amazonaws.com/x:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            ModelMetrics={
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": f"s3://artifacts/{key}",
                    }
                }
            },
        )["ModelPackageArn"]
        return arn

    def versions(self) -> list[dict[str, Any]]:
        summaries: list[dict[str, Any]] = self.sagemaker.list_model_packages(
            ModelPackageGroupName=GROUP
        )["ModelPackageSummaryList"]
        return summaries

    def describe(self, arn: str) -> dict[str, Any]:
        package: dict[str, Any] = self.sagemaker.describe_model_package(ModelPackageName=arn)
        return package

    def run(self, *argv: str) -> tuple[int, str]:
        out = io.StringIO()
        code = main(list(argv), sagemaker=self.sagemaker, s3=self.s3, out=out)
        return code, out.getvalue()


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield Account()


REPORT = {
    "binary_classification_metrics": {
        "auc": {"value": 0.91, "standard_deviation": 0.01},
        "f1": {"value": 0.7},
    }
}


def test_without_a_version_it_lists_pending_versions_with_their_metrics(account: Account) -> None:
    account.register("Approved", REPORT)
    second = account.register(report=REPORT)
    third = account.register(report={"unexpected": "shape"})

    code, out = account.run(GROUP)

    assert code == 0
    assert "v1" not in out  # approved already: not pending
    assert out.index("v3") < out.index("v2")  # newest first
    assert second in out
    assert third in out
    assert "ModelQuality binary_classification_metrics.auc = 0.91" in out
    assert "ModelQuality binary_classification_metrics.f1 = 0.7" in out
    # A report it cannot read as metrics is shown by its location.
    assert f"ModelQuality Statistics: s3://artifacts/{GROUP}/3/evaluation.json" in out


def test_an_unreadable_report_is_shown_by_its_location(account: Account) -> None:
    account.register()  # no report uploaded

    code, out = account.run(GROUP)

    assert code == 0
    assert f"ModelQuality Statistics: s3://artifacts/{GROUP}/1/evaluation.json" in out


def test_an_empty_queue_says_so(account: Account) -> None:
    account.register("Approved")

    assert account.run(GROUP) == (0, f"No version of {GROUP} is waiting for approval.\n")


def test_a_version_without_a_decision_is_shown(account: Account) -> None:
    arn = account.register("Approved", REPORT)

    code, out = account.run(GROUP, "--version", "1")

    assert code == 0
    assert "v1  Approved" in out
    assert arn in out
    assert "auc = 0.91" in out


def test_approve_records_the_decision_and_the_comment(account: Account) -> None:
    account.register()
    arn = account.register()

    code, out = account.run(
        GROUP, "--version", "2", "--approve", "--comment", "AUC 0.91 on holdout"
    )

    assert code == 0
    package = account.describe(arn)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ApprovalDescription"] == "AUC 0.91 on holdout"
    assert account.describe(account.versions()[0]["ModelPackageArn"])["ModelApprovalStatus"] == (
        "PendingManualApproval"
    )
    assert out.startswith(f"{GROUP} v2: PendingManualApproval -> Approved")


def test_reject_records_the_decision(account: Account) -> None:
    arn = account.register("Approved")

    code, _ = account.run(GROUP, "--version", "1", "--reject", "--comment", "drift in region EU")

    assert code == 0
    assert account.describe(arn)["ModelApprovalStatus"] == "Rejected"


def test_the_same_decision_again_changes_nothing(account: Account) -> None:
    arn = account.register("Approved")
    before = account.describe(arn).get("LastModifiedTime")

    code, out = account.run(GROUP, "--version", "1", "--approve", "--comment", "again")

    assert code == 0
    assert "already Approved; nothing changed" in out
    assert account.describe(arn).get("ApprovalDescription") is None
    assert account.describe(arn).get("LastModifiedTime") == before


def test_a_missing_version_fails_with_a_clear_error(
    account: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    account.register()

    code, _ = account.run(GROUP, "--version", "7", "--approve", "--comment", "ok")

    assert code == 1
    assert f"model package group {GROUP} has no version 7" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([GROUP, "--approve", "--comment", "ok"], "need --version"),
        ([GROUP, "--version", "1", "--approve"], "--comment must say why"),
        ([GROUP, "--version", "1", "--reject", "--comment", "  "], "--comment must say why"),
        ([GROUP, "--version", "1", "--approve", "--comment", "x" * 1025], "at most 1024"),
        ([GROUP, "--version", "0", "--approve", "--comment", "ok"], "must be a positive integer"),
        ([GROUP, "--version", "one"], "must be a positive integer"),
        ([GROUP, "--version", "1", "--approve", "--reject", "--comment", "ok"], "not allowed with"),
        ([], "the following arguments are required: group"),
    ],
)
def test_usage_errors_exit_with_2_and_say_why(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv, sagemaker=object(), s3=object(), out=io.StringIO())
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_module_runs_as_a_command() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "constructs")}
    result = subprocess.run(
        [sys.executable, "-m", "sagemaker_lifecycle.approve", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: python -m sagemaker_lifecycle.approve" in result.stdout
    assert "--approve" in result.stdout
    assert "--reject" in result.stdout

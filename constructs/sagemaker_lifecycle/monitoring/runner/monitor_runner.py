"""Starts the built-in monitor from its code archive, resolving the baseline first if asked.

Run in a SageMaker processing job on the scikit-learn 1.2-1 image (Python 3.9)::

    python3 monitor_runner.py --code /opt/ml/processing/input/code/<hash>.zip \\
        [--baseline-model-package-group churn] [--region eu-west-1] \\
        -- <monitor.py options>

The monitor's folder arrives as the zip archive CDK makes of an asset folder, and processing
inputs are not unzipped. Python imports modules straight from a zip archive on ``sys.path``
(zipimport, standard library), so the archive goes first on the path and ``monitor.main``
runs with the options after ``--``; ``--code`` may also name a plain folder.

With ``--baseline-model-package-group``, the baseline is the
``ModelMetrics.ModelDataQuality.Statistics`` of the group's newest *Approved* version (the
rule SageMaker Pipelines' check steps use for registry baselines), appended as
``--baseline-uri``. A group without such a version is unreadable input: exit code 3, as the
monitor itself reports an unreadable baseline. Every other exit code is the monitor's.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from collections.abc import Sequence

#: The monitor's exit codes this runner uses itself (``monitor_contract``).
EXIT_USAGE = 2
EXIT_UNREADABLE_INPUT = 3
_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
_SEPARATOR = "--"


class BaselineNotFound(Exception):
    """The model package group has no approved version with data-quality statistics."""


class RunnerUsageError(ValueError):
    """The runner's own options are wrong; the message says which."""


def log(event: str, **fields: object) -> None:
    """One structured log line (the processing job sends stdout to CloudWatch Logs)."""
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def split_arguments(argv: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The runner's options, and the monitor's options after ``--``."""
    arguments = list(argv)
    if _SEPARATOR not in arguments:
        raise RunnerUsageError("put the monitor's options after '--'")
    cut = arguments.index(_SEPARATOR)
    own, monitor_options = arguments[:cut], arguments[cut + 1 :]
    allowed = {"--code", "--baseline-model-package-group", "--region"}
    options: dict[str, str] = {}
    if len(own) % 2:
        raise RunnerUsageError(f"every runner option takes one value, got {own}")
    for flag, value in zip(own[::2], own[1::2]):
        if flag not in allowed:
            raise RunnerUsageError(f"unknown runner option {flag!r}; allowed: {sorted(allowed)}")
        if not value or value.startswith("--"):
            raise RunnerUsageError(f"{flag} needs a value, got {value!r}")
        options[flag[2:].replace("-", "_")] = value
    if "code" not in options:
        raise RunnerUsageError("--code (the monitor's archive or folder) is required")
    return options, monitor_options


def latest_approved_statistics(sagemaker: Any, group: str) -> tuple[str, str]:
    """``(model package ARN, statistics S3 URI)`` of ``group``'s newest Approved version."""
    try:
        page = sagemaker.list_model_packages(
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )
        summaries = page.get("ModelPackageSummaryList", [])
        if not summaries:
            raise BaselineNotFound(f"model package group {group!r} has no Approved version yet")
        arn = summaries[0]["ModelPackageArn"]
        package = sagemaker.describe_model_package(ModelPackageName=arn)
    except (ClientError, BotoCoreError) as error:
        raise BaselineNotFound(f"cannot read model package group {group!r}: {error}") from None
    statistics = (
        package.get("ModelMetrics", {})
        .get("ModelDataQuality", {})
        .get("Statistics", {})
        .get("S3Uri")
    )
    if not statistics:
        raise BaselineNotFound(
            f"{arn} has no ModelMetrics.ModelDataQuality.Statistics to monitor against"
        )
    return arn, str(statistics)


def main(argv: Sequence[str] | None = None, *, sagemaker_client: Any = None) -> int:
    """Resolve the baseline if asked, then run the monitor; the exit code."""
    try:
        options, monitor_options = split_arguments(sys.argv[1:] if argv is None else argv)
    except RunnerUsageError as error:
        log("invalid_runner_options", error=str(error))
        return EXIT_USAGE
    group = options.get("baseline_model_package_group")
    if group is not None:
        client = sagemaker_client or boto3.client(
            "sagemaker", region_name=options.get("region"), config=_RETRIES
        )
        try:
            arn, statistics = latest_approved_statistics(client, group)
        except BaselineNotFound as error:
            log("baseline_not_found", model_package_group=group, error=str(error))
            return EXIT_UNREADABLE_INPUT
        log("baseline_resolved", model_package=arn, baseline_uri=statistics)
        monitor_options = [*monitor_options, "--baseline-uri", statistics]
    sys.path.insert(0, options["code"])
    monitor = importlib.import_module("monitor")
    code: int = monitor.main(monitor_options)
    return code


if __name__ == "__main__":
    sys.exit(main())

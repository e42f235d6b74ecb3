"""Approve or reject a model version from a terminal.

::

    python -m sagemaker_lifecycle.approve churn-model                      # list pending versions
    python -m sagemaker_lifecycle.approve churn-model --version 7 --approve --comment "AUC 0.91"
    python -m sagemaker_lifecycle.approve churn-model --version 7 --reject --comment "drift"

Without ``--version`` it lists the versions waiting for approval with their metrics (read
from the evaluation report the pipeline registered, when the caller may read it). Approving
a version emits the event the approval flow deploys from. Uses the caller's AWS credentials
and region (``--region`` or the usual AWS settings).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO
from urllib.parse import urlparse

import boto3
from botocore.exceptions import BotoCoreError, ClientError

_MAX_COMMENT = 1024
_EXIT_OK, _EXIT_FAILED, _EXIT_USAGE = 0, 1, 2
_REPORT_LIMIT = 1024 * 1024  # an evaluation report larger than this is not read


def main(
    argv: Sequence[str] | None = None,
    *,
    sagemaker: Any = None,
    s3: Any = None,
    out: TextIO | None = None,
) -> int:
    """Run the command line; return the exit code. Clients may be injected (tests)."""
    stream = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    decision = "Approved" if args.approve else "Rejected" if args.reject else None
    if decision is not None and args.version is None:
        parser.error("--approve and --reject need --version; run without them to list versions")
    if decision is not None and not args.comment.strip():
        parser.error("--comment must say why the version is approved or rejected")
    if len(args.comment) > _MAX_COMMENT:
        parser.error(f"--comment must be at most {_MAX_COMMENT} characters")
    session = boto3.Session(region_name=args.region) if args.region else boto3.Session()
    sagemaker = sagemaker or session.client("sagemaker")
    try:
        if decision is None:
            versions = (
                [_version_arn(sagemaker, args.group, args.version)]
                if args.version is not None
                else None
            )
            return _list(sagemaker, s3 or session.client("s3"), args.group, versions, stream)
        return _decide(
            sagemaker,
            args.group,
            args.version,
            decision=decision,
            comment=args.comment,
            out=stream,
        )
    except (ClientError, BotoCoreError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return _EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sagemaker_lifecycle.approve",
        description="List model versions waiting for approval, or approve or reject one.",
    )
    parser.add_argument("group", help="the model package group")
    parser.add_argument("--version", type=_positive, help="the version to act on")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--approve", action="store_true", help="approve the version")
    choice.add_argument("--reject", action="store_true", help="reject the version")
    parser.add_argument("--comment", default="", help="why (recorded as ApprovalDescription)")
    parser.add_argument("--region", help="AWS region. Default: your AWS configuration's")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _decide(
    sagemaker: Any, group: str, version: int, *, decision: str, comment: str, out: TextIO
) -> int:
    arn = _version_arn(sagemaker, group, version)
    current = sagemaker.describe_model_package(ModelPackageName=arn)
    if current.get("ModelApprovalStatus") == decision:
        # Writing the same status again would emit an event for nothing.
        print(f"{group} v{version} is already {decision}; nothing changed.", file=out)
        return _EXIT_OK
    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus=decision, ApprovalDescription=comment
    )
    print(f"{group} v{version}: {current.get('ModelApprovalStatus')} -> {decision}", file=out)
    print(f"  {arn}", file=out)
    return _EXIT_OK


def _list(sagemaker: Any, s3: Any, group: str, arns: list[str] | None, out: TextIO) -> int:
    if arns is None:
        summaries = [
            summary
            for page in sagemaker.get_paginator("list_model_packages").paginate(
                ModelPackageGroupName=group,
                ModelApprovalStatus="PendingManualApproval",
                SortBy="CreationTime",
                SortOrder="Descending",
            )
            for summary in page["ModelPackageSummaryList"]
        ]
        arns = [s["ModelPackageArn"] for s in summaries]
        if not arns:
            print(f"No version of {group} is waiting for approval.", file=out)
            return _EXIT_OK
        print(f"Versions of {group} waiting for approval:", file=out)
    for arn in arns:
        package = sagemaker.describe_model_package(ModelPackageName=arn)
        created = package.get("CreationTime")
        when = f"  registered {created:%Y-%m-%d %H:%M %Z}".rstrip() if created else ""
        print(
            f"\nv{package.get('ModelPackageVersion')}  {package.get('ModelApprovalStatus')}{when}",
            file=out,
        )
        print(f"  {arn}", file=out)
        for line in _metrics(s3, package.get("ModelMetrics", {})):
            print(f"  {line}", file=out)
    return _EXIT_OK


def _version_arn(sagemaker: Any, group: str, version: int) -> str:
    for page in sagemaker.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=group
    ):
        for summary in page["ModelPackageSummaryList"]:
            if summary.get("ModelPackageVersion") == version:
                arn: str = summary["ModelPackageArn"]
                return arn
    raise LookupError(f"model package group {group} has no version {version}")


def _metrics(s3: Any, model_metrics: dict[str, Any]) -> list[str]:
    """One line per metric of the registered reports, or their location when unreadable."""
    lines: list[str] = []
    for category, reports in sorted(model_metrics.items()):
        for kind, report in sorted(reports.items()):
            uri = report.get("S3Uri") if isinstance(report, dict) else None
            if not uri:
                continue
            values = _read_metrics(s3, uri) if kind == "Statistics" else None
            if values:
                lines.extend(f"{category} {name} = {value}" for name, value in values)
            else:
                lines.append(f"{category} {kind}: {uri}")
    return lines or ["no metrics registered"]


def _read_metrics(s3: Any, uri: str) -> list[tuple[str, Any]] | None:
    """``(name, value)`` pairs of a SageMaker evaluation report, or None if unreadable."""
    location = urlparse(uri)
    if location.scheme != "s3":
        return None
    try:
        body = s3.get_object(Bucket=location.netloc, Key=location.path.lstrip("/"))["Body"]
        report = json.loads(body.read(_REPORT_LIMIT))
    except (ClientError, BotoCoreError, ValueError):
        return None
    pairs: list[tuple[str, Any]] = []
    if isinstance(report, dict):
        # {"binary_classification_metrics": {"auc": {"value": 0.91, "standard_deviation": ...}}}
        for section, metrics in sorted(report.items()):
            if not isinstance(metrics, dict):
                continue
            for name, metric in sorted(metrics.items()):
                if isinstance(metric, dict) and "value" in metric:
                    pairs.append((f"{section}.{name}", metric["value"]))
    return pairs or None


if __name__ == "__main__":
    sys.exit(main())

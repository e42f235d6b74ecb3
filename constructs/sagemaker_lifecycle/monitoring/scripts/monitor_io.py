"""Reading and writing S3 or local locations, and publishing CloudWatch metrics in batches.

Every location is ``s3://bucket/prefix`` or a local path (a processing job's input or output
folder), so the same run works against S3 directly and against folders SageMaker mounted.
Failures to read become :class:`UnreadableInput` and failures to write :class:`OutputFailed`;
the script turns them into its exit codes.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import datetime

#: PutMetricData accepts at most 1000 metrics and 1 MB per request (CloudWatch API
#: reference, PutMetricData). Batches stay under both, with room for the wire encoding.
MAX_METRICS_PER_REQUEST = 1000
MAX_REQUEST_BYTES = 1_000_000
_ENCODING_HEADROOM = 3  # query-protocol form encoding is at most ~3x the JSON size
#: CloudWatch rejects values outside +/-2^360; SageMaker Clarify publishes infinities as this.
CLOUDWATCH_MAX_VALUE = 2.348543e108


class UnreadableInput(Exception):
    """An input location could not be listed or read."""


class OutputFailed(Exception):
    """A report, violations file or metric could not be written."""


@dataclass(frozen=True)
class Location:
    """An S3 object or prefix (``bucket`` set) or a local file or folder."""

    bucket: str | None
    path: str

    @classmethod
    def parse(cls, uri: str) -> Location:
        if uri.startswith("s3://"):
            bucket, _, key = uri[len("s3://") :].partition("/")
            return cls(bucket, key.strip("/"))
        return cls(None, uri.rstrip("/") or "/")

    def child(self, *parts: str) -> Location:
        clean = [p.strip("/") for p in parts if p.strip("/")]
        if self.bucket is None:
            return Location(None, str(Path(self.path, *clean)))
        return Location(
            self.bucket, "/".join([self.path, *clean]) if self.path else "/".join(clean)
        )

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.path}" if self.bucket is not None else self.path


class Storage:
    """Lists, reads and writes :class:`Location` objects with one S3 client."""

    def __init__(self, s3_client: Callable[[], Any]) -> None:
        self._factory = s3_client
        self._client: Any = None

    @property
    def s3(self) -> Any:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def subfolders(self, folder: Location) -> list[str]:
        """Names of the folders (S3: common prefixes) directly under ``folder``."""
        if folder.bucket is None:
            try:
                return sorted(entry.name for entry in os.scandir(folder.path) if entry.is_dir())
            except OSError as error:
                raise UnreadableInput(f"cannot list {folder}: {error}") from None
        prefix = f"{folder.path}/" if folder.path else ""
        names = []
        for page in self._pages(folder.bucket, prefix, delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                names.append(common["Prefix"][len(prefix) :].rstrip("/"))
        return sorted(names)

    def files(self, folder: Location) -> list[Location]:
        """Every file under ``folder``, sorted; none when the folder does not exist."""
        if folder.bucket is None:
            root = Path(folder.path)
            if not root.is_dir():
                return []
            try:
                return [Location(None, str(p)) for p in sorted(root.rglob("*")) if p.is_file()]
            except OSError as error:
                raise UnreadableInput(f"cannot list {folder}: {error}") from None
        prefix = f"{folder.path}/" if folder.path else ""
        keys = [
            item["Key"]
            for page in self._pages(folder.bucket, prefix)
            for item in page.get("Contents", [])
            if not item["Key"].endswith("/")
        ]
        return [Location(folder.bucket, key) for key in sorted(keys)]

    def read(self, location: Location) -> bytes:
        """The bytes of one file or object."""
        if location.bucket is None:
            try:
                return Path(location.path).read_bytes()
            except OSError as error:
                raise UnreadableInput(f"cannot read {location}: {error}") from None
        try:
            body = self.s3.get_object(Bucket=location.bucket, Key=location.path)["Body"]
            data: bytes = body.read()
        except (ClientError, BotoCoreError) as error:
            raise UnreadableInput(f"cannot read {location}: {error}") from None
        return data

    def write(self, location: Location, data: bytes, *, kms_key_id: str | None = None) -> None:
        """Write one file or object (JSON); SSE-KMS with ``kms_key_id`` when given."""
        if location.bucket is None:
            try:
                Path(location.path).parent.mkdir(parents=True, exist_ok=True)
                Path(location.path).write_bytes(data)
            except OSError as error:
                raise OutputFailed(f"cannot write {location}: {error}") from None
            return
        extra: dict[str, str] = {}
        if kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
        try:
            self.s3.put_object(
                Bucket=location.bucket,
                Key=location.path,
                Body=data,
                ContentType="application/json",
                **extra,
            )
        except (ClientError, BotoCoreError) as error:
            raise OutputFailed(f"cannot write {location}: {error}") from None

    def _pages(self, bucket: str, prefix: str, delimiter: str = "") -> Iterator[dict[str, Any]]:
        arguments = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            arguments["Delimiter"] = delimiter
        try:
            yield from self.s3.get_paginator("list_objects_v2").paginate(**arguments)
        except (ClientError, BotoCoreError) as error:
            raise UnreadableInput(f"cannot list s3://{bucket}/{prefix}: {error}") from None


@dataclass(frozen=True)
class Datum:
    """One CloudWatch data point: a metric name, a value and its dimensions."""

    name: str
    value: float
    dimensions: tuple[tuple[str, str], ...]
    unit: str = "None"

    def to_api(self, timestamp: datetime) -> dict[str, Any]:
        value = max(-CLOUDWATCH_MAX_VALUE, min(CLOUDWATCH_MAX_VALUE, self.value))
        return {
            "MetricName": self.name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
            "Timestamp": timestamp,
            "Value": value,
            "Unit": self.unit,
        }


def finite(value: float | None) -> bool:
    """Whether ``value`` can be published (CloudWatch rejects NaN and infinities)."""
    return value is not None and math.isfinite(value)


def batches(data: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``data`` split into PutMetricData requests within the count and size limits."""
    result: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for item in data:
        item_size = len(json.dumps(item, default=str)) * _ENCODING_HEADROOM
        if current and (
            len(current) >= MAX_METRICS_PER_REQUEST or size + item_size > MAX_REQUEST_BYTES
        ):
            result.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        result.append(current)
    return result


def publish(cloudwatch: Any, namespace: str, data: Sequence[Datum], timestamp: datetime) -> int:
    """Put every datum with PutMetricData in as few requests as the limits allow.

    Returns the number of requests; raises :class:`OutputFailed` if one is refused.
    """
    requests = 0
    for batch in batches([datum.to_api(timestamp) for datum in data]):
        try:
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
        except (ClientError, BotoCoreError) as error:
            raise OutputFailed(f"PutMetricData to {namespace} failed: {error}") from None
        requests += 1
    return requests

"""Endpoint data capture into the data lake's capture zone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagemaker_lifecycle._internal.sagemaker_api import check_name
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.data_lake import DataLake, Zone
from sagemaker_lifecycle.serving._checks import key_prefix

_MAX_CONTENT_TYPES = 10


@dataclass(frozen=True)
class DataCapture:
    """Which requests and responses an endpoint writes to the capture zone, for monitoring.

    Captured data is encrypted with the data lake's key and kept as long as the lake's
    ``capture_expiration`` says: it may hold personal data.
    """

    sampling_percentage: int = 100
    """Percentage of requests captured, 0 to 100. Lower it for high-traffic endpoints.
    Default: 100."""
    capture_input: bool = True
    """Capture requests. Default: true."""
    capture_output: bool = True
    """Capture responses. Default: true."""
    csv_content_types: tuple[str, ...] = ("text/csv",)
    """Content types captured as CSV text (up to 10). Default: text/csv."""
    json_content_types: tuple[str, ...] = ("application/json",)
    """Content types captured as JSON text (up to 10); others are base64-encoded.
    Default: application/json."""
    prefix: str | None = None
    """Key prefix in the capture zone. Default: ``datacapture/<endpoint name>``."""


def validate_data_capture(errors: ValidationErrors, capture: DataCapture) -> None:
    """Report every invalid member of ``capture`` under ``data_capture.<member>``."""
    percentage = capture.sampling_percentage
    errors.check(
        not isinstance(percentage, bool) and isinstance(percentage, int) and 0 <= percentage <= 100,
        f"data_capture.sampling_percentage must be an integer from 0 to 100, got {percentage!r}",
    )
    errors.check(
        capture.capture_input or capture.capture_output,
        "data_capture must capture requests, responses or both "
        "(capture_input and capture_output are both false)",
    )
    for member, shape in (
        ("csv_content_types", "CsvContentType"),
        ("json_content_types", "JsonContentType"),
    ):
        values = getattr(capture, member)
        errors.check(
            len(values) <= _MAX_CONTENT_TYPES,
            f"data_capture.{member} may hold at most {_MAX_CONTENT_TYPES} content types, "
            f"got {len(values)}",
        )
        for value in values:
            check_name(errors, f"data_capture.{member}", value, shape)
    if capture.prefix is not None:
        key_prefix(errors, "data_capture.prefix", capture.prefix)


def capture_prefix(capture: DataCapture, endpoint_name: str) -> str:
    """The capture-zone prefix ``capture`` writes under."""
    return (capture.prefix or f"datacapture/{endpoint_name}").rstrip("/")


def data_capture_config(
    capture: DataCapture, data_lake: DataLake, endpoint_name: str
) -> dict[str, Any]:
    """``DataCaptureConfig`` (CreateEndpointConfig) for ``capture`` into ``data_lake``."""
    modes = [
        mode
        for mode, on in (("Input", capture.capture_input), ("Output", capture.capture_output))
        if on
    ]
    config: dict[str, Any] = {
        "EnableCapture": True,
        "InitialSamplingPercentage": capture.sampling_percentage,
        "DestinationS3Uri": data_lake.s3_uri(Zone.CAPTURE, capture_prefix(capture, endpoint_name)),
        "KmsKeyId": data_lake.key.key_arn,
        "CaptureOptions": [{"CaptureMode": mode} for mode in modes],
    }
    header = {
        name: list(values)
        for name, values in (
            ("CsvContentTypes", capture.csv_content_types),
            ("JsonContentTypes", capture.json_content_types),
        )
        if values
    }
    if header:
        config["CaptureContentTypeHeader"] = header
    return config

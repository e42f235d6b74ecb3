"""SageMaker data-capture and ground-truth records: parsed, or rejected with a reason.

Data capture writes one JSON object per line, per the SageMaker developer guide
("Capture data from real-time endpoint", https://docs.aws.amazon.com/sagemaker/latest/dg/
model-monitor-data-capture-endpoint.html), under
``<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl``::

    {"captureData": {
       "endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                          "data": "69,0,153.7", "encoding": "CSV"},
       "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                          "data": "0.0254", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "aaaa-...", "inferenceId": "optional, set by the caller",
                       "inferenceTime": "2022-02-14T17:25:49Z"},
     "eventVersion": "0"}

``encoding`` is CSV or JSON (``data`` is the payload text) or BASE64 (``data`` is the
payload's bytes, base64-encoded; content types not listed in the endpoint's
CaptureContentTypeHeader are captured that way). Ground truth follows SageMaker's
model-quality merge format ("Ingest Ground Truth labels and merge them with predictions"),
under ``<uri>/yyyy/mm/dd/hh/<file>.jsonl`` by the hour the label was uploaded::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<the capture's inferenceId, or its eventId>"},
     "eventVersion": "0"}

A request may hold several rows (CSV lines, a JSON list, ``{"instances": [...]}``); the
response must then hold one prediction per row, and ground truth one label per row.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from dataclasses import dataclass
from typing import Any, Union

#: A request row: values by position (CSV, JSON lists) or by feature name (JSON objects).
Row = Union[list[Any], dict[str, Any]]

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain"})
JSON_TYPES = frozenset({"application/json", "text/json"})
JSONLINES_TYPES = frozenset(
    {
        "application/jsonlines",
        "application/x-jsonlines",
        "application/jsonl",
        "application/json-lines",
    }
)

# Why a line was skipped; the report counts each reason.
NOT_UTF8 = "not_utf8"
INVALID_JSON = "invalid_json"
NOT_A_CAPTURE_RECORD = "not_a_capture_record"
NOT_A_GROUND_TRUTH_RECORD = "not_a_ground_truth_record"
MISSING_EVENT_ID = "missing_event_id"
UNSUPPORTED_ENCODING = "unsupported_encoding"
INVALID_BASE64 = "invalid_base64"
UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
INVALID_PAYLOAD = "invalid_payload"
EMPTY_PAYLOAD = "empty_payload"
PREDICTION_COUNT_MISMATCH = "prediction_count_mismatch"


class MalformedRecord(ValueError):
    """A line that is not a usable record; ``reason`` is one of the module's reason names."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class CaptureRecord:
    """One captured request: its rows and, when the output was captured, one prediction each."""

    event_id: str
    inference_id: str | None
    inference_time: str | None
    inputs: tuple[Row, ...]
    outputs: tuple[Any, ...] | None

    @property
    def join_key(self) -> str:
        """The id ground truth is matched on: the caller's inferenceId, else the eventId."""
        return self.inference_id or self.event_id


@dataclass(frozen=True)
class GroundTruthRecord:
    """The true labels of one request, one per row."""

    key: str
    labels: tuple[Any, ...]


def parse_capture_line(line: bytes | str) -> CaptureRecord:
    """Parse one data-capture line; raise :class:`MalformedRecord` for anything else."""
    record = _json_object(line, NOT_A_CAPTURE_RECORD)
    capture = record.get("captureData")
    metadata = record.get("eventMetadata")
    if not isinstance(capture, dict) or not isinstance(metadata, dict):
        raise MalformedRecord(NOT_A_CAPTURE_RECORD, "captureData and eventMetadata are required")
    event_id = metadata.get("eventId")
    inference_id = metadata.get("inferenceId")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedRecord(MISSING_EVENT_ID)
    section = capture.get("endpointInput")
    if not isinstance(section, dict):
        raise MalformedRecord(NOT_A_CAPTURE_RECORD, "endpointInput is required")
    inputs = input_rows(*decode_payload(section))
    outputs: tuple[Any, ...] | None = None
    output_section = capture.get("endpointOutput")
    if isinstance(output_section, dict):
        outputs = tuple(output_rows(*decode_payload(output_section)))
        if len(outputs) != len(inputs):
            raise MalformedRecord(
                PREDICTION_COUNT_MISMATCH, f"{len(inputs)} rows, {len(outputs)} predictions"
            )
    time = metadata.get("inferenceTime")
    return CaptureRecord(
        event_id=event_id,
        inference_id=inference_id if isinstance(inference_id, str) and inference_id else None,
        inference_time=time if isinstance(time, str) else None,
        inputs=tuple(inputs),
        outputs=outputs,
    )


def parse_ground_truth_line(line: bytes | str) -> GroundTruthRecord:
    """Parse one ground-truth line; raise :class:`MalformedRecord` for anything else."""
    record = _json_object(line, NOT_A_GROUND_TRUTH_RECORD)
    data = record.get("groundTruthData")
    metadata = record.get("eventMetadata")
    if not isinstance(data, dict) or not isinstance(metadata, dict):
        raise MalformedRecord(
            NOT_A_GROUND_TRUTH_RECORD, "groundTruthData and eventMetadata are required"
        )
    key = metadata.get("inferenceId") or metadata.get("eventId")
    if not isinstance(key, str) or not key:
        raise MalformedRecord(MISSING_EVENT_ID)
    # Ground truth has no content type of its own: its encoding says how to read the label.
    is_json = str(data.get("encoding", "")).upper() == "JSON"
    content_type = "application/json" if is_json else "text/csv"
    payload_format, payload = decode_payload({"observedContentType": content_type, **data})
    if payload_format == "csv":
        labels: list[Any] = [row[0] if len(row) == 1 else row for row in _csv_rows(payload)]
    else:
        labels = list(output_rows(payload_format, payload))
    if not labels:
        raise MalformedRecord(EMPTY_PAYLOAD, "no label")
    return GroundTruthRecord(key=key, labels=tuple(labels))


def _json_object(line: bytes | str, reason: str) -> dict[str, Any]:
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedRecord(NOT_UTF8, str(error)) from None
    try:
        record = json.loads(line)
    except ValueError as error:  # JSONDecodeError, and RecursionError-free inputs
        raise MalformedRecord(INVALID_JSON, str(error)) from None
    except RecursionError:
        raise MalformedRecord(INVALID_JSON, "nested too deeply") from None
    if not isinstance(record, dict):
        raise MalformedRecord(reason, "a line must be a JSON object")
    return record


def decode_payload(section: dict[str, Any]) -> tuple[str, str]:
    """``(format, text)`` of a captured payload: format is csv, json or jsonlines."""
    data = section.get("data")
    encoding = str(section.get("encoding", "")).upper()
    content_type = str(section.get("observedContentType") or "").split(";")[0].strip().lower()
    if isinstance(data, (dict, list)) and encoding == "JSON":
        return "json", json.dumps(data)
    if not isinstance(data, str):
        raise MalformedRecord(INVALID_PAYLOAD, "data must be a string")
    if encoding == "BASE64":
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as error:
            raise MalformedRecord(INVALID_BASE64, str(error)) from None
    elif encoding in ("CSV", "JSON"):
        text = data
    else:
        raise MalformedRecord(UNSUPPORTED_ENCODING, repr(section.get("encoding")))
    return _payload_format(content_type, encoding), text


def _payload_format(content_type: str, encoding: str) -> str:
    if content_type in JSONLINES_TYPES:
        return "jsonlines"
    if content_type in JSON_TYPES or content_type.endswith("+json"):
        return "json"
    if content_type in CSV_TYPES:
        return "csv"
    if encoding == "CSV":
        return "csv"
    if encoding == "JSON":
        return "json"
    raise MalformedRecord(UNSUPPORTED_CONTENT_TYPE, repr(content_type))


def input_rows(payload_format: str, text: str) -> list[Row]:
    """The request's rows: CSV lines, JSON rows, or one row per JSON Lines line."""
    if payload_format == "csv":
        rows: list[Row] = list(_csv_rows(text))
    elif payload_format == "jsonlines":
        rows = [row for value in _json_lines(text) for row in _json_rows(value, top=False)]
    else:
        rows = _json_rows(_json_value(text), top=True)
    if not rows:
        raise MalformedRecord(EMPTY_PAYLOAD, "no input row")
    return rows


def output_rows(payload_format: str, text: str) -> list[Any]:
    """The response's predictions, one per row: scalars, lists or objects."""
    if payload_format == "csv":
        return [row[0] if len(row) == 1 else row for row in _csv_rows(text)]
    if payload_format == "jsonlines":
        return list(_json_lines(text))
    value = _json_value(text)
    if isinstance(value, dict) and isinstance(value.get("predictions"), list):
        return list(value["predictions"])
    if isinstance(value, list):
        return value
    return [value]


def _csv_rows(text: str) -> list[list[str]]:
    try:
        return [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as error:
        raise MalformedRecord(INVALID_PAYLOAD, str(error)) from None


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise MalformedRecord(INVALID_PAYLOAD, str(error)) from None


def _json_lines(text: str) -> list[Any]:
    return [_json_value(line) for line in text.splitlines() if line.strip()]


def _json_rows(value: Any, *, top: bool) -> list[Row]:
    """Rows of a JSON request: ``{"instances": [...]}``, ``{"features": [...]}``, a list of
    rows, one object (a named row) or one list of values (a positional row)."""
    if isinstance(value, dict):
        if top and "instances" in value:
            instances = value["instances"]
            if not isinstance(instances, list):
                raise MalformedRecord(INVALID_PAYLOAD, "instances must be a list")
            return [_one_row(item) for item in instances]
        return [_one_row(value)]
    if isinstance(value, list):
        if top and value and all(isinstance(item, (dict, list)) for item in value):
            return [_one_row(item) for item in value]
        return [list(value)]
    return [[value]]


def _one_row(value: Any) -> Row:
    if isinstance(value, dict):
        features = value.get("features")
        if isinstance(features, list) and len(value) == 1:
            return list(features)
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return [value]

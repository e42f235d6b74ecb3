"""Prop checks the serving constructs share (on top of ``_internal.validation``)."""

from __future__ import annotations

import math
import zoneinfo

from aws_cdk import Duration, Token

from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.data_lake import _validated_prefix


def seconds_in_range(
    errors: ValidationErrors, prop: str, value: Duration, *, minimum: int, maximum: int
) -> int | None:
    """Whole seconds of ``value`` if ``minimum <= seconds <= maximum``, else report it."""
    if Token.is_unresolved(value.to_string()):
        return None
    millis = value.to_milliseconds()
    if millis % 1000:
        errors.add(f"{prop} must be a whole number of seconds, got {value.to_human_string()}")
        return None
    seconds = int(millis // 1000)
    if not minimum <= seconds <= maximum:
        errors.add(
            f"{prop} must be from {minimum} to {maximum} seconds, got {value.to_human_string()}"
        )
        return None
    return seconds


def number_in_range(
    errors: ValidationErrors, prop: str, value: float, *, minimum: float, maximum: float
) -> None:
    """Check ``minimum <= value <= maximum`` for a finite number prop."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.add(f"{prop} must be a number from {minimum} to {maximum}, got {value!r}")
    elif not minimum <= value <= maximum:
        errors.add(f"{prop} must be from {minimum} to {maximum}, got {value}")


def key_prefix(errors: ValidationErrors, prop: str, value: str) -> None:
    """Report ``value`` unless it is a data-lake key prefix (the DataLake's own rule)."""
    try:
        _validated_prefix(value)
    except ValueError as error:
        errors.add(f"{prop}: {error}")


def time_zone(errors: ValidationErrors, prop: str, value: str) -> None:
    """Report ``value`` unless it is an IANA time zone name (``Europe/Paris``)."""
    if Token.is_unresolved(value):
        return
    if value not in zoneinfo.available_timezones():
        errors.add(f"{prop} must be an IANA time zone such as 'Europe/Paris', got {value!r}")

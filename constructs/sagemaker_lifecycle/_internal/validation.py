"""Synth-time validation shared by the constructs.

Every check raises ``ValueError`` naming the prop, the value given and what is allowed, so
that a bad value never reaches jsii or CloudFormation. Unresolved tokens are skipped: their
value is only known at deploy time.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration, Token


class ValidationErrors:
    """Collects every problem with a construct's props so they are reported at once."""

    def __init__(self, construct_name: str) -> None:
        self._construct_name = construct_name
        self._errors: list[str] = []

    def add(self, message: str) -> None:
        self._errors.append(message)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self._errors.append(message)

    def raise_if_any(self) -> None:
        if self._errors:
            details = "\n  - ".join(self._errors)
            raise ValueError(f"{self._construct_name}: invalid props:\n  - {details}")


def whole_days(errors: ValidationErrors, prop: str, value: Duration, *, minimum: int = 1) -> None:
    """Check that ``value`` is a whole number of days, at least ``minimum``."""
    if Token.is_unresolved(value.to_string()):
        return
    try:
        days = value.to_days()
    except Exception:  # jsii raises a plain Error for fractional conversions
        errors.add(f"{prop} must be a whole number of days, got {value.to_human_string()}")
        return
    if days < minimum:
        errors.add(f"{prop} must be at least {minimum} day(s), got {value.to_human_string()}")


def int_in_range(
    errors: ValidationErrors, prop: str, value: int, *, minimum: int, maximum: int
) -> None:
    """Check ``minimum <= value <= maximum`` for a plain integer prop."""
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(f"{prop} must be an integer from {minimum} to {maximum}, got {value!r}")
    elif not minimum <= value <= maximum:
        errors.add(f"{prop} must be from {minimum} to {maximum}, got {value}")


def one_of(errors: ValidationErrors, prop: str, value: object, allowed: Iterable[object]) -> None:
    """Check that ``value`` is one of ``allowed``, listing them in the message."""
    options = list(allowed)
    if value not in options:
        listed = ", ".join(repr(o) for o in options)
        errors.add(f"{prop} must be one of {listed}; got {value!r}")

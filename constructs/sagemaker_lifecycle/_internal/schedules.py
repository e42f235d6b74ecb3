"""Schedule expressions for EventBridge Scheduler, checked at synth time.

Scheduler accepts ``rate(value unit)``, ``cron(minutes hours day-of-month month
day-of-week year)`` and ``at(yyyy-mm-ddThh:mm:ss)``. A cron expression must leave one of
day-of-month and day-of-week as ``?``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Token

from sagemaker_lifecycle._internal.validation import ValidationErrors

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\(([^)]*)\)$")
_AT = re.compile(r"^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$")

# (name, lowest, highest, extra tokens allowed in the field)
_CRON_FIELDS = (
    ("minutes", 0, 59, ""),
    ("hours", 0, 23, ""),
    ("day-of-month", 1, 31, "?LW"),
    ("month", 1, 12, ""),
    ("day-of-week", 1, 7, "?L#"),
    ("year", 1970, 2199, ""),
)
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"


@dataclass(frozen=True)
class ParsedSchedule:
    """A schedule expression taken apart: ``kind`` is rate, cron or at."""

    kind: str
    expression: str
    rate_minutes: int | None = None
    cron_fields: tuple[str, ...] = ()


def parse_schedule(expression: str) -> ParsedSchedule:
    """Parse ``expression``; raise ``ValueError`` saying what is wrong with it."""
    text = expression.strip()
    if rate := _RATE.match(text):
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            raise ValueError(f"rate value must be at least 1, got {value}")
        if (value == 1) != (not unit.endswith("s")):
            raise ValueError(
                f"use '{unit.rstrip('s')}' for a value of 1 and '{unit.rstrip('s')}s' otherwise"
            )
        minutes = value * {"minute": 1, "hour": 60, "day": 1440}[unit.rstrip("s")]
        return ParsedSchedule("rate", text, rate_minutes=minutes)
    if cron := _CRON.match(text):
        fields = tuple(cron.group(1).split())
        if len(fields) != len(_CRON_FIELDS):
            raise ValueError(
                "cron needs 6 fields (minutes hours day-of-month month day-of-week year), "
                f"got {len(fields)}"
            )
        for value, (name, low, high, extra) in zip(fields, _CRON_FIELDS, strict=True):
            _check_cron_field(name, value, low, high, extra)
        if (fields[2] == "?") == (fields[4] == "?"):
            raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
        return ParsedSchedule("cron", text, cron_fields=fields)
    if _AT.match(text):
        return ParsedSchedule("at", text)
    raise ValueError("must be rate(<n> <unit>), cron(<6 fields>) or at(<yyyy-mm-ddThh:mm:ss>)")


def check_schedule(errors: ValidationErrors, prop: str, expression: str) -> ParsedSchedule | None:
    """Report a bad schedule expression under ``prop``; return it parsed when it is good."""
    if Token.is_unresolved(expression):
        return None
    try:
        return parse_schedule(expression)
    except ValueError as error:
        errors.add(f"{prop} {expression!r} is not a valid schedule expression: {error}")
        return None


def _check_cron_field(name: str, value: str, low: int, high: int, extra: str) -> None:
    if value == "*" or (value in extra and len(value) == 1):
        return
    text = value.upper()
    if name == "month":
        text = re.sub(_MONTHS, lambda m: str(_MONTHS.split("|").index(m.group(0)) + 1), text)
    if name == "day-of-week":
        text = re.sub(_DAYS, lambda m: str(_DAYS.split("|").index(m.group(0)) + 1), text)
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) >= 1):
            raise ValueError(f"{name} step {step!r} must be a positive number")
        if base == "*" and step:
            continue
        if "#" in base and "#" in extra:
            day, _, nth = base.partition("#")
            if not (day.isdigit() and low <= int(day) <= high and nth in {"1", "2", "3", "4", "5"}):
                raise ValueError(f"{name} {value!r} is not a valid nth-weekday")
            continue
        if base.endswith(("L", "W")) and base[-1] in extra:
            base = base[:-1] or str(low)
        for bound in base.split("-"):
            if not bound.isdigit() or not low <= int(bound) <= high:
                raise ValueError(f"{name} {value!r} is outside {low}-{high}")

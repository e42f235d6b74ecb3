"""The built-in monitor script as a construct sees it: its folder and its command line.

A monitoring pipeline uploads :data:`MONITOR_SCRIPT_DIR` (excluding
:data:`MONITOR_SCRIPT_EXCLUDES`) as the processing job's code, runs
``python3 <code dir>/monitor.py`` on the scikit-learn image and passes
:func:`monitor_arguments` as the container arguments. The options, their limits and the
exit codes are defined once, in ``scripts/monitor_contract.py``, which the script itself
uses; this module only renders and checks them at synth time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Final

from aws_cdk import Token

from sagemaker_lifecycle._internal.assets import ASSET_EXCLUDES
from sagemaker_lifecycle._internal.validation import ValidationErrors
from sagemaker_lifecycle.monitoring.scripts import monitor_contract as contract

#: The folder to upload as the processing job's code (``monitor.py`` and its modules).
MONITOR_SCRIPT_DIR: Final = Path(__file__).resolve().parent / "scripts"
#: The script to run, relative to the code folder.
MONITOR_ENTRY_POINT: Final = contract.ENTRY_POINT
#: Never uploaded: byte-code caches (they would change the asset hash) and lint settings.
MONITOR_SCRIPT_EXCLUDES: Final = (*ASSET_EXCLUDES, "ruff.toml")


def monitor_arguments(**options: object) -> list[str]:
    """The container arguments for ``monitor.py``, checked with the script's own rules.

    Keyword names are the script's options with underscores (``endpoint_name``,
    ``baseline_uri``, ``psi_threshold``, ``facet`` ...; see ``monitor_contract.OPTIONS``).
    ``None`` leaves an option to the script's default; lists repeat an option; booleans
    become ``--flag``/``--no-flag``. Unresolved tokens are passed through unchecked.

    Raises ``ValueError`` naming every unknown option, bad value or missing combination
    (for example model quality without ``problem_type``), as the script would at run time.
    """
    errors = ValidationErrors("monitor_arguments")
    converted: dict[str, object] = {}
    arguments: list[str] = []
    for dest, value in options.items():
        if value is None:
            continue
        try:
            option = contract.option_for(dest)
        except KeyError as error:
            errors.add(str(error.args[0]))
            continue
        items: list[object] = [value]
        if option.repeatable and isinstance(value, Iterable) and not isinstance(value, str):
            items = list(value)
        try:
            checked = [
                item if _is_token(item) else contract.convert(option, item) for item in items
            ]
        except ValueError as error:
            errors.add(str(error))
            continue
        converted[dest] = tuple(_flat(checked)) if option.repeatable else checked[0]
        arguments.extend(_render(option, checked if option.kind == "flag" else items))
    if "config" not in converted:
        try:
            contract.check_run(converted)
        except ValueError as error:
            errors.add(str(error))
    errors.raise_if_any()
    return arguments


def _is_token(value: object) -> bool:
    return isinstance(value, (str, int, float)) and Token.is_unresolved(value)


def _flat(values: Iterable[object]) -> Iterable[object]:
    for value in values:
        if isinstance(value, tuple):
            yield from value
        else:
            yield value


def _render(option: contract.Option, items: list[object]) -> list[str]:
    if option.kind == "flag":
        value = items[0]
        if _is_token(value):
            raise ValueError(f"{option.flag} must be a boolean, not a token")
        return [option.flag if value is True else "--no-" + option.flag[2:]]
    rendered: list[str] = []
    for item in items:
        rendered.extend([option.flag, _text(item)])
    return rendered


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return contract.format_hour(value)
    if isinstance(value, (int, float)) and Token.is_unresolved(value):
        return Token.as_string(value)
    return str(value)

"""Checks a pipeline definition (schema 2020-12-01) against the real SageMaker API model.

Each step's ``Arguments`` are walked against botocore's input shape of the API call the step
makes (``CreateTrainingJob`` for a training step, ...): unknown keys, wrong types, missing
required members, enum values, lengths, ranges and patterns. Pipeline expressions are
accepted where a value goes, and their own type is checked too: a ``Std:Join`` (a string)
cannot fill an integer, ``{"Get": "Parameters.X"}`` must name a declared parameter of the
right type, ``{"Get": "Steps.S.<path>"}`` must name a step and a property its Describe
response has. Step names must be unique, references must name existing steps, and the
dependencies (``DependsOn`` plus every property use) must not form a cycle.

Messages name the step and the JSON path:
``step 'Train': Arguments.ResourceConfig.InstanceCount: expected integer, got 'two'``.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aws_cdk import Token
from botocore.model import Shape

from sagemaker_lifecycle._internal.sagemaker_api import operation
from sagemaker_lifecycle.pipelines.conditions import COMPARISONS
from sagemaker_lifecycle.pipelines.expressions import (
    BOOLEAN,
    EXECUTION_VARIABLE_NAMES,
    FLOAT,
    INTEGER,
    NAME_PATTERN,
    OBJECT,
    STRING,
    resolve_property_path,
)
from sagemaker_lifecycle.pipelines.parameters import PARAMETER_VALUE_TYPES

DEFINITION_VERSION: Final = "2020-12-01"


@dataclass(frozen=True)
class StepKind:
    """How a step type is checked: the API call behind it and what the service fills in."""

    operation: str | None
    #: Members SageMaker Pipelines sets itself (job names) or rejects.
    excluded: frozenset[str] = frozenset()
    #: Step-level members besides Name, Type, Arguments, DependsOn, DisplayName, Description.
    fields: frozenset[str] = frozenset()


_JOB_FIELDS = frozenset({"CacheConfig", "RetryPolicies"})
_CHECK_FIELDS = frozenset(
    {
        "CacheConfig",
        "CheckType",
        "ModelPackageGroupName",
        "SkipCheck",
        "FailOnViolation",
        "RegisterNewBaseline",
        "SuppliedBaselineConstraints",
    }
)

STEP_KINDS: Final[Mapping[str, StepKind]] = {
    "Processing": StepKind(
        "CreateProcessingJob",
        frozenset({"ProcessingJobName"}),
        _JOB_FIELDS | {"PropertyFiles"},
    ),
    "Training": StepKind("CreateTrainingJob", frozenset({"TrainingJobName"}), _JOB_FIELDS),
    "Tuning": StepKind(
        "CreateHyperParameterTuningJob", frozenset({"HyperParameterTuningJobName"}), _JOB_FIELDS
    ),
    "Transform": StepKind("CreateTransformJob", frozenset({"TransformJobName"}), _JOB_FIELDS),
    "Model": StepKind("CreateModel", frozenset({"ModelName"}), frozenset({"RetryPolicies"})),
    # The pipeline names versions itself and rejects CertifyForMarketplace.
    "RegisterModel": StepKind(
        "CreateModelPackage",
        frozenset({"ModelPackageName", "CertifyForMarketplace", "ClientToken"}),
        frozenset({"RetryPolicies"}),
    ),
    "QualityCheck": StepKind(
        "CreateProcessingJob",
        frozenset({"ProcessingJobName"}),
        _CHECK_FIELDS | {"SuppliedBaselineStatistics"},
    ),
    "ClarifyCheck": StepKind(
        "CreateProcessingJob", frozenset({"ProcessingJobName"}), _CHECK_FIELDS | {"ModelName"}
    ),
    "Condition": StepKind(None),
    "Fail": StepKind(None),
}

_COMMON_FIELDS = frozenset({"Name", "Type", "Arguments", "DependsOn", "DisplayName", "Description"})
_EXPRESSION_KEYS = frozenset({"Get", "Std:Join", "Std:JsonGet"})
_RETRY_ERRORS = frozenset(
    {
        "Step.SERVICE_FAULT",
        "Step.THROTTLING",
        "SageMaker.JOB_INTERNAL_ERROR",
        "SageMaker.CAPACITY_ERROR",
        "SageMaker.RESOURCE_LIMIT",
    }
)
_CHECK_TYPES = {
    "QualityCheck": ("DATA_QUALITY", "MODEL_QUALITY"),
    "ClarifyCheck": ("DATA_BIAS", "MODEL_BIAS", "MODEL_EXPLAINABILITY"),
}
_KIND_WORDS = {
    "string": STRING,
    "timestamp": STRING,
    "blob": STRING,
    "integer": INTEGER,
    "long": INTEGER,
    "float": FLOAT,
    "double": FLOAT,
    "boolean": BOOLEAN,
}


def is_expression(value: Any) -> bool:
    """Whether ``value`` is a pipeline expression in the definition language."""
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _EXPRESSION_KEYS


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # a Java-only construct; the service checks it
        return None


def _unresolved(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and Token.is_unresolved(value)


def _describe(value: Any) -> str:
    text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class _Step:
    name: str
    type: str
    entry: Mapping[str, Any]
    parent: str | None
    property_files: dict[str, str] = field(default_factory=dict)
    dependencies: set[str] = field(default_factory=set)


class DefinitionValidator:
    """Collects every problem of one definition; :func:`validate_definition` runs it."""

    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.definition = definition
        self.errors: list[str] = []
        self.parameters: dict[str, str] = {}
        self.steps: dict[str, _Step] = {}

    # -- driver ---------------------------------------------------------------------------

    def run(self) -> list[str]:
        if self.definition.get("Version") != DEFINITION_VERSION:
            self.errors.append(
                f"Version must be '{DEFINITION_VERSION}', got {self.definition.get('Version')!r}"
            )
        unknown = set(self.definition) - {"Version", "Metadata", "Parameters", "Steps"}
        for key in sorted(unknown):
            self.errors.append(f"unknown top-level key '{key}'")
        self._collect_parameters(self.definition.get("Parameters", []))
        steps = self.definition.get("Steps")
        if not isinstance(steps, list) or not steps:
            self.errors.append("Steps must be a non-empty list")
            return self.errors
        self._collect_steps(steps, parent=None)
        for step in self.steps.values():
            self._check_step(step)
        self._check_cycles()
        return self.errors

    def _collect_parameters(self, parameters: Any) -> None:
        if not isinstance(parameters, list):
            self.errors.append("Parameters must be a list")
            return
        for index, parameter in enumerate(parameters):
            where = f"Parameters[{index}]"
            if not isinstance(parameter, Mapping):
                self.errors.append(f"{where}: expected an object")
                continue
            name, kind = parameter.get("Name"), parameter.get("Type", "String")
            if not isinstance(name, str) or not NAME_PATTERN.match(name):
                self.errors.append(f"{where}.Name: must match {NAME_PATTERN.pattern}, got {name!r}")
                continue
            if name in self.parameters:
                self.errors.append(f"{where}: parameter '{name}' is declared twice")
            if kind not in PARAMETER_VALUE_TYPES:
                self.errors.append(
                    f"{where}.Type: must be one of {sorted(PARAMETER_VALUE_TYPES)}, got {kind!r}"
                )
                continue
            self.parameters[name] = PARAMETER_VALUE_TYPES[kind]
            if "DefaultValue" in parameter and not _matches_scalar(
                self.parameters[name], parameter["DefaultValue"]
            ):
                self.errors.append(
                    f"{where}.DefaultValue: expected {self.parameters[name]}, got "
                    f"{parameter['DefaultValue']!r}"
                )

    def _collect_steps(self, entries: Sequence[Any], parent: str | None) -> None:
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                self.errors.append(f"Steps[{index}]: expected an object")
                continue
            name, kind = entry.get("Name"), entry.get("Type")
            if not isinstance(name, str) or not NAME_PATTERN.match(name):
                self.errors.append(
                    f"Steps[{index}].Name: must match {NAME_PATTERN.pattern}, got {name!r}"
                )
                continue
            if name in self.steps:
                self.errors.append(f"step '{name}': the name is used by more than one step")
                continue
            if kind not in STEP_KINDS:
                self.errors.append(
                    f"step '{name}': Type must be one of {', '.join(sorted(STEP_KINDS))}, "
                    f"got {kind!r}"
                )
                continue
            step = _Step(name, str(kind), entry, parent)
            for pf in entry.get("PropertyFiles", []) or []:
                if isinstance(pf, Mapping) and isinstance(pf.get("PropertyFileName"), str):
                    step.property_files[pf["PropertyFileName"]] = str(pf.get("OutputName"))
            self.steps[name] = step
            if kind == "Condition":
                arguments = entry.get("Arguments", {})
                if isinstance(arguments, Mapping):
                    for branch in ("IfSteps", "ElseSteps"):
                        nested = arguments.get(branch, [])
                        if isinstance(nested, list):
                            self._collect_steps(nested, parent=name)

    # -- one step -------------------------------------------------------------------------

    def _check_step(self, step: _Step) -> None:
        kind = STEP_KINDS[step.type]
        entry = step.entry
        for key in sorted(set(entry) - _COMMON_FIELDS - kind.fields):
            self._error(
                step,
                key,
                f"unknown step member for a {step.type} step"
                f"{_hint(key, _COMMON_FIELDS | kind.fields)}",
            )
        depends_on = entry.get("DependsOn", [])
        if not isinstance(depends_on, list):
            self._error(step, "DependsOn", "expected a list of step names")
        else:
            for index, other in enumerate(depends_on):
                if other not in self.steps:
                    self._error(
                        step,
                        f"DependsOn[{index}]",
                        f"no step named {other!r}{_hint(str(other), self.steps)}",
                    )
                else:
                    step.dependencies.add(other)
        if step.parent is not None:
            step.dependencies.add(step.parent)
        arguments = entry.get("Arguments")
        if not isinstance(arguments, Mapping):
            self._error(step, "Arguments", "expected an object")
            return
        if kind.operation is not None:
            input_shape = operation(kind.operation).input_shape
            assert input_shape is not None  # every Create* operation has an input
            for excluded in sorted(kind.excluded & set(arguments)):
                self._error(
                    step,
                    f"Arguments.{excluded}",
                    "is set by SageMaker Pipelines for each execution; remove it",
                )
            self._check_structure(step, input_shape, arguments, "Arguments", skip=kind.excluded)
        elif step.type == "Condition":
            self._check_condition_arguments(step, arguments)
        else:
            self._check_fail_arguments(step, arguments)
        self._check_step_fields(step)

    def _check_step_fields(self, step: _Step) -> None:  # noqa: PLR0912 - one check per member
        entry = step.entry
        if "CacheConfig" in entry:
            cache = entry["CacheConfig"]
            if not isinstance(cache, Mapping) or not isinstance(cache.get("Enabled"), bool):
                self._error(step, "CacheConfig", "expected {'Enabled': bool, 'ExpireAfter': str}")
        for index, policy in enumerate(entry.get("RetryPolicies", []) or []):
            where = f"RetryPolicies[{index}]"
            if not isinstance(policy, Mapping):
                self._error(step, where, "expected an object")
                continue
            for error in policy.get("ExceptionType", []):
                if error not in _RETRY_ERRORS:
                    self._error(
                        step,
                        f"{where}.ExceptionType",
                        f"{error!r} is not one of {', '.join(sorted(_RETRY_ERRORS))}",
                    )
            if ("MaxAttempts" in policy) == ("ExpireAfterMin" in policy):
                self._error(step, where, "give exactly one of MaxAttempts and ExpireAfterMin")
        outputs = _output_names(entry.get("Arguments", {}))
        for index, pf in enumerate(entry.get("PropertyFiles", []) or []):
            where = f"PropertyFiles[{index}]"
            if not isinstance(pf, Mapping) or set(pf) != {
                "PropertyFileName",
                "OutputName",
                "FilePath",
            }:
                self._error(step, where, "expected PropertyFileName, OutputName and FilePath")
            elif pf["OutputName"] not in outputs:
                self._error(
                    step,
                    f"{where}.OutputName",
                    f"no processing output named {pf['OutputName']!r}; outputs: {sorted(outputs)}",
                )
        if step.type in _CHECK_TYPES and entry.get("CheckType") not in _CHECK_TYPES[step.type]:
            self._error(
                step,
                "CheckType",
                f"must be one of {', '.join(_CHECK_TYPES[step.type])}, "
                f"got {entry.get('CheckType')!r}",
            )
        for key in ("SkipCheck", "FailOnViolation", "RegisterNewBaseline"):
            if key in entry:
                self._check_scalar(step, BOOLEAN, entry[key], key)

    def _check_fail_arguments(self, step: _Step, arguments: Mapping[str, Any]) -> None:
        for key in sorted(set(arguments) - {"ErrorMessage"}):
            self._error(step, f"Arguments.{key}", "unknown member; a Fail step takes ErrorMessage")
        if "ErrorMessage" in arguments:
            self._check_scalar(step, STRING, arguments["ErrorMessage"], "Arguments.ErrorMessage")

    def _check_condition_arguments(self, step: _Step, arguments: Mapping[str, Any]) -> None:
        for key in sorted(set(arguments) - {"Conditions", "IfSteps", "ElseSteps"}):
            self._error(step, f"Arguments.{key}", "unknown member of a Condition step")
        conditions = arguments.get("Conditions")
        if not isinstance(conditions, list) or not conditions:
            self._error(step, "Arguments.Conditions", "expected a non-empty list")
            return
        for index, condition in enumerate(conditions):
            self._check_condition(step, condition, f"Arguments.Conditions[{index}]")

    def _check_condition(self, step: _Step, condition: Any, path: str) -> None:  # noqa: PLR0912
        if not isinstance(condition, Mapping):
            self._error(step, path, "expected a condition object")
            return
        kind = condition.get("Type")
        if kind in COMPARISONS:
            expected = {"Type", "LeftValue", "RightValue"}
            for operand in ("LeftValue", "RightValue"):
                if operand in condition:
                    self._check_scalar(step, None, condition[operand], f"{path}.{operand}")
        elif kind == "In":
            expected = {"Type", "QueryValue", "Values"}
            self._check_scalar(step, None, condition.get("QueryValue"), f"{path}.QueryValue")
            values = condition.get("Values")
            if not isinstance(values, list):
                self._error(step, f"{path}.Values", "expected a list")
            else:
                for index, value in enumerate(values):
                    self._check_scalar(step, None, value, f"{path}.Values[{index}]")
        elif kind == "Not":
            expected = {"Type", "Condition"}
            self._check_condition(step, condition.get("Condition"), f"{path}.Condition")
        elif kind == "Or":
            expected = {"Type", "Conditions"}
            nested = condition.get("Conditions")
            if not isinstance(nested, list) or not nested:
                self._error(step, f"{path}.Conditions", "expected a non-empty list")
            else:
                for index, inner in enumerate(nested):
                    self._check_condition(step, inner, f"{path}.Conditions[{index}]")
        else:
            allowed = sorted([*COMPARISONS, "In", "Not", "Or"])
            self._error(step, f"{path}.Type", f"must be one of {', '.join(allowed)}, got {kind!r}")
            return
        for key in sorted(expected - set(condition)):
            self._error(step, path, f"missing required key '{key}'")
        for key in sorted(set(condition) - expected):
            self._error(step, f"{path}.{key}", f"unknown member of a {kind} condition")

    # -- values against botocore shapes ---------------------------------------------------

    def _check_value(self, step: _Step, node: Shape, value: Any, path: str) -> None:
        expected = node.type_name
        if is_expression(value):
            self._check_expression_use(step, expected, value, path)
            return
        if expected == "structure":
            if not isinstance(value, Mapping):
                self._error(step, path, f"expected an object ({node.name}), got {_describe(value)}")
                return
            self._check_structure(step, node, value, path)
        elif expected == "list":
            if _unresolved(value):
                return
            if not isinstance(value, (list, tuple)):
                self._error(step, path, f"expected a list, got {_describe(value)}")
                return
            self._check_length(step, node, len(value), path, "items")
            member: Shape = node.member  # type: ignore[attr-defined]
            for index, item in enumerate(value):
                self._check_value(step, member, item, f"{path}[{index}]")
        elif expected == "map":
            if not isinstance(value, Mapping):
                self._error(step, path, f"expected an object (map), got {_describe(value)}")
                return
            value_shape: Shape = node.value  # type: ignore[attr-defined]
            for key, item in value.items():
                self._check_value(step, value_shape, item, f"{path}.{key}")
        else:
            self._check_scalar_shape(step, node, value, path)

    def _check_structure(
        self,
        step: _Step,
        node: Shape,
        value: Mapping[str, Any],
        path: str,
        *,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        members: Mapping[str, Shape] = node.members  # type: ignore[attr-defined]
        for key in value:
            if key in skip:
                continue
            if key not in members:
                self._error(
                    step,
                    f"{path}.{key}",
                    f"unknown key for {node.name}{_hint(str(key), members)}",
                )
            else:
                self._check_value(step, members[key], value[key], f"{path}.{key}")
        required: list[str] = node.required_members
        for key in required:
            if key not in value and key not in skip:
                self._error(step, path, f"missing required key '{key}' of {node.name}")

    def _check_scalar_shape(self, step: _Step, node: Shape, value: Any, path: str) -> None:
        kind = _KIND_WORDS.get(node.type_name, STRING)
        if _unresolved(value):
            return
        if not _matches_scalar(kind, value):
            self._error(step, path, f"expected {kind}, got {_describe(value)}")
            return
        metadata = node.metadata
        if kind == STRING and isinstance(value, str):
            enum = getattr(node, "enum", None)
            if enum and value not in enum:
                close = difflib.get_close_matches(value, enum, n=3)
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                if len(enum) <= 12:
                    hint = f" ({', '.join(enum)}){hint}"
                self._error(
                    step,
                    path,
                    f"{value!r} is not one of the {len(enum)} values of {node.name}{hint}",
                )
                return
            self._check_length(step, node, len(value), path, "characters")
            pattern = metadata.get("pattern")
            compiled = _pattern(pattern) if pattern else None
            if compiled is not None and not compiled.search(value):
                self._error(step, path, f"{value!r} does not match {pattern} ({node.name})")
        elif kind in (INTEGER, FLOAT):
            low, high = metadata.get("min"), metadata.get("max")
            if (low is not None and value < low) or (high is not None and value > high):
                bounds = (
                    f"from {low} to {high}"
                    if low is not None and high is not None
                    else f"at least {low}"
                    if low is not None
                    else f"at most {high}"
                )
                self._error(step, path, f"must be {bounds} ({node.name}), got {value}")

    def _check_length(self, step: _Step, node: Shape, length: int, path: str, unit: str) -> None:
        low, high = node.metadata.get("min"), node.metadata.get("max")
        if low is not None and length < low:
            self._error(step, path, f"needs at least {low} {unit} ({node.name}), got {length}")
        if high is not None and length > high:
            self._error(step, path, f"allows at most {high} {unit} ({node.name}), got {length}")

    def _check_scalar(self, step: _Step, expected: str | None, value: Any, path: str) -> None:
        """A condition operand or step field: a scalar of ``expected`` type or an expression."""
        if is_expression(value):
            self._check_expression_use(step, expected, value, path)
        elif _unresolved(value):
            return
        elif expected is None:
            if not isinstance(value, (str, int, float, bool)):
                self._error(
                    step, path, f"expected a value or an expression, got {_describe(value)}"
                )
        elif not _matches_scalar(expected, value):
            self._error(step, path, f"expected {expected}, got {_describe(value)}")

    # -- expressions ----------------------------------------------------------------------

    def _check_expression_use(
        self, step: _Step, expected: str | None, value: Mapping[str, Any], path: str
    ) -> None:
        produced = self._expression_type(step, value, path)
        wanted = _KIND_WORDS.get(expected, expected) if expected else None
        if produced is None or wanted is None:
            return
        if wanted in ("structure", "list", "map"):
            ok = produced == OBJECT
        else:
            ok = produced == wanted or (wanted == FLOAT and produced == INTEGER)
        if not ok:
            self._error(
                step, path, f"expected {wanted}, got a {produced} expression {_describe(value)}"
            )

    def _expression_type(  # noqa: PLR0911 - one return per expression form
        self, step: _Step, value: Mapping[str, Any], path: str
    ) -> str | None:
        key, body = next(iter(value.items()))
        if key == "Get":
            return self._get_type(step, body, path)
        if key == "Std:Join":
            if not isinstance(body, Mapping) or set(body) != {"On", "Values"}:
                self._error(step, path, "Std:Join takes exactly On and Values")
                return STRING
            if not isinstance(body["On"], str):
                self._error(step, f"{path}.Std:Join.On", "expected string")
            values = body["Values"]
            if not isinstance(values, list) or not values:
                self._error(step, f"{path}.Std:Join.Values", "expected a non-empty list")
                return STRING
            for index, item in enumerate(values):
                self._check_scalar(step, None, item, f"{path}.Std:Join.Values[{index}]")
            return STRING
        # Std:JsonGet
        if not isinstance(body, Mapping) or set(body) != {"PropertyFile", "Path"}:
            self._error(step, path, "Std:JsonGet takes exactly PropertyFile and Path")
            return None
        reference = body["PropertyFile"]
        match = (
            re.fullmatch(
                r"Steps\.([A-Za-z0-9\-_]+)\.PropertyFiles\.([A-Za-z0-9\-_]+)", reference["Get"]
            )
            if isinstance(reference, Mapping) and isinstance(reference.get("Get"), str)
            else None
        )
        if match is None:
            self._error(
                step,
                f"{path}.Std:JsonGet.PropertyFile",
                "expected {'Get': 'Steps.<step>.PropertyFiles.<name>'}",
            )
            return None
        other_name, file_name = match.groups()
        other = self._referenced_step(step, other_name, f"{path}.Std:JsonGet")
        if other is not None and file_name not in other.property_files:
            self._error(
                step,
                f"{path}.Std:JsonGet",
                f"step '{other_name}' declares no property file '{file_name}'"
                f"{_hint(file_name, other.property_files)}",
            )
        if not isinstance(body["Path"], str) or not body["Path"]:
            self._error(step, f"{path}.Std:JsonGet.Path", "expected a JsonPath string")
        return None

    def _get_type(  # noqa: PLR0911 - one return per reference kind
        self, step: _Step, reference: Any, path: str
    ) -> str | None:
        if not isinstance(reference, str):
            self._error(step, path, f"Get expects a string, got {_describe(reference)}")
            return None
        head, _, rest = reference.partition(".")
        if head == "Parameters":
            if rest not in self.parameters:
                self._error(
                    step,
                    path,
                    f"parameter '{rest}' is not declared{_hint(rest, self.parameters)}",
                )
                return None
            return self.parameters[rest]
        if head == "Execution":
            if rest not in EXECUTION_VARIABLE_NAMES:
                self._error(
                    step,
                    path,
                    f"unknown execution variable '{rest}'{_hint(rest, EXECUTION_VARIABLE_NAMES)}",
                )
                return None
            return STRING
        if head == "Steps":
            match = re.match(r"([A-Za-z0-9\-_]+)(.*)$", rest)
            if match is None:
                self._error(step, path, f"malformed step reference {reference!r}")
                return None
            other_name, property_path = match.groups()
            other = self._referenced_step(step, other_name, path)
            if other is None:
                return None
            if not property_path:
                self._error(step, path, f"a reference to step '{other_name}' needs a property")
                return None
            try:
                return resolve_property_path(other.type, property_path)
            except ValueError as error:
                self._error(step, path, f"step '{other_name}': {error}")
                return None
        self._error(
            step, path, f"Get must start with Parameters., Execution. or Steps., got {reference!r}"
        )
        return None

    def _referenced_step(self, step: _Step, name: str, path: str) -> _Step | None:
        other = self.steps.get(name)
        if other is None:
            self._error(step, path, f"no step named '{name}'{_hint(name, self.steps)}")
            return None
        if other.name == step.name:
            self._error(step, path, "a step cannot use its own properties")
            return None
        step.dependencies.add(name)
        return other

    # -- the graph ------------------------------------------------------------------------

    def _check_cycles(self) -> None:
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        reported: set[frozenset[str]] = set()

        def visit(name: str, trail: list[str]) -> None:
            state[name] = 1
            trail.append(name)
            for other in sorted(self.steps[name].dependencies):
                if other not in self.steps:
                    continue
                if state.get(other) == 1:
                    cycle = [*trail[trail.index(other) :], other]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        self.errors.append(
                            "dependency cycle: " + " -> ".join(f"'{n}'" for n in reversed(cycle))
                        )
                elif other not in state:
                    visit(other, trail)
            trail.pop()
            state[name] = 2

        for name in sorted(self.steps):
            if name not in state:
                visit(name, [])

    def _error(self, step: _Step, path: str, message: str) -> None:
        self.errors.append(f"step '{step.name}': {path}: {message}")


def _matches_scalar(kind: str, value: Any) -> bool:
    if kind == STRING:
        return isinstance(value, str)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == INTEGER:
        return isinstance(value, int)
    return isinstance(value, (int, float))


def _hint(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, [str(k) for k in known], n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _output_names(arguments: Any) -> set[str]:
    if not isinstance(arguments, Mapping):
        return set()
    config = arguments.get("ProcessingOutputConfig", {})
    outputs = config.get("Outputs", []) if isinstance(config, Mapping) else []
    return {str(o.get("OutputName")) for o in outputs if isinstance(o, Mapping)}


def validate_definition(definition: Mapping[str, Any]) -> list[str]:
    """Every problem of a rendered pipeline definition, one message each (empty when valid)."""
    return DefinitionValidator(definition).run()

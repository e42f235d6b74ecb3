"""Pipeline expressions: values the pipeline resolves when it runs.

Everything here renders to the SageMaker Pipelines definition language (schema 2020-12-01):
``{"Get": "Parameters.X"}``, ``{"Get": "Execution.PipelineExecutionId"}``,
``{"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}``, ``{"Std:Join": ...}`` and
``{"Std:JsonGet": ...}``. Step properties are checked against botocore's model of the step's
Describe response as they are written, so ``train.properties.ModelArtifact`` fails at once.
"""

from __future__ import annotations

import abc
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from botocore.model import Shape

from sagemaker_lifecycle._internal.sagemaker_api import shape

#: The value types the definition language knows; ``None`` means "any scalar" (JsonGet).
STRING: Final = "string"
INTEGER: Final = "integer"
FLOAT: Final = "float"
BOOLEAN: Final = "boolean"
#: A property that is a structure, list or map (usable only where such a value goes).
OBJECT: Final = "object"

_SCALAR_TYPES = {
    "string": STRING,
    "timestamp": STRING,
    "blob": STRING,
    "integer": INTEGER,
    "long": INTEGER,
    "float": FLOAT,
    "double": FLOAT,
    "boolean": BOOLEAN,
}

#: Pipeline step and parameter names (the definition schema's StepName / ParameterName).
NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")

_PATH_TOKEN = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]|\['([^']*)'\]")


class Expression(abc.ABC):
    """A value the pipeline evaluates at run time."""

    @abc.abstractmethod
    def to_json(self) -> dict[str, Any]:
        """The expression in the definition language."""

    @property
    def value_type(self) -> str | None:
        """:data:`STRING`, :data:`INTEGER`, :data:`FLOAT`, :data:`BOOLEAN`, :data:`OBJECT`
        or ``None`` when only known at run time."""
        return None

    def to_string(self) -> Join:
        """This value as a string (``Std:Join`` of one value), for string-only arguments
        such as hyperparameters."""
        return Join("", [self])


@dataclass(frozen=True)
class ExecutionVariable(Expression):
    """A value of the running execution (``Execution.<name>``), always a string."""

    name: str

    def to_json(self) -> dict[str, Any]:
        return {"Get": f"Execution.{self.name}"}

    @property
    def value_type(self) -> str | None:
        return STRING


class ExecutionVariables:
    """The execution variables SageMaker Pipelines defines."""

    START_DATETIME: Final = ExecutionVariable("StartDateTime")
    CURRENT_DATETIME: Final = ExecutionVariable("CurrentDateTime")
    PIPELINE_EXECUTION_ID: Final = ExecutionVariable("PipelineExecutionId")
    PIPELINE_EXECUTION_ARN: Final = ExecutionVariable("PipelineExecutionArn")
    PIPELINE_NAME: Final = ExecutionVariable("PipelineName")
    PIPELINE_ARN: Final = ExecutionVariable("PipelineArn")
    TRAINING_JOB_NAME: Final = ExecutionVariable("TrainingJobName")
    PROCESSING_JOB_NAME: Final = ExecutionVariable("ProcessingJobName")


#: Names accepted after ``Execution.``.
EXECUTION_VARIABLE_NAMES: Final = frozenset(
    v.name for v in vars(ExecutionVariables).values() if isinstance(v, ExecutionVariable)
)


class Join(Expression):
    """``Std:Join``: the string of ``values`` joined by ``on``, evaluated at run time."""

    def __init__(self, on: str, values: Sequence[str | int | float | bool | Expression]) -> None:
        if not values:
            raise ValueError("Join values must not be empty")
        self.on = on
        self.values = list(values)

    def to_json(self) -> dict[str, Any]:
        return {
            "Std:Join": {
                "On": self.on,
                "Values": [v.to_json() if isinstance(v, Expression) else v for v in self.values],
            }
        }

    @property
    def value_type(self) -> str | None:
        return STRING


@dataclass(frozen=True)
class PropertyFile:
    """A JSON file a processing step writes to one of its outputs, read with :class:`JsonGet`.

    :param name: how :class:`JsonGet` refers to the file.
    :param output_name: the processing output (``OutputName``) that holds the file.
    :param path: the file's path relative to that output, such as ``"evaluation.json"``.
    """

    name: str
    output_name: str
    path: str

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ValueError(
                f"PropertyFile name must be 1 to 64 letters, digits, '-' or '_', got {self.name!r}"
            )
        if not self.path or self.path.startswith("/"):
            raise ValueError(f"PropertyFile path must be relative to the output, got {self.path!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "PropertyFileName": self.name,
            "OutputName": self.output_name,
            "FilePath": self.path,
        }


class JsonGet(Expression):
    """``Std:JsonGet``: a value read from a processing step's property file at run time.

    :param step_name: the processing step that declares ``property_file``.
    :param property_file: the file, or its name.
    :param json_path: JsonPath into the file, such as ``"binary_classification_metrics.auc.value"``.
    """

    def __init__(self, step_name: str, property_file: PropertyFile | str, json_path: str) -> None:
        if not json_path:
            raise ValueError("JsonGet json_path must not be empty")
        self.step_name = step_name
        self.property_file_name = (
            property_file.name if isinstance(property_file, PropertyFile) else property_file
        )
        self.json_path = json_path

    def to_json(self) -> dict[str, Any]:
        return {
            "Std:JsonGet": {
                "PropertyFile": {
                    "Get": f"Steps.{self.step_name}.PropertyFiles.{self.property_file_name}"
                },
                "Path": self.json_path,
            }
        }


# --- step properties -----------------------------------------------------------------------

#: Properties of steps that are not SageMaker jobs, by step type: name -> value type.
SYNTHETIC_PROPERTIES: Final[Mapping[str, Mapping[str, str]]] = {
    "Condition": {"Outcome": BOOLEAN},
    "QualityCheck": {
        "CalculatedBaselineConstraints": STRING,
        "CalculatedBaselineStatistics": STRING,
        "BaselineUsedForDriftCheckConstraints": STRING,
        "BaselineUsedForDriftCheckStatistics": STRING,
    },
    "ClarifyCheck": {
        "CalculatedBaselineConstraints": STRING,
        "BaselineUsedForDriftCheckConstraints": STRING,
    },
    "Fail": {},
}

#: botocore shapes whose members a step's properties expose, by step type.
PROPERTY_SHAPES: Final[Mapping[str, tuple[str, ...]]] = {
    "Processing": ("DescribeProcessingJobResponse",),
    "Training": ("DescribeTrainingJobResponse",),
    "Tuning": (
        "DescribeHyperParameterTuningJobResponse",
        "ListTrainingJobsForHyperParameterTuningJobResponse",
    ),
    "Transform": ("DescribeTransformJobResponse",),
    "Model": ("DescribeModelOutput",),
    "RegisterModel": ("DescribeModelPackageOutput",),
}


def _shape_type(node: Shape | str) -> str:
    if isinstance(node, str):
        return node
    if node.type_name in ("structure", "list", "map"):
        return OBJECT
    return _SCALAR_TYPES.get(node.type_name, STRING)


def resolve_property_path(step_type: str, path: str) -> str:
    """The value type at ``path`` (``".ModelArtifacts.S3ModelArtifacts"``) of a step's
    properties; raises ``ValueError`` naming the first segment that does not exist."""
    tokens = list(_PATH_TOKEN.finditer(path))
    if not tokens or "".join(t.group(0) for t in tokens) != path:
        raise ValueError(f"malformed property path {path!r}")
    first = tokens[0].group(1)
    if first is None:
        raise ValueError(f"property path {path!r} must start with a member name")
    node: Shape | str = _step_member(step_type, first)
    walked = first
    for token in tokens[1:]:
        node = _child(node, token, walked)
        walked += token.group(0)
    return _shape_type(node)


def _step_member(step_type: str, name: str) -> Shape | str:
    if step_type in SYNTHETIC_PROPERTIES:
        members: Mapping[str, Shape | str] = SYNTHETIC_PROPERTIES[step_type]
    else:
        merged: dict[str, Shape | str] = {}
        for shape_name in PROPERTY_SHAPES.get(step_type, ()):
            merged.update(shape(shape_name).members)  # type: ignore[attr-defined]
        members = merged
    if name not in members:
        raise ValueError(_unknown(f"{step_type} step property", name, list(members)))
    return members[name]


def _child(node: Shape | str, token: re.Match[str], walked: str) -> Shape | str:
    member, index, key = token.groups()
    if isinstance(node, str) or node.type_name not in ("structure", "list", "map"):
        raise ValueError(f"'{walked}' is a scalar; it has no '{token.group(0)}'")
    if member is not None:
        if node.type_name != "structure":
            raise ValueError(f"'{walked}' is a {node.type_name}: index it with [0] or ['name']")
        members: Mapping[str, Shape] = node.members  # type: ignore[attr-defined]
        if member not in members:
            raise ValueError(_unknown(f"member of '{walked}'", member, list(members)))
        child: Shape = members[member]
        return child
    if node.type_name == "structure":
        raise ValueError(f"'{walked}' is a structure: use .member, not {token.group(0)}")
    if node.type_name == "map":
        value: Shape = node.value  # type: ignore[attr-defined]
        return value
    # Lists are indexed by position, or (for lists of named items, such as processing
    # outputs) by the item's name.
    if index is None and key is None:
        raise ValueError(f"'{walked}' needs an index")
    item: Shape = node.member  # type: ignore[attr-defined]
    return item


def _unknown(what: str, name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"no {what} named '{name}'{hint}"


class PropertyReference(Expression):
    """``{"Get": "Steps.<step>.<path>"}``: a property of a step, checked against botocore.

    Members are read as attributes (``.ModelArtifacts``), list items and map values by index
    (``.Outputs["train"]``, ``.TrainingJobSummaries[0]``).
    """

    def __init__(self, step_name: str, step_type: str, path: str = "") -> None:
        object.__setattr__(self, "_step_name", step_name)
        object.__setattr__(self, "_step_type", step_type)
        object.__setattr__(self, "_path", path)
        object.__setattr__(
            self, "_value_type", resolve_property_path(step_type, path) if path else OBJECT
        )

    @property
    def step_name(self) -> str:
        """The step whose property this is."""
        name: str = object.__getattribute__(self, "_step_name")
        return name

    @property
    def _type_name(self) -> str:
        value: str = object.__getattribute__(self, "_step_type")
        return value

    @property
    def _path_text(self) -> str:
        value: str = object.__getattribute__(self, "_path")
        return value

    def __getattr__(self, name: str) -> PropertyReference:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return PropertyReference(self.step_name, self._type_name, f"{self._path_text}.{name}")
        except ValueError as error:
            raise AttributeError(f"step '{self.step_name}': {error}") from None

    def __getitem__(self, item: int | str) -> PropertyReference:
        suffix = f"[{item}]" if isinstance(item, int) else f"['{item}']"
        try:
            return PropertyReference(self.step_name, self._type_name, f"{self._path_text}{suffix}")
        except ValueError as error:
            raise KeyError(f"step '{self.step_name}': {error}") from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("step properties are read-only")

    def to_json(self) -> dict[str, Any]:
        return {"Get": f"Steps.{self.step_name}{self._path_text}"}

    @property
    def value_type(self) -> str | None:
        value: str = object.__getattribute__(self, "_value_type")
        return value

    def __repr__(self) -> str:
        return f"PropertyReference({self.to_json()['Get']!r})"


def render(value: Any) -> Any:
    """``value`` with every expression (and nested one) in the definition language."""
    if isinstance(value, Expression):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): render(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v) for v in value]
    return value

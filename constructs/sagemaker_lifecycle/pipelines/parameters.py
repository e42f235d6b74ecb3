"""Pipeline parameters: values a caller may override when starting an execution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sagemaker_lifecycle.pipelines.expressions import (
    BOOLEAN,
    FLOAT,
    INTEGER,
    NAME_PATTERN,
    STRING,
    Expression,
)

_MAX_DESCRIPTION = 4096
_MAX_STRING_DEFAULT = 4096


@dataclass(frozen=True)
class Parameter(Expression):
    """A pipeline parameter (``{"Get": "Parameters.<name>"}``) with an optional default.

    Use the typed subclasses: :class:`ParameterString`, :class:`ParameterInteger`,
    :class:`ParameterFloat`, :class:`ParameterBoolean`.
    """

    TYPE: ClassVar[str] = ""
    VALUE_TYPE: ClassVar[str] = ""

    name: str
    default_value: Any = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_PATTERN.match(self.name):
            raise ValueError(
                f"{type(self).__name__} name must be 1 to 64 letters, digits, '-' or '_', "
                f"got {self.name!r}"
            )
        if self.default_value is not None and not self._accepts(self.default_value):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': default_value must be a "
                f"{self.VALUE_TYPE}, got {self.default_value!r}"
            )
        if self.description is not None and len(self.description) > _MAX_DESCRIPTION:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': description must be at most "
                f"{_MAX_DESCRIPTION} characters"
            )

    def _accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {"Get": f"Parameters.{self.name}"}

    @property
    def value_type(self) -> str | None:
        return self.VALUE_TYPE

    def declaration(self) -> dict[str, Any]:
        """The parameter's entry in the definition's ``Parameters`` list."""
        declared: dict[str, Any] = {"Name": self.name, "Type": self.TYPE}
        if self.default_value is not None:
            declared["DefaultValue"] = self.default_value
        if self.description is not None:
            declared["Description"] = self.description
        return declared


@dataclass(frozen=True)
class ParameterString(Parameter):
    """A string parameter."""

    TYPE: ClassVar[str] = "String"
    VALUE_TYPE: ClassVar[str] = STRING

    def _accepts(self, value: Any) -> bool:
        return isinstance(value, str) and len(value) <= _MAX_STRING_DEFAULT


@dataclass(frozen=True)
class ParameterInteger(Parameter):
    """An integer parameter."""

    TYPE: ClassVar[str] = "Integer"
    VALUE_TYPE: ClassVar[str] = INTEGER

    def _accepts(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class ParameterFloat(Parameter):
    """A floating-point parameter."""

    TYPE: ClassVar[str] = "Float"
    VALUE_TYPE: ClassVar[str] = FLOAT

    def _accepts(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class ParameterBoolean(Parameter):
    """A boolean parameter."""

    TYPE: ClassVar[str] = "Boolean"
    VALUE_TYPE: ClassVar[str] = BOOLEAN

    def _accepts(self, value: Any) -> bool:
        return isinstance(value, bool)


#: Definition ``Type`` -> value type, for checking ``{"Get": "Parameters.X"}`` uses.
PARAMETER_VALUE_TYPES = {
    cls.TYPE: cls.VALUE_TYPE
    for cls in (ParameterString, ParameterInteger, ParameterFloat, ParameterBoolean)
}

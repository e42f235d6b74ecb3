"""Conditions of a :class:`~sagemaker_lifecycle.pipelines.steps.ConditionStep`."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, ClassVar

from sagemaker_lifecycle.pipelines.expressions import Expression, render

Operand = str | int | float | bool | Expression

#: Comparison types of the definition language.
COMPARISONS = frozenset(
    {"Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo"}
)


class Condition(abc.ABC):
    """A condition a condition step evaluates."""

    @abc.abstractmethod
    def to_json(self) -> dict[str, Any]:
        """The condition in the definition language."""


class _Comparison(Condition):
    TYPE: ClassVar[str] = ""

    def __init__(self, left: Operand, right: Operand) -> None:
        self.left = left
        self.right = right

    def to_json(self) -> dict[str, Any]:
        return {"Type": self.TYPE, "LeftValue": render(self.left), "RightValue": render(self.right)}


class ConditionEquals(_Comparison):
    """``left == right``."""

    TYPE = "Equals"


class ConditionGreaterThan(_Comparison):
    """``left > right``."""

    TYPE = "GreaterThan"


class ConditionGreaterThanOrEqualTo(_Comparison):
    """``left >= right``."""

    TYPE = "GreaterThanOrEqualTo"


class ConditionLessThan(_Comparison):
    """``left < right``."""

    TYPE = "LessThan"


class ConditionLessThanOrEqualTo(_Comparison):
    """``left <= right``."""

    TYPE = "LessThanOrEqualTo"


class ConditionIn(Condition):
    """``value in values``."""

    def __init__(self, value: Operand, values: Sequence[Operand]) -> None:
        self.value = value
        self.values = list(values)

    def to_json(self) -> dict[str, Any]:
        return {"Type": "In", "QueryValue": render(self.value), "Values": render(self.values)}


class ConditionNot(Condition):
    """The negation of ``condition``."""

    def __init__(self, condition: Condition) -> None:
        self.condition = condition

    def to_json(self) -> dict[str, Any]:
        return {"Type": "Not", "Condition": self.condition.to_json()}


class ConditionOr(Condition):
    """True when any of ``conditions`` is."""

    def __init__(self, conditions: Sequence[Condition]) -> None:
        if not conditions:
            raise ValueError("ConditionOr needs at least one condition")
        self.conditions = list(conditions)

    def to_json(self) -> dict[str, Any]:
        return {"Type": "Or", "Conditions": [c.to_json() for c in self.conditions]}

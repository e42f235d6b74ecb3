"""The SageMaker API's own limits, read from botocore's service model.

Enums (instance types), name patterns and lengths come from the model that boto3 ships,
never from hand-typed lists, so they follow the API as botocore is upgraded.
"""

from __future__ import annotations

import functools
import re

import botocore.session
from aws_cdk import Token
from botocore.model import OperationModel, ServiceModel, Shape

from sagemaker_lifecycle._internal.validation import ValidationErrors


@functools.cache
def service_model(service: str = "sagemaker") -> ServiceModel:
    """botocore's model of ``service`` (loaded once per process)."""
    return botocore.session.get_session().get_service_model(service)


def shape(name: str, service: str = "sagemaker") -> Shape:
    """The named shape of ``service``'s model."""
    return service_model(service).shape_for(name)


def operation(name: str, service: str = "sagemaker") -> OperationModel:
    """The named operation of ``service``'s model (``CreateTrainingJob``)."""
    return service_model(service).operation_model(name)


@functools.cache
def enum_values(shape_name: str, service: str = "sagemaker") -> tuple[str, ...]:
    """The values the API allows for an enum shape (``ProductionVariantInstanceType``)."""
    values = getattr(shape(shape_name, service), "enum", None)
    if not values:
        raise KeyError(f"{service} shape {shape_name!r} is not an enum")
    return tuple(values)


def check_enum(
    errors: ValidationErrors, prop: str, value: str, shape_name: str, service: str = "sagemaker"
) -> None:
    """Report ``value`` unless the API's ``shape_name`` enum allows it."""
    if Token.is_unresolved(value):
        return
    allowed = enum_values(shape_name, service)
    if value not in allowed:
        close = [v for v in allowed if v.split(".")[:2] == str(value).split(".")[:2]]
        hint = f"; values of that family: {', '.join(close)}" if close else ""
        errors.add(
            f"{prop} {value!r} is not one of the {len(allowed)} values the SageMaker API allows "
            f"for {shape_name}{hint}"
        )


def check_name(
    errors: ValidationErrors, prop: str, value: str, shape_name: str, service: str = "sagemaker"
) -> None:
    """Report ``value`` unless it fits the API's pattern and length for ``shape_name``."""
    if Token.is_unresolved(value):
        return
    metadata = shape(shape_name, service).metadata
    minimum, maximum = metadata.get("min", 1), metadata.get("max")
    pattern = metadata.get("pattern")
    if not isinstance(value, str) or len(value) < minimum or (maximum and len(value) > maximum):
        errors.add(
            f"{prop} must be {minimum} to {maximum} characters ({shape_name}), got {value!r}"
        )
    elif pattern and not re.fullmatch(pattern, value):
        errors.add(f"{prop} must match {pattern} ({shape_name}), got {value!r}")

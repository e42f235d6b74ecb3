"""Typed feature definitions and the SageMaker API's rules for them.

Limits come from botocore's model of ``CreateFeatureGroup`` (name patterns and lengths, the
2,500-definition maximum, the vector dimension range) and from the API reference's prose
(reserved names, event-time types, vectors of Fractional elements only).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sagemaker_lifecycle._internal.sagemaker_api import check_name, shape
from sagemaker_lifecycle._internal.validation import ValidationErrors


class FeatureType(enum.Enum):
    """The value type of a feature (``FeatureDefinition.FeatureType``)."""

    INTEGRAL = "Integral"
    """64-bit signed integers."""
    FRACTIONAL = "Fractional"
    """IEEE 754 double-precision numbers (event times as Unix epoch seconds)."""
    STRING = "String"
    """UTF-8 text (event times as ISO-8601 ``yyyy-MM-dd'T'HH:mm:ss[.SSS]Z``)."""


class CollectionType(enum.Enum):
    """A feature that holds several values of its type (``FeatureDefinition.CollectionType``).

    The API supports collections only in ``InMemory`` online stores, and CloudFormation's
    ``AWS::SageMaker::FeatureGroup`` cannot declare them at all (see :class:`Feature`).
    """

    LIST = "List"
    """An ordered collection that may repeat elements."""
    SET = "Set"
    """An unordered collection of unique elements."""
    VECTOR = "Vector"
    """A fixed-size array of Fractional elements (``vector_dimension`` elements)."""


#: Names the offline store uses for its own columns; no feature may take them.
RESERVED_FEATURE_NAMES = frozenset({"is_deleted", "write_time", "api_invocation_time"})
#: Event times may only be Unix epoch seconds (Fractional) or ISO-8601 strings (String).
EVENT_TIME_TYPES = (FeatureType.STRING, FeatureType.FRACTIONAL)


@dataclass(frozen=True)
class Feature:
    """One feature of a feature group: ``Feature("age", FeatureType.INTEGRAL)``.

    :param name: 1 to 64 letters, digits, ``-`` and ``_``, starting and ending with a letter
        or digit; unique in its group ignoring case (the offline store's Glue table
        lower-cases column names) and not one of :data:`RESERVED_FEATURE_NAMES`.
    :param type: the value type.
    :param collection_type: makes the feature a list, set or vector of ``type``. The API
        allows it only with an ``InMemory`` online store; CloudFormation's FeatureDefinition
        has no such property, so :class:`FeatureGroup` rejects it at synth time.
        Default: a single value.
    :param vector_dimension: number of elements of a ``VECTOR`` (1 to 8192). Default: none.
    """

    name: str
    type: FeatureType
    collection_type: CollectionType | None = None
    vector_dimension: int | None = None


def _max_feature_definitions() -> int:
    maximum: int = shape("FeatureDefinitions").metadata["max"]
    return maximum


def _vector_dimension_range() -> tuple[int, int]:
    metadata = shape("Dimension").metadata
    return int(metadata["min"]), int(metadata["max"])


#: Most feature definitions in one group (botocore: FeatureDefinitions max).
MAX_FEATURES = _max_feature_definitions()


def check_features(
    errors: ValidationErrors,
    features: Sequence[Feature],
    *,
    record_identifier: str,
    event_time: str,
) -> None:
    """Report every problem with ``features`` and the two special features' names."""
    if not isinstance(features, Sequence) or isinstance(features, str):
        errors.add(f"features must be a sequence of Feature, got {features!r}")
        return
    count = len(features)
    errors.check(
        1 <= count <= MAX_FEATURES,
        f"features must hold 1 to {MAX_FEATURES} definitions (CreateFeatureGroup "
        f"FeatureDefinitions), got {count}",
    )
    by_name: dict[str, Feature] = {}
    seen_lower: dict[str, str] = {}
    for index, feature in enumerate(features):
        prop = f"features[{index}]"
        if not isinstance(feature, Feature):
            errors.add(f"{prop} must be a Feature, got {feature!r}")
            continue
        _check_feature(errors, prop, feature)
        if not isinstance(feature.name, str):
            continue
        lower = feature.name.lower()
        if lower in seen_lower:
            errors.add(
                f"{prop}.name {feature.name!r} duplicates {seen_lower[lower]!r}: feature names "
                "must be unique ignoring case, since the offline store's Glue table lower-cases "
                "column names"
            )
        else:
            seen_lower[lower] = feature.name
            by_name[feature.name] = feature
    _check_special(errors, "record_identifier", record_identifier, by_name)
    event = _check_special(errors, "event_time", event_time, by_name)
    if event is not None and event.type not in EVENT_TIME_TYPES:
        errors.add(
            f"event_time feature {event_time!r} must be of type String (ISO-8601) or "
            f"Fractional (Unix epoch seconds), got {event.type.name}"
        )


def _check_feature(errors: ValidationErrors, prop: str, feature: Feature) -> None:
    check_name(errors, f"{prop}.name", feature.name, "FeatureName")
    if isinstance(feature.name, str) and feature.name.lower() in RESERVED_FEATURE_NAMES:
        errors.add(
            f"{prop}.name {feature.name!r} is reserved for the offline store's own columns "
            f"({', '.join(sorted(RESERVED_FEATURE_NAMES))})"
        )
    if not isinstance(feature.type, FeatureType):
        allowed = ", ".join(f"FeatureType.{t.name}" for t in FeatureType)
        errors.add(f"{prop}.type must be one of {allowed}, got {feature.type!r}")
    collection = feature.collection_type
    if collection is not None and not isinstance(collection, CollectionType):
        allowed = ", ".join(f"CollectionType.{t.name}" for t in CollectionType)
        errors.add(f"{prop}.collection_type must be one of {allowed} or None, got {collection!r}")
        return
    dimension = feature.vector_dimension
    if collection is CollectionType.VECTOR:
        low, high = _vector_dimension_range()
        if isinstance(dimension, bool) or not isinstance(dimension, int):
            errors.add(
                f"{prop}.vector_dimension must be an integer from {low} to {high} for a VECTOR, "
                f"got {dimension!r}"
            )
        elif not low <= dimension <= high:
            errors.add(f"{prop}.vector_dimension must be from {low} to {high}, got {dimension}")
        if feature.type is not FeatureType.FRACTIONAL:
            errors.add(
                f"{prop}.type must be FeatureType.FRACTIONAL for a VECTOR collection, "
                f"got {getattr(feature.type, 'name', feature.type)!r}"
            )
    elif dimension is not None:
        errors.add(
            f"{prop}.vector_dimension is only allowed with CollectionType.VECTOR, "
            f"got {dimension!r} with collection_type {collection!r}"
        )


def _check_special(
    errors: ValidationErrors, prop: str, name: str, by_name: dict[str, Feature]
) -> Feature | None:
    if not isinstance(name, str) or name not in by_name:
        known = ", ".join(repr(n) for n in list(by_name)[:10])
        errors.add(f"{prop} {name!r} must be the name of one of the features ({known})")
        return None
    feature = by_name[name]
    if feature.collection_type is not None:
        errors.add(f"{prop} feature {name!r} must hold a single value, not a collection")
    return feature

"""An endpoint's production variant: instances, traffic weight and scaling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from aws_cdk import Duration
from botocore.model import StructureShape

from sagemaker_lifecycle._internal.sagemaker_api import check_enum, check_name, shape
from sagemaker_lifecycle._internal.validation import ValidationErrors, int_in_range
from sagemaker_lifecycle.serving._checks import number_in_range, seconds_in_range
from sagemaker_lifecycle.serving.autoscaling import AutoScaling, validate_autoscaling

_MAX_INSTANCES = 10_000


def _limits(member: str) -> tuple[int, int]:
    metadata = cast(StructureShape, shape("ProductionVariant")).members[member].metadata
    return int(metadata["min"]), int(metadata["max"])


@dataclass(frozen=True)
class ProductionVariant:
    """One fleet behind an endpoint. Several variants split traffic by weight; all serve the
    endpoint's model (the approval flow replaces it in every variant at once)."""

    variant_name: str = "AllTraffic"
    """The variant's name, kept across deployments (blue/green needs the same names).
    Default: AllTraffic."""
    instance_type: str = "ml.m5.large"
    """An instance type the SageMaker API allows for endpoints. Default: ml.m5.large."""
    initial_instance_count: int = 1
    """Instances at creation (use 2 or more for availability-zone redundancy). Default: 1."""
    initial_weight: float = 1.0
    """Relative share of traffic. Default: 1."""
    volume_size_gb: int | None = None
    """Size of the ML storage volume (EBS instance types only). Default: the instance
    type's default size."""
    model_data_download_timeout: Duration | None = None
    """Time allowed to download the model data, 60 to 3600 seconds. Default: the API's."""
    container_startup_health_check_timeout: Duration | None = None
    """Time allowed for the container to pass its first health check, 60 to 3600 seconds.
    Default: the API's."""
    autoscaling: AutoScaling | None = None
    """Instance-count scaling. Default: none (a fixed instance count)."""


def validate_variants(
    errors: ValidationErrors, variants: tuple[ProductionVariant, ...], *, max_variants: int = 10
) -> None:
    """Report every invalid variant under ``variants[<name>].<member>``."""
    if not 1 <= len(variants) <= max_variants:
        errors.add(f"variants must hold 1 to {max_variants} variants, got {len(variants)}")
    names = [variant.variant_name for variant in variants]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.add(f"variants names must be unique, got {name!r} more than once")
    weights = [variant.initial_weight for variant in variants]
    for variant in variants:
        _validate_variant(errors, f"variants[{variant.variant_name}]", variant)
    if all(isinstance(w, int | float) and not isinstance(w, bool) for w in weights):
        errors.check(
            sum(weights) > 0,
            f"variants initial_weight values must sum to more than 0, got {weights}",
        )


def _validate_variant(errors: ValidationErrors, prop: str, variant: ProductionVariant) -> None:
    check_name(errors, f"{prop}.variant_name", variant.variant_name, "VariantName")
    check_enum(
        errors, f"{prop}.instance_type", variant.instance_type, "ProductionVariantInstanceType"
    )
    int_in_range(
        errors,
        f"{prop}.initial_instance_count",
        variant.initial_instance_count,
        minimum=1,
        maximum=_MAX_INSTANCES,
    )
    number_in_range(
        errors, f"{prop}.initial_weight", variant.initial_weight, minimum=0, maximum=1e9
    )
    if variant.volume_size_gb is not None:
        low, high = _limits("VolumeSizeInGB")
        int_in_range(
            errors, f"{prop}.volume_size_gb", variant.volume_size_gb, minimum=low, maximum=high
        )
    for member, api_member in (
        ("model_data_download_timeout", "ModelDataDownloadTimeoutInSeconds"),
        ("container_startup_health_check_timeout", "ContainerStartupHealthCheckTimeoutInSeconds"),
    ):
        value = getattr(variant, member)
        if value is not None:
            low, high = _limits(api_member)
            seconds_in_range(errors, f"{prop}.{member}", value, minimum=low, maximum=high)
    if variant.autoscaling is not None and isinstance(variant.initial_instance_count, int):
        validate_autoscaling(
            errors,
            f"{prop}.autoscaling",
            variant.autoscaling,
            initial_instance_count=variant.initial_instance_count,
        )


def production_variant_spec(variant: ProductionVariant) -> dict[str, Any]:
    """The variant's ``ProductionVariant`` members (CreateEndpointConfig), without ModelName."""
    spec: dict[str, Any] = {
        "VariantName": variant.variant_name,
        "InstanceType": variant.instance_type,
        "InitialInstanceCount": variant.initial_instance_count,
        "InitialVariantWeight": float(variant.initial_weight),
    }
    if variant.volume_size_gb is not None:
        spec["VolumeSizeInGB"] = variant.volume_size_gb
    if variant.model_data_download_timeout is not None:
        spec["ModelDataDownloadTimeoutInSeconds"] = int(
            variant.model_data_download_timeout.to_seconds()
        )
    if variant.container_startup_health_check_timeout is not None:
        spec["ContainerStartupHealthCheckTimeoutInSeconds"] = int(
            variant.container_startup_health_check_timeout.to_seconds()
        )
    return spec

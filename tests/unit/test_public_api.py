"""The package's public names: everything in __all__ exists and is documented."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "sagemaker_lifecycle",
    "sagemaker_lifecycle.feature_store",
    "sagemaker_lifecycle.pipelines",
    "sagemaker_lifecycle.serving",
    "sagemaker_lifecycle.monitoring",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_exists_and_classes_have_docstrings(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__all__
    assert len(exported) == len(set(exported))
    for name in exported:
        value = getattr(module, name)
        if isinstance(value, type):
            assert (value.__doc__ or "").strip(), f"{package}.{name} has no docstring"


def test_the_package_is_typed() -> None:
    module = importlib.import_module("sagemaker_lifecycle")
    assert module.__file__ is not None
    from pathlib import Path

    assert (Path(module.__file__).parent / "py.typed").is_file()

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


def test_all_lists_exactly_the_lazy_exports() -> None:
    module = importlib.import_module("sagemaker_lifecycle")
    assert sorted(module.__all__) == sorted(module._EXPORTS)
    with pytest.raises(AttributeError, match="NoSuchConstruct"):
        module.NoSuchConstruct  # noqa: B018


def test_the_approve_cli_starts_without_aws_cdk() -> None:
    # The CLI only needs boto3; loading aws-cdk-lib would start Node.js for nothing.
    import subprocess
    import sys

    code = (
        "import sys, sagemaker_lifecycle.approve as a;"
        "print('aws_cdk' in sys.modules, 'jsii' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["False", "False"]

"""Lambda sources are found from a checkout, and never carry byte-code caches."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemaker_lifecycle._internal import assets


def test_missing_function_names_the_folders_searched() -> None:
    with pytest.raises(FileNotFoundError, match="no Lambda source for 'no_such_function'"):
        assets.lambda_source_dir("no_such_function")


def test_function_folder_is_found_in_a_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "lambda" / "example"
    folder.mkdir(parents=True)
    (folder / "index.py").write_text("def handler(event, context): return None\n")
    monkeypatch.setattr(assets, "_CANDIDATES", (tmp_path / "missing", tmp_path / "lambda"))
    assert assets.lambda_source_dir("example") == folder


def test_byte_code_and_tool_caches_are_excluded_from_assets() -> None:
    assert "__pycache__" in assets.ASSET_EXCLUDES
    assert "*.pyc" in assets.ASSET_EXCLUDES
    assert ".*" in assets.ASSET_EXCLUDES  # .ruff_cache, .mypy_cache, .pytest_cache


def test_an_asset_hash_ignores_caches(tmp_path: Path) -> None:
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3_assets as s3_assets

    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "index.py").write_text("def handler(event, context): return None\n")

    def asset_hash() -> str:
        stack = Stack(App(), "S")
        asset = s3_assets.Asset(stack, "A", path=str(folder), exclude=assets.ASSET_EXCLUDES)
        return asset.asset_hash

    clean = asset_hash()
    for cache in ("__pycache__", ".ruff_cache", ".mypy_cache"):
        (folder / cache).mkdir()
        (folder / cache / "x").write_text("changes every run")
    assert asset_hash() == clean
    (folder / "index.py").write_text("def handler(event, context): return 1\n")
    assert asset_hash() != clean

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


def test_byte_code_caches_are_excluded_from_assets() -> None:
    assert "__pycache__" in assets.ASSET_EXCLUDES
    assert "*.pyc" in assets.ASSET_EXCLUDES

"""Where Lambda handler sources live, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
# The wheel maps the repository's lambda/ folder into the package; a checkout keeps it
# at the repository root, two levels above the package (constructs/sagemaker_lifecycle).
_CANDIDATES = (_PACKAGE_DIR / "lambda", _PACKAGE_DIR.parent.parent / "lambda")

#: Never part of an asset: byte-code and tool caches (``.ruff_cache``, ``.mypy_cache``...)
#: differ between machines and runs, and would change the asset hash with them.
ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".*"]


def lambda_source_dir(function_name: str) -> Path:
    """The folder holding ``index.py`` for ``function_name``, from a wheel or a checkout."""
    for root in _CANDIDATES:
        folder = root / function_name
        if (folder / "index.py").is_file():
            return folder
    searched = ", ".join(str(c) for c in _CANDIDATES)
    raise FileNotFoundError(f"no Lambda source for {function_name!r} under {searched}")


def lambda_code(function_name: str) -> lambda_.Code:
    """A Lambda asset for ``function_name`` whose hash does not depend on caches."""
    return lambda_.Code.from_asset(str(lambda_source_dir(function_name)), exclude=ASSET_EXCLUDES)

"""Load a Lambda handler module from its file: ``lambda`` is a Python keyword, so tests
cannot ``import lambda.<function>.index``.

A handler folder is a Lambda deployment package: its modules import their siblings as
top-level modules (``from deployer import ...``). The folder is put on ``sys.path`` while the
module loads, and any sibling already imported from it is dropped first, so each load starts
from the files on disk and two folders' modules of the same name never mix.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

from sagemaker_lifecycle._internal.assets import lambda_source_dir

_counter = itertools.count()


def load_handler_module(function_name: str, module: str = "index") -> ModuleType:
    """``lambda/<function_name>/<module>.py`` as a fresh module with a unique name."""
    folder = lambda_source_dir(function_name).resolve()
    for name, loaded in list(sys.modules.items()):
        origin = getattr(loaded, "__file__", None)
        if origin and Path(origin).resolve().parent == folder:
            del sys.modules[name]
    unique = f"_lambda_{function_name}_{module}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(unique, folder / f"{module}.py")
    assert spec is not None
    assert spec.loader is not None
    loaded_module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(folder))
    try:
        spec.loader.exec_module(loaded_module)
    finally:
        sys.path.remove(str(folder))
    return loaded_module

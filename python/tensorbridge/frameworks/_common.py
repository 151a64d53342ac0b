"""Helpers shared by the framework adapters."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ["require"]

_INSTALL = {
    "torch": "pip install torch",
    "tensorflow": "pip install tensorflow-cpu",
    "jax": "pip install jax",
    "pandas": "pip install pandas",
    "ml_dtypes": "pip install ml_dtypes",
}


def require(module: str) -> ModuleType:
    """Imports ``module`` or raises ImportError saying how to install it."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        return loaded
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"this conversion needs {module}, which is not installed: {_INSTALL.get(module, 'pip install ' + module)}"
        ) from e

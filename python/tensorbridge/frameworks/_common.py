"""Helpers shared by the framework adapters."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

__all__ = ["DLPackOffer", "require"]

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


class DLPackOffer:
    """Offers a planned tensor to a framework's ``from_dlpack``, which wants an object rather than
    a capsule. Only for consumers that never write memory given to them read-only (NumPy honours
    DLPack's READ_ONLY flag; JAX arrays are immutable), so read-only memory is shared as it is,
    even through the legacy protocol, which cannot flag it."""

    __slots__ = ("t",)

    def __init__(self, t: Any) -> None:
        self.t = t

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):  # noqa: ANN001
        from .. import _ext

        versioned = max_version is not None and max_version[0] >= 1
        return _ext.to_capsule(self.t, versioned, consumer_respects_read_only=True)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.t.device

"""Helpers shared by the framework adapters."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from .. import _ext

__all__ = [
    "INSTALL",
    "DLPackOffer",
    "flat_values",
    "frameworks_required",
    "python_int_overflow",
    "python_values_refused",
    "require",
]

#: What to ``pip install`` for each optional module (the CPU builds).
INSTALL = {
    "numpy": "numpy",
    "torch": "torch",
    "tensorflow": "tensorflow-cpu",
    "jax": "jax",
    "pandas": "pandas",
    "ml_dtypes": "ml_dtypes",
}


def frameworks_required() -> bool:
    """True when ``TB_REQUIRE_FRAMEWORKS=1`` (as CI sets it): a missing framework is an error,
    not a reason to skip."""
    return os.environ.get("TB_REQUIRE_FRAMEWORKS", "") not in ("", "0")


def require(module: str) -> ModuleType:
    """Imports ``module`` or raises ImportError saying how to install it."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        return loaded
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"this conversion needs {module}, which is not installed: pip install {INSTALL.get(module, module)}"
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
        versioned = max_version is not None and max_version[0] >= 1
        return _ext.to_capsule(self.t, versioned, consumer_respects_read_only=True)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.t.device


def flat_values(obj: Any):
    """The leaves of nested lists and tuples."""
    if isinstance(obj, (list, tuple)):
        for v in obj:
            yield from flat_values(v)
    else:
        yield obj


_INT_RANGES = {"int32": (-(2**31), 2**31), "int64": (-(2**63), 2**63), "int64 or uint64": (-(2**63), 2**64)}


def _out_of_range(values: Any, holds: str) -> int | None:
    lo, hi = _INT_RANGES[holds]
    return next((v for v in flat_values(values) if type(v) is int and not lo <= v < hi), None)


def python_int_overflow(who: str, values: Any, holds: str) -> Exception:
    """The error for Python ints that ``who`` cannot hold in ``holds`` ("int64", "int32", "int64
    or uint64")."""
    from ..errors import CastOverflowError

    big = _out_of_range(values, holds)
    return CastOverflowError(
        f"the Python int {big} does not fit in {holds}, which {who} gives Python ints; pass dtype='float64' "
        "(or dtype='uint64' for integers in [0, 2**64))"
    )


def python_values_refused(who: str, values: Any, holds: str, error: Exception) -> Exception:
    """The error for Python values that ``who``'s own constructor refused with ``error``: an
    overflow when a Python int is out of ``holds``' range, else a DTypeError quoting it."""
    from ..errors import DTypeError

    if _out_of_range(values, holds) is not None:
        return python_int_overflow(who, values, holds)
    return DTypeError(f"{who} cannot make a tensor of these Python values: {error}")


class EachBatch(Sequence[tuple[Any, ...]]):
    """The batches of a pipeline block (``_ext.BatchBlock``), each exported when it is first
    asked for: how adapters without cheap views of a whole field hand a block out."""

    __slots__ = ("_block", "_export")

    def __init__(self, block: Any, export: Callable[[Any], Any]) -> None:
        self._block, self._export = block, export

    def __len__(self) -> int:
        return self._block.count()

    def __getitem__(self, i: Any) -> Any:
        return tuple(map(self._export, self._block.batch(i)))

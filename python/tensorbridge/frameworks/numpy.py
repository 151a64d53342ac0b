"""NumPy adapter: import through the buffer protocol, export through DLPack."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

from .. import _ext
from ..errors import DTypeError
from ._common import DLPackOffer, python_int_overflow

NAME = "numpy"

_REFUSED_KINDS = {
    "O": "it holds Python objects (ragged nested lists make such arrays); make it numeric first, "
    "e.g. np.stack of equal-length rows, or pad the rows",
    "U": "it holds strings; encode them as numbers first (e.g. categorical codes)",
    "T": "it holds strings; encode them as numbers first (e.g. categorical codes)",
    "S": "it holds bytes strings; encode them as numbers first",
    "M": "it holds datetimes; convert with arr.astype('int64') ({unit} since the epoch) first",
    "m": "it holds timedeltas; convert with arr.astype('int64') (a count of {unit}) first",
}
_UNITS = {
    "Y": "years", "M": "months", "W": "weeks", "D": "days", "h": "hours", "m": "minutes", "s": "seconds",
    "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds", "ps": "picoseconds",
    "fs": "femtoseconds", "as": "attoseconds", "generic": "units of no fixed length",
}


def _time_unit(dt: np.dtype) -> str:
    """The unit of a datetime64/timedelta64 dtype in words: "days", "10-minute units"."""
    unit, count = np.datetime_data(dt)
    words = _UNITS.get(unit, unit)
    return words if count == 1 else f"{count}-{words.removesuffix('s')} units"


def is_native(obj: Any) -> bool:
    return isinstance(obj, (np.ndarray, np.generic))


@cache
def _bfloat16() -> Any:
    import ml_dtypes

    return np.dtype(ml_dtypes.bfloat16)


def import_tensor(obj: Any, allow_copy: bool) -> tuple[Any, str]:
    arr = obj if isinstance(obj, np.ndarray) else np.asarray(obj)
    dt = arr.dtype
    if dt.fields is not None:
        raise DTypeError(
            f"cannot convert a structured array (dtype {dt}) to one tensor: its elements are records; "
            "use tb.from_structured(arr) for a dict of column tensors"
        )
    if dt.kind in _REFUSED_KINDS:
        why = _REFUSED_KINDS[dt.kind].format(unit=_time_unit(dt) if dt.kind in "Mm" else "")
        raise DTypeError(f"cannot convert a NumPy array of dtype {dt}: {why}")
    if dt.kind == "f" and dt.itemsize > 8:
        raise DTypeError(
            f"cannot convert a NumPy array of dtype {dt} (long double): no framework has it; "
            "cast with arr.astype(np.float64) first"
        )
    if dt.kind == "V" and dt.name == "bfloat16":
        t, reason = _ext.from_buffer(arr.view(np.uint16), allow_copy)
        return t.view("bfloat16"), reason
    if dt.kind == "V":  # ml_dtypes' float8/int4 and raw bytes: nothing tensorbridge or a framework shares
        raise DTypeError(
            f"cannot convert a NumPy array of dtype {dt.name}: tensorbridge has no such type (it has bool, "
            "int8-64, uint8-64, float16, bfloat16, float32, float64, complex64/128); convert it with "
            "arr.astype(np.float32) first"
        )
    return _ext.from_buffer(arr, allow_copy)


def from_python(values: Any, exact: np.ndarray) -> tuple[Any, np.ndarray]:
    if exact.dtype.kind == "O":  # NumPy makes an object array of ints beyond uint64
        raise python_int_overflow("NumPy", values, "int64 or uint64")
    return _ext.from_buffer(exact, True)[0], exact


@cache
def limits() -> Any:
    c = _ext.ConsumerLimits()
    c.name = NAME
    c.max_ndim = 64  # NumPy's NPY_MAXDIMS
    return c


def default_dtype(dtype: str) -> tuple[str, bool]:
    return dtype, False


def shortcut(kind: type) -> Callable[[Any], Any] | None:
    if kind is np.ndarray:  # the array itself, if its dtype is one tensorbridge has, in native order
        return _ext.ndarray_shortcut(np.ndarray, limits(), None)
    torch = sys.modules.get("torch")  # a torch tensor exists only once torch is imported
    if torch is not None and kind is torch.Tensor:
        # Tensor.numpy() shares any strided CPU tensor that does not require grad and raises for
        # everything else (another device, sparse, bfloat16, lazy conjugate or negative views,
        # autograd): those take the general path, which detaches, shares or copies, and says why.
        return torch.Tensor.numpy
    return None


def export(t: Any, plan: Any) -> np.ndarray:
    if t.dtype == "bfloat16":
        return np.from_dlpack(DLPackOffer(t.view("uint16"))).view(_bfloat16())
    return np.from_dlpack(DLPackOffer(t))


def block_batches(block: Any, export: Callable[[Any], Any]) -> Sequence[tuple[Any, ...]]:
    """The batches of a pipeline block (``_ext.BatchBlock``) as tuples of arrays: each field
    exported once, every batch a view of it (cheaper than one export per batch)."""
    fields = [export(t) for t in block.fields]
    if block.batched:
        bounds = list(itertools.accumulate(block.sizes, initial=0))
        spans = list(itertools.pairwise(bounds))
        return list(zip(*[[f[a:b] for a, b in spans] for f in fields]))
    return list(zip(*[[f[i, ...] for i in range(len(f))] for f in fields]))

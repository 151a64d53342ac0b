"""NumPy adapter: import through the buffer protocol, export through DLPack."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from .. import _ext
from ..errors import DTypeError
from ._common import DLPackOffer

NAME = "numpy"

_REFUSED_KINDS = {
    "O": "it holds Python objects (ragged nested lists make such arrays); make it numeric first, "
    "e.g. np.stack of equal-length rows, or pad the rows",
    "U": "it holds strings; encode them as numbers first (e.g. categorical codes)",
    "S": "it holds bytes strings; encode them as numbers first",
    "M": "it holds datetimes; convert with arr.astype('int64') (nanoseconds since the epoch) first",
    "m": "it holds timedeltas; convert with arr.astype('int64') first",
}


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
        raise DTypeError(f"cannot convert a NumPy array of dtype {dt}: {_REFUSED_KINDS[dt.kind]}")
    if dt.kind == "f" and dt.itemsize > 8:
        raise DTypeError(
            f"cannot convert a NumPy array of dtype {dt} (long double): no framework has it; "
            "cast with arr.astype(np.float64) first"
        )
    if dt.kind == "V" and dt.name == "bfloat16":
        t, reason = _ext.from_buffer(arr.view(np.uint16), allow_copy)
        return t.view("bfloat16"), reason
    return _ext.from_buffer(arr, allow_copy)


@cache
def limits() -> Any:
    c = _ext.ConsumerLimits()
    c.name = NAME
    return c


def default_dtype(dtype: str) -> tuple[str, bool]:
    return dtype, False


def share_native(obj: Any) -> Any:
    if type(obj) is np.ndarray:
        return obj if _ext.can_share_buffer(obj, limits()) else None
    if type(obj).__module__.startswith("torch"):
        import torch

        if isinstance(obj, torch.Tensor) and obj.device.type == "cpu" and obj.layout == torch.strided:
            if obj.dtype is not torch.bfloat16 and not obj.is_conj() and not obj.is_neg():
                return obj.detach().numpy()
    return None


def export(t: Any, plan: Any) -> np.ndarray:
    if t.dtype == "bfloat16":
        return np.from_dlpack(DLPackOffer(t.view("uint16"))).view(_bfloat16())
    return np.from_dlpack(DLPackOffer(t))

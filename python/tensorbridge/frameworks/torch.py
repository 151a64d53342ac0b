"""PyTorch adapter: DLPack both ways; tensors that require grad are detached without a copy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

from .. import _ext
from .._dtypes import DTYPES
from ..errors import DTypeError
from ._common import python_values_refused, require

NAME = "torch"


def is_native(obj: Any) -> bool:
    import torch

    return isinstance(obj, torch.Tensor)


def import_tensor(obj: Any, allow_copy: bool) -> tuple[Any, str]:
    if obj.is_nested:
        raise DTypeError(
            "cannot convert a nested (ragged) torch tensor: its rows differ in length; pad it with "
            "torch.nested.to_padded_tensor(t, 0.0), or convert each row of t.unbind() on its own"
        )
    if obj.layout != require("torch").strided:
        raise DTypeError(f"cannot convert a {obj.layout} torch tensor; call .to_dense() first")
    if obj.is_quantized:
        raise DTypeError(f"cannot convert a quantized torch tensor ({obj.dtype}); call .dequantize() first")
    if str(obj.dtype).removeprefix("torch.") not in DTYPES:
        raise DTypeError(
            f"cannot convert a torch tensor of dtype {obj.dtype}: tensorbridge has no such type (it has bool, "
            "int8-64, uint8-64, float16, bfloat16, float32, float64, complex64/128); convert it with .float() "
            "(or .to(torch.complex64) for complex32) first"
        )
    if obj.device.type == "meta":
        from ..errors import InvalidValueError

        raise InvalidValueError(
            "cannot convert a torch tensor on the meta device: it has a shape and a dtype but no data; "
            "make it on a real device (e.g. torch.empty(..., device='cpu')) first"
        )
    x = obj.detach()
    reason = ""
    if x.is_conj() or x.is_neg():
        if not allow_copy:
            raise _ext_sharing("the torch tensor is a lazy conjugate/negative view")
        x, reason = x.resolve_conj().resolve_neg(), "the torch tensor was a lazy conjugate/negative view"
    return _ext.from_capsule(x.__dlpack__(max_version=(1, 0))), reason


def from_python(values: Any, exact: Any) -> tuple[Any, Any]:
    torch = require("torch")
    try:
        t = torch.tensor(values)
    except (ValueError, TypeError, OverflowError, RuntimeError) as e:
        raise python_values_refused(NAME, values, "int64", e) from None
    return import_tensor(t, True)[0], (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def _ext_sharing(why: str) -> Exception:
    from ..errors import SharingError

    return SharingError(f"cannot share this tensor without a copy: {why}; pass copy=None to allow one")


@cache
def limits() -> Any:
    c = _ext.ConsumerLimits()
    c.name = NAME
    c.negative_strides = False  # torch refuses negative strides
    c.read_only = False  # torch has no read-only tensors
    return c


def default_dtype(dtype: str) -> tuple[str, bool]:
    return dtype, False


def shortcut(kind: type) -> Callable[[Any], Any] | None:
    if kind is not np.ndarray:
        return None
    # torch.from_numpy of every array the planner lets torch alias as it is (described from the
    # array's own strides, as from_numpy reads them); None for the others.
    return _ext.ndarray_shortcut(np.ndarray, limits(), require("torch").from_numpy)


def write_into(out: Any, write: Callable[[Any], None]) -> None:
    """Lets ``write`` fill the torch tensor ``out`` (given as an extension tensor) with the autograd
    bookkeeping of torch's own ``out.copy_()``: a tensor that requires grad (with grad mode on)
    is written through ``copy_`` itself from a staging buffer, so a leaf raises torch's error and
    a non-leaf's history is replaced; any other tensor is written in place and its version counter
    bumped, so a backward() that saved it raises instead of using the new values."""
    torch = require("torch")
    if out.requires_grad and torch.is_grad_enabled():
        staging = torch.empty(out.shape, dtype=out.dtype)
        write(import_tensor(staging, allow_copy=False)[0])
        out.copy_(staging)
        return
    write(import_tensor(out, allow_copy=False)[0])
    # An in-place op on an empty view shares the version counter: O(1), no element touched.
    out.detach().as_strided((0,), (1,)).zero_()


def export(t: Any, plan: Any) -> Any:
    # The plan never hands torch read-only memory (a read-only file map comes as a private map).
    return require("torch").from_dlpack(_ext.to_capsule(t, True, is_copied=not plan.zero_copy))


def block_batches(block: Any, export: Callable[[Any], Any]) -> Sequence[tuple[Any, ...]]:
    """The batches of a pipeline block (``_ext.BatchBlock``) as tuples of tensors: each field
    exported once and split (cheaper than one export per batch)."""
    fields = [export(t) for t in block.fields]
    if block.batched:
        sizes = block.sizes
        return list(zip(*[f.split(sizes) for f in fields]))
    return list(zip(*[f.unbind(0) for f in fields]))

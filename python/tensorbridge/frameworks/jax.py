"""JAX adapter: DLPack both ways. JAX arrays are immutable (imported read-only); without 64-bit
mode JAX holds 32-bit types only, so 64-bit data narrows as ``jnp.asarray`` would, with integer
narrowing checked for overflow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

from .. import _ext
from .._dtypes import DTYPES
from ..errors import DTypeError
from ._common import DLPackOffer, EachBatch, python_values_refused, require

NAME = "jax"

_NARROW = {"float64": "float32", "int64": "int32", "uint64": "uint32", "complex128": "complex64"}


def is_native(obj: Any) -> bool:
    import jax

    return isinstance(obj, jax.Array)


def import_tensor(obj: Any, allow_copy: bool) -> tuple[Any, str]:
    import jax

    if jax.dtypes.issubdtype(obj.dtype, jax.dtypes.prng_key):
        raise DTypeError(
            f"cannot convert a JAX PRNG key array (dtype {obj.dtype}): it holds random-number-generator "
            "state, not numbers; use jax.random.key_data(key) for its raw uint32 words"
        )
    if str(obj.dtype) not in DTYPES:
        name = str(obj.dtype)  # int4, uint2, float8_e4m3fn...: ml_dtypes types, kind "V" to NumPy
        to = "jnp.uint8" if name.startswith("uint") else "jnp.int8" if name.startswith("int") else "jnp.float32"
        raise DTypeError(
            f"cannot convert a JAX array of dtype {obj.dtype}: tensorbridge has no such type (it has bool, "
            f"int8-64, uint8-64, float16, bfloat16, float32, float64, complex64/128); convert it with "
            f"x.astype({to}) first"
        )
    return _ext.from_capsule(obj.__dlpack__(max_version=(1, 0))).as_read_only(), ""


def from_python(values: Any, exact: Any) -> tuple[Any, Any]:
    import numpy as np

    jnp = require("jax").numpy
    x64 = _x64()
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, not warned
            a = jnp.asarray(values)
    except (ValueError, TypeError, OverflowError) as e:
        error = python_values_refused(NAME, values, "int64" if x64 else "int32", e)
        if not x64 and isinstance(error, OverflowError):
            error = type(error)(f"{error}; JAX runs with 64-bit types disabled: {_ENABLE_X64} enables int64")
        raise error from None
    return import_tensor(a, True)[0], np.asarray(a)


@cache
def limits() -> Any:
    c = _ext.ConsumerLimits()
    c.name = NAME
    c.strided = False  # jax arrays are dense row-major; it would copy anything else itself
    c.alignment = 64  # and it silently copies buffers that are not 64-byte aligned
    c.immutable = True  # jax arrays never change, and jit caches results computed from them
    return c


def _x64() -> bool:
    return bool(require("jax").config.read("jax_enable_x64"))


def default_dtype(dtype: str) -> tuple[str, bool]:
    if dtype in _NARROW and not _x64():
        return _NARROW[dtype], dtype in ("int64", "uint64")
    return dtype, False


def shortcut(kind: type) -> Callable[[Any], Any] | None:
    return _share_ndarray if kind is np.ndarray else None


def _share_ndarray(obj: Any) -> Any:
    if (obj.dtype.char not in _WIDE or _x64()) and _as_it_is(obj) is not None:
        return _from_dlpack(obj)
    return None


_WIDE = frozenset("dlqLQD")  # NumPy's 64-bit integer and float and 128-bit complex codes: _NARROW's keys
_as_it_is = _ext.ndarray_shortcut(np.ndarray, limits(), None)  # the array if JAX may alias it, else None


def _from_dlpack(offer: Any) -> Any:
    """jax.dlpack.from_dlpack, looked up once (this is the hot path of to_jax)."""
    global _from_dlpack
    _from_dlpack = require("jax").dlpack.from_dlpack
    return _from_dlpack(offer)


_ENABLE_X64 = 'jax.config.update("jax_enable_x64", True)'


def narrowing_error(from_dtype: str, to_dtype: str, error: Exception) -> Exception:
    """The error for data that does not survive the narrowing ``default_dtype`` chose: the cast's
    own ``error`` (which names the element), with the two ways out."""
    detail = str(error).split("; ")[0]
    return type(error)(
        f"JAX runs with 64-bit types disabled, so {from_dtype} data narrows to {to_dtype}, and it does not "
        f"fit ({detail}); enable 64-bit types with {_ENABLE_X64} before converting, or choose the result "
        f'with dtype= (dtype="float32" keeps the magnitude, rounded; dtype="{to_dtype}", casting="unsafe" '
        "wraps the values around)"
    )


def export(t: Any, plan: Any) -> Any:
    if t.dtype in _NARROW and not _x64():
        raise DTypeError(
            f"JAX runs with 64-bit types disabled, so it cannot hold {t.dtype}; pass "
            f"dtype={_NARROW[t.dtype]!r}, or enable them with {_ENABLE_X64}"
        )
    return _from_dlpack(DLPackOffer(t))


def block_batches(block: Any, export: Callable[[Any], Any]) -> Sequence[tuple[Any, ...]]:
    """The batches of a pipeline block (``_ext.BatchBlock``), each exported when asked for."""
    return EachBatch(block, export)

"""Dtype names: whatever a user passes as ``dtype=`` becomes one canonical name."""

from __future__ import annotations

from typing import Any

from . import _ext
from .errors import DTypeError

__all__ = ["dtype_name", "DTYPES"]

#: Every dtype tensorbridge supports, by canonical name.
DTYPES: tuple[str, ...] = tuple(_ext.dtype_names())


def dtype_name(dtype: Any) -> str:
    """The canonical name of ``dtype``.

    Accepts names (``"float32"``, aliases ``"float"``, ``"half"``, ``"bf16"``...), NumPy dtypes and
    scalar types (``np.float32``, ``float`` -> float64 as in NumPy), ``torch.float16``,
    ``tf.bfloat16``, ``jnp.int8`` and ml_dtypes' ``bfloat16``.

    Example:
        >>> import numpy as np, tensorbridge as tb
        >>> tb.dtype_name(np.float16), tb.dtype_name("half"), tb.dtype_name("bf16")
        ('float16', 'float16', 'bfloat16')
    """
    if isinstance(dtype, str):
        return _ext.canonical_dtype(dtype)
    module = type(dtype).__module__
    if module.startswith("torch"):
        return _ext.canonical_dtype(str(dtype).removeprefix("torch."))
    if module.startswith("tensorflow"):
        return _ext.canonical_dtype(dtype.name)
    import numpy as np

    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise DTypeError(
            f"dtype={dtype!r} is not a dtype; pass a name such as 'float32' or a NumPy, torch, "
            "TensorFlow or JAX dtype"
        ) from None
    return _ext.canonical_dtype(name)

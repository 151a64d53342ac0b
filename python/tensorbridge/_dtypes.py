"""Dtype and device names: whatever a user passes as ``dtype=`` or ``device=`` becomes one
canonical name."""

from __future__ import annotations

import re
from typing import Any

from . import _ext
from .errors import DTypeError

__all__ = ["DTYPES", "device_name", "dtype_name", "dtype_of"]

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
    return dtype_of(dtype).name


def dtype_of(dtype: Any) -> _ext.DType:
    """``dtype`` (any spelling :func:`dtype_name` accepts) as the C++ dtype, parsed once."""
    if isinstance(dtype, _ext.DType):
        return dtype
    if isinstance(dtype, str):
        return _ext.parse_dtype(dtype)
    module = type(dtype).__module__
    if module.startswith("torch"):
        return _ext.parse_dtype(str(dtype).removeprefix("torch."))
    if module.startswith("tensorflow"):
        return _ext.parse_dtype(dtype.name)
    import numpy as np

    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise DTypeError(
            f"dtype={dtype!r} is not a dtype; pass a name such as 'float32' or a NumPy, torch, "
            "TensorFlow or JAX dtype"
        ) from None
    return _ext.parse_dtype(name)


# TensorFlow's device strings: "/device:CPU:0", "/job:localhost/replica:0/task:0/device:GPU:1", "/CPU:0".
_TF_DEVICE = re.compile(r"(?:^|/)(?:device:)?([A-Za-z_]+):(\d+)$")
# Platform names of TensorFlow and JAX that tensorbridge spells otherwise.
_PLATFORMS = {"gpu": "cuda"}


def device_name(device: Any) -> str:
    """The canonical name of ``device``: ``"cpu"``, ``"cuda:1"``...

    Accepts names (``"cpu"``, ``"cuda:0"``), TensorFlow's device strings (``"/device:CPU:0"``) and
    logical devices, ``torch.device`` and JAX devices.

    Example:
        >>> import torch, tensorbridge as tb
        >>> tb.device_name(torch.device("cpu")), tb.device_name("/device:CPU:0"), tb.device_name("cuda")
        ('cpu', 'cpu', 'cuda:0')
    """
    if not isinstance(device, str):
        module = type(device).__module__
        if module.startswith("torch"):
            device = str(device)
        elif module.startswith(("jax", "jaxlib")) and hasattr(device, "platform"):
            device = f"{device.platform}:{device.id}"
        elif module.startswith("tensorflow") and hasattr(device, "name"):
            device = device.name
        else:
            raise DTypeError(
                f"device={device!r} is not a device; pass a name such as 'cpu' or 'cuda:0', a torch.device, "
                "a TensorFlow device (or its name, '/device:CPU:0') or a JAX device"
            )
    match = _TF_DEVICE.search(device) if device.startswith("/") else None
    if match:
        device = f"{match[1].lower()}:{match[2]}"
    kind, colon, index = device.partition(":")
    return _ext.canonical_device(_PLATFORMS.get(kind.lower(), kind.lower()) + colon + index)

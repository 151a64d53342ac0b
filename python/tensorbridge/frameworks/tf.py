"""TensorFlow adapter: legacy DLPack both ways. TensorFlow tensors are immutable, so they are
imported read-only and may alias read-only memory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

from .. import _ext
from ._common import EachBatch, python_values_refused, require

NAME = "tensorflow"


def is_native(obj: Any) -> bool:
    import tensorflow as tf

    return isinstance(obj, (tf.Tensor, tf.Variable))


def import_tensor(obj: Any, allow_copy: bool) -> tuple[Any, str]:
    tf = require("tensorflow")
    x = obj.read_value() if isinstance(obj, tf.Variable) else obj
    return _ext.from_capsule(tf.experimental.dlpack.to_dlpack(x)).as_read_only(), ""


def from_python(values: Any, exact: Any) -> tuple[Any, Any]:
    tf = require("tensorflow")
    try:
        t = tf.convert_to_tensor(values)
    except (ValueError, TypeError, OverflowError) as e:
        raise python_values_refused(NAME, values, "int64", e) from None
    return import_tensor(t, True)[0], t.numpy()


@cache
def limits() -> Any:
    c = _ext.ConsumerLimits()
    c.name = NAME
    c.strided = False  # its DLPack import takes compact row-major buffers only
    c.alignment = 64  # Eigen's kernels assume 64-byte aligned buffers
    c.immutable = True  # tf.Tensor values never change
    return c


def default_dtype(dtype: str) -> tuple[str, bool]:
    return dtype, False


def shortcut(kind: type) -> Callable[[Any], Any] | None:
    return _share_ndarray if kind is np.ndarray else None


def _share_ndarray(obj: Any) -> Any:
    if _as_it_is(obj) is None:
        return None
    try:
        return _from_dlpack(obj.__dlpack__())
    except BufferError:  # NumPy exports no read-only array through the legacy protocol TF reads
        return None


def export(t: Any, plan: Any) -> Any:
    return _from_dlpack(_to_capsule(t, False, consumer_respects_read_only=True))


_to_capsule = _ext.to_capsule
_as_it_is = _ext.ndarray_shortcut(np.ndarray, limits(), None)  # the array if TF may alias it, else None


def _from_dlpack(capsule: Any) -> Any:
    """tf.experimental.dlpack.from_dlpack, looked up once (this is the hot path of to_tf)."""
    global _from_dlpack
    _from_dlpack = require("tensorflow").experimental.dlpack.from_dlpack
    return _from_dlpack(capsule)


def block_batches(block: Any, export: Callable[[Any], Any]) -> Sequence[tuple[Any, ...]]:
    """The batches of a pipeline block (``_ext.BatchBlock``), each exported when asked for."""
    return EachBatch(block, export)

"""Dtype casts with NumPy's casting rules, exact float16/bfloat16 rounding and checked mode.

Every ``dtype=`` of the conversion API goes through the same C++ kernels; :func:`cast` is the
direct way in::

    >>> import numpy as np, tensorbridge as tb
    >>> x = np.array([1.5, np.nan, 300.0])
    >>> tb.cast(x, "int8").numpy()                  # truncation, NaN -> 0, saturation
    array([  1,   0, 127], dtype=int8)
    >>> tb.cast(x, "int8", checked=True)            # a ValueError naming the first bad element
    Traceback (most recent call last):
        ...
    tensorbridge.errors.InvalidValueError: checked cast float64 -> int8: element at index (1,) (flat index 1) is nan, ...

The exact semantics (NaN, infinities, out-of-range values, rounding) are in the README's table.
"""

from __future__ import annotations

from typing import Any

from . import _ext, frameworks
from ._convert import asarray
from ._dtypes import dtype_name
from ._tensor import Tensor

__all__ = ["CASTING_RULES", "can_cast", "cast", "cast_into", "num_threads", "set_num_threads"]

#: The casting rules, from the strictest: NumPy's ``casting=`` values.
CASTING_RULES: tuple[str, ...] = tuple(_ext.casting_names())


def cast(x: Any, dtype: Any, casting: str = "unsafe", checked: bool = False) -> Tensor:
    """``x`` converted to ``dtype`` as a new 64-byte aligned C-contiguous :class:`Tensor`.

    One pass over ``x`` (any strides), vectorised and multi-threaded.

    Args:
        x: anything :func:`tensorbridge.asarray` accepts (NumPy, torch, TensorFlow, JAX, lists...).
        dtype: the target dtype, any spelling (``"bfloat16"``, ``np.float16``, ``torch.int8``).
        casting: ``"no"``, ``"equiv"``, ``"safe"``, ``"same_kind"`` or ``"unsafe"`` (default, like
            ``ndarray.astype``), with NumPy's meaning.
        checked: raise instead of losing data: ``ValueError`` for NaN into an integer or a dropped
            nonzero imaginary part, ``OverflowError`` for infinities or out-of-range values into an
            integer, integers that do not fit, and finite values that would become infinite;
            the message names the first bad index and value.

    Returns:
        A new :class:`Tensor` of ``dtype`` with the shape of ``x``.

    Raises:
        DTypeError: (a ``TypeError``) the casting rule refuses the pair; the message names both.
        CastOverflowError, InvalidValueError: a checked cast would lose data.

    Example:
        >>> tb.cast([1.0, 2.5, 70000.0], "float16").numpy()        # too large for float16: inf
        array([1. , 2.5, inf], dtype=float16)
        >>> tb.cast(np.arange(3, dtype=np.int16), "float32", casting="safe").dtype
        'float32'
    """
    src = asarray(x)
    return Tensor._wrap(_ext.cast(src._c, dtype_name(dtype), casting, checked))


def cast_into(x: Any, out: Any, casting: str = "same_kind", checked: bool = False) -> None:
    """Converts ``x`` into the existing array ``out`` (same shape, any strides), like ``np.copyto``.

    ``out`` is a :class:`Tensor` or anything :func:`tensorbridge.asarray` can view without a copy
    and write (a writable NumPy array, a torch CPU tensor). The default rule is ``"same_kind"``,
    as for ``np.copyto``. When a checked cast fails, nothing is written to ``out``.

    A torch ``out`` is written as its own ``out.copy_()`` would be, for autograd: a leaf that
    requires grad raises torch's ``RuntimeError`` (write under ``torch.no_grad()`` to initialise
    it), a non-leaf in the graph has its history replaced, and the version counter is bumped, so
    a ``backward()`` that saved ``out`` raises instead of computing wrong gradients.

    Example:
        >>> out = np.zeros((2, 2), dtype=np.float32)
        >>> tb.cast_into(np.array([[1.0, 2.0], [3.0, 4.0]]), out)
        >>> out
        array([[1., 2.],
               [3., 4.]], dtype=float32)
    """
    src = asarray(x)

    def write(dst: Any) -> None:
        _ext.cast_into(src._c, dst, casting, checked)

    if isinstance(out, Tensor):
        write(out._c)
        return
    writer = getattr(frameworks.adapter_for_object(out), "write_into", None)
    if writer is not None:
        writer(out, write)
        return
    write(asarray(out, copy=False)._c)


def can_cast(from_dtype: Any, to_dtype: Any, casting: str = "safe") -> bool:
    """True if ``casting`` allows ``from_dtype`` -> ``to_dtype`` (``np.can_cast`` for dtypes).

    Example:
        >>> tb.can_cast("int8", "float32"), tb.can_cast(np.float64, "float32")
        (True, False)
        >>> tb.can_cast("float64", "bfloat16", casting="same_kind")
        True
    """
    return _ext.can_cast(dtype_name(from_dtype), dtype_name(to_dtype), casting)


def num_threads() -> int:
    """Threads that parallel kernels use: ``set_num_threads``, else ``TB_NUM_THREADS``, else all cores.

    Example:
        >>> tb.num_threads() >= 1
        True
    """
    return _ext.num_threads()


def set_num_threads(n: int) -> None:
    """Sets the thread count of parallel kernels (casts, readers, pipelines); ``n <= 0`` restores
    the default (see :func:`num_threads`).

    Example:
        >>> tb.set_num_threads(1)
        >>> tb.num_threads()
        1
        >>> tb.set_num_threads(0)      # back to TB_NUM_THREADS or all cores
    """
    _ext.set_num_threads(n)

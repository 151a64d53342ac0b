"""The conversion API: ``asarray``, ``to_numpy``/``to_torch``/``to_tf``/``to_jax``, ``convert``
and ``explain``. Every conversion is planned by the C++ core (``tb::plan_export``) and carried out
exactly as planned, so ``explain`` never disagrees with what a conversion does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import _ext, frameworks
from ._dtypes import dtype_name
from ._tensor import Tensor
from .errors import CastOverflowError, DTypeError, SharingError, _class_for_kind

__all__ = ["Plan", "asarray", "convert", "explain", "to_jax", "to_numpy", "to_tf", "to_torch"]

Casting = Literal["no", "equiv", "safe", "same_kind", "unsafe"]
Target = Literal["numpy", "torch", "tensorflow", "tf", "jax"]


@dataclass(frozen=True)
class Plan:
    """How a conversion will be done, decided without touching the data.

    Attributes:
        target: the framework the data goes to ("numpy", "torch", "tensorflow", "jax", "tensorbridge").
        zero_copy: the result will share the source's memory.
        reasons: why a copy is needed (empty for zero-copy).
        bytes_to_copy: bytes written into new memory (0 for zero-copy).
        lossy: the dtype change can lose information (a cast that is not "safe").
        from_dtype / to_dtype: the source's dtype and the result's.
        read_only: the result aliases memory its owner declared read-only.
        checked: the cast raises on NaN/inf/overflow instead of losing data.
        shape: the source's shape.

    ``str(plan)`` says it in one line.

    Example:
        >>> import numpy as np, tensorbridge as tb
        >>> plan = tb.explain(np.zeros((4, 4))[::-1], to="torch")
        >>> plan.zero_copy, plan.bytes_to_copy, plan.reasons
        (False, 128, ('torch does not accept negative strides',))
        >>> print(plan)
        float64[4, 4] -> torch float64: copy 128 bytes because torch does not accept negative strides
    """

    target: str
    zero_copy: bool
    reasons: tuple[str, ...]
    bytes_to_copy: int
    lossy: bool
    from_dtype: str
    to_dtype: str
    read_only: bool
    checked: bool = False
    shape: tuple[int, ...] = field(default=())

    def __str__(self) -> str:
        head = f"{self.from_dtype}{list(self.shape)} -> {self.target} {self.to_dtype}: "
        if self.zero_copy:
            return head + "zero-copy" + (" (read-only)" if self.read_only else "")
        lossy = ", lossy" if self.lossy else ""
        return head + f"copy {self.bytes_to_copy} bytes{lossy} because " + "; ".join(self.reasons)


def _import(obj: Any, allow_copy: bool, dtype_given: bool = False) -> tuple[Any, str]:
    """``obj`` as an extension tensor, and why it had to be copied ("" if it was not).

    Python values become float32/complex64 by default; when the caller names a dtype
    (``dtype_given``) they are read at full precision and the conversion's cast applies instead."""
    if isinstance(obj, Tensor):
        return obj._c, ""
    adapter = frameworks.adapter_for_object(obj)
    if adapter is not None:
        return adapter.import_tensor(obj, allow_copy)
    if hasattr(obj, "_gather_columns"):  # a tb.Table: its columns in their common type
        t, reason, _ = obj._gather_columns(None, "same_kind", False, allow_copy)
        return t, reason
    if isinstance(obj, (bool, int, float, complex, list, tuple)):
        if not allow_copy:
            raise SharingError("copy=False, but Python scalars and lists must be copied into a tensor")
        return _from_python(obj, narrow=not dtype_given), "built from Python values"
    if hasattr(obj, "__dlpack__"):
        try:
            capsule = obj.__dlpack__(max_version=(1, 0))
        except TypeError:
            capsule = obj.__dlpack__()
        return _ext.from_capsule(capsule), ""
    if hasattr(obj, "__array_interface__") or hasattr(obj, "__array__"):
        import numpy as np

        return frameworks.target("numpy").import_tensor(np.asarray(obj), allow_copy)
    try:
        memoryview(obj)
    except TypeError:
        raise DTypeError(
            f"cannot convert {type(obj).__module__}.{type(obj).__qualname__} to a tensor: it is not an "
            "array (no __dlpack__, __array_interface__ or buffer protocol), a number or a list of numbers"
        ) from None
    return _ext.from_buffer(obj, allow_copy)


def _gather_columns(obj: Any, dtype: str | None, casting: str, checked: bool, allow_copy: bool) -> Any:
    """A ``tb.Table`` or a DataFrame of mixed column types as one tensor: ``(tensor, copy reason,
    the columns' common dtype)``, the cast to ``dtype`` done in the gather; None for other sources."""
    adapter = frameworks.adapter_for_object(obj)
    if adapter is not None:
        gather = getattr(adapter, "gather_columns", None)  # pandas
        return None if gather is None else gather(obj, dtype, casting, checked, allow_copy)
    gather = getattr(obj, "_gather_columns", None)  # tb.Table
    return None if gather is None else gather(dtype, casting, checked, allow_copy)


def _from_python(obj: Any, narrow: bool = True) -> Any:
    """Python numbers and nested lists, with torch/TensorFlow's inference: bool -> bool,
    int -> int64, float -> float32, complex -> complex64 (the widest kind present wins)."""
    import numpy as np

    try:
        arr = np.asarray(obj)
    except ValueError as e:
        raise ValueError(f"cannot make a tensor of a ragged nested list: {e}") from None
    if arr.dtype.kind == "O":
        if any(isinstance(v, int) for v in _flat(obj)):
            raise CastOverflowError("a Python int does not fit in int64; pass floats or smaller integers")
        raise ValueError(
            "cannot make a tensor of a ragged nested list or of non-numbers: every row must have the same "
            "length and every element must be a bool, int, float or complex"
        )
    if arr.dtype.kind not in "biufc":
        raise DTypeError(f"cannot make a tensor of Python values of type {arr.dtype}: expected numbers")
    if narrow and arr.dtype.kind in "fc":
        narrow = np.float32 if arr.dtype.kind == "f" else np.complex64
        parts = (arr,) if arr.dtype.kind == "f" else (arr.real, arr.imag)
        limit = float(np.finfo(np.float32).max)
        for p in parts:
            big = np.isfinite(p) & (np.abs(p) > limit)
            if big.any():
                value = float(p[big].flat[0])
                raise CastOverflowError(
                    f"the Python float {value!r} does not fit in float32, the default float dtype; "
                    "pass dtype='float64' to keep it"
                )
        arr = arr.astype(narrow)
    t, _ = _ext.from_buffer(arr, True)
    return t


def _flat(obj: Any):
    if isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _flat(v)
    else:
        yield obj


_PYTHON_VALUES = (list, tuple, bool, int, float, complex)
# The kinds of dtype a Python bool/int/float/complex may take without an explicit casting rule.
_WEAK_TARGETS = {"b": "biufc", "i": "iufc", "u": "iufc", "f": "fc", "c": "c"}


def _kind(dtype: str) -> str:
    """NumPy's kind letter of a tensorbridge dtype name: b, i, u, f or c."""
    for prefix, kind in (("bool", "b"), ("uint", "u"), ("int", "i"), ("complex", "c")):
        if dtype.startswith(prefix):
            return kind
    return "f"


def _plan(
    obj: Any,
    adapter: Any,
    dtype: Any,
    copy: bool | None,
    casting: str,
    device: str,
    checked: bool,
) -> tuple[Any, Any, str, str | None]:
    gathered = None if dtype is None else _gather_columns(obj, dtype_name(dtype), casting, checked, copy is not False)
    if gathered is not None:  # the columns were cast as they were gathered: the plan only exports
        src, import_reason, _ = gathered
    else:
        src, import_reason = _import(obj, allow_copy=copy is not False, dtype_given=dtype is not None)
    if dtype is None:
        target, narrow_checked = adapter.default_dtype(src.dtype)
        checked = checked or narrow_checked
    else:
        target = dtype_name(dtype)
        if type(obj) in _PYTHON_VALUES and _kind(target) in _WEAK_TARGETS.get(_kind(src.dtype), ""):
            # Python numbers have no dtype of their own (NumPy's NEP 50): [1, 2] becomes uint8 as
            # np.asarray([1, 2], dtype=np.uint8) does, and a value that does not fit raises.
            casting, checked = "unsafe", True
    # A copy made on import is already fresh: copy=True must not copy it twice.
    export_copy = None if (import_reason and copy) else copy
    plan = _ext.plan_export(src, adapter.limits(), target, export_copy, casting, device, checked)
    return src, plan, import_reason, None if gathered is None else gathered[2]


def _raise_for(plan: Any) -> None:
    if plan.error:
        raise _class_for_kind(plan.error_kind)(plan.error)


def _convert(obj: Any, adapter: Any, dtype: Any, copy: bool | None, casting: str, device: str, checked: bool) -> Any:
    if dtype is None and copy is None and not checked and device == "cpu":
        shared = adapter.share_native(obj)
        if shared is not None:
            return shared
    return _convert_planned(obj, adapter, dtype, copy, casting, device, checked)


def _convert_planned(
    obj: Any, adapter: Any, dtype: Any, copy: bool | None, casting: str, device: str, checked: bool
) -> Any:
    """The general path: plan in C++, carry the plan out, hand the result to the framework."""
    src, plan, _, _ = _plan(obj, adapter, dtype, copy, casting, device, checked)
    _raise_for(plan)
    return adapter.export(_ext.execute(src, plan), plan)


class _Anything:
    """The limits of a tb.Tensor as a consumer: it aliases anything."""

    NAME = "tensorbridge"

    @staticmethod
    def limits() -> Any:
        return _TB_LIMITS

    @staticmethod
    def default_dtype(dtype: str) -> tuple[str, bool]:
        return dtype, False

    @staticmethod
    def export(t: Any, plan: Any) -> Tensor:
        return Tensor._wrap(t)

    @staticmethod
    def share_native(obj: Any) -> None:
        return None


_TB_LIMITS = _ext.ConsumerLimits()
_NUMPY, _TORCH, _TF, _JAX = (frameworks.target(n) for n in ("numpy", "torch", "tensorflow", "jax"))


def asarray(obj: Any, dtype: Any = None, copy: bool | None = None) -> Tensor:
    """Any array-like as a :class:`Tensor`, sharing memory where possible.

    Args:
        obj: a NumPy array, torch tensor, TensorFlow tensor or Variable, JAX array, pandas Series or
            DataFrame, :class:`Table` (columns of different types join in their common type, as
            ``df.to_numpy()`` chooses it; see :meth:`Table.to_tensor`), ``tb.Tensor``, any object with ``__dlpack__``,
            ``__array_interface__`` or the buffer protocol, or Python numbers and nested lists
            (bool -> bool, int -> int64, float -> float32, complex -> complex64).
        dtype: convert to this dtype (any spelling: "float32", np.float32, torch.float32...).
        copy: ``None`` shares when possible, ``True`` always copies, ``False`` raises
            ``BufferError`` if a copy is needed.

    Returns:
        A :class:`Tensor` viewing ``obj``'s memory (kept alive by the tensor), or a new tensor when
        a copy or a dtype change was needed.

    Raises:
        DTypeError: ``obj`` is not an array of numbers, or ``dtype`` is unknown.
        SharingError: ``copy=False`` and a copy is needed.

    Example:
        >>> import numpy as np, tensorbridge as tb
        >>> x = np.zeros((2, 3))
        >>> t = tb.asarray(x)
        >>> t.shape, t.dtype, t.data_ptr == x.ctypes.data
        ((2, 3), 'float64', True)
        >>> tb.asarray([[1, 2], [3, 4]], dtype="int32")
        tb.Tensor(shape=(2, 2), dtype=int32, device=cpu)
    """
    if dtype is None and copy is None:
        src, _ = _import(obj, allow_copy=True)
        return Tensor._wrap(src)
    return _convert(obj, _Anything, dtype, copy, "unsafe" if dtype is None else "same_kind", "cpu", False)


def _export_doc(name: str, noun: str, example: str) -> str:
    return f"""Converts ``x`` to {noun}, sharing memory whenever {name} can alias it.

    Args:
        x: anything :func:`asarray` accepts.
        dtype: the result's dtype (any spelling); None keeps the source's (JAX without 64-bit
            mode narrows 64-bit types, checked for overflow).
        device: "cpu" (other devices raise ValueError on this machine).
        copy: None shares when possible, True always copies, False raises BufferError naming why a
            copy would be needed.
        casting: which dtype changes are allowed: "no", "equiv", "safe", "same_kind" (default) or
            "unsafe", with NumPy's meaning.
        checked: raise OverflowError/ValueError on NaN, inf or out-of-range values instead of
            losing data, naming the first bad index.

    The copy and the cast, when needed, are one pass. :func:`explain` shows the plan first.

    Returns:
        {noun[0].upper() + noun[1:]}.

    Raises:
        DTypeError: the casting rule refuses the dtype change, or ``x`` is not an array.
        SharingError: ``copy=False`` and a copy is needed (the message says why).
        CastOverflowError, InvalidValueError: ``checked`` and a value would be lost.

    Example:
        >>> import numpy as np, tensorbridge as tb
{example}    """


def to_numpy(
    x: Any, dtype: Any = None, *, device: str = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Any:
    if dtype is None and copy is None and not checked and device == "cpu":  # the common case, first
        shared = _NUMPY.share_native(x)
        if shared is not None:
            return shared
    return _convert_planned(x, _NUMPY, dtype, copy, casting, device, checked)  # fast path tried above


def to_torch(
    x: Any, dtype: Any = None, *, device: str = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Any:
    if dtype is None and copy is None and not checked and device == "cpu":  # the common case, first
        shared = _TORCH.share_native(x)
        if shared is not None:
            return shared
    return _convert_planned(x, _TORCH, dtype, copy, casting, device, checked)  # fast path tried above


def to_tf(
    x: Any, dtype: Any = None, *, device: str = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Any:
    return _convert(x, _TF, dtype, copy, casting, device, checked)


def to_jax(
    x: Any, dtype: Any = None, *, device: str = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Any:
    return _convert(x, _JAX, dtype, copy, casting, device, checked)


to_numpy.__doc__ = _export_doc("NumPy", "a NumPy array", """\
        >>> import torch
        >>> tb.to_numpy(torch.arange(3))                    # shares the tensor's memory
        array([0, 1, 2])
        >>> tb.to_numpy([[1, 2], [3, 4]], dtype="float16")
        array([[1., 2.],
               [3., 4.]], dtype=float16)
""")
to_torch.__doc__ = _export_doc("PyTorch", "a PyTorch tensor", """\
        >>> x = np.arange(6.0).reshape(2, 3)
        >>> t = tb.to_torch(x)                              # shares x's memory
        >>> t[0, 0] = 7
        >>> float(x[0, 0])
        7.0
        >>> tb.to_torch(x, dtype="bfloat16")                # one pass: cast and copy
        tensor([[7., 1., 2.],
                [3., 4., 5.]], dtype=torch.bfloat16)
""")
to_tf.__doc__ = _export_doc("TensorFlow", "a TensorFlow tensor", """\
        >>> tb.to_tf(np.arange(3, dtype=np.int32))
        <tf.Tensor: shape=(3,), dtype=int32, numpy=array([0, 1, 2], dtype=int32)>
""")
to_jax.__doc__ = _export_doc("JAX", "a JAX array", """\
        >>> tb.to_jax(np.arange(3.0), dtype="float32")
        Array([0., 1., 2.], dtype=float32)
        >>> tb.to_jax(np.arange(3.0)).dtype          # without jax_enable_x64, 64-bit narrows (checked)
        dtype('float32')
""")


def convert(
    x: Any, to: Target, dtype: Any = None, *, device: str = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Any:
    """Converts ``x`` to framework ``to`` ("numpy", "torch", "tensorflow"/"tf", "jax").

    The same as :func:`to_numpy`/:func:`to_torch`/:func:`to_tf`/:func:`to_jax` with the target as
    an argument; the other arguments are theirs.

    Example:
        >>> import numpy as np, tensorbridge as tb
        >>> tb.convert(np.ones(3), to="torch", dtype="float32").dtype
        torch.float32
    """
    return _convert(x, frameworks.target(to), dtype, copy, casting, device, checked)


def explain(
    x: Any, to: Target = "torch", dtype: Any = None, *, device: str = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Plan:
    """The plan of ``convert(x, to, dtype, ...)`` without doing it: zero-copy or not and why, bytes
    to copy, whether the cast can lose information.

    Takes :func:`convert`'s arguments and raises the error the conversion would raise, if it
    cannot be done. The data is never read.

    Returns:
        A :class:`Plan`; ``print`` it for one line.

    Example:
        >>> import numpy as np, tensorbridge as tb
        >>> print(tb.explain(np.zeros((2, 3)), to="torch", dtype="float16"))
        float64[2, 3] -> torch float16: copy 12 bytes, lossy because dtype changes from float64 to float16
        >>> print(tb.explain(np.zeros((4, 4))[::2], to="tensorflow"))   # doctest: +ELLIPSIS
        float64[2, 4] -> tensorflow float64: copy 64 bytes because tensorflow needs C-contiguous memory...
    """
    adapter = frameworks.target(to)
    src, plan, import_reason, gathered_from = _plan(x, adapter, dtype, copy, casting, device, checked)
    _raise_for(plan)
    from_dtype, lossy = plan.from_dtype, plan.lossy
    if gathered_from is not None:  # a table's columns, cast while gathered: report that cast
        from_dtype, lossy = gathered_from, lossy or not _ext.can_cast(gathered_from, plan.to_dtype, "safe")
    gather_cast = [f"dtype changes from {from_dtype} to {plan.to_dtype}"] if from_dtype != plan.from_dtype else []
    reasons = tuple(([import_reason] if import_reason else []) + gather_cast + list(plan.reasons))
    zero_copy = plan.zero_copy and not import_reason
    nbytes = plan.bytes_to_copy + (src.nbytes if import_reason else 0)
    return Plan(
        target=adapter.NAME,
        zero_copy=zero_copy,
        reasons=reasons,
        bytes_to_copy=nbytes,
        lossy=lossy,
        from_dtype=from_dtype,
        to_dtype=plan.to_dtype,
        read_only=plan.read_only,
        checked=plan.checked,
        shape=tuple(src.shape),
    )


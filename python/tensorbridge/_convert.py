"""The conversion API: ``asarray``, ``to_numpy``/``to_torch``/``to_tf``/``to_jax``, ``convert``
and ``explain``. Every conversion is planned by the C++ core (``tb::plan_export``) and carried out
exactly as planned, so ``explain`` never disagrees with what a conversion does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import _ext, frameworks
from ._dtypes import device_name, dtype_name
from ._tensor import Tensor
from .errors import CastOverflowError, DTypeError, InvalidValueError, SharingError, _class_for_kind
from .frameworks._common import flat_values as _flat
from .frameworks._common import python_int_overflow

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
        notes: what to know about a plan carried out as asked, one sentence each: a result that
            TensorFlow or JAX treat as immutable but that shares memory a later write can change
            (``copy=True`` gives an independent array); a read-only file map shared with torch
            through a private copy-on-write map.

    ``str(plan)`` says it in one line, notes after "note:".

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
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        head = f"{self.from_dtype}{list(self.shape)} -> {self.target} {self.to_dtype}: "
        notes = "".join(f"; note: {n}" for n in self.notes)
        if self.zero_copy:
            return head + "zero-copy" + (" (read-only)" if self.read_only else "") + notes
        lossy = ", lossy" if self.lossy else ""
        return head + f"copy {self.bytes_to_copy} bytes{lossy} because " + "; ".join(self.reasons) + notes


def _import(obj: Any, allow_copy: bool, dtype_given: bool = False, adapter: Any = None) -> tuple[Any, str]:
    """``obj`` as an extension tensor, and why it had to be copied ("" if it was not).

    Python values take the dtype that ``adapter``'s framework infers for them (tensorbridge's own
    rule, PyTorch's, without one); when the caller names a dtype (``dtype_given``) they are read
    at full precision and the conversion's cast applies instead."""
    if isinstance(obj, Tensor):
        return obj._c, ""
    source = frameworks.adapter_for_object(obj)
    if source is not None:
        return source.import_tensor(obj, allow_copy)
    if hasattr(obj, "_gather_columns"):  # a tb.Table: its columns in their common type
        t, reason, _ = obj._gather_columns(None, "same_kind", False, allow_copy)
        return t, reason
    if isinstance(obj, (bool, int, float, complex, list, tuple)):
        if not allow_copy:
            raise SharingError("copy=False, but Python scalars and lists must be copied into a tensor")
        return _from_python(obj, None if dtype_given else (adapter or _Anything)), "built from Python values"
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


def _from_python(obj: Any, adapter: Any) -> Any:
    """Python numbers and nested lists as an extension tensor, of the dtype ``adapter``'s framework
    infers for them (``adapter.from_python``), or at full precision (NumPy's inference) when
    ``adapter`` is None. A value the inferred dtype cannot hold raises instead of wrapping or
    becoming inf."""
    import numpy as np

    try:
        exact = np.asarray(obj)
    except ValueError as e:
        raise InvalidValueError(f"cannot make a tensor of a ragged nested list: {e}") from None
    if exact.dtype.kind == "O" and not any(type(v) is int for v in _flat(obj)):
        raise InvalidValueError(
            "cannot make a tensor of a ragged nested list or of non-numbers: every row must have the same "
            "length and every element must be a bool, int, float or complex"
        )
    if exact.dtype.kind not in "biufcO":
        raise DTypeError(f"cannot make a tensor of Python values of type {exact.dtype}: expected numbers")
    if adapter is None:
        if exact.dtype.kind == "O":
            raise python_int_overflow("tensorbridge", obj, "int64 or uint64")
        return _ext.from_buffer(exact, True)[0]
    made, values = adapter.from_python(obj, exact)
    if exact.dtype.kind in "fc":
        _check_no_new_infinities(exact, values, adapter.NAME)
    return made


def _check_no_new_infinities(exact: Any, inferred: Any, who: str) -> None:
    """Raises if a finite Python number became infinite in the inferred (narrower) dtype."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        lost = np.isfinite(exact) & ~np.isfinite(inferred)
    if lost.any():
        value = exact[lost].flat[0].item()
        raise CastOverflowError(
            f"the Python number {value!r} does not fit in {tb_dtype(inferred)}, the dtype {who} gives it; "
            "pass dtype='float64' (or 'complex128') to keep it"
        )


def tb_dtype(arr: Any) -> str:
    """The tensorbridge name of a NumPy array's dtype."""
    return dtype_name(arr.dtype)


def _torch_rule(obj: Any, exact: Any) -> tuple[Any, Any]:
    """tensorbridge's own inference, PyTorch's ``torch.tensor`` rule: each element has a dtype
    (bool, int -> int64, float -> float32, complex -> complex64, a NumPy scalar its own), the
    highest kind present wins (bool < integer < float < complex), and within it the widest."""
    import numpy as np

    kinds = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
    leaves = []
    for v in _flat(obj):
        if type(v) is bool:
            leaves.append(np.dtype(np.bool_))
        elif type(v) is int:
            if not -(2**63) <= v < 2**63:
                raise python_int_overflow("tensorbridge", obj, "int64")
            leaves.append(np.dtype(np.int64))
        elif type(v) is float:
            leaves.append(np.dtype(np.float32))
        elif type(v) is complex:
            leaves.append(np.dtype(np.complex64))
        else:
            leaves.append(np.asarray(v).dtype)
    if not leaves:
        leaves = [np.dtype(np.float32)]
    top = max(kinds.get(d.kind, 2) for d in leaves)
    pick = [d for d in leaves if kinds.get(d.kind, 2) == top or (top == 3 and d.kind == "f")]
    if exact.dtype.kind == "O":  # ints beyond int64 that NumPy could not type: torch refuses them too
        raise python_int_overflow("tensorbridge", obj, "int64")
    with np.errstate(over="ignore", invalid="ignore"):
        inferred = exact.astype(np.result_type(*pick))
    return _ext.from_buffer(inferred, True)[0], inferred


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
    device = device_name(device)
    gathered = None if dtype is None else _gather_columns(obj, dtype_name(dtype), casting, checked, copy is not False)
    if gathered is not None:  # the columns were cast as they were gathered: the plan only exports
        src, import_reason, _ = gathered
    else:
        src, import_reason = _import(obj, allow_copy=copy is not False, dtype_given=dtype is not None, adapter=adapter)
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
    try:
        out = _ext.execute(src, plan)
    except (CastOverflowError, InvalidValueError) as e:
        if dtype is None and plan.to_dtype != plan.from_dtype:  # the adapter's own narrowing failed
            raise adapter.narrowing_error(plan.from_dtype, plan.to_dtype, e) from None
        raise
    return adapter.export(out, plan)


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

    from_python = staticmethod(_torch_rule)


_TB_LIMITS = _ext.ConsumerLimits()
_NUMPY, _TORCH, _TF, _JAX = (frameworks.target(n) for n in ("numpy", "torch", "tensorflow", "jax"))


def asarray(obj: Any, dtype: Any = None, copy: bool | None = None) -> Tensor:
    """Any array-like as a :class:`Tensor`, sharing memory where possible.

    Args:
        obj: a NumPy array, torch tensor, TensorFlow tensor or Variable, JAX array, pandas Series or
            DataFrame, :class:`Table` (columns of different types join in their common type, as
            ``df.to_numpy()`` chooses it; see :meth:`Table.to_tensor`), ``tb.Tensor``, any object with
            ``__dlpack__``, ``__array_interface__`` or the buffer protocol, or Python numbers and
            nested lists. Without ``dtype``, Python values follow PyTorch's ``torch.tensor`` rule: each
            element has a dtype (bool; int -> int64; float -> float32; complex -> complex64; a NumPy
            scalar keeps its own, so ``[np.float64(0.1)]`` stays float64), the highest kind present
            wins (bool < integer < float < complex), then the widest in it. An int beyond int64 or a
            float beyond the inferred type raises ``CastOverflowError`` (pass ``dtype=``). The
            conversions (:func:`to_numpy`...) use their framework's own rule.
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


def _export_doc(name: str, noun: str, constructor: str, example: str) -> str:
    return f"""Converts ``x`` to {noun}, sharing memory whenever {name} can alias it.

    Args:
        x: anything :func:`asarray` accepts. Python numbers and nested lists take the dtype
            {name}'s own ``{constructor}`` gives them, so the result equals what {name} would make;
            what {name} refuses (a Python int beyond int64...) raises ``CastOverflowError`` or
            ``DTypeError``, and a finite float that would become inf in the inferred type raises
            ``CastOverflowError``. With ``dtype=``, they are read exactly and must fit it.
        dtype: the result's dtype (any spelling); None keeps the source's (JAX without 64-bit
            mode narrows 64-bit types, checked for overflow).
        device: "cpu", as a name or a framework's device object (``torch.device("cpu")``, a
            TensorFlow device or its name ``"/device:CPU:0"``, a JAX device); other devices raise
            ValueError on this machine.
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
    x: Any, dtype: Any = None, *, device: Any = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Any:
    if dtype is None and copy is None and not checked and device == "cpu":  # the common case, first
        shared = _NUMPY.share_native(x)
        if shared is not None:
            return shared
    return _convert_planned(x, _NUMPY, dtype, copy, casting, device, checked)  # fast path tried above


def to_torch(
    x: Any, dtype: Any = None, *, device: Any = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Any:
    if dtype is None and copy is None and not checked and device == "cpu":  # the common case, first
        shared = _TORCH.share_native(x)
        if shared is not None:
            return shared
    return _convert_planned(x, _TORCH, dtype, copy, casting, device, checked)  # fast path tried above


def to_tf(
    x: Any, dtype: Any = None, *, device: Any = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Any:
    return _convert(x, _TF, dtype, copy, casting, device, checked)


def to_jax(
    x: Any, dtype: Any = None, *, device: Any = "cpu", copy: bool | None = None,
    casting: Casting = "same_kind", checked: bool = False,
) -> Any:
    return _convert(x, _JAX, dtype, copy, casting, device, checked)


to_numpy.__doc__ = _export_doc("NumPy", "a NumPy array", "np.asarray", """\
        >>> import torch
        >>> tb.to_numpy(torch.arange(3))                    # shares the tensor's memory
        array([0, 1, 2])
        >>> tb.to_numpy([12345678901234567891, -1]).dtype   # as np.asarray infers
        dtype('float64')
        >>> tb.to_numpy([[1, 2], [3, 4]], dtype="float16")
        array([[1., 2.],
               [3., 4.]], dtype=float16)
""")
to_torch.__doc__ = _export_doc("PyTorch", "a PyTorch tensor", "torch.tensor", """\
        >>> x = np.arange(6.0).reshape(2, 3)
        >>> t = tb.to_torch(x)                              # shares x's memory
        >>> t[0, 0] = 7
        >>> float(x[0, 0])
        7.0
        >>> tb.to_torch(x, dtype="bfloat16")                # one pass: cast and copy
        tensor([[7., 1., 2.],
                [3., 4., 5.]], dtype=torch.bfloat16)
        >>> tb.to_torch([0.5]).dtype, tb.to_torch([np.float64(0.1)]).dtype   # as torch.tensor infers
        (torch.float32, torch.float64)
""")
to_tf.__doc__ = _export_doc("TensorFlow", "a TensorFlow tensor", "tf.convert_to_tensor", """\
        >>> tb.to_tf(np.arange(3, dtype=np.int32))
        <tf.Tensor: shape=(3,), dtype=int32, numpy=array([0, 1, 2], dtype=int32)>
""")
to_jax.__doc__ = _export_doc("JAX", "a JAX array", "jnp.asarray", """\
        >>> tb.to_jax(np.arange(3.0), dtype="float32")
        Array([0., 1., 2.], dtype=float32)
        >>> tb.to_jax(np.arange(3.0)).dtype          # without jax_enable_x64, 64-bit narrows (checked)
        dtype('float32')

    Sharing with JAX (and TensorFlow) means a later write to the source changes an array JAX
    treats as immutable (and results it cached from it); :func:`explain` notes it, and
    ``copy=True`` gives an independent array:

        >>> x = tb.to_numpy(tb.asarray(np.zeros(16, dtype=np.float32), copy=True))  # 64-byte aligned
        >>> shared, own = tb.to_jax(x), tb.to_jax(x, copy=True)
        >>> x[0] = 10
        >>> float(shared[0]), float(own[0])
        (10.0, 0.0)
""")


def convert(
    x: Any, to: Target, dtype: Any = None, *, device: Any = "cpu", copy: bool | None = None,
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
    x: Any, to: Target = "torch", dtype: Any = None, *, device: Any = "cpu", copy: bool | None = None,
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
        notes=tuple(plan.notes) if zero_copy else (),
    )


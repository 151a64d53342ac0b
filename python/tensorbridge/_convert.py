"""The conversion API: ``asarray``, ``to_numpy``/``to_torch``/``to_tf``/``to_jax``, ``convert``
and ``explain``. Every conversion is planned by the C++ core (``tb::plan_export``) and carried out
exactly as planned, so ``explain`` never disagrees with what a conversion does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import _ext, frameworks
from ._planning import as_tensor, convert_planned, plan_conversion, raise_for
from ._tensor import Tensor

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
    return Tensor._wrap(as_tensor(obj, dtype, copy))


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


def _conversion(adapter: Any, name: str) -> Any:
    """The public conversion into ``adapter``'s framework (``to_numpy``...), one definition for all
    four. A call with the source alone (the common case, whose per-call overhead users compare
    with ``torch.from_numpy``) never enters Python here: ``_ext.conversion`` hands it to the
    shortcut of its type (``adapter.shortcut``, asked once per type), which shares it through the
    framework's own call if the planner says it can be aliased as it is. Every other call, and a
    source no shortcut shares, takes the general path, which decides and explains."""

    def conversion(
        x: Any, dtype: Any = None, *, device: Any = "cpu", copy: bool | None = None,
        casting: Casting = "same_kind", checked: bool = False,
    ) -> Any:
        return convert_planned(x, adapter, dtype, copy, casting, device, checked)

    conversion.__name__ = conversion.__qualname__ = name
    public = _ext.conversion({}, adapter.shortcut, conversion)
    public.__name__ = public.__qualname__ = name
    public.__module__ = __name__
    public.__wrapped__ = conversion  # its signature, for inspect and help()
    return public


to_numpy = _conversion(_NUMPY, "to_numpy")
to_torch = _conversion(_TORCH, "to_torch")
to_tf = _conversion(_TF, "to_tf")
to_jax = _conversion(_JAX, "to_jax")
_CONVERSIONS = {"numpy": to_numpy, "torch": to_torch, "tensorflow": to_tf, "jax": to_jax}


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
    conversion = _CONVERSIONS[frameworks.target(to).NAME]
    return conversion(x, dtype, device=device, copy=copy, casting=casting, checked=checked)


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
    src, plan, import_reason, gathered_from = plan_conversion(x, adapter, dtype, copy, casting, device, checked)
    raise_for(plan)
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


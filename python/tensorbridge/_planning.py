"""How a conversion is planned and carried out, below the public API (``_convert``) and the
``Tensor`` class (``_tensor``), which both use it: any source becomes an extension tensor
(``import_source``), the C++ core plans the export (``tb::plan_export``), and the plan is carried
out and handed to the framework's adapter (``convert_planned``)."""

from __future__ import annotations

from typing import Any

from . import _ext, frameworks
from ._dtypes import device_name, dtype_name, dtype_of
from .errors import CastOverflowError, DTypeError, InvalidValueError, SharingError, _class_for_kind
from .frameworks._common import flat_values as _flat
from .frameworks._common import python_int_overflow

__all__ = ["Anything", "as_tensor", "convert_planned", "import_source", "plan_conversion", "raise_for"]


def import_source(obj: Any, allow_copy: bool, dtype_given: bool = False, adapter: Any = None) -> tuple[Any, str]:
    """``obj`` as an extension tensor, and why it had to be copied ("" if it was not).

    Python values take the dtype that ``adapter``'s framework infers for them (tensorbridge's own
    rule, PyTorch's, without one); when the caller names a dtype (``dtype_given``) they are read
    at full precision and the conversion's cast applies instead."""
    inner = getattr(obj, "_c", None)
    if type(inner) is _ext.Tensor:  # a tb.Tensor
        return inner, ""
    source = frameworks.adapter_for_object(obj)
    if source is not None:
        return source.import_tensor(obj, allow_copy)
    if hasattr(obj, "_gather_columns"):  # a tb.Table: its columns in their common type
        t, reason, _ = obj._gather_columns(None, "same_kind", False, allow_copy)
        return t, reason
    if isinstance(obj, (bool, int, float, complex, list, tuple)):
        if not allow_copy:
            raise SharingError("copy=False, but Python scalars and lists must be copied into a tensor")
        return _from_python(obj, None if dtype_given else (adapter or Anything)), "built from Python values"
    if hasattr(obj, "__arrow_c_array__") or hasattr(obj, "__arrow_c_stream__"):  # pyarrow, polars...
        return _from_arrow(obj)
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


def _from_arrow(obj: Any) -> tuple[Any, str]:
    """An Arrow array or table (Arrow's PyCapsule protocol) as one extension tensor: a numeric column
    as it is (a view), a table as its columns in their common type (one gather); the rules of
    :func:`tensorbridge.from_arrow`, whose views are read-only."""
    if hasattr(obj, "__arrow_c_array__"):
        imported = _ext.arrow_import_array(*obj.__arrow_c_array__(), None, True)
    else:
        columns, is_table = _ext.arrow_import_stream(obj.__arrow_c_stream__(), None, True)
        imported = _ext.arrow_table_of_columns(columns) if is_table else (columns[0] if columns else None)
    if isinstance(imported, _ext.Table):
        return imported.to_tensor([], None, "same_kind", False, None), "gathered the columns into one tensor"
    if imported is None or imported.kind != "tensor":
        raise DTypeError(
            "cannot convert an Arrow column of strings or categories to a tensor; use tb.from_arrow(x) for its "
            "strings or codes"
        )
    return imported.values, ""


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
            f"the Python number {value!r} does not fit in {dtype_name(inferred.dtype)}, the dtype {who} gives it; "
            "pass dtype='float64' (or 'complex128') to keep it"
        )


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


def plan_conversion(
    obj: Any,
    adapter: Any,
    dtype: Any,
    copy: bool | None,
    casting: str,
    device: str,
    checked: bool,
) -> tuple[Any, Any, str, str | None]:
    device = device_name(device)
    gathered = None if dtype is None else _gather_columns(obj, dtype_of(dtype).name, casting, checked, copy is not False)
    if gathered is not None:  # the columns were cast as they were gathered: the plan only exports
        src, import_reason, _ = gathered
    else:
        src, import_reason = import_source(obj, allow_copy=copy is not False, dtype_given=dtype is not None, adapter=adapter)
    if dtype is None:
        name, narrow_checked = adapter.default_dtype(src.dtype)
        target = None if name == src.dtype else dtype_of(name)
        checked = checked or narrow_checked
    else:
        target = dtype_of(dtype)
    # A copy made on import is already fresh: copy=True must not copy it twice.
    export_copy = None if (import_reason and copy) else copy
    plan = _ext.plan_export(src, adapter.limits(), target, export_copy, casting, device, checked,
                            weak_values=dtype is not None and type(obj) in _PYTHON_VALUES)
    return src, plan, import_reason, None if gathered is None else gathered[2]


def raise_for(plan: Any) -> None:
    if plan.error:
        raise _class_for_kind(plan.error_kind)(plan.error)


def convert_planned(
    obj: Any, adapter: Any, dtype: Any, copy: bool | None, casting: str, device: str, checked: bool
) -> Any:
    """The general path: plan in C++, carry the plan out, hand the result to the framework."""
    src, plan, _, _ = plan_conversion(obj, adapter, dtype, copy, casting, device, checked)
    raise_for(plan)
    try:
        out = _ext.execute(src, plan)
    except (CastOverflowError, InvalidValueError) as e:
        if dtype is None and plan.to_dtype != plan.from_dtype:  # the adapter's own narrowing failed
            raise adapter.narrowing_error(plan.from_dtype, plan.to_dtype, e) from None
        raise
    return adapter.export(out, plan)


class Anything:
    """The limits of a tb.Tensor as a consumer: it aliases anything."""

    NAME = "tensorbridge"

    @staticmethod
    def limits() -> Any:
        return _TB_LIMITS

    @staticmethod
    def default_dtype(dtype: str) -> tuple[str, bool]:
        return dtype, False

    @staticmethod
    def export(t: Any, plan: Any) -> Any:
        return t  # the caller wraps it in a tb.Tensor

    from_python = staticmethod(_torch_rule)


_TB_LIMITS = _ext.ConsumerLimits()


def as_tensor(obj: Any, dtype: Any, copy: bool | None) -> Any:
    """``tb.asarray(obj, dtype, copy)`` as an extension tensor."""
    if dtype is None and copy is None:
        return import_source(obj, allow_copy=True)[0]
    return convert_planned(obj, Anything, dtype, copy, "unsafe" if dtype is None else "same_kind", "cpu", False)

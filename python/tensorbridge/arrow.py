"""Arrow interchange through Arrow's PyCapsule protocol (``__arrow_c_schema__``,
``__arrow_c_array__``, ``__arrow_c_stream__``): anything that speaks it — pyarrow, polars, pandas
with Arrow dtypes, DuckDB, nanoarrow, Hugging Face ``datasets`` and Ray Data blocks (pyarrow
tables) — becomes a :class:`~tensorbridge.Table` or a :class:`~tensorbridge.Tensor`, numeric
columns without a copy; and :class:`~tensorbridge.Tensor` / :class:`~tensorbridge.Table` export
themselves the same way, so ``pyarrow.array(t)``, ``pyarrow.table(table)`` and
``polars.from_arrow(table)`` take them without a copy.

Example:
    >>> import pyarrow as pa, tensorbridge as tb
    >>> t = tb.from_arrow(pa.table({"x": [1.5, 2.5], "y": [1, 2]}))
    >>> t
    Table(2 rows; x: float64, y: int64)
    >>> t.to_tensor(dtype="float32").numpy()
    array([[1.5, 1. ],
           [2.5, 2. ]], dtype=float32)
"""

from __future__ import annotations

from typing import Any

from . import _ext
from ._tensor import Tensor
from .errors import DTypeError
from .table import Categorical, Table

__all__ = ["from_arrow", "is_arrow"]


def is_arrow(obj: Any) -> bool:
    """True if ``obj`` speaks Arrow's PyCapsule protocol (has ``__arrow_c_array__`` or
    ``__arrow_c_stream__``) and is not a tensorbridge object.

    Example:
        >>> import pyarrow as pa
        >>> tb.is_arrow(pa.array([1, 2])), tb.is_arrow([1, 2])
        (True, False)
    """
    if isinstance(obj, (Tensor, Table)):
        return False
    return hasattr(obj, "__arrow_c_array__") or hasattr(obj, "__arrow_c_stream__")


def _column_value(c: Any) -> Any:
    """One imported column as what ``Table[name]`` gives: a Tensor, a Categorical or a list of str."""
    kind = c.kind
    if kind == "tensor":
        return Tensor._wrap(c.values)
    if kind == "categorical":
        return Categorical(Tensor._wrap(c.values), list(c.strings))
    valid = c.valid
    if valid is None:
        return list(c.strings)
    mask = Tensor._wrap(valid).numpy()
    return [s if ok else None for s, ok in zip(c.strings, mask)]


def from_arrow(obj: Any, *, fill_value: float | None = None, writable: bool = False) -> Table | Tensor | Any:
    """An Arrow object as tensorbridge data, numeric memory shared with the producer.

    What comes back follows the Arrow type:

    - a table-like object (pyarrow ``Table`` / ``RecordBatch`` / ``RecordBatchReader``, a polars
      ``DataFrame``, a pandas ``DataFrame``, any struct array or stream of record batches) gives a
      :class:`~tensorbridge.Table`;
    - a single array or column (pyarrow ``Array`` / ``ChunkedArray``, a polars ``Series``) gives
      what ``Table[name]`` gives for such a column: a :class:`~tensorbridge.Tensor` for numbers,
      bools, timestamps and durations (int64 in their unit) — 2-D for a ``FixedSizeList`` of
      numbers, one row per list —, a :class:`~tensorbridge.Categorical` for a dictionary of
      strings, a ``list`` of ``str`` (``None`` for nulls) for strings.

    Sharing and copies:

    - numbers without nulls, fixed-size lists of them and int32 dictionary codes are views of the
      producer's buffers (O(1)); the producer is released exactly once, when the last tensor
      viewing it dies. A column in several chunks is gathered into one buffer, in parallel.
    - bools (bit-packed in Arrow) and validity bitmaps are unpacked; strings are copied.
    - nulls give a validity mask (:meth:`Table.mask`), as CSV's missing values do;
      ``fill_value`` writes that value there instead (in a copy of the column).
    - views are read-only, since Arrow memory is immutable: NumPy, JAX and TensorFlow share
      them; PyTorch, which has no read-only tensors, gets a copy unless ``writable=True``, which
      marks the views writable so ``tb.to_torch`` shares them too (only for memory you own: a
      write then changes the producer's data).

    Raises :class:`~tensorbridge.DTypeError` naming the column for types it does not import
    (structs inside a table, lists, maps, unions, decimals, binary) and
    :class:`~tensorbridge.FormatError` for malformed Arrow data.

    Example:
        >>> import pyarrow as pa
        >>> arr = pa.array([1.0, 2.0, 3.0])
        >>> t = tb.from_arrow(arr)
        >>> t.data_ptr == arr.buffers()[1].address                      # zero-copy
        True
        >>> tb.from_arrow(pa.array([[1, 2], [3, 4]], pa.list_(pa.int32(), 2))).numpy()
        array([[1, 2],
               [3, 4]], dtype=int32)
        >>> tb.from_arrow(pa.array(["a", None]))
        ['a', None]
    """
    if isinstance(obj, (Tensor, Table)):
        return obj
    if fill_value is not None and (isinstance(fill_value, bool) or not isinstance(fill_value, (int, float))):
        raise DTypeError(f"from_arrow: fill_value must be a number, not {fill_value!r}")
    fill = None if fill_value is None else float(fill_value)
    read_only = not writable
    if hasattr(obj, "__arrow_c_array__"):
        schema, array = obj.__arrow_c_array__()
        imported = _ext.arrow_import_array(schema, array, fill, read_only)
        if isinstance(imported, _ext.Table):
            return Table._wrap(imported)
        return _column_value(imported)
    if hasattr(obj, "__arrow_c_stream__"):
        columns, is_table = _ext.arrow_import_stream(obj.__arrow_c_stream__(), fill, read_only)
        if is_table:
            return Table._wrap(_ext.arrow_table_of_columns(columns))
        if not columns:
            raise DTypeError("from_arrow: the Arrow stream holds no array")
        return _column_value(columns[0])
    raise DTypeError(
        f"from_arrow: {type(obj).__module__}.{type(obj).__qualname__} does not speak Arrow's PyCapsule protocol "
        "(no __arrow_c_array__ or __arrow_c_stream__); pass a pyarrow, polars or pandas object"
    )

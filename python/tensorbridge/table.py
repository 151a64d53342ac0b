"""Tables: ordered, named columns of equal length (what :func:`read_csv` returns), and
:func:`from_dataframe` to turn a pandas DataFrame into one without copying numeric columns.

A column is a :class:`~tensorbridge.Tensor` (numbers, bools), a ``list`` of ``str`` (``None`` where
missing), or a :class:`Categorical` (int32 codes into a vocabulary).

Example:
    >>> import io, tensorbridge as tb
    >>> t = tb.read_csv(io.StringIO("sepal_length,sepal_width,species\\n5.1,3.5,setosa\\n7.0,3.2,versicolor\\n"))
    >>> t
    Table(2 rows; sepal_length: float64, sepal_width: float64, species: strings)
    >>> t.to_tensor(["sepal_length", "sepal_width"])     # one (2, 2) tensor of the columns' type
    tb.Tensor(shape=(2, 2), dtype=float64, device=cpu)
    >>> t.to_torch(["sepal_width"])                      # dict of torch tensors
    {'sepal_width': tensor([3.5000, 3.2000], dtype=torch.float64)}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _ext
from ._convert import asarray, to_jax, to_numpy, to_tf, to_torch
from ._dtypes import dtype_name
from ._tensor import Tensor
from .errors import DTypeError, InvalidValueError, SharingError

__all__ = ["Categorical", "Table", "from_dataframe"]


@dataclass(frozen=True, repr=False)
class Categorical:
    """A column of strings stored as codes: ``categories[codes[i]]`` is row ``i`` (code -1 = missing).

    Read with ``dtype="category"`` (:func:`read_csv`) or made from a pandas ``category`` column.

    Example:
        >>> import io
        >>> c = tb.read_csv(io.StringIO("city\\nOslo\\nLyon\\nOslo\\n"), dtype="category")["city"]
        >>> c.categories, c.codes.numpy()
        (['Lyon', 'Oslo'], array([1, 0, 1], dtype=int32))
    """

    codes: Tensor
    categories: list[str]

    def __repr__(self) -> str:
        """The codes' shape and the categories, the middle ones left out beyond ten (as pandas does).

        Example:
            >>> import io
            >>> tb.read_csv(io.StringIO("n\\n" + "\\n".join(f"c{i:04}" for i in range(1001))), dtype="category")["n"]
            Categorical(1001 rows; 1001 categories: ['c0000', 'c0001', 'c0002', 'c0003', 'c0004', ..., 'c0996', 'c0997', 'c0998', 'c0999', 'c1000'])
        """
        shown = self.categories
        parts = [repr(c) for c in shown] if len(shown) <= 10 else (
            [repr(c) for c in shown[:5]] + ["..."] + [repr(c) for c in shown[-5:]])
        rows = self.codes.shape[0] if self.codes.shape else 0
        count = "1 category" if len(shown) == 1 else f"{len(shown)} categories"
        return f"Categorical({rows} row{'' if rows == 1 else 's'}; {count}: [{', '.join(parts)}])"


Column = Tensor | list | Categorical


class Table:
    """Ordered named columns of equal length, backed by the C++ ``tb::table``.

    ``table["age"]`` (or ``table[0]``) gives a column, ``table[["age", "height"]]`` a table of those
    columns, ``table.columns`` the names, ``len(table)`` and ``table.num_rows`` the row count.
    :meth:`to_tensor` stacks columns into one 2-D tensor, and so do ``tb.to_numpy(table)``,
    ``tb.to_torch(table, dtype=...)`` and the other conversions (as they do for a DataFrame);
    the methods :meth:`to_numpy`, :meth:`to_torch`, :meth:`to_tf` and :meth:`to_jax` give a dict of
    columns, and ``tb.Dataset.from_tensor_slices(table)`` takes it as that dict.
    Tables come from :func:`read_csv`, :func:`iter_csv` and :func:`from_dataframe`.

    Example:
        >>> import io
        >>> t = tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n"))
        >>> t
        Table(2 rows; age: int64, height: float64, city: strings)
        >>> t["age"].numpy(), t["city"]
        (array([31, 45]), ['Oslo', None])
        >>> "height" in t, len(t)
        (True, 2)
    """

    __slots__ = ("_c", "_names")

    def __init__(self) -> None:
        """Tables come from :func:`read_csv`, :func:`iter_csv` and :func:`from_dataframe`; this
        constructor only says so."""
        raise TypeError("make a tb.Table with tb.read_csv(...), tb.iter_csv(...) or tb.from_dataframe(...)")

    @classmethod
    def _wrap(cls, native: _ext.Table) -> Table:
        """Wraps a C++ table."""
        self = object.__new__(cls)
        self._c = native
        self._names: list[str] = native.names()
        return self

    @property
    def columns(self) -> list[str]:
        """The column names, in order.

        Example:
            >>> import io
            >>> tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n")).columns
            ['age', 'height', 'city']
        """
        return list(self._names)

    @property
    def num_rows(self) -> int:
        """The number of rows (also ``len(table)``).

        Example:
            >>> import io
            >>> tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n")).num_rows
            2
        """
        return self._c.num_rows

    def __len__(self) -> int:
        """The number of rows."""
        return self._c.num_rows

    def __contains__(self, name: object) -> bool:
        """True if a column is named ``name``."""
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        """The column names, in order (as iterating a dict gives its keys)."""
        return iter(self._names)

    def _index(self, key: str | int) -> int:
        if isinstance(key, int):
            n = len(self._names)
            if not -n <= key < n:
                raise IndexError(f"column index {key} is out of range for a table of {n} columns")
            return key % n
        try:
            return self._names.index(key)
        except ValueError:
            raise KeyError(f"no column named {key!r}; the columns are {self._names}") from None

    def __getitem__(self, key: str | int | Sequence[str]) -> Any:
        """The column named ``key`` (or at position ``key``): a Tensor, a list of str or a Categorical;
        for a list of names, a :class:`Table` of those columns in that order, sharing their memory
        (pandas' ``df[["a", "b"]]``).

        Example:
            >>> import io
            >>> t = tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n"))
            >>> t[["height", "age"]]
            Table(2 rows; height: float64, age: int64)
            >>> tb.to_numpy(t[["age", "height"]])          # one array of the common type
            array([[31.  ,  1.75],
                   [45.  ,  1.62]])
        """
        if isinstance(key, list):
            for name in key:
                self._index(name)  # a KeyError naming the columns there are
            return Table._wrap(self._c.select([str(name) for name in key]))
        i = self._index(key)
        kind = self._c.kind(i)
        if kind == "tensor":
            return Tensor._wrap(self._c.values(i))
        if kind == "categorical":
            return Categorical(Tensor._wrap(self._c.values(i)), self._c.strings(i))
        strings: list[Any] = self._c.strings(i)
        valid = self._c.valid(i)
        if valid is not None:
            for r in _missing_rows(valid):
                strings[r] = None
        return strings

    def mask(self, key: str | int) -> Tensor | None:
        """The bool validity mask of a column (False where a value is missing), or None when no value
        is missing. Float columns hold NaN for missing values and have no mask.

        Example:
            >>> import io
            >>> t = tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n"))
            >>> t.mask("city").numpy(), t.mask("age")
            (array([ True, False]), None)
        """
        valid = self._c.valid(self._index(key))
        return None if valid is None else Tensor._wrap(valid)

    def items(self) -> Iterator[tuple[str, Column]]:
        """(name, column) pairs in order.

        Example:
            >>> import io
            >>> for name, column in tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n")).items():
            ...     print(name, column)
            age tb.Tensor(shape=(2,), dtype=int64, device=cpu)
            height tb.Tensor(shape=(2,), dtype=float64, device=cpu)
            city ['Oslo', None]
        """
        for name in self._names:
            yield name, self[name]

    def to_tensor(self, columns: Sequence[str] | None = None, dtype: Any = None, *,
                  casting: str = "same_kind", checked: bool = False, fill_value: float | None = None) -> Tensor:
        """The chosen columns (all by default) as one C-contiguous ``(num_rows, k)`` tensor.

        Args:
            columns: column names, in the order wanted (all columns when None).
            dtype: the element type; None gives the columns' common type, as pandas'
                ``DataFrame.to_numpy()`` (NumPy's promotion: int64 + float64 -> float64, bool + int64
                -> int64, int64 + uint64 -> float64), and float64 when an integer or bool column has
                missing values and no ``fill_value`` is given.
            casting, checked: as in :func:`tensorbridge.to_numpy`: ``casting="same_kind"`` refuses
                float -> int unless ``"unsafe"``; ``checked=True`` raises
                :class:`CastOverflowError` (or :class:`InvalidValueError` for NaN) naming the
                column and row instead of losing a value.
            fill_value: written where a column has missing values (its :meth:`mask`). Without it
                they are NaN in a float result and an :class:`InvalidValueError` naming the column
                and row otherwise.

        Categorical columns give their codes (-1 where missing); string columns raise
        :class:`DTypeError`. A table read with one float dtype for every column returns the
        matrix it was parsed into, without a copy.

        Example:
            >>> import io
            >>> t = tb.read_csv(io.StringIO("age,height,ok,city\\n31,1.75,True,Oslo\\n45,1.62,,\\n"))
            >>> t.to_tensor(["age", "height"]).numpy()
            array([[31.  ,  1.75],
                   [45.  ,  1.62]])
            >>> t.to_tensor(["age", "ok"]).numpy()                      # a missing bool: NaN
            array([[31.,  1.],
                   [45., nan]])
            >>> t.to_tensor(["age", "ok"], fill_value=-1).numpy()
            array([[31,  1],
                   [45, -1]])
            >>> t.to_tensor(["age", "height"], dtype="float32").dtype
            'float32'
        """
        if not isinstance(casting, str):
            raise DTypeError(f"to_tensor: casting must be a string such as 'same_kind', not {casting!r}")
        if fill_value is not None and (isinstance(fill_value, bool) or not isinstance(fill_value, (int, float))):
            raise DTypeError(f"to_tensor: fill_value must be a number, not {fill_value!r}")
        return Tensor._wrap(self._c.to_tensor(list(columns or []), None if dtype is None else dtype_name(dtype),
                                              casting, bool(checked), None if fill_value is None else float(fill_value)))

    def _gather_columns(self, dtype: str | None, casting: str, checked: bool, allow_copy: bool) -> tuple[Any, str, str]:
        """Every column as one ``(num_rows, k)`` tensor, for ``tb.to_numpy(table)`` and the other
        conversions: ``(tensor, why it was copied or "", the columns' common dtype)``.

        The gather and the cast to ``dtype`` are one pass (:meth:`to_tensor`), missing values follow
        its rule. String and date/time columns are refused, naming them and the way out."""
        for i, name in enumerate(self._names):
            kind = self._c.kind(i)
            if kind == "strings":
                raise DTypeError(
                    f"column {name!r} holds strings, which cannot go into a tensor of numbers; leave it "
                    f"out (table[[...numeric columns...]] or df[[...]]) or encode it as integer codes "
                    f"(read it with dtype={{{name!r}: \"category\"}}, or df[{name!r}].astype(\"category\").cat.codes)")
            if kind == "tensor" and self._c.time_type(i):
                raise DTypeError(
                    f"column {name!r} holds {self._c.time_type(i)} values, which become numbers only in a unit you "
                    f"choose; leave it out (table[[...]] or "
                    f"df[[...]]), or take its int64 counts: df[{name!r}].astype(\"int64\") or "
                    f"tb.from_dataframe(df).to_tensor()")
        common = self._c.common_dtype([], None)
        try:
            t = self._c.to_tensor([], dtype, casting, bool(checked), None)
        except InvalidValueError as e:
            if "fill_value" not in str(e):
                raise
            raise InvalidValueError(
                f"{e} (the conversion functions take no fill_value: use tb.from_dataframe(df).to_tensor(fill_value=...) "
                "or table.to_tensor(fill_value=...), or fill the missing values first)") from None
        first = self._c.values(0) if self._names and self._c.kind(0) != "strings" else None
        if first is not None and t.data_ptr == first.data_ptr and t.data_ptr != 0:
            return t, "", common  # a table read as one matrix: that matrix itself
        if not allow_copy:
            raise SharingError("copy=False, but the columns of a table must be gathered into one tensor (a copy)")
        return t, f"the {len(self._names)} columns are gathered into one tensor", common

    def time_type(self, key: str | int) -> str | None:
        """For an int64 column made from a pandas datetime64 / timedelta64 column, its NumPy type
        (``"datetime64[ns]"``...: the values count that unit since the Unix epoch); else None.

        Example:
            >>> import pandas as pd
            >>> t = tb.from_dataframe(pd.DataFrame({"t": pd.to_datetime(["2024-01-01", None])}))
            >>> t.time_type("t"), t["t"].numpy()[0], t.mask("t").numpy()
            ('datetime64[us]', np.int64(1704067200000000), array([ True, False]))
        """
        return self._c.time_type(self._index(key)) or None

    def _export(self, convert: Any, columns: Sequence[str] | None, text: Any) -> dict[str, Any]:
        out = {}
        for name in columns if columns is not None else self._names:
            col = self[name]
            if isinstance(col, Tensor) and self._c.valid(self._index(name)) is not None:
                # Missing values: float64 with NaN (the rule of to_tensor), never the 0 stored there.
                out[name] = convert(self.to_tensor([name]).numpy()[:, 0])
            elif isinstance(col, Tensor):
                out[name] = convert(col)
            elif isinstance(col, Categorical):
                out[name] = convert(col.codes)
            else:
                out[name] = text(name, col)
        return out

    def _slices(self) -> dict[str, Any]:
        """The columns for ``Dataset.from_tensor_slices(table)``: a dict of arrays, as
        :meth:`to_numpy` gives them (categorical codes; missing values in int or bool columns as
        float64 NaN); string columns are refused, naming them."""
        def text(name: str, _col: list) -> Any:
            raise DTypeError(
                f"column {name!r} holds strings, which a data set cannot hold; leave it out "
                f"(Dataset.from_tensor_slices(table[[...]])) or read it with dtype={{{name!r}: \"category\"}} "
                "for integer codes")

        return self._export(lambda t: t, None, text)

    def to_numpy(self, columns: Sequence[str] | None = None) -> dict[str, Any]:
        """A dict of NumPy arrays (zero-copy for numeric columns; strings as object arrays; int and
        bool columns with missing values as float64 with NaN, as :meth:`to_tensor`; so in
        :meth:`to_torch`, :meth:`to_tf` and :meth:`to_jax`).

        Example:
            >>> import io
            >>> tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n")).to_numpy()
            {'age': array([31, 45]), 'height': array([1.75, 1.62]), 'city': array(['Oslo', None], dtype=object)}
        """
        return self._export(to_numpy, columns, lambda _name, col: np.array(col, dtype=object))

    def to_torch(self, columns: Sequence[str] | None = None) -> dict[str, Any]:
        """A dict of torch tensors (zero-copy where torch can alias the memory).

        String columns raise :class:`DTypeError` (read them as ``"category"``, or leave them out).

        Example:
            >>> import io
            >>> tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n")).to_torch(["age"])
            {'age': tensor([31, 45])}
        """
        return self._export(to_torch, columns, _no_strings("torch"))

    def to_tf(self, columns: Sequence[str] | None = None) -> dict[str, Any]:
        """A dict of TensorFlow tensors (string columns become tf.string tensors, missing as "").

        Example:
            >>> import io
            >>> tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n")).to_tf(["city"])
            {'city': <tf.Tensor: shape=(2,), dtype=string, numpy=array([b'Oslo', b''], dtype=object)>}
        """
        def text(_name: str, col: list) -> Any:
            import tensorflow as tf

            return tf.constant(["" if s is None else s for s in col], dtype=tf.string)

        return self._export(to_tf, columns, text)

    def to_jax(self, columns: Sequence[str] | None = None) -> dict[str, Any]:
        """A dict of JAX arrays (64-bit columns narrow without ``jax_enable_x64``, checked).

        String columns raise :class:`DTypeError` (read them as ``"category"``, or leave them out).

        Example:
            >>> import io
            >>> tb.read_csv(io.StringIO("age,height,city\\n31,1.75,Oslo\\n45,1.62,\\n")).to_jax(["age"])
            {'age': Array([31, 45], dtype=int32)}
        """
        return self._export(to_jax, columns, _no_strings("jax"))

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """Arrow's PyCapsule protocol: the table as a stream of one record batch
        (``pyarrow.table(t)``, ``polars.from_arrow(t)``, ``polars.DataFrame(t)``, DuckDB): numeric
        columns share memory, masks become validity bitmaps, strings are copied, categoricals
        become dictionaries. ``requested_schema`` is not applied (the protocol lets a producer
        decline it). Only the stream is offered, so polars makes a DataFrame of it, not a Series
        of structs.

        Example:
            >>> import io, pyarrow as pa
            >>> pa.table(tb.read_csv(io.StringIO("a,b\\n1,x\\n"))).column_names
            ['a', 'b']
        """
        return _ext.arrow_export_table_stream(self._c)

    def __repr__(self) -> str:
        kinds = []
        for i, name in enumerate(self._names):
            kind = self._c.kind(i)
            if kind == "tensor":
                time_type = self._c.time_type(i)
                kind = f"int64 ({time_type})" if time_type else self._c.values(i).dtype
            kinds.append(f"{name}: {kind}")
        rows = "1 row" if self.num_rows == 1 else f"{self.num_rows} rows"
        return f"Table({rows}; {', '.join(kinds)})"


def _missing_rows(valid: _ext.Tensor) -> list[int]:
    return np.flatnonzero(~np.from_dlpack(Tensor._wrap(valid))).tolist()


def _no_strings(framework: str) -> Any:
    def fail(name: str, _col: list) -> Any:
        raise DTypeError(
            f"column {name!r} holds strings, which {framework} has no tensor type for; read it with "
            f'dtype={{{name!r}: "category"}} for integer codes, or pass columns=[...] without it'
        )

    return fail


def from_dataframe(df: Any) -> Table:
    """A pandas DataFrame as a :class:`Table`, sharing memory with numeric columns.

    - Numeric and bool columns become tensors, zero-copy whenever pandas' own array allows it
      (``Series.to_numpy(copy=False)`` is a view of the DataFrame's block).
    - Nullable pandas dtypes (``Int64``, ``UInt8``, ``boolean``...) become a tensor plus a validity
      mask (:meth:`Table.mask`); nullable floats (``Float64``) hold NaN where missing.
    - ``datetime64`` / ``timedelta64`` columns (also with a time zone: UTC instants) become int64
      counts of their unit since the epoch, named by :meth:`Table.time_type`; NaT is missing.
    - ``category`` columns become :class:`Categorical`; other object or string columns become lists
      of ``str`` (``None`` where missing). Column labels become ``str``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [1.5, 2.5], "n": pd.array([1, None], dtype="Int64"), "s": ["a", "b"]})
        >>> t = tb.from_dataframe(df)
        >>> t
        Table(2 rows; x: float64, n: int64, s: strings)
        >>> t["x"].data_ptr == df["x"].to_numpy().ctypes.data            # shares memory
        True
        >>> t.mask("n").numpy()
        array([ True, False])
        >>> t.to_tensor(["x", "n"]).numpy()                              # missing: NaN
        array([[1.5, 1. ],
               [2.5, nan]])
    """
    import pandas as pd

    native = _ext.Table()
    for label in df.columns:
        name = str(label)
        s = df[label]
        dtype = s.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            codes = s.cat.codes.to_numpy().astype(np.int32)
            valid = asarray(codes >= 0)._c if (codes < 0).any() else None
            native.add_categorical(name, asarray(codes)._c, [str(c) for c in dtype.categories], valid)
            continue
        if dtype.kind in "mM":
            # datetime64 / timedelta64, with or without a time zone: int64 counts of the unit.
            unit = dtype.unit if isinstance(dtype, pd.DatetimeTZDtype) else np.datetime_data(dtype)[0]
            missing = s.isna().to_numpy()
            values = s.array.asi8  # int64 counts (UTC for a time zone), NaT as the smallest int64
            if missing.any():
                values = np.where(missing, 0, values)
            time_type = f"{'datetime64' if dtype.kind == 'M' else 'timedelta64'}[{unit}]"
            native.add_tensor(name, asarray(np.ascontiguousarray(values))._c,
                              asarray(~missing)._c if missing.any() else None, time_type)
            continue
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "biuf":
            missing = s.isna().to_numpy()
            numpy_dtype = np.dtype(dtype.numpy_dtype)
            if numpy_dtype.kind == "f":  # float columns hold NaN and carry no mask
                native.add_tensor(name, asarray(s.to_numpy(dtype=numpy_dtype, na_value=np.nan))._c)
                continue
            values = s.to_numpy(dtype=numpy_dtype, na_value=0)
            native.add_tensor(name, asarray(values)._c, asarray(~missing)._c if missing.any() else None)
            continue
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            native.add_tensor(name, asarray(s.to_numpy(copy=False))._c)
            continue
        missing = s.isna().to_numpy()
        strings = ["" if m else str(v) for v, m in zip(s.tolist(), missing.tolist())]
        native.add_strings(name, strings, asarray(~missing)._c if missing.any() else None)
    return Table._wrap(native)

"""Reading CSV into tables or one tensor, on several threads (the C++ reader, with the GIL released).

Keyword names follow :func:`pandas.read_csv` wherever the meaning is the same.

Example:
    >>> import os, tempfile, tensorbridge as tb
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "data.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("age,income,city\\n31,52000,Oslo\\nn/a,61000,Lyon\\n45,48000,Oslo\\n")
    >>> tb.read_csv(path, usecols=["age", "income"], na_values=["n/a"])
    Table(3 rows; age: float64, income: int64)
    >>> tb.read_csv(path, usecols=["age", "income"], dtype="float32").to_tensor()  # parsed into one matrix
    tb.Tensor(shape=(3, 2), dtype=float32, device=cpu)
    >>> for batch in tb.iter_csv(path, rows=2):                    # for files larger than memory
    ...     print(batch["city"])
    ['Oslo', 'Lyon']
    ['Oslo']
    >>> tmp.cleanup()
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

from . import _ext
from ._dtypes import dtype_name
from ._paths import fspath, is_file_object
from ._tensor import Tensor
from .errors import DTypeError, InvalidValueError
from .storage import is_remote_path, storage_options_of
from .table import Table

__all__ = ["iter_csv", "read_csv", "read_csv_tensor"]

PathOrText = str | os.PathLike | Any
DTypeSpec = str | Any | Mapping[str, Any] | None

_TEXT_TYPES = {"str", "string", "object", "o"}
# tb::csv_options' defaults (the C++ core's), which read_csv's keywords default to.
_CPP = _ext.CsvOptions()


def _type_name(t: Any) -> str:
    """A column type as the C++ reader names it: a dtype name, "str" or "category"."""
    if t is str or t is object:
        return "str"
    if isinstance(t, str):
        if t.lower() in _TEXT_TYPES:
            return "str"
        if t == "category":
            return "category"
        return t
    if type(t).__name__ == "CategoricalDtype":
        return "category"
    if type(t).__name__ == "StringDtype":
        return "str"
    try:
        import numpy as np

        if np.dtype(t).kind == "O":
            return "str"
    except TypeError:
        pass
    return dtype_name(t)


def _char(name: str, value: Any, none: str | None = "") -> str:
    """A one-character option as the C++ options take it ("" for none); ``none`` is what None
    means (refused when it is None itself)."""
    if value is None and none is not None:
        return none
    if not isinstance(value, str):
        raise DTypeError(f"read_csv: {name} must be a one-character string{' or None' if none is not None else ''}, "
                         f"not {value!r} ({type(value).__name__})")
    if len(value) != 1:
        raise InvalidValueError(f"read_csv: {name} must be exactly one character, not {value!r}")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise DTypeError(f"read_csv: {name} must be True or False, not {value!r} ({type(value).__name__})")
    return value


def _count(name: str, value: Any, least: int = 0, where: str = "read_csv") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DTypeError(f"{where}: {name} must be an integer >= {least}, not {value!r} ({type(value).__name__})")
    if value < least:
        raise InvalidValueError(f"{where}: {name} must be >= {least}, got {value}")
    return value


def _list_like(name: str, value: Any) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise DTypeError(f"read_csv: {name} must be a list, not {value!r} ({type(value).__name__})")
    return list(value)


def _options(
    *, sep: str | None, delimiter: str | None, header: int | Literal["infer"] | None, names: Sequence[str] | None,
    usecols: Sequence[str] | Sequence[int] | None, skiprows: int | None, comment: str | None,
    na_values: str | Sequence[str] | None, keep_default_na: bool, skip_blank_lines: bool, dtype: DTypeSpec,
    quotechar: str | None, doublequote: bool, escapechar: str | None, encoding: str | None,
    block_size: int | None, thousands: str | None, decimal: str, nrows: int | None,
) -> _ext.CsvOptions:
    o = _ext.CsvOptions()
    # sep=None (pandas: let the Python engine sniff it) detects the delimiter from the first lines.
    o.sep = _char("delimiter", delimiter) if delimiter is not None else _char("sep", sep)
    o.quotechar = _char("quotechar", quotechar)
    o.escapechar = _char("escapechar", escapechar)
    o.comment = _char("comment", comment)
    o.thousands = _char("thousands", thousands)
    o.decimal = _char("decimal", decimal, none=None)
    o.doublequote = _flag("doublequote", doublequote)
    if header == "infer":
        o.header = _ext.CsvOptions.HEADER_INFER
    elif header is None:
        o.header = _ext.CsvOptions.HEADER_NONE
    elif isinstance(header, int) and not isinstance(header, bool) and header >= 0:
        o.header = header
    else:
        raise InvalidValueError(f"header must be a row number >= 0, None or 'infer', not {header!r}")
    if names is not None:
        o.names = [str(n) for n in _list_like("names", names)]
    if usecols is not None:
        if callable(usecols):
            raise DTypeError("read_csv: usecols must be a list of names or positions; a callable is not supported")
        cols = _list_like("usecols", usecols)
        if all(isinstance(c, int) and not isinstance(c, bool) for c in cols):
            o.usecols_index = cols
        elif all(isinstance(c, str) for c in cols):
            o.usecols = cols
        else:
            raise InvalidValueError(f"usecols must be all names or all positions, not {usecols!r}")
    if skiprows is not None:
        if not isinstance(skiprows, int) or isinstance(skiprows, bool):
            raise InvalidValueError(
                f"skiprows must be a number of lines, not {skiprows!r} (lists of rows are not supported)"
            )
        o.skiprows = skiprows
    if nrows is not None:
        o.nrows = _count("nrows", nrows)
    if na_values is not None:
        if isinstance(na_values, Mapping):
            raise DTypeError("read_csv: na_values must be a string or a list of strings; per-column na_values "
                             "(a dict) are not supported")
        o.na_values = [na_values] if isinstance(na_values, str) else [str(v) for v in _list_like("na_values", na_values)]
    o.keep_default_na = _flag("keep_default_na", keep_default_na)
    o.skip_blank_lines = _flag("skip_blank_lines", skip_blank_lines)
    if encoding is not None:
        if not isinstance(encoding, str):
            raise DTypeError(f"read_csv: encoding must be a string such as 'utf-8', not {encoding!r}")
        o.encoding = encoding
    if block_size is not None:
        o.block_size = _count("block_size", block_size, least=1)
    if isinstance(dtype, Mapping):
        for column, t in dtype.items():
            o.set_column_dtype(str(column), _type_name(t))
    elif dtype is not None:
        o.set_dtype(_type_name(dtype))
    o.validate()
    return o


def read_csv(
    filepath_or_buffer: PathOrText,
    *,
    sep: str | None = _CPP.sep,
    delimiter: str | None = None,
    header: int | Literal["infer"] | None = "infer",
    names: Sequence[str] | None = None,
    usecols: Sequence[str] | Sequence[int] | None = None,
    skiprows: int | None = None,
    comment: str | None = None,
    na_values: str | Sequence[str] | None = None,
    keep_default_na: bool = _CPP.keep_default_na,
    skip_blank_lines: bool = _CPP.skip_blank_lines,
    dtype: DTypeSpec = None,
    quotechar: str | None = _CPP.quotechar,
    doublequote: bool = _CPP.doublequote,
    escapechar: str | None = None,
    encoding: str | None = _CPP.encoding,
    thousands: str | None = None,
    decimal: str = _CPP.decimal,
    nrows: int | None = None,
    block_size: int | None = None,
    compression: str | None = "infer",
    storage_options: Mapping[str, Any] | None = None,
) -> Table:
    """Reads a CSV file (a path, or a text/binary file object) into a :class:`Table`.

    Args:
        filepath_or_buffer: a path or an object with ``read()``. The bytes are read into memory
            (a regular file with parallel positioned reads; a FIFO, pipe or /proc file to its end)
            and parsed on ``tb.num_threads()`` threads. A file truncated while it is read raises
            :class:`ReadError` naming the byte offset.
        sep, delimiter: the field delimiter, one character (``delimiter`` wins, as in pandas);
            ``sep=None`` detects it from the first lines (``,``, tab, ``;`` or ``|``, the one that
            appears equally often on each; an error names them when none does).
        header: the row holding the names (after ``skiprows``), ``None`` for no header (columns
            named "0", "1", ...), or "infer" (row 0 unless ``names`` is given).
        names: names for the columns, one per field.
        usecols: only these columns, by name or by position; they keep file order (as in pandas).
        skiprows: a number of lines to skip at the start.
        comment: the rest of a line after this character is ignored.
        na_values: more strings read as missing (pandas' defaults, including the empty field, stay
            unless ``keep_default_na=False``).
        dtype: one type for every column or a dict per column: a dtype ("float32", np.int64, ...),
            ``str`` for strings or "category" for integer codes. Unnamed columns are inferred as bool,
            int64, uint64 (non-negative integers, some beyond int64), float64 (also int with missing
            values) or strings (also integers no one integer type holds exactly, as pandas' object).
            ``dtype=bool`` reads True/False (any of pandas' spellings) and 1/0. A single float dtype
            parses everything straight into one matrix that :meth:`Table.to_tensor` returns without
            copying.
        quotechar, doublequote, escapechar: quoting rules (``quotechar=None`` turns quoting off).
        encoding: only UTF-8 (a byte order mark is skipped); anything else raises ValueError.
        thousands: the thousands separator in numbers (``"1,234"`` -> 1234 with ``thousands=","``;
            quote such fields when it is also the delimiter). Text columns keep it.
        decimal: the decimal mark of numbers (``decimal=","`` reads ``"1,5"`` as 1.5, usually with
            ``sep=";"``).
        nrows: read only the first ``nrows`` data rows (0: just the columns).
        block_size: bytes per parallel work unit (tests use tiny blocks to cross boundaries).
        compression: "infer" (default: gzip, bz2, xz and zstd content is decompressed, told by its
            first bytes, so any file name and pipes work; pandas looks at the name), None (read the
            bytes as they are), or one of "gzip", "bz2", "xz", "zstd" (the content must agree).

    Missing values are NaN in float columns; other columns get a validity mask
    (:meth:`Table.mask`) and strings read as ``None``.

    Raises:
        FormatError: malformed input, with file, line, field number, column name and what to do.
        ReadError: the file cannot be opened or read (:class:`NotFoundError`,
            :class:`AccessDeniedError`, :class:`DirectoryError`, or truncated while read).

    Example:
        >>> import io
        >>> t = tb.read_csv(io.StringIO("x,label\\n0.5,cat\\n1.5,\\n"), dtype={"label": "category"})
        >>> t
        Table(2 rows; x: float64, label: categorical)
        >>> t["label"].categories, t["label"].codes.numpy()
        (['cat'], array([ 0, -1], dtype=int32))
        >>> tb.read_csv(io.StringIO("1;2\\n3;4\\n"), sep=";", header=None, dtype="float32").to_tensor().numpy()
        array([[1., 2.],
               [3., 4.]], dtype=float32)
        >>> tb.read_csv(io.StringIO('price;n\\n"1.234,5";2\\n7,25;3\\n'), sep=None, thousands=".", decimal=",",
        ...             nrows=1)["price"].numpy()
        array([1234.5])
    """
    o = _options(
        sep=sep, delimiter=delimiter, header=header, names=names, usecols=usecols, skiprows=skiprows,
        comment=comment, na_values=na_values, keep_default_na=keep_default_na,
        skip_blank_lines=skip_blank_lines, dtype=dtype, quotechar=quotechar, doublequote=doublequote,
        escapechar=escapechar, encoding=encoding, block_size=block_size, thousands=thousands, decimal=decimal,
        nrows=nrows,
    )
    o.compression = _compression(compression)
    if storage_options is not None or is_remote_path(filepath_or_buffer):
        o.storage = storage_options_of(storage_options, filepath_or_buffer)
    if is_file_object(filepath_or_buffer, "read"):
        return Table._wrap(_ext.read_csv_bytes(_read_bytes(filepath_or_buffer), o))
    return Table._wrap(_ext.read_csv(fspath(filepath_or_buffer, "read_csv"), o))


def _compression(compression: str | None) -> str:
    if compression is None:
        return "none"
    if not isinstance(compression, str):
        raise InvalidValueError(
            f'compression must be "infer", None, "gzip", "bz2", "xz" or "zstd", not {compression!r}'
        )
    return compression


def _read_bytes(f: Any) -> bytes:
    """What is left in a text or binary file object, as bytes (text as UTF-8)."""
    data = f.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def read_csv_tensor(path: str | os.PathLike | Any, dtype: Any = "float32", **options: Any) -> Tensor:
    """Reads a CSV file of numbers straight into one ``(rows, columns)`` tensor of ``dtype``.

    ``dtype`` is float32 or float64; missing values become NaN. ``path`` may be a text or binary
    file object. Takes :func:`read_csv`'s other keywords (``usecols``, ``na_values``, ``sep``,
    ``compression``...).

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "x.csv")
        >>> with open(path, "w") as f:
        ...     _ = f.write("a,b,c\\n1,2,3\\n4,,6\\n")
        >>> tb.read_csv_tensor(path, usecols=["a", "b"]).numpy()
        array([[ 1.,  2.],
               [ 4., nan]], dtype=float32)
        >>> tmp.cleanup()
    """
    compression = _compression(options.pop("compression", "infer"))
    storage = options.pop("storage_options", None)
    o = _options(**_with_defaults("read_csv_tensor", options))
    o.compression = compression
    if storage is not None or is_remote_path(path):
        o.storage = storage_options_of(storage, path)
    if is_file_object(path, "read"):
        return Tensor._wrap(_ext.read_csv_tensor_bytes(_read_bytes(path), dtype_name(dtype), o))
    return Tensor._wrap(_ext.read_csv_tensor(fspath(path, "read_csv_tensor"), dtype_name(dtype), o))


def iter_csv(path: str | os.PathLike | Any, rows: int = 100_000, **options: Any) -> Iterator[Table]:
    """Reads a CSV file in :class:`Table` batches of ``rows`` rows, for files larger than memory.

    The last batch may be shorter. Takes :func:`read_csv`'s keywords; columns are typed per batch
    unless ``dtype`` is given (as pandas' ``chunksize``). The file is read front to back in
    windows of about a batch, so FIFOs, pipes and compressed files stream too; a file truncated
    while it is read (a rotated log) raises :class:`ReadError` naming the byte offset. ``path``
    may be a file object (read whole first).

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "x.csv")
        >>> with open(path, "w") as f:
        ...     _ = f.write("a,b\\n" + "".join(f"{i},{2 * i}\\n" for i in range(5)))
        >>> [len(batch) for batch in tb.iter_csv(path, rows=2, dtype="float32")]
        [2, 2, 1]
        >>> tmp.cleanup()
    """
    compression = _compression(options.pop("compression", "infer"))
    storage = options.pop("storage_options", None)
    o = _options(**_with_defaults("iter_csv", options))
    o.compression = compression
    if storage is not None or is_remote_path(path):
        o.storage = storage_options_of(storage, path)
    rows = _count("rows", rows, least=1, where="iter_csv")
    if is_file_object(path, "read"):
        reader = _ext.CsvBatchReader.from_bytes(_read_bytes(path), rows, o)
    else:
        reader = _ext.CsvBatchReader(fspath(path, "iter_csv"), rows, o)
    while (batch := reader.next()) is not None:
        yield Table._wrap(batch)


def _with_defaults(where: str, options: dict[str, Any]) -> dict[str, Any]:
    """read_csv's keywords as given, the rest at their defaults; an unknown keyword is named."""
    unknown = sorted(set(options) - set(_DEFAULTS))
    if unknown:
        raise DTypeError(f"{where}: unknown keyword{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; it takes "
                         f"read_csv's keywords: {', '.join(_DEFAULTS)}")
    return {**_DEFAULTS, **options}


# read_csv's keywords and their defaults (its signature's), but for the input, compression and
# storage_options (each function takes those two out first).
_DEFAULTS: dict[str, Any] = {
    name: p.default for name, p in inspect.signature(read_csv).parameters.items()
    if name not in ("filepath_or_buffer", "compression", "storage_options")
}

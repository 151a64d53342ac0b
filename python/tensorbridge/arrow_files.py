"""Parquet and Arrow IPC files: :func:`read_parquet` (decoded by ``pyarrow.parquet``, imported only
when called), :func:`read_arrow` (Arrow IPC / Feather v2 files, file or stream format, memory-mapped:
columns are views of the mapping), and the data sets over them that :class:`~tensorbridge.Dataset`'s
``from_arrow``, ``from_parquet`` and ``from_arrow_files`` build."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from . import _ext
from ._tensor import Tensor
from .arrow import from_arrow
from .errors import DTypeError, FormatError, InvalidValueError
from .table import Table

__all__ = ["read_arrow", "read_parquet"]

_PIN = "pip install pyarrow==26.0.1"


def _pyarrow(what: str) -> Any:
    """pyarrow, or an ImportError that names the install."""
    try:
        import pyarrow
        import pyarrow.ipc
    except ImportError as e:
        raise ImportError(f"{what} needs pyarrow, which is not installed: {_PIN}") from e
    return pyarrow


def read_parquet(path: Any, columns: Sequence[str] | None = None, filters: Any = None) -> Table:
    """A Parquet file (or a folder of them, a data set) as a :class:`~tensorbridge.Table`.

    Decoded by pyarrow on its threads, then taken over as :func:`tensorbridge.from_arrow` does.
    One file without ``filters`` is read, memory-mapped, by ``pyarrow.parquet.ParquetFile``, which
    decodes each column into one buffer over all row groups, so numeric columns come over without
    a copy; a folder (a data set) or ``filters`` go through ``pyarrow.parquet.read_table``, whose
    chunks are gathered into one buffer per column, in parallel.
    ``filters`` is pyarrow's (``[("year", ">=", 2020)]`` or an expression). pyarrow is imported
    only here; without it an ``ImportError`` names the install.

    Example:
        >>> import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
        >>> tmp = tempfile.TemporaryDirectory(); path = os.path.join(tmp.name, "t.parquet")
        >>> pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]}), path)
        >>> tb.read_parquet(path, columns=["x"], filters=[("y", "=", 0)])["x"].numpy()
        array([1., 3.])
        >>> tmp.cleanup()
    """
    _pyarrow("tb.read_parquet")
    try:
        import pyarrow.parquet as pq
    except ImportError as e:
        raise ImportError(f"tb.read_parquet needs pyarrow with Parquet support: {_PIN}") from e
    where = os.fspath(path)
    wanted = None if columns is None else list(columns)
    if filters is None and os.path.isfile(where):
        # One file: pyarrow's file reader decodes each column into one chunk over all row groups
        # (the data-set reader cuts them into batches of 128 Ki rows, which would need a join).
        table = pq.ParquetFile(where, memory_map=True).read(columns=wanted, use_threads=True)
    else:
        table = pq.read_table(where, columns=wanted, filters=filters)
    result = from_arrow(table)
    assert isinstance(result, Table)
    return result


def _open_ipc(path: Any) -> tuple[Any, Any]:
    """``(pyarrow Table read in place from the mapping, the mapping as an extension tensor)``."""
    pa = _pyarrow("tb.read_arrow")
    where = os.fspath(path)
    mapped = _ext.map_file(where)
    buffer = pa.foreign_buffer(mapped.data_ptr, mapped.nbytes, base=Tensor._wrap(mapped))
    try:
        table = pa.ipc.open_file(buffer).read_all()
    except pa.ArrowInvalid:
        try:  # the streaming format (what Hugging Face datasets writes in its .arrow cache files)
            table = pa.ipc.open_stream(buffer).read_all()
        except pa.ArrowInvalid as e:
            raise FormatError(f"{where}: not an Arrow IPC file or stream ({e})") from None
    return table, mapped


def read_arrow(path: Any, columns: Sequence[str] | None = None) -> Table:
    """An Arrow IPC file (Feather v2, ``.arrow``: the file or the stream format) as a
    :class:`~tensorbridge.Table`, memory-mapped.

    The file is mapped read-only and pyarrow's IPC reader parses it in place, so the numeric
    columns of an uncompressed file with one record batch are views of the mapping: O(1), nothing
    read until used. Columns over several batches are gathered into one buffer each (see
    :meth:`Dataset.from_arrow_files` to keep them mapped); compressed files (Feather's default
    lz4) are decompressed into memory.

    Example:
        >>> import os, tempfile, pyarrow as pa, pyarrow.feather as feather
        >>> tmp = tempfile.TemporaryDirectory(); path = os.path.join(tmp.name, "t.arrow")
        >>> feather.write_feather(pa.table({"x": [1.0, 2.0]}), path, compression="uncompressed")
        >>> tb.read_arrow(path)["x"].numpy()
        array([1., 2.])
        >>> tmp.cleanup()
    """
    table, mapped = _open_ipc(path)
    if columns is not None:
        table = table.select(list(columns))
    result = from_arrow(table)
    assert isinstance(result, Table)
    return Table._wrap(_ext.rebase_table(result._c, mapped))


def mapped_fields(paths: Any, columns: Sequence[str] | None) -> list[tuple[str, list[Any]]]:
    """The columns of Arrow IPC files as pipeline fields: for each column, its record batches in
    file order as parts (views of the mapped files, never joined)."""
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not paths:
        raise InvalidValueError("from_arrow_files: give at least one path")
    fields: dict[str, list[Any]] = {}
    for path in paths:
        table, mapped = _open_ipc(path)
        if columns is not None:
            table = table.select(list(columns))
        for batch in _ext.arrow_import_batches(table.__arrow_c_stream__(), True):
            for col in batch:
                if col.kind != "tensor" or col.time_type or col.valid is not None:
                    why = ("holds strings or categories" if col.kind != "tensor" else
                           "holds times" if col.time_type else "has nulls")
                    raise DTypeError(
                        f"from_arrow_files: column {col.name!r} of {os.fspath(path)} {why}; pass columns=[...] "
                        "with numeric columns without nulls (or read it with tb.read_arrow and fill it)")
                fields.setdefault(col.name, []).append(_ext.rebase_tensor(col.values, mapped))
    return list(fields.items())

"""NumPy's ``.npy`` and ``.npz`` files, read and written by tensorbridge's C++ core.

Reading is as fast as ``np.load`` or faster (large parallel reads into 64-byte aligned memory),
``mmap=True`` opens a file of any size in O(1), and an ``.npz`` reads only the members asked for.

Example:
    >>> import os, tempfile, numpy as np, torch, tensorbridge as tb
    >>> tmp = tempfile.TemporaryDirectory()
    >>> tb.save(os.path.join(tmp.name, "y.npy"), torch.ones(3))   # anything tb.asarray accepts
    >>> tb.load(os.path.join(tmp.name, "y.npy"), mmap=True)       # zero-copy, read-only, O(1)
    tb.Tensor(shape=(3,), dtype=float32, device=cpu, read_only=True)
    >>> tb.savez(os.path.join(tmp.name, "data.npz"), train_x=np.ones((4, 2)), train_y=np.arange(4))
    >>> with tb.load(os.path.join(tmp.name, "data.npz")) as f:
    ...     f["train_y"].numpy()                                   # reads only this member
    array([0, 1, 2, 3])
    >>> tmp.cleanup()

Notes:
    - bfloat16 is written as descr ``'<V2'``, as ``np.save`` writes ``ml_dtypes.bfloat16``
      (``np.load(f).view(ml_dtypes.bfloat16)`` reads it back); reading ``'<V2'`` as bfloat16
      needs ``void2_as_bfloat16=True``, since the descr cannot tell bfloat16 from raw bytes.
    - Object (pickled) arrays are refused with :class:`~tensorbridge.FormatError`; nothing is ever
      unpickled.
    - Structured (record) arrays become ``dict[str, Tensor]``, one zero-copy column per field when
      the record layout allows it (see :func:`from_structured`).
    - Paths are used as given (``np.save`` appends ``.npy`` to a name without it; this does not).
    - Every save is atomic: the new file is written under a temporary name in the same folder,
      synced and renamed over the old one, so a failed or interrupted save (disk full, killed
      process) leaves the old file as it was, and saving over a file that is memory-mapped from
      itself is safe. A missing folder raises :class:`~tensorbridge.NotFoundError` (a
      ``FileNotFoundError``, as with NumPy), a folder without write permission
      :class:`~tensorbridge.AccessDeniedError` (a ``PermissionError``), a failed write
      :class:`~tensorbridge.WriteError`.
    - FIFOs, pipes (``<(zcat f)``) and /proc files are read into memory first (they cannot be
      mapped or read at random).
    - A file truncated while it is read raises :class:`~tensorbridge.ReadError` naming the byte
      offset. A tensor from ``mmap=True`` views the file itself: if the file is truncated while
      the tensor lives, touching the lost pages kills the process with SIGBUS, as with
      ``np.memmap``; replace such files with a new file (as :func:`save` does) instead of
      truncating them, or use ``mmap=False``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from . import _ext
from ._convert import asarray
from ._dtypes import dtype_name
from ._paths import file_object_name, fspath, is_file_object
from ._tensor import Tensor
from .errors import DTypeError, InvalidValueError
from .storage import is_remote_path, storage_options_of, with_cache_dir

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "NpzFile",
    "from_structured",
    "load",
    "open_atomic",
    "read_npy_header",
    "save",
    "save_npz",
    "savez",
    "savez_compressed",
]

PathLike = Union[str, "os.PathLike[str]"]
# tb::npy_load_options' defaults (the C++ core's), which load's keywords default to.
_LOAD = _ext.NpyLoadOptions()
_MAX_HEADER_SIZE: int = _LOAD.max_header_size


def _load_options(
    mmap: bool,
    copy_on_write: bool,
    keep_byte_order: bool,
    void2_as_bfloat16: bool,
    max_header_size: int,
    verify_crc: bool = True,
) -> _ext.NpyLoadOptions:
    o = _ext.NpyLoadOptions()
    o.mmap = mmap
    o.copy_on_write = copy_on_write
    o.keep_byte_order = keep_byte_order
    o.void2_as_bfloat16 = void2_as_bfloat16
    o.max_header_size = max_header_size
    o.verify_crc = verify_crc
    o.validate()
    return o


def _columns(cols: list[_ext.NamedColumn]) -> dict[str, Tensor]:
    return {c.name: Tensor._wrap(c.values) for c in cols}


def _unwrap(cols: list[_ext.NamedColumn]) -> Tensor | dict[str, Tensor]:
    # A plain array reads as one column named "" (field names are never empty).
    if len(cols) == 1 and cols[0].name == "":
        return Tensor._wrap(cols[0].values)
    return _columns(cols)


def load(
    path: PathLike | Any,
    *,
    mmap: bool = _LOAD.mmap,
    copy_on_write: bool = _LOAD.copy_on_write,
    keep_byte_order: bool = _LOAD.keep_byte_order,
    void2_as_bfloat16: bool = _LOAD.void2_as_bfloat16,
    max_header_size: int = _MAX_HEADER_SIZE,
    verify_crc: bool = _LOAD.verify_crc,
    storage_options: Mapping[str, Any] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Tensor | NpzFile | dict[str, Tensor]:
    """Reads a ``.npy`` or ``.npz`` file (told apart by content, like ``np.load``).

    Args:
        path: the file, or a binary file object (``BytesIO``, ``open(..., "rb")``): read from its
            position; after a ``.npy`` the position is just past the array, as ``np.load`` leaves
            it, so several arrays saved one after another load one by one.
        mmap: map the file instead of reading it: O(1) to open whatever the size, zero-copy,
            read-only; the mapping is released with the last tensor viewing it. In an ``.npz``,
            stored members are mapped and deflated ones read.
        copy_on_write: with ``mmap``, map privately: the tensor is writable, writes never reach
            the file.
        keep_byte_order: leave big-endian elements as stored instead of swapping them (see
            :func:`read_npy_header`'s ``byteswapped``). Mapping big-endian data read-only raises
            ``BufferError`` unless this or ``copy_on_write`` is set.
        void2_as_bfloat16: read descr ``'<V2'`` (how ``np.save`` writes ``ml_dtypes.bfloat16``)
            as bfloat16.
        max_header_size: the largest ``.npy`` header accepted, in bytes.
        verify_crc: ``.npz`` only: check each member's CRC-32 when its data is read, as NumPy
            does, so a damaged byte raises :class:`FormatError` naming the member instead of
            reading as a wrong value. On by default for every member, mapped ones too (a mapped
            member's bytes are then read once from the file); ``False`` skips the check, e.g.
            to map a large stored member in O(1).
        storage_options: for an ``s3://`` or ``https://`` path, how to reach it (``key``,
            ``secret``, ``token``, ``endpoint_url``, ``region``, ``anon``, ``profile``,
            ``part_size``, ``concurrency``, retries: see :func:`tensorbridge.storage_options_of`).
            A remote ``.npy`` is read with one small request for its header, then parallel
            ranged requests straight into the tensor's buffer; a remote ``.npz`` reads its tail
            (end records and directory) on opening, and each member's bytes when accessed.
        cache_dir: for a remote path, a local folder keeping the object for later reads (checked
            by ETag and size with a one-byte request; read unchecked when the server cannot be
            reached); the same as ``storage_options={"cache_dir": ...}``.

    Returns:
        A :class:`Tensor` for a ``.npy`` file (C order: contiguous; Fortran order: a transposed
        view, no copy), a ``dict[str, Tensor]`` of columns for a structured ``.npy``, or a lazy
        :class:`NpzFile` for an ``.npz``.

    Raises:
        ReadError: the file cannot be opened or read: :class:`NotFoundError` (a
            ``FileNotFoundError``), :class:`AccessDeniedError` (a ``PermissionError``),
            :class:`DirectoryError` (an ``IsADirectoryError``), or truncated while read.
        FormatError: the content is malformed (the message names the path and byte offset) or
            holds pickled objects.

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "x.npy")
        >>> np.save(path, np.arange(6, dtype=np.int16).reshape(2, 3))
        >>> x = tb.load(path)
        >>> x
        tb.Tensor(shape=(2, 3), dtype=int16, device=cpu)
        >>> tb.load(path, mmap=True).read_only
        True
        >>> tmp.cleanup()
    """
    options = _load_options(mmap, copy_on_write, keep_byte_order, void2_as_bfloat16, max_header_size, verify_crc)
    storage_options = with_cache_dir(storage_options, cache_dir)
    if storage_options is not None or is_remote_path(path):
        options.storage = storage_options_of(storage_options, path)
    if is_file_object(path, "read"):
        start = path.tell() if path.seekable() else None
        data = path.read()
        if isinstance(data, str):
            raise DTypeError(f"load: {file_object_name(path)} is a text file object; open the file in binary mode ('rb')")
        columns, archive, end = _ext.load_npy_or_npz_bytes(bytes(data), file_object_name(path), options)
        if archive is None and start is not None:
            path.seek(start + end)
    else:
        # Opened once, in C++: a FIFO or pipe can be read only once.
        columns, archive, _ = _ext.load_npy_or_npz(fspath(path, "load"), options)
    return NpzFile._wrap(archive) if archive is not None else _unwrap(columns)


def read_npy_header(
    path: PathLike, *, void2_as_bfloat16: bool = _LOAD.void2_as_bfloat16, max_header_size: int = _MAX_HEADER_SIZE,
    storage_options: Mapping[str, Any] | None = None,
) -> Any:
    """The parsed header of a ``.npy`` file, without reading the data.

    The result has the attributes ``shape``, ``dtype``, ``descr``, ``fortran_order``,
    ``byteswapped``, ``fields`` (structured arrays), ``major_version`` and ``data_offset``.

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "x.npy")
        >>> np.save(path, np.zeros((3, 4), dtype=">f4"))
        >>> h = tb.read_npy_header(path)
        >>> h.shape, h.dtype, h.descr, h.byteswapped, h.data_offset
        ([3, 4], 'float32', '>f4', True, 128)
        >>> tmp.cleanup()
    """
    options = _load_options(False, False, False, void2_as_bfloat16, max_header_size)
    if storage_options is not None or is_remote_path(path):
        options.storage = storage_options_of(storage_options, path)
    return _ext.read_npy_header(fspath(path, "read_npy_header"), options)


def _as_tensor(x: Any, dtype: Any) -> _ext.Tensor:
    return (x if isinstance(x, Tensor) and dtype is None else asarray(x, dtype=dtype))._c


def save(path: PathLike | Any, x: Any, *, dtype: Any = None, version: int = 0,
         storage_options: Mapping[str, Any] | None = None) -> None:
    """Writes ``x`` (anything :func:`tensorbridge.asarray` accepts) to ``path`` as ``np.save`` does.

    The header is byte for byte NumPy's; a Fortran-contiguous array is written in Fortran order
    without a copy. ``dtype`` converts first (same-kind casting). ``version`` 0 picks the format
    version as NumPy does (1.0, or 2.0 for headers over 64 KiB). ``path`` may be a binary file
    object (written at its position, as ``np.save`` does). Saving to a path is atomic (see the
    module notes): a failure leaves the old file as it was. An ``s3://bucket/key`` path is
    uploaded (``storage_options`` as in :func:`load`): one PUT for small arrays, a multipart upload
    for large ones, aborted on failure so nothing partial becomes visible.

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "x.npy")
        >>> tb.save(path, [[1.5, 2.5]], dtype="float64")
        >>> np.load(path)
        array([[1.5, 2.5]])
        >>> tmp.cleanup()
    """
    options = _ext.NpySaveOptions()
    options.version = version
    options.validate()
    if storage_options is not None or is_remote_path(path):
        options.storage = storage_options_of(storage_options, path)
    if is_file_object(path, "write"):
        _ext.save_npy_to(path.write, _as_tensor(x, dtype), options)
    else:
        _ext.save_npy(fspath(path, "save"), _as_tensor(x, dtype), options)


def save_npz(
    path: PathLike | Any,
    arrays: Mapping[str, Any],
    *,
    compress: bool = False,
    compression_level: int = -1,
    dtype: Any = None,
    storage_options: Mapping[str, Any] | None = None,
) -> None:
    """Writes ``arrays`` (name -> array-like) to an ``.npz`` archive, one ``name.npy`` member each.

    ``compress`` deflates the members (``np.savez_compressed``) at zlib ``compression_level``
    (1-9, -1 = zlib's default); ``dtype`` converts every array first. ``path`` may be a binary
    file object. Saving to a path is atomic (see the module notes).

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "data.npz")
        >>> tb.save_npz(path, {"x": np.ones((2, 2)), "y": [0, 1]}, compress=True, dtype="float32")
        >>> with np.load(path) as f:
        ...     sorted(f.keys()), f["y"]
        (['x', 'y'], array([0., 1.], dtype=float32))
        >>> tmp.cleanup()
    """
    options = _ext.NpzSaveOptions()
    options.compress = compress
    options.compression_level = compression_level
    options.validate()
    if storage_options is not None or is_remote_path(path):
        options.storage = storage_options_of(storage_options, path)
    items = [(str(name), _as_tensor(x, dtype)) for name, x in arrays.items()]
    if is_file_object(path, "write"):
        _ext.save_npz_to(path.write, items, options)
    else:
        _ext.save_npz(fspath(path, "save_npz"), items, options)


def _named(args: tuple[Any, ...], kwds: dict[str, Any]) -> dict[str, Any]:
    arrays = {f"arr_{i}": a for i, a in enumerate(args)}
    for name, a in kwds.items():
        if name in arrays:
            raise ValueError(f"cannot use un-named variables and keyword {name}")
        arrays[name] = a
    return arrays


def savez(path: PathLike | Any, *args: Any, **kwds: Any) -> None:
    """Writes arrays to an ``.npz`` archive as ``np.savez`` does, members stored (not compressed).

    Positional arrays are named ``arr_0``, ``arr_1``...; keyword arrays keep their names.

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "data.npz")
        >>> tb.savez(path, np.zeros(2), labels=np.arange(2))
        >>> tb.load(path).files
        ['arr_0', 'labels']
        >>> tmp.cleanup()
    """
    save_npz(path, _named(args, kwds))


def savez_compressed(path: PathLike | Any, *args: Any, **kwds: Any) -> None:
    """Writes arrays to an ``.npz`` archive as ``np.savez_compressed`` does: :func:`savez`, deflated.

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "data.npz")
        >>> tb.savez_compressed(path, x=np.zeros(1000))
        >>> os.path.getsize(path) < 1000
        True
        >>> tmp.cleanup()
    """
    save_npz(path, _named(args, kwds), compress=True)


class AtomicFile:
    """A file written whole or not at all: :func:`open_atomic`'s result (a writable file object)."""

    def __init__(self, path: PathLike, text: bool) -> None:
        self._writer = _ext.AtomicWriter(fspath(path, "open_atomic"))
        self._text = text

    def write(self, data: str | bytes) -> int:
        """Appends ``data`` (``str`` in text mode, encoded as UTF-8; bytes-like otherwise)."""
        self._writer.write(data.encode("utf-8") if self._text else bytes(data))
        return len(data)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self._writer.commit()
        else:
            self._writer.discard()


def open_atomic(path: PathLike, mode: str = "w") -> AtomicFile:
    """Opens ``path`` for writing (mode ``"w"`` text as UTF-8, or ``"wb"``) whole or not at all.

    The content goes to a temporary file in the same folder, renamed over ``path`` when the
    ``with`` block ends without an exception; on an exception the temporary file is removed and
    ``path`` is left as it was. :func:`save` and :func:`savez` write the same way.

    Example:
        >>> import os, pathlib, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = pathlib.Path(tmp.name, "t.csv")
        >>> with tb.io.open_atomic(path) as f:
        ...     _ = f.write("a,b\\n1,2\\n")
        >>> path.read_text()
        'a,b\\n1,2\\n'
        >>> try:
        ...     with tb.io.open_atomic(path) as f:
        ...         _ = f.write("partial")
        ...         raise KeyboardInterrupt
        ... except KeyboardInterrupt:
        ...     pass
        >>> path.read_text(), os.listdir(tmp.name)
        ('a,b\\n1,2\\n', ['t.csv'])
        >>> tmp.cleanup()
    """
    if mode not in ("w", "wb"):
        raise InvalidValueError(f'open_atomic: mode must be "w" or "wb", not {mode!r}')
    return AtomicFile(path, mode == "w")


class NpzFile(Mapping[str, Any]):
    """An open ``.npz`` archive whose members are read on access, like NumPy's ``NpzFile``.

    Opening reads only the zip directory. ``f[key]`` reads that one member (a :class:`Tensor`, or a
    ``dict`` of columns for a structured member); ``keys()``, ``in``, ``items()``, ``len()`` work as
    for a dict; use it as a context manager to close the file. Tensors already read stay valid
    after closing, memory-mapped ones too. :func:`load` opens one; ``NpzFile(path, **options)``
    takes :func:`load`'s keyword options.

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = os.path.join(tmp.name, "data.npz")
        >>> tb.savez(path, x=np.ones((4, 2)), y=np.arange(4))
        >>> with tb.NpzFile(path) as f:
        ...     len(f), "x" in f, f["x"]
        (2, True, tb.Tensor(shape=(4, 2), dtype=float64, device=cpu))
        >>> tmp.cleanup()
    """

    def __init__(self, path: PathLike, **options: Any) -> None:
        """Opens the archive at ``path``; ``options`` are :func:`load`'s (``mmap``, ...)."""
        o = _load_options(
            options.pop("mmap", _LOAD.mmap),
            options.pop("copy_on_write", _LOAD.copy_on_write),
            options.pop("keep_byte_order", _LOAD.keep_byte_order),
            options.pop("void2_as_bfloat16", _LOAD.void2_as_bfloat16),
            options.pop("max_header_size", _MAX_HEADER_SIZE),
            options.pop("verify_crc", _LOAD.verify_crc),
        )
        if options:
            raise DTypeError(f"NpzFile: unexpected options {sorted(options)}; it takes load's options (mmap, "
                             "copy_on_write, keep_byte_order, void2_as_bfloat16, max_header_size, verify_crc)")
        self._reader = _ext.NpzReader(fspath(path, "NpzFile"), o)

    @classmethod
    def _wrap(cls, reader: _ext.NpzReader) -> NpzFile:
        f = object.__new__(cls)
        f._reader = reader
        return f

    @property
    def path(self) -> str:
        """The archive's path.

        Example:
            >>> import os, tempfile
            >>> tmp = tempfile.TemporaryDirectory()
            >>> tb.savez(os.path.join(tmp.name, "a.npz"), np.zeros(1))
            >>> os.path.basename(tb.load(os.path.join(tmp.name, "a.npz")).path)
            'a.npz'
            >>> tmp.cleanup()
        """
        return self._reader.path

    @property
    def files(self) -> list[str]:
        """The array names (NumPy's spelling of ``list(keys())``).

        Example:
            >>> import os, tempfile
            >>> tmp = tempfile.TemporaryDirectory()
            >>> tb.savez(os.path.join(tmp.name, "a.npz"), x=np.zeros(1), y=np.ones(1))
            >>> tb.load(os.path.join(tmp.name, "a.npz")).files
            ['x', 'y']
            >>> tmp.cleanup()
        """
        return self._reader.keys()

    def __getitem__(self, key: str) -> Any:
        if not isinstance(key, str) or not self._reader.contains(key):
            raise KeyError(f"{key!r} is not a member of {self.path}; it holds {self._reader.keys()}")
        return _unwrap(self._reader.load_columns(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._reader.contains(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._reader.keys())

    def __len__(self) -> int:
        return len(self._reader.keys())

    def header(self, key: str) -> Any:
        """The parsed ``.npy`` header of member ``key`` (see :func:`read_npy_header`).

        Example:
            >>> import os, tempfile
            >>> tmp = tempfile.TemporaryDirectory()
            >>> tb.savez(os.path.join(tmp.name, "a.npz"), x=np.zeros((5, 2), dtype=np.uint8))
            >>> h = tb.load(os.path.join(tmp.name, "a.npz")).header("x")
            >>> h.shape, h.dtype
            ([5, 2], 'uint8')
            >>> tmp.cleanup()
        """
        return self._reader.header(key)

    def close(self) -> None:
        """Closes the archive; further member reads raise ``ValueError``.

        Example:
            >>> import os, tempfile
            >>> tmp = tempfile.TemporaryDirectory()
            >>> tb.savez(os.path.join(tmp.name, "a.npz"), x=np.zeros(2))
            >>> f = tb.load(os.path.join(tmp.name, "a.npz"))
            >>> x = f["x"]
            >>> f.close()
            >>> x.shape                          # tensors already read stay valid
            (2,)
            >>> tmp.cleanup()
        """
        self._reader.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"tb.NpzFile({self.path!r}, keys={self._reader.keys()})"


class _RecordBytes:
    """The bytes of a record array as a uint8 array of shape ``shape + (itemsize,)``, any strides,
    keeping the array alive (through ``__array_interface__``, so nothing is copied)."""

    def __init__(self, arr: Any) -> None:
        self._arr = arr
        data = arr.__array_interface__["data"]
        self.__array_interface__ = {
            "version": 3,
            "shape": (*arr.shape, arr.itemsize),
            "typestr": "|u1",
            "strides": (*arr.strides, 1),
            "data": data,
        }


def _field_dtype(base: Any, name: str) -> str:
    if base.fields is not None:
        raise DTypeError(f"field {name!r} is itself a structured type; flatten the record type first")
    try:
        return dtype_name(base.newbyteorder("=") if base.byteorder not in "=|" else base)
    except (TypeError, ValueError):
        raise DTypeError(
            f"field {name!r} has dtype {base} which tensorbridge cannot hold (numbers and bool only)"
        ) from None


def from_structured(arr: Any) -> dict[str, Tensor]:
    """A NumPy structured (record) array as one tensor per field, in field order.

    Each column is a zero-copy strided view of ``arr`` (sharing its memory, writable if ``arr`` is)
    when the record size is a multiple of the field's item size and the field is in native byte
    order; otherwise (packed records such as ``[('a', 'u1'), ('b', '<i4')]``, big-endian fields)
    it is a copy. Sub-array fields (``('xy', '<f4', (2,))``) add their dimensions at the end.

    Example:
        >>> arr = np.array([(1, 2.5), (2, 3.5)], dtype=[("id", np.int64), ("value", np.float64)])
        >>> cols = tb.from_structured(arr)
        >>> cols
        {'id': tb.Tensor(shape=(2,), dtype=int64, device=cpu), 'value': tb.Tensor(shape=(2,), dtype=float64, device=cpu)}
        >>> cols["value"].numpy()
        array([2.5, 3.5])
    """
    arr = np.asarray(arr)
    if arr.dtype.names is None:
        raise DTypeError(f"expected a structured (record) array, got dtype {arr.dtype}")
    fields = []
    for name in arr.dtype.names:
        fdt, offset = arr.dtype.fields[name][:2]
        base, subshape = fdt.subdtype if fdt.subdtype is not None else (fdt, ())
        f = _ext.RecordField()
        f.name = name
        f.dtype = _field_dtype(base, name)
        f.offset = offset
        f.subshape = list(subshape)
        f.byteswapped = base.byteorder not in "=|" and not base.isnative
        fields.append(f)
    records = asarray(_RecordBytes(arr))
    return _columns(_ext.columns_from_records(records._c, fields))

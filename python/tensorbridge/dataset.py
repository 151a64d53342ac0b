"""The input pipeline: ``tb.Dataset.from_tensor_slices((X, y)).shuffle().batch(32).prefetch(2)``.

Batches are gathered in C++ (one memcpy per row, into 64-byte aligned recycled buffers), on
background threads with the GIL released, and handed to NumPy, PyTorch, TensorFlow or JAX without
copying::

    ds = (tb.Dataset.from_tensor_slices((X, y))
            .shuffle(seed=0)
            .batch(32)
            .map(tb.ops.cast("float32"), on=0)
            .prefetch(2))
    for epoch in range(5):
        for xb, yb in ds.as_torch():      # each new iteration is the next epoch
            ...

Order: a pure function of (seed, epoch, shard), whatever the thread count or prefetch depth.
Resuming: ``it.state()`` is a small dict; ``ds.as_numpy(state=saved)`` continues exactly after
the last batch ``it`` returned.

Errors: when making a batch fails (a map function raises, a native op meets a bad value, a file
read fails), ``next()`` raises and the iterator stays just before that batch: ``state()`` counts
only the batches returned, and the next ``next()`` makes the failed batch again -- raising again
while the failure lasts, going on from there once it is gone. No batch is skipped or repeated.

Python callables given to :meth:`Dataset.map` run on the consumer thread (the one iterating),
on whole batches in the iterator's framework (torch tensors for ``as_torch``...), after the native
ops that precede them.
"""

from __future__ import annotations

import itertools
import mmap
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from . import _ext, image_dataset
from ._args import integer as _integer
from ._args import number as _number
from ._convert import asarray, to_numpy
from ._dtypes import dtype_name
from ._tensor import Tensor
from .arrow import from_arrow
from .arrow_files import mapped_fields, read_parquet
from .csv import read_csv
from .errors import CallbackError, InvalidValueError
from .frameworks._batches import exporter, unpacker
from .frameworks._distributed import world
from .frameworks._tf_data import tf_dataset
from .frameworks._torch_data import iterable_dataset
from .io import load
from .ops import Op
from .storage import is_remote_path, with_cache_dir
from .table import from_dataframe

__all__ = ["AUTOTUNE", "Dataset", "DatasetIterator"]

# The depth, threads and block bytes of tb::prefetch_options' defaults (the C++ core's).
_DEPTH, _, _BLOCK_BYTES = _ext.PREFETCH_DEFAULTS
#: Lets :meth:`Dataset.prefetch` choose its depth and thread count (the value of ``tf.data.AUTOTUNE``).
AUTOTUNE: int = _ext.AUTOTUNE


def _python_slices(data: list[Any], where: str) -> Any:
    """A (nested) list of numbers as one array, read as ``tf.data.Dataset.from_tensor_slices``
    reads it: Python ints int32 (int64 when a value needs it), Python floats float32, bools bool,
    NumPy scalars their own dtype. A list holding arrays is refused: tf.data would stack it, where
    older code meant one field per array."""
    flat = list(_flatten(data))
    if any(not isinstance(v, (bool, int, float, complex, np.generic)) for v in flat):
        raise InvalidValueError(
            f"{where}: a list is one array whose rows are the samples, and this one holds "
            f"{type(next(v for v in flat if not isinstance(v, (bool, int, float, complex, np.generic)))).__name__} "
            "values; pass a tuple (x, y) or a dict for several fields, or np.stack(...) the arrays into one")
    try:
        arr = np.asarray(data)
    except ValueError:
        arr = None
    if arr is None or arr.dtype == object:
        raise InvalidValueError(f"{where}: the list is ragged or mixes kinds of values: every row needs the same "
                                "length and every element must be a number")
    if arr.ndim == 0:
        return arr
    integers = [v for v in flat if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))]
    if len(integers) == len(flat):  # NumPy integer scalars count as ints too, as in tf.data
        info = np.iinfo(np.int32)
        fits = not flat or (info.min <= min(integers) and max(integers) <= info.max)
        arr = np.asarray(data, dtype=np.int32 if fits else np.int64)
    elif len({type(v) for v in flat}) > 1 and all(isinstance(v, (int, float, np.integer, np.floating)) for v in flat):
        arr = asarray(arr, dtype="float32").numpy()  # mixed numbers: tf.data's default float
    elif all(type(v) is float for v in flat):
        arr = asarray(data).numpy()  # tf.data's default float, float32; too large raises
    return arr


def _flatten(data: Any) -> Iterator[Any]:
    for v in data:
        if isinstance(v, list):
            yield from _flatten(v)
        else:
            yield v


def _table_dataset(table: Any, label: str | Sequence[str] | None, dtype: Any, where: str,
                   fill_value: float | None = None) -> Dataset:
    """``(features, labels)`` (or features alone) from a :class:`tensorbridge.Table`, split by the
    C++ core (``tb::split_features_labels``: the label encoding and the missing-value rules)."""
    labels = [] if label is None else [label] if isinstance(label, str) else [str(n) for n in label]
    features, y = table._c.split_features_labels(labels, None if dtype is None else dtype_name(dtype),
                                                 None if fill_value is None else _number(fill_value, where, "fill_value",
                                                                                         "or None"), where)
    if y is None:
        return Dataset.from_tensor_slices(Tensor._wrap(features))
    return Dataset.from_tensor_slices((Tensor._wrap(features), Tensor._wrap(y)))


class _MappedFile:
    """A read-only ``np.memmap`` to open again where a pickled data set is unpickled."""

    def __init__(self, a: Any) -> None:
        order = "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"
        self.args = (a.filename, a.dtype, a.offset, a.shape, order)

    def open(self) -> Any:
        filename, dtype, offset, shape, order = self.args
        return np.memmap(filename, dtype=dtype, mode="r", offset=offset, shape=shape, order=order)


def _portable(data: Any) -> Any:
    """A ``from_tensor_slices`` argument in a form to pickle: NumPy arrays as they are, whole
    ``np.memmap`` files by name, other arrays (torch, TensorFlow, JAX, ``tb.Tensor``) as NumPy."""
    if isinstance(data, Mapping):
        return {k: _portable(v) for k, v in data.items()}
    if isinstance(data, (tuple, list)):
        return type(data)(_portable(v) for v in data)
    if isinstance(data, np.memmap) and isinstance(data.base, mmap.mmap) and data.filename:
        return _MappedFile(data)  # the whole mapping: offset and shape describe it exactly
    if isinstance(data, (np.ndarray, np.generic, bool, int, float, complex)):
        return data
    return to_numpy(data)


def _opened(data: Any) -> Any:
    """Undoes :func:`_portable` where the data set is unpickled."""
    if isinstance(data, dict):
        return {k: _opened(v) for k, v in data.items()}
    if isinstance(data, (tuple, list)):
        return type(data)(_opened(v) for v in data)
    return data.open() if isinstance(data, _MappedFile) else data


def _rebuild(source: str, args: tuple[Any, ...], kwargs: dict[str, Any], stages: tuple[Any, ...]) -> Dataset:
    """Unpickles a data set: its source call, then each stage again."""
    if source not in ("from_tensor_slices", "from_npy", "from_arrow_files", "from_files", "from_image_folder"):
        raise InvalidValueError(f"cannot unpickle a data set made by {source!r}")
    if source == "from_tensor_slices":
        args = (_opened(args[0]),)
    ds = getattr(Dataset, source)(*args, **kwargs)
    for name, a, kw in stages:
        ds = getattr(ds, name)(*a, **kw)
    return ds


def _name(fn: Any) -> str:
    """How error messages name a map function."""
    return str(getattr(fn, "__name__", fn))


def _seed_slices(block: Any) -> list[Any]:
    """The per-sample seeds of each batch of a block, as NumPy uint64 arrays."""
    seeds = Tensor._wrap(block.seeds).numpy()
    bounds = list(itertools.accumulate(block.sizes, initial=0))
    return [seeds[a:b] for a, b in itertools.pairwise(bounds)]


class Dataset:
    """An immutable pipeline description; every method returns a new Dataset.

    Stages always run in this order, whatever the order of the calls: source, take/skip, shuffle,
    take/skip, shard, batch, take/skip (in batches), native maps, Python maps, repeat, take.
    ``shuffle``/``shard`` after ``batch`` raise ``ValueError`` rather than mean something else.
    Make one with :meth:`from_tensor_slices` or :meth:`from_npy`; iterating it gives NumPy batches,
    :meth:`as_torch`, :meth:`as_tf`, :meth:`as_jax` the other frameworks'.

    Example:
        >>> X, y = np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5)
        >>> ds = tb.Dataset.from_tensor_slices((X, y)).shuffle(seed=0).batch(2).prefetch(2)
        >>> ds
        tb.Dataset(5 samples, 3 batches per epoch, fields=['0', '1'])
        >>> for xb, yb in ds:
        ...     print(xb.shape, yb)
        (2, 2) [4 0]
        (2, 2) [3 1]
        (1, 2) [2]
    """

    __slots__ = ("_c", "_kind", "_names", "_steps", "_prefetch", "_recipe", "_images", "__weakref__")

    def __init__(self) -> None:
        """Data sets come from :meth:`from_tensor_slices`, :meth:`from_npy`, :meth:`from_csv` or
        :meth:`from_dataframe`; this constructor only says so."""
        raise TypeError("make a tb.Dataset with Dataset.from_tensor_slices(...), from_npy(...), from_csv(...) "
                        "or from_dataframe(...)")

    @classmethod
    def _make(cls, c: _ext.Dataset, kind: str, names: tuple[str, ...], recipe: tuple[Any, ...],
              steps: tuple[Any, ...] = (), prefetch: tuple[int, int, int] = (0, 0, _BLOCK_BYTES)) -> Dataset:
        self = object.__new__(cls)
        self._c = c
        self._kind = kind  # "single", "tuple" or "dict": the structure of each element
        self._names = names
        self._steps = steps  # (fn_or_Op, field indices or None, seeded) applied in Python after the C++ batch
        self._prefetch = prefetch
        # How to build this data set again in another process: the source call, then each stage's
        # (method, args, kwargs) with its arguments resolved (the seed drawn, the shard chosen).
        self._recipe = recipe
        self._images = None  # an image_dataset.ImageFolderInfo for data sets of image files
        return self

    def _with(self, c: _ext.Dataset | None = None, *, call: tuple[Any, ...], **kw: Any) -> Dataset:
        args = {"steps": self._steps, "prefetch": self._prefetch, **kw}
        ds = Dataset._make(self._c if c is None else c, self._kind, self._names, (*self._recipe, call), **args)
        ds._images = self._images
        return ds

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles the recipe (source arrays or ``.npy`` paths, stages, seed), never batches: a
        ``from_npy`` or ``np.memmap`` source is opened again from its file where it is unpickled
        (DataLoader workers), so its data is not copied into the pickle.

        Example:
            >>> import pickle
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(6)).shuffle(seed=3).batch(4)
            >>> [b.tolist() for b in pickle.loads(pickle.dumps(ds))] == [b.tolist() for b in ds]
            True
        """
        (source, args, kwargs), *stages = self._recipe
        if source == "from_tensor_slices":
            args = (_portable(args[0]),)
        return (_rebuild, (source, args, kwargs, tuple(stages)))

    # ----------------------------------------------------------------------------- sources
    @staticmethod
    def from_tensor_slices(data: Any) -> Dataset:
        """A data set whose samples are the rows of ``data``: one array, a tuple of arrays, or a
        dict of arrays (NumPy, memmap, torch, TensorFlow, JAX, ``tb.Tensor``...). A
        :class:`tensorbridge.Table` is a dict of its columns (:meth:`tensorbridge.Table.to_numpy`'s).

        The arrays are borrowed zero-copy (kept alive by the data set), never copied whole; every
        first dimension must agree. Elements keep the structure of ``data`` (tuple, dict or array).
        As in ``tf.data``, a Python list is one array (``[1, 2, 3]`` is three scalar samples,
        ``[[1, 2], [3, 4]]`` two rows), read with tf.data's dtypes: ints int32 (int64 when a value
        needs it), floats float32. A list of arrays is refused: pass a tuple for several fields.

        Example:
            >>> ds = tb.Dataset.from_tensor_slices({"x": np.zeros((5, 2)), "y": np.arange(5)})
            >>> ds.element_spec
            {'x': ('float64', (2,)), 'y': ('int64', ())}
            >>> next(iter(ds.batch(2)))["y"]
            array([0, 1])
        """
        if hasattr(data, "_slices"):  # a tb.Table: a dict of its columns, as tf.data's dict(df)
            data = data._slices()
        if isinstance(data, Mapping):
            kind, names, arrays = "dict", tuple(str(k) for k in data), list(data.values())
        elif isinstance(data, tuple):
            kind, names, arrays = "tuple", tuple(str(i) for i in range(len(data))), list(data)
        else:
            kind, names, arrays = "single", ("0",), [data]
        arrays = [_python_slices(a, "from_tensor_slices") if isinstance(a, list) else a for a in arrays]
        fields = [(n, asarray(a)._c, []) for n, a in zip(names, arrays)]
        return Dataset._make(_ext.Dataset.from_tensor_slices(fields), kind, names, (("from_tensor_slices", (data,), {}),))

    @staticmethod
    def from_npy(paths: Any, mmap: bool = True, keep_resident: bool = False,
                 storage_options: Mapping[str, Any] | None = None, cache_dir: Any = None) -> Dataset:
        """A data set over ``.npy`` files, memory-mapped by default (larger than RAM is fine: only
        the rows of each batch are read).

        ``keep_resident`` says how the rows of mapped files are read:

        - ``False`` (default): with positioned reads (``preadv``) from the file straight into the
          batch buffers. The mapping is never touched, so the process's RSS stays at the batch
          buffers whatever the file size (the file still goes through the kernel's page cache,
          which does not count in RSS). A file truncated or unreadable after it was opened raises
          ``tb.ReadError`` naming the file, byte offset and row.
        - ``True``: through the mapping. Every page touched stays mapped into the process (RSS
          ``RssFile``) for the life of the data set: after a shuffled epoch, the whole file.
          About 4x faster for small rows while the files fit in RAM, but a file truncated while
          the data set is open then kills the process (SIGBUS), as with ``np.memmap``.

        ``paths`` is one field or a tuple/dict of fields; a field is one path, or a *list* of paths
        concatenated along axis 0 (shards of one array, never copied together)::

            tb.Dataset.from_npy((["x0.npy", "x1.npy"], ["y0.npy", "y1.npy"]))
            tb.Dataset.from_npy({"image": "images.npy", "label": "labels.npy"})

        Remote paths (``s3://bucket/key``, ``https://...``) are read into memory with parallel
        ranged requests (``storage_options`` as in :func:`tensorbridge.load`); ``mmap`` applies
        to local files only. ``cache_dir`` keeps them in a local folder for later runs (see
        :func:`tensorbridge.load`).

        Example:
            >>> import os, tempfile
            >>> tmp = tempfile.TemporaryDirectory()
            >>> parts = [os.path.join(tmp.name, f"x{i}.npy") for i in range(2)]
            >>> np.save(parts[0], np.arange(4)); np.save(parts[1], np.arange(4, 7))
            >>> ds = tb.Dataset.from_npy(parts)                # two shards of one array
            >>> [b.tolist() for b in ds.batch(3)]
            [[0, 1, 2], [3, 4, 5], [6]]
            >>> tmp.cleanup()
        """
        storage_options = with_cache_dir(storage_options, cache_dir)

        def parts(name: str, field: Any) -> tuple[str, Any, list[Any]]:
            """(name, first part, the parts continuing it) of one field of ``.npy`` paths."""
            paths_ = field if isinstance(field, list) else [field]
            if not paths_:
                raise InvalidValueError("from_npy: a field needs at least one path")
            first, *rest = (load(p, mmap=mmap and not is_remote_path(p), storage_options=storage_options)._c
                            for p in paths_)
            return name, first, rest

        if isinstance(paths, Mapping):
            kind, names, fields = "dict", tuple(str(k) for k in paths), list(paths.values())
        elif isinstance(paths, tuple):
            kind, names, fields = "tuple", tuple(str(i) for i in range(len(paths))), list(paths)
        else:
            kind, names, fields = "single", ("0",), [paths]
        c = _ext.Dataset.from_tensor_slices([parts(n, f) for n, f in zip(names, fields)])
        extra = {"storage_options": dict(storage_options)} if storage_options is not None else {}
        recipe = (("from_npy", (paths, bool(mmap), bool(keep_resident)), extra),)
        return Dataset._make(c.keep_resident(bool(keep_resident)), kind, names, recipe)

    @staticmethod
    def from_files(paths: Sequence[Any], labels: Any = None, *, mode: str = "RGB",
                   max_pixels: int = _ext.ImageDecodeOptions.default_max_pixels, on_error: str = "raise",
                   dct_scaling: bool = False, progress: bool | None = None,
                   storage_options: Mapping[str, Any] | None = None, cache_dir: Any = None) -> Dataset:
        """A data set of image files (JPEG, PNG, WebP): elements ``(image, label)`` (``image`` alone
        without ``labels``), the image an HWC uint8 array as :func:`tensorbridge.read_image` gives
        it, decoded lazily on the pipeline's threads. Image ops mapped on field 0 ("image") fuse
        with the decode; images of different sizes batch only after a size-fixing op
        (:func:`tensorbridge.ops.resize`, ``center_crop``, ``random_resized_crop``). Paths may be
        ``s3://`` / ``https://`` objects (``storage_options`` as in :func:`tensorbridge.load`),
        fetched by the worker thread that decodes them; ``cache_dir`` keeps them in a local folder
        for later epochs (see :func:`tensorbridge.load`).
        ``on_error``, ``dct_scaling`` and ``progress``: as in :meth:`from_image_folder`.

        Example:
            >>> ds = tb.Dataset.from_files(["a.jpg", "b.png"], labels=[0, 1])      # doctest: +SKIP
            >>> ds = ds.shuffle(seed=0).map(tb.ops.resize((64, 64)), on=0).batch(2)  # doctest: +SKIP
        """
        return Dataset._from_images(image_dataset.from_files(paths, labels, mode=mode, max_pixels=max_pixels,
                                                             on_error=on_error, dct_scaling=dct_scaling,
                                                             progress=progress,
                                                             storage_options=with_cache_dir(storage_options, cache_dir)))

    @staticmethod
    def from_image_folder(root: Any, *, extensions: Sequence[str] = (".jpg", ".jpeg", ".png", ".webp"),
                          on_error: str = "raise", mode: str = "RGB",
                          max_pixels: int = _ext.ImageDecodeOptions.default_max_pixels, dct_scaling: bool = False,
                          progress: bool | None = None, storage_options: Mapping[str, Any] | None = None,
                          cache_dir: Any = None) -> Dataset:
        """A data set of ``(image, label)`` from ``root/<class>/<image>`` (torchvision's
        ``ImageFolder``, Keras' ``image_dataset_from_directory``): classes are the sorted
        subfolder names (``class_names``), labels their int64 indices, files sorted within each
        class (subfolders searched too) and kept if their name ends in one of ``extensions``.

        ``on_error="skip"`` decodes every file once when the data set is made (in C++, on one
        thread per core; JPEGs at 1/8 scale, about 60% of a full decode) and leaves out the
        files that fail: damaged or truncated data, bad CRCs, unsupported formats, unreadable
        files. The same files on every run, whatever the thread count, seed or resume point;
        ``skipped_files`` lists them with the reason. ``progress`` shows that check on stderr
        (``None``: when stderr is a terminal and it takes over a quarter of a second).
        ``"raise"`` (the default) checks nothing up front: the batch that meets such a file
        fails, naming it and what is wrong.

        ``dct_scaling=True`` decodes JPEG crops at least twice the output size at 1/2, 1/4 or 1/8
        scale by libjpeg's DCT: faster (RandomResizedCrop(112) of 500x375 JPEGs: 1.3x), but the
        result then differs from the unfused ops (decode, crop, Pillow's resize) by tens of
        levels at sharp edges (up to 42 on photographs, 0.9 on average). Off (the default), the
        fused ops equal the unfused ones within 1 LSB.

        ``root`` may be an S3 prefix (``s3://bucket/train/``): classes are its sorted sub-prefixes
        (listed with ListObjectsV2, ``storage_options`` as in :func:`tensorbridge.load`), and the
        images are fetched by the pipeline's worker threads (``cache_dir``: kept in a local folder
        for later epochs, see :func:`tensorbridge.load`).

        Example:
            >>> ds = tb.Dataset.from_image_folder("photos/train")                  # doctest: +SKIP
            >>> ds.class_names                                                     # doctest: +SKIP
            ['cat', 'dog']
            >>> ds = (ds.shuffle(seed=0).map(tb.ops.random_resized_crop(224), on=0)  # doctest: +SKIP
            ...         .map(tb.ops.random_flip(1), on=0).map(tb.ops.normalize(mean, std), on=0)
            ...         .map(tb.ops.permute(2, 0, 1), on=0).batch(64))
        """
        return Dataset._from_images(image_dataset.from_image_folder(root, extensions=extensions, on_error=on_error,
                                                                    mode=mode, max_pixels=max_pixels,
                                                                    dct_scaling=dct_scaling, progress=progress,
                                                                    storage_options=with_cache_dir(storage_options,
                                                                                                   cache_dir)))

    @staticmethod
    def _from_images(source: image_dataset.ImageSource) -> Dataset:
        ds = Dataset._make(source.native, "tuple" if len(source.names) == 2 else "single", source.names,
                           source.recipe)
        ds._images = source.info
        return ds

    @property
    def class_names(self) -> list[str]:
        """The class folder names of :meth:`from_image_folder`, in label order.

        Example:
            >>> tb.Dataset.from_image_folder("photos/train").class_names    # doctest: +SKIP
            ['cat', 'dog']
        """
        if self._images is None or self._images.class_names is None:
            raise InvalidValueError("class_names: only data sets made by Dataset.from_image_folder have classes")
        return list(self._images.class_names)

    @property
    def skipped_files(self) -> list[tuple[str, str]]:
        """``(path, reason)`` of the files :meth:`from_image_folder` or :meth:`from_files` left out
        with ``on_error="skip"``, in their order (``len`` of it: how many were skipped).

        Example:
            >>> ds = tb.Dataset.from_image_folder("photos/train", on_error="skip")  # doctest: +SKIP
            >>> ds.skipped_files                                                   # doctest: +SKIP
            [('photos/train/cat/broken.jpg', 'photos/train/cat/broken.jpg: truncated JPEG: ...')]
        """
        return [] if self._images is None else list(self._images.skipped)

    @staticmethod
    def from_csv(path: Any, label: str | Sequence[str] | None = None, dtype: Any = "float32",
                 fill_value: float | None = None, **read_csv_options: Any) -> Dataset:
        """A data set of ``(features, labels)`` rows from a CSV file (read by :func:`tensorbridge.read_csv`
        with ``read_csv_options``), or of feature rows alone when ``label`` is None.

        Features are every column but the label column(s), as one ``dtype`` matrix. A numeric
        label column keeps its dtype; a text label column becomes int64 codes of its sorted
        distinct values (as scikit-learn's ``LabelEncoder``); several label columns become one
        ``dtype`` matrix. Missing values in int or bool columns are NaN in a float ``dtype`` and
        ``fill_value`` (or an error naming the column and row) otherwise.

        Example:
            >>> import io
            >>> text = "x1,x2,species\\n1,2,cat\\n3,4,dog\\n5,6,cat\\n"
            >>> xb, yb = next(iter(tb.Dataset.from_csv(io.StringIO(text), label="species").batch(3)))
            >>> xb, yb
            (array([[1., 2.],
                   [3., 4.],
                   [5., 6.]], dtype=float32), array([0, 1, 0]))
        """
        return _table_dataset(read_csv(path, **read_csv_options), label, dtype, "from_csv", fill_value)

    @staticmethod
    def from_dataframe(df: Any, label: str | Sequence[str] | None = None, dtype: Any = "float32",
                       fill_value: float | None = None) -> Dataset:
        """A data set of ``(features, labels)`` rows from a pandas DataFrame, with the same rules as
        :meth:`from_csv` (categorical label columns give their codes).

        Example:
            >>> import pandas as pd
            >>> df = pd.DataFrame({"age": [31, 45], "height": [1.75, 1.62], "y": [1, 0]})
            >>> next(iter(tb.Dataset.from_dataframe(df, label="y").batch(2)))
            (array([[31.  ,  1.75],
                   [45.  ,  1.62]], dtype=float32), array([1, 0]))
        """
        return _table_dataset(from_dataframe(df), label, dtype, "from_dataframe", fill_value)

    @staticmethod
    def from_arrow(obj: Any, label: str | Sequence[str] | None = None, dtype: Any = "float32",
                   fill_value: float | None = None) -> Dataset:
        """A data set of ``(features, labels)`` rows from an Arrow table (pyarrow, polars, a Ray
        Data block...; see :func:`tensorbridge.from_arrow`), with the rules of :meth:`from_csv`.

        Example:
            >>> import pyarrow as pa
            >>> next(iter(tb.Dataset.from_arrow(pa.table({"x": [1.0, 2.0], "y": [1, 0]}), label="y").batch(2)))
            (array([[1.],
                   [2.]], dtype=float32), array([1, 0]))
        """
        return _table_dataset(from_arrow(obj), label, dtype, "from_arrow", fill_value)

    @staticmethod
    def from_parquet(paths: Any, columns: Sequence[str] | None = None, label: str | Sequence[str] | None = None,
                     dtype: Any = "float32", fill_value: float | None = None) -> Dataset:
        """A data set of ``(features, labels)`` rows from Parquet files (read by
        :func:`tensorbridge.read_parquet`), with the rules of :meth:`from_csv`.

        Example:
            >>> import os, tempfile, pyarrow as pa, pyarrow.parquet as pq
            >>> tmp = tempfile.TemporaryDirectory(); path = os.path.join(tmp.name, "t.parquet")
            >>> pq.write_table(pa.table({"x": [1.0, 2.0], "y": [1, 0]}), path)
            >>> next(iter(tb.Dataset.from_parquet(path, label="y").batch(2)))[1]
            array([1, 0])
            >>> tmp.cleanup()
        """
        return _table_dataset(read_parquet(paths, columns=columns), label, dtype, "from_parquet", fill_value)

    @staticmethod
    def from_arrow_files(paths: Any, columns: Sequence[str] | None = None) -> Dataset:
        """A data set over memory-mapped Arrow IPC files (Feather v2, Hugging Face ``datasets``
        cache files), one field per column, as :meth:`from_npy` over ``.npy`` shards: every
        record batch of every file is a part of its column, never copied together, and rows are
        read from the files with positioned reads, so an exact global shuffle runs with the RSS of
        the batch buffers whatever the files' size. Numeric columns without nulls only (a
        ``FixedSizeList`` column gives 2-D rows); uncompressed files.

        Example:
            >>> import os, tempfile, pyarrow as pa, pyarrow.feather as feather
            >>> tmp = tempfile.TemporaryDirectory(); path = os.path.join(tmp.name, "t.arrow")
            >>> feather.write_feather(pa.table({"x": [1.0, 2.0, 3.0], "y": [0, 1, 2]}), path, compression="uncompressed")
            >>> next(iter(tb.Dataset.from_arrow_files(path).batch(3)))["y"]
            array([0, 1, 2])
            >>> tmp.cleanup()
        """
        fields = [(name, first, rest) for name, (first, *rest) in mapped_fields(paths, columns)]
        names = tuple(name for name, _, _ in fields)
        recipe = (("from_arrow_files", (paths, columns), {}),)
        return Dataset._make(_ext.Dataset.from_tensor_slices(fields), "dict", names, recipe)

    # ----------------------------------------------------------------------------- stages
    def shuffle(self, seed: int | None = None, buffer_size: int | None = None,
                reshuffle_each_epoch: bool = True) -> Dataset:
        """Shuffles samples globally (an exact permutation, O(1) memory), anew in each epoch.

        Args:
            seed: the order is a function of (seed, epoch); ``None`` draws one at random (refused
                when sharded: every rank must draw the same order).
            buffer_size: accepted for ``tf.data`` compatibility; the shuffle is global anyway.
            reshuffle_each_epoch: ``False`` repeats the first epoch's order.

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(6)).shuffle(seed=0).batch(3)
            >>> [b.tolist() for b in ds.repeat(2)]              # a new order in the second epoch
            [[4, 0, 3], [5, 2, 1], [3, 2, 1], [5, 0, 4]]
        """
        s = _ext.draw_seed() if seed is None else _integer(seed, "shuffle", "seed", "an integer in [0, 2**64 - 1]",
                                                               0, 2**64 - 1)
        if buffer_size is not None:
            buffer_size = _integer(buffer_size, "shuffle", "buffer_size", "an integer in [1, 2**63 - 1], or None")
        return self._shuffle(s, buffer_size, bool(reshuffle_each_epoch), seed is None)

    def _shuffle(self, seed: int, buffer_size: int | None, reshuffle_each_epoch: bool, random_seed: bool) -> Dataset:
        """:meth:`shuffle` with its seed resolved (``random_seed``: drawn, not given); what an
        unpickled data set replays, so that it keeps the drawn seed and the refusals it implies."""
        c = self._c.shuffle(True, seed, random_seed, reshuffle_each_epoch, buffer_size)
        return self._with(c, call=("_shuffle", (seed, buffer_size, reshuffle_each_epoch, random_seed), {}))

    def batch(self, batch_size: int, drop_remainder: bool = False) -> Dataset:
        """Groups samples into batches of ``batch_size`` (the last one shorter unless
        ``drop_remainder``).

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(5))
            >>> [b.tolist() for b in ds.batch(2)], [b.tolist() for b in ds.batch(2, drop_remainder=True)]
            ([[0, 1], [2, 3], [4]], [[0, 1], [2, 3]])
        """
        size = _integer(batch_size, "batch", "batch_size", "an integer in [1, 2**63 - 1]")
        return self._with(self._c.batch(size, bool(drop_remainder)), call=("batch", (size, bool(drop_remainder)), {}))

    def _field_indices(self, on: Any) -> list[int]:
        if on is None:
            return list(range(len(self._names)))
        items = on if isinstance(on, (list, tuple)) else [on]
        out = []
        for item in items:
            if isinstance(item, str):
                if item not in self._names:
                    raise InvalidValueError(f"map(on={item!r}): no such field; fields are {list(self._names)}")
                out.append(self._names.index(item))
            elif isinstance(item, int) and not isinstance(item, bool):
                if not -len(self._names) <= item < len(self._names):
                    raise InvalidValueError(f"map(on={item}): field index out of range for {len(self._names)} fields")
                out.append(item % len(self._names))
            else:
                raise InvalidValueError(f"map(on={item!r}): expected a field index or name")
        return out

    def map(self, fn: Op | Callable[..., Any], on: int | str | Sequence[int | str] | None = None, *,
            seeded: bool = False) -> Dataset:
        """Applies ``fn`` to whole batches.

        Args:
            fn: a native op from :mod:`tensorbridge.ops` (runs in C++ on the worker threads), or a
                Python callable (runs on the consumer thread, on batches in the iterator's
                framework; it must keep the batch dimension).
            on: the field(s) to apply ``fn`` to, by index or name; ``None``: a native op applies
                to every field, a callable receives the whole element (tuple/dict/array) and
                returns one of the same structure.
            seeded: for random augmentation in a callable: it is called as ``fn(batch, seeds)``
                with a NumPy uint64 array of one seed per sample, a pure function of (shuffle
                seed, epoch, sample index) -- e.g. ``np.random.default_rng(seeds)`` -- so the
                result does not depend on threads, prefetching or batch makeup. Native random
                ops (:func:`tensorbridge.ops.random_flip`) are always seeded this way.

        Example:
            >>> X, y = np.arange(8, dtype=np.uint8).reshape(4, 2), np.array([0, 1, 1, 0])
            >>> ds = tb.Dataset.from_tensor_slices((X, y)).batch(2)
            >>> ds = ds.map(tb.ops.cast("float32"), on=0).map(lambda b: b * 10, on=1)
            >>> next(iter(ds))
            (array([[0., 1.],
                   [2., 3.]], dtype=float32), array([ 0, 10]))
        """
        if isinstance(fn, Op) and seeded:
            raise InvalidValueError("map(seeded=True) is for Python callables; native random ops are seeded per "
                                    "sample already")
        if isinstance(fn, Op) and not self._steps:
            return self._with(self._c.map(fn._native, self._field_indices(on)), call=("map", (fn, on), {}))
        if not callable(fn):
            raise InvalidValueError(f"map: expected a tb.ops op or a callable, got {type(fn).__name__}")
        if not self._c.batched:
            raise InvalidValueError("map(callable) before batch(): Python callables run on whole batches; "
                                    "call batch() first (or use a native tb.ops op)")
        fields = None if on is None else self._field_indices(on)
        return self._with(steps=(*self._steps, (fn, fields, bool(seeded))), call=("map", (fn, on), {"seeded": seeded}))

    def prefetch(self, buffer_size: int = _DEPTH, num_threads: int | None = None, *,
                 block_bytes: int = _BLOCK_BYTES) -> Dataset:
        """Produces up to ``buffer_size`` blocks of batches ahead on ``num_threads`` C++ threads
        (default: min(buffer_size, tb thread count), at most 1024). ``buffer_size=0`` makes them in
        ``next()``. Memory follows the blocks actually made ahead: a ``buffer_size`` larger than the
        iteration costs nothing more.

        ``tb.AUTOTUNE`` (or ``tf.data.AUTOTUNE``), as ``buffer_size`` or ``num_threads``, lets the
        C++ core choose when iteration starts (``tb::prefetch_options::resolve``): the threads are
        the hardware's (:func:`tensorbridge.num_threads`); the depth is as many blocks as fit in
        16 MiB, at least 2 and at most 4 per thread.

        A block is consecutive batches of one epoch in one buffer per field, about ``block_bytes``
        (at least one batch; ``block_bytes=0``: one batch per block): small batches then cost one
        hand-over between threads, and one export to the framework, per block. The batches, and
        their order, do not depend on ``buffer_size``, ``num_threads`` or ``block_bytes``.

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(6)).batch(2)
            >>> [b.tolist() for b in ds.prefetch(4, num_threads=2)]
            [[0, 1], [2, 3], [4, 5]]
            >>> [b.tolist() for b in ds.prefetch(tb.AUTOTUNE)]
            [[0, 1], [2, 3], [4, 5]]
        """
        options = (
            _integer(buffer_size, "prefetch", "buffer_size", "an integer in [0, 2**63 - 1], or AUTOTUNE (-1)"),
            0 if num_threads is None
            else _integer(num_threads, "prefetch", "num_threads", "an integer in [1, 1024], AUTOTUNE (-1), or None"),
            _integer(block_bytes, "prefetch", "block_bytes", "an integer in [0, 2**63 - 1]"),
        )
        _ext.validate_prefetch(*options)
        return self._with(prefetch=options, call=("prefetch", (options[0], options[1] or None), {"block_bytes": options[2]}))

    def repeat(self, count: int | None = None) -> Dataset:
        """Runs ``count`` epochs per iteration (``None``: forever), reshuffling each epoch.

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(3)).batch(2).repeat(2)
            >>> len(ds), [b.tolist() for b in ds]
            (4, [[0, 1], [2], [0, 1], [2]])
        """
        n = -1 if count is None else _integer(count, "repeat", "count", "None, -1 (forever) or an integer in [0, 2**63 - 1]")
        return self._with(self._c.repeat(n), call=("repeat", (None if n < 0 else n,), {}))

    def take(self, count: int) -> Dataset:
        """Keeps the first ``count`` samples (before ``batch``), batches (after it) or batches of
        the whole iteration (after ``repeat``).

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(6))
            >>> [b.tolist() for b in ds.take(3).batch(2)], [b.tolist() for b in ds.batch(2).take(1)]
            ([[0, 1], [2]], [[0, 1]])
        """
        n = _integer(count, "take", "count", "-1 (all) or an integer in [0, 2**63 - 1]")
        return self._with(self._c.take(n), call=("take", (n,), {}))

    def skip(self, count: int) -> Dataset:
        """Skips the first ``count`` samples (before ``batch``) or batches (after it).

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(6))
            >>> [b.tolist() for b in ds.skip(4).batch(2)], [b.tolist() for b in ds.batch(2).skip(2)]
            ([[4, 5]], [[4, 5]])
        """
        n = _integer(count, "skip", "count", "an integer in [0, 2**63 - 1]")
        return self._with(self._c.skip(n), call=("skip", (n,), {}))

    def shard(self, num_shards: int | None = None, index: int | None = None, *, padding: str = "wrap",
              distributed: Any = None) -> Dataset:
        """Keeps this rank's part of every epoch: disjoint across ranks, complete together, and
        the same number of steps on every rank.

        Args:
            num_shards, index: the world size and this rank.
            padding: ``"wrap"`` (default, as torch's ``DistributedSampler``: repeat the first
                samples of the epoch), ``"drop"`` (drop the last samples) or ``"uneven"``.
            distributed: instead of ``num_shards``/``index``: ``"auto"`` (torch.distributed if
                initialised, else JAX's process index/count, else one shard), ``"torch"``,
                ``"jax"``, or a ``tf.distribute.InputContext``.

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(6)).shuffle(seed=0)
            >>> [b.tolist() for b in ds.shard(2, 0).batch(3)], [b.tolist() for b in ds.shard(2, 1).batch(3)]
            ([[4, 3, 2]], [[0, 5, 1]])
        """
        if distributed is not None:
            if num_shards is not None or index is not None:
                raise InvalidValueError("shard: pass either num_shards/index or distributed, not both")
            num_shards, index = world(distributed)
        if num_shards is None or index is None:
            raise InvalidValueError("shard: pass num_shards and index, or distributed='auto'")
        num_shards = _integer(num_shards, "shard", "num_shards", "an integer in [1, 2**63 - 1]")
        index = _integer(index, "shard", "index", "an integer in [0, num_shards - 1]")
        return self._with(self._c.shard(num_shards, index, padding), call=("shard", (num_shards, index), {"padding": padding}))

    # ----------------------------------------------------------------------------- facts
    @property
    def element_spec(self) -> Any:
        """Per-sample ``(dtype, shape)`` of each field, in the element's structure (before Python
        callables).

        Example:
            >>> tb.Dataset.from_tensor_slices((np.zeros((4, 3), np.float32), np.arange(4))).element_spec
            (('float32', (3,)), ('int64', ()))
        """
        specs = [(d, tuple(s)) for _, d, s in self._c.element_spec]
        return self._structure(specs)

    @property
    def batches_per_epoch(self) -> int:
        """Batches (samples when unbatched) per epoch on this shard.

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(10))
            >>> ds.batches_per_epoch, ds.batch(4).batches_per_epoch, ds.shard(2, 0).batches_per_epoch
            (10, 3, 5)
        """
        return self._c.batches_per_epoch

    def __len__(self) -> int:
        """Batches (samples when unbatched) per iteration, over every epoch (``TypeError`` if it
        repeats forever)."""
        n = self._c.iteration_length
        if n < 0:
            raise TypeError("len() of a data set that repeats forever")
        return n

    def __repr__(self) -> str:
        return (f"tb.Dataset({self._c.source_size} samples, {self._c.batches_per_epoch} "
                f"{'batches' if self._c.batched else 'samples'} per epoch, fields={list(self._names)})")

    def _structure(self, items: Sequence[Any]) -> Any:
        if self._kind == "single":
            return items[0]
        if self._kind == "tuple":
            return tuple(items)
        return dict(zip(self._names, items))

    # ----------------------------------------------------------------------------- iteration
    def _iterate(self, framework: str, state: Mapping[str, Any] | None) -> DatasetIterator:
        if state is None:
            it = self._c.iterate(*self._prefetch)
        else:
            it = self._c.resume(self._state_from_dict(state), *self._prefetch)
        return DatasetIterator(self, it, framework)

    def _iterate_part(self, framework: str, epoch: int, index: int, count: int) -> DatasetIterator:
        """Part ``index`` of ``count`` of the iteration starting at ``epoch``: its batches
        ``index``, ``index + count``... (one DataLoader worker's share)."""
        return DatasetIterator(self, self._c.iterate_part(epoch, count, index, *self._prefetch), framework)

    @staticmethod
    def _state_from_dict(state: Mapping[str, Any]) -> _ext.IteratorState:
        """A saved state dict as the C++ state (``tb::iterator_state::from_record`` reads it)."""
        if not isinstance(state, Mapping):
            raise InvalidValueError(f"state must be a dict returned by iterator.state(); got {state!r}")
        record = [(str(key), value if isinstance(value, str) else
                   _integer(value, "resume", f"the state's {key!r}", "an integer in [-2**63, 2**64 - 1]",
                            -(2**63), 2**64 - 1))
                  for key, value in state.items()]
        return _ext.IteratorState.from_record(record)

    def as_numpy(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of NumPy batches (zero-copy); ``state`` resumes a saved iteration.

        Iterating the data set itself does the same.

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(6)).shuffle(seed=1).batch(2)
            >>> it = ds.as_numpy()
            >>> next(it)
            array([0, 5])
            >>> saved = it.state()
            >>> [b.tolist() for b in ds.as_numpy(state=saved)]    # the rest of the epoch
            [[1, 2], [4, 3]]
        """
        return self._iterate("numpy", state)

    def as_torch(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of torch tensors (zero-copy, through DLPack); ``state`` as in :meth:`as_numpy`.

        Example:
            >>> ds = tb.Dataset.from_tensor_slices((np.zeros((4, 2), np.float32), np.arange(4))).batch(2)
            >>> next(ds.as_torch())
            (tensor([[0., 0.],
                    [0., 0.]]), tensor([0, 1]))
        """
        return self._iterate("torch", state)

    def as_tf(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of TensorFlow tensors (zero-copy through DLPack; batches are aligned).

        Example:
            >>> next(tb.Dataset.from_tensor_slices(np.arange(4)).batch(2).as_tf())
            <tf.Tensor: shape=(2,), dtype=int64, numpy=array([0, 1])>
        """
        return self._iterate("tensorflow", state)

    def as_jax(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of JAX arrays (64-bit fields narrow as ``jnp.asarray`` would, checked).

        Example:
            >>> next(tb.Dataset.from_tensor_slices(np.arange(4)).batch(2).as_jax())
            Array([0, 1], dtype=int32)
        """
        return self._iterate("jax", state)

    def as_tensors(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of :class:`tensorbridge.Tensor` batches.

        Example:
            >>> next(tb.Dataset.from_tensor_slices(np.arange(4)).batch(2).as_tensors())
            tb.Tensor(shape=(2,), dtype=int64, device=cpu)
        """
        return self._iterate("tb", state)

    def __iter__(self) -> Iterator[Any]:
        """A new iteration of NumPy batches (the next epoch), as :meth:`as_numpy`."""
        return self.as_numpy()

    def to_tf_dataset(self) -> Any:
        """A ``tf.data.Dataset`` (via ``from_generator``, with its cardinality set) that
        ``model.fit`` accepts; each of its iterations is a new epoch of this data set. Pass
        ``shuffle=False`` to ``fit``: the pipeline shuffles.

        Example:
            >>> tds = tb.Dataset.from_tensor_slices(np.arange(4)).batch(2).to_tf_dataset()
            >>> tds.element_spec, [b.numpy().tolist() for b in tds]
            (TensorSpec(shape=(None,), dtype=tf.int64, name=None), [[0, 1], [2, 3]])
        """
        return tf_dataset(self)

    def _first_batch(self) -> Any:
        """The first batch of epoch 0 in NumPy, Python callables applied (what they output)."""
        probe = DatasetIterator(self, self._c.resume(self._c.initial_state(0), 0, 0, 0), "numpy")
        try:
            return next(probe)
        finally:
            probe.close()

    def to_torch(self) -> Any:
        """A ``torch.utils.data.IterableDataset`` yielding torch batches; use it with
        ``DataLoader(ds, batch_size=None)`` (batching and threads are already done here).

        It pickles (as its recipe, see :meth:`__reduce__`), so ``num_workers=k`` works with every
        start method (fork, spawn, forkserver): worker ``i`` keeps batches ``i, i + k, ...`` of
        the iteration (C++ ``dataset::iterate_part``: it makes no other batch), so the DataLoader's
        round robin yields every sample exactly once per epoch, in the order of ``num_workers=0``.
        In workers the epoch comes from the DataLoader's seed for the iteration (shared by its
        workers, new each iteration, reproducible under ``torch.manual_seed``), so epochs are
        reshuffled as with ``num_workers=0``, in another order.

        Example:
            >>> import torch
            >>> loader = torch.utils.data.DataLoader(
            ...     tb.Dataset.from_tensor_slices(np.arange(4)).batch(2).to_torch(), batch_size=None)
            >>> len(loader), list(loader)
            (2, [tensor([0, 1]), tensor([2, 3])])
        """
        return iterable_dataset(self)


class DatasetIterator:
    """One iteration over a :class:`Dataset`: ``next()`` returns a ready batch; ``state()`` says
    where it stands. Close it (or use ``with``) to stop its threads early; deleting it does too.
    :meth:`Dataset.as_numpy` and its siblings make one; ``len(it)`` is the number of batches left.

    Example:
        >>> ds = tb.Dataset.from_tensor_slices(np.arange(6)).batch(2).prefetch(2)
        >>> with ds.as_numpy() as it:
        ...     first = next(it)
        ...     print(first, len(it))
        [0 1] 2
    """

    __slots__ = ("_ds", "_it", "_export", "_unpack", "_steps", "_seeded", "_kind", "_names", "_framework", "_block",
                 "_count", "_batches", "_seeds", "_index", "_plain", "_position", "_closed", "__weakref__")

    def __init__(self, ds: Dataset, it: _ext.DatasetIterator, framework: str) -> None:
        """Internal: iterators come from :meth:`Dataset.as_numpy`, :meth:`Dataset.as_torch`..."""
        self._ds = ds
        self._it = it
        self._export = exporter(framework)
        self._unpack = unpacker(framework, self._export)
        self._steps = ds._steps
        self._seeded = any(seeded or (isinstance(fn, Op) and fn.is_random) for fn, _, seeded in self._steps)
        self._kind = ds._kind
        self._names = ds._names
        self._framework = framework
        self._plain = self._kind == "tuple" and not self._steps  # a batch's tuple is the element itself
        # The block being handed out: its batches (unpacked on first use), their seeds, the next one.
        self._block: Any = None
        self._count = 0
        self._batches: Sequence[tuple[Any, ...]] | None = None
        self._seeds: list[Any] | None = None
        self._index = 0
        self._position = it.state().yielded  # batches of the iteration delivered so far
        self._closed = False

    def __iter__(self) -> DatasetIterator:
        return self

    def __next__(self) -> Any:
        # A batch counts as delivered only once it is finished: if unpacking it or a map function
        # raises, the iterator stays before it and the next call makes it again (state() agrees).
        if self._block is None:
            if self._closed:
                raise StopIteration
            block = self._it.next_block()
            if block is None:
                raise StopIteration
            self._block, self._count, self._batches, self._seeds, self._index = block, block.count(), None, None, 0
        if self._batches is None:
            self._batches = self._unpack(self._block)
            if self._seeded:
                self._seeds = _seed_slices(self._block)
        i = self._index
        raw = self._batches[i]
        element = raw if self._plain else self._finish(raw, None if self._seeds is None else self._seeds[i])
        self._advance()
        return element

    def _advance(self) -> None:
        self._index += 1
        self._position += 1
        if self._index == self._count:
            self._block = self._batches = self._seeds = None

    def _finish(self, items: Sequence[Any], seeds: Any = None) -> Any:
        """Applies the Python steps to one batch and gives it the data set's structure."""
        for fn, fields, seeded in self._steps:
            random = seeded or (isinstance(fn, Op) and fn.is_random)
            try:
                items = self._apply(fn, fields, list(items), seeds if random else None)
            except StopIteration as e:  # PEP 479: it would otherwise end the iteration silently
                raise CallbackError(f"map({_name(fn)!r}) raised StopIteration; a map function must return a batch "
                                    "(the iteration ends by itself after the last one)") from e
        if self._kind == "single":
            return items[0]
        if self._kind == "tuple":
            return tuple(items)
        return dict(zip(self._names, items))

    def _apply(self, fn: Any, fields: list[int] | None, items: list[Any], seeds: Any) -> list[Any]:
        """One Python step on one batch; ``seeds`` (one per sample) when the step is seeded."""
        rows = items[0].shape[0] if items and len(items[0].shape) else None
        if isinstance(fn, Op):
            targets = range(len(items)) if fields is None else fields
            out = list(items)
            for f in targets:
                out[f] = self._export(fn(out[f], seeds)._c)
            return out
        call = fn if seeds is None else (lambda x: fn(x, seeds))
        if fields is not None:
            out = list(items)
            for f in fields:
                out[f] = call(out[f])
                self._check(fn, out[f], rows, self._names[f])
            return out
        whole = items[0] if self._kind == "single" else (
            tuple(items) if self._kind == "tuple" else dict(zip(self._names, items)))
        result = call(whole)
        if self._kind == "single":
            new = [result]
        elif self._kind == "tuple":
            if not isinstance(result, (tuple, list)) or len(result) != len(items):
                raise InvalidValueError(f"map({_name(fn)!r}) must return a tuple of {len(items)} "
                                        f"batches like its input, got {type(result).__name__}")
            new = list(result)
        else:
            if not isinstance(result, Mapping) or set(result) != set(self._names):
                raise InvalidValueError(f"map({_name(fn)!r}) must return a dict with keys "
                                        f"{list(self._names)}, got {type(result).__name__}")
            new = [result[n] for n in self._names]
        for name, value in zip(self._names, new):
            self._check(fn, value, rows, name)
        return new

    @staticmethod
    def _check(fn: Any, value: Any, rows: int | None, name: str) -> None:
        shape = getattr(value, "shape", None)
        if shape is None or len(shape) == 0 or (rows is not None and shape[0] != rows):
            raise InvalidValueError(
                f"map({_name(fn)!r}) returned shape {None if shape is None else tuple(shape)} "
                f"for field {name!r}, but the batch has {rows} rows; callables must keep the batch dimension first")

    def state(self) -> dict[str, Any]:
        """Where the iteration stands: a small dict (seed, epoch, cursor, shard...) that
        ``Dataset.as_*(state=...)`` resumes from, right after the last batch returned.

        Example:
            >>> ds = tb.Dataset.from_tensor_slices(np.arange(6)).shuffle(seed=1).batch(2)
            >>> it = ds.as_numpy()
            >>> _ = next(it)
            >>> state = it.state()
            >>> state["epoch"], state["cursor"]
            (0, 1)
            >>> next(it), next(ds.as_numpy(state=state))      # the same next batch
            (array([1, 2]), array([1, 2]))
        """
        return dict(self._it.state_at(self._position).to_record())

    def __len__(self) -> int:
        """Batches left (``TypeError`` if the iteration repeats forever)."""
        n = self._it.remaining()
        if n < 0:
            raise TypeError("len() of an iterator that repeats forever")
        if self._closed:
            return 0
        return n + self._it.state().yielded - self._position  # plus what is left of the current block

    def close(self) -> None:
        """Stops the worker threads; later ``next()`` calls raise ``StopIteration``.

        Example:
            >>> it = tb.Dataset.from_tensor_slices(np.arange(6)).batch(2).prefetch(2).as_numpy()
            >>> next(it)
            array([0, 1])
            >>> it.close()
            >>> list(it)
            []
        """
        self._closed = True
        self._block = self._batches = self._seeds = None
        self._it.close()

    def __enter__(self) -> DatasetIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        it = getattr(self, "_it", None)
        if it is not None:
            it.close()

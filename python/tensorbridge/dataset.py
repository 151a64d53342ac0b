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

Python callables given to :meth:`Dataset.map` run on the consumer thread (the one iterating),
on whole batches in the iterator's framework (torch tensors for ``as_torch``...), after the native
ops that precede them.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from . import _ext
from .errors import InvalidValueError
from .ops import Op

__all__ = ["Dataset", "DatasetIterator"]

_STATE_KEYS = ("seed", "epoch", "cursor", "first_epoch", "yielded", "num_shards", "shard_index")
_STATE_VERSION = 1


class _ZeroCopyPlan:
    """Stands in for an export plan: pipeline batches are always contiguous, aligned, writable
    and native, so every framework aliases them."""

    zero_copy = True


_PLAN = _ZeroCopyPlan()


def _exporter(framework: str) -> Callable[[Any], Any]:
    """The cheapest zero-copy conversion of an extension tensor into ``framework``'s array."""
    from . import frameworks

    if framework == "tb":
        from ._tensor import Tensor

        return Tensor._wrap
    if framework in ("numpy", "torch"):
        export = frameworks.target(framework).export
        return lambda t: export(t, _PLAN)
    # TensorFlow and JAX may need to narrow dtypes (JAX without 64-bit mode): the general path.
    from ._convert import to_jax, to_tf
    from ._tensor import Tensor

    convert = to_tf if framework == "tensorflow" else to_jax
    return lambda t: convert(Tensor._wrap(t))


def _distributed_context(distributed: Any) -> tuple[int, int]:
    """(world size, rank) from torch.distributed, a tf.distribute.InputContext, or JAX."""
    if hasattr(distributed, "num_input_pipelines") and hasattr(distributed, "input_pipeline_id"):
        return int(distributed.num_input_pipelines), int(distributed.input_pipeline_id)
    if distributed not in ("auto", "torch", "jax"):
        raise InvalidValueError(
            f"shard(distributed={distributed!r}): expected 'auto', 'torch', 'jax' or a "
            "tf.distribute.InputContext"
        )
    if distributed in ("auto", "torch") and "torch.distributed" in sys.modules:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_world_size(), dist.get_rank()
    if distributed in ("auto", "jax") and "jax" in sys.modules:
        import jax

        return jax.process_count(), jax.process_index()
    if distributed != "auto":
        raise InvalidValueError(f"shard(distributed={distributed!r}): that framework's distributed runtime is not initialised")
    return 1, 0


class Dataset:
    """An immutable pipeline description; every method returns a new Dataset.

    Stages always run in this order, whatever the order of the calls: source, take/skip, shuffle,
    take/skip, shard, batch, take/skip (in batches), native maps, Python maps, repeat, take.
    ``shuffle``/``shard`` after ``batch`` raise ``ValueError`` rather than mean something else.
    """

    __slots__ = ("_c", "_kind", "_names", "_steps", "_prefetch", "_seed_given", "__weakref__")

    def __init__(self, c: _ext.Dataset, kind: str, names: tuple[str, ...], steps: tuple[Any, ...] = (),
                 prefetch: tuple[int, int] = (0, 0), seed_given: bool = True) -> None:
        self._c = c
        self._kind = kind  # "single", "tuple" or "dict": the structure of each element
        self._names = names
        self._steps = steps  # (fn_or_Op, field indices or None) applied in Python after the C++ batch
        self._prefetch = prefetch
        self._seed_given = seed_given

    def _with(self, c: _ext.Dataset | None = None, **kw: Any) -> Dataset:
        args = {"steps": self._steps, "prefetch": self._prefetch, "seed_given": self._seed_given, **kw}
        return Dataset(self._c if c is None else c, self._kind, self._names, **args)

    # ----------------------------------------------------------------------------- sources
    @staticmethod
    def from_tensor_slices(data: Any) -> Dataset:
        """A data set whose samples are the rows of ``data``: one array, a tuple/list of arrays,
        or a dict of arrays (NumPy, memmap, torch, TensorFlow, JAX, ``tb.Tensor``...).

        The arrays are borrowed zero-copy (kept alive by the data set), never copied whole; every
        first dimension must agree.
        """
        from ._convert import asarray

        if isinstance(data, Mapping):
            kind, names, arrays = "dict", tuple(str(k) for k in data), list(data.values())
        elif isinstance(data, (tuple, list)):
            kind, names, arrays = "tuple", tuple(str(i) for i in range(len(data))), list(data)
        else:
            kind, names, arrays = "single", ("0",), [data]
        fields = [(n, [asarray(a)._c]) for n, a in zip(names, arrays)]
        return Dataset(_ext.Dataset.from_tensor_slices(fields), kind, names)

    @staticmethod
    def from_npy(paths: Any, mmap: bool = True) -> Dataset:
        """A data set over ``.npy`` files, memory-mapped by default (larger than RAM is fine: only
        the rows of each batch are read).

        ``paths`` is one field or a tuple/dict of fields; a field is one path, or a *list* of paths
        concatenated along axis 0 (shards of one array, never copied together)::

            tb.Dataset.from_npy((["x0.npy", "x1.npy"], ["y0.npy", "y1.npy"]))
            tb.Dataset.from_npy({"image": "images.npy", "label": "labels.npy"})
        """
        from .io import load

        def parts(field: Any) -> list[Any]:
            paths_ = field if isinstance(field, list) else [field]
            if not paths_:
                raise InvalidValueError("from_npy: a field needs at least one path")
            return [load(p, mmap=mmap)._c for p in paths_]

        if isinstance(paths, Mapping):
            kind, names, fields = "dict", tuple(str(k) for k in paths), list(paths.values())
        elif isinstance(paths, tuple):
            kind, names, fields = "tuple", tuple(str(i) for i in range(len(paths))), list(paths)
        else:
            kind, names, fields = "single", ("0",), [paths]
        c = _ext.Dataset.from_tensor_slices([(n, parts(f)) for n, f in zip(names, fields)])
        return Dataset(c, kind, names)

    # ----------------------------------------------------------------------------- stages
    def shuffle(self, seed: int | None = None, buffer_size: int | None = None,
                reshuffle_each_epoch: bool = True) -> Dataset:
        """Shuffles samples globally (an exact permutation, O(1) memory), anew in each epoch.

        Args:
            seed: the order is a function of (seed, epoch); ``None`` draws one at random (refused
                when sharded: every rank must draw the same order).
            buffer_size: accepted for ``tf.data`` compatibility; the shuffle is global anyway.
            reshuffle_each_epoch: ``False`` repeats the first epoch's order.
        """
        if seed is None and self._c.num_shards > 1:
            raise InvalidValueError("shuffle(seed=None) on a sharded data set: pass an explicit seed so that "
                                    "every rank draws the same order")
        if buffer_size is not None and buffer_size <= 0:
            raise InvalidValueError(f"shuffle: buffer_size must be positive, got {buffer_size}")
        s = secrets.randbits(63) if seed is None else int(seed)
        if s < 0:
            raise InvalidValueError(f"shuffle: seed must be non-negative, got {seed}")
        c = self._c.shuffle(True, s, bool(reshuffle_each_epoch), int(buffer_size or 0))
        return self._with(c, seed_given=seed is not None)

    def batch(self, batch_size: int, drop_remainder: bool = False) -> Dataset:
        """Groups samples into batches of ``batch_size`` (the last one shorter unless
        ``drop_remainder``)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise InvalidValueError(f"batch: batch_size must be an int, got {batch_size!r}")
        return self._with(self._c.batch(batch_size, bool(drop_remainder)))

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

    def map(self, fn: Op | Callable[..., Any], on: int | str | Sequence[int | str] | None = None) -> Dataset:
        """Applies ``fn`` to whole batches.

        Args:
            fn: a native op from :mod:`tensorbridge.ops` (runs in C++ on the worker threads), or a
                Python callable (runs on the consumer thread, on batches in the iterator's
                framework; it must keep the batch dimension).
            on: the field(s) to apply ``fn`` to, by index or name; ``None``: a native op applies
                to every field, a callable receives the whole element (tuple/dict/array) and
                returns one of the same structure.
        """
        if isinstance(fn, Op) and not self._steps:
            return self._with(self._c.map(fn._native, self._field_indices(on)))
        if not callable(fn):
            raise InvalidValueError(f"map: expected a tb.ops op or a callable, got {type(fn).__name__}")
        if not self._c.batched:
            raise InvalidValueError("map(callable) before batch(): Python callables run on whole batches; "
                                    "call batch() first (or use a native tb.ops op)")
        fields = None if on is None else self._field_indices(on)
        return self._with(steps=(*self._steps, (fn, fields)))

    def prefetch(self, buffer_size: int = 2, num_threads: int | None = None) -> Dataset:
        """Produces up to ``buffer_size`` batches ahead on ``num_threads`` C++ threads (default:
        min(buffer_size, tb thread count)). ``buffer_size=0`` makes batches in ``next()``."""
        if buffer_size < 0 or (num_threads is not None and num_threads < 1):
            raise InvalidValueError(f"prefetch: buffer_size must be >= 0 and num_threads >= 1, got "
                                    f"{buffer_size} and {num_threads}")
        return self._with(prefetch=(int(buffer_size), int(num_threads or 0)))

    def repeat(self, count: int | None = None) -> Dataset:
        """Runs ``count`` epochs per iteration (``None``: forever), reshuffling each epoch."""
        return self._with(self._c.repeat(-1 if count is None else int(count)))

    def take(self, count: int) -> Dataset:
        """Keeps the first ``count`` samples (before ``batch``), batches (after it) or batches of
        the whole iteration (after ``repeat``)."""
        return self._with(self._c.take(int(count)))

    def skip(self, count: int) -> Dataset:
        """Skips the first ``count`` samples (before ``batch``) or batches (after it)."""
        return self._with(self._c.skip(int(count)))

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
        """
        if distributed is not None:
            if num_shards is not None or index is not None:
                raise InvalidValueError("shard: pass either num_shards/index or distributed, not both")
            num_shards, index = _distributed_context(distributed)
        if num_shards is None or index is None:
            raise InvalidValueError("shard: pass num_shards and index, or distributed='auto'")
        if num_shards > 1 and not self._seed_given:
            raise InvalidValueError("shard() after shuffle(seed=None): pass an explicit seed to shuffle() so that "
                                    "every rank draws the same order")
        return self._with(self._c.shard(int(num_shards), int(index), padding))

    # ----------------------------------------------------------------------------- facts
    @property
    def element_spec(self) -> Any:
        """Per-sample ``(dtype, shape)`` of each field, in the element's structure (before Python
        callables)."""
        specs = [(d, tuple(s)) for _, d, s in self._c.element_spec]
        return self._structure(specs)

    @property
    def batches_per_epoch(self) -> int:
        """Batches (samples when unbatched) per epoch on this shard."""
        return self._c.batches_per_epoch

    def __len__(self) -> int:
        epochs = self._c.epochs_per_iteration
        if epochs < 0:
            raise TypeError("len() of a data set that repeats forever")
        return self._c.batches_per_epoch * epochs

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
        depth, threads = self._prefetch
        if state is None:
            it = self._c.iterate(depth, threads)
        else:
            it = self._c.resume(self._state_from_dict(state), depth, threads)
        return DatasetIterator(self, it, framework)

    def _state_from_dict(self, state: Mapping[str, Any]) -> _ext.IteratorState:
        if not isinstance(state, Mapping) or state.get("version") != _STATE_VERSION or "fingerprint" not in state:
            raise InvalidValueError("state must be a dict returned by iterator.state() (version "
                                    f"{_STATE_VERSION}); got {state!r}")
        s = _ext.IteratorState()
        try:
            s.fingerprint = int(state["fingerprint"], 16)
            for key in _STATE_KEYS:
                setattr(s, key, int(state[key]))
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidValueError(f"state is missing or has a bad field: {e}") from None
        return s

    def as_numpy(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of NumPy batches (zero-copy); ``state`` resumes a saved iteration."""
        return self._iterate("numpy", state)

    def as_torch(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of torch tensors (zero-copy, through DLPack)."""
        return self._iterate("torch", state)

    def as_tf(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of TensorFlow tensors (zero-copy through DLPack; batches are aligned)."""
        return self._iterate("tensorflow", state)

    def as_jax(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of JAX arrays (64-bit fields narrow as ``jnp.asarray`` would, checked)."""
        return self._iterate("jax", state)

    def as_tensors(self, state: Mapping[str, Any] | None = None) -> DatasetIterator:
        """An iterator of :class:`tensorbridge.Tensor` batches."""
        return self._iterate("tb", state)

    def __iter__(self) -> Iterator[Any]:
        return self.as_numpy()

    def to_tf_dataset(self) -> Any:
        """A ``tf.data.Dataset`` (via ``from_generator``, with its cardinality set) that
        ``model.fit`` accepts; each of its iterations is a new epoch of this data set. Pass
        ``shuffle=False`` to ``fit``: the pipeline shuffles."""
        from .frameworks.tf import require

        tf = require("tensorflow")
        spec = self._tf_signature(tf)

        def generate() -> Iterator[Any]:
            with self.as_numpy() as it:
                yield from it

        out = tf.data.Dataset.from_generator(generate, output_signature=spec)
        if self._c.epochs_per_iteration >= 0:  # Keras needs the length to know where an epoch ends
            out = out.apply(tf.data.experimental.assert_cardinality(len(self)))
        return out

    def _tf_signature(self, tf: Any) -> Any:
        batch = None
        if self._c.batched and self._c.drop_remainder:
            batch = self._c.batch_size
        if not self._steps:
            specs = [tf.TensorSpec(shape=((batch,) if self._c.batched else ()) + tuple(s), dtype=d)
                     for _, d, s in self._c.element_spec]
            return self._structure(specs)
        # Python callables decide their own output: run them once on the first batch of epoch 0.
        probe = DatasetIterator(self, self._c.resume(self._c.initial_state(0), 0, 0), "numpy")
        try:
            first = next(probe)
        finally:
            probe.close()
        leaves = first if self._kind == "tuple" else (first.values() if self._kind == "dict" else [first])
        specs = [tf.TensorSpec(shape=(batch,) + tuple(x.shape[1:]), dtype=x.dtype) for x in leaves]
        return self._structure(specs)

    def to_torch(self) -> Any:
        """A ``torch.utils.data.IterableDataset`` yielding torch batches; use it with
        ``DataLoader(ds, batch_size=None)`` (batching and threads are already done here)."""
        import torch.utils.data

        source = self

        class _TorchIterable(torch.utils.data.IterableDataset):  # type: ignore[misc]
            def __iter__(self) -> Iterator[Any]:
                info = torch.utils.data.get_worker_info()
                if info is not None and info.num_workers > 1:
                    raise InvalidValueError("use DataLoader(..., num_workers=0): tensorbridge already produces "
                                            "batches on C++ threads, and extra workers would repeat samples")
                return source.as_torch()

            def __len__(self) -> int:
                return len(source)

        return _TorchIterable()


class DatasetIterator:
    """One iteration over a :class:`Dataset`: ``next()`` returns a ready batch; ``state()`` says
    where it stands. Close it (or use ``with``) to stop its threads early; deleting it does too."""

    __slots__ = ("_ds", "_it", "_export", "_steps", "_kind", "_names", "_framework", "__weakref__")

    def __init__(self, ds: Dataset, it: _ext.DatasetIterator, framework: str) -> None:
        self._ds = ds
        self._it = it
        self._export = _exporter(framework)
        self._steps = ds._steps
        self._kind = ds._kind
        self._names = ds._names
        self._framework = framework

    def __iter__(self) -> DatasetIterator:
        return self

    def __next__(self) -> Any:
        batch = self._it.next()
        if batch is None:
            raise StopIteration
        export = self._export
        if self._kind == "tuple" and not self._steps:
            return tuple(map(export, batch))
        if self._kind == "single" and not self._steps:
            return export(batch[0])
        items = [export(t) for t in batch]
        for fn, fields in self._steps:
            items = self._apply(fn, fields, items)
        if self._kind == "single":
            return items[0]
        if self._kind == "tuple":
            return tuple(items)
        return dict(zip(self._names, items))

    def _apply(self, fn: Any, fields: list[int] | None, items: list[Any]) -> list[Any]:
        rows = items[0].shape[0] if items and len(items[0].shape) else None
        if isinstance(fn, Op):
            targets = range(len(items)) if fields is None else fields
            out = list(items)
            for f in targets:
                out[f] = self._export(fn(out[f])._c)
            return out
        if fields is not None:
            out = list(items)
            for f in fields:
                out[f] = fn(out[f])
                self._check(fn, out[f], rows, self._names[f])
            return out
        whole = items[0] if self._kind == "single" else (
            tuple(items) if self._kind == "tuple" else dict(zip(self._names, items)))
        result = fn(whole)
        if self._kind == "single":
            new = [result]
        elif self._kind == "tuple":
            if not isinstance(result, (tuple, list)) or len(result) != len(items):
                raise InvalidValueError(f"map({getattr(fn, '__name__', fn)!r}) must return a tuple of {len(items)} "
                                        f"batches like its input, got {type(result).__name__}")
            new = list(result)
        else:
            if not isinstance(result, Mapping) or set(result) != set(self._names):
                raise InvalidValueError(f"map({getattr(fn, '__name__', fn)!r}) must return a dict with keys "
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
                f"map({getattr(fn, '__name__', fn)!r}) returned shape {None if shape is None else tuple(shape)} "
                f"for field {name!r}, but the batch has {rows} rows; callables must keep the batch dimension first")

    def state(self) -> dict[str, Any]:
        """Where the iteration stands: a small dict (seed, epoch, cursor, shard...) that
        ``Dataset.as_*(state=...)`` resumes from, right after the last batch returned."""
        s = self._it.state()
        out: dict[str, Any] = {"version": _STATE_VERSION, "fingerprint": format(s.fingerprint, "016x")}
        for key in _STATE_KEYS:
            out[key] = getattr(s, key)
        return out

    def __len__(self) -> int:
        """Batches left (``TypeError`` if the iteration repeats forever)."""
        n = self._it.remaining()
        if n < 0:
            raise TypeError("len() of an iterator that repeats forever")
        return n

    def close(self) -> None:
        """Stops the worker threads; later ``next()`` calls raise ``StopIteration``."""
        self._it.close()

    def __enter__(self) -> DatasetIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        it = getattr(self, "_it", None)
        if it is not None:
            it.close()

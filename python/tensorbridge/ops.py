"""Native batch operations for :meth:`tensorbridge.Dataset.map`.

Each function returns an :class:`Op` that the pipeline runs in C++ on its worker threads, on
whole batches. Shapes and axes are per sample (without the batch dimension), as in ``tf.data``.
An op can also be called on one batch directly.

Example:
    >>> import numpy as np, tensorbridge as tb
    >>> X, y = np.arange(12, dtype=np.uint8).reshape(4, 3), np.array([0, 2, 1, 2])
    >>> ds = tb.Dataset.from_tensor_slices((X, y)).batch(2)
    >>> ds = ds.map(tb.ops.cast("float32"), on=0).map(tb.ops.one_hot(3), on=1)
    >>> xb, yb = next(iter(ds))
    >>> xb
    array([[0., 1., 2.],
           [3., 4., 5.]], dtype=float32)
    >>> yb
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import _ext
from ._args import integer, number
from ._dtypes import dtype_name
from .errors import InvalidValueError

__all__ = ["Op", "cast", "center_crop", "normalize", "one_hot", "permute", "random_flip", "random_resized_crop",
           "reshape", "resize"]


class Op:
    """A native map operation, made by the functions of this module (not constructed directly).

    Pass it to :meth:`tensorbridge.Dataset.map`, or call it on one batch.

    Example:
        >>> op = tb.ops.normalize(mean=128.0, std=64.0)
        >>> op
        tb.ops.normalize(mean=128.0, std=64.0, dtype='float32')
        >>> op(np.array([[0, 128, 255]], dtype=np.uint8)).numpy()
        array([[-2.      ,  0.      ,  1.984375]], dtype=float32)
    """

    __slots__ = ("_native", "_text", "_remake")

    def __init__(self, native: _ext.MapOp, text: str, remake: tuple[str, tuple[Any, ...]]) -> None:
        self._native = native
        self._text = text
        self._remake = remake  # (factory name, arguments): how a pickled op is made again

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles the factory call, not the native op (a data set sent to worker processes)."""
        return (_remake_op, self._remake)

    def __call__(self, batch: Any, seeds: Any = None) -> Any:
        """Applies the op to one batch (any array; the result is a :class:`tensorbridge.Tensor`).

        Random ops need ``seeds``, one integer per sample (in a pipeline they are
        ``sample_seed(seed, epoch, index)``, so the result does not depend on threads or batching).
        """
        from ._convert import asarray
        from ._tensor import Tensor

        seeds_ = [] if seeds is None else [int(s) for s in seeds]
        return Tensor._wrap(self._native.apply(asarray(batch)._c, seeds_))

    @property
    def is_random(self) -> bool:
        """True for ops that draw random numbers (one stream per sample).

        Example:
            >>> tb.ops.random_flip(1).is_random, tb.ops.cast("float32").is_random
            (True, False)
        """
        return bool(self._native.is_random)

    def __repr__(self) -> str:
        return f"tb.ops.{self._text}"


def _remake_op(factory: str, args: tuple[Any, ...]) -> Op:
    """Unpickles an op by calling its factory again."""
    if factory not in __all__ or factory == "Op":
        raise ValueError(f"not a tb.ops factory: {factory!r}")
    return globals()[factory](*args)  # type: ignore[no-any-return]


def cast(dtype: Any) -> Op:
    """Converts elements to ``dtype`` (unsafe rule, like ``ndarray.astype``).

    Example:
        >>> tb.ops.cast("float16")(np.array([[1, 2]])).numpy()
        array([[1., 2.]], dtype=float16)
    """
    name = dtype_name(dtype)
    return Op(_ext.MapOp.cast(name), f"cast({name!r})", ("cast", (name,)))


def _floats(v: float | Sequence[float], name: str) -> list[float]:
    items = list(v) if (isinstance(v, Sequence) or hasattr(v, "__len__")) and not isinstance(v, str) else [v]
    return [number(x, "normalize", name, "a number or one per channel") for x in items]


def _ints(values: Any, where: str, name: str, valid: str) -> list[int]:
    return [integer(v, where, name, valid) for v in values]


def normalize(mean: float | Sequence[float], std: float | Sequence[float], dtype: Any = "float32") -> Op:
    """``(x - mean) / std`` in a floating ``dtype``; per-channel values apply along the last axis.

    Example:
        >>> batch = np.array([[[0.5, 1.0, 0.0]]])                    # one sample, 3 channels
        >>> tb.ops.normalize([0.5, 0.5, 0.5], [0.5, 0.25, 1.0])(batch).numpy()
        array([[[ 0. ,  2. , -0.5]]], dtype=float32)
    """
    op = _ext.MapOp.normalize(_floats(mean, "mean"), _floats(std, "std"), dtype_name(dtype))
    op.validate()
    return Op(op, f"normalize(mean={mean!r}, std={std!r}, dtype={dtype_name(dtype)!r})",
              ("normalize", (_floats(mean, "mean"), _floats(std, "std"), dtype_name(dtype))))


def one_hot(depth: int, dtype: Any = "float32") -> Op:
    """Integer labels of shape S to one-hot vectors of shape S + (depth,) of ``dtype``.

    Labels outside ``[0, depth)`` raise ``ValueError`` naming the label and its index.

    Example:
        >>> tb.ops.one_hot(3)(np.array([0, 2, 1])).numpy()
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    op = _ext.MapOp.one_hot(integer(depth, "one_hot", "depth", "an integer in [1, 2**63 - 1]"), dtype_name(dtype))
    op.validate()
    return Op(op, f"one_hot({depth}, dtype={dtype_name(dtype)!r})", ("one_hot", (int(depth), dtype_name(dtype))))


def permute(*axes: int | Sequence[int]) -> Op:
    """Reorders the per-sample axes, e.g. ``permute(2, 0, 1)`` turns HWC images into CHW.

    Example:
        >>> images = np.zeros((8, 32, 32, 3), dtype=np.uint8)        # a batch of 8 HWC images
        >>> tb.ops.permute(2, 0, 1)(images).shape
        (8, 3, 32, 32)
    """
    flat = list(axes[0]) if len(axes) == 1 and isinstance(axes[0], Sequence) else list(axes)
    op = _ext.MapOp.permute(_ints(flat, "permute", "axes", "a permutation of the per-sample axes"))
    op.validate()
    return Op(op, f"permute({', '.join(map(str, flat))})", ("permute", tuple(int(a) for a in flat)))


def random_flip(axis: int, p: float = 0.5) -> Op:
    """Reverses each sample along per-sample ``axis`` with probability ``p`` (data augmentation;
    ``random_flip(1)`` flips HWC images left-right).

    Each sample draws from its own stream, seeded by (shuffle seed, epoch, sample index): the
    flips are the same whatever the thread count, prefetch depth or batch size, and change from
    epoch to epoch.

    Example:
        >>> images = np.arange(8).reshape(4, 1, 2)                      # 4 samples of shape (1, 2)
        >>> ds = tb.Dataset.from_tensor_slices(images).shuffle(seed=0).batch(4)
        >>> flipped = next(iter(ds.map(tb.ops.random_flip(1, p=1.0))))  # p=1: always flipped
        >>> sorted(row.tolist() for row in flipped[:, 0])
        [[1, 0], [3, 2], [5, 4], [7, 6]]
    """
    op = _ext.MapOp.random_flip(integer(axis, "random_flip", "axis", "a per-sample axis"),
                                number(p, "random_flip", "p", "a probability in [0, 1]"))
    op.validate()
    return Op(op, f"random_flip({axis}, p={p})", ("random_flip", (int(axis), float(p))))


def reshape(*shape: int | Sequence[int]) -> Op:
    """Views each sample with a new shape of the same size (one ``-1`` is inferred).

    Example:
        >>> images = np.zeros((8, 32, 32, 3), dtype=np.uint8)
        >>> tb.ops.reshape(-1)(images).shape
        (8, 3072)
    """
    flat = list(shape[0]) if len(shape) == 1 and isinstance(shape[0], Sequence) else list(shape)
    op = _ext.MapOp.reshape(_ints(flat, "reshape", "shape", "sizes >= 0 and at most one -1"))
    op.validate()
    return Op(op, f"reshape({', '.join(map(str, flat))})", ("reshape", tuple(int(d) for d in flat)))


def _size(size: int | Sequence[int], where: str) -> list[int]:
    items = list(size) if isinstance(size, Sequence) else [size]
    if len(items) not in (1, 2):
        raise InvalidValueError(f"{where}: size must be one number or (height, width), got {size!r}")
    return _ints(items, where, "size", "an integer >= 1")


def resize(size: int | Sequence[int], antialias: bool = True) -> Op:
    """Resizes HWC uint8 images with Pillow's bilinear filter (antialiased when shrinking, as
    Pillow's ``Image.resize(size, BILINEAR)`` and torchvision on PIL images): ``size`` is
    ``(height, width)``, or one number for the shorter side (torchvision's ``Resize(int)``).

    On :meth:`tensorbridge.Dataset.from_image_folder` / ``from_files`` images it runs fused with
    the decode.

    Example:
        >>> images = np.zeros((2, 40, 60, 3), dtype=np.uint8)
        >>> tb.ops.resize(20)(images).shape
        (2, 20, 30, 3)
    """
    s = _size(size, "resize")
    op = _ext.map_op_resize(s, bool(antialias))
    op.validate()
    return Op(op, f"resize({size!r}, antialias={bool(antialias)})", ("resize", (s, bool(antialias))))


def center_crop(size: int | Sequence[int]) -> Op:
    """The centred ``(height, width)`` (or square) crop of HWC images (torchvision's ``CenterCrop``).

    Example:
        >>> images = np.arange(2 * 4 * 4).reshape(2, 4, 4, 1).astype(np.uint8)
        >>> tb.ops.center_crop(2)(images).numpy()[0, :, :, 0]
        array([[ 5,  6],
               [ 9, 10]], dtype=uint8)
    """
    s = _size(size, "center_crop")
    op = _ext.map_op_center_crop(s)
    op.validate()
    return Op(op, f"center_crop({size!r})", ("center_crop", (s,)))


def random_resized_crop(size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                        ratio: Sequence[float] = (3 / 4, 4 / 3)) -> Op:
    """torchvision's ``RandomResizedCrop``: a random box (area fraction in ``scale``, aspect ratio
    log-uniform in ``ratio``; 10 attempts, then the central crop) resized to ``size``.

    Each sample draws from its own seeded stream, as :func:`random_flip`. On image files it
    decodes only the box (JPEG: at the smallest DCT scale that keeps the output's resolution).

    Example:
        >>> images = np.zeros((3, 50, 80, 3), dtype=np.uint8)
        >>> tb.ops.random_resized_crop(24)(images, seeds=[0, 1, 2]).shape
        (3, 24, 24, 3)
    """
    s = _size(size, "random_resized_crop")
    lo, hi = (number(v, "random_resized_crop", "scale", "two numbers in (0, 1]") for v in scale)
    rlo, rhi = (number(v, "random_resized_crop", "ratio", "two numbers > 0") for v in ratio)
    op = _ext.map_op_random_resized_crop(s, lo, hi, rlo, rhi)
    op.validate()
    return Op(op, f"random_resized_crop({size!r}, scale={tuple(scale)!r}, ratio={tuple(ratio)!r})",
              ("random_resized_crop", (s, (lo, hi), (rlo, rhi))))

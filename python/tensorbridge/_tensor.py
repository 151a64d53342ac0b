"""The Python face of ``tb::tensor``: a strided view that speaks DLPack to every framework."""

from __future__ import annotations

from typing import Any

from . import _ext, frameworks
from ._planning import as_tensor, convert_planned

_NUMPY = frameworks.target("numpy")

__all__ = ["Tensor"]

_CPU = (1, 0)


class Tensor:
    """A strided, typed view over memory that tensorbridge or another library owns.

    Made by :func:`tensorbridge.asarray` (``Tensor(x)`` is the same), by the readers
    (:func:`tensorbridge.load`, :meth:`tensorbridge.Table.to_tensor`...) and by pipelines. It
    implements the DLPack protocol, so every framework takes it directly, without a copy.
    Attributes mirror NumPy's where they exist; ``strides`` are in elements (as in DLPack and
    PyTorch), not bytes.

    Example:
        >>> import numpy as np, torch, tensorbridge as tb
        >>> t = tb.asarray(np.arange(6.0).reshape(2, 3))
        >>> t
        tb.Tensor(shape=(2, 3), dtype=float64, device=cpu)
        >>> torch.from_dlpack(t)
        tensor([[0., 1., 2.],
                [3., 4., 5.]], dtype=torch.float64)
        >>> np.asarray(t).sum().item()
        15.0
    """

    __slots__ = ("_c", "__weakref__")

    def __init__(self, obj: Any, dtype: Any = None, copy: bool | None = None) -> None:
        """The same as :func:`tensorbridge.asarray` ``(obj, dtype, copy)``.

        Example:
            >>> tb.Tensor([1, 2, 3])
            tb.Tensor(shape=(3,), dtype=int64, device=cpu)
        """
        self._c = as_tensor(obj, dtype, copy)

    @classmethod
    def _wrap(cls, c: _ext.Tensor) -> Tensor:
        """Wraps an extension tensor without copying (internal)."""
        t = object.__new__(cls)
        t._c = c
        return t

    @property
    def shape(self) -> tuple[int, ...]:
        """Elements per dimension.

        Example:
            >>> tb.asarray(np.zeros((2, 3))).shape
            (2, 3)
        """
        return self._c.shape

    @property
    def strides(self) -> tuple[int, ...]:
        """Step between neighbours along each dimension, in elements (not bytes).

        Example:
            >>> a = np.zeros((2, 3), dtype=np.float32)
            >>> a.strides, tb.asarray(a).strides, tb.asarray(a[:, ::-2]).strides
            ((12, 4), (3, 1), (3, -2))
        """
        return self._c.strides

    @property
    def dtype(self) -> str:
        """The element type's canonical name: ``"float32"``, ``"bfloat16"``, ``"bool"``...

        Example:
            >>> tb.asarray(np.zeros(2, dtype=np.float16)).dtype
            'float16'
            >>> tb.asarray([1.5, 2.0]).dtype      # Python floats become float32, as in torch
            'float32'
        """
        return self._c.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions.

        Example:
            >>> tb.asarray(np.zeros((2, 3))).ndim
            2
        """
        return self._c.ndim

    @property
    def size(self) -> int:
        """Number of elements.

        Example:
            >>> tb.asarray(np.zeros((2, 3))).size
            6
        """
        return self._c.size

    @property
    def nbytes(self) -> int:
        """Bytes the elements occupy (``size * itemsize``).

        Example:
            >>> tb.asarray(np.zeros((2, 3), dtype=np.float32)).nbytes
            24
        """
        return self._c.nbytes

    @property
    def itemsize(self) -> int:
        """Bytes per element.

        Example:
            >>> tb.asarray(np.zeros(3, dtype=np.int16)).itemsize
            2
        """
        return self._c.itemsize

    @property
    def device(self) -> str:
        """Where the memory lives: ``"cpu"``, ``"cuda:0"``...

        Example:
            >>> tb.asarray(np.zeros(3)).device
            'cpu'
        """
        return self._c.device_name

    @property
    def read_only(self) -> bool:
        """True if the owner forbids writes; frameworks then get a copy or a read-only view.

        Example:
            >>> a = np.zeros(3)
            >>> a.flags.writeable = False
            >>> tb.asarray(a).read_only
            True
        """
        return self._c.read_only

    @property
    def data_ptr(self) -> int:
        """Address of element 0 (for checking what shares memory with what).

        Example:
            >>> a = np.zeros(3)
            >>> tb.asarray(a).data_ptr == a.ctypes.data      # a view, not a copy
            True
            >>> tb.asarray(a, copy=True).data_ptr == a.ctypes.data
            False
        """
        return self._c.data_ptr

    def __len__(self) -> int:
        """The length of the first dimension (``TypeError`` for a 0-d tensor)."""
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def is_contiguous(self) -> bool:
        """True if the elements are in C order without gaps.

        Example:
            >>> a = np.zeros((2, 3))
            >>> tb.asarray(a).is_contiguous(), tb.asarray(a.T).is_contiguous()
            (True, False)
        """
        return self._c.is_contiguous()

    def contiguous(self) -> Tensor:
        """This tensor if C-contiguous and 64-byte aligned, else an aligned C-contiguous copy.

        Example:
            >>> t = tb.asarray(np.arange(6.0).reshape(2, 3).T)
            >>> c = t.contiguous()
            >>> c.is_contiguous(), c.shape, c.strides
            (True, (3, 2), (2, 1))
            >>> c.contiguous().data_ptr == c.data_ptr   # already contiguous: no copy
            True
        """
        return Tensor._wrap(self._c.contiguous())

    def copy(self) -> Tensor:
        """A new, writable, aligned C-contiguous copy.

        Example:
            >>> a = np.zeros(3)
            >>> a.flags.writeable = False
            >>> c = tb.asarray(a).copy()
            >>> c.read_only, c.data_ptr == a.ctypes.data
            (False, False)
        """
        return Tensor._wrap(self._c.copy())

    def numpy(self) -> Any:
        """The tensor as a NumPy array, sharing memory (read-only if this tensor is).

        Example:
            >>> tb.asarray([[1, 2], [3, 4]]).numpy()
            array([[1, 2],
                   [3, 4]])
        """
        return convert_planned(self, _NUMPY, None, None, "same_kind", "cpu", False)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> Any:
        """NumPy's array protocol: ``np.asarray(t)`` shares memory, like :meth:`numpy`."""
        arr = convert_planned(self, _NUMPY, None, copy, "same_kind", "cpu", False)
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __dlpack_device__(self) -> tuple[int, int]:
        """DLPack's ``(device_type, device_id)``: ``(1, 0)`` for CPU memory."""
        return self._c.device

    def __dlpack__(
        self,
        *,
        stream: Any = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> Any:
        """Exports the tensor as a DLPack capsule (DLPack 1.x when ``max_version >= (1, 0)``).

        - ``copy=True`` exports a fresh copy (flagged IS_COPIED); ``copy=False`` raises
          ``BufferError`` where sharing is impossible.
        - Writable memory is shared, zero-copy.
        - Read-only memory is never exposed to writes, because a consumer may ignore DLPack's
          READ_ONLY flag (PyTorch does) and the legacy protocol has none. A read-only file map
          (``tb.load(..., mmap=True)``) is exported as a new private copy-on-write map of the
          same pages: zero-copy and O(1), still flagged READ_ONLY (NumPy keeps it read-only), and
          a consumer that writes anyway (PyTorch) writes memory of this process only, never the
          file nor this tensor. Other read-only memory is exported as a
          writable copy (flagged IS_COPIED); with ``copy=False`` that raises ``BufferError``.
          :func:`tensorbridge.to_numpy` (and ``np.asarray(t)``), ``to_jax`` and ``to_tf`` share
          read-only memory, read-only, since those consumers never write it.

        Frameworks call this for you (``torch.from_dlpack(t)``, ``np.from_dlpack(t)``...).

        Example:
            >>> t = tb.asarray(np.arange(3.0))
            >>> np.from_dlpack(t)
            array([0., 1., 2.])
            >>> import torch
            >>> ro = np.arange(3.0)
            >>> ro.flags.writeable = False
            >>> torch.from_dlpack(tb.asarray(ro)).add_(1)    # a copy: ro cannot change
            tensor([1., 2., 3.], dtype=torch.float64)
            >>> ro
            array([0., 1., 2.])
        """
        versioned = max_version is not None and max_version[0] >= 1
        return _ext.to_capsule(self._c, versioned, copy, dl_device=None if dl_device is None else tuple(dl_device))

    def __arrow_c_array__(self, requested_schema: Any = None) -> tuple[Any, Any]:
        """Arrow's PyCapsule protocol: the tensor as an Arrow array, sharing its memory.

        A 1-D tensor is a primitive array, a 2-D tensor a ``FixedSizeList`` of its rows; bools are
        bit-packed (a copy), bfloat16 travels as uint16 tagged ``tensorbridge.bfloat16``.
        ``requested_schema`` is not applied (the protocol lets a producer decline it).

        Example:
            >>> import pyarrow as pa
            >>> t = tb.asarray(np.arange(3.0))
            >>> pa.array(t).buffers()[1].address == t.data_ptr
            True
        """
        return _ext.arrow_export_tensor(self._c)

    def __repr__(self) -> str:
        ro = ", read_only=True" if self.read_only else ""
        return f"tb.Tensor(shape={self.shape}, dtype={self.dtype}, device={self.device}{ro})"

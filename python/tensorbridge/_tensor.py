"""The Python face of ``tb::tensor``: a strided view that speaks DLPack to every framework."""

from __future__ import annotations

from typing import Any

from . import _ext
from .errors import SharingError

__all__ = ["Tensor"]

_CPU = (1, 0)


class Tensor:
    """A strided, typed view over memory that tensorbridge or another library owns.

    Made by :func:`tensorbridge.asarray` (or by readers and pipelines). It implements the DLPack
    protocol, so every framework takes it directly::

        >>> import numpy as np, torch, tensorbridge as tb
        >>> t = tb.asarray(np.arange(6.0).reshape(2, 3))
        >>> torch.from_dlpack(t).shape
        torch.Size([2, 3])

    Attributes mirror NumPy's where they exist; ``strides`` are in elements (as in DLPack and
    PyTorch), not bytes.
    """

    __slots__ = ("_c", "__weakref__")

    def __init__(self, obj: Any, dtype: str | None = None, copy: bool | None = None) -> None:
        from ._convert import asarray

        self._c = asarray(obj, dtype=dtype, copy=copy)._c

    @classmethod
    def _wrap(cls, c: _ext.Tensor) -> Tensor:
        """Wraps an extension tensor without copying (internal)."""
        t = object.__new__(cls)
        t._c = c
        return t

    @property
    def shape(self) -> tuple[int, ...]:
        """Elements per dimension."""
        return self._c.shape

    @property
    def strides(self) -> tuple[int, ...]:
        """Step between neighbours along each dimension, in elements (not bytes)."""
        return self._c.strides

    @property
    def dtype(self) -> str:
        """The element type's name: ``"float32"``, ``"bfloat16"``, ``"bool"``..."""
        return self._c.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._c.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        return self._c.size

    @property
    def nbytes(self) -> int:
        """Bytes the elements occupy (``size * itemsize``)."""
        return self._c.nbytes

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._c.itemsize

    @property
    def device(self) -> str:
        """Where the memory lives: ``"cpu"``, ``"cuda:0"``..."""
        return self._c.device_name

    @property
    def read_only(self) -> bool:
        """True if the owner forbids writes; frameworks then get a copy or a read-only view."""
        return self._c.read_only

    @property
    def data_ptr(self) -> int:
        """Address of element 0 (for checking what shares memory with what)."""
        return self._c.data_ptr

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def is_contiguous(self) -> bool:
        """True if the elements are in C order without gaps."""
        return self._c.is_contiguous()

    def contiguous(self) -> Tensor:
        """This tensor if C-contiguous and 64-byte aligned, else an aligned C-contiguous copy."""
        return Tensor._wrap(self._c.contiguous())

    def copy(self) -> Tensor:
        """A new, writable, aligned C-contiguous copy."""
        return Tensor._wrap(self._c.copy())

    def numpy(self) -> Any:
        """The tensor as a NumPy array, sharing memory (read-only if this tensor is)."""
        from ._convert import to_numpy

        return to_numpy(self)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> Any:
        from ._convert import to_numpy

        arr = to_numpy(self, copy=copy)
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __dlpack_device__(self) -> tuple[int, int]:
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
        - Read-only memory is exported with DLPack 1.x's READ_ONLY flag; a consumer that only
          speaks the legacy protocol gets a copy (or ``BufferError`` with ``copy=False``).
        """
        if dl_device is not None and tuple(dl_device) != self._c.device:
            raise SharingError(
                f"cannot export a tensor on {self.device} to DLPack device {tuple(dl_device)} "
                "without a cross-device copy, which tensorbridge does not do on this machine"
            )
        versioned = max_version is not None and max_version[0] >= 1
        c = self._c
        copied = False
        if copy or (not versioned and c.read_only):
            if copy is False:
                raise SharingError(
                    "cannot export a read-only tensor through the legacy (unversioned) DLPack protocol "
                    "without a copy; the consumer should ask for max_version=(1, 0), or pass copy=None"
                )
            c, copied = c.copy(), True
        return _ext.to_capsule(c, versioned, copied)

    def __repr__(self) -> str:
        ro = ", read_only=True" if self.read_only else ""
        return f"tb.Tensor(shape={self.shape}, dtype={self.dtype}, device={self.device}{ro})"

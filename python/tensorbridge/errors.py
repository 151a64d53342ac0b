"""Exceptions raised by tensorbridge.

Every error is a :class:`TensorbridgeError` and also the built-in exception a NumPy or PyTorch
user would expect, so ``except ValueError`` keeps working::

    try:
        tb.to_torch(x, copy=False)
    except BufferError as e:       # also tb.SharingError
        print(e)
"""

from __future__ import annotations

__all__ = [
    "TensorbridgeError",
    "DTypeError",
    "InvalidValueError",
    "CastOverflowError",
    "ReadError",
    "FormatError",
    "SharingError",
]


class TensorbridgeError(Exception):
    """Base class of every error tensorbridge raises."""


class DTypeError(TypeError, TensorbridgeError):
    """An unsupported dtype, device or object, or a cast the casting rule refuses."""


class InvalidValueError(ValueError, TensorbridgeError):
    """An argument outside its domain: a bad shape, option or index."""


class CastOverflowError(OverflowError, TensorbridgeError):
    """A checked cast met a value its destination cannot hold."""


class ReadError(OSError, TensorbridgeError):
    """The operating system refused a file operation."""


class FormatError(ValueError, TensorbridgeError):
    """A file or buffer whose content is malformed."""


class SharingError(BufferError, TensorbridgeError):
    """Memory that cannot be shared as asked (``copy=False`` where a copy is needed)."""


_BY_KIND = {
    "type": DTypeError,
    "value": InvalidValueError,
    "overflow": CastOverflowError,
    "io": ReadError,
    "format": FormatError,
    "buffer": SharingError,
}


def _class_for_kind(kind: str) -> type[TensorbridgeError]:
    """The exception class for a C++ ``tb::error_kind`` name (used by the extension)."""
    return _BY_KIND.get(kind, InvalidValueError)

"""Exceptions raised by tensorbridge.

Every error is a :class:`TensorbridgeError` and also the built-in exception a NumPy or PyTorch
user would expect, so ``except ValueError`` keeps working. Messages say what was wrong, where
(path, line, column, index) and how to fix it.

Example:
    >>> import numpy as np, tensorbridge as tb
    >>> try:
    ...     tb.to_torch(np.zeros(4)[::-1], copy=False)
    ... except BufferError as e:                        # also tb.SharingError
    ...     print(e)
    copy=False, but handing this tensor to torch needs a copy: torch does not accept negative strides; ...
"""

from __future__ import annotations

__all__ = [
    "TensorbridgeError",
    "DTypeError",
    "InvalidValueError",
    "CastOverflowError",
    "ReadError",
    "NotFoundError",
    "AccessDeniedError",
    "DirectoryError",
    "WriteError",
    "FormatError",
    "SharingError",
    "CallbackError",
    "UsageError",
]


class TensorbridgeError(Exception):
    """Base class of every error tensorbridge raises.

    Example:
        >>> try:
        ...     tb.cast([1.5], "int8", casting="safe")
        ... except tb.TensorbridgeError as e:
        ...     print(type(e).__name__, isinstance(e, TypeError))
        DTypeError True
    """


class DTypeError(TypeError, TensorbridgeError):
    """An unsupported dtype, device or object, or a cast the casting rule refuses (a ``TypeError``).

    Example:
        >>> tb.cast(np.array([1.5]), "int8", casting="safe")
        Traceback (most recent call last):
            ...
        tensorbridge.errors.DTypeError: cannot cast float64 to int8 under casting="safe"; casting="unsafe" allows it
    """


class InvalidValueError(ValueError, TensorbridgeError):
    """An argument outside its domain: a bad shape, option or index (a ``ValueError``).

    Also raised by a checked cast that meets NaN where an integer is expected.

    Example:
        >>> tb.ops.one_hot(0)
        Traceback (most recent call last):
            ...
        tensorbridge.errors.InvalidValueError: one_hot: depth must be at least 1, got 0
    """


class CastOverflowError(OverflowError, TensorbridgeError):
    """A checked cast met a value its destination cannot hold (an ``OverflowError``).

    Example:
        >>> tb.cast(np.array([1.0, 300.0]), "int8", checked=True)
        Traceback (most recent call last):
            ...
        tensorbridge.errors.CastOverflowError: checked cast float64 -> int8: element at index (1,) (flat index 1) is 300, ...
    """


class ReadError(OSError, TensorbridgeError):
    """The operating system refused a file operation (an ``OSError``).

    Example:
        >>> try:
        ...     tb.read_csv("/no/such/file.csv")
        ... except tb.ReadError as e:             # here also a FileNotFoundError (tb.NotFoundError)
        ...     print(e)
        /no/such/file.csv: open failed: No such file or directory
    """


class NotFoundError(FileNotFoundError, ReadError):
    """A file, object or bucket that does not exist (a ``FileNotFoundError`` and a :class:`ReadError`).

    Example:
        >>> try:
        ...     tb.read_csv("/no/such/file.csv")
        ... except FileNotFoundError as e:
        ...     print(type(e).__name__, isinstance(e, tb.ReadError))
        NotFoundError True
    """


class AccessDeniedError(PermissionError, ReadError):
    """Access refused by the operating system or a server (a ``PermissionError`` and a :class:`ReadError`).

    Example:
        >>> issubclass(tb.AccessDeniedError, PermissionError), issubclass(tb.AccessDeniedError, tb.ReadError)
        (True, True)
    """


class DirectoryError(IsADirectoryError, ReadError):
    """A directory where a file was expected, to read or to write (an ``IsADirectoryError`` and a
    :class:`ReadError`).

    Example:
        >>> import tempfile
        >>> try:
        ...     tb.load(tempfile.gettempdir())
        ... except IsADirectoryError as e:
        ...     print(type(e).__name__, str(e).endswith("is a directory, not a file"))
        DirectoryError True
    """


class WriteError(OSError, TensorbridgeError):
    """A write or save that failed (an ``OSError``); the file it was replacing, if any, is unchanged.

    Example:
        >>> try:
        ...     tb.save("/no/such/folder/x.npy", np.zeros(3))
        ... except OSError as e:
        ...     print(isinstance(e, tb.TensorbridgeError))
        True
    """


class FormatError(ValueError, TensorbridgeError):
    """A file or buffer whose content is malformed (a ``ValueError``); the message says where.

    Example:
        >>> import io
        >>> tb.read_csv(io.StringIO("a,b\\n1,2\\n3\\n"))
        Traceback (most recent call last):
            ...
        tensorbridge.errors.FormatError: <string>:3: expected 2 fields (as in the header) but found 1; ...
    """


class SharingError(BufferError, TensorbridgeError):
    """Memory that cannot be shared as asked (a ``BufferError``): ``copy=False`` where a copy is needed.

    Example:
        >>> tb.to_torch(np.zeros(4)[::-1], copy=False)
        Traceback (most recent call last):
            ...
        tensorbridge.errors.SharingError: copy=False, but handing this tensor to torch needs a copy: ...
    """


class CallbackError(RuntimeError, TensorbridgeError):
    """A Python function given to tensorbridge broke the protocol it runs in (a ``RuntimeError``).

    A ``Dataset.map`` callable that raises ``StopIteration`` is one: as in a generator (PEP 479),
    that must not pass for the end of the iteration. The original exception is ``__cause__``.

    Example:
        >>> def stop(batch):
        ...     raise StopIteration
        >>> next(iter(tb.Dataset.from_tensor_slices(np.arange(4)).batch(2).map(stop)))
        Traceback (most recent call last):
            ...
        tensorbridge.errors.CallbackError: map('stop') raised StopIteration; ...
    """


_BY_KIND = {
    "type": DTypeError,
    "value": InvalidValueError,
    "overflow": CastOverflowError,
    "io": ReadError,
    "not_found": NotFoundError,
    "permission": AccessDeniedError,
    "is_directory": DirectoryError,
    "write": WriteError,
    "format": FormatError,
    "buffer": SharingError,
}


def _class_for_kind(kind: str) -> type[TensorbridgeError]:
    """The exception class for a C++ ``tb::error_kind`` name (used by the extension)."""
    return _BY_KIND.get(kind, InvalidValueError)


class UsageError(InvalidValueError):
    """The command line (``tensorbridge ...``) was given something it cannot use; the message says
    what to pass instead (an ``InvalidValueError``, so a ``ValueError``).

    Example:
        >>> import tensorbridge as tb
        >>> issubclass(tb.errors.UsageError, ValueError)
        True
    """

"""What the readers and writers accept as a file: a path, or a file object."""

from __future__ import annotations

import os
from typing import Any

from .errors import DTypeError


def is_file_object(x: Any, method: str) -> bool:
    """True for an object with ``read`` (``method="read"``) or ``write``, as NumPy and pandas take."""
    return not isinstance(x, (str, bytes, os.PathLike)) and callable(getattr(x, method, None))


def fspath(x: Any, function: str) -> str:
    """``x`` as a ``str`` path, or :class:`~tensorbridge.DTypeError` naming ``function``."""
    try:
        return os.fsdecode(x)
    except TypeError:
        raise DTypeError(
            f"{function}: expected a path (str or os.PathLike) or a file object, not {type(x).__name__}"
        ) from None


def file_object_name(f: Any) -> str:
    """The name messages give a file object: its ``name`` if it has a text one."""
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__}>"

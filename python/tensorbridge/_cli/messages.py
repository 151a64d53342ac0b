"""The wording of the command line's error messages: one line each, naming the command line's
flags where the library's message names a Python keyword argument."""

from __future__ import annotations

import re

_NEWLINES = re.compile(r"\s*\n\s*")
# The library's hints name its keyword arguments; the same fix on the command line is a flag.
_KEYWORD_HINTS = (
    (re.compile(r'\bcasting="(\w+)"'), r"--casting \1"),
    (re.compile(r"\bchecked=True\b"), "--checked"),
    (re.compile(r"\bpass checked=False\b"), "leave out --checked"),
    (re.compile(r"\bfill_value=\.\.\."), "--fill-value NUMBER"),
    (re.compile(r"\bchecked=False\b"), "no --checked"),
)


def one_line(e: BaseException) -> str:
    """The message of ``e`` on one line. An ``OSError`` raised by Python itself (``[Errno 2] No such
    file or directory: 'x'``) reads as ``x: No such file or directory``."""
    if isinstance(e, OSError) and e.strerror and e.filename is not None and str(e).startswith("[Errno"):
        text = f"{e.filename}: {e.strerror}"
    else:
        text = str(e)
    return _NEWLINES.sub(" ", text.strip())


def with_flags(message: str) -> str:
    """``message`` with the keyword arguments it suggests spelled as ``convert``'s flags."""
    for pattern, flag in _KEYWORD_HINTS:
        message = pattern.sub(flag, message)
    return message


def delimiter_hint(columns: list[str]) -> str:
    """Advice when a file read as one column has a header that looks split by another delimiter."""
    if len(columns) == 1:
        for c in ";\t|":
            if c in columns[0]:
                return f"the header looks delimited by {c!r}: pass --sep {c!r}"
    return ""

"""Argument types shared by the subcommands: a bad value is refused while parsing (exit status 2,
with the usage line), before any file is read."""

from __future__ import annotations

import argparse

import numpy as np

import tensorbridge as tb


def dtype_arg(text: str) -> str:
    """A ``--dtype`` value in any spelling tensorbridge or NumPy knows (``float32``, ``bf16``,
    ``f4``), as tensorbridge's canonical name."""
    try:
        return tb.dtype_name(text)
    except tb.DTypeError:
        pass
    try:
        return tb.dtype_name(np.dtype(text))
    except (TypeError, ValueError):  # np.dtype refuses unknown names with TypeError
        raise argparse.ArgumentTypeError(f"unknown dtype {text!r}; choose one of {', '.join(tb.DTYPES)}") from None


def na_values_arg(text: str) -> list[str]:
    """A ``--na-values`` value: comma-separated strings that mean a missing value."""
    return text.split(",")

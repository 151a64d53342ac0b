"""Argument types shared by the subcommands: a bad value is refused while parsing (exit status 2,
with the usage line), before any file is read."""

from __future__ import annotations

import argparse
from pathlib import Path

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


def sep_arg(text: str) -> str:
    """A ``--sep`` value: one character; ``\\t`` (as typed in a shell) or ``tab`` is a tab."""
    sep = "\t" if text in ("\\t", "tab") else text
    if len(sep) != 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not one character; pass e.g. ';', '|' or '\\t'")
    return sep


#: Compression read_csv undoes by itself (compression="infer").
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")


def content_suffix(path: Path) -> str:
    """The extension that says what ``path`` holds, lower case: ``.csv`` for ``data.csv.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def csv_sep(path: Path, sep: str | None) -> str:
    """The delimiter of the CSV file ``path``: ``sep`` if given, else a tab for ``.tsv``, else a comma."""
    return sep if sep is not None else "\t" if content_suffix(path) == ".tsv" else ","


"""Statistics streamed over an array in fixed-size chunks, so a memory-mapped file larger than
RAM is read once, a chunk at a time, without ever being resident whole."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import tensorbridge as tb

#: Elements per chunk: 4 Mi elements keeps the float64 working copy at 32 MiB.
CHUNK = 1 << 22


def chunks(a: np.ndarray, size: int = CHUNK) -> Any:
    """Successive 1-D pieces of ``a`` in memory order (views when ``a`` is contiguous either way)."""
    flat = a.ravel(order="K")
    for i in range(0, flat.size, size):
        yield i, flat[i:i + size]


class Stats:
    """Running count, NaN count, min, max and mean of numbers fed chunk by chunk."""

    def __init__(self) -> None:
        self.count = 0
        self.nan = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf

    def update(self, chunk: np.ndarray) -> None:
        """Adds one chunk (any real or bool dtype; complex numbers count by their real part)."""
        if chunk.dtype.kind == "c":
            chunk = chunk.real
        values = chunk.astype(np.float64, copy=False)
        nan = np.isnan(values)
        n_nan = int(nan.sum())
        if n_nan:
            values = values[~nan]
        self.nan += n_nan
        self.count += chunk.size
        if values.size:
            # inf + -inf is NaN and a sum may overflow to inf: both are the honest mean, not a warning.
            with np.errstate(invalid="ignore", over="ignore"):
                self.total += float(values.sum())
            self.min = min(self.min, float(values.min()))
            self.max = max(self.max, float(values.max()))

    def as_dict(self) -> dict[str, Any]:
        """min/max/mean (None when there is no non-NaN value), NaN count and element count."""
        finite = self.count - self.nan
        return {
            "count": self.count,
            "nan_count": self.nan,
            "min": self.min if finite else None,
            "max": self.max if finite else None,
            "mean": self.total / finite if finite else None,
        }


class RoundTrip:
    """Whether casting the data to ``dtype`` and back changes any value (NaN counts as equal)."""

    def __init__(self, dtype: str) -> None:
        self.dtype = dtype
        self.changed = 0
        self.first: dict[str, Any] | None = None
        self.error: str | None = None

    def update(self, offset: int, chunk: np.ndarray) -> None:
        """Checks one chunk starting at flat element ``offset``."""
        if self.error is not None:
            return
        try:
            there = tb.cast(chunk, self.dtype)
            back = tb.to_numpy(tb.cast(there, tb.dtype_name(chunk.dtype)))
        except (TypeError, ValueError, OverflowError) as e:
            self.error = str(e)
            return
        same = (back == chunk) | (_isnan(back) & _isnan(chunk))
        bad = np.flatnonzero(~same)
        if bad.size and self.first is None:
            i = int(bad[0])
            self.first = {"flat_index": offset + i, "value": _py(chunk[i]), "becomes": _py(tb.to_numpy(there)[i])}
        self.changed += int(bad.size)

    def as_dict(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "values_changed": self.changed, "first_change": self.first, "error": self.error}


def _isnan(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "fc" or a.dtype.name in ("bfloat16", "float16"):
        return np.isnan(a.astype(np.complex128 if a.dtype.kind == "c" else np.float64))
    return np.zeros(a.shape, dtype=bool)


def _py(v: Any) -> Any:
    if isinstance(v, np.generic) and v.dtype.kind == "c":
        return str(v)
    try:
        return v.item() if v.dtype.kind in "biu" else float(v)
    except (AttributeError, TypeError, ValueError):
        return str(v)

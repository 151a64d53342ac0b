"""The block cache: freed tensorbridge buffers of 1 MiB and more, kept mapped for reuse.

A fresh buffer costs more than the work done in it: the kernel maps and zeroes every page on
first touch. Like PyTorch's and TensorFlow's caching allocators, tensorbridge keeps the large
buffers it freed (cast outputs, file reads, batch blocks) and hands them out again, so a loop that
makes outputs of the same size every step works in memory that is already mapped. The bound is
1 GiB by default; the ``TB_BLOCK_CACHE_BYTES`` environment variable (``512M``, ``0`` disables) or
:func:`set_block_cache_limit` changes it.
"""

from __future__ import annotations

from typing import NamedTuple

from . import _ext

__all__ = ["BlockCacheStats", "block_cache_limit", "block_cache_stats", "clear_block_cache", "set_block_cache_limit"]


class BlockCacheStats(NamedTuple):
    """A snapshot of the block cache's counters.

    Example:
        >>> s = tb.block_cache_stats()
        >>> s.limit == tb.block_cache_limit() and s.cached_bytes >= 0
        True
    """

    limit: int
    """The bound in bytes (0: the cache is disabled)."""
    cached_bytes: int
    """Bytes held in cached blocks now."""
    cached_blocks: int
    """Blocks held now."""
    hits: int
    """Allocations served by a cached block since the process started."""
    misses: int
    """Cacheable allocations that found no cached block of their size."""


def block_cache_limit() -> int:
    """The bound, in bytes, on freed buffers kept for reuse (0: disabled).

    ``set_block_cache_limit``, else ``TB_BLOCK_CACHE_BYTES``, else 1 GiB.

    Example:
        >>> tb.block_cache_limit() >= 0
        True
    """
    return int(_ext.block_cache_limit())


def set_block_cache_limit(nbytes: int) -> None:
    """Bounds the block cache at ``nbytes`` bytes (0 disables it) and releases the least recently
    freed buffers until it fits. Overrides ``TB_BLOCK_CACHE_BYTES``.

    Example:
        >>> before = tb.block_cache_limit()
        >>> tb.set_block_cache_limit(256 << 20)
        >>> tb.block_cache_limit()
        268435456
        >>> tb.set_block_cache_limit(before)
    """
    if isinstance(nbytes, bool) or not isinstance(nbytes, int):
        raise TypeError(f"set_block_cache_limit: nbytes must be an int (bytes), got {type(nbytes).__name__}")
    if nbytes < 0:
        raise ValueError(f"set_block_cache_limit: nbytes must be >= 0 (0 disables the cache), got {nbytes}")
    _ext.set_block_cache_limit(nbytes)


def clear_block_cache() -> None:
    """Returns every cached buffer to the system; the bound stays as it is.

    Example:
        >>> tb.clear_block_cache()
        >>> tb.block_cache_stats().cached_bytes
        0
    """
    _ext.clear_block_cache()


def block_cache_stats() -> BlockCacheStats:
    """The block cache's counters now: bound, bytes and blocks held, hits and misses.

    Example:
        >>> x = tb.cast(np.zeros(1 << 20, np.float32), "float64")   # an 8 MiB output
        >>> del x                                                   # its buffer goes to the cache
        >>> tb.block_cache_stats().cached_blocks >= (1 if tb.block_cache_limit() else 0)
        True
    """
    return BlockCacheStats(*(int(v) for v in _ext.block_cache_statistics()))

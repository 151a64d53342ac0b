"""The block cache from Python: bound, statistics, clearing, and reuse by real casts."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import tensorbridge as tb


@pytest.fixture(autouse=True)
def restore_limit() -> Iterator[None]:
    before = tb.block_cache_limit()
    yield
    tb.set_block_cache_limit(before)


def test_a_freed_cast_output_is_reused() -> None:
    tb.set_block_cache_limit(256 << 20)
    tb.clear_block_cache()
    src = np.arange(1 << 20, dtype=np.float32)  # 8 MiB as float64
    first = tb.cast(src, "float64")
    address = np.from_dlpack(first).ctypes.data
    del first
    held = tb.block_cache_stats()
    assert held.cached_blocks == 1 and held.cached_bytes >= 8 << 20
    second = tb.cast(src, "float64")
    after = tb.block_cache_stats()
    assert after.hits == held.hits + 1 and after.cached_blocks == 0
    assert np.from_dlpack(second).ctypes.data == address
    np.testing.assert_array_equal(np.from_dlpack(second), src.astype(np.float64))  # nothing stale


def test_limit_zero_disables_and_clear_releases() -> None:
    tb.set_block_cache_limit(256 << 20)
    x = tb.cast(np.ones(1 << 20, np.float32), "float64")
    del x
    assert tb.block_cache_stats().cached_bytes > 0
    tb.clear_block_cache()
    stats = tb.block_cache_stats()
    assert (stats.cached_bytes, stats.cached_blocks, stats.limit) == (0, 0, 256 << 20)
    tb.set_block_cache_limit(0)
    y = tb.cast(np.ones(1 << 20, np.float32), "float64")
    del y
    assert tb.block_cache_stats().cached_bytes == 0 and tb.block_cache_limit() == 0


def test_lowering_the_limit_releases_down_to_it() -> None:
    tb.set_block_cache_limit(256 << 20)
    tb.clear_block_cache()
    outs = [tb.cast(np.ones(1 << 20, np.float32), "float64") for _ in range(3)]
    del outs
    assert tb.block_cache_stats().cached_blocks == 3
    tb.set_block_cache_limit(20 << 20)
    stats = tb.block_cache_stats()
    assert stats.cached_bytes <= 20 << 20 and stats.cached_blocks < 3


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), ("512M", TypeError), (True, TypeError)])
def test_bad_limits_say_what_is_expected(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="set_block_cache_limit: nbytes must be"):
        tb.set_block_cache_limit(bad)  # type: ignore[arg-type]

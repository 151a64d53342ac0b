"""A pipeline over a memory-mapped ``.npy`` with ``keep_resident=False`` reads rows with positioned
reads and never maps them in: every sample once, and RssFile stays far below the file size."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tensorbridge as tb
from frameworks import rss_file

ROWS, WIDTH = 65536, 1024  # 256 MiB of float32, 4 KiB rows
FILE_BYTES = ROWS * WIDTH * 4



@pytest.fixture(scope="module")
def big_npy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """x.npy (row i holds i everywhere), written in chunks, and labels.npy (row i holds i)."""
    folder = tmp_path_factory.mktemp("memmap")
    x_path, y_path = folder / "x.npy", folder / "labels.npy"
    x = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32, shape=(ROWS, WIDTH))
    for start in range(0, ROWS, 8192):
        x[start:start + 8192] = np.arange(start, start + 8192, dtype=np.float32)[:, None]
    x.flush()
    del x
    np.save(y_path, np.arange(ROWS, dtype=np.int64))
    return x_path, y_path


def _epoch_peak_rss_growth(paths: tuple[Path, Path], keep_resident: bool) -> int:
    ds = (tb.Dataset.from_npy((str(paths[0]), str(paths[1])), keep_resident=keep_resident)
          .shuffle(seed=0).batch(64).prefetch(2))
    seen = np.zeros(ROWS, dtype=np.int64)
    start = rss_file()
    peak = 0
    for i, (xb, yb) in enumerate(ds.as_numpy()):
        assert (xb == yb[:, None].astype(np.float32)).all()
        seen[yb] += 1  # a permutation: no index twice within a batch
        if i % 8 == 0:
            peak = max(peak, rss_file() - start)
    assert (seen == 1).all(), "every sample exactly once"
    return max(peak, rss_file() - start)


def test_positioned_reads_stream_a_memmapped_npy_without_mapping_it_in(big_npy: tuple[Path, Path]) -> None:
    growth = _epoch_peak_rss_growth(big_npy, keep_resident=False)
    assert growth < FILE_BYTES // 16, f"RssFile grew by {growth >> 20} MiB over a {FILE_BYTES >> 20} MiB file"


def test_keep_resident_maps_the_whole_file_in(big_npy: tuple[Path, Path]) -> None:
    # The control that shows the measurement above can fail: reading through the mapping leaves
    # every page touched resident.
    assert _epoch_peak_rss_growth(big_npy, keep_resident=True) > FILE_BYTES // 2


def test_a_file_truncated_after_it_was_mapped_raises_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.npy"
    np.save(path, np.arange(1024 * 1024, dtype=np.float32).reshape(1024, 1024))
    ds = tb.Dataset.from_npy(str(path)).batch(256)
    os.truncate(path, 2 << 20)
    with pytest.raises(tb.ReadError, match=r"cut\.npy: row 511 needs 4096 bytes at byte offset \d+.*truncated"):
        for _ in ds:
            pass

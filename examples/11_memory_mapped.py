"""Memory-mapped arrays (np.memmap / np.load(mmap_mode="r")) straight into tensors and pipelines."""
import tempfile
from pathlib import Path

import numpy as np

import tensorbridge as tb

with tempfile.TemporaryDirectory() as d:
    path = Path(d) / "big.npy"
    tb.save(path, np.arange(10_000, dtype=np.float32).reshape(1000, 10))
    x = tb.load(path, mmap=True)                      # O(1), nothing read yet, read-only
    assert x.read_only and x.shape == (1000, 10)
    ds = tb.Dataset.from_npy(str(path)).batch(100)     # reads only each batch's rows
    total = sum(float(b.sum()) for b in ds.as_numpy())
    assert total == float(np.arange(10_000).sum())
    del x, ds

"""Shuffled batches from in-memory arrays: tensorbridge's pipeline against the frameworks' own ways.

1M x 10 float32 features + int64 labels, shuffled, batches of 32, 256 and 1024, consumed as torch
tensors (TensorFlow tensors for the tf.data rows). Prints samples/s and ratios against each anchor
measured in the same run; writes bench/results/bench_pipeline.json. Never asserts timings.

    PYTHONPATH=build/dev-NAME/site .venv/bin/python bench/bench_pipeline.py [--rows N] [--batches 32,256,1024]

Anchors:
- DataLoader(TensorDataset, shuffle=True): one Python call per sample; measured on a limited number
  of batches and extrapolated (it is slow).
- DataLoader with a BatchSampler as sampler (batch_size=None): one fancy index per batch.
- NumPy fancy-index loop + torch.from_numpy, over a permutation.
- tf.data from_tensor_slices((X, y)).shuffle(N).batch(B), a full epoch (buffer fill included).
- gather limit: C++ memcpy of the same rows in the same order into reused buffers, one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import torch

import tensorbridge as tb


def rate(fn: Callable[[], int], min_time: float = 0.3, repeats: int = 3) -> float:
    """Best samples/s of `fn` (which returns the samples it consumed) over a few runs."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        n = 0
        while True:
            n += fn()
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = max(best, n / elapsed)
    return best


def bench(rows: int, batch: int, limited: int, with_tf: bool) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 10), dtype=np.float32)
    y = rng.integers(0, 10, rows).astype(np.int64)
    out: dict[str, float] = {}

    ds = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=0).batch(batch).prefetch(4)

    def tb_torch() -> int:
        n = 0
        for xb, _ in ds.as_torch():
            n += xb.shape[0]
        return n

    def tb_numpy() -> int:
        n = 0
        for xb, _ in ds.as_numpy():
            n += xb.shape[0]
        return n

    out["tensorbridge as_torch"] = rate(tb_torch)
    out["tensorbridge as_numpy"] = rate(tb_numpy)

    tds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))

    def loader_limited(loader: Any) -> Callable[[], int]:
        def run() -> int:
            n = 0
            for i, (xb, _) in enumerate(loader):
                n += xb.shape[0]
                if i + 1 >= limited:
                    break
            return n

        return run

    out["DataLoader(TensorDataset, shuffle=True)"] = rate(
        loader_limited(torch.utils.data.DataLoader(tds, batch_size=batch, shuffle=True)), repeats=1)
    sampler = torch.utils.data.BatchSampler(torch.utils.data.RandomSampler(tds), batch, drop_last=False)
    out["DataLoader(sampler=BatchSampler)"] = rate(
        loader_limited(torch.utils.data.DataLoader(tds, sampler=sampler, batch_size=None)), repeats=1)

    def numpy_loop() -> int:
        perm = rng.permutation(rows)
        n = 0
        for i in range(0, rows, batch):
            idx = perm[i:i + batch]
            xb, _ = torch.from_numpy(x[idx]), torch.from_numpy(y[idx])
            n += xb.shape[0]
        return n

    out["NumPy fancy index + torch.from_numpy"] = rate(numpy_loop)

    order = np.asarray(_epoch_order(x, y), dtype=np.int64)
    fields = [tb.asarray(x)._c, tb.asarray(y)._c]
    order_t = tb.asarray(order)._c
    out["gather limit (C++ memcpy, 1 thread)"] = max(rows / tb._ext.time_gather(fields, order_t, batch) for _ in range(3))

    if with_tf:
        import tensorflow as tf

        tfd = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(rows).batch(batch)

        def tf_epoch() -> int:
            n = 0
            for xb, _ in tfd:
                n += int(xb.shape[0])
            return n

        out["tf.data from_tensor_slices.shuffle(N).batch"] = rate(tf_epoch, min_time=0.0, repeats=1)
        gen = ds.to_tf_dataset()

        def tb_generator() -> int:
            n = 0
            for xb, _ in gen:
                n += int(xb.shape[0])
            return n

        out["tensorbridge to_tf_dataset (from_generator)"] = rate(tb_generator, min_time=0.0, repeats=1)

        def tb_tf() -> int:
            n = 0
            for xb, _ in ds.as_tf():
                n += int(xb.shape[0])
            return n

        out["tensorbridge as_tf"] = rate(tb_tf, min_time=0.0, repeats=1)
    return out


def _epoch_order(x: np.ndarray, y: np.ndarray) -> list[int]:
    """The pipeline's own order for epoch 0 (one batch of everything has the same permutation)."""
    whole = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=0).batch(len(x))
    return whole._c.batch_indices(0, 0, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batches", default="32,256,1024")
    parser.add_argument("--limited", type=int, default=300, help="batches measured for the slow DataLoader rows")
    parser.add_argument("--no-tf", action="store_true", help="skip the TensorFlow rows")
    args = parser.parse_args()

    results: dict[str, Any] = {"rows": args.rows, "features": 10, "cpus": os.cpu_count(),
                               "machine": platform.processor() or platform.machine(), "batches": {}}
    anchor = "tensorbridge as_torch"
    for batch in (int(b) for b in args.batches.split(",")):
        figures = bench(args.rows, batch, args.limited, not args.no_tf)
        results["batches"][str(batch)] = figures
        print(f"\nbatch {batch}: {args.rows} x 10 float32 + int64 labels, shuffled")
        print(f"{'':48s} {'samples/s':>12s} {'tensorbridge / this':>20s}")
        for name, value in figures.items():
            print(f"{name:48s} {value / 1e6:10.2f} M {figures[anchor] / value:19.2f}x")
    out = Path(__file__).parent / "results" / "bench_pipeline.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()

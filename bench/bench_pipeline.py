"""Shuffled batches from in-memory arrays: tensorbridge's pipeline against the frameworks' own ways.

1M x 10 float32 features + int64 labels, shuffled, batches of 32, 256 and 1024, consumed as torch
tensors (TensorFlow tensors for the tf.data rows). Prints samples/s and ratios against each anchor
measured in the same run; writes bench/results/bench_pipeline.json. Never asserts timings.

    PYTHONPATH=build/dev-NAME/site .venv/bin/python bench/bench_pipeline.py [--rows N] [--batches 32,256,1024]

Method (``_harness.measure``'s, the same for every contender): each contender is a long-lived
iterator that starts a new epoch when one ends; one timed call pulls the same number of batches
(``--samples`` samples' worth) from it. Warm-up, calibration and interleaved rounds as in
``_harness``; the median seconds per call is the figure. Costs paid once per epoch (tf.data's
shuffle-buffer fill, a DataLoader's new sampler) fall into a few calls: in the max, not the median.
Before any timing, each contender's first batches are checked: every label (the row number) at
most once, and every feature row equal to the source row of its label.

Anchors (consumed as torch tensors; the tf.data rows against tensorbridge's TensorFlow outputs):
- DataLoader(TensorDataset, shuffle=True): one Python call per sample.
- DataLoader with a BatchSampler as sampler (batch_size=None): one fancy index per batch.
- NumPy fancy-index loop + torch.from_numpy, over a permutation.
- tf.data from_tensor_slices((X, y)).shuffle(N).batch(B), against ``as_tf`` and ``to_tf_dataset``.
- gather limit (a ceiling, not a competitor): C++ memcpy of the same rows in the same order into
  reused buffers, one thread.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness
import tensorbridge as tb

WHY = {
    "DataLoader(TensorDataset, shuffle=True)": "one Python __getitem__ per sample, then a collate",
    "DataLoader(sampler=BatchSampler)": "one fancy index per batch through the DataLoader machinery",
    "NumPy fancy index + torch.from_numpy": "one fancy index per batch in NumPy, on one thread",
    "tf.data from_tensor_slices.shuffle(N).batch": "tf.data's C++ pipeline, element by element through a shuffle buffer",
    "gather limit (C++ memcpy, 1 thread)": "a ceiling, not a competitor: the rows copied with no pipeline around them",
}
WHY_GENERATOR = "to_tf_dataset feeds tf.data through from_generator: one Python call per batch (as_tf avoids it)"


def cycle(make: Callable[[], Any]) -> Iterator[Any]:
    """Batches forever: a new epoch (``make()``) whenever one ends."""
    while True:
        yield from make()


def pull(it: Iterator[Any], count: int) -> int:
    n = 0
    for _ in range(count):
        xb, _ = next(it)
        n += int(xb.shape[0])
    return n


def check(name: str, it: Iterator[Any], count: int, x: np.ndarray) -> None:
    """The first ``count`` batches: each label (a row number) at most once, features equal to that row."""
    seen: set[int] = set()
    for _ in range(count):
        xb, yb = (_harness.to_numpy(v) for v in next(it))
        labels = yb.astype(np.int64).tolist()
        if seen.intersection(labels) or len(set(labels)) != len(labels):
            raise _harness.Mismatch(f"{name}: a sample came twice in one epoch")
        seen.update(labels)
        _harness.assert_same(x[np.asarray(labels)], xb, name)


def bench(rows: int, batch: int, samples: int, with_tf: bool) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 10), dtype=np.float32)
    y = np.arange(rows, dtype=np.int64)  # the row number: lets every contender's output be checked
    count = max(1, min(math.ceil(samples / batch), rows // batch))  # batches per call, within one epoch
    ds = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=0).batch(batch).prefetch(4)
    tds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))

    def numpy_loop() -> Iterator[Any]:
        perm = rng.permutation(rows)
        for i in range(0, rows, batch):
            idx = perm[i:i + batch]
            yield torch.from_numpy(x[idx]), torch.from_numpy(y[idx])

    def batch_sampler_loader() -> Any:
        sampler = torch.utils.data.BatchSampler(torch.utils.data.RandomSampler(tds), batch, drop_last=False)
        return torch.utils.data.DataLoader(tds, sampler=sampler, batch_size=None)

    groups: list[tuple[str, dict[str, Callable[[], Any]]]] = [("tensorbridge as_torch", {
        "tensorbridge as_torch": ds.as_torch,
        "DataLoader(TensorDataset, shuffle=True)": lambda: torch.utils.data.DataLoader(tds, batch_size=batch, shuffle=True),
        "DataLoader(sampler=BatchSampler)": batch_sampler_loader,
        "NumPy fancy index + torch.from_numpy": numpy_loop,
    })]
    if with_tf:
        import tensorflow as tf

        tfd = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(rows).batch(batch)
        gen = ds.to_tf_dataset()
        for ours, make in (("tensorbridge as_tf", ds.as_tf), ("tensorbridge to_tf_dataset", lambda: gen)):
            groups.append((ours, {ours: make, "tf.data from_tensor_slices.shuffle(N).batch": lambda: tfd}))

    out = []
    case = f"batch {batch}, {rows} x 10 float32 + int64 labels, shuffled"
    for ours, makers in groups:
        for name, make in makers.items():
            check(name, iter(make()), count, x)
        iters = {name: cycle(make) for name, make in makers.items()}
        times = _harness.measure({name: (lambda it=it: pull(it, count)) for name, it in iters.items()}, same=None)
        for name in makers:
            if name != ours:
                why = WHY[name] if ours != "tensorbridge to_tf_dataset" else WHY_GENERATOR
                out.append(_harness.row(case, ours, name, times[ours], times[name], why=why,
                                        samples_per_call=count * batch))

    # The ceiling: the same rows gathered by a bare C++ loop, timed over whole epochs and scaled to one call.
    order = tb.asarray(np.asarray(_epoch_order(x, y), dtype=np.int64))._c
    fields = [tb.asarray(x)._c, tb.asarray(y)._c]
    per_call = [tb._ext.time_gather(fields, order, batch) * count * batch / rows for _ in range(_harness.REPEATS)]
    ours_stats = next(r["ours_stats"] for r in out if r["ours"] == "tensorbridge as_torch")
    name = "gather limit (C++ memcpy, 1 thread)"
    out.append(_harness.row(case, "tensorbridge as_torch", name, ours_stats, _harness.stats(per_call), why=WHY[name],
                            samples_per_call=count * batch, ceiling=True))
    return out


def _epoch_order(x: np.ndarray, y: np.ndarray) -> list[int]:
    """The pipeline's own order for epoch 0 (one batch of everything has the same permutation)."""
    whole = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=0).batch(len(x))
    return whole._c.batch_indices(0, 0, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batches", default="32,256,1024")
    parser.add_argument("--samples", type=int, default=65536, help="samples per timed call (default 65536)")
    parser.add_argument("--no-tf", action="store_true", help="skip the TensorFlow rows")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for batch in (int(b) for b in args.batches.split(",")):
        rows += bench(args.rows, batch, args.samples, not args.no_tf)
    _harness.print_rows("Shuffled batches from in-memory arrays (ratio = anchor time / tensorbridge time)", rows)
    _harness.save("bench_pipeline", {"rows_in_data": args.rows, "features": 10, "rows": rows})


if __name__ == "__main__":
    main()

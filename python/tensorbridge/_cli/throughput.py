"""Step (d) of the demo: shuffled batches per second from the tensorbridge pipeline against
``DataLoader(TensorDataset, shuffle=True)`` and ``tf.data...shuffle().batch()`` on the same arrays.

Each loader runs ``batches`` batches (cycling epochs as needed) after one warm-up batch; the
figure is samples per second, and the ratio is tensorbridge's rate over the other's."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import tensorbridge as tb

from .progress import Progress


def _rate(name: str, make_epoch: Callable[[], Iterator[Any]], batches: int) -> float:
    """Samples per second over ``batches`` batches drawn from successive epochs."""
    it = make_epoch()
    next(it)  # warm-up: threads started, graphs traced
    samples, done = 0, 0
    with Progress(batches, name, "batch") as bar:
        t0 = time.perf_counter()
        while done < batches:
            try:
                xb, _ = next(it)
            except StopIteration:
                it = make_epoch()
                continue
            samples += xb.shape[0]
            done += 1
            bar.update()
        elapsed = time.perf_counter() - t0
    return samples / elapsed


def measure(x: np.ndarray, y: np.ndarray, batch_size: int, batches: int, names: list[str]) -> dict[str, float]:
    """Samples/s of each loader available among ``names`` on the same ``(x, y)``."""
    ds = tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=0).batch(batch_size).prefetch(2)
    rates: dict[str, float] = {}
    first = "torch" if "torch" in names else "numpy"
    rates[f"tensorbridge Dataset.as_{first}"] = _rate(
        "tensorbridge", lambda: iter(ds.as_torch() if first == "torch" else ds.as_numpy()), batches)
    if "torch" in names:
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=batch_size,
                            shuffle=True)
        rates["DataLoader(TensorDataset, shuffle=True)"] = _rate("DataLoader", lambda: iter(loader), batches)
    if "tensorflow" in names:
        import tensorflow as tf

        tfds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size)
        rates["tf.data from_tensor_slices().shuffle().batch()"] = _rate("tf.data", lambda: iter(tfds), batches)
    return rates


def report(rates: dict[str, float], batch_size: int, batches: int) -> None:
    """Prints one line per loader: samples/s and how many times faster tensorbridge was."""
    (ours_name, ours), *others = rates.items()
    print(f"  {batches} shuffled batches of {batch_size} from each loader:")
    print(f"    {ours_name:<48} {ours:>12,.0f} samples/s")
    for name, rate in others:
        print(f"    {name:<48} {rate:>12,.0f} samples/s   tensorbridge is {ours / rate:.1f}x")

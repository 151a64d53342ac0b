"""Lifetimes: a shared tensor keeps its source alive; the source goes when the last view goes;
every deleter runs once; no growth over 100k conversions."""

from __future__ import annotations

import gc
import resource
import weakref

import numpy as np

import tensorbridge as tb
from tensorbridge import _ext


class Owner(np.ndarray):
    """An ndarray subclass, so that a weak reference can watch the source object."""


def test_source_lives_as_long_as_a_view(torch):
    base = np.arange(1000, dtype=np.float32).view(Owner)
    ref = weakref.ref(base)
    t = tb.to_torch(base)
    del base
    gc.collect()
    assert ref() is not None  # the torch tensor keeps it alive
    assert t[999].item() == 999
    del t
    gc.collect()
    assert ref() is None


def test_every_deleter_runs_once(torch, tf, jax):
    gc.collect()
    before = _ext.live_storages()
    x = np.arange(64, dtype=np.float32)
    outs = [tb.to_torch(x), tb.to_tf(x), tb.to_jax(x), tb.to_numpy(x), tb.asarray(x), tb.to_torch(x[::-1])]
    assert _ext.live_storages() > before
    del outs
    gc.collect()
    assert _ext.live_storages() == before


def test_tb_tensor_chain_releases(torch):
    base = np.ones(10).view(Owner)
    ref = weakref.ref(base)
    t = tb.asarray(base)
    n = np.from_dlpack(t)
    del base, t
    gc.collect()
    assert ref() is not None
    del n
    gc.collect()
    assert ref() is None


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def test_no_leak_over_100k_conversions(torch):
    x = np.arange(256, dtype=np.float32)
    for _ in range(10_000):  # warm up allocators and caches
        tb.to_torch(x)
        tb.to_numpy(x, dtype="float64")
    gc.collect()
    start, storages = _rss_mib(), _ext.live_storages()
    for _ in range(100_000):
        tb.to_torch(x)
        tb.to_numpy(x, dtype="float64")
    gc.collect()
    assert _ext.live_storages() == storages
    assert _rss_mib() - start < 8, "resident memory grew over 100k conversions"

"""Lifetimes: a shared tensor keeps its source alive; the source goes when the last view goes;
every deleter runs once; no growth over 100k conversions."""

from __future__ import annotations

import gc
import os
import resource
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

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


def _run_isolated(code: str) -> str:
    """Runs ``code`` in a fresh interpreter, so that a crash fails this test instead of killing
    pytest; returns its standard output."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 0, f"exit status {r.returncode}\n{r.stdout}\n{r.stderr[-3000:]}"
    return r.stdout


def test_writes_through_dlpack_of_a_read_only_map_never_reach_the_file(tmp_path, torch, tf, jax):
    """torch asks for DLPack 1.x and ignores its READ_ONLY flag; a read-only map is exported as a
    private copy-on-write map of the same pages, so its writes stay in memory: no crash, the file
    and the tb.Tensor keep their values, and no data is copied at export."""
    path = tmp_path / "m.npy"
    np.save(path, np.arange(1000, dtype=np.float32))
    npz = tmp_path / "d.npz"
    np.savez(npz, a=np.arange(1000, dtype=np.float32))
    before, before_npz = path.read_bytes(), npz.read_bytes()
    out = _run_isolated(f"""
        import numpy as np, torch, jax, tensorflow as tf, tensorbridge as tb
        m = tb.load({str(path)!r}, mmap=True)
        assert m.read_only
        t = torch.from_dlpack(m)
        t.add_(1)                                     # crashed (SIGSEGV) on the read-only map
        assert t[0].item() == 1.0 and t[999].item() == 1000.0
        assert np.asarray(m)[0] == 0.0                # the map itself is unchanged
        t2 = tb.to_torch(m)                           # zero-copy as well, through the same means
        assert tb.explain(m, to="torch").zero_copy
        t2.mul_(3)
        assert t2[1].item() == 3.0 and np.asarray(m)[1] == 1.0
        n = np.from_dlpack(m)                         # NumPy honours the READ_ONLY flag
        assert not n.flags.writeable and n[2] == 2.0
        assert float(jax.dlpack.from_dlpack(m)[3]) == 3.0
        assert float(tf.experimental.dlpack.from_dlpack(m.__dlpack__())[4]) == 4.0
        member = tb.load({str(npz)!r}, mmap=True)["a"]
        torch.from_dlpack(member).fill_(7)
        assert np.asarray(member)[5] == 5.0
        print("survived")
    """)
    assert "survived" in out
    assert path.read_bytes() == before and npz.read_bytes() == before_npz
    np.testing.assert_array_equal(np.load(path), np.arange(1000, dtype=np.float32))


def test_writes_through_dlpack_never_change_a_read_only_numpy_source(torch, jax):
    """Read-only memory that is not a file map goes to an untrusted consumer as a writable copy
    (flagged IS_COPIED); to_numpy/to_jax/np.asarray, which keep it read-only, still share it."""
    out = _run_isolated("""
        import numpy as np, torch, jax, tensorbridge as tb
        ro = np.arange(4.0)
        ro.flags.writeable = False
        t = torch.from_dlpack(tb.asarray(ro))
        t.add_(1)                                     # wrote into ro through a writable alias
        assert ro.tolist() == [0.0, 1.0, 2.0, 3.0], ro
        n = np.from_dlpack(tb.asarray(ro))
        n[:] = 9 if n.flags.writeable else n
        assert ro.tolist() == [0.0, 1.0, 2.0, 3.0], ro
        shared = np.asarray(tb.asarray(ro))
        assert shared.ctypes.data == ro.ctypes.data and not shared.flags.writeable
        assert tb.to_numpy(tb.asarray(ro)).ctypes.data == ro.ctypes.data
        print("unchanged")
    """)
    assert "unchanged" in out
    ro = np.arange(4.0)
    ro.flags.writeable = False
    with pytest.raises(tb.SharingError, match="READ_ONLY"):
        tb.asarray(ro).__dlpack__(max_version=(1, 0), copy=False)

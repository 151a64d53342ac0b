"""Casts: tensorbridge against the strongest thing a NumPy, PyTorch, TensorFlow or JAX user can do
for the same job, under the same conditions, in one run.

Three jobs per (pair, layout), each with its own anchors:

- ``into``: into a reused output. tensorbridge ``tb.cast_into`` against ``np.copyto(out, x,
  casting="unsafe")`` (one thread) and torch ``out.copy_(x)`` (torch's threads), both into their
  own reused output; torch is set to tensorbridge's thread count. The memory-bandwidth ceiling is
  shown as two more anchors: a plain memcpy of
  the same number of bytes read + written, no conversion, into a reused buffer: ``np.copyto`` of
  uint8 (one thread) and torch ``copy_`` of uint8 (torch's threads).
- ``fresh, cache off``: a new output per call with tensorbridge's block cache off
  (``tb.set_block_cache_limit(0)``), so it gets fresh pages from malloc as ``x.astype`` and
  torch ``.to()`` (the anchors) do.
- ``fresh, both reuse``: ``tb.cast`` with the block cache on against ``x.astype``, torch
  ``.to()``, ``tf.cast`` and JAX ``astype``: every library keeps what its allocator keeps
  (tensorbridge's block cache, TensorFlow's BFC pool, JAX's allocator; NumPy and torch's CPU
  allocator ask malloc). TensorFlow and JAX appear only here, as their allocators always reuse.

For a strided source (every other element), TensorFlow and JAX are handed the strided NumPy view,
as their users would hand it (their tensors cannot be strided). Every contender's output is checked
bit-equal to tensorbridge's before it is timed; the method is ``_harness.measure``'s.

    .venv/bin/python bench/bench_cast.py              # 64 MiB sources
    .venv/bin/python bench/bench_cast.py --mib 1024   # 1 GiB sources (needs ~4 GiB of RAM)

Besides the large sources, a cast of each pair at a batch's size (``--batch-mib``, 4 MiB: it stays
in cache, so thread start-up and per-call costs show) into a reused output.

Writes bench/results/bench_cast.json. Never asserts timings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import ml_dtypes
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness
import tensorbridge as tb
from tensorbridge import _ext

PAIRS = [
    ("float64", "float32"),
    ("float32", "float16"),
    ("float32", "bfloat16"),
    ("float16", "float32"),
    ("int64", "float32"),
    ("uint8", "float32"),
]

WHY_COPYTO = "np.copyto converts in one thread; a loss here is per-element conversion speed, not threads"
WHY_TORCH_COPY = "torch copy_ converts on torch's threads with its own vectorised kernels"
WHY_TORCH_COPY_STRIDED = ("pairs with a hand-written kernel (float16, bfloat16) gather a strided source into an L1 "
                          "block, convert it, then store it; torch's copy_ converts in one fused strided loop")
WHY_MEMCPY = "a ceiling, not a competitor: the same bytes moved with no conversion"
WHY_FRESH = "both sides get fresh pages from malloc: page faults and zeroing dominate"
WHY_REUSE = "both keep what their allocator keeps (tb: block cache; TF: BFC pool; NumPy/torch: malloc)"


def np_dtype(name: str) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def frameworks() -> dict[str, Any]:
    import jax
    import tensorflow as tf
    import torch

    jax.config.update("jax_enable_x64", True)  # else float64/int64 sources silently become 32-bit
    import jax.numpy as jnp

    return {"torch": torch, "tf": tf, "jax": jax, "jnp": jnp}


def source(name: str, nbytes: int, strided: bool, rng: np.random.Generator) -> np.ndarray:
    dt = np_dtype(name)
    n = nbytes // dt.itemsize
    total = 2 * n if strided else n
    if dt.kind == "f":
        base = rng.normal(0, 1000, total).astype(dt)
    else:
        info = np.iinfo(dt)
        base = rng.integers(max(info.min, -(10**6)), min(info.max, 10**6), total, dtype=dt)
    return base[::2] if strided else base


def measure_into(fw: dict[str, Any], x: np.ndarray, dst_name: str, traffic: int) -> tuple[Any, str, dict[str, str]]:
    """Times the casts into a reused output and the memcpy ceilings of the same traffic; the
    buffers are freed on return, before the fresh-output rounds."""
    torch = fw["torch"]
    dst_dt = np_dtype(dst_name)
    out = np.empty(x.shape, dst_dt)
    tx, tout = tb.asarray(x), tb.asarray(out)
    tt = torch.from_numpy(x)
    tout_t = torch.empty(x.shape, dtype=getattr(torch, dst_name))
    np_out = np.empty(x.shape, dst_dt)
    half = traffic // 2  # a memcpy of this many bytes reads + writes the cast's traffic
    m_src, m_dst = np.ones(half, np.uint8), np.empty(half, np.uint8)
    tm_src, tm_dst = torch.ones(half, dtype=torch.uint8), torch.empty(half, dtype=torch.uint8)
    memcpy_np = "memcpy: np.copyto uint8 (1 thread)"
    memcpy_torch = f"memcpy: torch copy_ uint8 ({torch.get_num_threads()} threads)"

    def tb_into() -> Any:
        tb.cast_into(tx, tout, casting="unsafe")
        return out

    def np_copyto() -> Any:
        np.copyto(np_out, x, casting="unsafe")
        return np_out

    times = _harness.measure(
        {
            "tb.cast_into": tb_into,
            "np.copyto (1 thread)": np_copyto,
            "torch Tensor.copy_": lambda: tout_t.copy_(tt),
            memcpy_np: lambda: np.copyto(m_dst, m_src),
            memcpy_torch: lambda: tm_dst.copy_(tm_src),
        },
        unchecked=(memcpy_np, memcpy_torch),
    )
    return times, "tb.cast_into", {
        "np.copyto (1 thread)": WHY_COPYTO,
        "torch Tensor.copy_": WHY_TORCH_COPY if x.flags.c_contiguous else WHY_TORCH_COPY_STRIDED,
        memcpy_np: WHY_MEMCPY,
        memcpy_torch: WHY_MEMCPY,
    }


def measure_pair(fw: dict[str, Any], x: np.ndarray, dst_name: str, size: str = "",
                 into_only: bool = False) -> list[dict[str, Any]]:
    """The rows of one (source array, target dtype): three jobs, each measured in its own rounds
    (only the cast into a reused output with ``into_only``); ``size`` is added to the case name."""
    torch, tf, jax, jnp = fw["torch"], fw["tf"], fw["jax"], fw["jnp"]
    dst_dt = np_dtype(dst_name)
    traffic = x.size * (x.dtype.itemsize + dst_dt.itemsize)  # logical bytes read + written
    case = f"{x.dtype.name}->{dst_name}, {'contiguous' if x.flags.c_contiguous else 'strided'}{size}"
    rows: list[dict[str, Any]] = []

    tx = tb.asarray(x)

    def add(job: str, times: dict[str, dict[str, float]], ours: str, whys: dict[str, str]) -> None:
        for anchor, why in whys.items():
            r = _harness.row(f"{case}, {job}", ours, anchor, times[ours], times[anchor], why=why,
                             ceiling=anchor.startswith("memcpy"),
                             gbs_ours=traffic / times[ours]["median"] / 1e9,
                             gbs_anchor=traffic / times[anchor]["median"] / 1e9)
            rows.append(r)

    tt = torch.from_numpy(x)
    t_dt = getattr(torch, dst_name)
    add("into a reused output", *measure_into(fw, x, dst_name, traffic))
    if into_only:
        return rows

    # a fresh output per call: anchors as their users call them
    tf_dt, j_dt = getattr(tf, dst_name), getattr(jnp, dst_name)
    anchors: dict[str, Callable[[], Any]] = {
        "numpy astype": lambda: x.astype(dst_dt),
        "torch .to()": lambda: tt.to(t_dt),
    }
    if x.flags.c_contiguous:
        tfx, jx = tf.constant(x), jax.device_put(x)
        anchors["tf.cast"] = lambda: tf.cast(tfx, tf_dt)
        anchors["jax astype"] = lambda: jx.astype(j_dt).block_until_ready()
    else:
        anchors["tf.cast"] = lambda: tf.cast(x, tf_dt)
        anchors["jax astype"] = lambda: jnp.asarray(x).astype(j_dt).block_until_ready()
    # Cache off: only anchors that also get fresh pages (malloc). TensorFlow's BFC pool and JAX's
    # allocator always reuse, so they are compared only with the cache on.
    fresh = {name: fn for name, fn in anchors.items() if name in ("numpy astype", "torch .to()")}
    limit = tb.block_cache_limit()
    for job, cache, why, against in (("fresh output, tb cache off", 0, WHY_FRESH, fresh),
                                     ("fresh output, both reuse", limit, WHY_REUSE, anchors)):
        tb.set_block_cache_limit(cache)
        times = _harness.measure({"tb.cast": lambda: tb.cast(tx, dst_name), **against})
        add(job, times, "tb.cast", dict.fromkeys(against, why))
    tb.set_block_cache_limit(limit)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=float, default=64, help="source size in MiB (default 64)")
    parser.add_argument("--batch-mib", type=float, default=4,
                        help="also cast contiguous sources of this size (a batch that stays in cache) into a "
                             "reused output (default 4; 0: skip)")
    parser.add_argument("--pairs", default=None, help="comma-separated SRC->DST pairs (default: all six)")
    args = parser.parse_args()
    fw = frameworks()
    # Same threads: torch's copy_, .to() and its memcpy ceiling run on as many threads as tensorbridge.
    fw["torch"].set_num_threads(tb.num_threads())
    nbytes = int(args.mib * (1 << 20))
    pairs = [tuple(p.split("->")) for p in args.pairs.split(",")] if args.pairs else PAIRS
    rng = np.random.default_rng(0)
    rows: list[dict[str, Any]] = []
    for src_name, dst_name in pairs:
        for strided in (False, True):
            x = source(src_name, nbytes, strided, rng)
            rows += measure_pair(fw, x, dst_name)
            del x
        if args.batch_mib > 0:  # where thread start-up costs show: a few MiB take tens of microseconds
            x = source(src_name, int(args.batch_mib * (1 << 20)), False, rng)
            rows += measure_pair(fw, x, dst_name, size=f", {args.batch_mib:g} MiB", into_only=True)
    _harness.print_rows(
        f"Casts of {args.mib:g} MiB sources, tb threads={tb.num_threads()}, torch threads="
        f"{fw['torch'].get_num_threads()}, target={_ext.active_cast_target()} (ratio = anchor time / tb time)", rows)
    _harness.save("bench_cast", {"source_bytes": nbytes, "tb_threads": tb.num_threads(),
                                 "torch_threads": fw["torch"].get_num_threads(),
                                 "cast_target": _ext.active_cast_target(), "rows": rows})


if __name__ == "__main__":
    main()

"""Cast bandwidth: tensorbridge against memcpy, NumPy, PyTorch, TensorFlow and JAX, in one run.

GB/s counts the bytes read plus the bytes written (logical elements, also for strided sources).
The memcpy anchor is ``tb.cast_into`` between two arrays of the SAME dtype, which is a plain
``memcpy`` per chunk on tensorbridge's thread pool with the same thread count as the casts; the
single-threaded ``np.copyto`` is shown too.

    .venv/bin/python bench/bench_cast.py            # 64 MiB sources
    .venv/bin/python bench/bench_cast.py --big      # 1 GiB sources (needs ~4 GiB of RAM)

Prints a table of ratios and writes bench/results/bench_cast.json. Never asserts timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
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


def np_dtype(name: str) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def best_seconds(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm up: page faults of reused buffers, lazy imports, thread start
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def frameworks() -> dict[str, Any]:
    out: dict[str, Any] = {}
    import torch

    out["torch"] = torch
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    out["tf"] = tf
    import jax

    jax.config.update("jax_enable_x64", True)  # else float64/int64 sources silently become 32-bit
    import jax.numpy as jnp

    out["jax"] = jax
    out["jnp"] = jnp
    return out


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


def memcpy_anchor(nbytes: int, repeats: int) -> tuple[float, float]:
    """GB/s (read + write) of a same-dtype ``tb.cast_into`` (memcpy per chunk on tensorbridge's
    thread pool, same thread count as the casts) and of a single-threaded ``np.copyto``."""
    a = np.ones(nbytes // 8, np.float64)
    b = np.empty_like(a)
    ta, tb_b = tb.asarray(a), tb.asarray(b)
    tb_gbs = 2 * a.nbytes / best_seconds(lambda: tb.cast_into(ta, tb_b, casting="no"), repeats) / 1e9
    np_gbs = 2 * a.nbytes / best_seconds(lambda: np.copyto(b, a), repeats) / 1e9
    return tb_gbs, np_gbs


def measure_pair(
    fw: dict[str, Any], x: np.ndarray, dst_name: str, strided: bool, repeats: int
) -> dict[str, Any]:
    """GB/s of every contender for one (source array, target dtype)."""
    torch, tf, jax, jnp = fw["torch"], fw["tf"], fw["jax"], fw["jnp"]
    dst_dt = np_dtype(dst_name)
    traffic = x.size * (x.dtype.itemsize + dst_dt.itemsize)
    out = np.empty(x.shape, dst_dt)
    tx, tout = tb.asarray(x), tb.asarray(out)

    def gbs(fn: Callable[[], Any]) -> float:
        return traffic / best_seconds(fn, repeats) / 1e9

    row: dict[str, Any] = {
        "pair": f"{x.dtype.name}->{dst_name}",
        "layout": "strided" if strided else "contiguous",
    }
    row["tb_into"] = gbs(lambda: tb.cast_into(tx, tout, casting="unsafe"))
    row["tb_fresh"] = gbs(lambda: tb.cast(tx, dst_name))
    row["numpy_astype"] = gbs(lambda: x.astype(dst_dt))
    row["numpy_copyto"] = gbs(lambda: np.copyto(out, x, casting="unsafe"))
    tt = torch.from_numpy(x)
    t_dt = getattr(torch, dst_name)
    row["torch_to"] = gbs(lambda: tt.to(t_dt))
    if dst_name != "bfloat16":  # torch.from_numpy cannot view ml_dtypes' bfloat16
        tout_t = torch.from_numpy(out)
        row["torch_copy_"] = gbs(lambda: tout_t.copy_(tt))
    tfx = tf.constant(x)
    tf_dt = getattr(tf, dst_name)
    row["tf_cast"] = gbs(lambda: tf.cast(tfx, tf_dt))
    jx = jax.device_put(x)
    j_dt = getattr(jnp, dst_name)
    row["jax_astype"] = gbs(lambda: jx.astype(j_dt).block_until_ready())
    return row


def run(nbytes: int, repeats: int) -> dict[str, Any]:
    fw = frameworks()
    torch = fw["torch"]
    rng = np.random.default_rng(0)
    results: dict[str, Any] = {
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "tb_threads": tb.num_threads(),
        "torch_threads": torch.get_num_threads(),
        "cast_target": _ext.active_cast_target(),
        "source_bytes": nbytes,
        "rows": [],
    }
    results["memcpy_gbs"], results["np_copyto_gbs"] = memcpy_anchor(nbytes, repeats)
    for src_name, dst_name in PAIRS:
        for strided in (False, True):
            x = source(src_name, nbytes, strided, rng)
            results["rows"].append(measure_pair(fw, x, dst_name, strided, repeats))
    return results


def print_table(r: dict[str, Any]) -> None:
    print(
        f"{r['source_bytes'] >> 20} MiB sources, tb threads={r['tb_threads']}, torch threads={r['torch_threads']}, "
        f"target={r['cast_target']}; memcpy (tb same-dtype copy, {r['tb_threads']} threads) = "
        f"{r['memcpy_gbs']:.1f} GB/s, np.copyto (1 thread) = {r['np_copyto_gbs']:.1f} GB/s"
    )
    head = (
        f"{'pair':<18}{'layout':<11}{'tb into':>8}{'tb new':>8}{'into/memcpy':>12}{'new/numpy':>10}"
        f"{'new/torch':>10}{'new/tf':>8}{'new/jax':>8}{'into/np.copyto':>15}"
    )
    print(head)
    print("-" * len(head))

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}x" if a and b else "-"

    for row in r["rows"]:
        print(
            f"{row['pair']:<18}{row['layout']:<11}{row['tb_into']:>8.1f}{row['tb_fresh']:>8.1f}"
            f"{ratio(row['tb_into'], r['memcpy_gbs']):>12}{ratio(row['tb_fresh'], row['numpy_astype']):>10}"
            f"{ratio(row['tb_fresh'], row['torch_to']):>10}{ratio(row['tb_fresh'], row['tf_cast']):>8}"
            f"{ratio(row['tb_fresh'], row['jax_astype']):>8}{ratio(row['tb_into'], row['numpy_copyto']):>15}"
        )
    print("(tb into / tb new in GB/s of bytes read + written; ratios > 1 mean tensorbridge is faster)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big", action="store_true", help="1 GiB sources instead of 64 MiB")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (best is kept)")
    args = parser.parse_args()
    nbytes = (1 << 30) if args.big else (64 << 20)
    results = run(nbytes, args.repeats)
    print_table(results)
    out = Path(__file__).parent / "results" / "bench_cast.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

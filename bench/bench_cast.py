"""Cast bandwidth: tensorbridge against memcpy, NumPy, PyTorch, TensorFlow and JAX, in one run.

GB/s counts the bytes read plus the bytes written (logical elements, also for strided sources,
which make every contender read twice the source bytes). The memcpy anchor is ``tb.cast_into``
between two arrays of the SAME dtype, which is a plain ``memcpy`` per chunk on tensorbridge's
thread pool with the same thread count as the casts; the single-threaded ``np.copyto`` is shown too.
Memory bandwidth on a shared machine drifts by tens of percent from second to second, so each row
times every contender once per round, in turn, with its own memcpy, and keeps each one's best round.

Three situations, each against the same anchors measured in the same run:

- ``into``: into a reused output (``tb.cast_into``), against memcpy;
- ``steady``: a fresh output per call, repeated as a training loop repeats it (best of
  ``--repeats`` after a warm-up call). Every library reuses what its allocator keeps:
  tensorbridge's block cache, TensorFlow's BFC pool; NumPy and torch ask malloc, which maps and
  faults fresh pages for arrays of this size each time;
- ``cold``: the first call into memory the process never touched (page faults and zeroing of
  every page included), one child process per library; each call's output and every source stay
  alive in the child, so no allocator can hand back memory it has already mapped. One sample per
  case (noisier than the rest); ``--no-cold`` skips it.

    .venv/bin/python bench/bench_cast.py            # 64 MiB sources
    .venv/bin/python bench/bench_cast.py --big      # 1 GiB sources (needs ~4 GiB of RAM; no cold)

Prints a table of ratios and writes bench/results/bench_cast.json. Never asserts timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
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


def copyto_gbs(nbytes: int, repeats: int) -> float:
    """GB/s (read + write) of a single-threaded ``np.copyto`` of ``nbytes``, shown beside the anchor."""
    a = np.ones(nbytes // 8, np.float64)
    b = np.empty_like(a)
    return 2 * a.nbytes / best_seconds(lambda: np.copyto(b, a), repeats) / 1e9


def interleaved_best(contenders: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Best seconds of each contender over ``repeats`` rounds; each round times every contender once,
    in turn, so a slow or fast spell of the machine's memory bandwidth falls on all of them alike
    rather than on whichever ran then. One warm-up call each first."""
    for fn in contenders.values():
        fn()
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(repeats):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def measure_pair(
    fw: dict[str, Any], x: np.ndarray, dst_name: str, strided: bool, repeats: int, copy_pair: tuple[Any, Any]
) -> dict[str, Any]:
    """GB/s of every contender for one (source array, target dtype), with the memcpy anchor timed in
    the same rounds (``copy_pair``: two float64 tb tensors of the sources' size, copied into each
    other by a same-dtype ``tb.cast_into``). For a strided source, TensorFlow and JAX are handed the strided NumPy view, as
    their users would hand it (their tensors cannot be strided): their time includes making the
    dense tensor they cast. Their cast of that dense tensor alone is kept as ``*_dense``."""
    torch, tf, jax, jnp = fw["torch"], fw["tf"], fw["jax"], fw["jnp"]
    dst_dt = np_dtype(dst_name)
    traffic = x.size * (x.dtype.itemsize + dst_dt.itemsize)
    out = np.empty(x.shape, dst_dt)
    tx, tout = tb.asarray(x), tb.asarray(out)
    tcopy_src, tcopy_dst = copy_pair

    same = np.empty(x.shape, x.dtype)  # the "same bytes" anchor: this source copied without a cast
    tsame = tb.asarray(same)

    tt = torch.from_numpy(x)
    t_dt = getattr(torch, dst_name)
    tf_dt, j_dt = getattr(tf, dst_name), getattr(jnp, dst_name)
    tfx, jx = tf.constant(x), jax.device_put(x)
    contenders: dict[str, Callable[[], Any]] = {
        "memcpy": lambda: tb.cast_into(tcopy_src, tcopy_dst, casting="no"),
        "copy": lambda: tb.cast_into(tx, tsame, casting="no"),
        "tb_into": lambda: tb.cast_into(tx, tout, casting="unsafe"),
        "tb_fresh": lambda: tb.cast(tx, dst_name),
        "numpy_astype": lambda: x.astype(dst_dt),
        "numpy_copyto": lambda: np.copyto(out, x, casting="unsafe"),
        "torch_to": lambda: tt.to(t_dt),
    }
    if dst_name != "bfloat16":  # torch.from_numpy cannot view ml_dtypes' bfloat16
        tout_t = torch.from_numpy(out)
        contenders["torch_copy_"] = lambda: tout_t.copy_(tt)
    if strided:
        contenders["tf_cast"] = lambda: tf.cast(x, tf_dt)
        contenders["jax_astype"] = lambda: jnp.asarray(x).astype(j_dt).block_until_ready()
        contenders["tf_cast_dense"] = lambda: tf.cast(tfx, tf_dt)
        contenders["jax_astype_dense"] = lambda: jx.astype(j_dt).block_until_ready()
    else:
        contenders["tf_cast"] = lambda: tf.cast(tfx, tf_dt)
        contenders["jax_astype"] = lambda: jx.astype(j_dt).block_until_ready()
    best = interleaved_best(contenders, repeats)

    row: dict[str, Any] = {
        "pair": f"{x.dtype.name}->{dst_name}",
        "layout": "strided" if strided else "contiguous",
        # The into/memcpy ratio a cast reaches if it moves the bytes it must touch at memcpy's
        # bandwidth: a strided source brings in every cache line of its base, twice its bytes.
        "memcpy_bound": traffic / (x.size * ((2 if strided else 1) * x.dtype.itemsize + dst_dt.itemsize)),
        "memcpy_gbs": 2 * tcopy_src.nbytes / best.pop("memcpy") / 1e9,
        # The same source copied to a dense array of its own dtype on the same threads: for a
        # strided source, the gather alone, reading the same cache lines the cast reads.
        "copy_gbs": 2 * x.size * x.dtype.itemsize / best.pop("copy") / 1e9,
    }
    row.update({name: traffic / seconds / 1e9 for name, seconds in best.items()})
    return row


COLD_LIBRARIES = ["tb", "numpy", "torch", "tf", "jax"]


def cold_contender(library: str, x: np.ndarray, dst_name: str) -> tuple[Callable[[], Any], list[Any]]:
    """The fresh-output cast of ``library`` on ``x`` and the objects (sources) to keep alive."""
    dst_dt = np_dtype(dst_name)
    if library == "tb":
        tx = tb.asarray(x)
        return (lambda: tb.cast(tx, dst_name)), [tx]
    if library == "numpy":
        return (lambda: x.astype(dst_dt)), []
    if library == "torch":
        import torch

        tt, t_dt = torch.from_numpy(x), getattr(torch, dst_name)
        return (lambda: tt.to(t_dt)), [tt]
    if library == "tf":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf

        tfx, tf_dt = tf.constant(x), getattr(tf, dst_name)
        return (lambda: tf.cast(tfx, tf_dt)), [tfx]
    if library == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        jx, j_dt = jax.device_put(x), getattr(jnp, dst_name)
        return (lambda: jx.astype(j_dt).block_until_ready()), [jx]
    raise ValueError(f"unknown library {library!r}; expected one of {COLD_LIBRARIES}")


def cold_child(library: str, nbytes: int) -> dict[str, float]:
    """In a fresh process: GB/s of the first call of ``library``'s cast into untouched memory, per
    case. A first call on the same data warms code paths, threads and JIT caches; its output, the
    timed call's output and every source stay alive until the end, so the timed call can only get
    pages the process never touched. For "tb", also the same-dtype copy into fresh memory (the
    cold memcpy anchor)."""
    rng = np.random.default_rng(0)
    keep: list[Any] = []
    out: dict[str, float] = {}

    def first_touch(fn: Callable[[], Any]) -> float:
        keep.append(fn())  # warm-up, kept alive
        t0 = time.perf_counter()
        keep.append(fn())
        return time.perf_counter() - t0

    if library == "tb":
        a = np.ones(nbytes // 8, np.float64)
        ta = tb.asarray(a)
        keep.append(ta)
        out["memcpy"] = 2 * a.nbytes / first_touch(lambda: tb.cast(ta, "float64")) / 1e9
    for src_name, dst_name in PAIRS:
        for strided in (False, True):
            x = source(src_name, nbytes, strided, rng)
            fn, sources = cold_contender(library, x, dst_name)
            keep += sources  # tb and torch views keep x alive; TF and JAX hold their own copies
            traffic = x.size * (x.dtype.itemsize + np_dtype(dst_name).itemsize)
            key = f"{x.dtype.name}->{dst_name}/{'strided' if strided else 'contiguous'}"
            out[key] = traffic / first_touch(fn) / 1e9
    return out


def run_cold(nbytes: int) -> dict[str, dict[str, float]]:
    """``cold_child`` for every library, one child process each, one after the other."""
    results: dict[str, dict[str, float]] = {}
    for library in COLD_LIBRARIES:
        proc = subprocess.run(
            [sys.executable, __file__, "--cold-child", library, "--bytes", str(nbytes)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[library] = json.loads(proc.stdout.strip().splitlines()[-1])
    return results


def run(nbytes: int, repeats: int, cold: bool) -> dict[str, Any]:
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
    results["np_copyto_gbs"] = copyto_gbs(nbytes, repeats)
    # The memcpy anchor: a same-dtype tb.cast_into of the sources' size on the same threads.
    copy_pair = (tb.asarray(np.ones(nbytes // 8, np.float64)), tb.asarray(np.empty(nbytes // 8, np.float64)))
    for src_name, dst_name in PAIRS:
        for strided in (False, True):
            x = source(src_name, nbytes, strided, rng)
            results["rows"].append(measure_pair(fw, x, dst_name, strided, repeats, copy_pair))
            del x
    # Each row is compared with the memcpy timed in its own rounds; the header shows their median.
    results["memcpy_gbs"] = float(np.median([row["memcpy_gbs"] for row in results["rows"]]))
    if cold:
        cold_gbs = run_cold(nbytes)
        results["cold_memcpy_gbs"] = cold_gbs["tb"]["memcpy"]
        for row in results["rows"]:
            key = f"{row['pair']}/{row['layout']}"
            row["cold"] = {library: cold_gbs[library][key] for library in COLD_LIBRARIES}
    return results


def print_table(r: dict[str, Any]) -> None:
    print(
        f"{r['source_bytes'] >> 20} MiB sources, tb threads={r['tb_threads']}, torch threads={r['torch_threads']}, "
        f"target={r['cast_target']}; memcpy (tb same-dtype copy, {r['tb_threads']} threads, median of the rows) = "
        f"{r['memcpy_gbs']:.1f} GB/s, np.copyto (1 thread) = {r['np_copyto_gbs']:.1f} GB/s"
        + (f", memcpy into cold memory = {r['cold_memcpy_gbs']:.1f} GB/s" if "cold_memcpy_gbs" in r else "")
    )

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}x" if a and b else "-"

    head = (
        f"{'pair':<18}{'layout':<11}{'into':>6}{'steady':>7}{'into/':>8}{'steady/':>8}{'steady/':>8}{'steady/':>8}"
        f"{'steady/':>8}{'steady/':>8}{'memcpy':>8}{'into/':>8}"
    )
    sub = f"{'':<18}{'':<11}{'GB/s':>6}{'GB/s':>7}{'memcpy':>8}{'memcpy':>8}{'numpy':>8}{'torch':>8}{'tf':>8}{'jax':>8}{'bound':>8}{'copy':>8}"
    print("\nInto a reused output, and a fresh output in steady state (repeated calls):")
    print(head)
    print(sub)
    print("-" * len(head))
    for row in r["rows"]:
        print(
            f"{row['pair']:<18}{row['layout']:<11}{row['tb_into']:>6.1f}{row['tb_fresh']:>7.1f}"
            f"{ratio(row['tb_into'], row['memcpy_gbs']):>8}{ratio(row['tb_fresh'], row['memcpy_gbs']):>8}"
            f"{ratio(row['tb_fresh'], row['numpy_astype']):>8}{ratio(row['tb_fresh'], row['torch_to']):>8}"
            f"{ratio(row['tb_fresh'], row['tf_cast']):>8}{ratio(row['tb_fresh'], row['jax_astype']):>8}"
            f"{row['memcpy_bound']:>7.2f}x{ratio(row['tb_into'], row.get('copy_gbs')):>8}"
        )
    if "cold_memcpy_gbs" in r:
        print("\nFirst call into cold memory (one sample per case, a fresh process per library):")
        head = f"{'pair':<18}{'layout':<11}{'tb GB/s':>8}{'/memcpy':>8}{'/numpy':>8}{'/torch':>8}{'/tf':>8}{'/jax':>8}"
        print(head)
        print("-" * len(head))
        for row in r["rows"]:
            c = row["cold"]
            print(
                f"{row['pair']:<18}{row['layout']:<11}{c['tb']:>8.1f}{ratio(c['tb'], r['cold_memcpy_gbs']):>8}"
                f"{ratio(c['tb'], c['numpy']):>8}{ratio(c['tb'], c['torch']):>8}{ratio(c['tb'], c['tf']):>8}"
                f"{ratio(c['tb'], c['jax']):>8}"
            )
    print(
        "(GB/s of logical bytes read + written; ratios > 1 mean tensorbridge is faster. 'memcpy bound': the "
        "into/memcpy\n ratio of a cast that moved the bytes it must touch (a strided source: every cache line "
        "of its base)\n at memcpy's bandwidth. 'into/copy': against copying the same source to a dense array of its "
        "own\n dtype (for a strided source, the gather alone). Every contender is timed once per round, in turn, "
        "with\n memcpy; each row "
        "is compared with its own rounds' memcpy. TensorFlow and JAX get a strided source as the NumPy\n view, "
        "as their users would pass it (their tensors cannot be strided); their cast of the dense copy alone\n "
        "is in the JSON as tf_cast_dense / jax_astype_dense.)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big", action="store_true", help="1 GiB sources instead of 64 MiB")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (best is kept)")
    parser.add_argument(
        "--no-cold", action="store_true", help="skip the first-call (cold memory) measurements"
    )
    parser.add_argument("--cold-child", choices=COLD_LIBRARIES, help=argparse.SUPPRESS)
    parser.add_argument("--bytes", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_child:
        print(json.dumps(cold_child(args.cold_child, args.bytes)))
        return
    nbytes = (1 << 30) if args.big else (64 << 20)
    results = run(nbytes, args.repeats, cold=not (args.no_cold or args.big))
    print_table(results)
    out = Path(__file__).parent / "results" / "bench_cast.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

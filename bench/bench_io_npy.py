""".npy/.npz: tensorbridge against NumPy's own ``np.load``/``np.save``, measured in one run on the
same files, reported as ratios (NumPy's time / tensorbridge's time: > 1 means tensorbridge is faster).

    PYTHONPATH=build/dev-NAME/site .venv/bin/python bench/bench_io_npy.py [--size 512] [--dir /tmp]

- ``--size`` is the .npy size in MiB (the issue's target is 2048; the default keeps runs modest).
- mmap open: ``tb.load(mmap=True)`` vs ``np.load(mmap_mode="r")`` at 1 MiB and at ``--size``
  (equal times = O(1) in the file size).
- full read from the page cache (warm: the file was just written), into new memory each time.
- .npz members (``--npz-size`` MiB, default 64): stored and deflated, one member read.
- writes: ``tb.save`` vs ``np.save``; ``savez_compressed`` of an eighth of the .npz data.

Writes bench/results/bench_io_npy.json. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness
import tensorbridge as tb


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    """Best wall time of ``repeats`` calls after one warm-up (the result is dropped at once)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        del out
    return best


def row(name: str, ours: float, theirs: float, nbytes: int | None = None) -> dict[str, Any]:
    r = {"case": name, "tensorbridge_s": ours, "numpy_s": theirs, "ratio": theirs / ours}
    if nbytes:
        r["tensorbridge_gbps"] = nbytes / ours / 1e9
        r["numpy_gbps"] = nbytes / theirs / 1e9
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=512, help=".npy size in MiB (default 512)")
    ap.add_argument("--npz-size", type=int, default=64, help=".npz member size in MiB (default 64)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where to write the scratch files")
    args = ap.parse_args()

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench_io_npy_") as d:
        big = Path(d) / "big.npy"
        small = Path(d) / "small.npy"
        n = args.size * (1 << 20) // 4
        data = np.random.default_rng(0).standard_normal(n, dtype=np.float32).reshape(-1, 256)
        np.save(small, data[: (1 << 20) // 1024])
        write_ours = best_of(lambda d=data: tb.save(big, d), max(1, args.repeats // 2))
        write_np = best_of(lambda d=data: np.save(big, d), max(1, args.repeats // 2))
        nbytes = data.nbytes
        del data

        for label, path in (("1 MiB", small), (f"{args.size} MiB", big)):
            ours = _harness.time_call(lambda p=path: tb.load(p, mmap=True))
            theirs = _harness.time_call(lambda p=path: np.load(p, mmap_mode="r"))
            rows.append(row(f"mmap open, {label}", ours, theirs))
        rows.append(
            row(
                f"full read, {args.size} MiB",
                best_of(lambda: tb.load(big), args.repeats),
                best_of(lambda: np.load(big), args.repeats),
                nbytes,
            )
        )
        rows.append(row(f"write, {args.size} MiB", write_ours, write_np, nbytes))
        os.unlink(big)

        m = args.npz_size * (1 << 20) // 4
        # Compressible but not trivial: rounded normals.
        x = (np.random.default_rng(1).standard_normal(m, dtype=np.float32) * 8).round().reshape(-1, 256)
        for kind, saver in (("stored", np.savez), ("deflated", np.savez_compressed)):
            z = Path(d) / f"{kind}.npz"
            saver(z, x=x, y=np.arange(10))

            def ours(z: Path = z) -> Any:
                with tb.load(z) as f:
                    return f["x"]

            def theirs(z: Path = z) -> Any:
                with np.load(z) as f:
                    return f["x"]

            rows.append(
                row(f"npz {kind} member, {args.npz_size} MiB", best_of(ours, 3), best_of(theirs, 3), x.nbytes)
            )
        # zlib's level-6 deflate runs at a few MB/s on this data: compress a slice only.
        w = x[: max(1, x.shape[0] // 8)]
        z = Path(d) / "w.npz"
        rows.append(
            row(
                f"savez_compressed, {w.nbytes >> 20} MiB",
                best_of(lambda: tb.savez_compressed(z, x=w), 1),
                best_of(lambda: np.savez_compressed(z, x=w), 1),
                w.nbytes,
            )
        )

    table = []
    for r in rows:
        ours_s, np_s = _harness.fmt_seconds(r["tensorbridge_s"]), _harness.fmt_seconds(r["numpy_s"])
        if "tensorbridge_gbps" in r:
            ours_s += f" ({r['tensorbridge_gbps']:.2f} GB/s)"
            np_s += f" ({r['numpy_gbps']:.2f} GB/s)"
        table.append([r["case"], ours_s, np_s, f"{r['ratio']:.2f}x"])
    _harness.print_table(
        f".npy/.npz, tensorbridge vs NumPy {np.__version__} ({os.cpu_count()} cores, warm page cache)",
        ["case", "tensorbridge", "numpy", "numpy time / tb time"],
        table,
    )
    _harness.save(
        "bench_io_npy",
        {"size_mib": args.size, "npz_size_mib": args.npz_size, "numpy": np.__version__, "rows": rows},
    )


if __name__ == "__main__":
    main()

""".npy/.npz: tensorbridge against NumPy's own ``np.load``/``np.save`` on the same files in one run,
by ``_harness.measure``'s method (ratio = NumPy's time / tensorbridge's: > 1 means tensorbridge is faster).

    PYTHONPATH=build/dev-NAME/site .venv/bin/python bench/bench_io_npy.py [--size 512] [--dir /tmp]

- ``--size`` is the .npy size in MiB (the issue's target is 2048; the default keeps runs modest).
- mmap open: ``tb.load(mmap=True)`` vs ``np.load(mmap_mode="r")`` at 1 MiB and at ``--size``
  (equal times = O(1) in the file size).
- full read from the page cache (warm: the file was just written) into new memory each call: with
  tensorbridge's block cache off (``tb.set_block_cache_limit(0)``: fresh pages from malloc, as
  ``np.load`` gets), and as a separate row with the cache on (both keep what their allocator keeps).
- .npz members (``--npz-size`` MiB, default 64), stored and deflated, one member read, with equal
  verification: NumPy's zipfile and ``tb.load`` (its default, ``verify_crc=True``) both check
  every member's CRC-32.
- writes: ``tb.save`` vs ``np.save``; ``savez_compressed`` of an eighth of the .npz data; each
  file written is read back and compared with the other's.

Writes bench/results/bench_io_npy.json. Not a test: nothing is asserted about times.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness
import tensorbridge as tb

WHY_MMAP = "both map the file; the cost is header parsing and object creation, not data"
WHY_READ = "both read the file from the page cache into fresh memory"
WHY_READ_REUSE = "tb reuses blocks from its cache; NumPy asks malloc, which hands back fresh pages"
WHY_WRITE = ("tb.save fsyncs the file before its atomic rename, so a crash leaves the old file or the whole new "
             "one; np.save returns while the bytes are still in the page cache")
WHY_WRITE_SYNCED = "both write the file and fsync it"
WHY_NPZ = "equal verification: both check the member's CRC-32"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=float, default=512, help=".npy size in MiB (default 512)")
    ap.add_argument("--npz-size", type=float, default=64, help=".npz member size in MiB (default 64)")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where to write the scratch files")
    args = ap.parse_args()

    rows: list[dict[str, Any]] = []
    add = rows.append
    row = _harness.row
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench_io_npy_") as d:
        big, small = Path(d) / "big.npy", Path(d) / "small.npy"
        ours_out, np_out = Path(d) / "w_tb.npy", Path(d) / "w_np.npy"
        n = int(args.size * (1 << 20)) // 4 // 256 * 256 or 256
        data = np.random.default_rng(0).standard_normal(n, dtype=np.float32).reshape(-1, 256)
        np.save(small, data[: (1 << 20) // 1024])
        np.save(big, data)
        label = f"{args.size:g} MiB"

        def np_save_synced(d: np.ndarray = data) -> None:  # the same durability as tb.save
            with open(np_out, "wb") as f:
                np.save(f, d)
                f.flush()
                os.fsync(f.fileno())

        t = _harness.measure({"tb.save": lambda d=data: tb.save(ours_out, d),
                              "np.save": lambda d=data: np.save(np_out, d),
                              "np.save + os.fsync": np_save_synced}, same=None)
        if ours_out.read_bytes() != np_out.read_bytes():
            raise _harness.Mismatch("tb.save wrote other bytes than np.save")
        add(row(f"write, {label}", "tb.save", "np.save", t["tb.save"], t["np.save"], why=WHY_WRITE))
        add(row(f"write, {label}", "tb.save", "np.save + os.fsync", t["tb.save"], t["np.save + os.fsync"],
                why=WHY_WRITE_SYNCED))
        os.unlink(ours_out)
        os.unlink(np_out)
        del data

        for size_label, path in (("1 MiB", small), (label, big)):
            t = _harness.measure({"tb": lambda p=path: tb.load(p, mmap=True),
                                  "np": lambda p=path: np.load(p, mmap_mode="r")})
            add(row(f"mmap open, {size_label}", "tb.load(mmap=True)", "np.load(mmap_mode='r')", t["tb"], t["np"],
                    why=WHY_MMAP))
        limit = tb.block_cache_limit()
        for case, cache, why in (("full read, tb cache off", 0, WHY_READ), ("full read, both reuse", limit, WHY_READ_REUSE)):
            tb.set_block_cache_limit(cache)
            t = _harness.measure({"tb": lambda: tb.load(big), "np": lambda: np.load(big)})
            add(row(f"{case}, {label}", "tb.load", "np.load", t["tb"], t["np"], why=why))
        tb.set_block_cache_limit(limit)
        os.unlink(big)

        m = int(args.npz_size * (1 << 20)) // 4 // 256 * 256 or 256
        # Compressible but not trivial: rounded normals.
        x = (np.random.default_rng(1).standard_normal(m, dtype=np.float32) * 8).round().reshape(-1, 256)
        for kind, saver in (("stored", np.savez), ("deflated", np.savez_compressed)):
            z = Path(d) / f"{kind}.npz"
            saver(z, x=x, y=np.arange(10))

            def ours(z: Path = z) -> Any:
                with tb.load(z) as f:  # verify_crc=True: the member's CRC-32 is checked
                    return f["x"]

            def theirs(z: Path = z) -> Any:
                with np.load(z) as f:
                    return f["x"]

            t = _harness.measure({"tb": ours, "np": theirs})
            add(row(f"npz {kind} member, CRC checked, {args.npz_size:g} MiB", "tb.load(npz)[name]",
                    "np.load(npz)[name]", t["tb"], t["np"], why=WHY_NPZ))
        # zlib's level-6 deflate runs at a few MB/s on this data: compress a slice only.
        w = x[: max(1, x.shape[0] // 8)]
        zo, zn = Path(d) / "w_tb.npz", Path(d) / "w_np.npz"
        t = _harness.measure({"tb": lambda: tb.savez_compressed(zo, x=w), "np": lambda: np.savez_compressed(zn, x=w)},
                             same=None, repeats=min(_harness.REPEATS, 3))
        with np.load(zo) as a, np.load(zn) as b:
            _harness.assert_same(a["x"], b["x"], "np.savez_compressed")
        add(row(f"savez_compressed, {w.nbytes / (1 << 20):.3g} MiB", "tb.savez_compressed", "np.savez_compressed",
                t["tb"], t["np"], why="both deflate with zlib at level 6"))

    _harness.print_rows(f".npy/.npz, tensorbridge vs NumPy {np.__version__} ({os.cpu_count()} cores, warm page cache)",
                        rows)
    _harness.save("bench_io_npy", {"size_mib": args.size, "npz_size_mib": args.npz_size, "numpy": np.__version__,
                                   "rows": rows})


if __name__ == "__main__":
    main()

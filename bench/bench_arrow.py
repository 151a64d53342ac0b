"""Arrow: tensorbridge against pyarrow, pandas and Hugging Face ``datasets`` on the same data in one
run, by ``_harness.measure``'s method (ratio = the anchor's time / tensorbridge's: > 1 means
tensorbridge is faster).

    PYTHONPATH=build/dev-NAME/site .venv/bin/python bench/bench_arrow.py [--rows 1000000] [--cols 50]
        [--parquet-mib 1024] [--arrow-mib 256] [--batches 200]

- column import: ``tb.from_arrow(array)`` at each of ``--import-sizes`` elements against pyarrow's
  own zero-copy view ``Array.to_numpy(zero_copy_only=True)`` (equal times = O(1)).
- ``--cols`` float64 columns x ``--rows`` rows -> one C-contiguous float32 matrix:
  ``tb.from_arrow(table).to_tensor(dtype="float32")`` against ``pyarrow.Table.to_tensor()`` (float64
  only: its result then cast with ``astype(np.float32)``) and ``table.to_pandas().to_numpy(np.float32)``.
- a Parquet file of ``--parquet-mib`` MiB of such columns -> float32 matrix: ``tb.read_parquet(path)
  .to_tensor(dtype="float32")`` against ``pq.read_table(path).to_pandas().to_numpy(np.float32)``.
- shuffled batches of 256 from a memory-mapped Arrow file of ``--arrow-mib`` MiB (a FixedSizeList
  feature column of 64 float32 and an int64 label, in the stream format Hugging Face ``datasets``
  writes): ``Dataset.from_arrow_files(path).shuffle().batch(256).as_torch()`` against Hugging Face's
  ``Dataset.from_file(path).with_format("torch")`` indexed with the batches of a permutation, and a
  torch ``DataLoader(batch_size=256, shuffle=True)`` over it; ``--batches`` batches per call, and the
  peak RSS growth of each in its own process.

Writes bench/results/bench_arrow.json. Not a test: nothing is asserted about times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness
from bench_pipeline_rss import Sampler, _status

import tensorbridge as tb

WIDTH = 64
BATCH = 256
WHY_IMPORT = "both wrap the buffer without a copy; tb also validates the array and ties its release to the tensor"
WHY_MATRIX_PA = "pyarrow's to_tensor has no dtype: a float64 matrix, then a second pass to float32"
WHY_MATRIX_PD = "to_pandas copies the columns into one block, then a cast pass (its result is column-major)"
WHY_PARQUET = "both decode with pyarrow's Parquet reader; the rest is the hand-off to one float32 matrix"
WHY_HF = "Hugging Face formats every batch from Arrow in Python (take, then torch formatting)"
WHY_DL = "one Python __getitem__ per sample, then a collate"
WHY_RSS = "the batches read through pyarrow's memory map stay resident; tb reads rows with pread"


def _matrix_columns(rows: int, cols: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"c{i}": rng.standard_normal(rows) for i in range(cols)}


def write_arrow_file(path: Path, mib: float) -> int:
    """An IPC stream file of rows (x = 64 x float32 all equal to the row number, label = row)."""
    rows = max(int(mib * (1 << 20)) // (WIDTH * 4 + 8), BATCH * 2)
    schema = pa.schema([("x", pa.list_(pa.float32(), WIDTH)), ("label", pa.int64())])
    with pa.OSFile(str(path), "wb") as f, pa.ipc.new_stream(f, schema) as w:
        for start in range(0, rows, 1000):  # Hugging Face's writer_batch_size
            ids = np.arange(start, min(start + 1000, rows), dtype=np.int64)
            x = pa.FixedSizeListArray.from_arrays(np.repeat(ids.astype(np.float32), WIDTH), WIDTH)
            w.write_batch(pa.record_batch([x, pa.array(ids)], schema=schema))
    return rows


def _check_batch(x: Any, y: Any, who: str) -> None:
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != (len(y), WIDTH) or not (x == y[:, None].astype(np.float32)).all():
        raise _harness.Mismatch(f"{who}: a batch whose rows do not match their labels")


class Batches:
    """``take()`` gives the next ``count`` batches of an endless shuffled stream (a new epoch when one ends)."""

    def __init__(self, make: Any, count: int) -> None:
        self.make, self.count, self.it = make, count, iter(make())

    def take(self) -> Any:
        last = None
        for _ in range(self.count):
            try:
                last = next(self.it)
            except StopIteration:
                self.it = iter(self.make())
                last = next(self.it)
        return last


def contenders(path: Path, rows: int, count: int, which: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "tb" in which:
        ds = tb.Dataset.from_arrow_files(str(path)).shuffle(seed=0).batch(BATCH, drop_remainder=True)
        out["tb"] = Batches(lambda: (( b["x"], b["label"]) for b in ds.as_torch()), count)
    if "hf" in which or "dataloader" in which:
        import datasets

        hf = datasets.Dataset.from_file(str(path)).with_format("torch")
        if "hf" in which:
            def epoch() -> Any:
                perm = np.random.default_rng(0).permutation(rows)
                for i in range(0, rows - BATCH + 1, BATCH):
                    b = hf[perm[i:i + BATCH].tolist()]
                    yield b["x"], b["label"]
            out["hf"] = Batches(epoch, count)
        if "dataloader" in which:
            import torch

            loader = torch.utils.data.DataLoader(hf, batch_size=BATCH, shuffle=True, drop_last=True,
                                                 generator=torch.Generator().manual_seed(0))
            out["dataloader"] = Batches(lambda: ((b["x"], b["label"]) for b in loader), max(1, count // 8))
    return out


def rss_worker(args: argparse.Namespace) -> None:
    """One contender in its own process: peak RSS growth over ``--batches`` batches, counted after
    torch (which both hand their batches to) is imported."""
    import torch  # noqa: F401

    c = contenders(Path(args.path), args.rows_in_file, args.batches, [args.rss_worker])[args.rss_worker]
    try:  # start the peak (VmHWM) from here (proc(5), clear_refs)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    before = _status()
    with Sampler() as sampler:
        x, y = c.take()
    _check_batch(x, y, args.rss_worker)
    after = _status()
    print(json.dumps({"peak_growth": max(after["VmHWM"] - before["VmRSS"], 4096),
                      "peak_rss_file": sampler.peak["RssFile"] - before["RssFile"]}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--import-sizes", default="1000,1000000,10000000", help="elements of the imported columns")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--parquet-mib", type=float, default=1024)
    ap.add_argument("--arrow-mib", type=float, default=256)
    ap.add_argument("--batches", type=int, default=200, help="batches of 256 per timed call")
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--rss-worker", choices=["tb", "hf"], help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--rows-in-file", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rss_worker:
        return rss_worker(args)

    rows: list[dict[str, Any]] = []
    row = _harness.row
    for n in (int(float(s)) for s in args.import_sizes.split(",")):
        arr = pa.array(np.arange(n, dtype=np.float64))
        t = _harness.measure({"tb": lambda a=arr: tb.from_arrow(a), "pa": lambda a=arr: a.to_numpy(zero_copy_only=True)})
        rows.append(row(f"import one float64 column, {n:,} elements", "tb.from_arrow",
                        "pyarrow Array.to_numpy(zero_copy_only=True)", t["tb"], t["pa"], why=WHY_IMPORT))
        del arr

    table = pa.table(_matrix_columns(args.rows, args.cols))
    t = _harness.measure({
        "tb": lambda t=table: tb.from_arrow(t).to_tensor(dtype="float32"),
        "pa": lambda t=table: t.to_tensor(row_major=True).to_numpy().astype(np.float32),
        "pd": lambda t=table: t.to_pandas().to_numpy(np.float32),
    })
    case = f"{args.cols} float64 columns x {args.rows:,} rows -> float32 matrix"
    rows.append(row(case, "tb.from_arrow(t).to_tensor(dtype='float32')", "pyarrow Table.to_tensor() + astype(float32)",
                    t["tb"], t["pa"], why=WHY_MATRIX_PA))
    rows.append(row(case, "tb.from_arrow(t).to_tensor(dtype='float32')", "table.to_pandas().to_numpy(np.float32)",
                    t["tb"], t["pd"], why=WHY_MATRIX_PD))
    del table

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench_arrow_") as d:
        parquet = Path(d) / "data.parquet"
        prows = max(int(args.parquet_mib * (1 << 20)) // (8 * args.cols), 16)
        pq.write_table(pa.table(_matrix_columns(prows, args.cols, seed=1)), parquet)
        t = _harness.measure({
            "tb": lambda: tb.read_parquet(parquet).to_tensor(dtype="float32"),
            "pq": lambda: pq.read_table(parquet).to_pandas().to_numpy(np.float32),
        })
        rows.append(row(f"Parquet {args.parquet_mib:g} MiB ({args.cols} float64 columns) -> float32 matrix",
                        "tb.read_parquet(p).to_tensor(dtype='float32')",
                        "pq.read_table(p).to_pandas().to_numpy(np.float32)", t["tb"], t["pq"], why=WHY_PARQUET))
        parquet.unlink()

        arrow = Path(d) / "data.arrow"
        nrows = write_arrow_file(arrow, args.arrow_mib)
        count = min(args.batches, nrows // BATCH)
        c = contenders(arrow, nrows, count, ["tb", "hf", "dataloader"])
        for name, b in c.items():
            _check_batch(*b.take(), name)
        t = _harness.measure({name: b.take for name, b in c.items()}, same=None)
        # Seconds per batch: each call took `count` batches (the DataLoader, much slower, fewer).
        t = {name: {k: v / c[name].count if k in ("median", "min", "max") else v for k, v in s.items()}
             for name, s in t.items()}
        case = f"one shuffled batch of {BATCH} from a mapped Arrow file of {args.arrow_mib:g} MiB"
        ours = "Dataset.from_arrow_files(p).shuffle().batch(256).as_torch()"
        rows.append(row(case, ours, "datasets.Dataset.from_file(p).with_format('torch')[batch of a permutation]",
                        t["tb"], t["hf"], why=WHY_HF, batches_per_call=count))
        rows.append(row(case, ours, "torch DataLoader(hf.with_format('torch'), batch_size=256, shuffle=True)",
                        t["tb"], t["dataloader"], why=WHY_DL, batches_per_call=c["dataloader"].count))
        peaks = {}
        for name in ("tb", "hf"):
            done = subprocess.run([sys.executable, __file__, "--rss-worker", name, "--path", str(arrow),
                                   "--rows-in-file", str(nrows), "--batches", str(count)],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"bench_arrow: the {name} RSS worker failed:\n{done.stderr[-2000:]}")
            peaks[name] = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row(f"{count} shuffled batches of {BATCH}, mapped Arrow file of {args.arrow_mib:g} MiB, "
                        "peak RSS growth", ours, "Hugging Face with_format('torch')",
                        _harness.stats([float(peaks["tb"]["peak_growth"])]),
                        _harness.stats([float(peaks["hf"]["peak_growth"])]), metric="bytes", why=WHY_RSS))

    _harness.print_rows("Arrow", rows)
    _harness.save("bench_arrow", {"rows": rows, "args": vars(args)})


if __name__ == "__main__":
    main()

"""CSV of numbers -> one float32 tensor: tensorbridge against pandas (C and pyarrow engines),
pyarrow.csv and np.loadtxt, measured in one run on the same file, reported as ratios.

    .venv/bin/python bench/bench_io_csv.py                 # 1M rows x 50 columns, ~530 MB
    .venv/bin/python bench/bench_io_csv.py --rows 200000   # a smaller file

Every reader parses the same file in the same run, by ``_harness.measure``'s method, and its
result must equal tensorbridge's up to one float32 rounding (the others parse float64 first, then
round again) before its time counts. np.loadtxt is too slow for the big file: it is compared with
tensorbridge on a smaller file (``--loadtxt-rows``). The files are cached in the temp folder by size.

Writes bench/results/bench_io_csv.json. Not a test: nothing is asserted about times.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness

WHY = "both parse text to float32 on the threads each library uses (pandas' C engine: one)"


def make_csv(path: Path, rows: int, cols: int) -> None:
    """Random floats with 6 decimals (about 8 bytes a field), written by pyarrow's fast writer."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(0)
    step = 100_000
    with pacsv.CSVWriter(str(path), pa.schema([(f"c{j}", pa.float64()) for j in range(cols)])) as w:
        for start in range(0, rows, step):
            n = min(step, rows - start)
            block = (rng.standard_normal((n, cols)) * 100).round(6)
            w.write_table(pa.table({f"c{j}": block[:, j] for j in range(cols)}))


def close(ours: Any, theirs: Any, name: str) -> None:
    """Same shape and values up to one float32 rounding step, else ``Mismatch``."""
    ours, theirs = _harness.to_numpy(ours), _harness.to_numpy(theirs)
    try:
        np.testing.assert_allclose(theirs, ours, rtol=2.5e-7)
    except AssertionError as e:
        raise _harness.Mismatch(f"{name} disagrees with tensorbridge: {e}") from None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--loadtxt-rows", type=int, default=20_000, help="rows of the smaller file np.loadtxt reads")
    args = ap.parse_args()

    import pandas as pd
    import pyarrow.csv as pacsv
    import tensorbridge as tb

    def path(rows: int) -> Path:
        p = Path(tempfile.gettempdir()) / f"tb_bench_csv_{rows}x{args.cols}.csv"
        if not p.exists():
            make_csv(p, rows, args.cols)
        return p

    big, small = path(args.rows), path(min(args.loadtxt_rows, args.rows))

    def tb_read(p: Path) -> Any:
        return np.from_dlpack(tb.read_csv(p, dtype="float32").to_tensor())

    def pyarrow_csv() -> Any:
        t = pacsv.read_csv(big)
        return np.column_stack([c.to_numpy().astype(np.float32) for c in t.columns])

    ours = "tb.read_csv(dtype=float32).to_tensor()"
    t = _harness.measure({
        ours: lambda: tb_read(big),
        "pandas.read_csv (C engine)": lambda: pd.read_csv(big, dtype=np.float32).to_numpy(),
        "pandas.read_csv (engine=pyarrow)": lambda: pd.read_csv(big, dtype=np.float32, engine="pyarrow").to_numpy(),
        "pyarrow.csv.read_csv + to numpy": pyarrow_csv,
    }, same=close, min_time=0.0)
    case = f"CSV -> float32 array, {args.rows} x {args.cols}, {big.stat().st_size / 1e6:.1f} MB"
    rows = [_harness.row(case, ours, name, t[ours], t[name], why=WHY) for name in t if name != ours]
    t = _harness.measure({
        ours: lambda: tb_read(small),
        "np.loadtxt": lambda: np.loadtxt(small, delimiter=",", skiprows=1, dtype=np.float32),
    }, same=close, min_time=0.0)
    rows.append(_harness.row(f"CSV -> float32 array, {min(args.loadtxt_rows, args.rows)} x {args.cols}", ours,
                             "np.loadtxt", t[ours], t["np.loadtxt"], why="np.loadtxt parses on one thread"))
    _harness.print_rows(f"CSV of numbers -> one float32 array ({tb.num_threads()} tb threads)", rows)
    _harness.save("bench_io_csv", {"rows_in_file": args.rows, "cols": args.cols, "rows": rows})


if __name__ == "__main__":
    main()

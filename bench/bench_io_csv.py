"""CSV -> arrays and tables on every common number format: tensorbridge against pandas (C and
pyarrow engines) and pyarrow.csv, measured in one run on the same file, reported as ratios.

    .venv/bin/python bench/bench_io_csv.py                    # 200k rows x 20 columns per shape
    .venv/bin/python bench/bench_io_csv.py --rows 1000000     # the big files
    .venv/bin/python bench/bench_io_csv.py --shapes to_csv,savetxt --dtypes float32

The shapes (how the file was written; ``--shapes``):

- ``to_csv``: ``DataFrame.to_csv()`` of ``randn * 100`` (shortest repr, up to 17 digits);
- ``savetxt``: ``np.savetxt`` default format ``%.18e`` (19 digits and an exponent);
- ``g7`` / ``g``: ``float_format="%.7g"`` / ``"%g"`` of values from 1e-8 to 1e8 (exponents appear);
- ``round6``: ``(randn * 100).round(6)``, the short decimals (``-123.456789``);
- ``int64``: integers of 1 to 19 digits, both signs; ``uint64``: integers in [2^63, 2^64);
- ``mixed``: per column, short decimals, 17-digit reprs, ``%.17g`` of 1e-300..1e-1, subnormals,
  ``%.5e`` and small integers;
- ``table``: numeric columns (float reprs, short decimals, integers) plus a text and a date
  column, read into a ``tb.Table`` (every reader keeps the dates as text).

Each numeric shape is read into one float32 and one float64 matrix (``--dtypes``): every reader is
asked for that type (pandas' ``dtype=``, pyarrow's ``column_types``). Outputs are checked equal to
tensorbridge's before the times count (float32: up to one float32 rounding, since pandas rounds
through float64 first; float64: to 1 ulp, since pandas' C engine is not always correctly rounded).
np.loadtxt is compared on a smaller file of short decimals (``--loadtxt-rows``).

Bounds (``--bounds-repeats``, 0 to skip): on the same files, bench/csv_bounds.cpp (compiled on
demand, see bench/_csv_bounds.py) times on one core the structural pass alone (the library's
tokenizer; and a 64-bytes-per-step AVX2 bitmask scan of delimiters and line feeds) and the number
conversion alone on fields split beforehand (tensorbridge's converters as the reader calls them,
and fast_float's ``from_chars``; their outputs checked bit for bit); the reader itself is also
timed on one thread (``tb.set_num_threads(1)``) beside the other contenders. From these and
pandas' time in the same run it prints what each step alone would allow on two cores, as a ratio
to pandas (the "bounds" section of the JSON).

Prints the rows worst first and writes bench/results/bench_io_csv.json. Not a test: nothing is
asserted about times.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _csv_bounds
import _harness

SHAPES = ["to_csv", "savetxt", "g7", "g", "round6", "int64", "uint64", "mixed", "table"]
WHY = "all parse the same text into the same type on the threads each uses (pandas' C engine: one)"
FILE_VERSION = 1  # bump when a writer below changes: files are cached in the temp folder


def _frame_csv(path: Path, block: np.ndarray, **to_csv: Any) -> None:
    import pandas as pd

    pd.DataFrame(block, columns=[f"c{j}" for j in range(block.shape[1])]).to_csv(path, index=False, **to_csv)


def _savetxt(path: Path, block: np.ndarray, fmt: Any) -> None:
    header = ",".join(f"c{j}" for j in range(block.shape[1]))
    np.savetxt(path, block, fmt=fmt, delimiter=",", header=header, comments="")


def _wide(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return rng.standard_normal(shape) * 10.0 ** rng.uniform(-8, 8, shape)


def make_csv(path: Path, shape: str, rows: int, cols: int) -> None:
    """Writes the file of one shape (see the module docstring)."""
    rng = np.random.default_rng(0)
    size = (rows, cols)
    if shape == "to_csv":
        _frame_csv(path, rng.standard_normal(size) * 100)
    elif shape == "savetxt":
        _savetxt(path, rng.standard_normal(size) * 100, "%.18e")
    elif shape == "g7":
        _frame_csv(path, _wide(rng, size), float_format="%.7g")
    elif shape == "g":
        _frame_csv(path, _wide(rng, size), float_format="%g")
    elif shape == "round6":
        _savetxt(path, (rng.standard_normal(size) * 100).round(6), "%.6f")
    elif shape == "int64":
        digits = rng.integers(1, 20, size)
        values = rng.integers(0, np.iinfo(np.int64).max, size, dtype=np.int64) // (10 ** (19 - digits)).astype(np.int64)
        _savetxt(path, np.where(rng.random(size) < 0.5, -values, values), "%d")
    elif shape == "uint64":
        values = rng.integers(1 << 63, np.iinfo(np.uint64).max, size, dtype=np.uint64, endpoint=True)
        _savetxt(path, values, "%d")
    elif shape == "mixed":
        kinds = [("%.3f", lambda s: (rng.standard_normal(s) * 100).round(3)),
                 ("%.17g", lambda s: rng.standard_normal(s) * 100),
                 ("%.17g", lambda s: rng.standard_normal(s) * 10.0 ** rng.uniform(-300, -1, s)),
                 ("%.17g", lambda s: rng.standard_normal(s) * 1e-310),  # subnormal doubles
                 ("%.5e", lambda s: _wide(rng, s)),
                 ("%.0f", lambda s: rng.integers(-1000, 1000, s).astype(np.float64))]
        fmt = [kinds[j % len(kinds)][0] for j in range(cols)]
        block = np.column_stack([kinds[j % len(kinds)][1](rows) for j in range(cols)])
        _savetxt(path, block, fmt)
    elif shape == "table":
        import pandas as pd

        data: dict[str, Any] = {}
        for j in range(max(cols - 2, 1)):
            kind = j % 3
            if kind == 0:
                data[f"f{j}"] = rng.standard_normal(rows) * 100
            elif kind == 1:
                data[f"d{j}"] = (rng.standard_normal(rows) * 100).round(2)
            else:
                data[f"i{j}"] = rng.integers(-100_000, 100_000, rows)
        words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
        data["name"] = words[rng.integers(0, len(words), rows)]
        data["date"] = (np.datetime64("2000-01-01") + rng.integers(0, 9000, rows).astype("timedelta64[D]")).astype(str)
        pd.DataFrame(data).to_csv(path, index=False)
    else:
        raise ValueError(f"unknown shape {shape!r}; choose from {', '.join(SHAPES)}")


def close(dtype: str) -> Callable[[Any, Any, str], None]:
    """Same shape and values up to one rounding step of ``dtype`` (see the module docstring)."""
    rtol, atol = (2.5e-7, 1e-38) if dtype == "float32" else (2.3e-16, 1e-300)

    def check(ours: Any, theirs: Any, name: str) -> None:
        a, b = _harness.to_numpy(ours), _harness.to_numpy(theirs)
        if a.shape != b.shape:
            raise _harness.Mismatch(f"{name}: shape {b.shape} differs from tensorbridge's {a.shape}")
        try:
            np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=rtol, atol=atol)
        except AssertionError as e:
            raise _harness.Mismatch(f"{name} disagrees with tensorbridge: {e}") from None

    return check


def same_table(ours: dict[str, Any], theirs: dict[str, Any], name: str) -> None:
    """Every column equal: numbers to 1 ulp of float64, text exactly."""
    if list(ours) != list(theirs):
        raise _harness.Mismatch(f"{name}: columns {list(theirs)} differ from tensorbridge's {list(ours)}")
    for col, a in ours.items():
        b = theirs[col]
        if not isinstance(a, list) and a.dtype.kind in "iuf":
            try:
                np.testing.assert_allclose(np.asarray(b, np.float64), a.astype(np.float64), rtol=2.3e-16)
            except AssertionError as e:
                raise _harness.Mismatch(f"{name}: column {col}: {e}") from None
        elif [str(x) for x in a] != [str(x) for x in b]:
            raise _harness.Mismatch(f"{name}: text column {col} differs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated, from {','.join(SHAPES)}")
    ap.add_argument("--dtypes", default="float32,float64", help="outputs of the numeric shapes")
    ap.add_argument("--loadtxt-rows", type=int, default=20_000, help="rows of the smaller file np.loadtxt reads")
    ap.add_argument("--bounds-repeats", type=int, default=1 if _harness.TINY else 5,
                    help="runs of each one-core step in the bounds (median); 0 skips the bounds")
    args = ap.parse_args()

    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import tensorbridge as tb

    def path(shape: str, rows: int) -> Path:
        p = Path(tempfile.gettempdir()) / f"tb_bench_csv_v{FILE_VERSION}_{shape}_{rows}x{args.cols}.csv"
        if not p.exists():
            tmp = p.with_suffix(".part")
            make_csv(tmp, shape, rows, args.cols)
            tmp.rename(p)
        return p

    rows: list[dict[str, Any]] = []
    mb_s: dict[str, float] = {}
    bounds: list[dict[str, Any]] = []
    bounds_error: str | None = None
    one = "tb, 1 thread (bounds)"

    def one_thread(fn: Callable[[], Any]) -> Callable[[], Any]:
        def call() -> Any:
            n = tb.num_threads()
            tb.set_num_threads(1)
            try:
                return fn()
            finally:
                tb.set_num_threads(n)
        return call

    def add_bounds(f: Path, shape: str, dtypes: list[str], times: dict[str, dict[str, dict[str, float]]]) -> None:
        nonlocal bounds_error
        if args.bounds_repeats <= 0 or bounds_error is not None:
            return
        try:
            raw = _csv_bounds.measure(f, args.bounds_repeats, columns=shape == "table")
        except _csv_bounds.BoundsUnavailable as e:
            bounds_error = str(e)
            print(f"bounds skipped: {e}", file=sys.stderr)
            return
        for dtype in dtypes:
            t = times[dtype]
            ours_name = next(iter(t))
            b = _csv_bounds.ceilings(raw, dtype, t["pandas.read_csv (C engine)"]["median"], t[ours_name]["median"],
                                     t[one]["median"])
            if b["mismatches"]:
                raise _harness.Mismatch(f"bounds of {shape} {dtype}: {b['mismatches']} conversions differ from fast_float's")
            bounds.append({"shape": shape, "dtype": dtype, **b})
    shapes = [s for s in args.shapes.split(",") if s]
    for shape in shapes:
        f = path(shape, args.rows)
        size_mb = f.stat().st_size / 1e6
        names = pd.read_csv(f, nrows=0).columns.tolist()
        if shape == "table":
            ours = "tb.read_csv() -> Table"

            def tb_table(f: Path = f) -> dict[str, Any]:
                t = tb.read_csv(f)
                columns = {c: t[c] for c in t.columns}  # text columns: lists of str, as pandas' objects
                return {c: v if isinstance(v, list) else np.from_dlpack(v) for c, v in columns.items()}

            def pd_table(f: Path = f, **kw: Any) -> dict[str, Any]:
                df = pd.read_csv(f, **kw)
                return {c: df[c].to_numpy() for c in df.columns}

            def pa_table(f: Path = f) -> dict[str, Any]:
                t = pacsv.read_csv(f, convert_options=pacsv.ConvertOptions(column_types={"date": pa.string()}))
                return {c: t[c].to_numpy() for c in t.column_names}

            t = _harness.measure({
                ours: tb_table,
                one: one_thread(tb_table),
                "pandas.read_csv (C engine)": pd_table,
                "pandas.read_csv (engine=pyarrow)": lambda: pd_table(engine="pyarrow", dtype={"date": object}),
                "pyarrow.csv.read_csv + to numpy": pa_table,
            }, same=same_table, min_time=0.0)
            case = f"CSV mixed table -> tb.Table, {args.rows} x {args.cols}, {size_mb:.1f} MB"
            rows += [_harness.row(case, ours, n, t[ours], t[n], why=WHY, shape=shape, dtype="table")
                     for n in t if n not in (ours, one)]
            mb_s[f"{shape} table"] = size_mb / t[ours]["median"]
            add_bounds(f, shape, ["table"], {"table": t})
            continue
        times = {}
        for dtype in args.dtypes.split(","):
            ours = f"tb.read_csv(dtype={dtype}).to_tensor()"
            pa_opts = pacsv.ConvertOptions(column_types={n: pa.float32() if dtype == "float32" else pa.float64()
                                                         for n in names})

            def pyarrow_csv(f: Path = f, pa_opts: Any = pa_opts) -> Any:
                t = pacsv.read_csv(f, convert_options=pa_opts)
                return np.column_stack([c.to_numpy() for c in t.columns])

            read = lambda f=f, dtype=dtype: np.from_dlpack(tb.read_csv(f, dtype=dtype).to_tensor())
            t = _harness.measure({
                ours: read,
                one: one_thread(read),
                "pandas.read_csv (C engine)": lambda f=f, dtype=dtype: pd.read_csv(f, dtype=dtype).to_numpy(),
                "pandas.read_csv (engine=pyarrow)":
                    lambda f=f, dtype=dtype: pd.read_csv(f, dtype=dtype, engine="pyarrow").to_numpy(),
                "pyarrow.csv.read_csv + to numpy": pyarrow_csv,
            }, same=close(dtype), min_time=0.0)
            case = f"CSV {shape} -> {dtype} array, {args.rows} x {args.cols}, {size_mb:.1f} MB"
            rows += [_harness.row(case, ours, n, t[ours], t[n], why=WHY, shape=shape, dtype=dtype)
                     for n in t if n not in (ours, one)]
            mb_s[f"{shape} {dtype}"] = size_mb / t[ours]["median"]
            times[dtype] = t
        add_bounds(f, shape, list(times), times)

    if "round6" in shapes:
        small = path("round6", min(args.loadtxt_rows, args.rows))
        ours = "tb.read_csv(dtype=float32).to_tensor()"
        t = _harness.measure({
            ours: lambda: np.from_dlpack(tb.read_csv(small, dtype="float32").to_tensor()),
            "np.loadtxt": lambda: np.loadtxt(small, delimiter=",", skiprows=1, dtype=np.float32),
        }, same=close("float32"), min_time=0.0)
        rows.append(_harness.row(f"CSV round6 -> float32 array, {min(args.loadtxt_rows, args.rows)} x {args.cols}",
                                 ours, "np.loadtxt", t[ours], t["np.loadtxt"], why="np.loadtxt parses on one thread",
                                 shape="round6", dtype="float32"))

    rows.sort(key=lambda r: r["ratio"])
    _harness.print_rows(f"CSV by number format, worst first ({tb.num_threads()} tb threads)", rows)
    print("\ntensorbridge MB/s: " + ", ".join(f"{k} {v:,.0f}" for k, v in sorted(mb_s.items(), key=lambda kv: kv[1])))
    if bounds:
        print("\nBounds (one core each step, medians; ceilings = pandas' time / (step time / 2), "
              "i.e. two cores doing nothing but that step):")
        for b in sorted(bounds, key=lambda b: b["vs_pandas"]["measured_2_threads"]):
            print(_csv_bounds.describe(b["shape"], b["dtype"], b))
    _harness.save("bench_io_csv", {"rows_in_file": args.rows, "cols": args.cols, "mb_per_s": mb_s, "rows": rows,
                                   "bounds": bounds, "bounds_error": bounds_error,
                                   "report_md": _csv_bounds.markdown(bounds) if bounds else ""})


if __name__ == "__main__":
    main()

"""``tensorbridge convert IN OUT``: CSV <-> ``.npy`` <-> ``.npz``, told apart by extension.

- CSV -> ``.npy``: the numeric columns as one 2-D matrix (``--dtype``; by default float32, or the
  columns' integer type when every column holds integers, so big integers stay exact).
- CSV -> ``.npz``: one member per column, each with its own dtype (or ``--dtype``).
- ``.npy`` -> ``.npz``: one member named after the input file; ``.npz`` -> ``.npy``: the member
  ``--member`` (or the only one).
- ``.npy``/``.npz`` -> CSV: a 1-D or 2-D array (or equal-length 1-D ``.npz`` members) as columns.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import tensorbridge as tb

from .data import UsageError
from .progress import Progress

_KINDS = {".csv": "csv", ".npy": "npy", ".npz": "npz"}
_CSV_ROWS = 100_000  # rows per written CSV chunk (and per progress step)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert between CSV, .npy and .npz", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", type=Path, metavar="IN")
    p.add_argument("output", type=Path, metavar="OUT")
    p.add_argument("--dtype", help="convert the values to this dtype (same-kind casting)")
    p.add_argument("--member", help="the .npz member to write when the output holds one array")
    p.set_defaults(run=run)


def _kind(path: Path) -> str:
    kind = _KINDS.get(path.suffix.lower())
    if kind is None:
        raise UsageError(f"{path}: unknown extension {path.suffix!r}; expected .csv, .npy or .npz")
    return kind


def _read(path: Path, dtype: str | None) -> dict[str, Any]:
    """name -> tensor (CSV columns, .npz members, or the one .npy array under its file stem)."""
    kind = _kind(path)
    if kind == "csv":
        table = tb.read_csv(path)
        out = {}
        for name, col in table.items():
            if isinstance(col, tb.Categorical):
                col = col.codes
            if not isinstance(col, tb.Tensor):
                raise UsageError(f"{path}: column {name!r} holds text, which .npy/.npz cannot hold as numbers")
            out[name] = col
        return out
    loaded = tb.load(path, mmap=True)
    if kind == "npy":
        return dict(loaded) if isinstance(loaded, dict) else {path.stem: loaded}
    with loaded:
        return {k: loaded[k] for k in loaded.files}


def _write_csv(path: Path, arrays: dict[str, Any], show: bool) -> None:
    if len(arrays) == 1:
        (name, t), = arrays.items()
        a = tb.to_numpy(t)
        if a.ndim > 2:
            raise UsageError(f"{name} has shape {a.shape}; CSV holds 1-D or 2-D arrays only")
        a = a.reshape(len(a), -1)
        header = [name] if a.shape[1] == 1 else [f"{name}_{i}" for i in range(a.shape[1])]
    else:
        cols = [tb.to_numpy(t) for t in arrays.values()]
        if any(c.ndim != 1 or len(c) != len(cols[0]) for c in cols):
            raise UsageError("to write several arrays as CSV columns they must be 1-D and of equal length; "
                             f"got shapes {[c.shape for c in cols]}")
        a, header = np.rec.fromarrays(cols, names=[f"c{i}" for i in range(len(cols))]), list(arrays)
    fmt = [("%d" if a.dtype[i].kind in "biu" else "%.17g") for i in range(len(a.dtype))] if a.dtype.names else \
        ("%d" if a.dtype.kind in "biu" else "%.9g" if a.dtype.itemsize <= 4 else "%.17g")
    # Written whole or not at all, like every tensorbridge writer: a failure keeps the old file.
    with tb.io.open_atomic(path) as f, Progress(-(-len(a) // _CSV_ROWS), f"writing {path.name}", "chunk",
                                        enabled=show and len(a) > 10 * _CSV_ROWS) as bar:
        f.write(",".join(header) + "\n")
        for i in range(0, len(a), _CSV_ROWS):
            np.savetxt(f, a[i:i + _CSV_ROWS], fmt=fmt, delimiter=",")
            bar.update()


def _integer_matrix(table: Any) -> Any:
    """The table as one exact integer matrix when every column holds integers (int64 beside uint64
    columns: uint64 if no value is negative, else int64 if every value fits), else None."""
    matrix = table.to_tensor()
    if matrix.dtype.startswith(("int", "uint", "bool")):
        return matrix
    if any(not isinstance(table[c], tb.Tensor) or not table[c].dtype.startswith(("int", "uint", "bool"))
           or table.mask(c) is not None for c in table.columns):
        return None
    for wide in ("uint64", "int64"):
        try:
            return table.to_tensor(dtype=wide, casting="unsafe", checked=True)
        except tb.CastOverflowError:
            continue
    raise UsageError("the CSV holds integers beyond int64 beside negative integers, which no one integer type "
                     "holds exactly; pass --dtype float64 to accept rounding, or convert to .npz (one member "
                     "per column)")


def convert(src: Path, dst: Path, dtype: str | None = None, member: str | None = None, show: bool = False) -> str:
    """Converts ``src`` to ``dst``; returns a one-line summary."""
    if src.resolve() == dst.resolve():
        raise UsageError(f"{src}: input and output are the same file")
    in_kind, out_kind = _kind(src), _kind(dst)
    if in_kind == "csv" and out_kind == "npy":
        table = tb.read_csv(src, dtype=dtype)
        matrix = table.to_tensor(dtype=dtype) if dtype else _integer_matrix(table)
        if matrix is None:  # numbers with fractions: float32, parsed from the text (no double rounding)
            dtype = "float32"
            table = tb.read_csv(src, dtype=dtype)
            matrix = table.to_tensor(dtype=dtype)
        tb.save(dst, matrix)
        return f"{src} -> {dst}: {matrix.dtype}{list(matrix.shape)} (columns {table.columns})"
    arrays = _read(src, dtype)
    if dtype:
        arrays = {k: tb.asarray(v, dtype=dtype) for k, v in arrays.items()}
    if out_kind == "npz":
        tb.save_npz(dst, arrays)
    elif out_kind == "npy":
        if member is None and len(arrays) != 1:
            raise UsageError(f"{src} holds {list(arrays)}; choose one with --member NAME")
        key = member if member is not None else next(iter(arrays))
        if key not in arrays:
            raise UsageError(f"{src} has no member {key!r}; it holds {list(arrays)}")
        arrays = {key: arrays[key]}
        tb.save(dst, arrays[key])
    else:
        _write_csv(dst, arrays, show)
    shapes = ", ".join(f"{k}: {v.dtype}{list(v.shape)}" for k, v in arrays.items())
    return f"{src} -> {dst}: {shapes}"


def run(args: argparse.Namespace) -> int:
    print(convert(args.input, args.output, args.dtype, args.member, show=True))
    return 0

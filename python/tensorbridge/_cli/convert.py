"""``tensorbridge convert IN OUT``: CSV <-> ``.npy`` <-> ``.npz``, told apart by extension (``.tsv``
is CSV separated by tabs; a CSV input may be compressed: ``.csv.gz``, ``.bz2``, ``.xz``, ``.zst``).

- CSV -> ``.npy``: the numeric columns as one 2-D matrix (``--dtype``; by default float32, or the
  columns' integer type when every column holds integers, so big integers stay exact).
- CSV -> ``.npz``: one member per column, each with its own dtype (or ``--dtype``).
- ``.npy`` -> ``.npz``: one member named after the input file; ``.npz`` -> ``.npy``: the member
  ``--member`` (or the only one).
- ``.npy``/``.npz`` -> CSV: a 0-D, 1-D or 2-D array (``--member``), or equal-length 1-D ``.npz``
  members, as columns.

Big-endian ``.npy``/``.npz`` data is byte-swapped on the way; descr ``'<V2'`` (how ``np.save``
writes ``ml_dtypes.bfloat16``) reads as bfloat16. A dtype change follows ``--casting``
(NumPy's rules; default same_kind) and, with ``--checked``, stops at the first value that the new
dtype cannot hold (NaN or an out-of-range number into an integer, a finite value that would
become infinite), naming its index (CSV: its column and row). Outputs are written whole or not at
all: a failed conversion leaves no partial file and keeps the file it would have replaced.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

import tensorbridge as tb

from .args import COMPRESSION_SUFFIXES, content_suffix, csv_sep, dtype_arg, na_values_arg, sep_arg
from .data import UsageError
from .messages import delimiter_hint, with_flags
from .progress import Progress
from .remote import RemotePath, path_arg

_KINDS = {".csv": "csv", ".tsv": "csv", ".npy": "npy", ".npz": "npz"}
_CSV_ROWS = 100_000  # rows per written CSV chunk (and per progress step)
_CASTING = "same_kind"
_CSV_MATRIX_DTYPE = "float32"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert between CSV, .npy and .npz", description=__doc__)
    p.add_argument("input", type=path_arg, metavar="IN", help="a .csv, .npy or .npz file (or s3:// object)")
    p.add_argument("output", type=path_arg, metavar="OUT", help="the .csv, .npy or .npz file to write (or s3:// object)")
    p.add_argument("--dtype", type=dtype_arg, help="convert the values to this dtype (float32, int8, bfloat16...)")
    p.add_argument("--casting", choices=tb.CASTING_RULES, default=_CASTING,
                   help=f"which dtype changes --dtype may make, as in NumPy (default {_CASTING}; "
                        "unsafe allows any change, such as float -> int)")
    p.add_argument("--checked", action="store_true",
                   help="fail at the first value the new dtype cannot hold instead of changing it")
    p.add_argument("--member", help="convert only this array (.npz member, CSV column, field of a structured .npy)")
    p.add_argument("--na-values", type=na_values_arg, metavar="A,B,...",
                   help="CSV input: extra strings that mean a missing value (NaN), e.g. 'n/a,-'")
    p.add_argument("--fill-value", type=float, metavar="NUMBER",
                   help="CSV input: the value written where an int or bool column has a missing value "
                        "(by default such a column becomes float64 with NaN there)")
    p.add_argument("--sep", type=sep_arg, metavar="CHAR",
                   help="the delimiter of a CSV input (default ',', a tab for .tsv); a CSV output uses ',' "
                        "(a tab for .tsv)")
    p.set_defaults(run=run)


def _kind(path: Path) -> str:
    kind = _KINDS.get(content_suffix(path))
    if kind is None or (kind != "csv" and path.suffix.lower() in COMPRESSION_SUFFIXES):
        raise UsageError(f"{path}: unknown extension {path.suffix!r}; expected .csv, .tsv, .npy or .npz "
                         f"(a CSV input may be compressed: {', '.join(COMPRESSION_SUFFIXES)})")
    return kind


def _check_paths(src: Path, dst: Path) -> None:
    """Refuses, before any work, what would fail later with a less clear message."""
    if not src.exists():
        raise tb.NotFoundError(f"{src}: no such file; check the path")
    if src.is_dir():
        raise tb.DirectoryError(f"{src}: is a directory, not a file; give a .csv, .npy or .npz file")
    if not src.is_file():
        raise tb.ReadError(f"{src}: not a regular file (a pipe, socket or device); convert reads files: "
                           "save the data to a file first")
    if dst.is_dir():
        raise tb.DirectoryError(f"{dst}: is a directory; give the path of the file to write, such as "
                            f"{dst / src.with_suffix('.npy').name}")
    for path in (src, dst):
        _kind(path)
    if dst.suffix.lower() in COMPRESSION_SUFFIXES:
        raise UsageError(f"{dst}: convert writes uncompressed CSV; write {dst.with_suffix('')} and compress it "
                         "afterwards")
    if not dst.parent.is_dir():
        raise tb.WriteError(f"{dst}: the folder {dst.parent} does not exist; create it first "
                            f"(mkdir -p {dst.parent}) or write elsewhere")
    if isinstance(src, RemotePath) or isinstance(dst, RemotePath):
        if src == dst:
            raise UsageError(f"{src}: input and output are the same object; write to another path")
    elif src.resolve() == dst.resolve() or (dst.exists() and os.path.samefile(src, dst)):
        raise UsageError(f"{src}: input and output are the same file; write to another path")


def _first_text(values: list[Any]) -> str:
    """The first value of a text column that is not a number (what made it text)."""
    for v in values:
        if v is None:
            continue
        try:
            float(v)
        except ValueError:
            return str(v)
    return str(values[0])


def _read_csv(path: Path, na_values: list[str] | None, sep: str | None,
              member: str | None) -> tuple[Any, list[str]]:
    """The CSV file as a :class:`tb.Table` and the columns to convert (``member`` or all), refusing
    a text column with the value that made it text."""
    table = tb.read_csv(path, na_values=na_values, sep=csv_sep(path, sep))
    names = table.columns if member is None else list(_pick(path, dict.fromkeys(table.columns), member))
    for name in names:
        col = table[name]
        if not isinstance(col, (tb.Tensor, tb.Categorical)):
            bad = _first_text(col)
            fix = delimiter_hint(table.columns) or \
                f"pass --na-values {bad} if it means a missing value, or remove the column"
            raise UsageError(f"{path}: column {name!r} holds text such as {bad!r}, and .npy/.npz hold numbers; "
                             f"{fix}")
    return table, names


def _csv_column(table: Any, name: str, fill_value: float | None) -> Any:
    """One numeric column as a tensor: a column with missing values as Table.to_tensor gives it
    (``fill_value`` there, or float64 with NaN for int/bool), never the placeholder under its mask."""
    col = table[name]
    if table.mask(name) is not None:
        return tb.asarray(tb.to_numpy(table.to_tensor([name], fill_value=fill_value)).reshape(-1))
    return col.codes if isinstance(col, tb.Categorical) else col


def _read(path: Path, na_values: list[str] | None, sep: str | None, member: str | None,
          fill_value: float | None) -> dict[str, Any]:
    """name -> tensor (CSV columns, .npz members, or the one .npy array under its file stem); only
    ``member`` when given."""
    if _kind(path) == "csv":
        table, names = _read_csv(path, na_values, sep, member)
        return {name: _csv_column(table, name, fill_value) for name in names}
    arrays = _load(path)
    return arrays if member is None else _pick(path, arrays, member)


def _load(path: Path) -> dict[str, Any]:
    # A private map: zero-copy, and big-endian data is swapped in the private copy of its pages.
    loaded = tb.load(path, mmap=True, copy_on_write=True, void2_as_bfloat16=True)
    if isinstance(loaded, tb.Tensor):
        return {path.stem: loaded}
    if isinstance(loaded, dict):  # a structured .npy: one array per field
        return loaded
    out = {}
    with loaded:
        for key in loaded.files:
            member = loaded[key]
            fields = member.items() if isinstance(member, dict) else [(None, member)]
            out.update({key if field is None else f"{key}.{field}": t for field, t in fields})
    return out


def _cast(src: Path, arrays: dict[str, Any], dtype: str, casting: str, checked: bool) -> dict[str, Any]:
    out = {}
    for name, t in arrays.items():
        try:
            out[name] = tb.cast(t, dtype, casting=casting, checked=checked)
        except tb.TensorbridgeError as e:
            raise type(e)(f"{src}[{name}]: {with_flags(str(e))}") from None
    return out


def _pick(src: Path, arrays: dict[str, Any], member: str) -> dict[str, Any]:
    """Only ``member`` of ``arrays``."""
    if member not in arrays:
        raise UsageError(f"{src} has no member {member!r}; it holds {list(arrays)}")
    return {member: arrays[member]}


def _csv_matrix(src: Path, arrays: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    """The arrays as one (rows, columns) NumPy array (structured when the columns differ in dtype)
    and its header."""
    for name, t in arrays.items():
        if t.dtype.startswith("complex"):
            raise UsageError(f"{src}[{name}] is {t.dtype}; CSV holds real numbers: write .npy or .npz, "
                             "or pass --dtype float64 --casting unsafe to keep the real part")
    if len(arrays) == 1:
        (name, t), = arrays.items()
        a = tb.to_numpy(t)
        if a.ndim > 2:
            raise UsageError(f"{src}[{name}] has shape {a.shape}; CSV holds 0-D, 1-D or 2-D arrays only: "
                             "write .npy or .npz instead")
        if a.size == 0:
            raise UsageError(f"{src}[{name}] has shape {a.shape}: no values to write, and a CSV file needs at "
                             "least one row and one column; write .npy or .npz instead")
        a = a.reshape(1, 1) if a.ndim == 0 else a.reshape(a.shape[0], -1)
        return a, [name] if a.shape[1] == 1 else [f"{name}_{i}" for i in range(a.shape[1])]
    cols = [tb.to_numpy(t) for t in arrays.values()]
    if any(c.ndim != 1 or len(c) != len(cols[0]) for c in cols) or not len(cols[0]):
        raise UsageError(f"{src}: to write several arrays as CSV columns they must be 1-D, of equal and nonzero "
                         f"length; got shapes {[c.shape for c in cols]}; choose one with --member NAME")
    return np.rec.fromarrays(cols, names=[f"c{i}" for i in range(len(cols))]), list(arrays)


def _number_format(dtype: np.dtype) -> str:
    # Enough digits for every value to read back exactly: 9 for float16/bfloat16/float32, 17 for float64.
    return "%d" if dtype.kind in "biu" else "%.9g" if dtype.itemsize <= 4 else "%.17g"


def _header_field(name: str, sep: str) -> str:
    """A column name as a CSV field: quoted when it holds the delimiter, a quote or a line break."""
    if any(c in name for c in (sep, '"', "\n", "\r")):
        return '"' + name.replace('"', '""') + '"'
    return name


def _write_csv(path: Path, a: np.ndarray, header: list[str], show: bool) -> None:
    sep = csv_sep(path, None)
    fmt = [_number_format(a.dtype[i]) for i in range(len(a.dtype))] if a.dtype.names else _number_format(a.dtype)
    # Written whole or not at all, like every tensorbridge writer: a failure keeps the old file.
    with tb.io.open_atomic(path) as f, Progress(-(-len(a) // _CSV_ROWS), f"writing {path.name}", "chunk",
                                                enabled=show and len(a) > 10 * _CSV_ROWS) as bar:
        f.write(sep.join(_header_field(name, sep) for name in header) + "\n")
        for i in range(0, len(a), _CSV_ROWS):
            np.savetxt(f, a[i:i + _CSV_ROWS], fmt=fmt, delimiter=sep)
            bar.update()


def _integer_matrix(table: Any, names: list[str]) -> Any:
    """The columns as one exact integer matrix when every column holds integers (int64 beside uint64
    columns: uint64 if no value is negative, else int64 if every value fits), else None."""
    matrix = table.to_tensor(names)
    if matrix.dtype.startswith(("int", "uint", "bool")):
        return matrix
    if any(not isinstance(table[c], tb.Tensor) or not table[c].dtype.startswith(("int", "uint", "bool"))
           or table.mask(c) is not None for c in names):
        return None
    for wide in ("uint64", "int64"):
        try:
            return table.to_tensor(names, dtype=wide, casting="unsafe", checked=True)
        except tb.CastOverflowError:
            continue
    raise UsageError("the CSV holds integers beyond int64 beside negative integers, which no one integer type "
                     "holds exactly; pass --dtype float64 to accept rounding, or convert to .npz (one member "
                     "per column)")


def _csv_to_matrix(src: Path, dtype: str | None, member: str | None, casting: str, checked: bool,
                   na_values: list[str] | None, sep: str | None, fill_value: float | None) -> Any:
    """The CSV's columns (or ``member``) as one (rows, columns) tensor of ``dtype``; by default the
    exact integer type of an all-integer file, else float32."""
    table, names = _read_csv(src, na_values, sep, member)
    if dtype is None:
        matrix = _integer_matrix(table, names)
        if matrix is not None:
            return matrix
        dtype = _CSV_MATRIX_DTYPE
    numbers = all(isinstance(table[c], tb.Tensor) and table[c].dtype.startswith(("int", "uint", "float"))
                  for c in names)
    if numbers and dtype in ("float32", "float64") and casting in ("same_kind", "unsafe") and not checked:
        # Numbers parsed straight from the text into the float type: one rounding, not two (via float64).
        table = tb.read_csv(src, na_values=na_values, sep=csv_sep(src, sep), usecols=names, dtype=dtype)
    try:
        return table.to_tensor(names, dtype=dtype, casting=casting, checked=checked, fill_value=fill_value)
    except tb.TensorbridgeError as e:
        raise type(e)(f"{src}: {with_flags(str(e).removeprefix('to_tensor: '))}") from None


def convert(src: Path, dst: Path, dtype: str | None = None, member: str | None = None, show: bool = False,
            casting: str = _CASTING, checked: bool = False, na_values: list[str] | None = None,
            sep: str | None = None, fill_value: float | None = None) -> str:
    """Converts ``src`` to ``dst``; returns a one-line summary."""
    _check_paths(src, dst)
    in_kind, out_kind = _kind(src), _kind(dst)
    if dtype is None and (checked or casting != _CASTING) and not (in_kind == "csv" and out_kind == "npy"):
        raise UsageError("--casting and --checked apply to a dtype change: pass --dtype DTYPE as well")
    if (na_values is not None or sep is not None or fill_value is not None) and in_kind != "csv":
        raise UsageError(f"--na-values, --fill-value and --sep apply to a CSV input, and {src} is {in_kind}")
    if in_kind == "csv" and out_kind == "npy":
        matrix = _csv_to_matrix(src, dtype, member, casting, checked, na_values, sep, fill_value)
        tb.save(dst, matrix)
        return f"{src} -> {dst}: {matrix.dtype}{list(matrix.shape)}"
    arrays = _read(src, na_values, sep, member, fill_value)
    if dtype:
        arrays = _cast(src, arrays, dtype, casting, checked)
    if out_kind == "npz":
        tb.save_npz(dst, arrays)
    elif out_kind == "npy":
        if len(arrays) != 1:
            raise UsageError(f"{src} holds {list(arrays)}; choose one with --member NAME")
        tb.save(dst, next(iter(arrays.values())))
    else:
        _write_csv(dst, *_csv_matrix(src, arrays), show)
    shapes = ", ".join(f"{k}: {v.dtype}{list(v.shape)}" for k, v in arrays.items())
    return f"{src} -> {dst}: {shapes}"


def run(args: argparse.Namespace) -> int:
    print(convert(args.input, args.output, args.dtype, args.member, show=True, casting=args.casting,
                  checked=args.checked, na_values=args.na_values, sep=args.sep, fill_value=args.fill_value))
    return 0

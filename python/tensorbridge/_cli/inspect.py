"""``tensorbridge inspect``: what is in a ``.npy``/``.npz``/CSV file and what each framework
conversion would cost, without loading the file into memory (statistics stream over a memory
map, or over CSV chunks).

Each file is reported on its own: a file that cannot be read is named on stderr, the others are
still reported, and the exit status is 1 if any failed. A glob pattern skips the folders it
matches. With --json the output is strict JSON (one object per file, a list for several; a file
that failed is {"path": ..., "error": ...}); NaN and infinite statistics are the strings "NaN",
"Infinity" and "-Infinity", which Python's float() reads back. A ``.npy`` descr ``'<V2'`` (how
``np.save`` writes ``ml_dtypes.bfloat16``) reads as bfloat16.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import tensorbridge as tb
from tensorbridge._ext import detect_array_head

from ..errors import UsageError
from . import frameworks
from .args import content_suffix, csv_sep, dtype_arg, sep_arg
from .messages import one_line
from .progress import Progress
from .remote import RemotePath, read_head
from .stats import RoundTrip, Stats, chunks

_BYTE_ORDER = {"<": "little-endian", ">": "big-endian", "|": "not applicable", "=": "native"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="shape, dtype, statistics and conversion costs of .npy/.npz/.csv files",
                       description=__doc__)
    p.add_argument("paths", nargs="+", metavar="FILE_OR_GLOB", help="files, or glob patterns such as 'data/*.npy'")
    p.add_argument("--dtype", type=dtype_arg, help="also say whether converting to this dtype loses information")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    p.add_argument("--sep", type=sep_arg, metavar="CHAR", help="the delimiter of CSV files (default ',', a tab for .tsv)")
    p.set_defaults(run=run)


def _not_a_file(name: str) -> tb.TensorbridgeError:
    """Why ``name``, given on the command line, is not a file to inspect."""
    if os.path.isdir(name):
        return tb.DirectoryError(f"{name}: is a directory; inspect the files in it with '{os.path.join(name, '*')}'")
    if os.path.exists(name):
        return tb.ReadError(f"{name}: not a regular file (a pipe, socket or device); inspect reads files: "
                            "save the data to a file first")
    if glob.has_magic(name):
        return tb.NotFoundError(f"{name}: no such file (the pattern matches no file)")
    return tb.NotFoundError(f"{name}: no such file; check the path")


def expand(patterns: list[str]) -> list[tuple[Path, tb.TensorbridgeError | None]]:
    """The files the arguments name, in order, each with None, or with the error saying why the
    argument names no file (a pattern matching only folders, a missing path...)."""
    out: list[tuple[Path, tb.TensorbridgeError | None]] = []
    for pattern in patterns:
        if tb._ext.is_remote_path(pattern):
            out.append((RemotePath(pattern), None))
            continue
        matches = [m for m in sorted(glob.glob(pattern)) if os.path.isfile(m)] if glob.has_magic(pattern) else []
        if matches:
            out.extend((Path(m), None) for m in matches)
        elif os.path.isfile(pattern):
            out.append((Path(pattern), None))
        else:
            out.append((Path(pattern), _not_a_file(pattern)))
    return out


def _plans(t: Any, dtype: str | None) -> dict[str, Any]:
    """Per framework: zero-copy or not, bytes to copy, why, and whether it is lossy."""
    out: dict[str, Any] = {}
    for name, _, _ in frameworks.FRAMEWORKS:
        if frameworks.load(name) is None:
            out[name] = {"error": frameworks.why_missing(name)}
            continue
        try:
            plan = tb.explain(t, to=name, dtype=dtype)
        except (TypeError, ValueError, BufferError) as e:
            out[name] = {"error": str(e)}
            continue
        out[name] = {"zero_copy": plan.zero_copy, "bytes_to_copy": plan.bytes_to_copy, "reasons": list(plan.reasons),
                     "lossy": plan.lossy, "to_dtype": plan.to_dtype, "read_only": plan.read_only}
    return out


def describe_array(name: str, t: Any, dtype: str | None, byte_order: str, extra: dict[str, Any],
                   show_progress: bool) -> dict[str, Any]:
    """The report of one array (a ``tb.Tensor``, usually memory-mapped)."""
    a = tb.to_numpy(t)
    stats = Stats()
    check = RoundTrip(tb.dtype_name(dtype)) if dtype else None
    with Progress(max(1, -(-a.size // (1 << 22))), f"scanning {name}", "chunk",
                  enabled=show_progress and a.nbytes > (256 << 20)) as bar:
        for offset, piece in chunks(a):
            stats.update(piece)
            if check is not None:
                check.update(offset, piece)
            bar.update()
    info: dict[str, Any] = {
        "name": name, "shape": list(t.shape), "dtype": t.dtype, "byte_order": byte_order,
        "nbytes": t.nbytes, **extra, "stats": stats.as_dict(), "conversions": _plans(t, None),
    }
    if dtype:
        target = tb.dtype_name(dtype)
        info["cast"] = {"safe_by_type": tb.can_cast(t.dtype, target, "safe"), **check.as_dict(),
                        "conversions": _plans(t, target)}
    return info


def _npy(path: Path, dtype: str | None, show: bool) -> list[dict[str, Any]]:
    header = tb.read_npy_header(path, void2_as_bfloat16=True)
    order = _BYTE_ORDER.get(str(header.descr)[:1], "native") if isinstance(header.descr, str) else "per field"
    extra = {"fortran_order": bool(header.fortran_order), "memory_mapped": True}
    # A read-only map cannot swap bytes in place: big-endian data is swapped in a private map.
    loaded = tb.load(path, mmap=True, copy_on_write=bool(header.byteswapped), void2_as_bfloat16=True)
    if isinstance(loaded, dict):
        return [describe_array(f"{path}[{k}]", v, dtype, order, {**extra, "field": k}, show) for k, v in loaded.items()]
    return [describe_array(str(path), loaded, dtype, order, extra, show)]


def _npz(path: Path, dtype: str | None, show: bool) -> list[dict[str, Any]]:
    out = []
    with tb.load(path, mmap=True, void2_as_bfloat16=True) as f, \
            tb.load(path, mmap=True, copy_on_write=True, void2_as_bfloat16=True) as private:
        for key in f.files:
            header = f.header(key)
            # A read-only map cannot swap bytes in place: big-endian members come from a private map.
            member = (private if header.byteswapped else f)[key]
            descr = header.descr
            order = _BYTE_ORDER.get(descr[:1], "native") if isinstance(descr, str) else "per field"
            cols = member.items() if isinstance(member, dict) else [(None, member)]
            for field, t in cols:
                name = f"{path}[{key}]" + (f"[{field}]" if field else "")
                out.append(describe_array(name, t, dtype, order, {"member": key}, show))
    return out


def _csv(path: Path, dtype: str | None, show: bool, sep: str | None = None) -> list[dict[str, Any]]:
    """One report per numeric column, streaming the file in row batches."""
    columns: dict[str, Any] = {}
    first: dict[str, Any] = {}
    rows = 0
    for table in tb.iter_csv(path, rows=200_000, sep=csv_sep(path, sep)):
        rows += table.num_rows
        for name, col in table.items():
            if isinstance(col, tb.Categorical):
                col = col.codes
            if not isinstance(col, tb.Tensor):
                columns.setdefault(name, None)
                continue
            first.setdefault(name, col)
            state = columns.setdefault(name, (Stats(), RoundTrip(tb.dtype_name(dtype)) if dtype else None, [0]))
            a = tb.to_numpy(col)
            state[0].update(a)
            if state[1] is not None:
                state[1].update(state[2][0], a)
            state[2][0] += a.size
    if rows == 0:
        # A header without rows: fail as read_csv does, so that inspect and read_csv agree.
        tb.read_csv(path, sep=csv_sep(path, sep))
    out = []
    for name, state in columns.items():
        if state is None:
            out.append({"name": f"{path}[{name}]", "shape": [rows], "dtype": "str", "nbytes": None,
                        "byte_order": "not applicable", "stats": None, "conversions": {}})
            continue
        t = first[name]
        info = {"name": f"{path}[{name}]", "shape": [rows], "dtype": t.dtype, "byte_order": "native",
                "nbytes": rows * t.itemsize, "stats": state[0].as_dict(), "conversions": _plans(t, None)}
        if dtype:
            target = tb.dtype_name(dtype)
            info["cast"] = {"safe_by_type": tb.can_cast(t.dtype, target, "safe"), **state[1].as_dict(),
                            "conversions": _plans(t, target)}
        out.append(info)
    return out


def inspect_file(path: Path, dtype: str | None = None, show_progress: bool = False,
                 sep: str | None = None) -> dict[str, Any]:
    """The report of one file: its kind, size and one entry per array/member/column."""
    content = detect_array_head(read_head(path, 6))  # "npy", "npz" or "other", by the first bytes
    if content == "npy":
        kind, arrays = "npy", _npy(path, dtype, show_progress)
    elif content == "npz":
        kind, arrays = "npz", _npz(path, dtype, show_progress)
    elif content_suffix(path) in (".csv", ".txt", ".tsv"):
        kind, arrays = "csv", _csv(path, dtype, show_progress, sep)
    else:
        raise UsageError(f"{path}: not a .npy or .npz file (by content) nor a CSV file (by name: .csv, .txt, "
                         ".tsv, also compressed, such as .csv.gz); inspect reads these three formats")
    return {"path": str(path), "kind": kind, "file_bytes": path.stat().st_size, "arrays": arrays}


def _fmt(v: Any) -> str:
    return "-" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v))


def _plan_line(name: str, p: dict[str, Any]) -> str:
    if "error" in p:
        return f"    {name:<11} cannot convert: {p['error']}"
    if p["zero_copy"]:
        return f"    {name:<11} zero-copy{' (read-only)' if p['read_only'] else ''} -> {p['to_dtype']}"
    lossy = ", lossy" if p["lossy"] else ""
    return f"    {name:<11} copy {p['bytes_to_copy']:,} bytes -> {p['to_dtype']}{lossy}: {'; '.join(p['reasons'])}"


def print_text(report: dict[str, Any]) -> None:
    """The human-readable form of :func:`inspect_file`'s report."""
    print(f"{report['path']}: {report['kind']}, {report['file_bytes']:,} bytes")
    for a in report["arrays"]:
        size = "" if a["nbytes"] is None else f", {a['nbytes']:,} bytes"
        order = ", Fortran order" if a.get("fortran_order") else ""
        print(f"  {a['name']}: {a['dtype']}{a['shape']}, {a['byte_order']}{order}{size}")
        s = a["stats"]
        if s is None:
            print("    text column: no statistics, not convertible to a tensor")
            continue
        print(f"    min {_fmt(s['min'])}  max {_fmt(s['max'])}  mean {_fmt(s['mean'])}  NaN {s['nan_count']}")
        for name, p in a["conversions"].items():
            print(_plan_line(name, p))
        c = a.get("cast")
        if c:
            verdict = "never loses information" if c["safe_by_type"] else "can lose information in general"
            print(f"  --dtype {c['dtype']}: {a['dtype']} -> {c['dtype']} {verdict}")
            if c["error"]:
                print(f"    this data: cannot be cast: {c['error']}")
            elif c["values_changed"]:
                f = c["first_change"]
                print(f"    this data: {c['values_changed']:,} values change (first at flat index {f['flat_index']}: "
                      f"{f['value']} -> {f['becomes']})")
            else:
                print("    this data: every value survives the round trip exactly")
            for name, p in c["conversions"].items():
                print(_plan_line(name, p))


def strict_json(v: Any) -> Any:
    """``v`` with every NaN or infinite float replaced by the string "NaN", "Infinity" or
    "-Infinity", so that ``json.dumps(allow_nan=False)`` accepts it."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, dict):
        return {k: strict_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [strict_json(x) for x in v]
    return v


def run(args: argparse.Namespace) -> int:
    reports: list[dict[str, Any]] = []
    failed = 0
    for path, error in expand(args.paths):
        if error is None:
            try:
                reports.append(inspect_file(path, args.dtype, show_progress=not args.json, sep=args.sep))
            except BrokenPipeError:
                raise
            except (tb.TensorbridgeError, OSError) as e:
                error = e
            else:
                if not args.json:
                    print_text(reports[-1])
                continue
        failed += 1
        reports.append({"path": str(path), "error": one_line(error)})
        print(f"tensorbridge inspect: error: {one_line(error)}", file=sys.stderr, flush=True)
    if args.json:
        document = reports if len(reports) > 1 else reports[0]
        print(json.dumps(strict_json(document), indent=2, allow_nan=False))
    return 1 if failed else 0

"""What bounds the CSV reader on each file, measured on one core by bench/csv_bounds.cpp: the
structural pass alone, the number conversion alone (tensorbridge's converters and fast_float's
``from_chars``), float32 and float64. The program includes the library's internal CSV headers, so
it is compiled on demand from the source tree with the library's Release flags (``-O3 -DNDEBUG``,
no ``-march``: the same instruction set as the library) by ``$CXX`` (else ``c++``), and cached
under ``build/bench/`` by a hash of its sources. ``bench_io_csv.py`` folds its figures, with the
reader's own times on one and two threads and pandas' from the same run, into ceilings: what the
reader could reach on two cores if it did nothing but that step.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SOURCES = [BENCH / "csv_bounds.cpp", ROOT / "src/io/csv/parser.cpp", ROOT / "src/core/error.cpp"]
HEADERS = [*sorted((ROOT / "src/io/csv").glob("*.hpp")), ROOT / "include/tensorbridge/io/csv.hpp",
           ROOT / "include/tensorbridge/core/error.hpp"]
FLAGS = ["-std=c++20", "-O3", "-DNDEBUG", f"-I{ROOT / 'src'}", f"-I{ROOT / 'include'}"]


class BoundsUnavailable(RuntimeError):
    """The bounds program could not be built or run (the message says why and what to do)."""


def binary() -> Path:
    """The compiled program, built if its sources changed since the cached one."""
    missing = [str(p) for p in SOURCES + HEADERS if not p.exists()]
    if missing:
        raise BoundsUnavailable(f"the library sources are not here ({', '.join(missing[:2])}): run the benchmark "
                                "from a source checkout of tensorbridge")
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not cxx:
        raise BoundsUnavailable("no C++ compiler found (set CXX): install g++ (and libfast-float-dev)")
    digest = hashlib.sha1(" ".join([cxx, *FLAGS]).encode())
    for p in SOURCES + HEADERS:
        digest.update(p.read_bytes())
    out = ROOT / "build" / "bench" / f"csv_bounds-{digest.hexdigest()[:12]}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.part")
    cmd = [cxx, *FLAGS, *map(str, SOURCES), "-o", str(tmp)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BoundsUnavailable(f"compiling {SOURCES[0].name} failed ({' '.join(cmd)}):\n{done.stderr[-2000:]}")
    tmp.rename(out)
    return out


def measure(path: Path, repeats: int, columns: bool) -> dict[str, Any]:
    """The program's figures for one file (see bench/csv_bounds.cpp), as a dict."""
    cmd = [str(binary()), str(path), str(repeats), "columns" if columns else "matrix"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BoundsUnavailable(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def ceilings(raw: dict[str, Any], dtype: str, pandas_s: float, tb_s: float, tb1_s: float) -> dict[str, Any]:
    """One row of the bounds table: the one-core step times of ``raw`` for ``dtype`` ("table": the
    column path, float64), and the speed each would allow on two cores (the step's time halved,
    as if it scaled perfectly and nothing else cost anything) as a ratio to pandas' time."""
    conv = raw["convert"]["float64" if dtype == "table" else dtype]
    wall = {
        "tokenizer": raw["structure"]["tokenizer"]["wall_s"],
        "bitmask_avx2": raw["structure"].get("bitmask_avx2", {}).get("wall_s"),
        "convert_ours": conv["ours"]["wall_s"],
        "convert_fast_float": conv["fast_float"]["wall_s"],
        "ssse3_rows": conv.get("ssse3_rows", {}).get("wall_s"),
    }
    best_convert = min(v for k, v in wall.items() if k in ("convert_ours", "convert_fast_float", "ssse3_rows") and v)
    # The reader's own design: the tokenizer, then our converters (the SSSE3 row parser does both).
    design = min(wall["tokenizer"] + wall["convert_ours"], wall["ssse3_rows"] or float("inf"))

    def on_two_cores(one_core_s: float) -> float:
        return pandas_s / (one_core_s / 2)

    return {
        "mb": raw["bytes"] / 1e6,
        "numeric_fields": raw["numeric_fields"],
        "mismatches": conv["mismatches"] + conv.get("ssse3_rows_mismatches", 0),
        "one_core_s": wall,
        "cpu_s": {"convert_ours": conv["ours"]["cpu_s"], "convert_fast_float": conv["fast_float"]["cpu_s"],
                  "tokenizer": raw["structure"]["tokenizer"]["cpu_s"]},
        "pandas_s": pandas_s,
        "tb_2_threads_s": tb_s,
        "tb_1_thread_s": tb1_s,
        "fast_float_mb_s_per_core": raw["numeric_bytes"] / 1e6 / wall["convert_fast_float"],
        "vs_pandas": {
            "measured_2_threads": pandas_s / tb_s,
            "measured_1_thread": pandas_s / tb1_s,
            "ceiling_fast_float_alone": on_two_cores(wall["convert_fast_float"]),
            "ceiling_best_conversion_alone": on_two_cores(best_convert),
            "ceiling_tokenizer_plus_convert": on_two_cores(design),
            "ceiling_bitmask_plus_best_conversion": on_two_cores(best_convert + (wall["bitmask_avx2"] or 0.0)),
        },
        # Time per core the whole read may take for 4x pandas on two cores, and the share of it the
        # best conversion alone already uses (> 1: 4x is out of reach with these converters).
        "budget_4x_per_core_s": pandas_s / 2,
        "best_conversion_share_of_4x_budget": best_convert / (pandas_s / 2),
    }


def describe(shape: str, dtype: str, row: dict[str, Any]) -> str:
    """One line of the printed bounds table."""
    ms = {k: (v * 1e3 if v else float("nan")) for k, v in row["one_core_s"].items()}
    r = row["vs_pandas"]
    return (f"{shape:>8} {dtype:<7} {row['mb']:6.1f} MB | pandas {row['pandas_s'] * 1e3:6.1f} ms | tb 2 thr "
            f"{row['tb_2_threads_s'] * 1e3:6.1f} ms ({r['measured_2_threads']:4.2f}x), 1 thr "
            f"{row['tb_1_thread_s'] * 1e3:6.1f} ms | 1 core: tokenizer {ms['tokenizer']:5.1f}, bitmask "
            f"{ms['bitmask_avx2']:4.1f}, convert ours {ms['convert_ours']:6.1f}, fast_float "
            f"{ms['convert_fast_float']:6.1f} ({row['fast_float_mb_s_per_core']:4.0f} MB/s), ssse3 rows "
            f"{ms['ssse3_rows']:5.1f} ms | ceilings on 2 cores: conversion alone {r['ceiling_best_conversion_alone']:4.2f}x, "
            f"tokenizer+convert {r['ceiling_tokenizer_plus_convert']:4.2f}x, bitmask+convert "
            f"{r['ceiling_bitmask_plus_best_conversion']:4.2f}x | mismatches {row['mismatches']}")


def markdown(bounds: list[dict[str, Any]]) -> str:
    """The bounds table for the benchmark report (times in ms on one core; ratios to pandas)."""
    lines = ["### What bounds the CSV reader (bench/csv_bounds.cpp, one core per step, same files and run)", "",
             "Ceilings: pandas' time over half the step's one-core time (two cores doing only that step).", "",
             ("| shape | output | MB | pandas ms | tb 2 threads | tb 1 thread | tokenizer ms | AVX2 bitmask ms | "
              "our conversion ms | fast_float ms (MB/s) | SSSE3 rows ms | ceiling: conversion alone | "
              "tokenizer + conversion | bitmask + conversion |"),
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for b in sorted(bounds, key=lambda b: b["vs_pandas"]["measured_2_threads"]):
        ms = {k: f"{v * 1e3:.1f}" if v else "-" for k, v in b["one_core_s"].items()}
        r = b["vs_pandas"]
        lines.append(
            f"| {b['shape']} | {b['dtype']} | {b['mb']:.1f} | {b['pandas_s'] * 1e3:.1f} | "
            f"{b['tb_2_threads_s'] * 1e3:.1f} ms ({r['measured_2_threads']:.2f}x) | "
            f"{b['tb_1_thread_s'] * 1e3:.1f} ms ({r['measured_1_thread']:.2f}x) | {ms['tokenizer']} | "
            f"{ms['bitmask_avx2']} | {ms['convert_ours']} | {ms['convert_fast_float']} "
            f"({b['fast_float_mb_s_per_core']:.0f}) | {ms['ssse3_rows']} | {r['ceiling_best_conversion_alone']:.2f}x | "
            f"{r['ceiling_tokenizer_plus_convert']:.2f}x | {r['ceiling_bitmask_plus_best_conversion']:.2f}x |")
    return "\n".join(lines)

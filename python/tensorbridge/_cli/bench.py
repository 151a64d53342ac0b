"""``tensorbridge bench``: runs the benchmarks of the repository's ``bench/`` folder (each in its
own process), then prints one table of ratios and writes a Markdown report with plots."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from . import report
from .data import UsageError
from .progress import Progress

#: Arguments that make each benchmark small enough for a smoke run (read from their argparse flags).
QUICK_ARGS: dict[str, list[str]] = {
    "bench_convert": ["--big-mib", "64"],
    "bench_cast": ["--repeats", "2"],
    "bench_io_csv": ["--rows", "20000", "--repeats", "1", "--loadtxt-rows", "2000"],
    "bench_io_npy": ["--size", "32", "--npz-size", "8", "--repeats", "2"],
    "bench_pipeline": ["--rows", "100000", "--batches", "32,1024", "--limited", "50"],
    "bench_pipeline_rss": ["--gib", "0.25", "--batches", "256", "--tf-slices-gib", "0.125"],
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run bench/ and write a report of ratios with plots", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run of a few minutes")
    p.add_argument("--out", type=Path, default=None, help="report folder (default bench/results/report/)")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="run only this benchmark (e.g. bench_cast); repeatable")
    p.add_argument("--no-run", action="store_true", help="only build the report from the existing JSON results")
    p.set_defaults(run=run)


def find_bench_dir(start: Path | None = None) -> Path:
    """The repository's ``bench/``: ``$TB_BENCH_DIR``, else the first ``bench/_harness.py`` found
    walking up from the current directory, then from this file (a source checkout)."""
    env = os.environ.get("TB_BENCH_DIR")
    if env:
        if not (Path(env) / "_harness.py").exists():
            raise UsageError(f"TB_BENCH_DIR={env} does not hold the benchmarks (no _harness.py)")
        return Path(env)
    for origin in (start or Path.cwd(), Path(__file__).resolve()):
        for d in (origin, *origin.parents):
            if (d / "bench" / "_harness.py").exists():
                return d / "bench"
    raise UsageError("cannot find the benchmarks: bench/ is not installed with the package. Run this from the "
                     "tensorbridge repository (or set TB_BENCH_DIR=/path/to/tensorbridge/bench)")


def run(args: argparse.Namespace) -> int:
    bench_dir = find_bench_dir()
    scripts = sorted(p for p in bench_dir.glob("bench_*.py"))
    if args.only:
        scripts = [p for p in scripts if p.stem in args.only]
        if not scripts:
            raise UsageError(f"--only {args.only}: no such benchmark in {bench_dir}")
    failed = []
    if not args.no_run:
        with Progress(len(scripts), "benchmarks", "script") as bar:
            for script in scripts:
                cmd = [sys.executable, script.name, *(QUICK_ARGS.get(script.stem, []) if args.quick else [])]
                print(f"running {' '.join(cmd[1:])}", flush=True)
                t0 = time.perf_counter()
                done = subprocess.run(cmd, cwd=bench_dir, capture_output=True, text=True)
                if done.returncode != 0:
                    failed.append(script.stem)
                    print(f"  {script.stem} failed (exit {done.returncode}):\n{done.stderr[-2000:]}", file=sys.stderr)
                else:
                    print(f"  {script.stem}: {time.perf_counter() - t0:.0f} s")
                bar.update()
    results = report.load_results(bench_dir / "results", [p.stem for p in scripts if p.stem not in failed])
    rows = [r for rs in results.values() for r in rs]
    print(report.table(rows))
    out = args.out or bench_dir / "results" / "report"
    command = "tensorbridge bench" + (" --quick" if args.quick else "")
    print(f"wrote {report.write(results, out, command)}")
    if failed:
        print(f"tensorbridge bench: error: {', '.join(failed)} failed", file=sys.stderr)
        return 1
    return 0

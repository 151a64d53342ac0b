"""``tensorbridge bench``: runs the benchmarks of the repository's ``bench/`` folder (each in its
own process), then prints every case against its strongest anchor, worst first, and writes a
Markdown report with plots."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from . import report
from ..errors import UsageError
from .progress import Progress

#: Arguments that make each benchmark small enough for a run of a few minutes (``--quick``).
QUICK_ARGS: dict[str, list[str]] = {
    "bench_arrow": ["--rows", "200000", "--parquet-mib", "64", "--arrow-mib", "64", "--batches", "50"],
    "bench_convert": ["--big-mib", "64"],
    "bench_cast": ["--mib", "16"],
    "bench_io_csv": ["--rows", "100000", "--loadtxt-rows", "5000"],
    "bench_io_npy": ["--size", "64", "--npz-size", "8"],
    "bench_images": ["--images", "640"],
    "bench_pipeline": ["--rows", "200000", "--batches", "32,1024", "--samples", "16384"],
    "bench_pipeline_rss": ["--gib", "0.25", "--batches", "256", "--tf-slices-gib", "0.125", "--rounds", "1"],
    "bench_s3": ["--mib", "256", "--csv-mib", "50"],
}
#: ``--quick`` also measures with fewer, shorter rounds (the same for every contender).
QUICK_ENV = {"TB_BENCH_REPEATS": "3", "TB_BENCH_MIN_TIME": "0.1"}

#: Arguments for a run of seconds that only shows every benchmark still works (with
#: ``TB_BENCH_TINY=1``; the figures mean nothing).
TINY_ARGS: dict[str, list[str]] = {
    "bench_arrow": ["--import-sizes", "1000", "--rows", "2000", "--cols", "5", "--parquet-mib", "0.1",
                    "--arrow-mib", "0.5", "--batches", "4"],
    "bench_convert": ["--big-mib", "1"],
    "bench_cast": ["--mib", "0.0625", "--batch-mib", "0.0625", "--pairs", "float64->float32,float32->bfloat16"],
    "bench_io_csv": ["--rows", "2000", "--cols", "8", "--loadtxt-rows", "500"],
    "bench_io_npy": ["--size", "2", "--npz-size", "0.25"],
    "bench_images": ["--images", "24", "--batch", "4", "--decode-files", "4"],
    "bench_pipeline": ["--rows", "4096", "--batches", "256", "--samples", "1024"],
    "bench_pipeline_rss": ["--gib", "0.004", "--batches", "8", "--batch", "64", "--tf-slices-gib", "0.002"],
    "bench_s3": ["--mib", "1", "--csv-mib", "0.2"],
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
                env = {**os.environ, **(QUICK_ENV if args.quick else {})}
                done = subprocess.run(cmd, cwd=bench_dir, capture_output=True, text=True, env=env, check=False)
                if done.returncode != 0:
                    failed.append(script.stem)
                    print(f"  {script.stem} failed (exit {done.returncode}):\n{done.stderr[-2000:]}", file=sys.stderr)
                else:
                    print(f"  {script.stem}: {time.perf_counter() - t0:.0f} s")
                bar.update()
    results_dir = Path(os.environ.get("TB_BENCH_RESULTS") or bench_dir / "results")
    results = report.load_results(results_dir, [p.stem for p in scripts if p.stem not in failed])
    rows = [r for rs in results.values() for r in rs]
    print(report.summary(rows))
    out = args.out or results_dir / "report"
    command = "tensorbridge bench" + (" --quick" if args.quick else "")
    print(f"wrote {report.write(results, out, command, report.load_extras(results_dir, results))}")
    if failed:
        print(f"tensorbridge bench: error: {', '.join(failed)} failed", file=sys.stderr)
        return 1
    return 0

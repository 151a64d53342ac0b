"""Every benchmark in bench/ runs at a tiny size, so none can rot: it exits 0 and writes JSON in the
shared row layout, every contender's output having been checked equal to tensorbridge's (a
mismatch exits non-zero). No timing is asserted: the figures at this size mean nothing."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from tensorbridge._cli.bench import TINY_ARGS
from tensorbridge._cli.report import ratios

BENCH = Path(__file__).resolve().parents[2] / "bench"
ROW_KEYS = {"case", "ours", "anchor", "metric", "ours_stats", "anchor_stats", "ratio", "why"}
STAT_KEYS = {"median", "min", "max"}


def test_every_benchmark_script_has_tiny_arguments() -> None:
    assert sorted(p.stem for p in BENCH.glob("bench_*.py")) == sorted(TINY_ARGS)


def test_every_benchmark_runs_tiny_and_writes_checked_rows(tmp_path: Path) -> None:
    # The scripts import the tensorbridge this interpreter imports (the installed package, or
    # PYTHONPATH's): the source tree's python/ holds no built extension on a fresh clone.
    env = {**os.environ, "TB_BENCH_TINY": "1", "TB_BENCH_RESULTS": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    # All at once: most of each run is importing the frameworks, which overlaps well.
    procs = {name: subprocess.Popen([sys.executable, f"{name}.py", *args], cwd=BENCH, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for name, args in TINY_ARGS.items()}
    outputs = {name: p.communicate(timeout=300)[0] for name, p in procs.items()}
    for name, p in procs.items():
        assert p.returncode == 0, f"{name} exited {p.returncode}:\n{outputs[name][-3000:]}"
    for name in TINY_ARGS:
        payload = json.loads((tmp_path / f"{name}.json").read_text())
        assert payload["method"]["statistic"] == "median seconds per call" and payload["method"]["tiny"] is True
        rows = payload["rows"]
        assert rows, f"{name} wrote no rows"
        for r in rows:
            assert ROW_KEYS <= r.keys(), (name, r)
            for side in ("ours_stats", "anchor_stats"):
                s = r[side]
                assert STAT_KEYS <= s.keys() and s["min"] <= s["median"] <= s["max"], (name, side, s)
            assert math.isclose(r["ratio"], r["anchor_stats"]["median"] / r["ours_stats"]["median"])
            assert r["why"], f"{name}: row {r['case']} vs {r['anchor']} has no why"
        assert len(ratios(name, payload)) == len(rows)  # the report reads it
    # The CSV bounds program compiled and its conversions agreed with fast_float's on every shape.
    csv = json.loads((tmp_path / "bench_io_csv.json").read_text())
    assert csv["bounds_error"] is None
    assert {(b["shape"], b["dtype"]) for b in csv["bounds"]} >= {("table", "table"), ("to_csv", "float32")}
    for b in csv["bounds"]:
        assert b["mismatches"] == 0 and b["numeric_fields"] > 0, b
        assert all(v > 0 for v in b["vs_pandas"].values()), b


def test_a_contender_with_another_answer_fails_the_benchmark(tmp_path: Path) -> None:
    code = ("import sys; sys.path.insert(0, '.'); import numpy as np, _harness\n"
            "_harness.measure({'ours': lambda: np.arange(4.0), 'other': lambda: np.arange(4.0) * 2})\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=BENCH, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "TB_BENCH_TINY": "1"})
    assert done.returncode != 0
    assert "Mismatch: other: output differs from tensorbridge's at flat index 1 (2.0 vs 1.0" in done.stderr

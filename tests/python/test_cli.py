"""The ``tensorbridge`` command line: demo, inspect, convert, and bench's parsing and report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tensorbridge as tb
from tensorbridge.cli import build_parser, main


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def test_demo_quick_trains_every_framework_above_90_percent() -> None:
    done = subprocess.run([sys.executable, "-m", "tensorbridge", "demo", "--quick"], capture_output=True,
                          text=True, env={**_env(), "TB_REQUIRE_FRAMEWORKS": "1"}, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "CSV and .npy agree" in out
    assert re.search(r"numpy -> torch\s+shared \(zero-copy\)", out)
    accuracies = dict(re.findall(r"^  (\w+)\s+held-out accuracy ([0-9.]+)", out, re.M))
    assert set(accuracies) == {"torch", "tensorflow", "jax"}, out
    assert all(float(a) > 0.9 for a in accuracies.values()), accuracies
    assert "DataLoader(TensorDataset, shuffle=True)" in out and "tensorbridge is" in out


def test_demo_on_user_csv_and_bad_label(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] > 0).astype(int)
    csv = tmp_path / "d.csv"
    np.savetxt(csv, np.column_stack([x, y]), delimiter=",", header="a,b,c,target", comments="", fmt="%.6f")
    bad = subprocess.run([sys.executable, "-m", "tensorbridge", "demo", str(csv), "--label", "nope"],
                         capture_output=True, text=True, env=_env(), timeout=120)
    assert bad.returncode == 1
    assert "'nope' is not a column" in bad.stderr


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_inspect_npy_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    a[1, 1] = np.nan
    np.save(tmp_path / "a.npy", a)
    r = _json(capsys, ["inspect", str(tmp_path / "a.npy"), "--json", "--dtype", "float16"])
    (arr,) = r["arrays"]
    assert r["kind"] == "npy" and arr["shape"] == [3, 4] and arr["dtype"] == "float64"
    assert arr["byte_order"] == "little-endian"
    assert arr["stats"] == {"count": 12, "nan_count": 1, "min": 0.0, "max": 11.0, "mean": pytest.approx(61 / 11)}
    assert arr["conversions"]["numpy"]["zero_copy"] is True
    assert arr["conversions"]["torch"]["zero_copy"] is False  # read-only map: torch cannot hold it read-only
    assert arr["cast"]["safe_by_type"] is False and arr["cast"]["values_changed"] == 0
    assert main(["inspect", str(tmp_path / "*.npy")]) == 0
    text = capsys.readouterr().out
    assert "float64[3, 4], little-endian" in text and "NaN 1" in text


def test_inspect_reports_values_a_dtype_would_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "x.npy", np.array([1.0, 2.5, 300.0]))
    r = _json(capsys, ["inspect", str(tmp_path / "x.npy"), "--json", "--dtype", "int8"])
    cast = r["arrays"][0]["cast"]
    assert cast["values_changed"] == 2 and cast["first_change"]["flat_index"] == 1


def test_inspect_npz_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.savez(tmp_path / "b.npz", a=np.arange(10, dtype=np.int32), b=np.ones((2, 2), dtype=np.float32))
    r = _json(capsys, ["inspect", str(tmp_path / "b.npz"), "--json"])
    assert [a["dtype"] for a in r["arrays"]] == ["int32", "float32"]
    assert r["arrays"][0]["stats"]["max"] == 9
    (tmp_path / "c.csv").write_text("x,y,name\n1,2.5,a\n3,,b\n")
    r = _json(capsys, ["inspect", str(tmp_path / "c.csv"), "--json"])
    by_name = {a["name"].rsplit("[", 1)[1][:-1]: a for a in r["arrays"]}
    assert by_name["x"]["stats"]["mean"] == 2 and by_name["y"]["stats"]["nan_count"] == 1
    assert by_name["name"]["stats"] is None


def test_inspect_missing_file_fails_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "/nonexistent/*.npy"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_convert_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = np.random.default_rng(1).random((50, 3)).astype(np.float32)
    np.save(tmp_path / "a.npy", a)
    assert main(["convert", str(tmp_path / "a.npy"), str(tmp_path / "a.csv")]) == 0
    assert main(["convert", str(tmp_path / "a.csv"), str(tmp_path / "b.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), a)  # %.9g round-trips float32 exactly
    assert main(["convert", str(tmp_path / "b.npy"), str(tmp_path / "b.npz"), "--dtype", "float64"]) == 0
    with np.load(tmp_path / "b.npz") as z:
        np.testing.assert_array_equal(z["b"], a.astype(np.float64))
    assert main(["convert", str(tmp_path / "b.npz"), str(tmp_path / "c.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), a.astype(np.float64))
    (tmp_path / "t.csv").write_text("id,v\n1,0.5\n2,1.5\n")
    assert main(["convert", str(tmp_path / "t.csv"), str(tmp_path / "t.npz")]) == 0
    with np.load(tmp_path / "t.npz") as z:
        assert z["id"].tolist() == [1, 2] and z["v"].tolist() == [0.5, 1.5]
    assert main(["convert", str(tmp_path / "t.npz"), str(tmp_path / "t2.csv")]) == 0
    assert (tmp_path / "t2.csv").read_text() == "id,v\n1,0.5\n2,1.5\n"
    assert main(["convert", str(tmp_path / "t.npz"), str(tmp_path / "t.npy")]) == 1
    assert "--member" in capsys.readouterr().err


def test_bench_arguments() -> None:
    args = build_parser().parse_args(["bench", "--quick", "--out", "r", "--only", "bench_cast"])
    assert args.quick and args.out == Path("r") and args.only == ["bench_cast"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--nope"])


CANNED = {
    "bench_pipeline": {"batches": {"32": {"tensorbridge as_torch": 1000.0, "DataLoader(TensorDataset, shuffle=True)": 40.0,
                                          "gather limit (C++ memcpy, 1 thread)": 5000.0}}},
    "bench_convert": {"results": [{"case": "numpy -> torch", "size": "1 KiB", "anchor": "torch.from_numpy",
                                   "speedup": 0.8}]},
    "bench_pipeline_rss": {"results": [
        {"name": "tensorbridge", "samples": 100, "seconds": 1.0, "vm_hwm": 50},
        {"name": "tensorbridge_resident", "samples": 100, "seconds": 0.5, "vm_hwm": 900},
        {"name": "dataloader", "samples": 100, "seconds": 4.0, "vm_hwm": 1000},
        {"name": "tf_from_generator", "error": "ImportError", "exit": 1}]},
    "bench_cast": {"memcpy_gbs": 40.0, "rows": [
        {"pair": "uint8->float32", "layout": "contiguous", "memcpy_gbs": 30.0, "tb_into": 36.0, "tb_fresh": 36.0,
         "tf_cast": 24.0}]},
}


def test_bench_report_from_canned_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    bench = tmp_path / "bench"
    (bench / "results").mkdir(parents=True)
    (bench / "_harness.py").write_text("")
    for name, payload in CANNED.items():
        (bench / f"{name}.py").write_text("raise SystemExit('must not run with --no-run')\n")
        (bench / "results" / f"{name}.json").write_text(json.dumps(payload))
    monkeypatch.setenv("TB_BENCH_DIR", str(bench))
    assert main(["bench", "--no-run", "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    assert "| bench_pipeline | batch 32 | DataLoader(TensorDataset, shuffle=True) | 25.00x |" in out
    assert "gather limit" not in out  # a ceiling, not an anchor
    assert "| bench_pipeline_rss | memmap .npy, peak RSS | dataloader | 20.00x |" in out  # 1000 MiB / 50 MiB
    assert "| bench_pipeline_rss | memmap .npy, samples/s | dataloader | 4.00x |" in out
    assert "tf_from_generator" not in out  # a failed run has no figure
    assert "| bench_cast | uint8->float32, contiguous (into) | memcpy | 1.20x |" in out  # the row's own memcpy
    assert "| bench_cast | uint8->float32, contiguous | tf_cast | 1.50x |" in out
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| bench_convert | numpy -> torch, 1 KiB | torch.from_numpy | 0.80x |" in report
    assert (tmp_path / "report" / "bench_pipeline.png").read_bytes()[:4] == b"\x89PNG"


def test_bench_without_bench_dir_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_BENCH_DIR", str(tmp_path))
    assert main(["bench", "--no-run"]) == 1
    assert "does not hold the benchmarks" in capsys.readouterr().err


def test_python_dash_m_and_version() -> None:
    done = subprocess.run([sys.executable, "-m", "tensorbridge", "--version"], capture_output=True, text=True,
                          env=_env(), timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"tensorbridge {tb.__version__}"


def test_convert_csv_of_integers_beyond_int64_to_npy_is_exact(tmp_path: Path) -> None:
    csv = tmp_path / "in.csv"
    csv.write_text("id,n\n12345678901234567891,1\n12345678901234567893,2\n")
    done = subprocess.run([sys.executable, "-m", "tensorbridge", "convert", str(csv), str(tmp_path / "out.npy")],
                          check=False, capture_output=True, text=True, env=_env(), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    got = np.load(tmp_path / "out.npy")
    assert got.dtype == np.uint64
    assert got.tolist() == [[12345678901234567891, 1], [12345678901234567893, 2]]
    # Numbers with fractions still give float32 by default, parsed straight from the text.
    (tmp_path / "f.csv").write_text("a,b\n0.1,1\n2.5,2\n")
    assert main(["convert", str(tmp_path / "f.csv"), str(tmp_path / "f.npy")]) == 0
    f = np.load(tmp_path / "f.npy")
    assert f.dtype == np.float32 and f.tolist() == np.float32([[0.1, 1], [2.5, 2]]).tolist()
    # int64 beside uint64 columns: uint64 when nothing is negative (above), else a clear refusal.
    (tmp_path / "m.csv").write_text("a,b\n-1,12345678901234567891\n2,1\n")
    assert main(["convert", str(tmp_path / "m.csv"), str(tmp_path / "m.npy")]) == 1
    assert not (tmp_path / "m.npy").exists()

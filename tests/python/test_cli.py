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
    accuracies = dict(re.findall(r"^  (\w+)\s+held-out accuracy ([0-9.]+)", out, re.MULTILINE))
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
    assert arr["conversions"]["torch"]["zero_copy"] is True  # read-only map: shared through a private map
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


# --- errors: one clear line on stderr, a non-zero exit code, never a traceback ---------------------

def _cli(args: list[str], timeout: int = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tensorbridge", *args], capture_output=True, text=True,
                          env=_env(), timeout=timeout)


def _one_error_line(err: str, command: str) -> str:
    """The single stderr line of a failed command (no traceback, no warnings)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tensorbridge {command}: error: "), err
    return lines[0]


def test_convert_0d_npy_to_csv_writes_one_value(tmp_path: Path) -> None:
    np.save(tmp_path / "s.npy", np.float64(3.5))
    assert main(["convert", str(tmp_path / "s.npy"), str(tmp_path / "s.csv")]) == 0
    assert (tmp_path / "s.csv").read_text() == "s\n3.5\n"


@pytest.mark.parametrize("shape", [(0,), (0, 3), (4, 0)])
def test_convert_empty_npy_to_csv_fails_cleanly(tmp_path: Path, shape: tuple[int, ...]) -> None:
    np.save(tmp_path / "e.npy", np.zeros(shape))
    done = _cli(["convert", str(tmp_path / "e.npy"), str(tmp_path / "e.csv")])
    assert done.returncode == 1, done.stdout
    line = _one_error_line(done.stderr, "convert")
    assert f"shape {shape}" in line and "no values" in line and ".npz" in line
    assert not (tmp_path / "e.csv").exists()


def test_convert_big_endian_npy_and_npz_byte_swaps(tmp_path: Path) -> None:
    a = np.arange(6, dtype=">f8").reshape(3, 2) / 4
    np.save(tmp_path / "be.npy", a)
    np.savez(tmp_path / "be.npz", a=np.arange(3, dtype=">i4"))
    assert main(["convert", str(tmp_path / "be.npy"), str(tmp_path / "be.csv")]) == 0
    assert (tmp_path / "be.csv").read_text() == "be_0,be_1\n0,0.25\n0.5,0.75\n1,1.25\n"
    assert main(["convert", str(tmp_path / "be.npy"), str(tmp_path / "le.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "le.npy"), a)
    assert main(["convert", str(tmp_path / "be.npz"), str(tmp_path / "a.csv")]) == 0
    assert (tmp_path / "a.csv").read_text() == "a\n0\n1\n2\n"


def test_inspect_big_endian_npz_member(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.savez(tmp_path / "be.npz", a=np.arange(3, dtype=">i4"), b=np.ones(2))
    r = _json(capsys, ["inspect", "--json", str(tmp_path / "be.npz")])
    a, b = r["arrays"]
    assert a["byte_order"] == "big-endian" and a["dtype"] == "int32" and a["stats"]["max"] == 2
    assert b["byte_order"] == "little-endian" and b["conversions"]["numpy"]["read_only"] is True

def test_convert_casting_and_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "f.npy", np.array([1.5, 300.0, -2.0]))
    (tmp_path / "f.csv").write_text("a,b\n1.5,2\n300,4\n")
    for src in ("f.npy", "f.csv"):
        out = str(tmp_path / "out.npy")
        assert main(["convert", str(tmp_path / src), out, "--dtype", "int8"]) == 1
        err = capsys.readouterr().err
        assert "--casting unsafe" in err and 'casting="' not in err, err
        assert main(["convert", str(tmp_path / src), out, "--dtype", "int8", "--casting", "unsafe", "--checked"]) == 1
        err = capsys.readouterr().err
        assert "300" in err and "index" in err, err
        assert main(["convert", str(tmp_path / src), out, "--dtype", "int8", "--casting", "unsafe"]) == 0
        assert np.load(out).dtype == np.int8
    same_as_library = tb.cast(np.array([[1.5, 2.0], [300.0, 4.0]]), "int8", casting="unsafe").numpy()
    np.testing.assert_array_equal(np.load(out), same_as_library)
    assert main(["convert", str(tmp_path / "f.npy"), out, "--dtype", "float32", "--casting", "safe"]) == 1
    assert "--casting same_kind" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["convert", "a.npy", "b.npy", "--casting", "sloppy"])
    assert e.value.code == 2


def test_convert_member_picks_one_array(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.csv").write_text("a,b\n1,2.5\n3,4\n")
    np.savez(tmp_path / "m.npz", a=np.arange(3), b=np.ones((2, 2)))
    assert main(["convert", str(tmp_path / "t.csv"), str(tmp_path / "t.npz"), "--member", "a"]) == 0
    with np.load(tmp_path / "t.npz") as z:
        assert z.files == ["a"]
    assert capsys.readouterr().out.endswith("t.npz: a: int64[2]\n")  # the summary names what was written
    assert main(["convert", str(tmp_path / "m.npz"), str(tmp_path / "m.csv"), "--member", "b"]) == 0
    assert (tmp_path / "m.csv").read_text() == "b_0,b_1\n1,1\n1,1\n"

def test_convert_and_inspect_take_the_csv_delimiter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.csv").write_text("a;b\n1;2.5\n3;4\n")
    assert main(["convert", str(tmp_path / "s.csv"), str(tmp_path / "s.npy")]) == 1
    assert "pass --sep ';'" in capsys.readouterr().err  # not "--na-values 1;2.5"
    assert main(["convert", str(tmp_path / "s.csv"), str(tmp_path / "s.npy"), "--sep", ";"]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), np.array([[1, 2.5], [3, 4]], dtype=np.float32))
    assert main(["convert", str(tmp_path / "s.npy"), str(tmp_path / "s.tsv")]) == 0
    assert (tmp_path / "s.tsv").read_text() == "s_0\ts_1\n1\t2.5\n3\t4\n"
    np.savez(tmp_path / "q.npz", **{'x,"y"': np.arange(2)})
    assert main(["convert", str(tmp_path / "q.npz"), str(tmp_path / "q.csv")]) == 0
    assert tb.read_csv(tmp_path / "q.csv").columns == ['x,"y"']  # the header is quoted
    capsys.readouterr()
    r = _json(capsys, ["inspect", "--json", "--sep", ";", str(tmp_path / "s.csv")])
    assert [a["name"] for a in r["arrays"]] == [f"{tmp_path / 's.csv'}[a]", f"{tmp_path / 's.csv'}[b]"]
    assert _json(capsys, ["inspect", "--json", str(tmp_path / "s.tsv")])["arrays"][1]["stats"]["max"] == 4

def test_convert_csv_missing_values_stay_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.csv").write_text("ok,n\nTrue,1.5\n,2\nFalse,3\n")
    assert main(["convert", str(tmp_path / "m.csv"), str(tmp_path / "m.npz")]) == 0
    with np.load(tmp_path / "m.npz") as z:  # a missing bool is NaN, as Table.to_tensor gives it, not False
        np.testing.assert_array_equal(z["ok"], [1.0, np.nan, 0.0])
    for dtype in ("float16", "bfloat16"):  # float types read_csv does not parse into
        assert main(["convert", str(tmp_path / "m.csv"), str(tmp_path / "m.npy"), "--dtype", dtype]) == 0
        assert tb.load(tmp_path / "m.npy", void2_as_bfloat16=True).dtype == dtype
    assert main(["convert", str(tmp_path / "m.csv"), str(tmp_path / "m.npy"), "--dtype", "int8", "--casting",
                 "unsafe", "--checked"]) == 1
    assert 'column "ok" has a missing value at row 1' in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "m.csv"), str(tmp_path / "m.npy"), "--dtype", "int8", "--fill-value", "-1",
                 "--casting", "unsafe"]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "m.npy"), [[1, 1], [-1, 2], [0, 3]])

def test_convert_and_inspect_read_compressed_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import gzip

    with gzip.open(tmp_path / "d.tsv.gz", "wt") as f:
        f.write("a\tb\n1\t2.5\n3\t4\n")
    assert main(["convert", str(tmp_path / "d.tsv.gz"), str(tmp_path / "d.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "d.npy"), np.float32([[1, 2.5], [3, 4]]))
    capsys.readouterr()
    r = _json(capsys, ["inspect", "--json", str(tmp_path / "d.tsv.gz")])
    assert r["kind"] == "csv" and [a["stats"]["max"] for a in r["arrays"]] == [3, 4]
    assert main(["convert", str(tmp_path / "d.npy"), str(tmp_path / "e.csv.gz")]) == 1
    assert "writes uncompressed CSV" in capsys.readouterr().err

def test_inspect_json_is_strict_and_quiet(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.array([np.nan, np.inf, -np.inf, 1.0]))
    done = _cli(["inspect", "--json", "--dtype", "int8", str(tmp_path / "x.npy")])
    assert done.returncode == 0 and done.stderr == "", done.stderr

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    report = json.loads(done.stdout, parse_constant=refuse)
    stats = report["arrays"][0]["stats"]
    assert stats == {"count": 4, "nan_count": 1, "min": "-Infinity", "max": "Infinity", "mean": "NaN"}
    assert float(stats["min"]) == -np.inf  # the strings read back with float()
    assert report["arrays"][0]["cast"]["first_change"]["value"] == "NaN"


def test_inspect_glob_reports_each_bad_file_and_goes_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "a.npy", np.arange(3))
    (tmp_path / "b.npy").write_bytes(b"\x93NUMPY garbage")
    np.save(tmp_path / "c.npy", np.ones(2))
    (tmp_path / "d.npy").mkdir()  # a folder matched by the glob is not a file to inspect: skipped
    assert main(["inspect", str(tmp_path / "*.npy")]) == 1
    out, err = capsys.readouterr()
    assert f"{tmp_path / 'a.npy'}: npy" in out and f"{tmp_path / 'c.npy'}: npy" in out
    (line,) = err.strip().splitlines()
    assert line.startswith(f"tensorbridge inspect: error: {tmp_path / 'b.npy'}")
    assert main(["inspect", "--json", str(tmp_path / "a.npy"), str(tmp_path / "b.npy")]) == 1
    out, err = capsys.readouterr()
    good, bad = json.loads(out)
    assert good["kind"] == "npy" and bad["path"] == str(tmp_path / "b.npy") and bad["error"] in err


def test_inspect_calls_a_directory_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "is a directory" in err and "no such file" not in err and "*" in err  # suggests a glob


def test_inspect_header_only_csv_fails_as_read_csv_does(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "h.csv").write_text("a,b\n")
    with pytest.raises(tb.FormatError) as refused:
        tb.read_csv(tmp_path / "h.csv")
    assert main(["inspect", str(tmp_path / "h.csv")]) == 1
    assert str(refused.value) in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["demo"], ["inspect"], ["convert"], ["bench"]])
def test_help_is_plain_text(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([*command, "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "usage: tensorbridge" in text
    assert "`" not in text and not re.search(r":(func|mod|class|meth):", text), text


def test_adversarial_invocations_fail_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "a.npy", np.arange(4))
    np.save(tmp_path / "c.npy", np.array([1 + 2j]))
    np.save(tmp_path / "t.npy", np.zeros((2, 2, 2)))
    (tmp_path / "w.csv").write_text("a,b\n1,x\n2,n/a\n")
    a, folder = str(tmp_path / "a.npy"), str(tmp_path)
    cases = {  # arguments -> what the message must say
        (str(tmp_path / "missing.npy"), folder + "/x.npy"): "no such file",
        (folder, folder + "/x.npy"): "is a directory",
        (a, folder + "/no/such/folder/x.npy"): "does not exist",
        (a, a): "same file",
        (a, folder + "/./a.npy"): "same file",
        (a, folder + "/x.txt"): "unknown extension '.txt'; expected .csv, .tsv, .npy or .npz",
        (a, folder): "is a directory",
        (str(tmp_path / "c.npy"), folder + "/c.csv"): "complex",
        (str(tmp_path / "t.npy"), folder + "/t.csv"): "1-D or 2-D",
        (str(tmp_path / "w.csv"), folder + "/w.npy"): "text such as 'x'",
    }
    for args, says in cases.items():
        assert main(["convert", *args]) == 1, args
        line = _one_error_line(capsys.readouterr().err, "convert")
        assert says in line, (args, line)
        assert "Errno" not in line, line
    with pytest.raises(SystemExit) as e:
        main(["convert", a, folder + "/x.npy", "--dtype", "float33"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --dtype" in err and "float32" in err, err


def test_bfloat16_npy_as_numpy_writes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import ml_dtypes

    np.save(tmp_path / "b.npy", np.array([1.5, -2.25], dtype=ml_dtypes.bfloat16))  # descr '<V2'
    assert main(["convert", str(tmp_path / "b.npy"), str(tmp_path / "b.csv")]) == 0
    assert (tmp_path / "b.csv").read_text() == "b\n1.5\n-2.25\n"
    capsys.readouterr()
    r = _json(capsys, ["inspect", "--json", str(tmp_path / "b.npy")])
    assert r["arrays"][0]["dtype"] == "bfloat16" and r["arrays"][0]["stats"]["min"] == -2.25


def test_a_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p.npy")
    for args in (["convert", str(tmp_path / "p.npy"), str(tmp_path / "x.npz")], ["inspect", str(tmp_path / "p.npy")]):
        done = _cli(args, timeout=60)  # before: blocked forever opening the pipe
        assert done.returncode == 1
        assert "not a regular file" in _one_error_line(done.stderr, args[0])

def test_inspect_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    for i in range(300):  # some 150 KB of report: more than a pipe buffers
        np.save(tmp_path / f"a{i:03}.npy", np.arange(3.0))
    with subprocess.Popen([sys.executable, "-m", "tensorbridge", "inspect", str(tmp_path / "*.npy")],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()) as p:
        assert p.stdout is not None and p.stderr is not None
        assert p.stdout.readline().startswith(str(tmp_path / "a000.npy"))
        p.stdout.close()  # as `tensorbridge inspect ... | head -1` does
        err = p.stderr.read()
        assert p.wait(timeout=240) == 1
    assert err == ""

def test_bench_arguments() -> None:
    args = build_parser().parse_args(["bench", "--quick", "--out", "r", "--only", "bench_cast"])
    assert args.quick and args.out == Path("r") and args.only == ["bench_cast"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--nope"])


def _row(case: str, anchor: str, ratio: float, why: str = "", **extra: object) -> dict[str, object]:
    """A row as bench/_harness.py writes it (medians: ours 1.0, the anchor ``ratio``)."""
    return {"case": case, "ours": "tb", "anchor": anchor, "metric": "seconds", "why": why, "ratio": ratio,
            "ours_stats": {"median": 1.0, "min": 0.9, "max": 1.1}, "anchor_stats": {"median": ratio, "min": ratio,
                                                                                   "max": ratio}, **extra}


CANNED = {
    "bench_pipeline": {"rows": [_row("batch 32", "DataLoader", 25.0), _row("batch 32", "NumPy loop", 2.0),
                                _row("batch 32", "gather limit", 0.1, "a ceiling", ceiling=True)]},
    "bench_convert": {"rows": [_row("numpy -> tf, 1 KiB", "tf from_dlpack", 0.25, "DLPack import from Python"),
                               _row("numpy -> tf, 1 KiB", "tf.convert_to_tensor", 2.0, "copies")]},
    "bench_cast": {"rows": [_row("f64->f32, into", "torch copy_", 1.02, "torch's own kernels")],
                   "report_md": "### What bounds it\n\nthe cast alone: 3.1 GB/s"},
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
    monkeypatch.delenv("TB_BENCH_RESULTS", raising=False)
    assert main(["bench", "--no-run", "--out", str(tmp_path / "report")]) == 0
    out = capsys.readouterr().out
    # Each case once, against its strongest anchor, worst first; losses and ties keep their why.
    lines = [ln for ln in out.splitlines() if ln.startswith("| bench_")]
    assert lines == [
        "| bench_convert | numpy -> tf, 1 KiB | tf from_dlpack | 0.25x | loss | DLPack import from Python |",
        "| bench_cast | f64->f32, into | torch copy_ | 1.02x | tie | torch's own kernels |",
        "| bench_pipeline | batch 32 | NumPy loop | 2.00x | win |  |",
    ]
    report = (tmp_path / "report" / "report.md").read_text()
    summary, rest = report.split("## Against the memory limit")
    assert "gather limit" not in summary  # a ceiling, not a rival
    assert "| bench_pipeline | batch 32 | gather limit | 0.10x | a ceiling |" in rest
    assert "| bench_convert | numpy -> tf, 1 KiB | tf.convert_to_tensor | 2.00x | copies |" in rest
    assert (tmp_path / "report" / "bench_pipeline.png").read_bytes()[:4] == b"\x89PNG"
    # A benchmark's own Markdown (the CSV bounds) follows its comparisons.
    cast = rest.split("## bench_cast")[1].split("## bench_")[0]
    assert "![bench_cast](bench_cast.png)\n\n### What bounds it\n\nthe cast alone: 3.1 GB/s" in cast


def test_bench_report_refuses_an_old_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    bench = tmp_path / "bench"
    (bench / "results").mkdir(parents=True)
    (bench / "_harness.py").write_text("")
    (bench / "bench_cast.py").write_text("")
    (bench / "results" / "bench_cast.json").write_text(json.dumps({"memcpy_gbs": 40.0, "rows": [{"pair": "x"}]}))
    monkeypatch.setenv("TB_BENCH_DIR", str(bench))
    monkeypatch.delenv("TB_BENCH_RESULTS", raising=False)
    assert main(["bench", "--no-run", "--out", str(tmp_path / "report")]) == 1
    assert "bench_cast.json does not have the layout the report expects" in capsys.readouterr().err


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


def test_demo_reads_a_big_endian_npy_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The demo's .npy loader maps the files; big-endian data (as numpy writes with dtype '>f8') is
    # byte-swapped in private pages instead of refused with a keyword the command line lacks.
    from tensorbridge._cli.data import read

    x = np.arange(12, dtype=">f8").reshape(6, 2)
    y = np.array([0, 1, 0, 1, 0, 1], dtype=">i8")
    np.save(tmp_path / "X.npy", x)
    np.save(tmp_path / "y.npy", y)
    data = read([tmp_path / "X.npy", tmp_path / "y.npy"], None)
    np.testing.assert_array_equal(tb.to_numpy(data.x), x)
    np.testing.assert_array_equal(np.asarray(data.y), y)

"""How readers and writers reach files: atomic saves, files that shrink while read, missing /
unreadable / directory paths, FIFOs, pipes and /proc files, compressed CSV, and file objects.

Reproducers that used to crash (SIGBUS) or hang (FIFOs) run in a child process with a timeout, so
a regression fails its test instead of killing or stalling the suite.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorbridge as tb

PYTHONPATH = str(Path(tb.__file__).resolve().parent.parent)
NOBODY = 65534


def run_child(code: str, *, timeout: float = 120, user: int | None = None, fsize: int | None = None) -> str:
    """Runs `code` in a fresh Python with tensorbridge importable; returns stdout; fails the test on
    a crash, a hang past `timeout`, or a non-zero exit. `user` drops to that uid after importing
    tensorbridge (tests run as root, whom file modes do not stop); `fsize` caps the size of files
    the child may write (RLIMIT_FSIZE), which makes writes fail for real."""
    prelude = "import os, sys, signal, resource, threading, numpy as np, tensorbridge as tb\n"
    if fsize is not None:
        prelude += f"signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\nresource.setrlimit(resource.RLIMIT_FSIZE, ({fsize}, {fsize}))\n"
    if user is not None:
        prelude += f"os.setgroups([]); os.setgid({user}); os.setuid({user})\n"
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    try:
        r = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], check=False, capture_output=True,
                           text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child hung for {timeout} s:\n{code}")
    assert r.returncode == 0, f"child exited with {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.fixture
def shared_dir():
    """A folder that uid `NOBODY` can enter (pytest's tmp_path is private to root)."""
    d = tempfile.mkdtemp(prefix="tb-files-")
    os.chmod(d, 0o755)
    yield Path(d)
    for p in sorted(Path(d).rglob("*"), reverse=True):
        os.chmod(p, 0o700)
        p.rmdir() if p.is_dir() and not p.is_symlink() else p.unlink()
    os.rmdir(d)


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# ---------------------------------------------------------------------------------------------
# A2: saves are atomic
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("writer", ["savez", "savez_compressed", "save_npz"])
def test_savez_over_the_archive_it_maps(tmp_path, writer):
    path = tmp_path / "d.npz"
    a = np.arange(100_000, dtype=np.float64)
    np.savez(path, a=a)
    out = run_child(f"""
        f = tb.load({str(path)!r}, mmap=True)
        x = f["a"]
        if {writer!r} == "save_npz":
            tb.save_npz({str(path)!r}, {{"a": x, "b": x}})
        else:
            tb.{writer}({str(path)!r}, a=x, b=x)
        print(float(x.numpy()[-1]))          # the old mapping is still whole
    """)
    assert out.strip() == "99999.0"
    with np.load(path) as f:
        np.testing.assert_array_equal(f["a"], a)
        np.testing.assert_array_equal(f["b"], a)
    assert leftovers(tmp_path, {"d.npz"}) == []


def test_save_over_the_npy_it_maps(tmp_path):
    path = tmp_path / "x.npy"
    x = np.random.default_rng(0).standard_normal(1 << 20)  # 8 MiB
    np.save(path, x)
    run_child(f"""
        x = tb.load({str(path)!r}, mmap=True)
        tb.save({str(path)!r}, x)
        tb.save({str(path)!r}, x)           # twice: the second maps the file the first wrote
    """)
    np.testing.assert_array_equal(np.load(path), x)
    assert leftovers(tmp_path, {"x.npy"}) == []


@pytest.mark.parametrize("writer", ["save", "savez", "savez_compressed"])
def test_a_failing_write_keeps_the_old_file(tmp_path, writer):
    # RLIMIT_FSIZE makes write(2) fail with EFBIG part-way through: a real failed write.
    path = tmp_path / ("x.npy" if writer == "save" else "x.npz")
    old = b"the previous content"
    path.write_bytes(old)
    out = run_child(f"""
        x = np.random.default_rng(0).standard_normal(1 << 20)
        try:
            tb.{writer}({str(path)!r}, x) if {writer!r} == "save" else tb.{writer}({str(path)!r}, x=x)
        except tb.WriteError as e:
            print(type(e).__name__, isinstance(e, OSError), e)
    """, fsize=1 << 20)
    assert out.startswith("WriteError True "), out
    assert "File too large" in out and str(path) in out
    assert path.read_bytes() == old
    assert leftovers(tmp_path, {path.name}) == []


def test_save_into_a_folder_without_write_permission(shared_dir):
    folder = shared_dir / "ro"
    folder.mkdir()
    path = folder / "x.npy"
    np.save(path, np.arange(3))
    os.chmod(path, 0o644)
    os.chmod(folder, 0o555)
    out = run_child(f"""
        for call in (lambda: tb.save({str(path)!r}, np.zeros(4)), lambda: tb.savez({str(path)!r}, a=np.zeros(4))):
            try:
                call()
            except tb.AccessDeniedError as e:
                print(isinstance(e, PermissionError), isinstance(e, tb.TensorbridgeError), e)
    """, user=NOBODY)
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("True True ") for line in lines), out
    assert "Permission denied" in lines[0] and str(folder) in lines[0]
    np.testing.assert_array_equal(np.load(path), np.arange(3))
    assert leftovers(folder, {"x.npy"}) == []


def test_save_into_a_missing_folder_is_file_not_found(tmp_path):
    for call in (lambda p: tb.save(p, np.zeros(2)), lambda p: tb.savez(p, a=np.zeros(2)),
                 lambda p: tb.savez_compressed(p, a=np.zeros(2)), lambda p: tb.save_npz(p, {"a": np.zeros(2)})):
        with pytest.raises(tb.NotFoundError, match="does not exist") as e:
            call(tmp_path / "missing" / "x.npy")
        assert isinstance(e.value, FileNotFoundError)


def test_saved_files_get_the_usual_mode(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    tb.save(tmp_path / "new.npy", np.zeros(2))
    assert stat.S_IMODE(os.stat(tmp_path / "new.npy").st_mode) == 0o666 & ~umask
    # Replacing a file keeps its mode.
    os.chmod(tmp_path / "new.npy", 0o600)
    tb.savez(tmp_path / "new.npy", a=np.zeros(2))
    assert stat.S_IMODE(os.stat(tmp_path / "new.npy").st_mode) == 0o600


def test_save_through_a_symlink_replaces_the_target(tmp_path):
    (tmp_path / "real.npy").write_bytes(b"")
    (tmp_path / "link.npy").symlink_to("real.npy")
    tb.save(tmp_path / "link.npy", np.arange(3))
    assert (tmp_path / "link.npy").is_symlink()
    np.testing.assert_array_equal(np.load(tmp_path / "real.npy"), np.arange(3))


def test_convert_writes_csv_atomically(tmp_path):
    src = tmp_path / "x.npy"
    np.save(src, np.arange(400_000, dtype=np.float64).reshape(-1, 2))
    dst = tmp_path / "x.csv"
    dst.write_text("a,b\n1,2\n")
    out = run_child(f"""
        from tensorbridge.cli import main
        try:
            main(["convert", {str(src)!r}, {str(dst)!r}])
        except SystemExit as e:
            print("exit", e.code)
    """, fsize=1 << 20)
    assert dst.read_text() == "a,b\n1,2\n", out
    assert leftovers(tmp_path, {"x.npy", "x.csv"}) == []


# ---------------------------------------------------------------------------------------------
# A3: files truncated while being read
# ---------------------------------------------------------------------------------------------


def test_iter_csv_on_a_file_truncated_while_iterating(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(400_000)))
    out = run_child(f"""
        it = tb.iter_csv({str(path)!r}, rows=1000, dtype="float32")
        first = next(it)
        os.truncate({str(path)!r}, 4096)          # log rotation
        try:
            for batch in it:
                pass
        except tb.ReadError as e:
            print(len(first), e)
    """)
    assert out.startswith("1000 "), out
    assert str(path) in out and "truncated" in out and "byte offset" in out


def test_npz_member_of_an_archive_truncated_after_opening(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, a=np.arange(100_000.0))
    for mmap in (False, True):
        run_child(f"""
            f = tb.load({str(path)!r}, mmap={mmap})
            data = open({str(path)!r}, "rb").read()
            os.truncate({str(path)!r}, 1000)
            try:
                f["a"]
            except tb.ReadError as e:
                assert "truncated" in str(e) and {str(path)!r} in str(e), e
            else:
                raise SystemExit("no error")
            open({str(path)!r}, "wb").write(data)
        """)


# ---------------------------------------------------------------------------------------------
# C16: one rule for missing paths, directories and refused access
# ---------------------------------------------------------------------------------------------

PATH_READERS = {
    "load": lambda p: tb.load(p),
    "load_mmap": lambda p: tb.load(p, mmap=True),
    "read_npy_header": lambda p: tb.read_npy_header(p),
    "NpzFile": lambda p: tb.NpzFile(p),
    "read_csv": lambda p: tb.read_csv(p),
    "iter_csv": lambda p: next(tb.iter_csv(p)),
    "read_csv_tensor": lambda p: tb.read_csv_tensor(p),
    "from_npy": lambda p: tb.Dataset.from_npy(p),
    "from_csv": lambda p: tb.Dataset.from_csv(p),
}
PATH_WRITERS = {
    "save": lambda p: tb.save(p, np.zeros(2)),
    "savez": lambda p: tb.savez(p, a=np.zeros(2)),
    "savez_compressed": lambda p: tb.savez_compressed(p, a=np.zeros(2)),
    "save_npz": lambda p: tb.save_npz(p, {"a": np.zeros(2)}),
}


@pytest.mark.parametrize("name", sorted(PATH_READERS) + sorted(PATH_WRITERS))
def test_missing_path(tmp_path, name):
    call = {**PATH_READERS, **PATH_WRITERS}[name]
    missing = tmp_path / "nope" / "x.dat" if name in PATH_WRITERS else tmp_path / "x.dat"
    with pytest.raises(tb.NotFoundError) as e:
        call(missing)
    assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, tb.TensorbridgeError)
    assert str(missing.parent if name in PATH_WRITERS else missing) in str(e.value)


@pytest.mark.parametrize("name", sorted(PATH_READERS) + sorted(PATH_WRITERS))
def test_directory_path(tmp_path, name):
    call = {**PATH_READERS, **PATH_WRITERS}[name]
    with pytest.raises(tb.DirectoryError, match="is a directory") as e:
        call(tmp_path)
    assert isinstance(e.value, IsADirectoryError) and isinstance(e.value, tb.TensorbridgeError)
    assert str(tmp_path) in str(e.value)


def test_unreadable_path(shared_dir):
    np.save(shared_dir / "x.npy", np.arange(3))
    np.savez(shared_dir / "x.npz", a=np.arange(3))
    (shared_dir / "x.csv").write_text("a\n1\n")
    for name in ("x.npy", "x.npz", "x.csv"):
        os.chmod(shared_dir / name, 0)
    out = run_child(f"""
        d = {str(shared_dir)!r}
        calls = {{
            "load": lambda: tb.load(d + "/x.npy"), "load_mmap": lambda: tb.load(d + "/x.npy", mmap=True),
            "load_npz": lambda: tb.load(d + "/x.npz"), "NpzFile": lambda: tb.NpzFile(d + "/x.npz"),
            "read_npy_header": lambda: tb.read_npy_header(d + "/x.npy"),
            "read_csv": lambda: tb.read_csv(d + "/x.csv"), "iter_csv": lambda: next(tb.iter_csv(d + "/x.csv")),
            "read_csv_tensor": lambda: tb.read_csv_tensor(d + "/x.csv"),
            "from_npy": lambda: tb.Dataset.from_npy(d + "/x.npy"), "from_csv": lambda: tb.Dataset.from_csv(d + "/x.csv"),
        }}
        for name, call in calls.items():
            try:
                call()
                print(name, "no error")
            except Exception as e:
                print(name, type(e).__name__, isinstance(e, PermissionError), isinstance(e, tb.ReadError), e)
    """, user=NOBODY)
    lines = out.strip().splitlines()
    assert len(lines) == 10, out
    for line in lines:
        assert line.split(" ", 1)[1].startswith("AccessDeniedError True True "), line
        assert "Permission denied" in line and str(shared_dir) in line, line


def test_path_of_the_wrong_type(tmp_path):
    for call in (lambda: tb.load(3.5), lambda: tb.save(3.5, np.zeros(1)), lambda: tb.read_csv(3.5),
                 lambda: tb.read_npy_header(None)):
        with pytest.raises(tb.DTypeError, match="path"):
            call()


# ---------------------------------------------------------------------------------------------
# C18: FIFOs, pipes, /proc files, compressed CSV
# ---------------------------------------------------------------------------------------------


def fifo_child(tmp_path: Path, content: bytes, read: str) -> str:
    """In a child: a FIFO fed `content` by a writer thread, read by `read` (an expression of `fifo`)."""
    src = tmp_path / "content.bin"
    src.write_bytes(content)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return run_child(f"""
        fifo = {str(fifo)!r}
        def feed():
            with open(fifo, "wb") as w:
                w.write(open({str(src)!r}, "rb").read())
        threading.Thread(target=feed, daemon=True).start()
        result = {read}
        print(repr(result))
    """, timeout=60)


def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


CSV_TEXT = "a,b\n1,2.5\n3,4.5\n5,6.5\n"


@pytest.mark.parametrize("read, expected", [
    ("tb.load(fifo).numpy().tolist()", "[[0, 1, 2], [3, 4, 5]]"),
    ("tb.load(fifo, mmap=True).numpy().tolist()", "[[0, 1, 2], [3, 4, 5]]"),
    ("tb.read_npy_header(fifo).shape", "[2, 3]"),
    ("[np.asarray(b).tolist() for b in tb.Dataset.from_npy(fifo).batch(2)]", "[[[0, 1, 2], [3, 4, 5]]]"),
])
def test_npy_from_a_fifo(tmp_path, read, expected):
    assert fifo_child(tmp_path, npy_bytes(np.arange(6).reshape(2, 3)), read).strip() == expected


def test_npz_from_a_fifo(tmp_path):
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.arange(5), y=np.ones(2))
    out = fifo_child(tmp_path, buf.getvalue(), "{k: v.numpy().tolist() for k, v in tb.load(fifo).items()}")
    assert out.strip() == "{'x': [0, 1, 2, 3, 4], 'y': [1.0, 1.0]}"


@pytest.mark.parametrize("read, expected", [
    ("tb.read_csv(fifo)['b'].numpy().tolist()", "[2.5, 4.5, 6.5]"),
    ("[len(t) for t in tb.iter_csv(fifo, rows=2)]", "[2, 1]"),
    ("tb.read_csv_tensor(fifo).numpy().tolist()", "[[1.0, 2.5], [3.0, 4.5], [5.0, 6.5]]"),
])
def test_csv_from_a_fifo(tmp_path, read, expected):
    assert fifo_child(tmp_path, CSV_TEXT.encode(), read).strip() == expected


def test_csv_from_a_proc_file():
    expected = pd.read_csv("/proc/self/status", sep=":", header=None)
    got = tb.read_csv("/proc/self/status", sep=":", header=None)
    assert len(got) == len(expected) > 10
    assert got["0"] == expected[0].tolist()


def test_csv_and_npy_from_a_pipe(tmp_path):
    # What `<(zcat f)` hands a program: /dev/fd/N, the read end of a pipe.
    (tmp_path / "x.csv.gz").write_bytes(gzip.compress(CSV_TEXT.encode()))
    with subprocess.Popen(["zcat", str(tmp_path / "x.csv.gz")], stdout=subprocess.PIPE) as p:
        t = tb.read_csv(f"/dev/fd/{p.stdout.fileno()}")
    assert t["a"].numpy().tolist() == [1, 3, 5]
    np.save(tmp_path / "x.npy", np.arange(4))
    with subprocess.Popen(["cat", str(tmp_path / "x.npy")], stdout=subprocess.PIPE) as p:
        assert tb.load(f"/dev/fd/{p.stdout.fileno()}").numpy().tolist() == [0, 1, 2, 3]


def make_compressed(path: Path, fmt: str, data: bytes) -> None:
    if fmt == "gzip":
        path.write_bytes(gzip.compress(data))
    elif fmt == "bz2":
        path.write_bytes(bz2.compress(data))
    elif fmt == "xz":
        path.write_bytes(lzma.compress(data))
    else:
        plain = path.with_suffix(".plain")
        plain.write_bytes(data)
        subprocess.run(["zstd", "-q", "-f", str(plain), "-o", str(path)], check=True)
        plain.unlink()


SUFFIX = {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zstd": ".zst"}
BIG_CSV = "x,y,name\n" + "".join(f"{i},{i / 4},n{i % 7}\n" for i in range(200_000))


@pytest.mark.parametrize("fmt", ["gzip", "bz2", "xz", "zstd"])
def test_compressed_csv(tmp_path, fmt):
    path = tmp_path / ("data.csv" + SUFFIX[fmt])
    make_compressed(path, fmt, BIG_CSV.encode())
    expected = pd.read_csv(io.StringIO(BIG_CSV))
    t = tb.read_csv(path)
    assert t["x"].numpy().tolist() == expected["x"].tolist()
    assert t["name"] == expected["name"].tolist()
    np.testing.assert_array_equal(tb.read_csv_tensor(path, usecols=["x", "y"]).numpy(),
                                  expected[["x", "y"]].to_numpy(np.float32))
    batches = list(tb.iter_csv(path, rows=30_000, dtype={"x": "int64", "y": "float64", "name": "str"}))
    assert [len(b) for b in batches] == [30_000] * 6 + [20_000]
    assert np.concatenate([b["y"].numpy() for b in batches]).tolist() == expected["y"].tolist()
    # Told by content, not by name; and named explicitly.
    os.rename(path, tmp_path / "data.bin")
    assert len(tb.read_csv(tmp_path / "data.bin")) == 200_000
    assert len(tb.read_csv(tmp_path / "data.bin", compression=fmt)) == 200_000


@pytest.mark.parametrize("fmt", ["gzip", "bz2", "xz", "zstd"])
def test_csv_written_by_pandas_compressed(tmp_path, fmt):
    df = pd.DataFrame({"a": np.arange(1000), "b": np.linspace(0, 1, 1000)})
    path = tmp_path / ("p.csv" + SUFFIX[fmt])
    if fmt == "zstd":
        try:
            import zstandard  # noqa: F401
        except ImportError:
            make_compressed(path, fmt, df.to_csv(index=False).encode())
        else:
            df.to_csv(path, index=False, compression=fmt)
    else:
        df.to_csv(path, index=False, compression=fmt)
    t = tb.read_csv(path)
    assert t["a"].numpy().tolist() == df["a"].tolist()
    np.testing.assert_array_equal(t["b"].numpy(), df["b"].to_numpy())


def test_compression_argument(tmp_path):
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(CSV_TEXT.encode()))
    with pytest.raises(tb.FormatError, match="compression"):
        tb.read_csv(path, compression=None)        # bytes as they are: not UTF-8 text
    with pytest.raises(tb.FormatError, match="not bz2"):
        tb.read_csv(path, compression="bz2")
    with pytest.raises(tb.InvalidValueError, match="compression"):
        tb.read_csv(path, compression="rar")
    (tmp_path / "plain.csv").write_text(CSV_TEXT)
    assert len(tb.read_csv(tmp_path / "plain.csv", compression=None)) == 3


def test_truncated_compressed_csv(tmp_path):
    path = tmp_path / "x.csv.gz"
    path.write_bytes(gzip.compress(BIG_CSV.encode())[:5000])
    with pytest.raises(tb.FormatError, match=r"x\.csv\.gz.*(truncated|ends)"):
        tb.read_csv(path)
    with pytest.raises(tb.FormatError, match=r"x\.csv\.gz.*(truncated|ends)"):
        list(tb.iter_csv(path, rows=100))


# ---------------------------------------------------------------------------------------------
# D20: file objects
# ---------------------------------------------------------------------------------------------


def test_load_from_file_objects(tmp_path):
    a, b = np.arange(6.0).reshape(2, 3), np.arange(4, dtype=np.int16)
    buf = io.BytesIO()
    np.save(buf, a)
    np.save(buf, b)
    buf.seek(0)
    # As np.load: each load reads one array and leaves the position after it.
    np.testing.assert_array_equal(tb.load(buf).numpy(), a)
    np.testing.assert_array_equal(tb.load(buf).numpy(), b)
    np.save(tmp_path / "x.npy", a)
    with open(tmp_path / "x.npy", "rb") as f:
        np.testing.assert_array_equal(tb.load(f).numpy(), a)
    z = io.BytesIO()
    np.savez(z, a=a, b=b)
    z.seek(0)
    with tb.load(z) as f:
        np.testing.assert_array_equal(f["b"].numpy(), b)
    with pytest.raises(tb.DTypeError, match="binary mode"):
        tb.load(io.StringIO("text"))


def test_save_to_file_objects(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    buf = io.BytesIO()
    tb.save(buf, a)
    tb.save(buf, a[:, ::2])
    buf.seek(0)
    np.testing.assert_array_equal(np.load(buf), a)
    np.testing.assert_array_equal(np.load(buf), a[:, ::2])
    with open(tmp_path / "x.npy", "wb") as f:
        tb.save(f, a)
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), a)
    z = io.BytesIO()
    tb.savez(z, a=a)
    z.seek(0)
    with np.load(z) as f:
        np.testing.assert_array_equal(f["a"], a)


def test_csv_readers_take_file_objects(tmp_path):
    expected = np.array([[1, 2.5], [3, 4.5], [5, 6.5]], dtype=np.float32)
    for obj in (io.StringIO(CSV_TEXT), io.BytesIO(CSV_TEXT.encode()), io.BytesIO(gzip.compress(CSV_TEXT.encode()))):
        np.testing.assert_array_equal(tb.read_csv_tensor(obj).numpy(), expected)
    assert [len(t) for t in tb.iter_csv(io.StringIO(CSV_TEXT), rows=2)] == [2, 1]
    assert tb.read_csv(io.BytesIO(bz2.compress(CSV_TEXT.encode())))["a"].numpy().tolist() == [1, 3, 5]
    with open(tmp_path / "x.csv", "w") as f:
        f.write(CSV_TEXT)
    with open(tmp_path / "x.csv") as f:
        np.testing.assert_array_equal(tb.read_csv_tensor(f).numpy(), expected)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_iter_csv_windows_never_split_a_row(tmp_path, newline):
    # Rows with quoted line breaks and quotes over several windows (the first is 1 MiB), from a
    # file and from a gzip stream: the batches together equal read_csv.
    rng = np.random.default_rng(1)
    rows = [f'{i},"say ""{"x" * int(rng.integers(0, 300))}""{newline}next",{i / 3}' for i in range(30_000)]
    text = "id,text,value" + newline + newline.join(rows) + newline
    path = tmp_path / "q.csv"
    path.write_bytes(text.encode())
    (tmp_path / "q.csv.gz").write_bytes(gzip.compress(text.encode()))
    whole = tb.read_csv(path)
    for source in (path, tmp_path / "q.csv.gz"):
        batches = list(tb.iter_csv(source, rows=7_001))
        assert [len(b) for b in batches] == [7_001] * 4 + [1_996]
        assert sum((b["text"] for b in batches), []) == whole["text"]
        np.testing.assert_array_equal(np.concatenate([b["value"].numpy() for b in batches]), whole["value"].numpy())
    assert whole["text"][5].startswith('say "') and whole["text"][5].endswith('"' + newline + "next")

"""Peak memory of a shuffled pipeline over a memory-mapped ``.npy`` bigger than the batch buffers.

Creates (or reuses, with --path) an N x 64 float32 ``x.npy`` of --gib GiB (default 8) plus an int64
``labels.npy``, written in chunks through ``np.lib.format.open_memmap`` (never whole in RAM), then
runs each contender in its own fresh subprocess over --batches shuffled batches of --batch rows
(default 4096 x 256 = 1M samples, which touches nearly every 64 KiB block of the file; --batches 0
runs a whole epoch). The framework is imported first; then the peak (VmHWM) is reset and the clock
started, so neither an import's time nor its memory counts. Reports the peak RSS growth (VmHWM
after the run minus RSS after the import), VmHWM itself, the peaks of RssAnon and RssFile sampled every
20 ms during the run, and seconds. Every contender runs ``--rounds`` times (default 3), each run in
a fresh process, in interleaved rounds (order rotated each round); the median with min and max is
kept, as ``_harness.measure`` does for in-process timings. Each run keeps a copy of its first
batches and, after its figures are taken, checks them against the file: every label (the row
number) at most once and every feature row equal to the file's row of that label; a run that fails
the check fails the benchmark. Rows: tensorbridge (pread) against each other library's reader,
peak RSS growth and seconds (tensorbridge with keep_resident=True is in the JSON's runs only). Writes bench/results/bench_pipeline_rss.json. Never asserts figures.

    PYTHONPATH=build/dev-NAME/site .venv/bin/python bench/bench_pipeline_rss.py [--gib 8] [--batches 4096]
        [--path DIR] [--keep] [--tf-slices-gib 1]

Contenders:
- tensorbridge: Dataset.from_npy((x, y), keep_resident=False).shuffle(seed=0).batch(B).prefetch(2),
  as_numpy(): rows read with positioned reads (preadv), the mapping never touched.
- tensorbridge, keep_resident=True: the same, reading rows through the mapping (pages stay mapped).
- DataLoader: a torch Dataset over np.load(mmap_mode="r") returning one row per call, shuffle=True,
  batch_size=B, num_workers=0 (the usual way).
- tf.data from_generator: a generator over a NumPy permutation yielding x[idx], y[idx] per batch
  from the memmap, .prefetch(2) (the usual way for data that does not fit).
- tf.data from_tensor_slices on np.load(mmap_mode="r"): copies the whole array into a tensor, so it
  runs on the first --tf-slices-gib GiB only; on the whole file it needs the file's size in RAM.
The files live under /tmp by default and are deleted at the end unless --keep (or --path).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import TINY, Mismatch, print_rows, row, save, stats

CHECKED_BATCHES = 4

WIDTH = 64
CONTENDERS = ["tensorbridge", "tensorbridge_resident", "dataloader", "tf_from_generator", "tf_from_tensor_slices"]
LABELS = {
    "tensorbridge": "tensorbridge from_npy (keep_resident=False, pread)",
    "tensorbridge_resident": "tensorbridge from_npy (keep_resident=True, mapped)",
    "dataloader": "DataLoader over np.load(mmap_mode='r')",
    "tf_from_generator": "tf.data from_generator over the memmap",
    "tf_from_tensor_slices": "tf.data from_tensor_slices(memmap) on a {S} GiB prefix",
}

WHY_SECONDS = {
    "dataloader": "one Python __getitem__ per sample through the mapping, then a collate",
    "tf_from_generator": "a Python generator per batch, fancy-indexing the mapping (page faults)",
    "tf_from_tensor_slices": "copies the array (here a prefix) into a tensor, then tf.data's shuffle buffer",
}
WHY_RSS = {
    "dataloader": "pages read through the mapping stay resident as file-backed memory",
    "tf_from_generator": "pages read through the mapping stay resident; tf.data copies each batch in",
    "tf_from_tensor_slices": "from_tensor_slices copies the array (here a prefix) into one tensor first",
}


def create(folder: Path, gib: float) -> tuple[Path, Path]:
    """x.npy (N x 64 float32) and labels.npy (N int64), written chunk by chunk."""
    rows = int(gib * (1 << 30)) // (WIDTH * 4)
    x_path, y_path = folder / "x.npy", folder / "labels.npy"
    if x_path.exists() and y_path.exists() and np.load(x_path, mmap_mode="r").shape == (rows, WIDTH):
        return x_path, y_path
    x = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32, shape=(rows, WIDTH))
    y = np.lib.format.open_memmap(y_path, mode="w+", dtype=np.int64, shape=(rows,))
    chunk = 1 << 20
    rng = np.random.default_rng(0)
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        x[start:start + n] = rng.random((n, WIDTH), dtype=np.float32)
        y[start:start + n] = np.arange(start, start + n)
        x.flush()  # keeps dirty pages from piling up in this process
    y.flush()
    del x, y
    return x_path, y_path


# ----------------------------------------------------------------------------- worker side
def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) * 1024
    return out


class Sampler:
    """Samples RssAnon and RssFile every 20 ms on a thread; keeps the peaks."""

    def __init__(self) -> None:
        self.peak = {"RssAnon": 0, "RssFile": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            s = _status()
            for k in self.peak:
                self.peak[k] = max(self.peak[k], s[k])
            self._stop.wait(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        s = _status()
        for k in self.peak:
            self.peak[k] = max(self.peak[k], s[k])


def _iterate(name: str, x_path: Path, y_path: Path, batch: int, batches: int, slices_gib: float) -> tuple[Any, int]:
    """(an iterable of batches, the samples it yields)."""
    n = np.load(x_path, mmap_mode="r").shape[0]
    per_epoch = -(-n // batch)
    count = per_epoch if batches <= 0 else min(batches, per_epoch)
    if name.startswith("tensorbridge"):
        import tensorbridge as tb

        keep = name == "tensorbridge_resident"
        ds = tb.Dataset.from_npy((str(x_path), str(y_path)), keep_resident=keep).shuffle(seed=0).batch(batch)
        return ds.take(count).prefetch(2).as_numpy(), min(n, count * batch)
    if name == "dataloader":
        import torch
        from torch.utils.data import DataLoader, Dataset

        class Memmapped(Dataset):  # type: ignore[misc]
            def __init__(self) -> None:
                self.x = np.load(x_path, mmap_mode="r")
                self.y = np.load(y_path, mmap_mode="r")

            def __len__(self) -> int:
                return len(self.x)

            def __getitem__(self, i: int) -> tuple[Any, Any]:
                return torch.from_numpy(np.array(self.x[i])), int(self.y[i])

        torch.manual_seed(0)
        loader = DataLoader(Memmapped(), batch_size=batch, shuffle=True, num_workers=0)
        return _limit(loader, count), min(n, count * batch)
    import tensorflow as tf

    x = np.load(x_path, mmap_mode="r")
    y = np.load(y_path, mmap_mode="r")
    if name == "tf_from_generator":
        def generate() -> Any:
            order = np.random.default_rng(0).permutation(n)
            for b in range(count):
                idx = order[b * batch:(b + 1) * batch]
                yield x[idx], y[idx]

        sig = (tf.TensorSpec((None, WIDTH), tf.float32), tf.TensorSpec((None,), tf.int64))
        return tf.data.Dataset.from_generator(generate, output_signature=sig).prefetch(2), min(n, count * batch)
    rows = min(n, int(slices_gib * (1 << 30)) // (WIDTH * 4))
    ds = tf.data.Dataset.from_tensor_slices((x[:rows], y[:rows])).shuffle(10_000, seed=0).batch(batch)
    count = min(count, -(-rows // batch))
    return ds.take(count).prefetch(2), min(rows, count * batch)


def _limit(it: Any, count: int) -> Any:
    for i, b in enumerate(it):
        if i >= count:
            return
        yield b


def _check(name: str, kept: list[tuple[np.ndarray, np.ndarray]], x_path: Path) -> None:
    """Raises ``Mismatch`` unless the kept batches hold distinct labels and the file's rows for them."""
    x = np.load(x_path, mmap_mode="r")
    labels = np.concatenate([yb for _, yb in kept]).astype(np.int64)
    if np.unique(labels).size != labels.size:
        raise Mismatch(f"{name}: a sample came twice in one epoch")
    for xb, yb in kept:
        if not np.array_equal(xb, x[yb.astype(np.int64)]):
            raise Mismatch(f"{name}: a batch's features differ from the file's rows of its labels")


def _import_framework(name: str) -> None:
    """Imports what the contender needs before anything is measured: an import's time and memory
    are the same for every use of the framework, not the pipeline's."""
    if name.startswith("tensorbridge"):
        import tensorbridge  # noqa: F401
    elif name == "dataloader":
        import torch  # noqa: F401
    else:
        import tensorflow  # noqa: F401


def worker(args: argparse.Namespace) -> None:
    _import_framework(args.worker)
    try:  # start the peak (VmHWM) from here: Linux resets it on "5" (proc(5), clear_refs)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    before = _status()
    with Sampler() as sampler:
        t0 = time.perf_counter()
        batches, samples = _iterate(args.worker, Path(args.path) / "x.npy", Path(args.path) / "labels.npy",
                                    args.batch, args.batches, args.tf_slices_gib)
        seen, kept = 0, []
        for xb, yb in batches:
            if len(kept) < CHECKED_BATCHES:  # a few KiB: the same small cost for every contender
                kept.append((np.array(xb, copy=True), np.array(yb, copy=True)))
            seen += int(xb.shape[0])
        elapsed = time.perf_counter() - t0
    after = _status()
    _check(args.worker, kept, Path(args.path) / "x.npy")
    print(json.dumps({"name": args.worker, "samples": seen, "expected": samples, "seconds": elapsed,
                      "vm_hwm": after["VmHWM"], "peak_rss_anon": sampler.peak["RssAnon"],
                      "peak_rss_file": sampler.peak["RssFile"], "start_rss": before["VmRSS"],
                      # what the pipeline added to the process after its framework was imported
                      "peak_growth": max(after["VmHWM"] - before["VmRSS"], 4096)}))


# ----------------------------------------------------------------------------- driver side
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gib", type=float, default=8.0, help="size of x.npy in GiB (default 8)")
    p.add_argument("--path", help="folder holding (or to hold) x.npy and labels.npy; kept afterwards")
    p.add_argument("--keep", action="store_true", help="keep the files created under /tmp")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--batches", type=int, default=4096, help="batches per contender (0: one whole epoch)")
    p.add_argument("--tf-slices-gib", type=float, default=1.0, help="prefix given to from_tensor_slices")
    p.add_argument("--contenders", default=",".join(CONTENDERS))
    p.add_argument("--rounds", type=int, default=1 if TINY else 3, help="fresh-process runs per contender (default 3)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)

    folder = Path(args.path) if args.path else Path(tempfile.mkdtemp(prefix="tb_rss_", dir="/tmp"))
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    x_path, y_path = create(folder, args.gib)
    file_bytes = x_path.stat().st_size + y_path.stat().st_size
    print(f"data: {x_path} + labels, {file_bytes / (1 << 30):.2f} GiB (ready in {time.perf_counter() - t0:.0f} s)")
    names = args.contenders.split(",")
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    errors: dict[str, str] = {}
    try:
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                if name in errors:
                    continue
                cmd = [sys.executable, __file__, "--worker", name, "--path", str(folder), "--batch", str(args.batch),
                       "--batches", str(args.batches), "--tf-slices-gib", str(args.tf_slices_gib)]
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
                if proc.returncode != 0 or not lines:
                    errors[name] = (proc.stderr.strip().splitlines() or ["?"])[-1]
                    print(f"{name}: failed (exit {proc.returncode}): {errors[name]}")
                    continue
                out = json.loads(lines[-1])
                print(f"{name}: {out['samples']} samples in {out['seconds']:.1f} s, VmHWM {out['vm_hwm'] >> 20} MiB")
                runs[name].append(out)
    finally:
        if not (args.keep or args.path):
            shutil.rmtree(folder, ignore_errors=True)

    rows = []
    ours = "tensorbridge"
    if runs.get(ours):
        mine = {k: stats([float(run[k]) for run in runs[ours]]) for k in ("peak_growth", "seconds")}
        for name in names:
            if name.startswith("tensorbridge") or name in errors:
                continue  # keep_resident=True is tensorbridge too: in the JSON's runs, not a rival
            label = LABELS[name].format(S=args.tf_slices_gib)
            theirs = {k: stats([float(run[k]) for run in runs[name]]) for k in ("peak_growth", "seconds")}
            samples = {run["samples"] for run in runs[name]}
            why_rss = WHY_RSS[name]
            case = f"shuffled batches of {args.batch} over a {file_bytes / (1 << 30):.2f} GiB memory-mapped .npy"
            rows.append(row(f"{case}, peak RSS growth", LABELS[ours], label, mine["peak_growth"], theirs["peak_growth"],
                            metric="bytes", why=why_rss, samples=sorted(samples)))
            rows.append(row(f"{case}, seconds", LABELS[ours], label, mine["seconds"], theirs["seconds"],
                            why=WHY_SECONDS[name], samples=sorted(samples)))
    print_rows("Peak memory (VmHWM) and time, shuffled batches over a memory-mapped .npy", rows)
    save("bench_pipeline_rss", {"file_bytes": file_bytes, "batch": args.batch, "batches": args.batches,
                                "tf_slices_gib": args.tf_slices_gib, "rounds": args.rounds,
                                "runs": runs, "errors": errors, "rows": rows})
    if errors:
        sys.exit(f"bench_pipeline_rss: {', '.join(errors)} failed")


if __name__ == "__main__":
    main()

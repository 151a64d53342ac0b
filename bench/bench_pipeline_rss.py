"""Peak memory of a shuffled pipeline over a memory-mapped ``.npy`` bigger than the batch buffers.

Creates (or reuses, with --path) an N x 64 float32 ``x.npy`` of --gib GiB (default 8) plus an int64
``labels.npy``, written in chunks through ``np.lib.format.open_memmap`` (never whole in RAM), then
runs each contender in its own fresh subprocess over --batches shuffled batches of --batch rows
(default 4096 x 256 = 1M samples, which touches nearly every 64 KiB block of the file; --batches 0
runs a whole epoch). Reports peak RSS (VmHWM), the peaks of RssAnon and RssFile sampled every
20 ms during the run, and samples/s, each as a ratio against the DataLoader anchor measured in the
same run. Writes bench/results/bench_pipeline_rss.json. Never asserts.

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
from _harness import print_table, save  # noqa: E402

WIDTH = 64
CONTENDERS = ["tensorbridge", "tensorbridge_resident", "dataloader", "tf_from_generator", "tf_from_tensor_slices"]
LABELS = {
    "tensorbridge": "tensorbridge from_npy (keep_resident=False, pread)",
    "tensorbridge_resident": "tensorbridge from_npy (keep_resident=True, mapped)",
    "dataloader": "DataLoader over np.load(mmap_mode='r')",
    "tf_from_generator": "tf.data from_generator over the memmap",
    "tf_from_tensor_slices": "tf.data from_tensor_slices(memmap) on a {S} GiB prefix",
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


def worker(args: argparse.Namespace) -> None:
    before = _status()
    with Sampler() as sampler:
        t0 = time.perf_counter()
        batches, samples = _iterate(args.worker, Path(args.path) / "x.npy", Path(args.path) / "labels.npy",
                                    args.batch, args.batches, args.tf_slices_gib)
        seen = 0
        for xb, _ in batches:
            seen += int(xb.shape[0])
        elapsed = time.perf_counter() - t0
    after = _status()
    print(json.dumps({"name": args.worker, "samples": seen, "expected": samples, "seconds": elapsed,
                      "vm_hwm": after["VmHWM"], "peak_rss_anon": sampler.peak["RssAnon"],
                      "peak_rss_file": sampler.peak["RssFile"], "start_rss": before["VmRSS"]}))


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
    results = []
    try:
        for name in args.contenders.split(","):
            cmd = [sys.executable, __file__, "--worker", name, "--path", str(folder), "--batch", str(args.batch),
                   "--batches", str(args.batches), "--tf-slices-gib", str(args.tf_slices_gib)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode != 0 or not lines:
                tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
                print(f"{name}: failed (exit {proc.returncode}): {tail}")
                results.append({"name": name, "error": tail, "exit": proc.returncode})
                continue
            r = json.loads(lines[-1])
            print(f"{name}: {r['samples']} samples in {r['seconds']:.1f} s, VmHWM {r['vm_hwm'] >> 20} MiB")
            results.append(r)
    finally:
        if not (args.keep or args.path):
            shutil.rmtree(folder, ignore_errors=True)

    anchor = next((r for r in results if r["name"] == "dataloader" and "error" not in r), None)
    rows = []
    for r in results:
        label = LABELS[r["name"]].format(S=args.tf_slices_gib)
        if "error" in r:
            rows.append([label, "failed: " + r["error"][:80], "", "", "", ""])
            continue
        rate = r["samples"] / r["seconds"]
        ratio = f"{rate / (anchor['samples'] / anchor['seconds']):.2f}x" if anchor else "n/a"
        mib = lambda v: f"{v / (1 << 20):,.0f}"  # noqa: E731
        rows.append([label, mib(r["vm_hwm"]), mib(r["peak_rss_anon"]), mib(r["peak_rss_file"]),
                     f"{rate:,.0f}", ratio])
    print_table(f"Peak memory, shuffled batches of {args.batch} over a {file_bytes / (1 << 30):.2f} GiB memory-mapped .npy",
                ["pipeline", "peak RSS (VmHWM) MiB", "peak RssAnon MiB", "peak RssFile MiB", "samples/s",
                 "vs DataLoader"], rows)
    save("bench_pipeline_rss", {"file_bytes": file_bytes, "batch": args.batch, "batches": args.batches,
                                "tf_slices_gib": args.tf_slices_gib,
                                "results": results})
    failed = [r["name"] for r in results if "error" in r]
    if failed:
        sys.exit(f"bench_pipeline_rss: {', '.join(failed)} failed")


if __name__ == "__main__":
    main()

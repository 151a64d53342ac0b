"""JPEG files to training batches: tensorbridge's fused image pipeline against Pillow in a torch
DataLoader, tf.data and a plain OpenCV loop; and one full decode against Pillow and OpenCV.

Data: ``--images`` JPEGs (default 2,000) of 500x375 at quality 90, cut from the two photographs
scikit-learn ships, written once into a temporary folder. Pipeline: shuffled, RandomResizedCrop(224)
(scale (0.08, 1), ratio (3/4, 4/3)) + horizontal flip (p=0.5) + normalize (ImageNet mean/std) ->
CHW float32, batches of 64, labels int64. Prints images/s and ratios against each anchor measured
in the same run; writes bench/results/bench_images.json. Never asserts timings.

    PYTHONPATH=python .venv/bin/python bench/bench_images.py [--images 2000]

Method (``_harness.measure``): one timed call is one whole epoch (every batch of the shuffled
files) from a fresh iterator, so no contender's background threads or worker processes can make
batches ahead while another is timed; each epoch's start-up (threads, a DataLoader's sampler,
tf.data's shuffle buffer) is inside the call, as in training. Random
augmentation differs between libraries by design, so outputs are checked for shape, dtype and
value range, not equality. The decode rows decode the same ``--decode-files`` files and are
checked equal to Pillow's pixels.

Contenders:
- tensorbridge: ``Dataset.from_files(...).shuffle().map(random_resized_crop(224)).map(random_flip(1))
  .map(normalize).map(permute(2, 0, 1)).batch(64)`` as torch tensors, 2 threads (and 1 thread).
- Pillow ``Dataset`` in ``DataLoader(num_workers=2)``: what torchvision's ImageFolder +
  RandomResizedCrop + RandomHorizontalFlip + ToTensor + Normalize do (torchvision does not import
  beside this torch build), the normalize in NumPy.
- tf.data: ``read_file`` + ``decode_jpeg`` + ``stateless_sample_distorted_bounding_box`` + crop +
  ``tf.image.resize(antialias=True)`` + flip + normalize + transpose, ``map(AUTOTUNE)``.
- OpenCV loop: ``cv2.imread`` + the same box + ``cv2.resize(INTER_LINEAR)`` + flip + NumPy normalize
  + transpose, one image at a time in Python.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness
import tensorbridge as tb

BATCH = 64
SIZE = 224
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255

WHY = {
    "Pillow Dataset + DataLoader(num_workers=2)": "Pillow decodes every pixel, then crops; NumPy normalizes and transposes; worker processes pickle each batch back",
    "tf.data (decode_jpeg + tf.image, AUTOTUNE)": "full decode, then crop and an antialiased resize as separate tensor ops",
    "OpenCV loop": "one thread, a full decode per image, NumPy normalize + transpose",
    "tensorbridge, 1 thread": "the same pipeline on one thread (the scaling row)",
    "Pillow": "Image.open + convert('RGB') + np.asarray",
    "OpenCV": "cv2.imread + cvtColor(BGR2RGB)",
}


def make_images(folder: Path, n: int) -> list[str]:
    """``n`` 500x375 quality-90 JPEGs cut from sklearn's china.jpg and flower.jpg."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    sources = [Image.fromarray(a) for a in load_sample_images().images]  # 427x640 each
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        src = sources[i % 2]
        x, y = int(rng.integers(0, 640 - 500 + 1)), int(rng.integers(0, 427 - 375 + 1))
        path = folder / f"{i % 2}" / f"{i:05d}.jpg"
        path.parent.mkdir(exist_ok=True)
        im = src.crop((x, y, x + 500, y + 375))
        if i % 3 == 1:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        im.save(path, quality=90)
        paths.append(str(path))
    return paths


def rrc_box(height: int, width: int, rng: random.Random) -> tuple[int, int, int, int]:
    """torchvision's RandomResizedCrop.get_params (top, left, height, width)."""
    area = height * width
    log_ratio = (math.log(3 / 4), math.log(4 / 3))
    for _ in range(10):
        target = area * rng.uniform(0.08, 1.0)
        aspect = math.exp(rng.uniform(*log_ratio))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, height - h), rng.randint(0, width - w), h, w
    return 0, 0, height, width


class PillowDataset(torch.utils.data.Dataset):  # type: ignore[type-arg]
    """ImageFolder + RandomResizedCrop + RandomHorizontalFlip + ToTensor + Normalize, with Pillow."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = paths
        self.rng = random.Random(0)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        with Image.open(self.paths[i]) as f:
            im = f.convert("RGB")
        top, left, h, w = rrc_box(im.height, im.width, self.rng)
        im = im.resize((SIZE, SIZE), Image.BILINEAR, box=(left, top, left + w, top + h))
        if self.rng.random() < 0.5:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        x = (np.asarray(im, dtype=np.float32) - MEAN) / STD
        return torch.from_numpy(x.transpose(2, 0, 1).copy()), i % 2


def cycle(make: Callable[[], Any]) -> Iterator[Any]:
    while True:
        yield from make()


def epoch(make: Callable[[], Any]) -> Callable[[], Any]:
    """One call: every batch of a fresh iteration; returns the last batch (for the check)."""
    def run() -> Any:
        last = None
        for last in make():
            pass
        return last
    return run


def check(ours: Any, theirs: Any, name: str) -> None:
    x, y = (_harness.to_numpy(v) for v in ours)
    tx, ty = (_harness.to_numpy(v) for v in theirs)
    if tx.shape != x.shape or tx.dtype != x.dtype or ty.shape != y.shape or not -3 < float(tx.mean()) < 3:
        raise _harness.Mismatch(f"{name}: batch {tx.shape} {tx.dtype} labels {ty.shape}, expected {x.shape} {x.dtype}")


def tb_pipeline(paths: list[str], threads: int) -> Callable[[], Any]:
    labels = np.array([int(Path(p).parent.name) for p in paths], dtype=np.int64)
    ds = (tb.Dataset.from_files(paths, labels).shuffle(seed=0)
          .map(tb.ops.random_resized_crop(SIZE), on=0).map(tb.ops.random_flip(1), on=0)
          .map(tb.ops.normalize(MEAN.tolist(), STD.tolist()), on=0).map(tb.ops.permute(2, 0, 1), on=0)
          .batch(BATCH, drop_remainder=True).prefetch(2 * threads, num_threads=threads))
    return lambda: ds.as_torch()


def tf_pipeline(paths: list[str]) -> Callable[[], Any]:
    import tensorflow as tf

    labels = [int(Path(p).parent.name) for p in paths]
    mean, std = tf.constant(MEAN), tf.constant(STD)

    def load(path: Any, label: Any, seed: Any) -> Any:
        img = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
        begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
            tf.shape(img), tf.zeros([0, 0, 4]), seed=seed, area_range=(0.08, 1.0),
            aspect_ratio_range=(3 / 4, 4 / 3), max_attempts=10, use_image_if_no_bounding_boxes=True)
        img = tf.slice(img, begin, size)
        img = tf.image.resize(img, (SIZE, SIZE), method="bilinear", antialias=True)
        img = tf.image.stateless_random_flip_left_right(img, seed=seed)
        img = (img - mean) / std
        return tf.transpose(img, (2, 0, 1)), label

    seeds = tf.random.experimental.stateless_split(tf.constant([0, 1], tf.int64), len(paths))
    ds = (tf.data.Dataset.from_tensor_slices((paths, labels, seeds)).shuffle(len(paths))
          .map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(BATCH, drop_remainder=True)
          .prefetch(tf.data.AUTOTUNE))
    return lambda: ds


def opencv_loop(paths: list[str]) -> Callable[[], Iterator[Any]]:
    import cv2

    rng = random.Random(0)

    def epoch() -> Iterator[Any]:
        order = list(range(len(paths)))
        rng.shuffle(order)
        for b in range(len(order) // BATCH):
            xs, ys = [], []
            for i in order[b * BATCH : (b + 1) * BATCH]:
                img = cv2.cvtColor(cv2.imread(paths[i]), cv2.COLOR_BGR2RGB)
                top, left, h, w = rrc_box(img.shape[0], img.shape[1], rng)
                img = cv2.resize(img[top : top + h, left : left + w], (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)
                if rng.random() < 0.5:
                    img = img[:, ::-1]
                xs.append(((img.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1))
                ys.append(i % 2)
            yield torch.from_numpy(np.stack(xs)), torch.tensor(ys)
    return epoch


def peak_rss(paths_file: str, threads: int, batches: int) -> int:
    """Peak RSS (bytes) of a fresh process running the tensorbridge pipeline for ``batches`` batches,
    minus that of the same process before iterating (imports, file list)."""
    code = f"""
import resource, sys, numpy as np
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
import bench_images as b
b.BATCH = {BATCH}
paths = open({paths_file!r}).read().split()
ds = b.tb_pipeline(paths, {threads})
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to the current RSS
before = status("VmRSS")
it = b.cycle(ds)
for _ in range({batches}): next(it)
print(before, status("VmHWM"))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    before, after = (int(v) for v in out.stdout.split())
    return (after - before) * 1024


def cpu_rate(fn: Callable[[], Any], images: int, rounds: int = 3) -> float:
    """Images per second of CPU time this process (all its threads) spent in ``fn``: a per-core
    figure that a busy shared machine distorts far less than wall time (median of ``rounds``)."""
    import time

    rates = []
    for _ in range(rounds):
        t0 = time.process_time()
        fn()
        rates.append(images / max(time.process_time() - t0, 1e-9))
    return sorted(rates)[len(rates) // 2]


def main() -> None:
    global BATCH
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--decode-files", type=int, default=50, help="files per timed call of the decode rows")
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args()
    BATCH = args.batch
    batches = args.images // BATCH
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_images(Path(tmp), args.images)
        import cv2
        from PIL import Image

        # One full decode: tensorbridge vs Pillow vs OpenCV, on one thread.
        files = paths[: args.decode_files]
        decoders = {
            "tensorbridge": lambda: [tb.to_numpy(tb.read_image(p)) for p in files],
            "Pillow": lambda: [np.asarray(Image.open(p).convert("RGB")) for p in files],
            "OpenCV": lambda: [cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in files],
        }

        def same_pixels(ours: Any, theirs: Any, name: str) -> None:
            if name == "Pillow":
                for a, b in zip(ours, theirs):
                    _harness.assert_same(a, b, name)
            elif any(a.shape != b.shape for a, b in zip(ours, theirs)):
                raise _harness.Mismatch(f"{name}: image shapes differ")

        cv2.setNumThreads(1)
        got = _harness.measure(decoders, same=same_pixels)
        for anchor in ("Pillow", "OpenCV"):
            rows.append(_harness.row(f"read_image, 500x375 JPEG ({len(files)} files per call)", "tensorbridge",
                                     anchor, got["tensorbridge"], got[anchor], why=WHY[anchor],
                                     images_per_call=len(files)))

        loader = torch.utils.data.DataLoader(PillowDataset(paths), batch_size=BATCH, shuffle=True, num_workers=2,
                                             drop_last=True, persistent_workers=True, prefetch_factor=2)
        tf_ds = tf_pipeline(paths)
        contenders = {
            "tensorbridge, 2 threads": epoch(tb_pipeline(paths, 2)),
            "tensorbridge, 1 thread": epoch(tb_pipeline(paths, 1)),
            "Pillow Dataset + DataLoader(num_workers=2)": epoch(lambda: loader),
            "tf.data (decode_jpeg + tf.image, AUTOTUNE)": epoch(tf_ds),
            "OpenCV loop": epoch(opencv_loop(paths)),
        }
        cv2.setNumThreads(0)
        got = _harness.measure(contenders, same=check)
        case = f"RandomResizedCrop(224)+flip+normalize -> CHW float32, batch {BATCH} ({batches * BATCH} images per call)"
        ours = "tensorbridge, 2 threads"
        for anchor in list(contenders)[1:]:
            rows.append(_harness.row(case, ours, anchor, got[ours], got[anchor], why=WHY[anchor],
                                     images_per_call=batches * BATCH))
        # Per-core figures from CPU time (in-process contenders only: DataLoader workers and
        # tf.data's threads are not all counted by process_time, so they get no such figure).
        per_core = {
            "read_image": cpu_rate(decoders["tensorbridge"], len(files)),
            "Pillow decode": cpu_rate(decoders["Pillow"], len(files)),
            "OpenCV decode": cpu_rate(decoders["OpenCV"], len(files)),
            "pipeline, tensorbridge 1 thread": cpu_rate(contenders["tensorbridge, 1 thread"], batches * BATCH),
            "pipeline, tensorbridge 2 threads": cpu_rate(contenders["tensorbridge, 2 threads"], batches * BATCH),
            "pipeline, OpenCV loop": cpu_rate(contenders["OpenCV loop"], batches * BATCH),
        }
        paths_file = str(Path(tmp) / "paths.txt")
        Path(paths_file).write_text("\n".join(paths))
        rss = peak_rss(paths_file, 2, batches)
    for r in rows:
        n = r["images_per_call"]
        r["ours_images_per_s"] = n / r["ours_stats"]["median"]
        r["anchor_images_per_s"] = n / r["anchor_stats"]["median"]
    _harness.print_table("Images per second (median)", ["case", "contender", "images/s"],
                         [[r["case"], r["ours"], f"{r['ours_images_per_s']:,.0f}"] for r in rows[:1]]
                         + [[r["case"], r["anchor"], f"{r['anchor_images_per_s']:,.0f}"] for r in rows[:2]]
                         + [[r["case"], r["ours"], f"{r['ours_images_per_s']:,.0f}"] for r in rows[2:3]]
                         + [[r["case"], r["anchor"], f"{r['anchor_images_per_s']:,.0f}"] for r in rows[2:]])
    _harness.print_rows("JPEG files to batches (ratio = anchor time / tensorbridge time)", rows)
    _harness.print_table("Images per CPU-second (per core; process CPU time, median of 3)", ["case", "images/s/core"],
                         [[k, f"{v:,.0f}"] for k, v in per_core.items()])
    batch_bytes = BATCH * 3 * SIZE * SIZE * 4
    print(f"\npeak RSS growth of the tensorbridge pipeline (2 threads): {rss / 2**20:.1f} MiB "
          f"(one batch is {batch_bytes / 2**20:.1f} MiB)")
    _harness.save("bench_images", {"images": args.images, "batch": BATCH, "rows": rows,
                                   "peak_rss_growth_bytes": rss, "batch_bytes": batch_bytes,
                                   "images_per_cpu_second": per_core})


if __name__ == "__main__":
    main()

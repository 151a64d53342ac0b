"""``tensorbridge demo``: the main job. Reads a CSV and ``.npy`` files, moves the data between the
frameworks (saying what was shared and what was copied), trains a small model in PyTorch,
TensorFlow and JAX from one shuffled, batched ``tb.Dataset``, and compares the pipeline's
throughput with ``DataLoader`` and ``tf.data``."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import tensorbridge as tb

from ..errors import UsageError
from . import data, frameworks, round_trip, throughput, train

BATCH_SIZE = 32


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="read, convert, train and benchmark on the digits data set or your own files",
        description=__doc__,
    )
    p.add_argument("files", nargs="*", type=Path,
                   help="a CSV file (with --label) and/or X.npy y.npy; default: scikit-learn's digits")
    p.add_argument("--label", help="the CSV column holding the class labels")
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default 15, 5 with --quick)")
    p.add_argument("--quick", action="store_true", help="fewer epochs and benchmark batches (a smoke test)")
    p.add_argument("--seed", type=int, default=0, help="seed of the split, the shuffle and the models")
    p.set_defaults(run=run)


def _split(d: data.Data, seed: int) -> tuple[np.ndarray, ...]:
    """80/20 train/test split, stratification-free but seeded."""
    order = np.random.default_rng(seed).permutation(len(d.y))
    cut = int(0.8 * len(order))
    tr, te = order[:cut], order[cut:]
    return d.x[tr], d.y[tr], d.x[te], d.y[te]


def run(args: argparse.Namespace) -> int:
    epochs = args.epochs if args.epochs is not None else (5 if args.quick else 15)
    if epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {epochs}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tensorbridge-demo-") as tmp:
        print("[1/4] reading the data")
        if args.files:
            paths, label = list(args.files), args.label
        else:
            paths, label = data.write_digits(tmp), "label"
            print(f"  no files given: wrote scikit-learn's digits to {paths[0].name}, {paths[1].name}, "
                  f"{paths[2].name} in {tmp}")
        d = data.read(paths, label)
        print(f"  {len(d.y)} samples, {d.x.shape[1]} features, {d.num_classes} classes")

        print("[2/4] moving the data between frameworks (tb.explain says what is shared or copied)")
        names = round_trip.available_targets()
        round_trip.show(d.x, names)

    print(f"[3/4] training on a tb.Dataset: shuffle(seed={args.seed}) -> batch({BATCH_SIZE}) -> "
          "map(tb.ops.normalize) -> prefetch(2)")
    x_tr, y_tr, x_te, y_te = _split(d, args.seed)
    mean = x_tr.mean(axis=0)
    std = np.where(x_tr.std(axis=0) > 0, x_tr.std(axis=0), 1.0)
    pipeline = (tb.Dataset.from_tensor_slices((x_tr, y_tr))
                .shuffle(seed=args.seed)
                .batch(BATCH_SIZE)
                .map(tb.ops.normalize(mean.tolist(), std.tolist()), on=0)
                .prefetch(2))
    task = train.Task(train=pipeline, test_x=((x_te - mean) / std).astype(np.float32), test_y=y_te,
                      num_features=x_tr.shape[1], num_classes=d.num_classes, epochs=epochs, seed=args.seed)
    print(f"  {len(y_tr)} training / {len(y_te)} held-out samples, {epochs} epochs of "
          f"{pipeline.batches_per_epoch} batches")
    accuracies = {}
    for name, (what, trainer) in train.TRAINERS.items():
        if name not in names:
            print(f"  {name:<10} skipped: {frameworks.why_missing(name)}")
            continue
        t0 = time.perf_counter()
        accuracies[name] = trainer(task)
        print(f"  {name:<10} held-out accuracy {accuracies[name]:.3f}  ({what}, {time.perf_counter() - t0:.1f} s)")

    print("[4/4] throughput of shuffled batches on the same data")
    batches = 100 if args.quick else 300
    rates = throughput.measure(x_tr, y_tr, BATCH_SIZE, batches, names)
    throughput.report(rates, BATCH_SIZE, batches)

    summary = ", ".join(f"{k} {v:.3f}" for k, v in accuracies.items()) or "no framework to train with"
    print(f"done in {time.perf_counter() - start:.1f} s: accuracy {summary}")
    return 0

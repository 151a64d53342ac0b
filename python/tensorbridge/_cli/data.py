"""The demo's data: the embedded default (scikit-learn's digits, written out as CSV and ``.npy``)
or the user's files, read back with tensorbridge's readers into features and class labels."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import tensorbridge as tb
from tensorbridge.errors import UsageError


@dataclass
class Data:
    """Features ``x`` (float32, samples x features) and labels ``y`` (int64 class indices 0..k-1)."""

    x: np.ndarray
    y: np.ndarray
    classes: list[str]
    source: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def write_digits(directory: str | os.PathLike) -> list[Path]:
    """Writes scikit-learn's bundled digits (1797 8x8 images, 10 classes; no network needed) as
    ``digits.csv`` (64 pixel columns and ``label``) and ``X.npy``/``y.npy``; returns the paths."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise UsageError(f"the default demo data needs scikit-learn (pip install scikit-learn): {e}; "
                         "or pass your own files: tensorbridge demo data.csv --label LABEL") from None
    digits = load_digits()
    x, y = digits.data, digits.target.astype(np.int64)
    d = Path(directory)
    csv = d / "digits.csv"
    header = ",".join([f"pixel{i}" for i in range(x.shape[1])] + ["label"])
    np.savetxt(csv, np.column_stack([x, y]), fmt="%d", delimiter=",", header=header, comments="")
    tb.save(d / "X.npy", x)
    tb.save(d / "y.npy", y)
    return [csv, d / "X.npy", d / "y.npy"]


def _from_csv(path: Path, label: str | None) -> tuple[Any, np.ndarray]:
    table = tb.read_csv(path)
    if label is None:
        raise UsageError(f"{path}: say which column holds the labels with --label NAME "
                         f"(the columns are {table.columns})")
    if label not in table:
        raise UsageError(f"{path}: --label {label!r} is not a column; the columns are {table.columns}")
    features = [c for c in table.columns if c != label]
    if not features:
        raise UsageError(f"{path}: no feature columns besides the label {label!r}")
    x = table.to_tensor(features, dtype="float64")
    col = table[label]
    if isinstance(col, tb.Categorical):
        y = np.array([col.categories[c] for c in tb.to_numpy(col.codes)], dtype=object)
    elif isinstance(col, tb.Tensor):
        y = tb.to_numpy(col)
    else:
        y = np.array(col, dtype=object)
    print(f"  read {path.name} with tb.read_csv: {table.num_rows} rows, {len(features)} feature columns "
          f"+ label {label!r} -> x {x.dtype}{list(x.shape)}")
    return x, y


def _from_npy(x_path: Path, y_path: Path) -> tuple[Any, np.ndarray]:
    # Big-endian data cannot be swapped inside a read-only map: it is swapped in private pages.
    x = tb.load(x_path, mmap=True, copy_on_write=tb.read_npy_header(x_path).byteswapped)
    y = tb.load(y_path, mmap=True, copy_on_write=tb.read_npy_header(y_path).byteswapped)
    if not isinstance(x, tb.Tensor) or not isinstance(y, tb.Tensor):
        raise UsageError(f"{x_path}, {y_path}: expected two plain .npy arrays (features, labels)")
    if x.ndim == 1:
        raise UsageError(f"{x_path}: the features must be 2-D (samples x features) or more, got shape {x.shape}")
    if y.shape[:1] != x.shape[:1]:
        raise UsageError(f"{x_path} has {x.shape[0]} samples but {y_path} has shape {y.shape}")
    print(f"  memory-mapped {x_path.name} and {y_path.name} with tb.load(mmap=True): x {x.dtype}{list(x.shape)} "
          f"(read-only: {x.read_only}), y {y.dtype}{list(y.shape)}")
    return x, tb.to_numpy(y)


def read(paths: list[Path], label: str | None) -> Data:
    """Reads a CSV (``label`` names its label column) and/or an ``X.npy y.npy`` pair; when both are
    given they must hold the same data."""
    csvs = [p for p in paths if p.suffix.lower() in (".csv", ".txt")]
    npys = [p for p in paths if p.suffix.lower() == ".npy"]
    other = [p for p in paths if p not in csvs and p not in npys]
    for p in paths:
        if not p.exists():
            raise UsageError(f"{p}: no such file")
    if other or len(csvs) > 1 or len(npys) not in (0, 2) or not paths:
        raise UsageError("expected a CSV file (with --label NAME) and/or two .npy files, features then labels; "
                         f"got {[str(p) for p in paths]}")
    loaded = []
    if csvs:
        loaded.append(_from_csv(csvs[0], label))
    if npys:
        loaded.append(_from_npy(npys[0], npys[1]))
    x, y = loaded[0]
    if len(loaded) == 2:
        x2, y2 = loaded[1]
        a, b = tb.to_numpy(x), tb.to_numpy(x2)
        same = a.shape == b.reshape(b.shape[0], -1).shape and np.array_equal(a, b.reshape(b.shape[0], -1))
        same = same and np.array_equal(np.asarray(y).astype(str), np.asarray(y2).astype(str))
        if not same:
            raise UsageError(f"{csvs[0]} and {npys[0]}/{npys[1]} do not hold the same data")
        print(f"  CSV and .npy agree: {a.shape[0]} samples, identical features and labels")
    xs = tb.to_numpy(x)
    xs = xs.reshape(xs.shape[0], -1)
    classes, y_index = np.unique(np.asarray(y), return_inverse=True)
    if len(classes) < 2:
        raise UsageError(f"the labels hold a single class ({classes[0]!r}); nothing to learn")
    return Data(x=tb.to_numpy(tb.cast(xs, "float32")), y=y_index.astype(np.int64),
                classes=[str(c) for c in classes], source=", ".join(p.name for p in paths))

"""tensorbridge: move arrays between NumPy, PyTorch, TensorFlow, JAX and C++ without copying when
possible, cast them correctly when not, read data files straight into tensors, and feed training
loops.

Quick start::

    >>> import numpy as np, tensorbridge as tb
    >>> x = np.random.rand(1000, 10)
    >>> t = tb.to_torch(x, dtype="float32")       # one fused cast + copy
    >>> print(tb.explain(x, to="torch"))           # zero-copy? why not? how many bytes?
    float64[1000, 10] -> torch float64: zero-copy
"""

from __future__ import annotations

from ._convert import Plan, asarray, convert, explain, to_jax, to_numpy, to_tf, to_torch
from ._dtypes import DTYPES, dtype_name
from ._tensor import Tensor
from .cast import CASTING_RULES, can_cast, cast, cast_into, num_threads, set_num_threads
from . import ops
from .csv import iter_csv, read_csv, read_csv_tensor
from .dataset import Dataset, DatasetIterator
from .table import Categorical, Table, from_dataframe
from .errors import (
    CastOverflowError,
    DTypeError,
    FormatError,
    InvalidValueError,
    ReadError,
    SharingError,
    TensorbridgeError,
)
from .io import (
    NpzFile,
    from_structured,
    load,
    read_npy_header,
    save,
    save_npz,
    savez,
    savez_compressed,
)

__version__ = "0.1.0"

__all__ = [
    "CASTING_RULES",
    "Categorical",
    "Table",
    "from_dataframe",
    "iter_csv",
    "read_csv",
    "read_csv_tensor",
    "can_cast",
    "cast",
    "cast_into",
    "num_threads",
    "set_num_threads",
    "DTYPES",
    "Dataset",
    "DatasetIterator",
    "CastOverflowError",
    "DTypeError",
    "FormatError",
    "InvalidValueError",
    "NpzFile",
    "Plan",
    "ReadError",
    "SharingError",
    "Tensor",
    "TensorbridgeError",
    "__version__",
    "asarray",
    "convert",
    "dtype_name",
    "explain",
    "from_structured",
    "load",
    "ops",
    "read_npy_header",
    "save",
    "save_npz",
    "savez",
    "savez_compressed",
    "to_jax",
    "to_numpy",
    "to_tf",
    "to_torch",
]

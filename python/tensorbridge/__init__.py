"""Arrays between NumPy, PyTorch, TensorFlow and JAX: zero-copy when possible, correct casts when not.

tensorbridge moves arrays between NumPy, PyTorch, TensorFlow and JAX without copying whenever that
is possible, and casts them correctly when it is not. It also reads ``.npy``/``.npz``/CSV files
straight into tensors and feeds training loops from a fast, deterministic, resumable input pipeline,
all on a C++ core.

Main entry points:

- Conversion: :func:`to_numpy`, :func:`to_torch`, :func:`to_tf`, :func:`to_jax`, :func:`convert`,
  and :func:`explain` (the plan: zero-copy or not, and why); :func:`asarray` and :class:`Tensor`.
- Casts: :func:`cast`, :func:`cast_into`, :func:`can_cast` (exact float16/bfloat16, checked mode).
- Files: :func:`load`, :func:`save`, :func:`savez` (``.npy``/``.npz``); :func:`read_csv`,
  :func:`read_csv_tensor`, :func:`iter_csv` and :func:`from_dataframe` (into a :class:`Table`).
- Pipelines: :class:`Dataset` (``from_tensor_slices -> shuffle -> batch -> map -> prefetch``) and
  the native batch ops of :mod:`tensorbridge.ops`.
- Errors: :mod:`tensorbridge.errors`, each also a built-in exception (``ValueError``...).

The examples in this reference assume ``import numpy as np, tensorbridge as tb``.

Example:
    >>> import numpy as np, tensorbridge as tb
    >>> x = np.random.rand(1000, 10)
    >>> t = tb.to_torch(x, dtype="float32")       # one fused cast + copy
    >>> print(tb.explain(x, to="torch"))           # zero-copy? why not? how many bytes?
    float64[1000, 10] -> torch float64: zero-copy
"""

from __future__ import annotations

from ._convert import Plan, asarray, convert, explain, to_jax, to_numpy, to_tf, to_torch
from ._dtypes import DTYPES, device_name, dtype_name
from ._tensor import Tensor
from .cast import CASTING_RULES, can_cast, cast, cast_into, num_threads, set_num_threads
from . import ops
from .memory import BlockCacheStats, block_cache_limit, block_cache_stats, clear_block_cache, set_block_cache_limit
from .csv import iter_csv, read_csv, read_csv_tensor
from .dataset import AUTOTUNE, Dataset, DatasetIterator
from .image import decode_image, read_image
from .table import Categorical, Table, from_dataframe
from .arrow import from_arrow, is_arrow
from .arrow_files import read_arrow, read_parquet
from .errors import (
    CallbackError,
    CastOverflowError,
    DTypeError,
    FormatError,
    AccessDeniedError,
    DirectoryError,
    InvalidValueError,
    NotFoundError,
    ReadError,
    SharingError,
    TensorbridgeError,
    WriteError,
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
from .storage import list_objects, storage_options_of

__version__ = "0.1.0"

__all__ = [
    "from_arrow",
    "is_arrow",
    "read_arrow",
    "read_parquet",
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
    "BlockCacheStats",
    "block_cache_limit",
    "block_cache_stats",
    "clear_block_cache",
    "set_block_cache_limit",
    "AUTOTUNE",
    "DTYPES",
    "Dataset",
    "DatasetIterator",
    "AccessDeniedError",
    "CallbackError",
    "CastOverflowError",
    "DTypeError",
    "DirectoryError",
    "FormatError",
    "InvalidValueError",
    "NotFoundError",
    "NpzFile",
    "Plan",
    "ReadError",
    "SharingError",
    "Tensor",
    "TensorbridgeError",
    "WriteError",
    "__version__",
    "asarray",
    "convert",
    "device_name",
    "dtype_name",
    "decode_image",
    "read_image",
    "explain",
    "from_structured",
    "list_objects",
    "storage_options_of",
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

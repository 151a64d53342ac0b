"""Each framework's own ways, used by tests as the reference: make a native array from NumPy,
read one back into NumPy, and find the address of its memory; and the resident memory of mapped
files, which tests of memory-mapped sources bound."""

from __future__ import annotations

import ctypes
import importlib
from typing import Any

import ml_dtypes
import numpy as np

FRAMEWORKS = ("numpy", "torch", "tensorflow", "jax")
ALL_DTYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
)
WIDE = {"int64", "uint64", "float64", "complex128"}  # JAX without 64-bit mode has none of these


def module(name: str) -> Any:
    return importlib.import_module(name)


def np_dtype(name: str) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def sample(dtype: str, shape: tuple[int, ...] = (3, 4), seed: int = 0) -> np.ndarray:
    """Values that exercise ``dtype`` (negative, fractional, large where the type allows)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dtype == "bool":
        return rng.integers(0, 2, n).astype(bool).reshape(shape)
    dt = np_dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, n, dtype=dt, endpoint=True).reshape(shape)
    vals = rng.standard_normal(n) * 100
    if dt.kind == "c":
        vals = vals + 1j * rng.standard_normal(n)
    return vals.astype(dt).reshape(shape)


def native(name: str, arr: np.ndarray) -> Any:
    """``arr`` as framework ``name`` makes it from NumPy with its own API (a fresh copy)."""
    arr = np.array(arr, copy=True)
    if name == "numpy":
        return arr
    if name == "torch":
        torch = module("torch")
        if arr.dtype == np_dtype("bfloat16"):
            return torch.from_numpy(np.ascontiguousarray(arr).view(np.uint16)).view(torch.bfloat16)
        return torch.from_numpy(np.ascontiguousarray(arr))
    if name == "tensorflow":
        return module("tensorflow").convert_to_tensor(arr)
    if name == "jax":
        return module("jax.numpy").asarray(arr)
    raise ValueError(name)


def as_numpy(obj: Any) -> np.ndarray:
    """The values of a native array, read with the framework's own API."""
    if isinstance(obj, np.ndarray):
        return obj
    mod = type(obj).__module__
    if mod.startswith("torch"):
        torch = module("torch")
        obj = obj.detach().cpu()
        if obj.dtype == torch.bfloat16:
            return obj.view(torch.uint16).numpy().view(np_dtype("bfloat16"))
        return obj.numpy()
    if mod.startswith("tensorflow"):
        return obj.numpy()
    return np.asarray(obj)


def address(obj: Any) -> int:
    """Address of element 0 of a native array."""
    if isinstance(obj, np.ndarray):
        return obj.__array_interface__["data"][0]
    mod = type(obj).__module__
    if mod.startswith("torch"):
        return obj.data_ptr()
    if mod.startswith("jax"):
        return obj.unsafe_buffer_pointer()
    import tensorbridge as tb

    if isinstance(obj, tb.Tensor):
        return obj.data_ptr
    if mod.startswith("tensorflow"):
        return tf_address(obj)
    raise TypeError(f"no address for {type(obj)}")


def tf_address(t: Any) -> int:
    """The first element's address as TensorFlow's own DLPack export reports it."""
    import tensorflow as tf

    capsule = tf.experimental.dlpack.to_dlpack(t)
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    managed = get(capsule, b"dltensor")  # DLManagedTensor*: its DLTensor comes first
    data = ctypes.c_void_p.from_address(managed).value or 0
    byte_offset = ctypes.c_uint64.from_address(managed + 40).value  # after data, device, ndim, dtype, shape, strides
    return data + byte_offset


def dtype_of(obj: Any) -> str:
    import tensorbridge as tb

    return tb.dtype_name(obj.dtype)


def assert_same_values(out: Any, expected: np.ndarray) -> None:
    got = as_numpy(out)
    assert got.shape == expected.shape
    if expected.dtype == np_dtype("bfloat16"):
        got, expected = got.view(np.uint16), expected.view(np.uint16)
    np.testing.assert_array_equal(got, expected)


def rss_file() -> int:
    """This process's file-backed resident memory in bytes (RssFile in /proc/self/status): what
    mapped files cost in RAM, for the tests that bound it."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssFile:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssFile in /proc/self/status")

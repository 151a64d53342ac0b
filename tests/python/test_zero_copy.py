"""Zero-copy, checked against the frameworks' own buffer pointers rather than ``tb.explain``.

Every source is allocated on purpose: 64-byte aligned, or deliberately off by a multiple of its
element size, so nothing depends on where malloc happened to put it. The data address of each
result is read from its own framework (NumPy ``__array_interface__``, torch ``data_ptr()``, JAX
``unsafe_buffer_pointer()``, TensorFlow's own DLPack export), and sharing is confirmed by a write
to the source showing (or not showing) through the result.

TensorFlow and JAX alias only 64-byte aligned memory: an aligned source is shared, a misaligned
one is copied into aligned memory (as is 64-bit data for JAX without ``jax_enable_x64``). NumPy and torch share any element-aligned memory. Memory that
TensorFlow or JAX own is read-only to them, so it is shared with NumPy (read-only) and copied for
torch, whose tensors are always writable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tensorbridge as tb
from frameworks import address

DTYPES = [np.float32, np.float64, np.int64, np.uint8, np.float16]
#: Byte offsets from a 64-byte boundary; each is used only where it is a multiple of the itemsize.
OFFSETS = [0, 1, 2, 4, 8, 16, 32, 48]


def allocate(n: int, dtype: Any, offset: int) -> np.ndarray:
    """``n`` elements starting ``offset`` bytes past a 64-byte boundary, filled with 0..n-1."""
    dt = np.dtype(dtype)
    raw = np.empty(n * dt.itemsize + 128, np.uint8)
    start = (-raw.__array_interface__["data"][0]) % 64 + offset
    a = raw[start:start + n * dt.itemsize].view(dt)
    a[...] = np.arange(n) % 200
    assert address(a) % 64 == offset
    return a




def values(x: Any) -> np.ndarray:
    """A copy of the values, read by the array's own framework."""
    module = type(x).__module__
    return np.array(x.numpy() if module.startswith(("torch", "tensorflow")) else x, copy=True)


def cases(itemsize: int) -> list[int]:
    return [o for o in OFFSETS if o % itemsize == 0]


PARAMS = [(dt, off) for dt in DTYPES for off in cases(np.dtype(dt).itemsize)]


@pytest.mark.parametrize(("dtype", "offset"), PARAMS)
@pytest.mark.parametrize("target", ["numpy", "torch"])
def test_numpy_to_numpy_and_torch_share_any_element_aligned_memory(dtype: Any, offset: int, target: str, torch: Any) -> None:
    a = allocate(1000, dtype, offset)
    to = getattr(tb, f"to_{target}")  # by name: pytest keeps its parameters alive until exit
    out = to(a)
    assert address(out) == address(a)
    a[3] = 99
    assert values(out)[3] == 99


@pytest.mark.parametrize(("dtype", "offset"), PARAMS)
@pytest.mark.parametrize("target", ["tf", "jax"])
def test_numpy_to_tf_and_jax_share_aligned_memory_and_copy_misaligned(dtype: Any, offset: int, target: str, tf: Any,
                                                                      jax: Any) -> None:
    a = allocate(1000, dtype, offset)
    to = getattr(tb, f"to_{target}")  # by name: pytest keeps its parameters alive until exit
    out = to(a)
    if to is tb.to_jax:
        out.block_until_ready()
    assert values(out).tolist() == a.tolist()
    a[3] = 99
    # JAX without jax_enable_x64 holds 64-bit data as 32-bit: a conversion, never shared.
    narrowed = to is tb.to_jax and np.dtype(dtype).itemsize == 8 and not jax.config.jax_enable_x64
    if offset == 0 and not narrowed:
        assert address(out) == address(a)
        assert values(out)[3] == 99  # the framework reads the source's memory
    else:
        assert address(out) != address(a) and address(out) % 64 == 0
        assert values(out)[3] == 3  # an independent copy


@pytest.mark.parametrize("offset", [0, 4, 32])
@pytest.mark.parametrize("target", ["tf", "jax"])
def test_torch_to_tf_and_jax_share_aligned_memory_and_copy_misaligned(offset: int, target: str, torch: Any, tf: Any,
                                                                      jax: Any) -> None:
    t = torch.from_numpy(allocate(256, np.float32, offset))
    out = getattr(tb, f"to_{target}")(t)
    assert (address(out) == t.data_ptr()) == (offset == 0)
    assert address(out) % 64 == 0
    t[5] = 7.5
    assert values(out)[5] == (7.5 if offset == 0 else 5.0)


def test_tf_and_jax_memory_is_shared_with_numpy_read_only(tf: Any, jax: Any) -> None:
    for x in (tf.constant(np.arange(64.0)), jax.numpy.arange(64.0)):
        out = tb.to_numpy(x)
        assert address(out) == address(x)
        assert not out.flags.writeable
        assert out.tolist() == list(np.arange(64.0))


def test_tf_and_jax_memory_is_copied_for_torch_whose_tensors_are_writable(torch: Any, tf: Any, jax: Any) -> None:
    for x in (tf.constant(np.arange(64.0)), jax.numpy.arange(64.0)):
        out = tb.to_torch(x)
        assert address(out) != address(x)
        out[0] = 5.0  # writes the copy only
        assert values(x)[0] == 0.0 and out.tolist()[1:] == list(np.arange(1.0, 64.0))


def test_tensorbridge_allocations_are_aligned_and_shared_everywhere(torch: Any, tf: Any, jax: Any) -> None:
    t = tb.asarray(np.arange(100, dtype=np.float32), copy=True)
    base = address(tb.to_numpy(t))
    assert base % 64 == 0
    for to in (tb.to_torch, tb.to_tf, tb.to_jax):
        assert address(to(t)) == base

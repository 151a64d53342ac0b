"""Layouts: sliced, negative strides, Fortran order, 0-d, empty, byte-swapped, structured views,
and large virtual sizes, from NumPy to every framework; plus hypothesis over shapes and strides."""

from __future__ import annotations

import numpy as np
import pytest
from frameworks import address, as_numpy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tensorbridge as tb

CONVERT = {"numpy": tb.to_numpy, "torch": tb.to_torch, "tensorflow": tb.to_tf, "jax": tb.to_jax}
BASE = np.arange(4 * 6, dtype=np.float32).reshape(4, 6)
LAYOUTS = {
    "contiguous": BASE,
    "sliced": BASE[1:3, 2:5],
    "step": BASE[::2, ::3],
    "negative": BASE[::-1, ::-2],
    "fortran": np.asfortranarray(BASE),
    "0-d": np.array(3.5, dtype=np.float32),
    "empty": np.zeros((0, 5), dtype=np.float32),
    "byte-swapped": BASE.astype(">f4"),
    "broadcast": np.broadcast_to(np.arange(6, dtype=np.float32), (4, 6)),
}


@pytest.mark.parametrize("target", list(CONVERT))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_layouts(layout, target, torch, tf, jax):
    src = LAYOUTS[layout]
    plan = tb.explain(src, to=target)
    out = CONVERT[target](src)
    got = as_numpy(out)
    np.testing.assert_array_equal(got, src)
    assert got.dtype == np.float32  # byte-swapped data comes out native
    if src.size:
        same = address(out) == address(src)
        assert same == plan.zero_copy, str(plan)


def test_what_each_framework_shares(torch, tf, jax):
    rev = LAYOUTS["negative"]
    assert tb.explain(rev, to="numpy").zero_copy
    assert not tb.explain(rev, to="torch").zero_copy
    assert "negative strides" in tb.explain(rev, to="torch").reasons[0]
    assert "byte-swapped" in tb.explain(LAYOUTS["byte-swapped"], to="numpy").reasons[0]
    assert tb.explain(LAYOUTS["fortran"], to="torch").zero_copy
    assert not tb.explain(LAYOUTS["fortran"], to="tensorflow").zero_copy
    with pytest.raises(BufferError, match="byte-swapped"):
        tb.to_numpy(LAYOUTS["byte-swapped"], copy=False)
    with pytest.raises(BufferError, match="negative strides"):
        tb.to_torch(rev, copy=False)


def test_structured_field_views():
    rec = np.zeros(4, dtype=[("id", np.int64), ("value", np.float64)])
    rec["id"] = np.arange(4)
    rec["value"] = np.arange(4) * 0.5
    v = tb.to_numpy(rec["value"])
    assert address(v) == address(rec["value"])  # 16-byte records: a strided view
    np.testing.assert_array_equal(v, rec["value"])
    odd = np.zeros(3, dtype=[("a", np.int8), ("b", np.float32)])  # 5-byte records
    odd["b"] = [1.0, 2.0, 3.0]
    plan = tb.explain(odd["b"], to="numpy")
    assert not plan.zero_copy and "not a multiple" in plan.reasons[0]
    np.testing.assert_array_equal(tb.to_numpy(odd["b"]), [1.0, 2.0, 3.0])


def test_large_virtual_size_is_not_copied(torch):
    one = np.ones(1, dtype=np.float32)
    big = np.lib.stride_tricks.as_strided(one, shape=(1 << 20, 1 << 10), strides=(0, 0))  # 4 GiB virtual
    t = tb.asarray(big)
    assert t.nbytes == 4 << 30 and t.strides == (0, 0)
    n = tb.to_numpy(big)
    assert address(n) == address(big) and n.shape == big.shape
    plan = tb.explain(big, to="torch")
    assert plan.zero_copy  # torch accepts zero strides
    assert tb.to_torch(big).data_ptr() == address(big)


@settings(max_examples=60, deadline=None)
@given(
    arr=hnp.arrays(
        dtype=st.sampled_from([np.int8, np.uint16, np.int32, np.float32, np.float64, np.complex64, np.bool_]),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    ),
    data=st.data(),
)
def test_hypothesis_strided_views(arr, data, torch):
    index = tuple(
        slice(None, None, data.draw(st.sampled_from([1, 2, -1, -2]))) for _ in range(arr.ndim)
    )
    view = arr[index]
    np.testing.assert_array_equal(tb.to_numpy(view), view)
    np.testing.assert_array_equal(as_numpy(tb.to_torch(view)), view)
    out = tb.to_numpy(view, copy=True)
    np.testing.assert_array_equal(out, view)
    assert out.flags.c_contiguous

"""Bad input: each error of the right built-in type, saying what, why and how to fix it."""

from __future__ import annotations

import numpy as np
import pytest

import tensorbridge as tb


def test_object_arrays():
    with pytest.raises(TypeError, match="Python objects.*ragged") as e:
        tb.asarray(np.array([[1, 2], [3]], dtype=object))
    assert isinstance(e.value, tb.DTypeError) and isinstance(e.value, tb.TensorbridgeError)


def test_ragged_lists():
    with pytest.raises(ValueError, match="ragged nested list"):
        tb.asarray([[1, 2], [3]])


def test_strings_and_long_double():
    with pytest.raises(TypeError, match="strings"):
        tb.to_torch(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="long double.*float64"):
        tb.asarray(np.zeros(2, dtype=np.longdouble))
    with pytest.raises(TypeError, match="structured array.*from_structured"):
        tb.asarray(np.zeros(2, dtype=[("a", "i4"), ("b", "f4")]))
    with pytest.raises(TypeError, match="datetimes"):
        tb.asarray(np.array(["2024-01-01"], dtype="datetime64[ns]"))


def test_unknown_dtype_and_objects():
    with pytest.raises(TypeError, match='unknown dtype "float128"; expected one of: bool, int8'):
        tb.to_numpy(np.ones(2), dtype="float128")
    with pytest.raises(TypeError, match="not an array"):
        tb.asarray(object())
    with pytest.raises(TypeError, match="not a dtype"):
        tb.to_numpy(np.ones(2), dtype=object())


def test_device_not_available(torch):
    with pytest.raises(ValueError, match='device "cuda:0" is not available.*device="cpu"'):
        tb.to_torch(np.ones(2), device="cuda:0")
    with pytest.raises(ValueError, match='unknown device "tpu"'):
        tb.to_torch(np.ones(2), device="tpu")


def test_meta_tensor_says_it_has_no_data(torch):
    meta = torch.empty(3, device="meta")
    for call in (tb.to_numpy, tb.asarray, tb.to_jax):
        with pytest.raises(tb.InvalidValueError, match="meta device: it has a shape and a dtype but no data"):
            call(meta)


def test_copy_false_names_why(torch):
    with pytest.raises(BufferError, match="copy=False.*dtype changes from float64 to float32.*copy=None"):
        tb.to_torch(np.ones(2), dtype="float32", copy=False)
    with pytest.raises(BufferError, match="Python scalars and lists must be copied"):
        tb.asarray([1, 2], copy=False)


def test_casting_rule_refusals():
    with pytest.raises(TypeError, match='cannot cast float64 to int32 under casting="same_kind"; pass casting="unsafe"'):
        tb.to_numpy(np.ones(2), dtype="int32")
    with pytest.raises(TypeError, match='under casting="safe"; pass casting="same_kind"'):
        tb.to_numpy(np.ones(2), dtype="float32", casting="safe")
    with pytest.raises(TypeError, match='cannot cast complex128 to float64'):
        tb.to_numpy(np.ones(2, dtype=complex), dtype="float64")
    with pytest.raises(ValueError, match="unknown casting rule"):
        tb.to_numpy(np.ones(2), dtype="float32", casting="maybe")
    assert tb.to_numpy(np.array([1.7, -1.7]), dtype="int32", casting="unsafe").tolist() == [1, -1]


def test_python_values():
    assert tb.asarray(True).dtype == "bool"
    assert tb.asarray(3).dtype == "int64"
    assert tb.asarray([1, 2.5]).dtype == "float32"
    assert tb.asarray([1j]).dtype == "complex64"
    assert tb.asarray([[1, 2], [3, 4]]).shape == (2, 2)
    with pytest.raises(OverflowError, match="does not fit in float32.*dtype='float64'"):
        tb.asarray([1e300])
    with pytest.raises(OverflowError, match="int64"):
        tb.asarray([2**70])
    np.testing.assert_array_equal(tb.to_numpy([1e300], dtype="float64"), [1e300])


def test_zero_d_len():
    with pytest.raises(TypeError, match="0-d"):
        len(tb.asarray(np.float32(1)))

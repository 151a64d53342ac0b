"""The conversion matrix: every source framework x every target x every dtype the pair supports,
against each framework's own conversion; zero-copy asserted where the plan promises it and
asserted absent where it promises a copy."""

from __future__ import annotations

import numpy as np
import pytest
from frameworks import ALL_DTYPES, FRAMEWORKS, WIDE, address, as_numpy, assert_same_values, native, sample

import tensorbridge as tb

SOURCES = (*FRAMEWORKS, "tensorbridge")
CONVERT = {"numpy": tb.to_numpy, "torch": tb.to_torch, "tensorflow": tb.to_tf, "jax": tb.to_jax}


def make(source: str, arr: np.ndarray):
    if source == "tensorbridge":
        return tb.asarray(np.array(arr, copy=True))
    return native(source, arr)


def pair_dtypes():
    for src in SOURCES:
        for dst in FRAMEWORKS:
            for dt in ALL_DTYPES:
                if "jax" in (src, dst) and dt in WIDE:
                    continue  # covered by test_jax_narrows_64_bit_types
                yield src, dst, dt


@pytest.mark.parametrize(("source", "target", "dtype"), list(pair_dtypes()))
def test_matrix(source, target, dtype, torch, tf, jax):
    arr = sample(dtype)
    src = make(source, arr)
    plan = tb.explain(src, to=target)
    out = CONVERT[target](src)
    assert tb.dtype_name(out.dtype) == dtype
    assert_same_values(out, arr)
    if plan.zero_copy:
        assert address(out) == address(src), str(plan)
    else:
        assert address(out) != address(src), str(plan)
        assert plan.reasons


def test_zero_copy_where_promised(torch, tf, jax):
    x = np.arange(6).reshape(2, 3)
    s = tb.to_torch(x)
    s[0, 0] = 100
    assert x[0, 0] == 100  # shares memory
    t = torch.arange(4.0)
    n = tb.to_numpy(t)
    n[1] = -1
    assert t[1].item() == -1
    assert tb.explain(x, to="numpy").zero_copy


def test_requires_grad_is_detached_without_copy(torch):
    t = torch.ones(3, requires_grad=True)
    n = tb.to_numpy(t)
    assert address(n) == t.data_ptr()
    assert tb.to_torch(t).requires_grad is False


def test_read_only_sources_are_never_handed_out_writable(torch):
    x = np.arange(4.0)
    x.flags.writeable = False
    plan = tb.explain(x, to="torch")
    assert not plan.zero_copy and "read-only" in plan.reasons[0]
    t = tb.to_torch(x)
    t[0] = 5
    assert x[0] == 0
    with pytest.raises(BufferError, match="read-only"):
        tb.to_torch(x, copy=False)
    n = tb.to_numpy(x)
    assert not n.flags.writeable and address(n) == address(x)


def test_tensorflow_and_jax_sources_are_read_only(tf, jax, torch):
    g = tf.constant(np.arange(4.0, dtype=np.float32))
    n = tb.to_numpy(g)
    assert not n.flags.writeable
    assert address(tb.to_torch(g)) != address(g)  # torch could write: copied
    j = jax.numpy.arange(8, dtype=np.float32)
    assert not tb.to_numpy(j).flags.writeable


def test_tf_variable(tf):
    v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(tb.to_numpy(v), v.numpy())


def test_jax_narrows_64_bit_types(jax):
    x = np.array([1.5, 2.5])
    j = tb.to_jax(x)
    assert j.dtype == np.float32
    plan = tb.explain(x, to="jax")
    assert plan.to_dtype == "float32" and plan.lossy
    assert tb.to_jax(np.array([2**31 - 1], dtype=np.int64)).dtype == np.int32
    with pytest.raises(OverflowError, match="index"):
        tb.to_jax(np.array([0, 2**40], dtype=np.int64))
    with pytest.raises(TypeError, match="jax_enable_x64"):
        tb.to_jax(x, dtype="float64")


def test_copy_true_always_copies(torch):
    x = np.arange(4.0)
    for fn in (tb.to_numpy, tb.to_torch, tb.to_tf, tb.to_jax):
        out = fn(x, copy=True)
        assert address(out) != address(x)
    plan = tb.explain(x, to="numpy", copy=True)
    assert plan.reasons == ("copy=True was asked for",)


def test_dtype_and_fused_cast(torch):
    x = np.random.default_rng(0).random((100, 10))
    t = tb.to_torch(x, dtype="float32")
    assert t.dtype == torch.float32
    np.testing.assert_array_equal(t.numpy(), x.astype(np.float32))
    t2 = tb.to_torch(x[:, ::-1], dtype=torch.float16)
    np.testing.assert_array_equal(t2.numpy(), x[:, ::-1].astype(np.float16))
    plan = tb.explain(x, to="torch", dtype="float32")
    assert plan.lossy and plan.bytes_to_copy == x.size * 4


def test_bfloat16_to_numpy_uses_ml_dtypes(torch):
    import ml_dtypes

    t = torch.tensor([1.0, 2.5, -3.0], dtype=torch.bfloat16)
    n = tb.to_numpy(t)
    assert n.dtype == ml_dtypes.bfloat16
    assert address(n) == t.data_ptr()
    np.testing.assert_array_equal(n.astype(np.float32), [1.0, 2.5, -3.0])


def test_convert_and_targets(torch):
    x = np.ones(3)
    assert tb.convert(x, to="tf").dtype.name == "float64"
    assert tb.convert(x, to="np") is not None
    with pytest.raises(ValueError, match="unknown conversion target 'mxnet'"):
        tb.convert(x, to="mxnet")


def test_pandas_sources(pd):
    s = pd.Series(np.arange(5.0))
    n = tb.to_numpy(s)
    np.testing.assert_array_equal(n, s.to_numpy())
    df = pd.DataFrame({"a": np.arange(3.0), "b": np.arange(3.0) * 2})
    np.testing.assert_array_equal(tb.to_numpy(df), df.to_numpy())
    text = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    with pytest.raises(TypeError, match="column 'b' holds strings.*leave it out.*cat.codes"):
        tb.asarray(text)


def test_protocol_objects():
    import array

    buf = array.array("d", [1.0, 2.0, 3.0])
    t = tb.asarray(buf)
    assert t.dtype == "float64" and t.shape == (3,)
    assert t.data_ptr == buf.buffer_info()[0]

    class WithInterface:
        def __init__(self, a):
            self.__array_interface__ = a.__array_interface__
            self._keep = a

    a = np.arange(6, dtype=np.int16)
    t2 = tb.asarray(WithInterface(a))
    assert t2.dtype == "int16" and t2.data_ptr == address(a)


def test_tb_tensor_speaks_dlpack(torch, jax, tf):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tb.asarray(x)
    assert torch.from_dlpack(t).data_ptr() == address(x)
    assert address(np.from_dlpack(t)) == address(x)
    np.testing.assert_array_equal(np.asarray(jax.dlpack.from_dlpack(t)), x)
    np.testing.assert_array_equal(tf.experimental.dlpack.from_dlpack(t.__dlpack__()).numpy(), x)
    np.testing.assert_array_equal(np.asarray(t), x)
    np.testing.assert_array_equal(t.numpy(), x)
    assert t.__dlpack_device__() == (1, 0)
    assert "shape=(3, 4)" in repr(t)


def test_dlpack_copy_flags(torch):
    x = np.arange(4.0)
    x.flags.writeable = False
    t = tb.asarray(x)
    assert t.read_only
    with pytest.raises(BufferError, match="legacy"):
        t.__dlpack__(copy=False)
    cap = t.__dlpack__()  # legacy consumer: copied
    assert torch.from_dlpack(cap).data_ptr() != address(x)
    n = np.from_dlpack(t)  # numpy asks for DLPack 1.x: shared, read-only
    assert address(n) == address(x) and not n.flags.writeable
    with pytest.raises(BufferError):
        t.__dlpack__(dl_device=(2, 0))


def test_as_numpy_reference_helper_round_trip(torch):
    x = sample("float32")
    assert_same_values(tb.to_torch(x), x)
    assert as_numpy(tb.to_torch(x)).dtype == np.float32


def test_python_numbers_take_the_requested_dtype_like_numpy(torch):
    """Python ints/floats have no dtype of their own (NEP 50): a requested dtype of a kind they fit
    is taken directly, values that do not fit raise, and other kinds follow the casting rule."""
    assert tb.to_numpy([1, 2], dtype="uint8").dtype == np.uint8
    assert tb.to_torch([[1.0, 2.5]], dtype="float16").dtype == torch.float16
    assert tb.to_numpy(7, dtype="int8").tolist() == np.asarray(7, dtype=np.int8).tolist()
    with pytest.raises(OverflowError, match="300"):
        tb.asarray([1, 300], dtype="uint8")
    with pytest.raises(TypeError, match="same_kind"):
        tb.asarray([1.5], dtype="int32")
    assert tb.to_numpy([1.5], dtype="int32", casting="unsafe").tolist() == [1]

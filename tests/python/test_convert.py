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
    with pytest.raises(BufferError, match="READ_ONLY"):
        t.__dlpack__(copy=False)
    cap = t.__dlpack__()  # legacy consumer: copied
    assert torch.from_dlpack(cap).data_ptr() != address(x)
    # Any consumer may ignore the READ_ONLY flag: __dlpack__ hands out a writable copy...
    n = np.from_dlpack(t)
    assert address(n) != address(x) and n.flags.writeable
    # ...while the conversions that keep it read-only share it.
    n = np.asarray(t)
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


@pytest.mark.parametrize("target", ["jax", "tensorflow"])
def test_explain_says_when_an_immutable_framework_shares_writable_memory(target, tf, jax):
    """TF and JAX treat arrays as immutable, yet a zero-copy result changes when the NumPy source
    is written (a jax.jit result went from 2 to 10): the plan says so and names copy=True."""
    x = tb.to_numpy(tb.asarray(np.full(16, 2.0, dtype=np.float32), copy=True))  # 64-byte aligned
    plan = tb.explain(x, to=target)
    assert plan.zero_copy
    assert any("immutable" in n and "copy=True" in n for n in plan.notes), plan.notes
    assert "note: " in str(plan) and "copy=True" in str(plan)
    shared = tb.convert(x, to=target)
    independent = tb.convert(x, to=target, copy=True)
    x[0] = 10.0
    assert float(np.asarray(shared)[0]) == 10.0  # what the note warns of
    assert float(np.asarray(independent)[0]) == 2.0
    assert tb.explain(x, to=target, copy=True).notes == ()
    assert tb.explain(x, to="numpy").notes == ()  # NumPy arrays are mutable: nothing to say


def test_jax_narrowing_overflow_names_x64_and_dtype_not_checked(jax):
    """Without 64-bit mode, int64 beyond int32 cannot narrow; the advice must be what works:
    enabling x64 or choosing dtype=, never checked=False (the narrowing is always checked)."""
    x = np.array([0, 2**40], dtype=np.int64)
    for kwargs in ({}, {"checked": False}):
        with pytest.raises(tb.CastOverflowError) as info:
            tb.to_jax(x, **kwargs)
        message = str(info.value)
        assert 'jax.config.update("jax_enable_x64", True)' in message
        assert "dtype=" in message and "index (1,)" in message and "1099511627776" in message
        assert "checked=False" not in message
    assert tb.to_jax(x, dtype="float32").tolist() == [0.0, 2.0**40]  # what the advice offers works
    with pytest.raises(tb.DTypeError, match=r'jax\.config\.update\("jax_enable_x64", True\)'):
        tb.to_jax(x, dtype="int64")


def _device_objects():
    import jax
    import tensorflow as tf
    import torch

    return {
        "torch.device('cpu')": torch.device("cpu"),
        "torch.device('cpu', 0)": torch.device("cpu", 0),
        "tf logical device": tf.config.list_logical_devices("CPU")[0],
        "tf device string": "/device:CPU:0",
        "tf job device string": "/job:localhost/replica:0/task:0/device:CPU:0",
        "jax device": jax.devices("cpu")[0],
    }


@pytest.mark.parametrize("name", ["torch.device('cpu')", "torch.device('cpu', 0)", "tf logical device",
                                  "tf device string", "tf job device string", "jax device"])
@pytest.mark.parametrize("fn", ["to_numpy", "to_torch", "to_tf", "to_jax", "explain"])
def test_framework_device_objects_are_taken(name, fn, torch, tf, jax):
    device = _device_objects()[name]
    out = getattr(tb, fn)(np.arange(3.0, dtype=np.float32), device=device)
    if fn != "explain":
        np.testing.assert_array_equal(np.asarray(out), [0.0, 1.0, 2.0])
    tb.convert(np.arange(3.0), to="torch", device=device)


def test_a_device_that_is_not_one_is_a_clear_error(torch):
    with pytest.raises(tb.DTypeError, match=r"device=3\.5 is not a device.*torch\.device"):
        tb.to_torch(np.zeros(2), device=3.5)
    with pytest.raises(tb.InvalidValueError, match="not available"):
        tb.to_torch(np.zeros(2), device=torch.device("cuda", 1))


def _unsupported_inputs():
    import jax
    import ml_dtypes
    import torch

    return {
        "numpy StringDType": (lambda: np.array(["a", "bc"], dtype=np.dtypes.StringDType()), tb.DTypeError,
                              r"StringDType.*strings.*encode"),
        "ml_dtypes float8": (lambda: np.zeros(3, dtype=ml_dtypes.float8_e4m3fn), tb.DTypeError,
                             r"float8_e4m3fn.*astype\(np\.float32\)"),
        "jax int4": (lambda: jax.numpy.zeros(3, dtype=jax.numpy.int4), tb.DTypeError, r"int4.*astype\(jnp\.int8\)"),
        "jax PRNG key": (lambda: jax.random.key(0), tb.DTypeError, r"PRNG key.*jax\.random\.key_data"),
        "torch nested": (lambda: torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)]), tb.DTypeError,
                         r"nested.*to_padded_tensor"),
    }


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")
@pytest.mark.parametrize("case", ["numpy StringDType", "ml_dtypes float8", "jax int4", "jax PRNG key", "torch nested"])
@pytest.mark.parametrize("fn", ["to_numpy", "to_torch", "to_tf", "to_jax", "asarray", "explain"])
def test_unsupported_inputs_raise_a_tensorbridge_error_saying_how_to_fix(case, fn, torch, tf, jax):
    make, kind, pattern = _unsupported_inputs()[case]
    with pytest.raises(kind, match=pattern) as info:
        getattr(tb, fn)(make())
    assert isinstance(info.value, tb.TensorbridgeError) and isinstance(info.value, TypeError)


@pytest.mark.parametrize("fn", ["to_numpy", "explain"])
def test_more_dimensions_than_numpy_holds_is_an_invalid_value(fn, torch):
    t = torch.zeros((1,) * 65)
    kwargs = {"to": "numpy"} if fn == "explain" else {}
    with pytest.raises(tb.InvalidValueError, match="at most 64 dimensions.*65") as info:
        getattr(tb, fn)(t, **kwargs)
    assert isinstance(info.value, ValueError)
    with pytest.raises(tb.InvalidValueError, match="at most 64 dimensions"):
        np.asarray(tb.asarray(t))
    assert tb.to_torch(t).ndim == 65  # torch itself holds it


@pytest.mark.parametrize(("dtype", "unit"), [("datetime64[D]", "days"), ("datetime64[us]", "microseconds"),
                                             ("datetime64[ns]", "nanoseconds"), ("datetime64[10m]", "10-minute units"),
                                             ("timedelta64[s]", "seconds")])
@pytest.mark.parametrize("fn", ["to_numpy", "to_torch", "asarray", "explain"])
def test_datetime_errors_name_the_real_unit(dtype, unit, fn, torch):
    x = np.array([1, 2], dtype=dtype)
    with pytest.raises(tb.DTypeError) as info:
        getattr(tb, fn)(x)
    message = str(info.value)
    assert f"({unit} since the epoch)" in message or f"(a count of {unit})" in message, message
    if unit != "nanoseconds":
        assert "nanoseconds" not in message


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
@pytest.mark.parametrize("make", [lambda torch: torch.zeros(3, dtype=torch.float8_e4m3fn),
                                  lambda torch: torch.zeros(3, dtype=torch.complex32),
                                  lambda torch: torch.quantize_per_tensor(torch.zeros(3), 0.1, 0, torch.qint8)],
                         ids=["float8", "complex32", "qint8"])
@pytest.mark.parametrize("fn", ["to_numpy", "to_torch", "asarray", "explain"])
def test_torch_dtypes_without_a_counterpart_say_how_to_convert(make, fn, torch):
    with pytest.raises(tb.DTypeError, match=r"\.float\(\)|\.dequantize\(\)"):
        getattr(tb, fn)(make(torch))


def _python_cases():
    return {
        "numpy float64 scalar": [np.float64(0.1)],
        "numpy float64 beside a float": [np.float64(0.1), 0.2],
        "numpy float32 beside a float": [np.float32(0.1), 0.2],
        "numpy int32 beside an int": [np.int32(1), 2],
        "numpy int32 beside a float": [np.int32(1), 0.5],
        "numpy float16 beside an int": [np.float16(1), 2],
        "numpy int8 and int16": [np.int8(1), np.int16(2)],
        "numpy complex64 and float64": [np.complex64(1j), np.float64(1)],
        "ints": [1, 2],
        "int and float": [1, 2.5],
        "bools": [True, False],
        "bool and int": [True, 2],
        "complex": [1j, 2],
        "nested": [[1.5, 2], [3, 4]],
        "beyond int64 beside a negative": [12345678901234567891, -1],
        "2**63": [2**63],
        "2**64": [2**64],
        "2**40": [2**40],
    }


def _native_rule(target):
    """The framework's own inference, the reference: the dtype name, or None where it refuses."""
    import jax.numpy as jnp
    import tensorflow as tf
    import torch

    make = {"numpy": np.asarray, "torch": torch.tensor, "tensorflow": tf.convert_to_tensor, "jax": jnp.asarray}[target]

    def rule(value):
        try:
            out = make(value)
        except (ValueError, TypeError, OverflowError):
            return None
        name = str(out.dtype).removeprefix("torch.").removeprefix("<dtype: '").removesuffix("'>")
        return None if name == "object" else name

    return rule


@pytest.mark.parametrize("case", list(_python_cases()))
@pytest.mark.parametrize("target", ["numpy", "torch", "tensorflow", "jax"])
def test_python_values_infer_the_target_frameworks_own_dtype(case, target, torch, tf, jax):
    value = _python_cases()[case]
    expected = _native_rule(target)(value)
    if expected is None:  # the framework refuses: a clear error, never a guess
        big_int = any(type(v) is int and abs(v) >= 2**31 for v in value)
        kind = tb.CastOverflowError if big_int else tb.TensorbridgeError
        with pytest.raises(kind, match="dtype=" if big_int else "tensor"):
            tb.convert(value, to=target)
        with pytest.raises(kind):
            tb.explain(value, to=target)
        return
    out = tb.convert(value, to=target)
    assert tb.dtype_name(out.dtype) == expected
    assert tb.explain(value, to=target).to_dtype == expected
    np.testing.assert_array_equal(np.asarray(out), np.asarray(value).astype(np.dtype(expected)))


@pytest.mark.parametrize("case", list(_python_cases()))
def test_tensorbridge_own_inference_is_torchs(case, torch):
    """tb.asarray (no target framework) follows PyTorch's rule, documented in asarray."""
    value = _python_cases()[case]
    expected = _native_rule("torch")(value)
    if expected is None:
        with pytest.raises(tb.CastOverflowError, match="dtype="):
            tb.asarray(value)
        return
    assert tb.asarray(value).dtype == expected


def test_python_float_beyond_the_inferred_type_raises_instead_of_inf(torch, jax):
    for fn in (tb.asarray, tb.to_torch, tb.to_jax):
        with pytest.raises(tb.CastOverflowError, match="dtype='float64'"):
            fn([1e300])
    assert tb.to_numpy([1e300]).dtype == np.float64  # NumPy's own rule keeps float64


@pytest.mark.parametrize(
    "src, dst, effect",
    [
        ("float64", "int8", "values out of range saturate"),
        ("complex128", "float64", "imaginary part is dropped"),
        ("float64", "bool", "nonzero value becomes True"),
    ],
)
def test_unsafe_cast_hint_says_what_the_cast_would_do(src, dst, effect):
    # The refusal names casting="unsafe" and what it would do to the values, by the cast rules
    # (a float into an integer saturates, as tb.cast does; it was described as wrapping).
    with pytest.raises(tb.DTypeError) as e:
        tb.to_numpy(np.array([300.5, -1.0]).astype(src), dtype=dst, casting="same_kind")
    assert 'casting="unsafe"' in str(e.value) and effect in str(e.value)
    if src == "float64" and dst == "int8":
        assert tb.cast(np.array([300.0]), "int8", casting="unsafe").numpy().tolist() == [127]

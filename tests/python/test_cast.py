"""tb.cast against NumPy and ml_dtypes: casting rules, exact float16/bfloat16, the documented
float -> int definitions, checked casts, strides, and every compiled kernel target."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import warnings

import ml_dtypes
import numpy as np
import pytest
import tensorbridge as tb
from tensorbridge import _ext

NAMES = [
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128",
]  # fmt: skip
NUMPY_NAMES = [n for n in NAMES if n != "bfloat16"]
RULES = ["no", "equiv", "safe", "same_kind", "unsafe"]
TARGETS = _ext.cast_targets()

# Where tensorbridge deliberately differs from ml_dtypes' registered bfloat16 casts (documented in
# docs/readme/cast.md): bfloat16 is a float like the others, so bfloat16 -> float16 is "same_kind"
# (as float64 -> float16 is), and complex -> bfloat16 is not (as complex -> float32 is not).
BFLOAT16_DEVIATIONS = {
    ("bfloat16", "float16", "same_kind"),
    ("complex64", "bfloat16", "same_kind"),
    ("complex128", "bfloat16", "same_kind"),
}


def np_dtype(name: str) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


@pytest.fixture(autouse=True)
def _quiet_numpy_reference_casts():
    """NumPy and ml_dtypes warn when the reference casts meet NaN or overflow; that is expected."""
    with np.errstate(all="ignore"):
        yield


@pytest.fixture(params=TARGETS)
def target(request):
    """Runs the test once per compiled kernel target this CPU supports."""
    best = _ext.active_cast_target()
    _ext.set_cast_target(request.param)
    yield request.param
    _ext.set_cast_target(best)


def tb_cast(x, dtype, **kw) -> np.ndarray:
    return np.asarray(tb.cast(x, dtype, **kw).numpy())


def same_bits_or_both_nan(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    gnan, wnan = np.isnan(got.astype(np.float64)), np.isnan(want.astype(np.float64))
    np.testing.assert_array_equal(gnan, wnan)
    np.testing.assert_array_equal(np.signbit(got.astype(np.float64)), np.signbit(want.astype(np.float64)))
    ok = ~wnan
    bits = {2: np.uint16, 4: np.uint32, 8: np.uint64}[got.dtype.itemsize]
    bad = np.flatnonzero(got.view(bits)[ok] != want.view(bits)[ok])
    assert bad.size == 0, f"{bad.size} differ, first input index {np.flatnonzero(ok)[bad[0]]}"


# ---- casting rules ------------------------------------------------------------------------------


def test_can_cast_agrees_with_numpy_for_every_pair_and_rule():
    differences = set()
    for a, b, rule in itertools.product(NAMES, NAMES, RULES):
        ours = tb.can_cast(a, b, rule)
        if ours != np.can_cast(np_dtype(a), np_dtype(b), rule):
            differences.add((a, b, rule))
    assert differences == BFLOAT16_DEVIATIONS


def test_casting_rule_names_and_errors():
    assert tb.CASTING_RULES == tuple(RULES)
    with pytest.raises(ValueError, match='unknown casting rule "sometimes"'):
        tb.cast(np.zeros(2), "float32", casting="sometimes")
    with pytest.raises(TypeError, match="float64"):
        tb.cast(np.zeros(2), "float128")


@pytest.mark.parametrize("rule", ["no", "safe", "same_kind"])
def test_refused_cast_names_rule_and_pair(rule):
    with pytest.raises(tb.DTypeError, match=f'cannot cast float64 to int32 under casting="{rule}"'):
        tb.cast(np.zeros(3), "int32", casting=rule)


def test_conversion_api_defaults_to_same_kind():
    with pytest.raises(TypeError, match='casting="same_kind"'):
        tb.to_numpy(np.zeros(3), dtype="int32")
    out = tb.to_numpy(np.arange(5.0), dtype="float16")
    np.testing.assert_array_equal(out, np.arange(5.0).astype(np.float16))


# ---- float16 / bfloat16 exactness ---------------------------------------------------------------


def all_bits(dtype) -> np.ndarray:
    return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(dtype)


def float32_edge_classes() -> np.ndarray:
    """Zeros, subnormals of all three formats, every float16/bfloat16 value, the midpoints between
    neighbours (ties) and one float32 ulp either side, the overflow boundaries, inf, NaNs."""
    parts = []
    for small in (np.float16, ml_dtypes.bfloat16):
        v = all_bits(small).astype(np.float32)
        v = np.sort(v[np.isfinite(v)])
        mid = (v[:-1].astype(np.float64) + v[1:]) / 2  # exact in float32
        mid = mid.astype(np.float32)
        parts += [v, mid, np.nextafter(mid, np.float32(np.inf)), np.nextafter(mid, np.float32(-np.inf))]
    special = np.array(
        [0.0, -0.0, np.inf, -np.inf, 65504, 65519.99, 65520, 65536, 3.3895314e38, 3.4028235e38,
         1e-45, -1e-45, 1.1754942e-38, 1.1754944e-38, 2.0**-24, 2.0**-25, 3 * 2.0**-26],
        dtype=np.float32,
    )  # fmt: skip
    nans = np.array([0x7FC00000, 0x7F800001, 0xFFA00000, 0x7FFFFFFF, 0x7FBFFFFF], dtype=np.uint32).view(
        np.float32
    )
    rng = np.random.default_rng(0)
    randoms = rng.integers(0, 1 << 32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate(parts + [special, nans, randoms])


def test_float32_to_float16_equals_numpy_on_edge_classes(target):
    x = float32_edge_classes()
    same_bits_or_both_nan(tb_cast(x, "float16"), x.astype(np.float16))


def test_float32_to_bfloat16_equals_ml_dtypes_on_edge_classes(target):
    x = float32_edge_classes()
    same_bits_or_both_nan(tb_cast(x, "bfloat16"), x.astype(ml_dtypes.bfloat16))


@pytest.mark.parametrize("small", ["float16", "bfloat16"])
@pytest.mark.parametrize("wide", ["float32", "float64"])
def test_all_2_16_values_widen_and_round_trip_like_numpy(target, small, wide):
    v = all_bits(np_dtype(small))
    widened = tb_cast(v, wide)
    same_bits_or_both_nan(widened, v.astype(wide))
    same_bits_or_both_nan(tb_cast(widened, small), v)


def test_float16_bfloat16_cross_casts_equal_ml_dtypes(target):
    h = all_bits(np.float16)
    same_bits_or_both_nan(tb_cast(h, "bfloat16"), h.astype(np.float32).astype(ml_dtypes.bfloat16))
    b = all_bits(ml_dtypes.bfloat16)
    same_bits_or_both_nan(tb_cast(b, "float16"), b.astype(np.float32).astype(np.float16))


def test_float64_to_float16_rounds_once_like_numpy(target):
    rng = np.random.default_rng(1)
    h = all_bits(np.float16).astype(np.float64)
    h = np.sort(h[np.isfinite(h)])
    mid = (h[:-1] + h[1:]) / 2
    tiny = np.abs(mid) * 2.0**-40
    x = np.concatenate(
        [mid, mid + tiny, mid - tiny, rng.normal(0, 1000, 100_000), rng.normal(0, 1e-6, 10_000)]
    )
    same_bits_or_both_nan(tb_cast(x, "float16"), x.astype(np.float16))


def test_float64_to_bfloat16_rounds_once(target):
    # 1 + 2^-8 + 2^-40: via float32 the value becomes the tie 1 + 2^-8 and goes to even (1.0);
    # rounding once gives the next bfloat16 up.
    x = np.array([1 + 2.0**-8 + 2.0**-40, -(1 + 2.0**-8 + 2.0**-40), 1 + 2.0**-8])
    got = tb_cast(x, "bfloat16").astype(np.float64)
    np.testing.assert_array_equal(got, [1 + 2.0**-7, -(1 + 2.0**-7), 1.0])
    # Where the double is a float32 value there is only one rounding either way: equal ml_dtypes.
    f = float32_edge_classes().astype(np.float64)
    same_bits_or_both_nan(tb_cast(f, "bfloat16"), f.astype(np.float32).astype(ml_dtypes.bfloat16))


# ---- every pair, documented semantics -----------------------------------------------------------


@pytest.mark.parametrize("src", NAMES)
def test_every_pair_equals_numpy_on_values_every_type_holds(target, src):
    x = np.array([0, 1, 2, 3, 5, 7, 11, 13, 64, 100, 127] * 7, dtype=np_dtype(src))[:-3]
    for dst in NAMES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            want = x.astype(np_dtype(dst))
        got = tb_cast(x, dst)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want, err_msg=f"{src} -> {dst}")


def test_float_to_int_truncates_in_range_like_numpy():
    rng = np.random.default_rng(2)
    for dst in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]:
        info = np.iinfo(dst)
        lo, hi = float(info.min), float(info.max)
        x = rng.uniform(max(lo, -1e15), min(hi, 1e15), 10_000)
        x = x[(x > lo) & (x < hi)]
        np.testing.assert_array_equal(tb_cast(x, dst), x.astype(dst), err_msg=dst)
        np.testing.assert_array_equal(tb_cast(x.astype(np.float32), dst), x.astype(np.float32).astype(dst))


def test_float_to_int_nan_inf_and_out_of_range_are_defined():
    x = np.array([np.nan, np.inf, -np.inf, 1e30, -1e30, 128.5, -129.5, -0.9, 255.9, 256.0])
    assert tb_cast(x, "int8").tolist() == [0, 127, -128, 127, -128, 127, -128, 0, 127, 127]
    assert tb_cast(x, "uint8").tolist() == [0, 255, 0, 255, 0, 128, 0, 0, 255, 255]
    i64 = np.iinfo(np.int64)
    assert tb_cast(x, "int64").tolist()[:5] == [0, i64.max, i64.min, i64.max, i64.min]
    assert tb_cast(np.float16([np.nan, -np.inf, 65504]), "int16").tolist() == [0, -32768, 32767]


def test_int_to_narrower_int_wraps_like_numpy():
    rng = np.random.default_rng(3)
    x = rng.integers(-(2**62), 2**62, 10_000, dtype=np.int64)
    for dst in ["int8", "int16", "int32", "uint8", "uint16", "uint32", "uint64"]:
        np.testing.assert_array_equal(tb_cast(x, dst), x.astype(dst), err_msg=dst)
    u = rng.integers(0, 2**64, 10_000, dtype=np.uint64)
    np.testing.assert_array_equal(tb_cast(u, "int64"), u.astype(np.int64))


def test_large_integers_to_floats_equal_numpy():
    rng = np.random.default_rng(4)
    x = rng.integers(-(2**63), 2**63 - 1, 10_000, dtype=np.int64) >> rng.integers(0, 63, 10_000)
    for dst in ["float16", "float32", "float64"]:
        np.testing.assert_array_equal(tb_cast(x, dst), x.astype(dst), err_msg=dst)
    u = rng.integers(0, 2**64, 10_000, dtype=np.uint64)
    np.testing.assert_array_equal(tb_cast(u, "float32"), u.astype(np.float32))


def test_complex_to_real_needs_unsafe_and_keeps_the_real_part():
    z = np.array([1.5 + 2j, -3 - 1j, 0j], dtype=np.complex128)
    with pytest.raises(tb.DTypeError, match='cannot cast complex128 to float64 under casting="same_kind"'):
        tb.cast(z, "float64", casting="same_kind")
    np.testing.assert_array_equal(tb_cast(z, "float64", casting="unsafe"), [1.5, -3.0, 0.0])
    np.testing.assert_array_equal(tb_cast(z, "bool"), [True, True, False])


def test_bool_semantics():
    x = np.array([0.0, -0.0, 0.5, np.nan, -2.0])
    assert tb_cast(x, "bool").tolist() == [False, False, True, True, True]
    assert tb_cast(np.array([True, False]), "float16").tolist() == [1.0, 0.0]
    assert tb_cast(np.array([True, False]), "int64").tolist() == [1, 0]


# ---- checked casts ------------------------------------------------------------------------------


def test_checked_names_first_bad_index_and_value():
    x = np.zeros((3, 4))
    x[1, 2] = 1e10
    x[2, 0] = np.nan
    with pytest.raises(
        tb.CastOverflowError, match=r"float64 -> int32: element at index \(1, 2\).* is 1e\+10"
    ):
        tb.cast(x, "int32", checked=True)
    with pytest.raises(OverflowError):
        tb.cast(x, "int32", checked=True)
    x[1, 2] = 0
    with pytest.raises(ValueError, match=r"index \(2, 0\).* is nan"):
        tb.cast(x, "int32", checked=True)


@pytest.mark.parametrize(
    ("values", "src", "dst", "error"),
    [
        ([1, 300], "int64", "int8", OverflowError),
        ([1, -1], "int32", "uint32", OverflowError),
        ([1, 2**63], "uint64", "int64", OverflowError),
        ([1.0, np.inf], "float32", "int64", OverflowError),
        ([1.0, -1.0], "float64", "uint8", OverflowError),
        ([1.0, np.nan], "float16", "int16", ValueError),
        ([1.0, 1e300], "float64", "float32", OverflowError),
        ([1.0, 7e4], "float32", "float16", OverflowError),
        ([1, 70000], "int32", "float16", OverflowError),
        ([1, 1 + 1j], "complex64", "float32", ValueError),
    ],
)
def test_checked_refuses_each_loss_and_writes_nothing(values, src, dst, error):
    x = np.array(values, dtype=src)
    out = np.full(2, 42, dtype=np_dtype(dst))
    with pytest.raises(error, match=r"index \(1,\)"):
        tb.cast_into(x, out, casting="unsafe", checked=True)
    assert out.astype(np.float64).tolist() == [42.0, 42.0]
    tb.cast_into(x, out, casting="unsafe", checked=False)  # unchecked goes through, into `out` itself
    np.testing.assert_array_equal(out, tb_cast(x, dst))
    assert out.astype(np.float64)[0] == 1.0


def test_checked_allows_what_loses_nothing():
    x = np.array([-0.5, 255.9, 1.5, 0.0])
    assert tb_cast(x, "uint8", checked=True).tolist() == [0, 255, 1, 0]
    assert np.isnan(tb_cast(np.array([np.nan]), "float16", checked=True)).all()
    assert tb_cast(np.array([np.inf]), "float32", checked=True).tolist() == [np.inf]
    assert tb_cast(np.array([3 + 0j]), "int8", checked=True).tolist() == [3]


# ---- strides, sources, threads ------------------------------------------------------------------


@pytest.mark.parametrize("dst", ["float16", "bfloat16", "float32", "int16"])
def test_strided_sources_and_destinations(target, dst):
    # float32 data: ml_dtypes rounds float64 -> bfloat16 twice (through float32), tensorbridge once.
    base = np.random.default_rng(5).normal(0, 100, (300, 1200)).astype(np.float32)
    views = [base[::-3, ::2], base.T, base[:, 7], base[::2].T[::-1]]
    for v in views:
        want = v.astype(np_dtype(dst))
        np.testing.assert_array_equal(tb_cast(v, dst), want)
        out = (
            np.zeros((v.shape[1], v.shape[0]), dtype=np_dtype(dst)).T
            if v.ndim == 2
            else np.zeros(v.shape, np_dtype(dst))
        )
        tb.cast_into(v, out, casting="unsafe")
        np.testing.assert_array_equal(out, want)


def test_big_casts_run_in_parallel_and_stream_aligned_output(target):
    # 16 MiB of float32: above the threading threshold; the float64 output (32 MiB) is written with
    # non-temporal stores, the float16 one (8 MiB) is not. Odd lengths exercise the tails.
    x = np.random.default_rng(6).normal(size=(1 << 22) + 3).astype(np.float32)
    for dst in ["float64", "float16", "bfloat16"]:
        t = tb.cast(x, dst)
        assert t.is_contiguous() and t.data_ptr % 64 == 0
        np.testing.assert_array_equal(t.numpy(), x.astype(np_dtype(dst)))
    strided = np.random.default_rng(7).normal(size=(1 << 23) + 6)[1::2]  # 4M float64 at stride 2
    np.testing.assert_array_equal(tb_cast(strided, "complex128"), strided.astype(np.complex128))


def test_accepts_framework_tensors_and_lists():
    import torch

    t = torch.linspace(-3, 3, 13, dtype=torch.float64)
    np.testing.assert_array_equal(tb_cast(t, torch.int8), t.numpy().astype(np.int8))
    assert tb_cast([1.7, -2.2], "int32").tolist() == [1, -2]


def test_cast_into_refuses_read_only_destination():
    out = np.zeros(3, np.float32)
    out.flags.writeable = False
    with pytest.raises((ValueError, BufferError)):
        tb.cast_into(np.ones(3), out, casting="unsafe")


def test_thread_count_setting_and_environment():
    before = tb.num_threads()
    tb.set_num_threads(1)
    assert tb.num_threads() == 1
    x = np.arange(1 << 20, dtype=np.float64)
    np.testing.assert_array_equal(tb_cast(x, "float32"), x.astype(np.float32))
    tb.set_num_threads(0)
    assert tb.num_threads() == before
    env = dict(os.environ, TB_NUM_THREADS="3")
    code = "import tensorbridge as tb; print(tb.num_threads())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="unknown cast target"):
        _ext.set_cast_target("sse9")


# ---- strided sources and the block cache behind fresh outputs -----------------------------------


@pytest.mark.parametrize("step", [2, 3, 4, 5, -1])
@pytest.mark.parametrize(
    "pair",
    [("float64", "float32"), ("float32", "float16"), ("float32", "bfloat16"), ("float16", "float32"),
     ("int64", "float32"), ("uint8", "float32"), ("complex128", "float64"), ("bool", "int16")],
)  # fmt: skip
def test_strided_source_equals_contiguous_bit_for_bit(target, pair, step):
    src_name, dst_name = pair
    rng = np.random.default_rng(abs(step))
    raw = rng.integers(0, 256, size=(3000 * 5 + 16) * np_dtype(src_name).itemsize, dtype=np.uint8)
    if src_name == "bool":
        raw &= 1
    base = raw.view(np_dtype(src_name))
    view = base[1::step][:3000] if step > 0 else base[::-1][:3000]
    got = tb_cast(view, dst_name)
    want = tb_cast(np.ascontiguousarray(view), dst_name)
    assert got.tobytes() == want.tobytes()


def test_fresh_outputs_never_share_memory_with_live_ones():
    """Freed outputs are reused, live ones (also through a NumPy view) never are."""
    x = np.arange(1 << 20, dtype=np.float64)
    kept = tb_cast(x, "float32")  # a NumPy view: keeps its block alive
    for k in range(4):
        y = tb_cast(x + k, "float32")  # each previous y is freed and its block reused
        assert not np.shares_memory(y, kept)
        np.testing.assert_array_equal(y, (x + k).astype(np.float32))
    np.testing.assert_array_equal(kept, x.astype(np.float32))


def test_block_cache_environment_variable():
    code = "import numpy as np, tensorbridge as tb; print(int(tb.cast(np.ones(1 << 20), 'float32').numpy().sum()))"
    for value in ("0", "64M", "1073741824"):
        env = dict(os.environ, TB_BLOCK_CACHE_BYTES=value)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == str(1 << 20)
    env = dict(os.environ, TB_BLOCK_CACHE_BYTES="lots")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert out.returncode != 0
    assert 'TB_BLOCK_CACHE_BYTES="lots" is not a byte count' in out.stderr


def test_cast_into_a_leaf_that_requires_grad_raises_as_copy_does(torch):
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.copy_(torch.zeros(3))  # torch's own in-place copy, the reference
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tb.cast_into(np.zeros(3), w)
    assert w.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        tb.cast_into(np.zeros(2), w[:2])
    with torch.no_grad():  # how parameters are initialised in place
        tb.cast_into(np.arange(3.0), w)
    assert w.tolist() == [0.0, 1.0, 2.0] and w.requires_grad


def test_cast_into_a_tensor_saved_for_backward_makes_backward_raise(torch):
    """h is saved by the product for w's gradient: changing it must make backward() raise, as
    h.copy_() does, instead of giving a gradient computed from the new values."""
    w = torch.ones(3, requires_grad=True)
    h = torch.zeros(3)
    y = (w * h).sum()
    version = h._version
    tb.cast_into(np.array([1.0, 2.0, 3.0]), h)
    assert h.tolist() == [1.0, 2.0, 3.0] and h._version > version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    a = torch.ones(3, requires_grad=True)
    e = a.exp()  # saves its result
    tb.cast_into(np.zeros(3, dtype=np.float32), e)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


def test_cast_into_a_non_leaf_rebases_its_history_as_copy_does(torch):
    """h = a * 2 then overwritten: h no longer depends on a, so a's gradient is zero (torch's
    copy_ records the same), not the 2 of the old history."""
    grads = []
    for write in (lambda h: h.copy_(torch.tensor([5.0, 6.0, 7.0])), lambda h: tb.cast_into([5, 6, 7], h)):
        a = torch.ones(3, requires_grad=True)
        h = a * 2
        write(h)
        assert h.tolist() == [5.0, 6.0, 7.0]
        h.sum().backward()
        grads.append(a.grad.tolist())
    assert grads[1] == grads[0] == [0.0, 0.0, 0.0]

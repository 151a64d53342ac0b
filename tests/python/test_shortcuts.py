"""The per-call fast path of the conversions: the frameworks' zero-copy shortcuts for NumPy arrays
(``_ext.ndarray_shortcut``) describe the array from NumPy's own struct and share only what the
planner (``tb.explain``) says can be aliased as it is; every other array takes the general path
and gets what its plan says. ``tb.to_numpy``... (``_ext.conversion``) route a call with the source
alone to its type's shortcut and keep their signature, docs and pickling by name."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import ml_dtypes
import numpy as np
import pytest
import tensorbridge as tb
from frameworks import address, as_numpy
from tensorbridge import _ext, frameworks

TARGETS = {"numpy": tb.to_numpy, "torch": tb.to_torch, "tensorflow": tb.to_tf, "jax": tb.to_jax}


def _aligned(n: int, dtype: Any) -> np.ndarray:
    """n elements, 64-byte aligned (so TensorFlow and JAX may alias them too)."""
    return tb.to_numpy(tb.asarray(np.zeros(n, dtype=dtype)).copy())


def _misaligned() -> np.ndarray:
    raw = _aligned(40, np.uint8)
    return raw[4:36].view(np.float32)  # 4-byte aligned, not 64


def _read_only() -> np.ndarray:
    a = _aligned(12, np.float32).reshape(3, 4)
    a.flags.writeable = False
    return a


def _zero_strides() -> np.ndarray:  # writable, every row the same memory
    return np.lib.stride_tricks.as_strided(_aligned(4, np.float32), (3, 4), (0, 4), writeable=True)


def _size_one_negative() -> np.ndarray:  # NumPy's buffer export reports a positive stride here
    return _aligned(8, np.float32).reshape(1, 8)[::-1]


def _many_dims() -> np.ndarray:  # more than NumPy 1.x's 32 dimensions
    return _aligned(2, np.float32).reshape((2,) + (1,) * 39)


ARRAYS = {
    **{f"dtype {d}": lambda d=d: _aligned(6, d) for d in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64", "complex64", "complex128", "long", "ulong", "longlong", "ulonglong")},
    "contiguous 2-d": lambda: _aligned(24, np.float32).reshape(4, 6),
    "sliced": lambda: _aligned(24, np.float32).reshape(4, 6)[1:3, 2:5],
    "fortran": lambda: np.asfortranarray(_aligned(24, np.float32).reshape(4, 6)),
    "negative strides": lambda: _aligned(24, np.float32).reshape(4, 6)[::-1, ::-2],
    "size-1 negative stride": _size_one_negative,
    "0-d": lambda: _aligned(1, np.float64).reshape(()),
    "empty": lambda: _aligned(0, np.float32).reshape(0, 5),
    "read-only": _read_only,
    "broadcast (read-only)": lambda: np.broadcast_to(_aligned(6, np.float32), (4, 6)),
    "zero strides, writable": _zero_strides,
    "misaligned": _misaligned,
    "byte-swapped": lambda: _aligned(6, np.float32).astype(">f4"),
    "strides not whole elements": lambda: np.zeros(4, dtype=[("a", np.int8), ("v", np.float32)])["v"],
    "40 dimensions": _many_dims,
    "bfloat16 (ml_dtypes)": lambda: _aligned(6, np.uint16).view(ml_dtypes.bfloat16),
    "long double": lambda: np.zeros(4, dtype=np.longdouble),
    "datetime": lambda: np.zeros(4, dtype="datetime64[s]"),
    "strings": lambda: np.array(["a", "b"]),
}


def _shortcut(target: str) -> Any:
    return _ext.ndarray_shortcut(np.ndarray, frameworks.target(target).limits(), None)


def _plan_or_error(a: np.ndarray, target: str) -> Any:
    try:
        return tb.explain(a, to=target)
    except Exception as e:  # noqa: BLE001 - the conversion must raise the same
        return e


# Where the general path shares although the shortcut does not: NumPy's buffer export (which the
# general path reads) reports a positive stride for a size-1 dimension; NumPy's DLPack export,
# which TensorFlow and JAX read, refuses read-only arrays, which tensorbridge's own export hands
# them; ml_dtypes' bfloat16 is no NumPy type number, and the general path reads its buffer.
GENERAL_PATH_SHARES = {
    ("size-1 negative stride", "torch"), ("read-only", "tensorflow"), ("broadcast (read-only)", "tensorflow"),
    ("read-only", "jax"), *(("bfloat16 (ml_dtypes)", target) for target in TARGETS),
}


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", list(ARRAYS))
def test_a_shortcut_shares_only_what_the_plan_shares(case: str, target: str, torch: Any, tf: Any, jax: Any) -> None:
    a = ARRAYS[case]()
    plan = _plan_or_error(a, target)
    try:
        shared = frameworks.target(target).shortcut(np.ndarray)(a)
    except Exception:  # noqa: BLE001 - the conversion then takes the general path
        shared = None
    if shared is not None:
        assert not isinstance(plan, Exception) and plan.zero_copy, f"{case}: shared, but the plan says {plan}"
        assert not a.size or address(shared) == address(a)
    elif not isinstance(plan, Exception) and plan.zero_copy:
        assert (case, target) in GENERAL_PATH_SHARES, f"{case}: the plan shares, the shortcut does not"


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("case", list(ARRAYS))
def test_every_conversion_does_what_its_plan_says(case: str, target: str, torch: Any, tf: Any, jax: Any) -> None:
    a = ARRAYS[case]()
    plan = _plan_or_error(a, target)
    if isinstance(plan, Exception):
        with pytest.raises(type(plan)):
            TARGETS[target](a)
        return
    out = TARGETS[target](a)
    np.testing.assert_array_equal(as_numpy(out), a)
    if a.size:
        assert (address(out) == address(a)) == plan.zero_copy, f"{case}: {plan}"


def test_a_read_only_array_reaches_torch_as_a_copy(torch: Any) -> None:
    a = _read_only()
    with pytest.warns(UserWarning, match="not writable"):
        assert torch.from_numpy(a).data_ptr() == address(a)  # torch itself would alias it, writable
    t = tb.to_torch(a)
    assert t.data_ptr() != address(a)
    t[0, 0] = 5
    assert a[0, 0] == 0


def test_a_read_only_array_reaches_jax_shared_as_explain_says(jax: Any) -> None:
    a = _aligned(16, np.float32)
    a[3] = 7
    a.flags.writeable = False
    assert tb.explain(a, to="jax").zero_copy
    out = tb.to_jax(a)  # NumPy's own DLPack export refuses it (BufferError): not the user's problem
    assert address(out) == address(a)
    assert float(out[3]) == 7


def test_a_shortcut_takes_only_numpy_ndarray_itself(tmp_path: Any) -> None:
    share = _shortcut("torch")
    with pytest.raises(TypeError, match="numpy.ndarray itself"):
        share(np.memmap(tmp_path / "m", dtype=np.float32, mode="w+", shape=(4,)))
    with pytest.raises(TypeError, match="numpy.ndarray itself"):
        share([1.0, 2.0])
    with pytest.raises(TypeError):
        _ext.ndarray_shortcut("numpy.ndarray", frameworks.target("torch").limits(), None)


def test_torch_imported_after_the_first_conversion_still_takes_its_shortcut() -> None:
    code = textwrap.dedent("""
        import numpy as np, tensorbridge as tb
        assert tb.to_numpy(np.zeros(3)) is not None   # the numpy target learns ndarray first
        import torch
        t = torch.arange(4.0)
        out = tb.to_numpy(t)
        assert type(out) is np.ndarray and out.ctypes.data == t.data_ptr() and out.base is not None
        print(type(out.base).__module__)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "torch"  # Tensor.numpy()'s own array, not a DLPack export


@pytest.mark.parametrize("name", ["to_numpy", "to_torch", "to_tf", "to_jax"])
def test_the_conversions_keep_their_signature_name_and_pickle_by_name(name: str) -> None:
    import inspect
    import pickle

    fn = getattr(tb, name)
    params = inspect.signature(fn).parameters
    assert list(params) == ["x", "dtype", "device", "copy", "casting", "checked"]
    assert all(params[p].kind is inspect.Parameter.KEYWORD_ONLY for p in ("device", "copy", "casting", "checked"))
    assert fn.__name__ == name and name in repr(fn) and "Example" in fn.__doc__
    assert pickle.loads(pickle.dumps(fn)) is fn
    with pytest.raises(TypeError, match="positional"):
        fn(np.zeros(2), None, "cpu")  # device stays keyword-only


def test_a_call_with_the_options_spelt_out_gives_what_the_bare_call_gives(torch: Any) -> None:
    a = _aligned(8, np.float32)
    for out in (tb.to_torch(a), tb.to_torch(a, None, device="cpu", copy=None, casting="same_kind", checked=False),
                tb.convert(a, "torch")):
        assert type(out) is torch.Tensor and out.data_ptr() == address(a)
    assert tb.to_numpy(a) is a and tb.to_numpy(a, copy=None) is a and tb.convert(a, "numpy") is a

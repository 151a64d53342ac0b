"""Arrow interchange against the real pyarrow, polars and pandas (Arrow dtypes): every type round
trips, zero-copy is checked by address, producers are released exactly once, after the last tensor."""

from __future__ import annotations

import datetime as dt
import gc
import os
import subprocess
import sys
import weakref

import numpy as np
import pytest

import tensorbridge as tb

NUMERIC = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"]


def sample(dtype: str, n: int = 7) -> np.ndarray:
    rng = np.random.default_rng(3)
    if dtype.startswith("float"):
        return (rng.standard_normal(n) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_numeric_import_is_zero_copy_and_round_trips(pa, dtype):
    values = sample(dtype)
    arr = pa.array(values)
    t = tb.from_arrow(arr)
    assert t.dtype == dtype and t.read_only
    assert t.data_ptr == arr.buffers()[1].address
    np.testing.assert_array_equal(t.numpy(), values)
    back = pa.array(t)  # and out again, sharing the same memory
    assert back.buffers()[1].address == t.data_ptr
    assert back.equals(arr)


@pytest.mark.parametrize("dtype", NUMERIC + ["bool", "bfloat16"])
def test_tensor_export_round_trips(pa, dtype):
    import ml_dtypes

    values = (np.arange(6) % 2).astype(bool) if dtype == "bool" else (
        np.arange(6, dtype=np.float32).astype(ml_dtypes.bfloat16) if dtype == "bfloat16" else sample(dtype, 6))
    t = tb.asarray(values)
    arr = pa.array(t)
    if dtype not in ("bool", "bfloat16"):
        assert arr.type == pa.from_numpy_dtype(values.dtype)
        assert arr.buffers()[1].address == t.data_ptr
        np.testing.assert_array_equal(arr.to_numpy(), values)
    back = tb.from_arrow(arr)
    if dtype == "bfloat16":  # a bare pyarrow Array keeps no field metadata: the uint16 storage comes back
        assert back.dtype == "uint16"
        back = tb.Tensor._wrap(back._c.view("bfloat16"))
    assert back.dtype == dtype
    np.testing.assert_array_equal(back.numpy(), values)


def test_sliced_array_honours_offset(pa):
    arr = pa.array(np.arange(10, dtype=np.int32))[3:7]
    t = tb.from_arrow(arr)
    np.testing.assert_array_equal(t.numpy(), [3, 4, 5, 6])
    assert t.data_ptr == arr.buffers()[1].address + 3 * 4


def test_bools_with_offset(pa):
    values = [True, False, True, True, False, False, True, False, True, True]
    arr = pa.array(values)[1:]
    np.testing.assert_array_equal(tb.from_arrow(arr).numpy(), values[1:])


def test_nulls_give_a_mask_or_a_fill_value(pa):
    tbl = pa.table({"n": pa.array([1, None, 3], pa.int64()), "f": [1.5, None, 2.5]})
    t = tb.from_arrow(tbl)
    np.testing.assert_array_equal(t.mask("n").numpy(), [True, False, True])
    assert t["n"].data_ptr == tbl["n"].chunk(0).buffers()[1].address  # values still shared
    np.testing.assert_array_equal(t.to_tensor(["n", "f"]).numpy(), [[1, 1.5], [np.nan, np.nan], [3, 2.5]])
    filled = tb.from_arrow(tbl, fill_value=-1)
    assert filled.mask("n") is None
    np.testing.assert_array_equal(filled["n"].numpy(), [1, -1, 3])
    np.testing.assert_array_equal(filled["f"].numpy(), [1.5, -1, 2.5])
    with pytest.raises(tb.InvalidValueError, match="fill_value 0.5 cannot be stored in int64"):
        tb.from_arrow(tbl, fill_value=0.5)


@pytest.mark.parametrize("kind", ["string", "large_string", "string_view"])
def test_strings(pa, kind):
    values = ["a", None, "a longer string than twelve bytes", ""]
    arr = pa.array(values, type=getattr(pa, kind)())
    assert tb.from_arrow(arr) == values
    t = tb.from_arrow(pa.table({"s": arr}))
    assert t["s"] == values
    assert pa.table(t)["s"].to_pylist() == values


def test_dictionary_is_categorical(pa):
    arr = pa.array(["lo", "hi", None, "lo"]).dictionary_encode()
    c = tb.from_arrow(arr)
    assert isinstance(c, tb.Categorical)
    assert c.categories == ["lo", "hi"]
    np.testing.assert_array_equal(c.codes.numpy(), [0, 1, -1, 0])
    t = tb.from_arrow(pa.table({"c": arr}))
    back = pa.table(t)["c"]
    assert back.to_pylist() == ["lo", "hi", None, "lo"]
    assert pa.types.is_dictionary(back.type)


def test_times_are_int64_with_their_unit(pa):
    ts = pa.array([0, 1_000_000, None], pa.timestamp("us", tz="UTC"))
    dur = pa.array([5, 6, 7], pa.duration("ns"))
    day = pa.array([dt.date(1970, 1, 2), dt.date(2000, 1, 1), None])
    t = tb.from_arrow(pa.table({"ts": ts, "dur": dur, "day": day}))
    assert t.time_type("ts") == "datetime64[us]" and t.time_type("dur") == "timedelta64[ns]"
    assert t["ts"].data_ptr == ts.buffers()[1].address
    np.testing.assert_array_equal(t["day"].numpy()[:2], [86400, 946684800])
    assert t.time_type("day") == "datetime64[s]"
    back = pa.table(t)
    assert back["ts"].type == pa.timestamp("us", tz="UTC")
    assert back["ts"].to_pylist() == ts.to_pylist()
    assert back["dur"].to_pylist() == dur.to_pylist()


def test_fixed_size_list_is_a_2d_view_equal_to_np_stack(pa):
    rows = [np.arange(4, dtype=np.float32) + 10 * i for i in range(5)]
    arr = pa.array(rows, pa.list_(pa.float32(), 4))
    t = tb.from_arrow(arr)
    assert t.shape == (5, 4)
    np.testing.assert_array_equal(t.numpy(), np.stack(rows))
    assert t.data_ptr == arr.values.buffers()[1].address
    sliced = tb.from_arrow(arr[2:4])
    np.testing.assert_array_equal(sliced.numpy(), np.stack(rows[2:4]))
    # A 2-D tensor goes out as a FixedSizeList of its rows, without a copy.
    out = pa.array(tb.asarray(np.stack(rows)))
    assert out.type == pa.list_(pa.float32(), 4)
    np.testing.assert_array_equal(np.stack(out.to_numpy(zero_copy_only=False)), np.stack(rows))


def test_chunked_column_one_chunk_shared_several_gathered(pa):
    one = pa.chunked_array([pa.array(np.arange(5.0))])
    t = tb.from_arrow(one)
    assert t.data_ptr == one.chunk(0).buffers()[1].address
    several = pa.chunked_array([pa.array(np.arange(3.0)), pa.array(np.arange(3.0, 8.0))])
    t = tb.from_arrow(several)
    np.testing.assert_array_equal(t.numpy(), np.arange(8.0))
    tbl = pa.Table.from_batches([pa.record_batch({"x": [1, 2]}), pa.record_batch({"x": [3]})])
    np.testing.assert_array_equal(tb.from_arrow(tbl)["x"].numpy(), [1, 2, 3])
    cats = pa.chunked_array([pa.array(["a", "b"]).dictionary_encode(), pa.array(["c", "a"]).dictionary_encode()])
    c = tb.from_arrow(cats)
    assert [c.categories[i] for i in c.codes.numpy()] == ["a", "b", "c", "a"]


def test_record_batch_reader_and_record_batch(pa):
    batch = pa.record_batch({"a": np.arange(4, dtype=np.int16)})
    reader = pa.RecordBatchReader.from_batches(batch.schema, [batch, batch])
    np.testing.assert_array_equal(tb.from_arrow(reader)["a"].numpy(), np.tile(np.arange(4), 2))
    t = tb.from_arrow(batch)
    assert t["a"].data_ptr == batch.column(0).buffers()[1].address


def test_polars(pl, pa):
    df = pl.DataFrame({"a": [1, 2, 3], "x": [0.5, 1.5, None], "s": ["p", "q", None]})
    t = tb.from_arrow(df)
    np.testing.assert_array_equal(t["a"].numpy(), [1, 2, 3])
    np.testing.assert_array_equal(t.mask("x").numpy(), [True, True, False])
    assert t["s"] == ["p", "q", None]
    series = tb.from_arrow(df["a"])
    np.testing.assert_array_equal(series.numpy(), [1, 2, 3])
    back = pl.DataFrame(t)
    assert back.to_dict(as_series=False) == df.to_dict(as_series=False)
    # polars.from_arrow makes a Series of any PyCapsule stream (its rule): a struct per row.
    assert pl.from_arrow(t).struct.unnest().to_dict(as_series=False) == df.to_dict(as_series=False)


def test_a_script_that_gave_polars_a_table_exits_quietly(pl):
    # polars memoises the classes it is handed, which keeps tensorbridge's alive until the
    # interpreter ends; nanobind then printed "nanobind: leaked 1 instances! ..." on every exit.
    script = ("import polars as pl, tensorbridge as tb\n"
              "t = tb.from_arrow(pl.DataFrame({'a': [1.0, 2.0]}))\n"
              "assert pl.DataFrame(t)['a'].to_list() == [1.0, 2.0]\n")
    env = {k: v for k, v in os.environ.items() if k != "TB_LEAK_WARNINGS"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "leaked" not in done.stderr, done.stderr


def test_pandas_arrow_dtypes(pd, pa):
    df = pd.DataFrame({
        "f": pd.array([1.5, 2.5, None], dtype=pd.ArrowDtype(pa.float64())),
        "i": pd.array([1, 2, 3], dtype=pd.ArrowDtype(pa.int32())),
        "s": pd.array(["a", None, "c"], dtype=pd.ArrowDtype(pa.string())),
    })
    t = tb.from_arrow(df)
    np.testing.assert_array_equal(t["i"].numpy(), [1, 2, 3])
    assert t["i"].data_ptr == df["i"].array._pa_array.chunk(0).buffers()[1].address
    np.testing.assert_array_equal(t.mask("f").numpy(), [True, True, False])
    assert t["s"] == ["a", None, "c"]


def test_conversions_accept_arrow_arrays(pa, torch):
    arr = pa.array(np.arange(5, dtype=np.float32))
    n = tb.to_numpy(arr)
    assert n.ctypes.data == arr.buffers()[1].address and not n.flags.writeable
    assert tb.to_torch(arr).data_ptr() != arr.buffers()[1].address  # read-only memory: torch gets a copy
    shared = tb.to_torch(tb.from_arrow(arr, writable=True), copy=False)
    assert shared.data_ptr() == arr.buffers()[1].address
    m = tb.to_numpy(pa.table({"a": [1, 2], "b": [0.5, 1.5]}), dtype="float32")
    np.testing.assert_array_equal(m, np.array([[1, 0.5], [2, 1.5]], np.float32))
    with pytest.raises(tb.DTypeError, match="strings or categories"):
        tb.to_numpy(pa.array(["a"]))


def test_to_tensor_gathers_arrow_columns_with_the_cast(pa):
    rng = np.random.default_rng(0)
    cols = {f"c{i}": rng.standard_normal(1000) for i in range(7)}
    cols["i"] = rng.integers(0, 100, 1000)
    t = tb.from_arrow(pa.table(cols))
    expected = np.stack([cols[k] for k in cols], axis=1).astype(np.float32)
    np.testing.assert_array_equal(t.to_tensor(dtype="float32").numpy(), expected)


def test_producer_released_exactly_once_after_the_last_tensor(pa):
    gc.collect()
    base = pa.total_allocated_bytes()
    arr = pa.array(range(100_000), pa.float64())  # allocated by pyarrow's pool (np.arange would be wrapped)
    assert pa.total_allocated_bytes() > base
    t = tb.from_arrow(arr)
    view = t.numpy()[10:20]
    del arr, t
    gc.collect()
    assert pa.total_allocated_bytes() > base  # the NumPy view keeps the producer
    assert view[0] == 10.0
    del view
    gc.collect()
    assert pa.total_allocated_bytes() == base


def test_numpy_backed_producer_dies_with_the_last_tensor(pa):
    backing = np.arange(1000, dtype=np.int64)
    ref = weakref.ref(backing)
    arr = pa.Array.from_buffers(pa.int64(), 1000, [None, pa.py_buffer(backing)])
    del backing
    t = tb.from_arrow(arr)
    del arr
    gc.collect()
    assert ref() is not None
    torch_free = t.numpy()
    del t
    gc.collect()
    assert ref() is not None
    del torch_free
    gc.collect()
    assert ref() is None


def test_exported_tensor_lives_while_arrow_holds_it(pa):
    values = np.arange(50, dtype=np.float32)
    t = tb.asarray(values.copy())
    arr = pa.array(t)
    del t
    gc.collect()
    np.testing.assert_array_equal(arr.to_numpy(), values)


def test_unsupported_types_are_named_with_the_column(pa):
    tbl = pa.table({"ok": [1, 2], "nested": [{"a": 1}, {"a": 2}]})
    with pytest.raises(tb.DTypeError, match='column "nested": the Arrow type struct is not supported'):
        tb.from_arrow(tbl)
    with pytest.raises(tb.DTypeError, match='column "l": the Arrow type list is not supported'):
        tb.from_arrow(pa.table({"l": [[1], [2, 3]]}))
    with pytest.raises(tb.DTypeError, match="union"):
        tb.from_arrow(pa.UnionArray.from_sparse(pa.array([0, 1], pa.int8()), [pa.array([1, 2]), pa.array([3, 4])]))
    with pytest.raises(tb.DTypeError, match="nulls"):
        tb.from_arrow(pa.array([[1.0, None]], pa.list_(pa.float64(), 2)))


def test_a_consumed_capsule_is_refused(pa):
    schema, array = pa.array([1, 2]).__arrow_c_array__()
    tb._ext.arrow_import_array(schema, array, None, True)
    with pytest.raises(tb.InvalidValueError, match="already consumed"):
        tb._ext.arrow_import_array(schema, array, None, True)


def test_a_stream_that_fails_midway(pa):
    schema = pa.schema([("x", pa.int64())])

    def batches():
        yield pa.record_batch({"x": [1]})
        raise RuntimeError("the source broke")

    reader = pa.RecordBatchReader.from_batches(schema, batches())
    with pytest.raises(tb.ReadError, match="the source broke"):
        tb.from_arrow(reader)


def test_to_tensor_over_many_row_blocks_with_nulls_and_a_fill(pa):
    rng = np.random.default_rng(1)
    n = 50_000  # several row blocks of the parallel gather
    ints = rng.integers(-100, 100, n)
    valid = rng.random(n) > 0.1
    floats = rng.standard_normal(n)
    t = tb.from_arrow(pa.table({"i": pa.array(ints, mask=~valid), "f": floats, "h": floats.astype(np.float16)}))
    expected = np.stack([np.where(valid, ints, -1), floats, floats.astype(np.float16)], 1).astype(np.float32)
    np.testing.assert_array_equal(t.to_tensor(dtype="float32", fill_value=-1).numpy(), expected)
    with_nan = t.to_tensor(["i", "f"]).numpy()
    assert np.isnan(with_nan[~valid, 0]).all() and (with_nan[valid, 0] == ints[valid]).all()

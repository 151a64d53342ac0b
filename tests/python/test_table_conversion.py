"""A DataFrame of mixed column types, or a tb.Table, goes wherever an array goes: one tensor of the
columns' common type (as df.to_numpy() chooses it), gathered and cast in one pass; text and date
columns refused by name; missing values by Table.to_tensor's rule. And prefetch(AUTOTUNE)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import tensorbridge as tb

CONVERSIONS = ["numpy", "torch", "tensorflow", "jax"]


def as_numpy(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else x)


@pytest.mark.parametrize(
    "columns",
    [
        {"a": [1, 2, 3], "b": [4.5, 5.5, 6.5]},  # int + float -> float64
        {"a": [True, False, True], "b": [1, 2, 3]},  # bool + int -> int64
        {"a": np.array([1, 2, 3], dtype=np.int8), "b": np.array([1.5, 2.5, 3.5], dtype=np.float32)},  # float32
        {"a": np.array([1, 2, 3], dtype=np.uint64), "b": [-1, 0, 1]},  # int64 + uint64 -> float64
    ],
)
def test_dataframe_of_mixed_columns_is_their_common_type(columns, torch):
    df = pd.DataFrame(columns)
    # NumPy's promotion of the column types, which df.to_numpy() applies too (except bool + int,
    # where pandas gives an object array: no framework has one, so int64, NumPy's choice)
    want = df.to_numpy().astype(np.result_type(*df.dtypes))
    got = tb.to_numpy(df)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    t = tb.to_torch(df)
    assert str(t.dtype) == f"torch.{want.dtype}"
    np.testing.assert_array_equal(t.numpy(), want)
    assert tb.explain(df, to="numpy").to_dtype == str(want.dtype)
    np.testing.assert_array_equal(tb.asarray(df).numpy(), want)


@pytest.mark.parametrize("to", CONVERSIONS)
def test_table_converts_everywhere(to, torch, tf, jax):
    table = tb.read_csv(io.StringIO("a,b\n1,4.5\n2,5.5\n"))
    got = tb.convert(table, to=to, dtype="float32")
    assert tuple(got.shape) == (2, 2)
    np.testing.assert_array_equal(as_numpy(got), np.array([[1, 4.5], [2, 5.5]], dtype=np.float32))
    fn = {"numpy": tb.to_numpy, "torch": tb.to_torch, "tensorflow": tb.to_tf, "jax": tb.to_jax}[to]
    np.testing.assert_array_equal(as_numpy(fn(table, dtype="float32")), as_numpy(got))


def test_dtype_is_cast_while_gathering_and_explain_says_so(torch):
    df = pd.DataFrame({"a": [1, 2, 3], "b": [4.5, 5.5, 6.5]})
    plan = tb.explain(df, to="torch", dtype="float32")
    assert (plan.from_dtype, plan.to_dtype, plan.lossy) == ("float64", "float32", True)
    assert plan.bytes_to_copy == 3 * 2 * 4  # one pass: only the float32 result is written
    assert "gathered" in str(plan) and "float64 to float32" in str(plan)
    safe = tb.explain(df, to="torch", dtype="float64")
    assert not safe.lossy and safe.bytes_to_copy == 3 * 2 * 8


def test_casting_and_checked_apply_to_the_gather(torch):
    df = pd.DataFrame({"a": [1, 300], "b": [0.5, 1.5]})
    with pytest.raises(tb.DTypeError, match="same_kind"):
        tb.to_torch(df, dtype="uint8")
    with pytest.raises(tb.CastOverflowError, match='column "a", row 1'):
        tb.to_torch(df, dtype="uint8", casting="unsafe", checked=True)


def test_text_and_date_columns_are_refused_by_name(torch):
    text = pd.DataFrame({"x": [1.0, 2.0], "city": ["Oslo", "Lyon"]})
    with pytest.raises(tb.DTypeError, match=r"column 'city' holds strings.*df\[\[\.\.\.\]\].*cat\.codes"):
        tb.to_torch(text)
    dates = pd.DataFrame({"x": [1.0, 2.0], "when": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    with pytest.raises(tb.DTypeError, match=r"column 'when' holds datetime64.*astype\(\"int64\"\)"):
        tb.to_numpy(dates)
    codes = pd.DataFrame({"x": [1.0, 2.0], "kind": pd.Categorical(["a", "b"])})
    with pytest.raises(tb.DTypeError, match=r"categorical pandas column 'kind'; use \.cat\.codes"):
        tb.to_torch(codes)
    table = tb.read_csv(io.StringIO("x,city\n1,Oslo\n2,Lyon\n"))
    with pytest.raises(tb.DTypeError, match="column 'city' holds strings"):
        tb.explain(table, to="tf")
    np.testing.assert_array_equal(tb.to_numpy(table[["x"]]), [[1], [2]])  # the way out works


def test_missing_values_follow_to_tensor(torch):
    df = pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64"), "ok": [True, False, True]})
    got = tb.to_numpy(df)  # int + bool with a missing value: float64 with NaN
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [[1, 1], [np.nan, 0], [3, 1]])
    assert tb.to_torch(df, dtype="float32").dtype.is_floating_point
    with pytest.raises(tb.InvalidValueError, match='column "n" has a missing value at row 1.*fill_value'):
        tb.to_torch(df, dtype="int64")


def test_copy_false_on_a_table():
    gathered = tb.read_csv(io.StringIO("a,b\n1,4.5\n"))
    with pytest.raises(tb.SharingError, match="gathered"):
        tb.to_numpy(gathered, copy=False)
    matrix = tb.read_csv(io.StringIO("a,b\n1,4.5\n2,5.5\n"), dtype="float32")  # read as one matrix
    got = tb.to_numpy(matrix, copy=False)
    assert got.ctypes.data == matrix["a"].data_ptr
    assert tb.explain(matrix, to="numpy").zero_copy


def test_table_list_selection_is_a_table():
    table = tb.read_csv(io.StringIO("a,b,c\n1,2,x\n3,4,y\n"))
    two = table[["b", "a"]]
    assert isinstance(two, tb.Table) and two.columns == ["b", "a"]
    assert two["a"].data_ptr == table["a"].data_ptr  # shares the columns
    one = table[["c"]]
    assert isinstance(one, tb.Table) and one["c"] == ["x", "y"]
    with pytest.raises(KeyError, match="no column named 'z'"):
        table[["a", "z"]]


def test_dataset_from_table_is_a_dict_of_columns():
    table = tb.read_csv(io.StringIO("a,b,y\n1,4.5,0\n2,,1\n3,6.5,0\n"), dtype={"y": "category"})
    ds = tb.Dataset.from_tensor_slices(table)
    assert ds.element_spec == {"a": ("int64", ()), "b": ("float64", ()), "y": ("int32", ())}
    batch = next(iter(ds.batch(3)))
    np.testing.assert_array_equal(batch["a"], [1, 2, 3])
    np.testing.assert_array_equal(batch["b"], [4.5, np.nan, 6.5])
    np.testing.assert_array_equal(batch["y"], [0, 1, 0])
    with pytest.raises(tb.DTypeError, match="column 'c' holds strings"):
        tb.Dataset.from_tensor_slices(tb.read_csv(io.StringIO("a,c\n1,x\n")))


@pytest.mark.parametrize("where", ["buffer_size", "num_threads"])
def test_prefetch_autotune_is_resolved_in_cpp(where, tf):
    ds = tb.Dataset.from_tensor_slices(np.arange(100.0)).batch(10)
    assert tb.AUTOTUNE == tf.data.AUTOTUNE == -1
    tuned = ds.prefetch(tb.AUTOTUNE) if where == "buffer_size" else ds.prefetch(2, num_threads=tf.data.AUTOTUNE)
    depth, threads, _ = tuned._c.resolve_prefetch(*tuned._prefetch)
    if where == "buffer_size":
        assert 2 <= depth <= 4 * tb.num_threads()
    else:
        assert depth == 2 and 1 <= threads <= min(2, tb.num_threads())
    assert [b.tolist() for b in tuned] == [b.tolist() for b in ds.prefetch(0)]
    with pytest.raises(tb.InvalidValueError, match="AUTOTUNE"):
        ds.prefetch(-2)

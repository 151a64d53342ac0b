"""tb.Table.to_tensor (missing values, default dtype, casting), tb.from_dataframe (nullable and
datetime columns), and the data sets built on tables, against pandas' own answers."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import tensorbridge as tb


def nullable_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "i": pd.array([1, None, 3], dtype="Int64"),
        "u": pd.array([7, 8, None], dtype="UInt8"),
        "b": pd.array([True, None, False], dtype="boolean"),
        "x": [0.5, 1.5, 2.5],
    })


# ---------------------------------------------------------------- missing values (never a silent 0)
@pytest.mark.parametrize("dtype", ["Int64", "Int8", "UInt8", "UInt64", "boolean", "Float32"])
def test_nullable_column_gives_nan_in_float_output(dtype):
    values = [True, None, False] if dtype == "boolean" else [1, None, 3]
    df = pd.DataFrame({"c": pd.array(values, dtype=dtype)})
    table = tb.from_dataframe(df)
    expected = df["c"].astype("float64").to_numpy()  # pandas: NaN where missing
    got = table.to_tensor().numpy()
    np.testing.assert_array_equal(got[:, 0], expected)
    assert np.isnan(got[1, 0])
    np.testing.assert_array_equal(np.asarray(tb.to_numpy(df["c"].astype("float64"))), got[:, 0])


def test_nullable_columns_in_one_matrix_follow_pandas():
    df = nullable_frame()
    got = tb.from_dataframe(df).to_tensor().numpy()
    expected = df.astype("float64").to_numpy()
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)  # NaN where missing, equal_nan by default for arrays
    got32 = tb.from_dataframe(df).to_tensor(dtype="float32").numpy()
    np.testing.assert_array_equal(got32, expected.astype(np.float32))


def test_missing_values_into_an_integer_dtype_name_column_row_and_fill_value():
    table = tb.from_dataframe(nullable_frame())
    with pytest.raises(tb.InvalidValueError, match=r'column "i" has a missing value at row 1.*fill_value'):
        table.to_tensor(["i"], dtype="int64")
    with pytest.raises(tb.InvalidValueError, match=r'column "b" has a missing value at row 1'):
        table.to_tensor(["b"], dtype="bool")
    got = table.to_tensor(["i", "u", "b"], fill_value=-1).numpy()
    assert got.dtype == np.int64  # the common type stays when missing values are filled
    np.testing.assert_array_equal(got, [[1, 7, 1], [-1, 8, -1], [3, -1, 0]])
    np.testing.assert_array_equal(table.to_tensor(["i"], fill_value=0.5).numpy(), [[1.0], [0.5], [3.0]])
    with pytest.raises(tb.InvalidValueError, match=r"fill_value -1 cannot be stored in uint8"):
        table.to_tensor(["u"], dtype="uint8", fill_value=-1)
    np.testing.assert_array_equal(table.to_tensor(["u"], dtype="uint8", fill_value=255).numpy()[:, 0], [7, 8, 255])


def test_csv_empty_cells_in_int_and_bool_columns_are_not_zero(tmp_path):
    text = "n,flag,y\n1,True,0\n,False,1\n3,,1\n"
    path = tmp_path / "m.csv"
    path.write_text(text)
    table = tb.read_csv(path, dtype={"n": "int64"})
    frame = pd.read_csv(io.StringIO(text), dtype={"n": "Int64", "flag": "boolean"})
    expected = frame[["n", "flag"]].astype("float64").to_numpy()
    np.testing.assert_array_equal(table.to_tensor(["n", "flag"]).numpy(), expected)
    with pytest.raises(tb.InvalidValueError, match=r'column "n" has a missing value at row 1'):
        table.to_tensor(["n", "flag"], dtype="int32")

    # Inferred: n is float64 with NaN (as pandas), flag is bool with a missing value.
    x, y = next(iter(tb.Dataset.from_csv(path, label="y").batch(3)))
    np.testing.assert_array_equal(x, expected.astype(np.float32))
    np.testing.assert_array_equal(y, [0, 1, 1])
    with pytest.raises(tb.InvalidValueError, match=r'column "flag" has a missing value at row 2'):
        tb.Dataset.from_csv(path, usecols=["flag", "y"], label="y", dtype="int64")
    x, _ = next(iter(tb.Dataset.from_csv(path, usecols=["flag", "y"], label="y", dtype="int64",
                                         fill_value=-1).batch(3)))
    np.testing.assert_array_equal(x, [[1], [0], [-1]])


def test_dataset_from_dataframe_missing_values_and_labels():
    df = nullable_frame()
    x, y = next(iter(tb.Dataset.from_dataframe(df, label="x").batch(3)))
    np.testing.assert_array_equal(x, df[["i", "u", "b"]].astype("float64").to_numpy().astype(np.float32))
    # A nullable label keeps its dtype: its missing value needs fill_value, never a silent 0.
    with pytest.raises(tb.InvalidValueError, match=r'column "i" has a missing value at row 1'):
        tb.Dataset.from_dataframe(df[["x", "i"]], label="i")
    _, y = next(iter(tb.Dataset.from_dataframe(df[["x", "i"]], label="i", fill_value=-1).batch(3)))
    np.testing.assert_array_equal(y, [1, -1, 3])
    assert y.dtype == np.int64


# ---------------------------------------------------------------- the default dtype and casting
@pytest.mark.parametrize("columns", [
    {"a": np.int64([1, 2]), "b": np.float64([1.5, 2])},
    {"a": np.int32([1, 2]), "b": np.float32([1.5, 2])},
    {"a": np.uint64([1, 2]), "b": np.int64([1, 2])},
    {"a": np.int8([1, 2]), "b": np.uint8([1, 200])},
    {"a": np.float32([1, 2]), "b": np.float32([3, 4])},
    {"a": np.int16([1, 2]), "b": np.int64([3, 4])},
])
def test_default_dtype_is_the_columns_common_type(columns):
    df = pd.DataFrame(columns)
    got = tb.from_dataframe(df).to_tensor().numpy()
    assert got.dtype == df.to_numpy().dtype
    np.testing.assert_array_equal(got, df.to_numpy())


def test_bool_and_int_promote_to_int_as_numpy():
    df = pd.DataFrame({"a": [True, False], "b": np.int64([5, 6])})
    got = tb.from_dataframe(df).to_tensor().numpy()
    assert got.dtype == np.result_type(np.bool_, np.int64) == np.int64
    np.testing.assert_array_equal(got, [[1, 5], [0, 6]])


def test_float64_csv_keeps_float64_and_its_values(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n-2.16e69,1\n0.1,2\n")
    table = tb.read_csv(path, dtype="float64")
    got = table.to_tensor().numpy()
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, pd.read_csv(path, dtype="float64").to_numpy())
    inferred = tb.read_csv(path).to_tensor().numpy()  # float64 + int64 -> float64
    np.testing.assert_array_equal(inferred, pd.read_csv(path).to_numpy())


def test_narrower_dtype_follows_casting_and_checked(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n1.5,1\n-2.16e69,2\n")
    table = tb.read_csv(path)
    with pytest.raises(tb.CastOverflowError, match=r'column "a", row 1: .*-2\.16e\+69.*float32'):
        table.to_tensor(dtype="float32", checked=True)
    assert np.isneginf(table.to_tensor(dtype="float32").numpy()[1, 0])  # unchecked: as NumPy's astype
    with pytest.raises(tb.DTypeError, match=r'casting="unsafe"'):
        table.to_tensor(["a"], dtype="int64")
    with pytest.raises(tb.CastOverflowError, match=r'column "a", row 1'):
        table.to_tensor(["a"], dtype="int64", casting="unsafe", checked=True)
    with pytest.raises(tb.DTypeError, match=r'casting="same_kind"'):
        table.to_tensor(["b"], dtype="int8", casting="safe")
    np.testing.assert_array_equal(table.to_tensor(["b"], dtype="int8").numpy()[:, 0], [1, 2])


def test_to_tensor_argument_types_are_checked():
    table = tb.from_dataframe(pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(tb.DTypeError, match="fill_value"):
        table.to_tensor(fill_value="zero")
    with pytest.raises(tb.InvalidValueError, match="casting"):
        table.to_tensor(casting="sometimes")


# ---------------------------------------------------------------- datetime columns, categorical repr
def test_from_dataframe_keeps_datetime_columns_as_int64_with_their_unit():
    df = pd.DataFrame({
        "t": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
        "z": pd.to_datetime(["2024-01-01", "2024-06-01", "2025-01-01"]).tz_localize("Europe/Oslo"),
        "d": pd.to_timedelta(["1s", "2ms", None]),
        "s": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]).astype("datetime64[s]"),
    })
    table = tb.from_dataframe(df)
    assert not any(isinstance(table[c], list) for c in table.columns)  # never strings
    for name in df.columns:
        s = df[name]
        unit = s.dt.unit
        kind = "timedelta64" if s.dtype.kind == "m" else "datetime64"
        assert table.time_type(name) == f"{kind}[{unit}]"
        got = table[name].numpy()
        assert got.dtype == np.int64
        missing = s.isna().to_numpy()
        np.testing.assert_array_equal(got[~missing], s[~missing].astype("int64").to_numpy())
        mask = table.mask(name)
        assert (mask is None) == (not missing.any())
        if mask is not None:
            np.testing.assert_array_equal(mask.numpy(), ~missing)
    assert "t: int64 (datetime64[us])" in repr(table)
    assert table.time_type("s") == "datetime64[s]"
    assert tb.from_dataframe(pd.DataFrame({"a": [1]})).time_type("a") is None


def test_categorical_repr_is_short():
    cats = [f"c{i:04}" for i in range(1001)]
    col = tb.from_dataframe(pd.DataFrame({"c": pd.Categorical(cats)}))["c"]
    text = repr(col)
    assert "1001 categories" in text and "..." in text
    assert text.count("'c") == 10 and len(text) < 200
    assert "'c0000'" in text and "'c1000'" in text
    assert repr(tb.from_dataframe(pd.DataFrame({"c": pd.Categorical(["a", "b"])}))["c"]) == (
        "Categorical(2 rows; 2 categories: ['a', 'b'])")


@pytest.mark.parametrize("dtype", ["Int64", "UInt8", "boolean", "Float32"])
def test_to_numpy_of_nullable_pandas_data_gives_nan_like_to_tensor(dtype):
    values = [True, None, False] if dtype == "boolean" else [1, None, 3]
    s = pd.Series(pd.array(values, dtype=dtype), name="c")
    expected = s.astype("float64").to_numpy()
    for obj in (s, s.to_frame()):
        got = np.asarray(tb.to_numpy(obj)).reshape(-1)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(tb.from_dataframe(s.to_frame()).to_tensor().numpy()[:, 0], expected)
    full = pd.Series(pd.array(values[:1] + values[2:], dtype=dtype))  # no missing value: its own dtype
    assert np.asarray(tb.to_numpy(full)).dtype == full.dtype.numpy_dtype


def test_table_dict_exports_give_nan_for_missing_int_and_bool_values():
    df = nullable_frame()
    table = tb.from_dataframe(df)
    expected = {name: df[name].astype("float64").to_numpy() for name in ("i", "u", "b")}
    got = table.to_numpy()
    for name, want in expected.items():
        assert got[name].dtype == np.float64
        np.testing.assert_array_equal(got[name], want)
    torch_cols = table.to_torch(["b"])
    np.testing.assert_array_equal(torch_cols["b"].numpy(), expected["b"])
    np.testing.assert_array_equal(got["x"], df["x"].to_numpy())  # complete columns keep their dtype
    assert table.to_numpy(["x"])["x"].dtype == np.float64
    full = tb.from_dataframe(pd.DataFrame({"n": pd.array([1, 2], dtype="Int64")}))
    assert full.to_numpy()["n"].dtype == np.int64

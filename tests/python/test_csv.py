"""tb.read_csv / iter_csv / read_csv_tensor / from_dataframe against the real pandas.read_csv and
np.loadtxt, on the CSV files shipped with scikit-learn and on generated CSV."""

from __future__ import annotations

import csv as pycsv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorbridge as tb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SKLEARN_DATA = Path(__import__("sklearn.datasets", fromlist=["x"]).__file__).parent / "data"


def as_numpy(col):
    return np.from_dlpack(col) if isinstance(col, tb.Tensor) else col


def assert_same_as_pandas(table: tb.Table, df: pd.DataFrame) -> None:
    """Same column count, length, dtypes and values (NaN/None where pandas has NaN)."""
    assert len(table) == len(df)
    assert table.num_rows == len(df)
    assert len(table.columns) == len(df.columns)
    for name, label in zip(table.columns, df.columns):
        col, s = table[name], df[label]
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            expected = [None if (isinstance(v, float) and np.isnan(v)) else v for v in s.tolist()]
            if isinstance(col, tb.Tensor):  # typed (e.g. bool) with missing values: pandas says object
                valid = table.mask(name)
                assert valid is not None, name
                col = [v if ok else None for v, ok in zip(as_numpy(col).tolist(), as_numpy(valid).tolist())]
            assert col == expected, name
        else:
            got = as_numpy(col)
            assert got.dtype == s.dtype, (name, got.dtype, s.dtype)
            np.testing.assert_array_equal(got, s.to_numpy(), err_msg=name)


@pytest.mark.parametrize("name", ["iris.csv"])
def test_sklearn_files_with_their_odd_header(name):
    path = SKLEARN_DATA / name
    table = tb.read_csv(path)
    df = pd.read_csv(path)
    assert table.columns == list(df.columns)  # "150", "4", "setosa", ... as pandas reads them
    assert_same_as_pandas(table, df)


@pytest.mark.parametrize("name", ["iris.csv", "wine_data.csv", "breast_cancer.csv"])
def test_sklearn_files_as_matrix_equal_loadtxt(name):
    path = SKLEARN_DATA / name
    for dtype in (np.float64, np.float32):
        got = np.from_dlpack(tb.read_csv(path, skiprows=1, header=None, dtype=dtype).to_tensor(dtype=dtype))
        want = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
        assert got.dtype == dtype and got.shape == want.shape
        if dtype == np.float64:
            np.testing.assert_array_equal(got, want)
        else:  # loadtxt rounds twice (text -> float64 -> float32); we round once
            np.testing.assert_array_max_ulp(got, want.astype(np.float32), maxulp=1)
        tensor = np.from_dlpack(tb.read_csv_tensor(path, dtype=dtype, skiprows=1, header=None))
        np.testing.assert_array_equal(tensor, got)


@pytest.mark.parametrize(("name", "fields"), [("breast_cancer.csv", "4 fields .* found 31"),
                                             ("wine_data.csv", "5 fields .* found 14")])
def test_header_mismatch_says_what_to_do(name, fields):
    # pandas silently turns the extra leading fields into an index; we refuse and say what to pass.
    path = SKLEARN_DATA / name
    with pytest.raises(tb.FormatError, match=rf"{name}:2: expected {fields}.*header=None"):
        tb.read_csv(path)
    table = tb.read_csv(path, skiprows=1, header=None)
    assert_same_as_pandas(table, pd.read_csv(path, skiprows=1, header=None))


@pytest.mark.parametrize("name", ["linnerud_exercise.csv", "linnerud_physiological.csv"])
def test_space_separated(name):
    path = SKLEARN_DATA / name
    assert_same_as_pandas(tb.read_csv(path, sep=" "), pd.read_csv(path, sep=" "))


TEXT = "a,b,c,d,e\n1,x,1.5,True,\n2,\"y,\"\"z\"\"\n w\",NA,False,\n,,-3e5,True,7\n"


def test_inference_missing_values_and_masks_match_pandas():
    table = tb.read_csv(io.StringIO(TEXT))
    df = pd.read_csv(io.StringIO(TEXT))
    assert_same_as_pandas(table, df)
    assert np.from_dlpack(table.mask("b")).tolist() == [True, True, False]
    assert table.mask("c") is None  # floats hold NaN instead


@pytest.mark.parametrize(
    "kwargs",
    [
        {"usecols": ["e", "a"]},
        {"usecols": [3, 0]},
        {"names": list("vwxyz"), "header": 0},
        {"skiprows": 1, "header": None},
        {"na_values": ["x"], "keep_default_na": False},
        {"dtype": {"a": "float32", "b": str}},
        {"dtype": str, "keep_default_na": False},
    ],
)
def test_options_match_pandas(kwargs):
    table = tb.read_csv(io.StringIO(TEXT), **kwargs)
    df = pd.read_csv(io.StringIO(TEXT), **kwargs)
    if kwargs.get("header", "infer") is None:
        df.columns = [str(c) for c in df.columns]
    assert table.columns == list(df.columns)
    assert_same_as_pandas(table, df)


def test_comment_escape_crlf_bom_match_pandas():
    text = "\ufeff# a comment\r\nk,v\r\na\\,b,1 # trailing\r\n\r\n\"q\\\"x\",2\r\n"
    kwargs = {"comment": "#", "escapechar": "\\"}
    table = tb.read_csv(io.BytesIO(text.encode()), **kwargs)
    df = pd.read_csv(io.BytesIO(text.encode()), encoding="utf-8-sig", **kwargs)
    assert table.columns == ["k", "v"]
    assert_same_as_pandas(table, df)


cell = st.one_of(
    # No bare '\r': Python's csv writer leaves it unquoted with lineterminator="\n", and then it
    # ends a line for pandas and for us alike (the C++ tests cover '\r' inside quotes).
    st.text(alphabet='ab ,"\n;é', min_size=1, max_size=8).filter(lambda s: s.strip() != "" and s not in ("a", "b")),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.sampled_from(["", "NA", "nan", "True", "False"]),
)


@st.composite
def tables(draw):
    ncols = draw(st.integers(1, 6))
    nrows = draw(st.integers(1, 25))
    rows = draw(st.lists(st.lists(cell, min_size=ncols, max_size=ncols), min_size=nrows, max_size=nrows))
    return [f"c{j}" for j in range(ncols)], rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["\n", "\r\n"]), st.booleans(), st.sampled_from([1, 3, 17, 1 << 20]),
       st.sampled_from([pycsv.QUOTE_MINIMAL, pycsv.QUOTE_ALL]))
def test_generated_csv_matches_pandas(data, newline, bom, block_size, quoting):
    header, rows = data
    out = io.StringIO()
    w = pycsv.writer(out, lineterminator=newline, quoting=quoting)
    w.writerow(header)
    w.writerows(rows)
    raw = ("\ufeff" if bom else "") + out.getvalue()
    df = pd.read_csv(io.BytesIO(raw.encode()), encoding="utf-8-sig")
    tb.set_num_threads(2)
    table = tb.read_csv(io.BytesIO(raw.encode()), block_size=block_size)
    assert table.columns == header
    assert_same_as_pandas(table, df)


def test_quoted_newlines_across_block_boundaries_in_a_file(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "q.csv"
    rows = [[i, "line1\nline2," * int(rng.integers(0, 4)) + '"', float(i) / 4] for i in range(2000)]
    with open(path, "w", newline="") as f:
        pycsv.writer(f).writerows([["i", "text", "x"], *rows])
    df = pd.read_csv(path)
    for block in (5, 64, 4096):
        assert_same_as_pandas(tb.read_csv(path, block_size=block), df)
        m = np.from_dlpack(tb.read_csv(path, usecols=["i", "x"], dtype="float32", block_size=block).to_tensor())
        np.testing.assert_array_equal(m, df[["i", "x"]].to_numpy(np.float32))


def test_float32_matrix_is_one_buffer_and_columns_view_it():
    table = tb.read_csv(io.StringIO("a,b\n1,2\n3,NA\n"), dtype="float32")
    m = table.to_tensor()
    assert m.dtype == "float32" and m.shape == (2, 2)
    assert m.data_ptr == table["a"].data_ptr  # the columns are views of the matrix
    np.testing.assert_array_equal(np.from_dlpack(table["b"]), np.array([2, np.nan], np.float32))


def test_many_columns_match_loadtxt(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 1000)).round(5)
    path = tmp_path / "wide.csv"
    np.savetxt(path, x, delimiter=",", fmt="%.5f")
    got = np.from_dlpack(tb.read_csv_tensor(path, dtype="float64", header=None))
    np.testing.assert_array_equal(got, np.loadtxt(path, delimiter=","))


def test_iter_csv_batches_concatenate_to_read_csv(tmp_path):
    path = tmp_path / "b.csv"
    pd.DataFrame({"i": np.arange(1003), "f": np.arange(1003) / 8}).to_csv(path, index=False)
    batches = list(tb.iter_csv(path, rows=250))
    assert [len(b) for b in batches] == [250, 250, 250, 250, 3]
    full = tb.read_csv(path)
    np.testing.assert_array_equal(np.concatenate([as_numpy(b["f"]) for b in batches]), as_numpy(full["f"]))


def test_export_to_frameworks(torch):
    table = tb.read_csv(io.StringIO("x,y,s\n1,2.5,a\n2,3.5,b\n"), dtype={"s": "category"})
    cols = table.to_torch()
    assert cols["x"].dtype == torch.int64 and cols["y"].tolist() == [2.5, 3.5]
    assert cols["s"].tolist() == [0, 1]
    arrays = table.to_numpy()
    assert arrays["x"].tolist() == [1, 2]
    with pytest.raises(tb.DTypeError, match="holds strings"):
        tb.read_csv(io.StringIO("s\na\n")).to_torch()
    with pytest.raises(tb.DTypeError, match='"s"'):
        tb.read_csv(io.StringIO("s,x\na,1\n")).to_tensor()


def test_from_dataframe_shares_numeric_columns():
    df = pd.DataFrame({
        "a": np.arange(5, dtype=np.float64), "b": np.arange(5, dtype=np.int32),
        "s": ["p", None, "q", "r", "s"], "c": pd.Categorical(list("xyxzy")),
        "n": pd.array([1, None, 3, 4, 5], dtype="Int64"),
    })
    table = tb.from_dataframe(df)
    assert table.columns == ["a", "b", "s", "c", "n"]
    assert np.shares_memory(np.asarray(table["a"]), df["a"].to_numpy(copy=False))
    assert table["s"] == ["p", None, "q", "r", "s"]
    assert table["c"].categories == ["x", "y", "z"]
    assert np.from_dlpack(table.mask("n")).tolist() == [True, False, True, True, True]
    x = np.from_dlpack(table.to_tensor(["a", "b", "c"]))
    np.testing.assert_array_equal(x, np.column_stack([df["a"], df["b"], df["c"].cat.codes]).astype(np.float32))


@pytest.mark.parametrize(
    ("text", "kwargs", "pattern"),
    [
        ("id,age\n1,2\n3,n/a?\n", {"dtype": "float64"},
         r'<string>:3:2: expected a number in column "age", found "n/a\?"; pass na_values=\["n/a\?"\]'),
        ("a,b\n1,2\n3\n", {}, r"<string>:3: expected 2 fields \(as in the header\) but found 1"),
        ("a,b\n1,\"open\n2,3\n", {}, r"<string>:2:2: unterminated quote"),
        ("", {}, r"<string>: the file is empty"),
        ("a,b\n", {}, r"<string>: the file has a header but no data rows"),
        ("a\n1\n1.5\n", {"dtype": {"a": "int64"}}, r'expected an integer \(int64\) in column "a", found "1.5"'),
    ],
)
def test_bad_input_is_a_format_error_saying_where(text, kwargs, pattern):
    with pytest.raises(tb.FormatError, match=pattern):
        tb.read_csv(io.StringIO(text), **kwargs)


def test_bad_bytes_and_options():
    with pytest.raises(tb.FormatError, match=r'<string>:2:2: invalid UTF-8 in column "b"'):
        tb.read_csv(io.BytesIO(b"a,b\n1,\xff\n"))
    with pytest.raises(ValueError, match="only UTF-8"):
        tb.read_csv(io.StringIO("a\n1\n"), encoding="latin-1")
    with pytest.raises(ValueError, match="quotechar and sep"):
        tb.read_csv(io.StringIO("a\n1\n"), quotechar=",")
    with pytest.raises(tb.ReadError):
        tb.read_csv("/nonexistent/file.csv")


def _hard_numbers(n: int, seed: int) -> list[str]:
    """Decimal texts that are hard to round: float32 and float64 midpoints written with 9-25 digits
    (double-rounding traps), short plain decimals (the fast path), long mantissas with exponents,
    subnormals, signed zeros, and the inf/nan spellings pandas reads as numbers."""
    rng = np.random.default_rng(seed)
    out = ["0", "-0", "-0.0", "1e-45", "7e-46", "1.4e-45", "1e-310", "4.9406564584124654e-324", "3.4028235e38",
           "3.4028236e38", "1.7976931348623157e308", "1e400", "-1e400", "9007199254740993", "16777217",
           "33554435", "1.00000005960464477539062", "1e22", "1e23", "inf", "-inf", "Infinity", "-Infinity",
           "nan", "NaN", ".5", "5.", "-.5", "00012.5000", "123456.789e-3"]
    f32 = rng.integers(0, 0x7F7FFFFF, n, dtype=np.uint32).view(np.float32)
    mids = (f32.astype(np.float64) + np.nextafter(f32, np.float32(np.inf)).astype(np.float64)) / 2
    f64 = rng.integers(0, 0x7FEFFFFFFFFFFFFF, n, dtype=np.uint64).view(np.float64)
    for i in range(n):
        kind = i % 5
        if kind == 0:
            out.append(f"{mids[i]:.{9 + i % 9}g}")
        elif kind == 1:
            out.append(f"{f64[i]:.{16 + i % 6}e}")
        elif kind == 2:
            out.append(f"{rng.integers(-10**9, 10**9) / rng.integers(1, 10**5):.{i % 10}f}")
        elif kind == 3:
            out.append(f"{float(f32[i]):.{6 + i % 4}g}")
        else:
            digits = "".join(rng.choice(list("0123456789"), int(rng.integers(1, 25))))
            out.append(f"{'-' if i % 2 else ''}{digits[:len(digits) // 2]}.{digits[len(digits) // 2:]}e{int(rng.integers(-45, 45))}")
    return out


def _correctly_rounded_float32(text: str) -> np.float32:
    """The float32 nearest to the decimal `text` (ties to even), from exact rational arithmetic: the
    float64 parse then a cast can round twice."""
    from fractions import Fraction

    d = float(text)
    if not np.isfinite(d):
        return np.float32(d)
    exact = Fraction(text)
    if abs(exact) >= Fraction(float(np.finfo(np.float32).max)) + Fraction(2) ** 103:  # halfway to 2^128
        return np.float32(np.inf if d > 0 else -np.inf)
    with np.errstate(over="ignore"):
        guess = np.float32(d)
        if not np.isfinite(guess):
            guess = np.float32(np.finfo(np.float32).max) * np.float32(np.sign(d))
        candidates = (np.nextafter(guess, np.float32(-np.inf)), guess, np.nextafter(guess, np.float32(np.inf)))
    best = None
    for c in candidates:
        if not np.isfinite(c):
            continue
        err = abs(Fraction(float(c)) - exact)
        if best is None or err < best[0] or (err == best[0] and int(c.view(np.uint32)) % 2 == 0):
            best = (err, c)
    return np.float32(best[1])


@pytest.mark.parametrize("block_size", [1 << 20, 777])
def test_matrix_numbers_are_correctly_rounded(tmp_path, block_size):
    texts = _hard_numbers(3000, 1)
    cols = 6
    texts = texts[: len(texts) // cols * cols]
    path = tmp_path / "hard.csv"
    lines = [",".join(f"c{j}" for j in range(cols))]
    lines += [",".join(texts[i:i + cols]) for i in range(0, len(texts), cols)]
    path.write_text("\n".join(lines) + "\n")
    tb.set_num_threads(2)
    got64 = np.from_dlpack(tb.read_csv_tensor(path, dtype="float64", block_size=block_size)).ravel()
    want64 = np.array([float(t) for t in texts])
    np.testing.assert_array_equal(got64.view(np.uint64)[~np.isnan(want64)], want64.view(np.uint64)[~np.isnan(want64)])
    assert np.isnan(got64[np.isnan(want64)]).all()
    # pandas' default float parser reads the same float64 values.
    df = pd.read_csv(path)
    np.testing.assert_array_equal(got64.reshape(-1, cols), df.to_numpy(np.float64))

    got32 = np.from_dlpack(tb.read_csv(path, dtype="float32", block_size=block_size).to_tensor()).ravel()
    want32 = np.array([_correctly_rounded_float32(t) for t in texts], dtype=np.float32)
    nan = np.isnan(want32)
    bad = np.flatnonzero(got32.view(np.uint32)[~nan] != want32.view(np.uint32)[~nan])
    assert bad.size == 0, [(np.array(texts)[~nan][k], got32[~nan][k], want32[~nan][k]) for k in bad[:5]]
    assert np.isnan(got32[nan]).all()


def test_matrix_fast_path_keeps_special_rows_right():
    text = 'a,b,c\r\n1.5,"2.5",3\r\n,NA,nan\r\n\r\n +4,5 ,-0\r\n7,8,9'
    got = np.from_dlpack(tb.read_csv(io.StringIO(text), dtype="float32").to_tensor())
    want = pd.read_csv(io.StringIO(text), dtype=np.float32).to_numpy()
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got[2, 2])


# ---------------------------------------------------------------- integers beyond int64
@pytest.mark.parametrize("text", [
    "a\n12345678901234567891\n12345678901234567893\n",
    "a,b\n1,x\n12345678901234567891,y\n9223372036854775808,z\n18446744073709551615,w\n",
    "a\n+12345678901234567891\n0\n",
])
def test_integers_beyond_int64_are_exact_uint64_as_pandas(text, tmp_path):
    path = tmp_path / "u.csv"
    path.write_text(text)
    df = pd.read_csv(path)
    assert df["a"].dtype == np.uint64
    for block_size in (None, 8):
        table = tb.read_csv(path, block_size=block_size)
        assert_same_as_pandas(table, df)
        got = as_numpy(table["a"])
        assert got.dtype == np.uint64 and got.tolist() == df["a"].tolist()
    assert len(set(as_numpy(tb.read_csv(path)["a"]).tolist())) == len(df)  # no two values collide


@pytest.mark.parametrize(("text", "expected"), [
    ("a\n-1\n12345678901234567891\n", ["-1", "12345678901234567891"]),  # pandas: str
    ("a,b\n12345678901234567891,1\n,2\n", ["12345678901234567891", None]),  # missing: pandas str
    ("a\n99999999999999999999999\n1\n", ["99999999999999999999999", "1"]),  # beyond uint64: object
])
def test_integers_no_one_type_holds_stay_exact_as_strings(text, expected):
    df = pd.read_csv(io.StringIO(text))
    assert not pd.api.types.is_numeric_dtype(df["a"].dtype)  # pandas keeps them exact, not as floats
    assert [None if v == "" or pd.isna(v) else str(v) for v in df["a"].tolist()] == expected
    table = tb.read_csv(io.StringIO(text))
    assert table["a"] == expected
    with pytest.raises(tb.DTypeError, match=r'column "a" holds strings'):
        table.to_tensor(["a"])


def test_integers_beyond_int64_beside_floats_are_float64_as_pandas():
    text = "a\n12345678901234567891\n1.5\n"
    assert_same_as_pandas(tb.read_csv(io.StringIO(text)), pd.read_csv(io.StringIO(text)))
    assert_same_as_pandas(tb.read_csv(io.StringIO("a\n1.5\n12345678901234567891\n")),
                          pd.read_csv(io.StringIO("a\n1.5\n12345678901234567891\n")))


# ---------------------------------------------------------------- thousands=, decimal=, nrows=
THOUSANDS_TEXT = 'id,amount,label\n1,"1,234",a\n2,"1,234,567.5","x,y"\n3,12,b\n4,"-9,876",c\n'
DECIMAL_TEXT = "id;price;name\n1;1,5;a\n2;\"1.234,75\";b\n3;-0,25;c\n4;,5;d\n"


@pytest.mark.parametrize("block_size", [None, 7])
def test_thousands_as_pandas(block_size, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(THOUSANDS_TEXT)
    df = pd.read_csv(path, thousands=",")
    table = tb.read_csv(path, thousands=",", block_size=block_size)
    assert_same_as_pandas(table, df)
    assert table["label"] == ["a", "x,y", "b", "c"]  # text keeps its separators
    matrix = tb.read_csv(path, thousands=",", usecols=["id", "amount"], dtype="float32", block_size=block_size)
    np.testing.assert_array_equal(matrix.to_tensor().numpy(), df[["id", "amount"]].to_numpy(np.float32))
    ints = pd.read_csv(io.StringIO('a\n"1,234"\n"12,34"\n"12,"\n'), thousands=",")
    assert_same_as_pandas(tb.read_csv(io.StringIO('a\n"1,234"\n"12,34"\n"12,"\n'), thousands=","), ints)
    for text in ['a\n",12"\n', 'a\n"1e1,0"\n']:  # no digit before it, or in the exponent: text
        assert_same_as_pandas(tb.read_csv(io.StringIO(text), thousands=","), pd.read_csv(io.StringIO(text), thousands=","))


@pytest.mark.parametrize("block_size", [None, 5])
def test_decimal_comma_with_semicolons_as_pandas(block_size, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(DECIMAL_TEXT)
    df = pd.read_csv(path, sep=";", decimal=",", thousands=".")
    assert_same_as_pandas(tb.read_csv(path, sep=";", decimal=",", thousands=".", block_size=block_size), df)
    got = tb.read_csv(path, sep=";", decimal=",", thousands=".", usecols=["price"], dtype="float64").to_tensor()
    np.testing.assert_array_equal(got.numpy()[:, 0], df["price"].to_numpy())
    plain = pd.read_csv(io.StringIO("a;b\n1,5;1.5\n"), sep=";", decimal=",")  # "1.5" is text then
    assert_same_as_pandas(tb.read_csv(io.StringIO("a;b\n1,5;1.5\n"), sep=";", decimal=","), plain)


@pytest.mark.parametrize("nrows", [0, 1, 3, 4, 100])
def test_nrows_as_pandas(nrows, tmp_path):
    path = tmp_path / "n.csv"
    path.write_text(THOUSANDS_TEXT)
    df = pd.read_csv(path, thousands=",", nrows=nrows)
    table = tb.read_csv(path, thousands=",", nrows=nrows)
    assert table.columns == list(df.columns) and len(table) == len(df)
    if nrows:
        assert_same_as_pandas(table, df)
        m = tb.read_csv(path, usecols=["id"], dtype="float32", nrows=nrows, block_size=4).to_tensor().numpy()
        np.testing.assert_array_equal(m[:, 0], df["id"].to_numpy(np.float32))
    got = [len(b) for b in tb.iter_csv(path, rows=3, nrows=nrows)]
    assert sum(got) == len(df) and all(n <= 3 for n in got)


def test_thousands_decimal_nrows_bad_values_are_clear():
    with pytest.raises(tb.InvalidValueError, match=r"thousands and decimal are both '\.'"):
        tb.read_csv(io.StringIO("a\n1\n"), thousands=".")
    with pytest.raises(tb.InvalidValueError, match=r"decimal must be exactly one character"):
        tb.read_csv(io.StringIO("a\n1\n"), decimal="ab")
    with pytest.raises(tb.DTypeError, match=r"decimal must be a one-character string, not None"):
        tb.read_csv(io.StringIO("a\n1\n"), decimal=None)
    with pytest.raises(tb.InvalidValueError, match=r"nrows must be >= 0, got -1"):
        tb.read_csv(io.StringIO("a\n1\n"), nrows=-1)
    with pytest.raises(tb.DTypeError, match=r"nrows must be an integer"):
        tb.read_csv(io.StringIO("a\n1\n"), nrows=1.5)
    with pytest.raises(tb.InvalidValueError, match=r"thousands cannot be '1'"):
        tb.read_csv(io.StringIO("a\n1\n"), thousands="1")


# ---------------------------------------------------------------- sep=None, argument types, bools
@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_sep_none_detects_the_delimiter_as_pandas(sep, tmp_path):
    text = f'name{sep}x{sep}y\n"a{sep}b"{sep}1{sep}2.5\nc{sep}3{sep}4.5\n'
    path = tmp_path / "s.csv"
    path.write_text(text)
    df = pd.read_csv(path, sep=None, engine="python")
    assert_same_as_pandas(tb.read_csv(path, sep=None), df)
    assert [len(b) for b in tb.iter_csv(path, rows=1, sep=None)] == [1, 1]
    assert_same_as_pandas(tb.read_csv(io.StringIO("x\n1\n2\n"), sep=None), pd.read_csv(io.StringIO("x\n1\n2\n")))


def test_sep_none_refuses_an_ambiguous_file_clearly():
    with pytest.raises(tb.FormatError, match=r"sep=None: cannot detect the delimiter.*pass sep="):
        tb.read_csv(io.StringIO("a,b\n1;2\n"), sep=None)


@pytest.mark.parametrize(("keyword", "value", "error"), [
    ("sep", 5, tb.DTypeError), ("sep", "", tb.InvalidValueError), ("quotechar", 1, tb.DTypeError),
    ("escapechar", b"\\", tb.DTypeError), ("comment", ["#"], tb.DTypeError), ("delimiter", ";;", tb.InvalidValueError),
    ("names", "abc", tb.DTypeError), ("names", 3, tb.DTypeError), ("usecols", "a", tb.DTypeError),
    ("usecols", lambda c: True, tb.DTypeError), ("na_values", 5, tb.DTypeError),
    ("na_values", {"a": ["x"]}, tb.DTypeError), ("keep_default_na", "yes", tb.DTypeError),
    ("skip_blank_lines", None, tb.DTypeError), ("doublequote", 1, tb.DTypeError), ("encoding", 8, tb.DTypeError),
    ("block_size", "1", tb.DTypeError), ("block_size", 0, tb.InvalidValueError), ("nrows", "2", tb.DTypeError),
    ("thousands", 1, tb.DTypeError), ("header", "first", tb.InvalidValueError),
])
def test_read_csv_keywords_of_the_wrong_type_raise_tensorbridge_errors(keyword, value, error):
    with pytest.raises(error, match=keyword) as caught:
        tb.read_csv(io.StringIO("a,b\n1,2\n"), **{keyword: value})
    assert "incompatible function arguments" not in str(caught.value)


def test_bool_dtype_reads_one_and_zero_as_pandas():
    text = "a,b\n1,True\n0,false\n1.0,TRUE\n"
    df = pd.read_csv(io.StringIO(text), dtype={"a": "bool"})
    table = tb.read_csv(io.StringIO(text), dtype={"a": "bool"})
    assert_same_as_pandas(table, df)
    assert as_numpy(table["a"]).tolist() == [True, False, True]
    with pytest.raises(tb.FormatError, match=r'expected a bool in column "a" \(True/False, true/false, TRUE/FALSE or '
                                             r'1/0\), found "2"') as caught:
        tb.read_csv(io.StringIO("a\n1\n2\n"), dtype="bool")
    assert "<string>:3:1" in str(caught.value)


def test_iter_csv_and_read_csv_tensor_name_bad_keywords(tmp_path):
    path = tmp_path / "k.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(tb.DTypeError, match=r"iter_csv: unknown keyword seperator; it takes read_csv's keywords"):
        list(tb.iter_csv(path, seperator=";"))
    with pytest.raises(tb.DTypeError, match=r"read_csv_tensor: unknown keyword"):
        tb.read_csv_tensor(path, rows=3)
    with pytest.raises(tb.DTypeError, match=r"iter_csv: rows must be an integer >= 1"):
        list(tb.iter_csv(path, rows="10"))
    with pytest.raises(tb.InvalidValueError, match=r"iter_csv: rows must be >= 1, got 0"):
        list(tb.iter_csv(path, rows=0))
    np.testing.assert_array_equal(tb.read_csv_tensor(path, sep=None, nrows=1).numpy(), [[1, 2]])


@pytest.mark.parametrize("distinct", [8, 3000, 20000])
def test_text_columns_share_one_str_per_value_unless_nearly_all_differ(distinct):
    # 3000 values over 20000 rows: the first 4096 rows hold ~2300 distinct ones, yet most later rows
    # repeat one, so each value is one shared str; 20000 distinct in 20000 rows: one str per row.
    rng = np.random.default_rng(distinct)
    values = [f"v{k:05d}-{'x' * (k % 13)}" for k in range(distinct)]
    rows = [values[k] for k in rng.integers(0, distinct, 20000)] if distinct < 20000 else values
    text = "s\n" + "\n".join(rows) + "\n"
    got = tb.read_csv(io.StringIO(text))["s"]
    assert got == rows == pd.read_csv(io.StringIO(text))["s"].tolist()
    objects = len({id(s) for s in got})
    assert objects == (len(set(rows)) if distinct < 20000 else 20000)

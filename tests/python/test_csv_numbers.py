"""CSV numbers in every common format are read correctly rounded: float64 bit-exact against
Python's ``float()`` (correctly rounded), float32 against the correctly rounded float32 of the
decimal itself (not of its double: that rounds twice). Each shape goes through the matrix path
(``dtype=``) and the column path (type inference into a Table).

``TB_CSV_NUMBERS=N`` sets the values per shape (default 4000, a few seconds in all); a long run
uses millions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import tensorbridge as tb

COUNT = int(os.environ.get("TB_CSV_NUMBERS") or 4000)
COLS = 4
FLT_MAX_MID = 2.0**128 - 2.0**103  # halfway between float32's largest value and 2^128


def _wide(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    return rng.standard_normal(n) * 10.0 ** rng.uniform(lo, hi, n)


def _float32_midpoints(rng: np.random.Generator, n: int) -> list[str]:
    """Exact float32 midpoints and their neighbours a last digit away: double rounding traps."""
    bits = rng.integers(0, 0x7F7FFFFF, n, dtype=np.uint32)
    f = bits.view(np.float32)
    mid = (f.astype(np.float64) + np.nextafter(f, np.float32(np.inf)).astype(np.float64)) / 2
    out = []
    for m, k in zip(mid, rng.integers(0, 3, n)):
        # nearly the midpoint (17 or 25 digits), or exactly (every digit of it)
        out.append(f"{m:.16e}" if k == 0 else f"{m:.24e}" if k == 1 else str(Decimal(float(m))))
    return out


SHAPES: dict[str, Callable[[np.random.Generator, int], list[str]]] = {
    "to_csv": lambda rng, n: [repr(float(v)) for v in rng.standard_normal(n) * 100],
    "savetxt": lambda rng, n: [f"{v:.18e}" for v in rng.standard_normal(n) * 100],
    "g7": lambda rng, n: [f"{v:.7g}" for v in _wide(rng, n, -8, 8)],
    "g": lambda rng, n: [f"{v:g}" for v in _wide(rng, n, -8, 8)],
    "round6": lambda rng, n: [f"{v:.6f}" for v in (rng.standard_normal(n) * 100).round(6)],
    "int64": lambda rng, n: [str(int(v) // 10 ** int(d)) for v, d in
                             zip(rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64, endpoint=True),
                                 rng.integers(0, 19, n))],
    "uint64": lambda rng, n: [str(int(v)) for v in rng.integers(2**63, 2**64 - 1, n, dtype=np.uint64, endpoint=True)],
    "integers": lambda rng, n: [("-" if neg else "") + "".join(map(str, rng.integers(0, 10, int(k))))
                                for neg, k in zip(rng.integers(0, 2, n), rng.integers(1, 21, n))],
    "long_digits": lambda rng, n: ["".join(map(str, rng.integers(0, 10, int(k)))) + "." + str(int(e))
                                   for k, e in zip(rng.integers(17, 26, n), rng.integers(0, 10**6, n))],
    "tiny_and_subnormal": lambda rng, n: [f"{v:.17g}" for v in np.concatenate(
        [_wide(rng, n // 4, -300, -1), rng.standard_normal(n // 4) * 1e-310,
         _wide(rng, n // 4, -46, -36), _wide(rng, n - 3 * (n // 4), 300, 307)])],
    "float32_midpoints": _float32_midpoints,
}

EDGES = ["0", "-0", "-0.0", "0e0", "1e400", "-1e400", "1e-400", "-1e-400", "4.9406564584124654e-324",
         "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623157e308", "1.7976931348623159e308",
         "9007199254740993", "9007199254740992.5", "18446744073709551615", "18446744073709551616",
         "9999999999999999999", "99999999999999999999", "1.00000005960464477539062", "3.4028235e38",
         "3.4028236e38", f"{FLT_MAX_MID:.17e}", "3.4028235677973366e38", "1.4e-45", "7.006e-46", "7e-46",
         "1.17549435e-38", "0.000000000000000000000000000001", "123456789012345678901234567890e-20", "1E5", "1e+05",
         "-1.5E-05", ".5", "5.", "-.5e1", "+5", "-00012", "00000000000000000001", "-00000000000000000000",
         "-9223372036854775808", "9223372036854775808", "36028797018963971", "16777217"]


def correct_float32(texts: list[str]) -> np.ndarray:
    """The correctly rounded float32 of each decimal text: the float32 of its correctly rounded
    double, except where that double is itself a float32 midpoint (the decimal may lie on either
    side of it, or on it): there exact fractions decide."""
    d = np.array([float(s) for s in texts])
    with np.errstate(over="ignore"):
        f = d.astype(np.float32)  # ties to even, like IEEE rounding
    inf32 = np.float32(np.inf)
    with np.errstate(over="ignore", invalid="ignore"):
        toward = np.nextafter(f, np.where(d > f, inf32, -inf32))
        mid = (f.astype(np.float64) + toward.astype(np.float64)) / 2
    for i in np.flatnonzero((d != f) & (d == mid)):
        x, m = abs(Fraction(texts[i])), abs(Fraction(float(mid[i])))
        if x != m and (x > m) == (abs(f[i]) < abs(toward[i])):
            f[i] = toward[i]
    for i in np.flatnonzero(np.abs(d) == FLT_MAX_MID):  # between float32's largest value and 2^128
        big = abs(Fraction(texts[i])) >= Fraction(FLT_MAX_MID)
        f[i] = np.copysign(inf32 if big else np.finfo(np.float32).max, d[i])
    return f


def write_csv(path: Path, texts: list[str]) -> list[str]:
    """Writes the texts COLS to a row (as many as fill whole rows); returns those written."""
    texts = texts[: len(texts) // COLS * COLS]
    lines = [",".join(f"c{j}" for j in range(COLS))]
    lines += [",".join(texts[i : i + COLS]) for i in range(0, len(texts), COLS)]
    path.write_text("\n".join(lines) + "\n")
    return texts


def check_equal(got: np.ndarray, want: np.ndarray, texts: list[str], what: str) -> None:
    same = (got == want) & (np.signbit(got) == np.signbit(want))
    bad = np.flatnonzero(~same)
    assert bad.size == 0, (f"{what}: {bad.size} of {got.size} differ, first {texts[bad[0]]!r} read as "
                           f"{got[bad[0]]!r}, correctly rounded {want[bad[0]]!r}")


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_number_shape_is_correctly_rounded(shape: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(sorted(SHAPES).index(shape))
    texts = write_csv(tmp_path / "n.csv", SHAPES[shape](rng, COUNT) + EDGES)
    want64 = np.array([float(s) for s in texts])
    want32 = correct_float32(texts)
    for dtype, want in (("float64", want64), ("float32", want32)):
        got = np.from_dlpack(tb.read_csv(tmp_path / "n.csv", dtype=dtype).to_tensor()).ravel()
        check_equal(got, want, texts, f"{shape} -> {dtype} (matrix path)")
    # The column path: each column's type inferred (float64, or int64/uint64/text for whole numbers).
    t = tb.read_csv(tmp_path / "n.csv")
    for j in range(COLS):
        col = t[f"c{j}"]
        column_texts = texts[j::COLS]
        values = np.asarray(col) if isinstance(col, list) else np.from_dlpack(col)
        if values.dtype == np.float64:
            check_equal(values, np.array([float(s) for s in column_texts]), column_texts, f"{shape} column c{j}")
        elif values.dtype.kind in "iu":
            assert [int(v) for v in values] == [int(s) for s in column_texts]
        else:  # integers beyond int64 and uint64 together stay text
            assert [str(v) for v in values] == column_texts


def test_the_float32_reference_rounds_once() -> None:
    # 1 + 2^-24 is the float32 midpoint between 1 and 1 + 2^-23; a hair above it rounds up, but its
    # double is the midpoint itself, which rounds to even (down): float32(float(s)) is wrong here.
    s = "1.00000005960464477539062500001"
    assert float(s) == 1 + 2.0**-24 and np.float32(float(s)) == np.float32(1)
    assert correct_float32([s])[0] == np.nextafter(np.float32(1), np.float32(2))
    assert correct_float32(["1.000000059604644775390625"])[0] == np.float32(1)  # exact midpoint: even


@pytest.mark.parametrize("text", ["1_000", "1.2.3", "--1", "1e", "1e+", "0x10", "1.5e3e", "12345678901234567890x"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_malformed_number_is_an_error_naming_where(text: str, dtype: str, tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n" + "1.5,2\n" * 40 + f"3,{text}\n" + "1.5,2\n" * 40)
    with pytest.raises(tb.FormatError, match=re.escape(f'bad.csv:42:2: expected a number in column "b", found "{text}"')):
        tb.read_csv(p, dtype=dtype)

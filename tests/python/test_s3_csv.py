"""``tb.read_csv`` of an object in S3 (SeaweedFS, started by the ``s3`` fixture) parses rows as the
parts arrive; the table equals the local file's, including types that only later rows decide."""

from __future__ import annotations

import numpy as np
import tensorbridge as tb

BUCKET = "tb-data"
SMALL_PARTS = {"part_size": 16 << 10, "concurrency": 2}  # 32 KiB batches: many pieces


def assert_same_table(a, b) -> None:
    assert a.columns == b.columns
    for name in b.columns:
        x, y = a[name], b[name]
        if isinstance(y, list):
            assert x == y, name
        elif isinstance(y, tb.Categorical):
            assert x.categories == y.categories, name
            np.testing.assert_array_equal(np.asarray(x.codes), np.asarray(y.codes))
        else:
            assert np.asarray(x).dtype == np.asarray(y).dtype, name
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
        mx, my = a.mask(name), b.mask(name)
        assert (mx is None) == (my is None), name
        if my is not None:
            np.testing.assert_array_equal(np.asarray(mx), np.asarray(my))


def test_types_decided_by_late_rows_equal_local(s3, tmp_path):
    lines = ["id,value,flag,name,note"]
    for i in range(6000):
        lines.append(f"{i},{i % 97},{'True' if i % 3 else 'False'},n{i % 7},\"a, \"\"b\"\"\nc{i}\"")
    lines.append("6000,2.5,,text,\"last\"")  # value becomes float64, flag gets a mask, only here
    text = "\n".join(lines) + "\n"
    local = tmp_path / "late.csv"
    local.write_text(text)
    s3.client().put_object(Bucket=BUCKET, Key="csv/late.csv", Body=text.encode())
    remote = tb.read_csv(f"s3://{BUCKET}/csv/late.csv", storage_options={**s3.storage_options, **SMALL_PARTS})
    here = tb.read_csv(local)
    assert_same_table(remote, here)
    assert np.asarray(remote["value"]).dtype == np.float64 and np.asarray(remote["id"]).dtype == np.int64
    cat = tb.read_csv(f"s3://{BUCKET}/csv/late.csv", dtype={"name": "category"},
                      storage_options={**s3.storage_options, **SMALL_PARTS})
    assert_same_table(cat, tb.read_csv(local, dtype={"name": "category"}))

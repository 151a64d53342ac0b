"""Parquet and Arrow IPC files: read_parquet through pyarrow, read_arrow memory-mapped (columns are
views of the file's pages), and data sets over them (an exact shuffle with the RSS of the batches)."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorbridge as tb
from frameworks import rss_file


def _write_ipc(pa, path: Path, table, stream: bool = False, chunk: int | None = None) -> None:
    with pa.OSFile(str(path), "wb") as f:
        writer = pa.ipc.new_stream(f, table.schema) if stream else pa.ipc.new_file(f, table.schema)
        writer.write_table(table, max_chunksize=chunk)
        writer.close()


def test_read_parquet_columns_and_filters(pa, tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": np.arange(6.0), "y": np.arange(6) % 2, "s": list("abcdef")}), path,
                   row_group_size=2)
    t = tb.read_parquet(path, columns=["x", "s"], filters=[("y", "=", 1)])
    assert t.columns == ["x", "s"]
    np.testing.assert_array_equal(t["x"].numpy(), [1.0, 3.0, 5.0])
    assert t["s"] == ["b", "d", "f"]
    m = tb.read_parquet(path, columns=["x", "y"]).to_tensor(dtype="float32")
    np.testing.assert_array_equal(m.numpy(), np.stack([np.arange(6.0), np.arange(6) % 2], 1).astype(np.float32))


def test_read_parquet_folder_of_files(pa, tmp_path):
    # A folder (a data set) goes through pyarrow's data-set reader; one file through its file reader.
    import pyarrow.parquet as pq

    for i in range(2):
        pq.write_table(pa.table({"x": np.arange(3.0) + 3 * i}), tmp_path / f"part{i}.parquet")
    np.testing.assert_array_equal(np.sort(tb.read_parquet(tmp_path)["x"].numpy()), np.arange(6.0))
    np.testing.assert_array_equal(tb.read_parquet(tmp_path / "part1.parquet")["x"].numpy(), [3.0, 4.0, 5.0])


def test_read_parquet_without_pyarrow_names_the_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # what an install without it looks like
    with pytest.raises(ImportError, match="pip install pyarrow=="):
        tb.read_parquet(tmp_path / "t.parquet")


def test_read_arrow_is_a_view_of_the_mapped_file(pa, tmp_path):
    path = tmp_path / "t.arrow"
    x = np.arange(1000, dtype=np.float64)
    _write_ipc(pa, path, pa.table({"x": x, "e": pa.FixedSizeListArray.from_arrays(np.arange(3000, dtype=np.float32), 3)}))
    t = tb.read_arrow(path)
    np.testing.assert_array_equal(t["x"].numpy(), x)
    np.testing.assert_array_equal(t.to_tensor(["e[0]", "e[1]", "e[2]"]).numpy(),
                                  np.arange(3000, dtype=np.float32).reshape(1000, 3))
    # The column is the file's page: a change written to the file shows through it.
    at = path.read_bytes().find(x.tobytes())
    assert at > 0
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, np.float64(-5).tobytes(), at)
    finally:
        os.close(fd)
    assert t["x"].numpy()[0] == -5.0
    assert t["x"].read_only and not t["x"]._c.storage_owned


def test_read_arrow_stream_format_and_compressed_files(pa, tmp_path):
    from pyarrow import feather

    table = pa.table({"a": np.arange(10, dtype=np.int32), "s": [str(i) for i in range(10)]})
    _write_ipc(pa, tmp_path / "s.arrow", table, stream=True, chunk=3)  # what Hugging Face datasets writes
    t = tb.read_arrow(tmp_path / "s.arrow")
    np.testing.assert_array_equal(t["a"].numpy(), np.arange(10))
    assert t["s"] == [str(i) for i in range(10)]
    feather.write_feather(table, tmp_path / "c.feather")  # lz4 by default: decompressed into memory
    np.testing.assert_array_equal(tb.read_arrow(tmp_path / "c.feather", columns=["a"])["a"].numpy(), np.arange(10))


def test_read_arrow_refuses_other_files(pa, tmp_path):
    bad = tmp_path / "bad.arrow"
    bad.write_bytes(b"this is not arrow at all")
    with pytest.raises(tb.FormatError, match="bad.arrow: not an Arrow IPC file or stream"):
        tb.read_arrow(bad)
    with pytest.raises(tb.NotFoundError):
        tb.read_arrow(tmp_path / "missing.arrow")


def test_dataset_from_arrow_and_from_parquet(pa, tmp_path):
    import pyarrow.parquet as pq

    table = pa.table({"a": [1.0, 2.0, 3.0], "b": [4, 5, 6], "y": ["cat", "dog", "cat"]})
    xb, yb = next(iter(tb.Dataset.from_arrow(table, label="y").batch(3)))
    np.testing.assert_array_equal(xb, np.array([[1, 4], [2, 5], [3, 6]], np.float32))
    np.testing.assert_array_equal(yb, [0, 1, 0])
    pq.write_table(table, tmp_path / "t.parquet")
    xb, yb = next(iter(tb.Dataset.from_parquet(tmp_path / "t.parquet", columns=["a", "y"], label="y").batch(3)))
    np.testing.assert_array_equal(xb[:, 0], [1, 2, 3])


def test_from_arrow_files_refuses_strings_and_nulls(pa, tmp_path):
    _write_ipc(pa, tmp_path / "t.arrow", pa.table({"a": [1, None], "s": ["x", "y"]}))
    with pytest.raises(tb.DTypeError, match="column 's' of .* holds strings"):
        tb.Dataset.from_arrow_files(tmp_path / "t.arrow", columns=["s"])
    with pytest.raises(tb.DTypeError, match="column 'a' of .* has nulls"):
        tb.Dataset.from_arrow_files(tmp_path / "t.arrow", columns=["a"])


ROWS, WIDTH = 32768, 1024  # 128 MiB of float32 features, 4 KiB rows


def test_shuffled_epoch_over_mapped_arrow_files_keeps_rss_at_the_batches(pa, tmp_path):
    paths = []
    for part in range(2):  # two files of several record batches each, as shards
        start = part * ROWS // 2
        ids = np.arange(start, start + ROWS // 2, dtype=np.int64)
        feats = np.repeat(ids.astype(np.float32), WIDTH)
        table = pa.table({"x": pa.FixedSizeListArray.from_arrays(feats, WIDTH), "id": ids})
        paths.append(tmp_path / f"part{part}.arrow")
        _write_ipc(pa, paths[-1], table, chunk=4096)
        del table, feats
    ds = tb.Dataset.from_arrow_files([str(p) for p in paths]).shuffle(seed=0).batch(64).prefetch(2)
    seen = np.zeros(ROWS, dtype=np.int64)
    start = rss_file()
    peak = 0
    first = None
    for i, b in enumerate(ds):
        first = b["id"].tolist() if first is None else first
        assert (b["x"] == b["id"][:, None].astype(np.float32)).all()
        seen[b["id"]] += 1
        if i % 8 == 0:
            peak = max(peak, rss_file() - start)
    assert (seen == 1).all(), "every sample exactly once"
    file_bytes = ROWS * WIDTH * 4
    assert max(peak, rss_file() - start) < file_bytes // 16
    again = pickle.loads(pickle.dumps(ds))
    assert next(iter(again))["id"].tolist() == first  # the same files, the same order


def test_hugging_face_datasets_cache_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    import datasets  # pinned in requirements.txt
    emb = np.arange(40, dtype=np.float32).reshape(10, 4)
    hf = datasets.Dataset.from_dict({"emb": list(emb), "label": np.arange(10)},
                                    features=datasets.Features({"emb": datasets.Sequence(datasets.Value("float32"), length=4),
                                                                "label": datasets.Value("int64")}))
    hf.save_to_disk(str(tmp_path / "hf"))
    loaded = datasets.load_from_disk(str(tmp_path / "hf"))
    files = [f["filename"] for f in loaded.cache_files]
    t = tb.from_arrow(loaded.data.table)  # the Arrow table under the Dataset, in memory or mapped
    np.testing.assert_array_equal(t.to_tensor(["emb[0]", "emb[1]", "emb[2]", "emb[3]"]).numpy(), emb)
    ds = tb.Dataset.from_arrow_files(files).shuffle(seed=0).batch(10)
    b = next(iter(ds))
    np.testing.assert_array_equal(b["emb"], emb[b["label"]])
    assert sorted(b["label"].tolist()) == list(range(10))

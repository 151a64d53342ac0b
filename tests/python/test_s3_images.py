"""Image folders and image files in object storage (SeaweedFS, started by the ``s3`` fixture): the
classes of ``s3://bucket/prefix/`` are its sub-prefixes (listed with ListObjectsV2), the images are
fetched by the pipeline's worker threads, and the batches equal the local folder's."""

from __future__ import annotations

import numpy as np
import pytest
import tensorbridge as tb
from PIL import Image

BUCKET = "tb-data"


def make_folder(root, rng) -> list[str]:
    """Small JPEGs and PNGs (the same size) in root/<class>/..., a nested folder, and files that
    are not images; returns the relative paths."""
    files = ["cat/b.jpg", "cat/a.JPG", "cat/sub/z.png", "cat/notes.txt", "dog/1.jpeg", "dog/2.jpg",
             "emu/x.webp", ".hidden/h.jpg", "top.jpg"]
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".txt"):
            path.write_text("not an image")
            continue
        pixels = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
        fmt = {"png": "PNG", "webp": "WEBP"}.get(rel.rsplit(".", 1)[1].lower(), "JPEG")
        Image.fromarray(pixels).save(path, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return files


def upload(s3, root, files, prefix: str) -> None:
    for rel in files:
        s3.client().upload_file(str(root / rel), BUCKET, prefix + rel)


def batches(ds) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(x), np.asarray(y)) for x, y in ds]


def test_image_folder_equals_local(s3, tmp_path):
    root = tmp_path / "train"
    files = make_folder(root, np.random.default_rng(5))
    upload(s3, root, files, "images/train/")
    url = f"s3://{BUCKET}/images/train/"
    remote = tb.Dataset.from_image_folder(url, storage_options=s3.storage_options)
    local = tb.Dataset.from_image_folder(root)
    assert remote.class_names == local.class_names == ["cat", "dog", "emu"]
    assert len(remote) == len(local) == 6
    for make in (lambda ds: ds.batch(4), lambda ds: ds.map(tb.ops.resize((12, 16)), on=0).batch(5)):
        got, want = batches(make(remote)), batches(make(local))
        assert len(got) == len(want)
        for (gx, gy), (wx, wy) in zip(got, want):
            np.testing.assert_array_equal(gx, wx)
            np.testing.assert_array_equal(gy, wy)
    # Without the trailing slash too; the prefix "images/train" must not take "images/train2/".
    upload(s3, root, ["dog/2.jpg"], "images/train2/")
    assert tb.Dataset.from_image_folder(url.rstrip("/"), storage_options=s3.storage_options).class_names == \
        ["cat", "dog", "emu"]


def test_from_files_remote_and_errors(s3, tmp_path):
    root = tmp_path / "f"
    files = make_folder(root, np.random.default_rng(6))
    upload(s3, root, files, "files/")
    chosen = ["dog/2.jpg", "cat/sub/z.png", "emu/x.webp"]
    remote = tb.Dataset.from_files([f"s3://{BUCKET}/files/{f}" for f in chosen], labels=[2, 0, 1],
                                   storage_options=s3.storage_options)
    local = tb.Dataset.from_files([str(root / f) for f in chosen], labels=[2, 0, 1])
    for (gx, gy), (wx, wy) in zip(batches(remote.batch(2)), batches(local.batch(2))):
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)
    # A missing object fails the batch that meets it, naming it; an empty prefix has no classes.
    gone = tb.Dataset.from_files([f"s3://{BUCKET}/files/dog/2.jpg", f"s3://{BUCKET}/files/dog/missing.jpg"],
                                 storage_options=s3.storage_options)
    with pytest.raises(FileNotFoundError, match=r"s3://tb-data/files/dog/missing\.jpg"):
        list(gone.batch(2))
    with pytest.raises(FileNotFoundError, match="no class folders"):
        tb.Dataset.from_image_folder(f"s3://{BUCKET}/nothing-here/", storage_options=s3.storage_options)
    with pytest.raises(FileNotFoundError, match=r"s3://tb-data/files/zz has no images"):
        s3.client().put_object(Bucket=BUCKET, Key="files/zz/readme.txt", Body=b"x")
        tb.Dataset.from_image_folder(f"s3://{BUCKET}/files/", storage_options=s3.storage_options)

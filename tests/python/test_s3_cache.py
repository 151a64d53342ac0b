"""``cache_dir``: remote objects kept in a local folder for later reads (SeaweedFS, started by the
``s3`` fixture, behind a loopback proxy that counts the bytes fetched and can be stopped): a second
read costs a one-byte check, a changed object (new ETag) is fetched again, and with the server
unreachable the cached copy is read."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tensorbridge as tb
from PIL import Image
from tcp_proxy import FaultyProxy

BUCKET = "tb-data"


def npy_bytes(a: np.ndarray) -> bytes:
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


def proxy_for(s3) -> FaultyProxy:
    host, port = s3.endpoint.removeprefix("http://").split(":")
    return FaultyProxy((host, int(port)))


def test_load_second_read_hits_the_cache_and_a_change_is_fetched(s3, tmp_path):
    a = np.arange(200_000, dtype=np.float64)  # 1.6 MB
    s3.client().put_object(Bucket=BUCKET, Key="cache/a.npy", Body=npy_bytes(a))
    url = f"s3://{BUCKET}/cache/a.npy"
    cache = tmp_path / "cache"
    proxy = proxy_for(s3)
    try:
        options = {**s3.storage_options, "endpoint_url": proxy.endpoint, "max_retries": 0}
        np.testing.assert_array_equal(np.asarray(tb.load(url, storage_options=options, cache_dir=cache)), a)
        first = proxy.response_bytes
        assert first > a.nbytes
        np.testing.assert_array_equal(np.asarray(tb.load(url, storage_options=options, cache_dir=cache)), a)
        assert proxy.response_bytes - first < 4_096  # a one-byte ranged GET: headers only
        # A new version (new ETag) is fetched again.
        b = a[::-1].copy()
        s3.client().put_object(Bucket=BUCKET, Key="cache/a.npy", Body=npy_bytes(b))
        before = proxy.response_bytes
        np.testing.assert_array_equal(np.asarray(tb.load(url, storage_options=options, cache_dir=cache)), b)
        assert proxy.response_bytes - before > b.nbytes
        assert len(list(cache.glob("*.bin"))) == 1  # the old version's file is gone
        # The server unreachable: the cached copy is read; without the cache the read fails.
        proxy.close()
        np.testing.assert_array_equal(
            np.asarray(tb.load(url, storage_options={**options, "cache_dir": str(cache)})), b)
        with pytest.raises(OSError, match=r"s3://tb-data/cache/a\.npy"):
            tb.load(url, storage_options=options)
    finally:
        proxy.close()


def test_datasets_read_from_the_cache_when_the_server_is_gone(s3, tmp_path):
    x = np.arange(60, dtype=np.float32).reshape(20, 3)
    s3.client().put_object(Bucket=BUCKET, Key="cache/ds/x.npy", Body=npy_bytes(x))
    pixels = np.random.default_rng(8).integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    jpeg = io.BytesIO()
    Image.fromarray(pixels).save(jpeg, format="JPEG", quality=90)
    for cls in ("a", "b"):
        s3.client().put_object(Bucket=BUCKET, Key=f"cache/img/{cls}/0.jpg", Body=jpeg.getvalue())
    cache = tmp_path / "cache"
    proxy = proxy_for(s3)
    try:
        options = {**s3.storage_options, "endpoint_url": proxy.endpoint, "max_retries": 0}
        ds = tb.Dataset.from_npy(f"s3://{BUCKET}/cache/ds/x.npy", storage_options=options, cache_dir=cache)
        images = tb.Dataset.from_image_folder(f"s3://{BUCKET}/cache/img/", storage_options=options, cache_dir=cache)
        first = [np.asarray(b) for b in ds.batch(8)]
        epoch1 = [(np.asarray(b[0]), np.asarray(b[1])) for b in images.batch(2)]
        fetched = proxy.response_bytes
        epoch2 = [(np.asarray(b[0]), np.asarray(b[1])) for b in images.batch(2)]
        assert proxy.response_bytes - fetched < 2 * 4_096  # two one-byte checks
        proxy.close()
        # Later epochs and new data sets over the same objects need no server.
        epoch3 = [(np.asarray(b[0]), np.asarray(b[1])) for b in images.batch(2)]
        for e in (epoch2, epoch3):
            for (gx, gy), (wx, wy) in zip(e, epoch1):
                np.testing.assert_array_equal(gx, wx)
                np.testing.assert_array_equal(gy, wy)
        again = tb.Dataset.from_npy(f"s3://{BUCKET}/cache/ds/x.npy", storage_options=options, cache_dir=cache)
        np.testing.assert_array_equal(np.concatenate([np.asarray(b) for b in again.batch(8)]), np.concatenate(first))
    finally:
        proxy.close()

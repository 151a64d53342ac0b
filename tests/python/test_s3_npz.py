"""``.npz`` archives in object storage (SeaweedFS, started by the ``s3`` fixture): opening reads the
archive's tail (end records and central directory), and a member costs only its own bytes, counted
by a loopback proxy between the reader and the server; results equal the local archive's."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import tensorbridge as tb
from tcp_proxy import FaultyProxy

BUCKET = "tb-data"


@pytest.mark.parametrize("compress", [False, True])
def test_member_read_fetches_only_that_member(s3, tmp_path, compress):
    rng = np.random.default_rng(17)
    arrays = {"a": rng.random(1 << 20), "b": rng.integers(0, 1 << 40, size=1 << 20), "c": np.arange(10.0)}  # 8 MB each
    local = tmp_path / "big.npz"
    (np.savez_compressed if compress else np.savez)(local, **arrays)
    key = f"npz/big-{compress}.npz"
    s3.client().upload_file(str(local), BUCKET, key)
    with zipfile.ZipFile(local) as z:
        member = {i.filename: i.compress_size for i in z.infolist()}
    host, port = s3.endpoint.removeprefix("http://").split(":")
    proxy = FaultyProxy((host, int(port)))
    try:
        options = {**s3.storage_options, "endpoint_url": proxy.endpoint}
        with tb.load(f"s3://{BUCKET}/{key}", storage_options=options) as f, tb.load(local) as g:
            opened = proxy.response_bytes
            # The first 64 KiB (size + ETag request) and the last 64 KiB (end records + directory).
            assert f.files == g.files == ["a", "b", "c"]
            assert opened < 2 * 65_536 + 8_192, opened
            b = np.asarray(f["b"])
            fetched = proxy.response_bytes - opened
            np.testing.assert_array_equal(b, np.asarray(g["b"]))
            np.testing.assert_array_equal(b, arrays["b"])
            # Member b's bytes plus its local and .npy headers and the HTTP response headers:
            # nothing of the two other members (8 MB for a).
            assert member["b.npy"] <= fetched < member["b.npy"] + 32_768, (fetched, member)
            np.testing.assert_array_equal(np.asarray(f["c"]), arrays["c"])
            assert f.header("a").shape == [1 << 20]
            assert proxy.response_bytes - opened - fetched < 65_536  # c and a's header: small
    finally:
        proxy.close()


def test_damaged_member_is_a_crc_error_over_s3(s3, tmp_path):
    local = tmp_path / "d.npz"
    np.savez(local, x=np.arange(1000.0), y=np.ones(3))
    data = bytearray(local.read_bytes())
    with zipfile.ZipFile(local) as z:
        info = z.getinfo("x.npy")
    at = info.header_offset
    start = at + 30 + int.from_bytes(data[at + 26:at + 28], "little") + int.from_bytes(data[at + 28:at + 30], "little")
    data[start + 128 + 8 * 10 + 6] ^= 0x10  # element 10 of x (after the 128-byte .npy header): 10.0 -> 20.0
    s3.client().put_object(Bucket=BUCKET, Key="npz/damaged.npz", Body=bytes(data))
    with tb.load(f"s3://{BUCKET}/npz/damaged.npz", storage_options=s3.storage_options) as f:
        np.testing.assert_array_equal(np.asarray(f["y"]), np.ones(3))
        with pytest.raises(ValueError, match=r"s3://tb-data/npz/damaged.npz:x.npy.*CRC-32 mismatch"):
            f["x"]
    with tb.load(f"s3://{BUCKET}/npz/damaged.npz", storage_options=s3.storage_options, verify_crc=False) as f:
        assert np.asarray(f["x"])[10] == 20.0

"""Object storage (s3:// and http:// paths) against a real S3 server on loopback (SeaweedFS,
started by the ``s3`` fixture in conftest.py): every path-taking function gives what it gives for
the same local file; failures are clear errors without secrets."""

from __future__ import annotations

import io
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tensorbridge as tb
from s3_server import SECRET
from tcp_proxy import FaultyProxy

BUCKET = "tb-data"
SMALL_PARTS = {"part_size": 64 << 10, "concurrency": 4}


def put(s3, key: str, data: bytes, bucket: str = BUCKET) -> str:
    s3.client().put_object(Bucket=bucket, Key=key, Body=data)
    return f"s3://{bucket}/{key}"


def npy_bytes(a: np.ndarray) -> bytes:
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


def get(s3, key: str) -> bytes:
    return s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()


def exists(s3, key: str) -> bool:
    return any(o["Key"] == key for o in s3.client().list_objects_v2(Bucket=BUCKET, Prefix=key).get("Contents", []))


@pytest.mark.parametrize("key", ["plain.npy", "a folder/with space é ü 数据.npy", "x+y=z&w;(1).npy"])
def test_load_npy_equals_local(s3, tmp_path, key):
    a = np.arange(60_000, dtype=np.float64).reshape(300, 200)
    local = tmp_path / "a.npy"
    np.save(local, a)
    path = put(s3, key, local.read_bytes())
    remote = tb.load(path, storage_options=s3.storage_options)
    np.testing.assert_array_equal(np.asarray(remote), np.asarray(tb.load(local)))
    assert tb.read_npy_header(path, storage_options=s3.storage_options).shape == [300, 200]


def test_load_fortran_bigendian_and_structured(s3):
    f = np.asfortranarray(np.arange(12, dtype=">i4").reshape(3, 4))
    np.testing.assert_array_equal(np.asarray(tb.load(put(s3, "f.npy", npy_bytes(f)), storage_options=s3.storage_options)), f)
    rec = np.array([(1, 2.5), (3, 4.5)], dtype=[("a", "<i8"), ("b", "<f4")])
    cols = tb.load(put(s3, "rec.npy", npy_bytes(rec)), storage_options=s3.storage_options)
    assert np.asarray(cols["a"]).tolist() == [1, 3] and np.asarray(cols["b"]).tolist() == [2.5, 4.5]


def test_large_object_in_many_parts(s3):
    a = np.random.default_rng(1).integers(0, 1 << 30, size=1_000_000, dtype=np.int32)  # 4 MB: 62 parts
    path = put(s3, "big/many-parts.npy", npy_bytes(a))
    np.testing.assert_array_equal(np.asarray(tb.load(path, storage_options={**s3.storage_options, **SMALL_PARTS})), a)


def test_npz_members(s3, tmp_path):
    local = tmp_path / "d.npz"
    np.savez_compressed(local, x=np.arange(10.0), y=np.eye(3, dtype=np.int8))
    path = put(s3, "d.npz", local.read_bytes())
    with tb.load(path, storage_options=s3.storage_options) as f, tb.load(local) as g:
        assert f.files == g.files == ["x", "y"]
        for k in f.files:
            np.testing.assert_array_equal(np.asarray(f[k]), np.asarray(g[k]))


def test_save_and_load_round_trip(s3):
    small = np.arange(1000, dtype=np.int16)
    tb.save(f"s3://{BUCKET}/out/small.npy", small, storage_options=s3.storage_options)
    np.testing.assert_array_equal(np.load(io.BytesIO(get(s3, "out/small.npy"))), small)
    # 12 MB in 5 MiB parts: a multipart upload of 3 parts.
    big = np.random.default_rng(2).random(1_500_000)
    opts = {**s3.storage_options, "part_size": 5 << 20, "multipart_threshold": 1 << 20}
    tb.save(f"s3://{BUCKET}/out/big.npy", big, storage_options=opts)
    assert get(s3, "out/big.npy") == npy_bytes(big)
    assert s3.client().head_object(Bucket=BUCKET, Key="out/big.npy")["ETag"].endswith('-3"')
    np.testing.assert_array_equal(np.asarray(tb.load(f"s3://{BUCKET}/out/big.npy", storage_options=opts)), big)
    tb.save_npz(f"s3://{BUCKET}/out/d.npz", {"a": small, "b": big[:10]}, storage_options=s3.storage_options)
    with np.load(io.BytesIO(get(s3, "out/d.npz"))) as f:
        np.testing.assert_array_equal(f["a"], small)
        np.testing.assert_array_equal(f["b"], big[:10])


def test_read_csv_and_iter_csv_equal_local(s3, tmp_path):
    rng = np.random.default_rng(3)
    local = tmp_path / "t.csv"
    data = rng.random((5000, 4))
    np.savetxt(local, data, delimiter=",", header="a,b,c,d", comments="")
    path = put(s3, "tables/t.csv", local.read_bytes())
    opts = {**s3.storage_options, **SMALL_PARTS}
    remote, here = tb.read_csv(path, storage_options=opts), tb.read_csv(local)
    for name in "abcd":
        np.testing.assert_array_equal(np.asarray(remote[name]), np.asarray(here[name]))
    got = np.concatenate([np.asarray(t["b"]) for t in tb.iter_csv(path, rows=700, storage_options=opts)])
    np.testing.assert_array_equal(got, np.asarray(here["b"]))
    np.testing.assert_array_equal(np.asarray(tb.read_csv_tensor(path, "float64", storage_options=opts)),
                                  np.asarray(tb.read_csv_tensor(local, "float64")))
    # Compressed text streams through the read-ahead source.
    import gzip

    gz = put(s3, "tables/t.csv.gz", gzip.compress(local.read_bytes()))
    np.testing.assert_array_equal(np.asarray(tb.read_csv(gz, storage_options=opts)["d"]), np.asarray(here["d"]))


def test_dataset_from_npy_and_csv(s3, tmp_path):
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20, dtype=np.int64)
    paths = (put(s3, "ds/x.npy", npy_bytes(x)), put(s3, "ds/y.npy", npy_bytes(y)))
    batches = list(tb.Dataset.from_npy(paths, storage_options=s3.storage_options).batch(8))
    np.testing.assert_array_equal(np.concatenate([np.asarray(b[0]) for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([np.asarray(b[1]) for b in batches]), y)
    csv = put(s3, "ds/t.csv", b"f1,f2,label\n1,2,cat\n3,4,dog\n5,6,cat\n")
    xb, yb = next(iter(tb.Dataset.from_csv(csv, label="label", storage_options=s3.storage_options).batch(3)))
    assert np.asarray(xb).tolist() == [[1, 2], [3, 4], [5, 6]] and np.asarray(yb).tolist() == [0, 1, 0]


def test_credentials_from_environment(s3, monkeypatch):
    path = put(s3, "env.npy", npy_bytes(np.arange(3)))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint)
    assert np.asarray(tb.load(path)).tolist() == [0, 1, 2]


def test_credentials_from_profile_file(s3, tmp_path, monkeypatch):
    path = put(s3, "profile.npy", npy_bytes(np.arange(4)))
    creds, config = tmp_path / "credentials", tmp_path / "config"
    creds.write_text(f"[default]\naws_access_key_id = wrong\n\n[dev]\naws_access_key_id = {s3.key}\n"
                     f"aws_secret_access_key = {s3.secret}\n")
    config.write_text(f"[profile dev]\nregion = us-east-1\nendpoint_url = {s3.endpoint}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert np.asarray(tb.load(path, storage_options={"profile": "dev"})).tolist() == [0, 1, 2, 3]
    monkeypatch.setenv("AWS_PROFILE", "dev")
    assert np.asarray(tb.load(path)).tolist() == [0, 1, 2, 3]


def test_credentials_from_botocore_when_nothing_else_has_them(s3, tmp_path, monkeypatch):
    # credential_process is a botocore-only source: tensorbridge's own chain finds nothing, and
    # the Python layer passes botocore's resolved credentials down.
    path = put(s3, "botocore.npy", npy_bytes(np.arange(2)))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint)
    for secret in (s3.secret, "wrong-botocore-secret"):
        script = tmp_path / "creds.py"
        script.write_text("import json\nprint(json.dumps({'Version': 1, "
                          f"'AccessKeyId': {s3.key!r}, 'SecretAccessKey': {secret!r}}}))\n")
        config = tmp_path / "config"
        config.write_text(f"[default]\ncredential_process = {sys.executable} {script}\n")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        if secret == s3.secret:
            assert np.asarray(tb.load(path)).tolist() == [0, 1]
        else:
            with pytest.raises(PermissionError, match=r"credentials from botocore \(custom-process\)") as e:
                tb.load(path)
            assert secret not in str(e.value)


def test_wrong_secret_is_permission_error_without_the_secret(s3):
    path = put(s3, "secret.npy", npy_bytes(np.arange(3)))
    wrong = "WRONG-secret-value-123"
    with pytest.raises(PermissionError) as e:
        tb.load(path, storage_options={**s3.storage_options, "secret": wrong})
    message = str(e.value)
    assert isinstance(e.value, tb.AccessDeniedError)
    assert "SignatureDoesNotMatch" in message and "403" in message and path in message
    assert "storage_options" in message  # where the credentials came from
    assert wrong not in message and SECRET not in message
    with pytest.raises(PermissionError, match="InvalidAccessKeyId") as e:  # a token the server never issued
        tb.load(path, storage_options={**s3.storage_options, "token": "TOKEN-value-456"})
    assert "TOKEN-value-456" not in str(e.value) and SECRET not in str(e.value)
    with pytest.raises(PermissionError):
        tb.save(f"s3://{BUCKET}/denied.npy", np.arange(3), storage_options={**s3.storage_options, "secret": wrong})
    assert not exists(s3, "denied.npy")
    r = repr(tb.storage_options_of({**s3.storage_options, "token": "TOKEN-value-456"}))
    assert SECRET not in r and "TOKEN-value-456" not in r and s3.key in r


def test_missing_key_and_bucket_are_file_not_found(s3):
    with pytest.raises(FileNotFoundError, match="NoSuchKey"):
        tb.load(f"s3://{BUCKET}/no/such/key.npy", storage_options=s3.storage_options)
    with pytest.raises(FileNotFoundError, match="NoSuchBucket"):
        tb.load("s3://no-such-bucket/key.npy", storage_options=s3.storage_options)
    with pytest.raises(FileNotFoundError):
        tb.read_csv(f"s3://{BUCKET}/missing.csv", storage_options=s3.storage_options)


def test_unknown_storage_option_is_named(s3):
    with pytest.raises(ValueError, match="unknown option 'secret_key'"):
        tb.load(f"s3://{BUCKET}/x.npy", storage_options={"secret_key": "x"})


def test_retries_after_slowdown_and_dropped_connections(s3):
    a = np.arange(200_000, dtype=np.int64)
    key = "retry.npy"
    put(s3, key, npy_bytes(a))
    host, port = s3.endpoint.removeprefix("http://").split(":")
    for mode in ("503", "drop"):
        proxy = FaultyProxy((host, int(port)), fail_first=3, mode=mode)
        try:
            opts = {**s3.storage_options, "endpoint_url": proxy.endpoint, "retry_base_seconds": 0.01, **SMALL_PARTS}
            np.testing.assert_array_equal(np.asarray(tb.load(f"s3://{BUCKET}/{key}", storage_options=opts)), a)
            assert proxy.failed == 3
        finally:
            proxy.close()
    # More failures than retries: an error naming the URL, the status and S3's code.
    proxy = FaultyProxy((host, int(port)), fail_first=100, mode="503")
    try:
        opts = {**s3.storage_options, "endpoint_url": proxy.endpoint, "retry_base_seconds": 0.01, "max_retries": 2}
        with pytest.raises(OSError, match=r"s3://tb-data/retry.npy.*503 SlowDown") as e:
            tb.load(f"s3://{BUCKET}/{key}", storage_options=opts)
        assert proxy.failed == 3 and SECRET not in str(e.value)
    finally:
        proxy.close()


def test_server_gone_mid_read_and_mid_write(s3):
    a = np.random.default_rng(4).random(500_000)  # 4 MB
    key = "midread.npy"
    put(s3, key, npy_bytes(a))
    host, port = s3.endpoint.removeprefix("http://").split(":")
    proxy = FaultyProxy((host, int(port)), cut_after=1 << 20)
    opts = {**s3.storage_options, "endpoint_url": proxy.endpoint, "retry_base_seconds": 0.01, "max_retries": 2,
            "connect_timeout": 1, **SMALL_PARTS}
    try:
        with pytest.raises(OSError, match=r"s3://tb-data/midread.npy.*attempt") as e:
            tb.load(f"s3://{BUCKET}/{key}", storage_options=opts)
        assert not isinstance(e.value, (PermissionError, FileNotFoundError))
    finally:
        proxy.close()
    # A multipart save that loses the server half way leaves nothing visible.
    proxy = FaultyProxy((host, int(port)), cut_after=8 << 20, count_requests=True)  # inside part 2
    opts = {**opts, "endpoint_url": proxy.endpoint, "part_size": 5 << 20, "multipart_threshold": 1 << 20}
    try:
        with pytest.raises(OSError):
            tb.save(f"s3://{BUCKET}/out/partial.npy", np.zeros(3_000_000), storage_options=opts)
    finally:
        proxy.close()
    assert not exists(s3, "out/partial.npy")


def test_listing_more_than_1000_keys(s3):
    client = s3.client()
    keys = [f"many/k{i:05d} é.txt" for i in range(1100)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=BUCKET, Key=k, Body=b"x"), keys))
    found = tb.list_objects(f"s3://{BUCKET}/many/", storage_options=s3.storage_options)
    assert [p for p, _, _ in found] == [f"s3://{BUCKET}/{k}" for k in sorted(keys)]
    assert all(size == 1 and etag.startswith('"') for _, size, etag in found)


def test_anonymous_read_of_public_bucket(s3):
    a = np.arange(5, dtype=np.uint8)
    path = put(s3, "open.npy", npy_bytes(a), bucket="public-data")
    got = tb.load(path, storage_options={"anon": True, "endpoint_url": s3.endpoint})
    assert np.asarray(got).tolist() == a.tolist()
    # Plain HTTP URLs (no signing) read the same object.
    assert np.asarray(tb.load(f"{s3.endpoint}/public-data/open.npy")).tolist() == a.tolist()
    # The private bucket refuses anonymous readers, saying so.
    put(s3, "private.npy", npy_bytes(a))
    with pytest.raises(PermissionError, match=r"anonymous access \(anon=True\)"):
        tb.load(f"s3://{BUCKET}/private.npy", storage_options={"anon": True, "endpoint_url": s3.endpoint})


def test_cli_inspect_and_convert(s3, tmp_path, monkeypatch, capsys):
    from tensorbridge.cli import main

    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    path = put(s3, "cli/a b.npy", npy_bytes(a))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.key)  # the command line reads the environment
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.endpoint)
    assert main(["inspect", path, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    report = report[0] if isinstance(report, list) else report
    assert report["path"] == path and report["kind"] == "npy" and report["file_bytes"] == len(npy_bytes(a))
    assert report["arrays"][0]["shape"] == [3, 4]
    csv = put(s3, "cli/t.csv", b"x,y\n1,2\n3,4\n")
    assert main(["inspect", csv]) == 0
    assert s3.secret not in capsys.readouterr().out
    assert main(["convert", path, str(tmp_path / "a.npz")]) == 0
    with np.load(tmp_path / "a.npz") as f:
        np.testing.assert_array_equal(f[f.files[0]], a)
    assert main(["convert", csv, f"s3://{BUCKET}/cli/t.npy"]) == 0
    assert np.load(io.BytesIO(get(s3, "cli/t.npy"))).tolist() == [[1, 2], [3, 4]]
    assert main(["inspect", f"s3://{BUCKET}/cli/missing.npy"]) == 1
    assert "NoSuchKey" in capsys.readouterr().err

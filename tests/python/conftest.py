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

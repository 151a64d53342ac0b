"""The examples in the public docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tensorbridge

# The readers' examples (csv, io, table) read files they do not create, so they are not runnable
# as doctests yet; every other module's examples are checked here.
ILLUSTRATIVE = ("tensorbridge.csv", "tensorbridge.io", "tensorbridge.table")
MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(tensorbridge.__path__, "tensorbridge.")
    if not name.startswith("tensorbridge._cli")
    and name not in ("tensorbridge.__main__", "tensorbridge._ext", *ILLUSTRATIVE)
)


@pytest.mark.parametrize("name", ["tensorbridge", *MODULES])
def test_docstring_examples(name, torch, tf, jax):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"

"""The Python API reference: every public name has a docstring with a runnable example, and every
module's examples run and print what they claim."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from typing import Any

import numpy as np
import pytest
import tensorbridge

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(tensorbridge.__path__, "tensorbridge.")
    if not name.startswith("tensorbridge._cli") and name not in ("tensorbridge.__main__", "tensorbridge._ext")
)

# The examples assume ``import numpy as np, tensorbridge as tb``, as the package docstring says;
# anything else they need (torch, tempfile...) they import themselves.
GLOBALS = {"np": np, "tb": tensorbridge}


@pytest.mark.parametrize("name", ["tensorbridge", *MODULES])
def test_docstring_examples(name, torch, tf, jax, pd):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module,
        extraglobs=GLOBALS,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"


@pytest.mark.parametrize("name", ["tensorbridge", *MODULES])
def test_module_has_a_docstring(name):
    doc = inspect.getdoc(importlib.import_module(name))
    assert doc and doc.strip(), f"module {name} has no docstring"


def _class_members(qualname: str, cls: type) -> list[tuple[str, Any]]:
    """The class and its own public methods and properties (not those inherited from builtins)."""
    out: list[tuple[str, Any]] = [(qualname, cls)]
    for attr, member in vars(cls).items():
        if attr.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            out.append((f"{qualname}.{attr}", member))
    return out


def public_api() -> list[tuple[str, Any]]:
    """(name, object) of every public callable a user reaches from ``tensorbridge``: the names in
    ``__all__`` of the package, of ``tb.ops`` and of ``tb.errors``, and the public methods and
    properties of the classes among them (Tensor, Dataset, Table...)."""
    out: list[tuple[str, Any]] = []
    for prefix, module in (
        ("tb", tensorbridge),
        ("tb.ops", importlib.import_module("tensorbridge.ops")),
        ("tb.errors", importlib.import_module("tensorbridge.errors")),
    ):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                out += _class_members(f"{prefix}.{name}", obj)
            elif callable(obj):
                out.append((f"{prefix}.{name}", obj))
    return out


def test_public_api_is_found():
    names = {name for name, _ in public_api()}
    expected = {
        "tb.asarray", "tb.to_torch", "tb.read_csv", "tb.load", "tb.Tensor.shape", "tb.Tensor.numpy",
        "tb.Dataset.from_tensor_slices", "tb.Dataset.batch", "tb.DatasetIterator.state",
        "tb.Table.to_tensor", "tb.NpzFile.files", "tb.ops.one_hot", "tb.ops.Op", "tb.errors.FormatError",
    }
    assert expected <= names, f"public_api() misses {sorted(expected - names)}"


def test_every_public_callable_has_a_docstring_with_an_example():
    missing = []
    for name, obj in public_api():
        doc = obj.__doc__ if isinstance(obj, property) else inspect.getdoc(obj)
        if not doc or not doc.strip():
            missing.append(f"{name}: no docstring")
        elif ">>>" not in doc:
            missing.append(f"{name}: no >>> example")
    assert not missing, "public names without a documented example:\n  " + "\n  ".join(missing)

"""The extension's type stubs (generated from the built module by nanobind's stubgen) ship with
the package and describe every public name of the module."""

from __future__ import annotations

import ast
from pathlib import Path

import tensorbridge
from tensorbridge import _ext


def _stub_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_stub_covers_the_built_module():
    stub = Path(_ext.__file__).with_name("_ext.pyi")
    assert stub.is_file(), f"missing {stub}: the build must generate and install it"
    public = {n for n in dir(_ext) if not n.startswith("_")}
    missing = public - _stub_names(stub)
    assert not missing, f"names of tensorbridge._ext missing from its stub: {sorted(missing)}"


def test_package_is_typed():
    assert (Path(tensorbridge.__file__).parent / "py.typed").is_file()

"""The C++ layering check (tests/layers/check_layers.py) passes on the tree and catches a break."""
from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_checker():
    spec = importlib.util.spec_from_file_location("check_layers", ROOT / "tests" / "layers" / "check_layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tree_keeps_its_layers():
    assert load_checker().check(ROOT) == []


def test_an_include_from_a_layer_above_is_reported(tmp_path):
    checker = load_checker()
    (tmp_path / "include" / "tensorbridge" / "core").mkdir(parents=True)
    (tmp_path / "src" / "core").mkdir(parents=True)
    (tmp_path / "src" / "io" / "csv").mkdir(parents=True)
    (tmp_path / "src" / "core" / "tensor.cpp").write_text(
        '#include "tensorbridge/core/tensor.hpp"\n#include "io/csv/parser_internal.hpp"\n')
    (tmp_path / "src" / "io" / "csv" / "reader.cpp").write_text('#include "core/parallel_internal.hpp"\n')
    (tmp_path / "include" / "tensorbridge" / "core" / "tensor.hpp").write_text(
        "#include <Python.h>\n#include \"tensorbridge/pipeline/dataset.hpp\"\n")
    problems = sorted(checker.check(tmp_path))
    assert len(problems) == 3, problems
    assert problems[0].startswith("include/tensorbridge/core/tensor.hpp:1: includes Python.h")
    assert problems[1].startswith("include/tensorbridge/core/tensor.hpp:2: core/ includes tensorbridge/pipeline/dataset.hpp")
    assert problems[2].startswith("src/core/tensor.cpp:2: core/ includes io/csv/parser_internal.hpp from io/csv/")


def test_sibling_formats_do_not_include_each_other(tmp_path):
    (tmp_path / "include" / "tensorbridge").mkdir(parents=True)
    (tmp_path / "src" / "io" / "npy").mkdir(parents=True)
    (tmp_path / "src" / "io" / "npy" / "npz.cpp").write_text('#include "io/csv/parser_internal.hpp"\n')
    assert len(load_checker().check(tmp_path)) == 1

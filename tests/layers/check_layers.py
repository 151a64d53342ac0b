#!/usr/bin/env python3
"""Checks that the C++ folders form a stack: a file includes only its own folder and the folders
below it (DESIGN.md, "Layers"). Run by `make test`; prints each offending include and fails.

The folders, lowest first. A folder may include itself and what it lists; a subfolder not named
here belongs to its parent (src/io/source/ is part of io).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

BELOW: dict[str, tuple[str, ...]] = {
    "core": (),
    "cast": ("core",),
    "interop": ("core", "cast"),
    "io": ("core", "cast", "interop"),
    "io/csv": ("core", "cast", "interop", "io"),
    "io/npy": ("core", "cast", "interop", "io"),
    "image": ("core", "cast", "interop", "io"),
    "pipeline": ("core", "cast", "interop", "io", "io/csv", "io/npy", "image"),
}
# Headers the C++ core may never include: it stands alone, without Python.
FORBIDDEN = re.compile(r"^(Python\.h|nanobind/|pybind11/)")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.MULTILINE)


def folder_of(relative: str) -> str | None:
    """The layer a path inside src/ or include/tensorbridge/ belongs to (longest match)."""
    parts = relative.split("/")[:-1]
    while parts:
        name = "/".join(parts)
        if name in BELOW:
            return name
        parts.pop()
    return None


def check(root: Path) -> list[str]:
    problems = []
    trees = [(root / "src", ""), (root / "include" / "tensorbridge", "tensorbridge/")]
    for base, _ in trees:
        for path in sorted(base.rglob("*")):
            if path.suffix not in {".cpp", ".hpp", ".inc", ".h"}:
                continue
            relative = path.relative_to(base).as_posix()
            own = folder_of(relative)
            where = path.relative_to(root).as_posix()
            if own is None:
                if "/" in relative and relative != "tensorbridge.hpp":
                    problems.append(f"{where}: in no known layer; add its folder to BELOW in {__file__}")
                continue
            text = path.read_text(encoding="utf-8")
            for match in INCLUDE.finditer(text):
                name = match.group(1)
                line = text.count("\n", 0, match.start()) + 1
                if FORBIDDEN.match(name):
                    problems.append(f"{where}:{line}: includes {name}; the C++ core never includes Python")
                    continue
                target = folder_of(name[len("tensorbridge/"):] if name.startswith("tensorbridge/") else name)
                if target is None or target == own or target in BELOW[own]:
                    continue
                problems.append(
                    f"{where}:{line}: {own}/ includes {name} from {target}/, a layer above it; "
                    f"move the shared code down into {own}/ or below")
    return problems


def main() -> int:
    root = Path(__file__).resolve().parents[2]
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} include(s) break the layering (core <- cast <- interop <- io <- image <- pipeline)")
        return 1
    print("layers: every include points to its own folder or one below")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Which frameworks the command line can use, imported lazily and only once."""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

from ..frameworks._common import INSTALL, frameworks_required

#: (tensorbridge target name, module to import, what the user installs).
FRAMEWORKS: tuple[tuple[str, str, str], ...] = tuple(
    (name, name, INSTALL[name]) for name in ("numpy", "torch", "tensorflow", "jax")
)

_missing: dict[str, str] = {}

# What TensorFlow's C++ logging prints on import whatever TF_CPP_MIN_LOG_LEVEL says (it logs before
# its log level is read): absl's start-up notice and INFO lines such as "oneDNN custom operations
# are on". Warnings and errors (W..., E... lines) are kept.
_IMPORT_CHATTER = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"
    r"|I\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "
)


@contextlib.contextmanager
def _without_import_chatter() -> Iterator[None]:
    """Captures what native code writes to file descriptor 2 meanwhile, and passes on all of it but
    the lines :data:`_IMPORT_CHATTER` matches (so ``inspect --json`` leaves stderr for errors)."""
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (stderr closed): nothing to filter
        saved = -1
    if saved < 0:
        yield
        return
    if sys.stderr is not None:
        sys.stderr.flush()
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _IMPORT_CHATTER.match(line))
            if kept and sys.stderr is not None:
                sys.stderr.write(kept)
                sys.stderr.flush()


class MissingFramework(RuntimeError):
    """A framework the user asked for is not installed."""


def load(name: str) -> Any | None:
    """The framework's module, or None (with the reason kept for :func:`why_missing`)."""
    module = dict((n, m) for n, m, _ in FRAMEWORKS)[name]
    if name in _missing:
        return None
    quiet = contextlib.nullcontext()
    if module == "tensorflow":
        # TensorFlow prints several lines of C++ start-up chatter (oneDNN, CUDA probing) on import.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        if module not in sys.modules:
            quiet = _without_import_chatter()
    try:
        with warnings.catch_warnings(), quiet:
            # Importing TensorFlow/JAX on a CPU-only machine may emit third-party deprecation
            # warnings from their own dependencies; they say nothing about the user's data.
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module(module)
    except ImportError as e:
        _missing[name] = str(e)
        if frameworks_required():
            raise MissingFramework(
                f"{name} is not installed but TB_REQUIRE_FRAMEWORKS=1: install it with "
                f"'pip install {dict((n, p) for n, _, p in FRAMEWORKS)[name]}' ({e})"
            ) from None
        return None


def why_missing(name: str) -> str:
    """How to install a framework that :func:`load` could not import."""
    pip = dict((n, p) for n, _, p in FRAMEWORKS)[name]
    return f"{name} is not installed (pip install {pip}): {_missing.get(name, '')}"


def available() -> list[str]:
    """The frameworks that import, in the fixed order numpy, torch, tensorflow, jax."""
    return [name for name, _, _ in FRAMEWORKS if load(name) is not None]

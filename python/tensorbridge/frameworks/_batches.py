"""How a pipeline iterator hands batches to a framework (``Dataset.as_numpy``, ``as_torch``...):
the export of one batch tensor, and the batches of a block.

Pipeline batches are always contiguous, aligned, writable and native, so every framework aliases
them; TensorFlow and JAX take the general conversion, which narrows dtypes where the framework
needs it (JAX without 64-bit mode).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._convert import to_jax, to_tf
from .._tensor import Tensor
from . import target
from ._common import EachBatch


class _ZeroCopyPlan:
    """Stands in for an export plan: pipeline batches are aliased by every framework."""

    zero_copy = True


_PLAN = _ZeroCopyPlan()


def exporter(framework: str) -> Callable[[Any], Any]:
    """The cheapest zero-copy conversion of an extension tensor into ``framework``'s array
    (``"tb"``: a :class:`tensorbridge.Tensor`)."""
    if framework == "tb":
        return Tensor._wrap
    if framework in ("numpy", "torch"):
        export = target(framework).export
        return lambda t: export(t, _PLAN)
    convert = to_tf if framework == "tensorflow" else to_jax
    return lambda t: convert(Tensor._wrap(t))


def unpacker(framework: str, export: Callable[[Any], Any]) -> Callable[[Any], Sequence[tuple[Any, ...]]]:
    """How a block of batches becomes one tuple of arrays per batch: the adapter's
    ``block_batches`` (tb tensors: each batch exported when asked for)."""
    if framework == "tb":
        return lambda block: EachBatch(block, export)
    batches = target(framework).block_batches
    return lambda block: batches(block, export)

"""One adapter per framework, each a module with the same functions.

Every adapter module defines:

- ``NAME``: the framework's name in messages and in ``convert(x, to=NAME)``.
- ``is_native(obj) -> bool``: whether ``obj`` is one of the framework's arrays (cheap; never
  imports the framework).
- ``import_tensor(obj, allow_copy) -> (ext_tensor, copy_reason)``: the object as a tensorbridge
  tensor, zero-copy when possible; ``copy_reason`` is ``""`` for a view.
- ``limits() -> ConsumerLimits``: what the framework can alias without a copy.
- ``from_python(values, exact) -> (ext_tensor, inferred)``: Python numbers or nested lists as a
  tensor of the dtype the framework's own constructor infers for them (``np.asarray``,
  ``torch.tensor``, ``tf.convert_to_tensor``, ``jnp.asarray``), and those values as a NumPy array
  (``exact`` is ``np.asarray(values)``, already checked to be numbers); what the framework
  refuses raises a TensorbridgeError.
- ``default_dtype(dtype) -> (dtype, checked)``: the dtype the framework gives data of ``dtype``
  when the caller names none (JAX without 64-bit mode narrows), and whether that narrowing must be
  checked for overflow. An adapter that narrows also defines ``narrowing_error(from_dtype,
  to_dtype, error) -> Exception``: the error to raise when the data does not survive it.
- ``export(ext_tensor, plan) -> native``: hands a planned tensor to the framework without copying.
- ``block_batches(block, export) -> Sequence[tuple]``: the batches of a pipeline block
  (``_ext.BatchBlock``) as tuples of the framework's arrays, ``export`` turning one extension
  tensor into one array (NumPy and torch export each field once and take views of it).
- ``shortcut(kind) -> Callable[[obj], native | None] | None``: for sources of exact type ``kind``
  (asked once per type), the framework's own zero-copy call (``torch.from_numpy``,
  ``Tensor.numpy()``), which returns None (or raises) for a source the C++ planner says it cannot
  alias as it is; the general path then decides. None for a type without one. It only makes the common case cheaper; the result is what
  ``export`` would give. NumPy arrays are asked through ``_ext.ndarray_shortcut``, which describes
  them in place for ``tb::plan_export``.

An adapter whose arrays carry bookkeeping of writes (torch's autograd version counter) also
defines ``write_into(out, write)``: runs ``write(ext_tensor)`` to fill ``out`` in place, keeping
that bookkeeping as the framework's own in-place copy would.

Sources that are not export targets (pandas) define only ``NAME``, ``is_native`` and
``import_tensor``; pandas also defines ``gather_columns(obj, dtype, casting, checked, allow_copy)``,
which gathers a DataFrame of mixed column types into one tensor, cast to ``dtype`` in the same pass.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

from . import jax as _jax
from . import numpy as _numpy
from . import pandas as _pandas
from . import tf as _tf
from . import torch as _torch

__all__ = ["TARGETS", "adapter_for_object", "target"]

#: Export targets by name.
TARGETS: dict[str, ModuleType] = {
    "numpy": _numpy,
    "torch": _torch,
    "tensorflow": _tf,
    "jax": _jax,
}
_ALIASES = {"np": "numpy", "pytorch": "torch", "tf": "tensorflow", "jnp": "jax"}

# Checked in this order; a framework not yet imported cannot own the object.
_SOURCES: tuple[tuple[str, ModuleType], ...] = (
    ("numpy", _numpy),
    ("torch", _torch),
    ("tensorflow", _tf),
    ("jax", _jax),
    ("pandas", _pandas),
)


def target(name: str) -> ModuleType:
    """The adapter for ``to=name`` ("numpy", "torch", "tensorflow"/"tf", "jax")."""
    key = _ALIASES.get(name, name)
    try:
        return TARGETS[key]
    except KeyError:
        raise ValueError(
            f"unknown conversion target {name!r}; expected one of: numpy, torch, tensorflow (tf), jax"
        ) from None


def adapter_for_object(obj: Any) -> ModuleType | None:
    """The adapter whose framework made ``obj``, or None."""
    for module_name, adapter in _SOURCES:
        if module_name in sys.modules and adapter.is_native(obj):
            return adapter
    return None

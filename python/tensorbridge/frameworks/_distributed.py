"""The world size and rank of a distributed run, for ``Dataset.shard(distributed=...)``: from
torch.distributed, JAX's processes, or a ``tf.distribute.InputContext``."""

from __future__ import annotations

import sys
from typing import Any

from ..errors import InvalidValueError


def world(distributed: Any) -> tuple[int, int]:
    """(world size, rank) from torch.distributed, a tf.distribute.InputContext, or JAX."""
    if hasattr(distributed, "num_input_pipelines") and hasattr(distributed, "input_pipeline_id"):
        return int(distributed.num_input_pipelines), int(distributed.input_pipeline_id)
    if distributed not in ("auto", "torch", "jax"):
        raise InvalidValueError(
            f"shard(distributed={distributed!r}): expected 'auto', 'torch', 'jax' or a "
            "tf.distribute.InputContext"
        )
    if distributed in ("auto", "torch") and "torch.distributed" in sys.modules:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_world_size(), dist.get_rank()
    if distributed in ("auto", "jax") and "jax" in sys.modules:
        import jax

        return jax.process_count(), jax.process_index()
    if distributed != "auto":
        raise InvalidValueError(f"shard(distributed={distributed!r}): that framework's distributed runtime is not initialised")
    return 1, 0

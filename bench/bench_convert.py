"""Per-call cost of tensorbridge's conversions against each framework's own way of doing the same
job, on the same arrays in the same run, at 1 KiB and at ``--big-mib`` (zero-copy must not depend
on size). Zero-copy is compared with zero-copy: ``tb.to_tf`` / ``tb.to_jax`` against
``tf.experimental.dlpack.from_dlpack`` / ``jax.dlpack.from_dlpack`` of the same array's DLPack
capsule (the frameworks' own zero-copy import); the copying ``tf.convert_to_tensor`` /
``jnp.asarray`` are kept as further anchors. The arrays are allocated 64-byte aligned (by
tensorbridge), so the frameworks may alias them; whether each side did is recorded from the data
addresses (``zero_copy_ours`` / ``zero_copy_anchor``), not from ``tb.explain``.

Run: .venv/bin/python bench/bench_convert.py [--big-mib 1024]

Writes bench/results/bench_convert.json. Never asserts timings.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness
import tensorbridge as tb

WHY = {
    "torch.from_numpy": "ours calls torch.from_numpy too, after the planner's check of the array (one C++ call)",
    "Tensor.numpy()": "ours calls Tensor.numpy() too, found by the source's type (one C++ call)",
    "np.asarray": "both return the array itself; ours after the planner's check of the array (one C++ call)",
    "jax.dlpack.from_dlpack": "both are one DLPack import into JAX; ours adds a Python facade and a capsule",
    "jnp.asarray": "jnp.asarray copies into a new buffer",
    "tf.experimental.dlpack.from_dlpack": "both are one DLPack import into TF; ours adds a Python facade and a capsule",
    "tf.convert_to_tensor": "tf.convert_to_tensor copies unless TF can alias the NumPy buffer",
}


def address(x: Any) -> int:
    """The first element's address, as the owning framework reports it."""
    import tensorflow as tf

    module = type(x).__module__
    if isinstance(x, np.ndarray):
        return x.__array_interface__["data"][0]
    if module.startswith("torch"):
        return x.data_ptr()
    if module.startswith("jax"):
        return x.unsafe_buffer_pointer()
    if isinstance(x, tf.Tensor):
        return np.asarray(x).__array_interface__["data"][0]  # a view of the tensor's own buffer on CPU
    raise TypeError(f"no address for {type(x)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--big-mib", type=float, default=1024, help="size of the large array in MiB")
    args = ap.parse_args()

    import jax
    import jax.numpy as jnp
    import tensorflow as tf
    import torch

    def aligned(nbytes: int) -> np.ndarray:
        # tensorbridge allocates 64-byte aligned, so TensorFlow and JAX may alias the memory.
        a = tb.to_numpy(tb.asarray(np.ones(max(1, nbytes // 4), dtype=np.float32)).copy())
        assert a.__array_interface__["data"][0] % 64 == 0
        return a

    small, big = aligned(1024), aligned(int(args.big_mib * (1 << 20)))
    cases = [
        # (what, ours, {anchor name: anchor}); every callable takes the source
        ("numpy -> torch", tb.to_torch, {"torch.from_numpy": torch.from_numpy}),
        ("torch -> numpy", tb.to_numpy, {"Tensor.numpy()": lambda t: t.numpy()}),
        ("numpy -> numpy", tb.to_numpy, {"np.asarray": np.asarray}),
        ("numpy -> jax", tb.to_jax, {"jax.dlpack.from_dlpack": jax.dlpack.from_dlpack, "jnp.asarray": jnp.asarray}),
        ("numpy -> tf", tb.to_tf, {"tf.experimental.dlpack.from_dlpack":
                                   lambda a: tf.experimental.dlpack.from_dlpack(a.__dlpack__()),
                                   "tf.convert_to_tensor": tf.convert_to_tensor}),
    ]
    rows = []
    for what, ours, anchors in cases:
        for label, arr in (("1 KiB", small), (f"{args.big_mib:g} MiB", big)):
            src = torch.from_numpy(arr) if what.startswith("torch") else arr

            def jax_ready(fn: Any, src: Any = src) -> Any:
                def call() -> Any:
                    out = fn(src)  # JAX dispatches asynchronously: a copy counts only once it is done
                    return out.block_until_ready() if hasattr(out, "block_until_ready") else out

                return call

            contenders = {"tb": jax_ready(ours), **{name: jax_ready(fn) for name, fn in anchors.items()}}
            zero_copy = {name: address(fn()) == arr.__array_interface__["data"][0] for name, fn in contenders.items()}
            times = _harness.measure(contenders)
            for name in anchors:
                rows.append(_harness.row(f"{what}, {label}", f"tb.{ours.__name__}", name, times["tb"], times[name],
                                         why=WHY[name], zero_copy_ours=zero_copy["tb"], zero_copy_anchor=zero_copy[name]))
    _harness.print_rows("Per-call conversion cost (ratio = anchor time / tensorbridge time)", rows)
    _harness.save("bench_convert", {"big_mib": args.big_mib, "rows": rows})


if __name__ == "__main__":
    main()

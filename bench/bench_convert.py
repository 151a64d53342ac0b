"""Per-call cost of tensorbridge's conversions against each framework's own way, on the same
arrays in the same run: 1 KiB and 1 GiB (zero-copy must not depend on size), and to_tf on a
1 GiB aligned array against tf.convert_to_tensor (which copies).

Run: .venv/bin/python bench/bench_convert.py [--big-mib 1024]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _harness import fmt_seconds, print_table, save, time_call

import tensorbridge as tb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--big-mib", type=int, default=1024, help="size of the large array in MiB")
    args = ap.parse_args()

    import jax.numpy as jnp
    import tensorflow as tf
    import torch

    small = np.ones(256, dtype=np.float32)  # 1 KiB
    # Allocated by tensorbridge, so 64-byte aligned: TensorFlow and JAX may alias it.
    big = tb.to_numpy(tb.asarray(np.ones(args.big_mib * (1 << 20) // 4, dtype=np.float32)).copy())
    t_small, t_big = torch.from_numpy(small), torch.from_numpy(big)

    cases = [
        # (what, ours, anchor name, anchor, size label)
        ("numpy -> torch", lambda a: tb.to_torch(a), "torch.from_numpy", torch.from_numpy),
        ("torch -> numpy", lambda t: tb.to_numpy(t), "Tensor.numpy()", lambda t: t.numpy()),
        ("numpy -> numpy", lambda a: tb.to_numpy(a), "np.asarray", np.asarray),
        ("numpy -> jax", lambda a: tb.to_jax(a), "jnp.asarray", jnp.asarray),
        ("numpy -> tf", lambda a: tb.to_tf(a), "tf.convert_to_tensor", tf.convert_to_tensor),
    ]
    rows, results = [], []
    for what, ours, anchor_name, anchor in cases:
        for label, arr, tarr in (("1 KiB", small, t_small), (f"{args.big_mib} MiB", big, t_big)):
            src = tarr if what.startswith("torch") else arr
            plan = tb.explain(src, to=what.split(" -> ")[1])
            mine = time_call(lambda: ours(src), min_time=0.3 if label == "1 KiB" else 2.0,
                             repeat=5 if label == "1 KiB" else 3)
            theirs = time_call(lambda: anchor(src), min_time=0.3 if label == "1 KiB" else 2.0,
                               repeat=5 if label == "1 KiB" else 3)
            rows.append([what, label, "zero-copy" if plan.zero_copy else "copy", fmt_seconds(mine), anchor_name,
                         fmt_seconds(theirs), f"{theirs / mine:.2f}x"])
            results.append({"case": what, "size": label, "zero_copy": plan.zero_copy, "ours_s": mine,
                            "anchor": anchor_name, "anchor_s": theirs, "speedup": theirs / mine})
    print_table(
        "Per-call conversion cost (speedup = anchor time / tensorbridge time; >1 means tensorbridge is faster)",
        ["conversion", "size", "tensorbridge plan", "tensorbridge", "anchor", "anchor time", "speedup"],
        rows,
    )
    save("bench_convert", {"results": results})


if __name__ == "__main__":
    main()

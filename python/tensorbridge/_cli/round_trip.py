"""Step (b) of the demo: moves the data around numpy -> torch -> tensorflow -> jax -> numpy and
says, for every hop, what was shared and what was copied and why (``tb.explain``)."""

from __future__ import annotations

from typing import Any

import numpy as np

import tensorbridge as tb

from . import frameworks

_CONVERT = {"numpy": tb.to_numpy, "torch": tb.to_torch, "tensorflow": tb.to_tf, "jax": tb.to_jax}


def _describe(plan: tb.Plan) -> str:
    if plan.zero_copy:
        return "shared (zero-copy)" + (", read-only" if plan.read_only else "")
    lossy = ", lossy" if plan.lossy else ""
    return f"copied {plan.bytes_to_copy:,} bytes{lossy}: " + "; ".join(plan.reasons)


def show(x: np.ndarray, names: list[str]) -> None:
    """Runs the round trip over the frameworks in ``names`` (numpy first and last), printing each
    hop's plan, and checks that the values arrive unchanged."""
    order = [n for n in names if n != "numpy"]
    route = ["numpy", *order, "numpy"]
    print(f"  route: {' -> '.join(route)} on {x.dtype}{list(x.shape)} ({x.nbytes:,} bytes)")
    current: Any = x
    for src, dst in zip(route, route[1:]):
        plan = tb.explain(current, to=dst)
        current = _CONVERT[dst](current)
        print(f"    {src:>10} -> {dst:<10} {_describe(plan)}")
    if not np.array_equal(current, x):
        raise AssertionError("the round trip changed the values")
    print("    round trip exact: the values arrived unchanged")
    # The common case users trip over: float64 data for float32 models. One fused cast + copy.
    wide = x.astype(np.float64)
    for dst in order:
        print(f"    float64 -> {dst} float32: {_describe(tb.explain(wide, to=dst, dtype='float32'))}")
    if "torch" in order:
        t = tb.to_torch(x)
        shared = t.data_ptr() == x.__array_interface__["data"][0]
        t2 = tb.to_torch(x, copy=True)
        print(f"    tb.to_torch(x) shares x's memory: {shared}; tb.to_torch(x, copy=True) does not: "
              f"{t2.data_ptr() != x.__array_interface__['data'][0]}")


def available_targets() -> list[str]:
    """numpy plus every installed framework, reporting the missing ones."""
    names = []
    for name, _, _ in frameworks.FRAMEWORKS:
        if frameworks.load(name) is None:
            print(f"  skipping {frameworks.why_missing(name)}")
        else:
            names.append(name)
    return names

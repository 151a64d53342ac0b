"""Shared benchmark plumbing: one measuring method for every contender, the rows of the JSON,
tables. Benchmarks never assert timings; they do refuse to time a contender whose output differs
from tensorbridge's.

The method (``measure``), the same for tensorbridge and every anchor of a row:

1. every contender is called once and its output checked equal to tensorbridge's (``Mismatch``
   if not: a wrong answer fast is not a result);
2. ``warmups`` more calls each (page faults of reused buffers, lazy imports, JIT, thread start);
3. a calibration picks, per contender, how many calls one sample holds (so a sample lasts about
   ``min_time / repeats``; at least one call);
4. ``repeats`` interleaved rounds: each round takes one sample of every contender, in an order
   rotated from round to round, so a slow or fast spell of the shared machine falls on all alike;
5. the statistic is the median seconds per call; min and max go to the JSON beside it.

Each comparison becomes a row (``row``): tensorbridge's figure and one anchor's, both as
``{"median", "min", "max"}``, ``ratio`` = anchor median / ours (> 1: tensorbridge is faster or
smaller), and a one-line ``why`` the report shows beside rows we lose or tie.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

#: Where ``save`` writes ``NAME.json``; ``$TB_BENCH_RESULTS`` overrides it (the smoke test uses a
#: temporary folder so it never overwrites real results).
RESULTS = Path(os.environ.get("TB_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")

#: The defaults of ``measure``: ``$TB_BENCH_REPEATS`` rounds (7) of samples lasting about
#: ``$TB_BENCH_MIN_TIME / repeats`` seconds (0.5); ``$TB_BENCH_TINY=1`` (the smoke test) cuts them
#: to 3 rounds of one call each, no warm-up beyond the checking call.
TINY = os.environ.get("TB_BENCH_TINY") == "1"
WARMUPS = 0 if TINY else 1
REPEATS = 3 if TINY else int(os.environ.get("TB_BENCH_REPEATS") or 7)
MIN_TIME = 0.0 if TINY else float(os.environ.get("TB_BENCH_MIN_TIME") or 0.5)


class Mismatch(AssertionError):
    """A contender's output differs from tensorbridge's: its time would compare different work."""


def to_numpy(value: Any) -> Any:
    """A NumPy view or copy of any contender's output (tensorbridge, torch, TF, JAX, NumPy)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value
    module = type(value).__module__
    if module.startswith("torch"):
        import torch

        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:  # NumPy has no bfloat16: reinterpret the bits
            import ml_dtypes

            return value.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
        return value.numpy()
    if module.startswith("tensorflow"):
        return value.numpy()
    if module.startswith("tensorbridge"):
        import tensorbridge as tb

        return tb.to_numpy(value)
    return np.asarray(value)


def assert_same(ours: Any, theirs: Any, name: str) -> None:
    """Raises ``Mismatch`` unless ``theirs`` holds the same values, shape and dtype as ``ours``
    (bit-exact; NaN equal to NaN)."""
    import numpy as np

    a, b = to_numpy(ours), to_numpy(theirs)
    if a.shape != b.shape or a.dtype != b.dtype:
        raise Mismatch(f"{name}: output {b.dtype}{list(b.shape)} differs from tensorbridge's {a.dtype}{list(a.shape)}")
    if a.dtype.kind in "fc" or a.dtype.name == "bfloat16":
        a, b = a.astype(np.float64), b.astype(np.float64)
        equal = (a == b) | (np.isnan(a) & np.isnan(b))
    else:
        equal = a == b
    if not equal.all():
        bad = np.flatnonzero(~equal)
        i = int(bad[0])
        raise Mismatch(f"{name}: output differs from tensorbridge's at flat index {i} "
                       f"({b.ravel()[i].item()!r} vs {a.ravel()[i].item()!r}; {bad.size} elements differ)")


def measure(
    contenders: Mapping[str, Callable[[], Any]],
    *,
    ours: str | None = None,
    unchecked: tuple[str, ...] = (),
    same: Callable[[Any, Any, str], None] | None = assert_same,
    warmups: int = WARMUPS,
    repeats: int = REPEATS,
    min_time: float = MIN_TIME,
    max_inner: int = 1 << 16,
) -> dict[str, dict[str, float]]:
    """Seconds per call of every contender, by the method in this module's docstring.

    ``ours`` names tensorbridge's contender (default: the first); every other contender's first
    output is checked against it with ``same(ours_output, their_output, name)`` (None: the outputs
    are not comparable values, e.g. a count; the caller checks), except the ``unchecked`` ones:
    ceilings that do other work by design (a plain memcpy of the same bytes). Returns
    ``{name: {"median", "min", "max", "calls", "samples"}}`` in seconds per call.
    """
    names = list(contenders)
    ours = ours or names[0]
    reference = contenders[ours]()
    for name in names:
        if name != ours and name not in unchecked:
            out = contenders[name]()
            if same is not None:
                same(reference, out, name)
            del out
    del reference
    for _ in range(warmups):
        for name in names:
            contenders[name]()
    inner = {}
    for name in names:
        n = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(n):
                contenders[name]()
            if time.perf_counter() - t0 >= min_time / max(repeats, 1) or n >= max_inner:
                break
            n *= 4
        inner[name] = n
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            fn, n = contenders[name], inner[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n)
    return {name: stats(s, calls=inner[name]) for name, s in samples.items()}


def stats(values: list[float], calls: int = 1) -> dict[str, float]:
    """The statistic every benchmark reports: median, with min and max beside it."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "calls": calls, "samples": len(values)}


def row(case: str, ours: str, anchor: str, ours_stats: Mapping[str, float], anchor_stats: Mapping[str, float],
        *, why: str = "", metric: str = "seconds", **extra: Any) -> dict[str, Any]:
    """One comparison. ``metric`` is lower-is-better ("seconds" per call, "bytes" of peak memory);
    ``ratio`` = anchor median / ours, so > 1 means tensorbridge wins. ``ceiling=True`` in ``extra``
    marks an anchor that is a limit rather than a competitor (a plain memcpy of the same bytes)."""
    return {"case": case, "ours": ours, "anchor": anchor, "metric": metric,
            "ours_stats": dict(ours_stats), "anchor_stats": dict(anchor_stats),
            "ratio": anchor_stats["median"] / ours_stats["median"], "why": why, **extra}


def method() -> dict[str, Any]:
    """How the rows were measured, written into every JSON."""
    return {"warmups": WARMUPS, "repeats": REPEATS, "min_time_s": MIN_TIME, "statistic": "median seconds per call",
            "rounds": "interleaved, order rotated each round", "outputs": "checked equal to tensorbridge's first",
            "tiny": TINY}


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def fmt_seconds(s: float) -> str:
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_value(v: float, metric: str) -> str:
    if metric == "bytes":
        return f"{v / (1 << 20):,.0f} MiB"
    return fmt_seconds(v)


def print_table(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    """Prints a Markdown table (so it pastes into the README as is)."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")


def print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    """The rows as a Markdown table: medians, the ratio, and the why."""
    print_table(title, ["case", "tensorbridge", "anchor", "anchor's", "ratio (anchor / tb)", "why"],
                [[r["case"], f"{r['ours']}: {fmt_value(r['ours_stats']['median'], r['metric'])}", r["anchor"],
                  fmt_value(r["anchor_stats"]["median"], r["metric"]), f"{r['ratio']:.2f}x", r["why"]] for r in rows])


def save(name: str, payload: dict[str, Any]) -> Path:
    """Writes ``RESULTS/NAME.json``: machine, method, then the payload (which holds ``rows``)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"machine": machine(), "method": method(), **payload}
    path.write_text(json.dumps(payload, indent=2))
    print(f"\nwrote {path}")
    return path

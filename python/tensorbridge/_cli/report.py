"""The benchmark report: ratios pulled out of each ``bench/results/*.json`` (every benchmark
writes its own layout; one small extractor per layout, in one table) into one Markdown file with
a bar chart per benchmark."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Ratio:
    """One comparison: ``ratio`` > 1 means tensorbridge was faster than ``anchor`` on ``case``."""

    bench: str
    case: str
    anchor: str
    ratio: float


def _convert(d: dict[str, Any]) -> Iterable[tuple[str, str, float]]:
    for r in d.get("results", []):
        yield f"{r['case']}, {r['size']}", r["anchor"], r["speedup"]


def _cast(d: dict[str, Any]) -> Iterable[tuple[str, str, float]]:
    # Like against like: a reused output against memcpy; a fresh output against the frameworks'
    # casts, which allocate theirs.
    for r in d.get("rows", []):
        case = f"{r['pair']}, {r['layout']}"
        memcpy = r.get("memcpy_gbs", d.get("memcpy_gbs"))  # the memcpy timed in the row's own rounds
        if memcpy and r.get("tb_into"):
            yield case + " (into)", "memcpy", r["tb_into"] / memcpy
        for anchor in ("numpy_astype", "torch_to", "tf_cast", "jax_astype"):
            if r.get("tb_fresh") and r.get(anchor):
                yield case, anchor, r["tb_fresh"] / r[anchor]


def _io_csv(d: dict[str, Any]) -> Iterable[tuple[str, str, float]]:
    for r in d.get("results", [])[1:]:
        yield "CSV -> float32 tensor", r["name"], r["tensorbridge_speedup"]


def _io_npy(d: dict[str, Any]) -> Iterable[tuple[str, str, float]]:
    for r in d.get("rows", []):
        yield r["case"], "numpy", r["ratio"]


def _pipeline(d: dict[str, Any]) -> Iterable[tuple[str, str, float]]:
    for batch, figures in d.get("batches", {}).items():
        ours = figures.get("tensorbridge as_torch")
        for anchor, rate in figures.items():
            if ours and not anchor.startswith("tensorbridge") and not anchor.startswith("gather limit") and rate:
                yield f"batch {batch}", anchor, ours / rate


def _pipeline_rss(d: dict[str, Any]) -> Iterable[tuple[str, str, float]]:
    # Two comparisons per reader: peak RSS (smaller is better, so anchor / ours) and samples/s.
    runs = {r["name"]: r for r in d.get("results", []) if "error" not in r}
    ours = runs.get("tensorbridge")
    if ours is None:
        return
    for name, r in runs.items():
        if not name.startswith("tensorbridge"):
            yield "memmap .npy, peak RSS", name, r["vm_hwm"] / ours["vm_hwm"]
            yield "memmap .npy, samples/s", name, (ours["samples"] / ours["seconds"]) / (r["samples"] / r["seconds"])


def _generic(d: dict[str, Any]) -> Iterable[tuple[str, str, float]]:
    """Any list of dicts with a ``speedup`` or ``ratio`` field (for benchmarks added later)."""
    for value in d.values():
        if isinstance(value, list):
            for r in value:
                if isinstance(r, dict):
                    ratio = r.get("speedup", r.get("ratio"))
                    if isinstance(ratio, (int, float)):
                        yield str(r.get("case", r.get("name", "?"))), str(r.get("anchor", "anchor")), ratio


#: benchmark name -> how to read its JSON into (case, anchor, ratio) rows.
EXTRACTORS: dict[str, Callable[[dict[str, Any]], Iterable[tuple[str, str, float]]]] = {
    "bench_convert": _convert,
    "bench_cast": _cast,
    "bench_io_csv": _io_csv,
    "bench_io_npy": _io_npy,
    "bench_pipeline": _pipeline,
    "bench_pipeline_rss": _pipeline_rss,
}


def ratios(name: str, payload: dict[str, Any]) -> list[Ratio]:
    """The comparisons in one benchmark's JSON."""
    extract = EXTRACTORS.get(name, _generic)
    try:
        return [Ratio(name, case, anchor, float(r)) for case, anchor, r in extract(payload)]
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
        raise ValueError(f"{name}.json does not have the layout the report expects ({e!r})") from None


def load_results(results_dir: Path, names: Iterable[str]) -> dict[str, list[Ratio]]:
    """Reads ``results_dir/NAME.json`` for every name that has one."""
    out = {}
    for name in names:
        path = results_dir / f"{name}.json"
        if path.exists():
            out[name] = ratios(name, json.loads(path.read_text()))
    return out


def table(rows: list[Ratio]) -> str:
    """A Markdown table of the comparisons."""
    lines = ["| benchmark | case | anchor | tensorbridge speedup |", "|---|---|---|---|"]
    lines += [f"| {r.bench} | {r.case} | {r.anchor} | {r.ratio:.2f}x |" for r in rows]
    return "\n".join(lines)


def _plot(name: str, rows: list[Ratio], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on CI machines
    import matplotlib.pyplot as plt

    labels = [f"{r.case} vs {r.anchor}" for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.2))
    ax.barh(range(len(rows)), [r.ratio for r in rows], color=["tab:green" if r.ratio >= 1 else "tab:red" for r in rows])
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("tensorbridge speedup (anchor time / tensorbridge time), log scale")
    ax.set_title(name)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write(results: dict[str, list[Ratio]], out_dir: Path, command: str) -> Path:
    """Writes ``report.md`` and one ``NAME.png`` per benchmark into ``out_dir``; returns the report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = ["# tensorbridge benchmark report", "", f"Reproduce with `{command}`. Ratios > 1: tensorbridge is "
             "faster than the anchor measured in the same run on the same data.", ""]
    for name, rows in results.items():
        parts += [f"## {name}", ""]
        if not rows:
            parts += ["(no comparisons in its JSON)", ""]
            continue
        _plot(name, rows, out_dir / f"{name}.png")
        parts += [table(rows), "", f"![{name}]({name}.png)", ""]
    report = out_dir / "report.md"
    report.write_text("\n".join(parts))
    return report

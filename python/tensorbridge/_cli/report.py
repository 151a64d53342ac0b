"""The benchmark report: the rows of each ``bench/results/*.json`` (one layout for every benchmark,
written by ``bench/_harness.py``) turned into one Markdown file.

First the summary: every case once, against its strongest anchor (the one tensorbridge beats by the
least or loses to by the most), sorted worst first, losses and ties kept, each with its one-line
why. Then the memory-limit rows (anchors that are ceilings, not competitors), then every comparison
per benchmark with a bar chart."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Ratios within this of 1 count as a tie.
TIE = 0.05


@dataclass(frozen=True)
class Ratio:
    """One comparison: ``ratio`` > 1 means tensorbridge was faster (or smaller) than ``anchor`` on
    ``case``; ``ceiling`` marks an anchor that is a limit (a memcpy of the same bytes), not a rival."""

    bench: str
    case: str
    anchor: str
    ratio: float
    ours: str = ""
    why: str = ""
    ceiling: bool = False
    spread: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def verdict(self) -> str:
        return "loss" if self.ratio < 1 - TIE else "tie" if self.ratio <= 1 + TIE else "win"


def ratios(name: str, payload: dict[str, Any]) -> list[Ratio]:
    """The comparisons in one benchmark's JSON (its ``rows``, as ``_harness.row`` writes them)."""
    rows = payload.get("rows")
    if not isinstance(rows, list):  # a file's content, not an argument's type
        raise ValueError(  # noqa: TRY004
            f"{name}.json has no list of rows (was it written by an older bench/?); run the benchmark again")
    try:
        return [Ratio(name, str(r["case"]), str(r["anchor"]), float(r["ratio"]), str(r.get("ours", "")),
                      str(r.get("why", "")), bool(r.get("ceiling", False)),
                      {"ours": r.get("ours_stats"), "anchor": r.get("anchor_stats"), "metric": r.get("metric")})
                for r in rows]
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{name}.json does not have the layout the report expects ({e!r})") from None


def load_results(results_dir: Path, names: Iterable[str]) -> dict[str, list[Ratio]]:
    """Reads ``results_dir/NAME.json`` for every name that has one."""
    out = {}
    for name in names:
        path = results_dir / f"{name}.json"
        if path.exists():
            out[name] = ratios(name, json.loads(path.read_text()))
    return out


def load_extras(results_dir: Path, names: Iterable[str]) -> dict[str, str]:
    """The Markdown a benchmark adds below its comparisons (its JSON's ``report_md``, e.g. the CSV
    bounds), for every name that has one."""
    out = {}
    for name in names:
        path = results_dir / f"{name}.json"
        if path.exists():
            extra = json.loads(path.read_text()).get("report_md")
            if isinstance(extra, str) and extra:
                out[name] = extra
    return out


def strongest(rows: Iterable[Ratio]) -> list[Ratio]:
    """Each case once, against the anchor with the lowest ratio (ceilings left out), worst first."""
    best: dict[tuple[str, str], Ratio] = {}
    for r in rows:
        key = (r.bench, r.case)
        if not r.ceiling and (key not in best or r.ratio < best[key].ratio):
            best[key] = r
    return sorted(best.values(), key=lambda r: r.ratio)


def _why(r: Ratio) -> str:
    return r.why if r.verdict != "win" else ""


def summary(rows: list[Ratio]) -> str:
    """The Markdown summary: every case against its strongest anchor, worst first."""
    lines = ["| benchmark | case | strongest anchor | tensorbridge speedup | verdict | why |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.bench} | {r.case} | {r.anchor} | {r.ratio:.2f}x | {r.verdict} | {_why(r)} |" for r in strongest(rows)]
    return "\n".join(lines)


def table(rows: list[Ratio]) -> str:
    """A Markdown table of comparisons, worst first."""
    lines = ["| benchmark | case | anchor | tensorbridge speedup | why |", "|---|---|---|---|---|"]
    lines += [f"| {r.bench} | {r.case} | {r.anchor} | {r.ratio:.2f}x | {r.why} |" for r in sorted(rows, key=lambda r: r.ratio)]
    return "\n".join(lines)


def _plot(name: str, rows: list[Ratio], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on CI machines
    import matplotlib.pyplot as plt

    labels = [f"{r.case} vs {r.anchor}" for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(rows) + 1.2))
    colors = ["tab:gray" if r.ceiling else "tab:green" if r.ratio >= 1 else "tab:red" for r in rows]
    ax.barh(range(len(rows)), [r.ratio for r in rows], color=colors)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("tensorbridge speedup (anchor / tensorbridge, median), log scale; gray: a ceiling")
    ax.set_title(name)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write(results: dict[str, list[Ratio]], out_dir: Path, command: str, extras: dict[str, str] | None = None) -> Path:
    """Writes ``report.md`` and one ``NAME.png`` per benchmark into ``out_dir`` (with each benchmark's
    ``extras`` Markdown below its comparisons); returns the report."""
    out_dir.mkdir(parents=True, exist_ok=True)
    every = [r for rows in results.values() for r in rows]
    intro = (f"Reproduce with `{command}`. Ratios are the anchor's median time (or peak memory) over "
             "tensorbridge's, measured in the same rounds on the same data with outputs checked equal: > 1 means "
             f"tensorbridge is faster; within {TIE:.0%} of 1 is a tie.")
    parts = ["# tensorbridge benchmark report", "", intro, "",
             "## Every case against its strongest anchor, worst first", "", summary(every), ""]
    ceilings = sorted((r for r in every if r.ceiling), key=lambda r: r.ratio)
    if ceilings:
        parts += ["## Against the memory limit (a plain copy of the same bytes, no conversion)", "", table(ceilings), ""]
    for name, rows in results.items():
        parts += [f"## {name}", ""]
        if not rows:
            parts += ["(no comparisons in its JSON)", ""]
            continue
        _plot(name, rows, out_dir / f"{name}.png")
        parts += [table(rows), "", f"![{name}]({name}.png)", ""]
        if extras and name in extras:
            parts += [extras[name], ""]
    report = out_dir / "report.md"
    report.write_text("\n".join(parts))
    return report

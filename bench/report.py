"""Rows of results, their goals, and the plain-text tables the bench prints and saves."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass
class Row:
    """One measured case: its value against a baseline, as a ratio checked against a goal (ratio ≤ goal)."""

    group: str
    case: str
    value: float = math.nan
    baseline: float = math.nan
    ratio: float = math.nan
    goal: float | None = None
    unit: str = "ms CPU/req"
    baseline_label: str = ""
    detail: str = ""
    error: str = ""

    @property
    def status(self) -> str:
        if self.error:
            return "ERROR"
        if self.goal is None or math.isnan(self.ratio):
            return "-"
        return "met" if self.ratio <= self.goal else "NOT MET"


def median_ratio(pairs: Iterable[tuple[float, float]]) -> float:
    """The median of value/baseline over interleaved rounds; NaN when no round had a usable baseline."""
    ratios = [value / baseline for value, baseline in pairs if baseline > 0 and not math.isnan(value)]
    return statistics.median(ratios) if ratios else math.nan


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def _goal(row: Row) -> str:
    return "-" if row.goal is None else f"≤ {row.goal:g}x"


def _table(headings: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    widths = [max(len(heading), *(len(line[n]) for line in lines)) for n, heading in enumerate(headings)]
    out = ["  ".join(heading.ljust(width) for heading, width in zip(headings, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * width for width in widths))
    out += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines]
    return "\n".join(out)


def group_table(rows: Sequence[Row]) -> str:
    """Every row of one group, with its baseline, ratio, goal and whether the goal is met."""
    lines = [
        (
            row.case,
            _number(row.value),
            _number(row.baseline),
            row.baseline_label,
            "-" if math.isnan(row.ratio) else f"{row.ratio:.2f}x",
            _goal(row),
            row.status,
            row.error or row.detail,
        )
        for row in rows
    ]
    return _table(("case", "value", "baseline", "baseline is", "ratio", "goal", "met", "notes"), lines)


def summary_table(rows: Sequence[Row]) -> str:
    """The goals only: one line per row that has a goal or an error, and a count."""
    chosen = [row for row in rows if row.goal is not None or row.error]
    lines = [
        (
            row.group,
            row.case,
            "-" if math.isnan(row.ratio) else f"{row.ratio:.2f}x",
            _goal(row),
            row.status,
            row.error[:80],
        )
        for row in chosen
    ]
    met = sum(row.status == "met" for row in chosen)
    return _table(("group", "case", "ratio", "goal", "met", "error"), lines) + (
        f"\n\n{met} of {len(chosen)} goals met."
    )

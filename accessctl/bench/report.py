"""Targets, pass/miss, and the plain-text table both benchmarks print."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median


@dataclass(frozen=True, slots=True)
class Row:
    """One measured figure, with its target when it has one."""

    label: str
    value: float
    unit: str
    target: float | None = None
    # "<=" when lower is better, ">=" when higher is.
    compare: str = "<="

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        check: Callable[[float, float], bool] = operator.le if self.compare == "<=" else operator.ge
        return "pass" if check(self.value, self.target) else "MISS"


def p99(samples: Sequence[float]) -> float:
    """The 99th percentile by rank (the same definition as `accessctl.engine.bench`)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def mid(samples: Sequence[float]) -> float:
    return float(median(samples))


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_table(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> str:
    """A fixed-width table: figure, value, target, pass/MISS; then the notes."""
    header = ("figure", "value", "target", "")
    cells = [
        (
            r.label,
            f"{_number(r.value)} {r.unit}".strip(),
            "" if r.target is None else f"{r.compare} {_number(r.target)} {r.unit}".strip(),
            r.verdict,
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in [header, *cells]) for i in range(4)]
    lines = [title, "-" * len(title)]
    for cell in [header, *cells]:
        lines.append(f"{cell[0]:<{widths[0]}}  {cell[1]:>{widths[1]}}  {cell[2]:>{widths[2]}}  {cell[3]}".rstrip())
    lines.extend(f"note: {note}" for note in notes)
    return "\n".join(lines)


def misses(rows: Sequence[Row]) -> list[str]:
    return [r.label for r in rows if r.verdict == "MISS"]

"""Targets, pass/miss, latency percentiles, and the plain-text tables the benchmarks print."""

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


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile by rank (the same definition as `accessctl.engine.bench`)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def p99(samples: Sequence[float]) -> float:
    return percentile(samples, 0.99)


def mid(samples: Sequence[float]) -> float:
    return float(median(samples))


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _target(row: Row) -> str:
    return "" if row.target is None else f"{row.compare} {_number(row.target)} {row.unit}".strip()


def render_grid(title: str, header: Sequence[str], cells: Sequence[Sequence[str]], notes: Sequence[str] = ()) -> str:
    """A fixed-width table: the first and last columns left-aligned, the ones between right-aligned; then notes."""
    lines_of = [tuple(header), *(tuple(c) for c in cells)]
    widths = [max(len(line[i]) for line in lines_of) for i in range(len(header))]
    lines = [title, "-" * len(title)]
    for line in lines_of:
        middle = [f"{value:>{width}}" for value, width in zip(line[1:-1], widths[1:-1], strict=True)]
        lines.append("  ".join([f"{line[0]:<{widths[0]}}", *middle, line[-1]]).rstrip())
    lines.extend(f"note: {note}" for note in notes)
    return "\n".join(lines)


def render_table(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> str:
    """A fixed-width table: figure, value, target, pass/MISS; then the notes."""
    cells = [(r.label, f"{_number(r.value)} {r.unit}".strip(), _target(r), r.verdict) for r in rows]
    return render_grid(title, ("figure", "value", "target", ""), cells, notes)


@dataclass(frozen=True, slots=True)
class Latencies:
    """One kind of call, in milliseconds: the correct answers timed (median, p90, p99, slowest) and the wrong ones.

    A wrong answer (an error status) is counted, not timed: a fast failure must not flatter the percentiles.
    """

    count: int
    median_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int = 0

    @classmethod
    def of(cls, samples_ms: Sequence[float], errors: int = 0) -> Latencies:
        if not samples_ms:
            return cls(0, 0.0, 0.0, 0.0, 0.0, errors)
        ordered = sorted(samples_ms)
        return cls(len(ordered), mid(ordered), percentile(ordered, 0.90), p99(ordered), ordered[-1], errors)

    def verdict(self, target_p99_ms: float) -> str:
        """MISS when the p99 is over the target or any call went wrong."""
        timed = Row("p99", self.p99_ms, "ms", target_p99_ms).verdict
        return "MISS" if self.errors or not self.count else timed


def render_latency_table(
    title: str, rows: Sequence[tuple[str, Latencies]], target_p99_ms: float, notes: Sequence[str] = ()
) -> str:
    """One line per kind of call: count, errors, median, p90, p99, max, and the verdict against the p99 target."""
    header = ("operation", "count", "errors", "median ms", "p90 ms", "p99 ms", "max ms", "p99 target", "")
    target = f"<= {_number(target_p99_ms)} ms"
    cells = []
    for label, figures in rows:
        numbers = (figures.median_ms, figures.p90_ms, figures.p99_ms, figures.max_ms)
        counts = (str(figures.count), str(figures.errors))
        cells.append((label, *counts, *(_number(n) for n in numbers), target, figures.verdict(target_p99_ms)))
    return render_grid(title, header, cells, notes)


def misses(rows: Sequence[Row]) -> list[str]:
    return [r.label for r in rows if r.verdict == "MISS"]

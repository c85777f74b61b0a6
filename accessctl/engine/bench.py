"""A micro-benchmark of decide(), warm (the same key again) and cold (every key new, cache empty).

Not a test: the team's targets at 34,000 users are warm median <= 5 us and cold median <= 50 us; run it with
`measure(engine, requests)` on `synthetic.synthetic_world()` or on a loaded production snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from time import perf_counter_ns

from accessctl.engine.engine import Engine
from accessctl.engine.types import AccessRequest


@dataclass(frozen=True, slots=True)
class BenchResult:
    """Per-call latency of decide(), in microseconds."""

    warm_median_us: float
    warm_p99_us: float
    cold_median_us: float
    cold_p99_us: float
    warm_calls: int
    cold_calls: int


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def measure(
    engine: Engine,
    requests: Sequence[AccessRequest],
    *,
    warm_repeats: int = 20,
    now: datetime | None = None,
) -> BenchResult:
    """Time each decide() call: cold with the cache emptied before every call, warm on the same key repeated.

    With `now=None` every call reads the clock, as in production.
    """
    if not requests:
        raise ValueError("measure needs at least one request")
    cold: list[float] = []
    for request in requests:
        engine.clear_cache()
        start = perf_counter_ns()
        engine.decide(request, now)
        cold.append((perf_counter_ns() - start) / 1000)
    warm: list[float] = []
    for request in requests:
        engine.decide(request, now)
        for _ in range(warm_repeats):
            start = perf_counter_ns()
            engine.decide(request, now)
            warm.append((perf_counter_ns() - start) / 1000)
    return BenchResult(
        warm_median_us=median(warm),
        warm_p99_us=_p99(warm),
        cold_median_us=median(cold),
        cold_p99_us=_p99(cold),
        warm_calls=len(warm),
        cold_calls=len(cold),
    )

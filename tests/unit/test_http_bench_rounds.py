"""`accessctl bench http` over rounds: medians, and each round's single/bare share taken within the round."""

from __future__ import annotations

import pytest

from accessctl.bench import http_bench
from accessctl.bench.drivers import LoadResult


def _run(per_second: float, p99_ms: float = 5.0) -> LoadResult:
    return LoadResult(requests=int(per_second * 10), seconds=10.0, p50_ms=1.0, p99_ms=p99_ms, errors=0, non_2xx=0)


def test_the_share_of_bare_is_each_rounds_own_then_the_median_and_other_figures_are_medians() -> None:
    # The machine slows down in round 2: bare and single both drop, and their share stays what it was.
    results = {
        "bare": [_run(20_000), _run(10_000), _run(19_000)],
        "single": [_run(10_000, 8.0), _run(5_000, 30.0), _run(9_000, 9.0)],
        "batch": [_run(100), _run(90), _run(120)],
    }
    plan = http_bench.HttpPlan(seconds=10, connections=32, warmup_seconds=2, use_wrk=True, rounds=3)
    out = http_bench.summary(results, 2, plan)
    assert out["single_share_of_bare_rounds"] == pytest.approx([0.5, 0.5, 9_000 / 19_000])
    assert out["single_share_of_bare"] == pytest.approx(0.5)
    # The ratio of the medians would have said 9,000 / 19,000: a slow minute of one scenario is not a verdict.
    assert out["single_rps"] == pytest.approx(9_000) and out["bare_rps"] == pytest.approx(19_000)
    assert out["single_p99_ms"] == pytest.approx(9.0)
    assert out["batch_decisions_per_s"] == pytest.approx(100 * http_bench.BATCH)
    assert out["single_requests"] == 240_000 and out["rounds"] == 3 and out["users"] == 2

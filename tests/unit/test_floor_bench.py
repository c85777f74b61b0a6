"""The floor bench's arithmetic and parts: ceilings from stage costs, the scratch table, another process's CPU."""

from __future__ import annotations

import os
import time

import pytest

from accessctl.audit import store
from accessctl.bench.floor_bench import (
    QUERY_INDEXES,
    SCRATCH,
    Cost,
    ceilings,
    median_cost,
    process_cpu_s,
    rows,
    scratch_table,
)
from accessctl.bench.report import misses


def _result(**changes: float | None) -> dict[str, float | None]:
    figures: dict[str, float | None] = {
        "cores": 2,
        "bare_rps": 20_000.0,
        "raw_bare_rps": 20_000.0,  # 100 us of the machine per HTTP request
        "single_code_us": 10.0,
        "batch_code_us": 5.0,
        "chain_16_us": 4.0,
        "chain_100_us": 3.0,
        "store_16_cpu_us": 20.0,
        "store_16_server_us": 6.0,
        "store_16_wall_us": 30.0,
        "store_100_cpu_us": 8.0,
        "store_100_server_us": 4.0,
        "store_100_wall_us": 15.0,
        "unindexed_16_cpu_us": 10.0,
        "unindexed_16_server_us": None,
        "unindexed_16_wall_us": 12.0,
        "unindexed_100_cpu_us": 2.0,
        "unindexed_100_server_us": None,
        "unindexed_100_wall_us": 3.0,
    }
    figures.update(changes)
    return figures


def test_ceilings_divide_the_cores_by_the_sum_of_the_stages_and_count_the_database_server() -> None:
    out = ceilings(_result())
    assert out["http_us"] == pytest.approx(100.0)
    # batch: code 5 + chain 3 + store 8 + server 4 = 20 us a decision; 2 cores make 100,000 a second
    assert out["store_batch_decision_us"] == pytest.approx(20.0)
    assert out["store_batch_ceiling_per_s"] == pytest.approx(100_000.0)
    # without a server figure (SQLite) only this process's CPU counts: 5 + 3 + 2
    assert out["unindexed_batch_ceiling_per_s"] == pytest.approx(2e6 / 10.0)
    # single: code 10 + chain 4 + store 20 + server 6 + http 100 = 140 us a request
    assert out["store_single_request_us"] == pytest.approx(140.0)
    assert out["store_single_ceiling_rps"] == pytest.approx(2e6 / 140.0)
    assert out["store_single_ceiling_share"] == pytest.approx(2e6 / 140.0 / 20_000.0)


def test_the_http_cost_is_the_raw_endpoint_and_the_share_is_of_the_litestar_endpoint() -> None:
    out = ceilings(_result(raw_bare_rps=40_000.0))
    assert out["http_us"] == pytest.approx(50.0)
    # single: 10 + 4 + 20 + 6 + 50 = 90 us a request; the share is of the Litestar endpoint's 20,000 req/s
    assert out["store_single_ceiling_rps"] == pytest.approx(2e6 / 90.0)
    assert out["store_single_ceiling_share"] == pytest.approx(2e6 / 90.0 / 20_000.0)


def _judged(**changes: float | None) -> list[str]:
    figures = _result(**changes)
    return misses(rows({**figures, **ceilings(figures)}))


def test_rows_judge_the_ceilings_against_bench_http_targets() -> None:
    # batch 20 us (100,000/s), single 140 us (14,286/s, 71 % of 20,000): every ceiling clears its target
    assert _judged() == []
    # single with all indexes: 10 + 4 + 60 + 6 + 50 = 130 us, 15,385/s, 38 % of 40,000; without them 74 us, 68 %
    assert _judged(bare_rps=40_000.0, raw_bare_rps=40_000.0, store_16_cpu_us=60.0) == [
        "best single / bare, all indexes"
    ]
    # batch with all indexes: 5 + 3 + 40 + 30 = 78 us, 25,641/s; without them 10 us
    assert _judged(store_100_cpu_us=40.0, store_100_server_us=30.0) == ["best batch rate, all indexes"]


def test_the_scratch_table_has_the_audit_columns_and_only_the_time_ordered_indexes() -> None:
    table = scratch_table()
    assert table.name == SCRATCH
    assert [c.name for c in table.columns] == [c.name for c in store.EVENTS.columns]
    indexed = {tuple(c.name for c in index.columns) for index in table.indexes}
    expected = {
        tuple(c.name for c in index.columns)
        for index in store.EVENTS.indexes
        if not QUERY_INDEXES & {c.name for c in index.columns}
    }
    assert indexed == expected
    assert ("occurred_at",) in indexed and ("chain_id", "seq") in indexed
    assert not any(QUERY_INDEXES & set(names) for names in indexed)
    assert len(store.EVENTS.indexes) - len(table.indexes) == len(QUERY_INDEXES)


def test_another_process_cpu_is_read_from_proc_and_absent_for_a_process_that_does_not_exist() -> None:
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # burn some CPU so the figure moves
        pass
    seen = process_cpu_s(os.getpid())
    assert seen is not None
    assert seen == pytest.approx(time.process_time(), abs=0.05)
    assert process_cpu_s(2**22 + 12_345) is None  # above the kernel's largest pid


def test_the_median_run_is_kept_whole() -> None:
    runs = [Cost(10.0, 1.0, 20.0), Cost(1.0, None, 2.0), Cost(5.0, 5.0, 9.0)]
    # totals 11, 1 and 10: the run whose total is the median, with its own parts
    assert median_cost(runs) == Cost(5.0, 5.0, 9.0)

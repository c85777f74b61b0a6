"""`accessctl bench` and `accessctl bench http` run end to end on a small demo region and report every figure."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from click.testing import CliRunner

from accessctl.cli import main

ENGINE_KEYS = {
    "casbin_enforce_us_median",
    "decide_cold_us_median",
    "decide_cold_us_p99",
    "decide_warm_us_median",
    "decide_warm_us_p99",
    "build_s",
    "peak_rss_mib",
    "ratio",
}
HTTP_KEYS = {
    "bare_rps",
    "bare_p99_ms",
    "single_rps",
    "single_p50_ms",
    "single_p99_ms",
    "batch_rps",
    "batch_decisions_per_s",
    "single_share_of_bare",
}


def _run(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, dict)
    return parsed


def _loopback_bindable() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
    except OSError:
        return False
    return True


def test_engine_bench_reports_casbin_cold_warm_build_and_rss_as_positive_numbers() -> None:
    result = _run(["bench", "--users", "300", "--sample", "3", "--requests", "200", "--json"])
    assert result.keys() >= ENGINE_KEYS
    assert all(isinstance(result[k], float) and result[k] > 0 for k in ENGINE_KEYS)
    assert result["users"] == 300
    assert result["casbin_sample"] == 3
    assert result["decide_cold_sample"] == 200
    assert result["decide_warm_sample"] == 200 * 20
    assert isinstance(result["policy_lines"], int) and result["policy_lines"] > 0
    assert isinstance(result["grouping_lines"], int) and result["grouping_lines"] > 0
    mix = result["mix"]
    assert isinstance(mix, dict)
    assert any(k.endswith(":permit") for k in mix) and any(k.endswith(":deny") for k in mix)


@pytest.mark.parametrize("client", ["default", "python"])
def test_http_bench_drives_both_servers_and_reports_throughput_and_latency(client: str) -> None:
    if not _loopback_bindable():
        pytest.skip("no loopback port can be bound here")
    extra = ["--python-client"] if client == "python" else []
    result = _run(["bench", "http", "--users", "300", "--seconds", "1", "--connections", "4", *extra, "--json"])
    assert result.keys() >= HTTP_KEYS
    assert all(isinstance(result[k], float) and result[k] > 0 for k in HTTP_KEYS)
    assert result["batch_decisions_per_s"] == pytest.approx(result["batch_rps"] * 100)
    for scenario in ("bare", "single", "batch"):
        assert result[f"{scenario}_requests"] > 0
        assert result[f"{scenario}_non_2xx"] == 0
        assert result[f"{scenario}_errors"] == 0
    if client == "python":
        assert result["load_generator"] == "python"

"""Which real servers the suite may use, and how a missing one is handled.

Tests that need a real server skip when it is absent, unless ACCESSCTL_TEST_REQUIRE names that server
(`.ci/run` sets it), in which case the absence is a failure.
"""

from __future__ import annotations

import os
import shutil

import pytest


def required(server: str) -> bool:
    wanted = os.environ.get("ACCESSCTL_TEST_REQUIRE", "")
    return server in {s.strip() for s in wanted.split(",")}


def skip_or_fail(server: str, why: str) -> None:
    if required(server):
        pytest.fail(f"{server} is required in this run (ACCESSCTL_TEST_REQUIRE) but {why}")
    pytest.skip(f"{server}: {why}")


def postgres_url() -> str:
    """The PostgreSQL URL of this run; skips (or fails) the test when there is none."""
    url = os.environ.get("ACCESSCTL_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        skip_or_fail("postgres", "ACCESSCTL_TEST_DATABASE_URL names no PostgreSQL database")
    return url


def slapd_path() -> str:
    path = shutil.which("slapd") or ("/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None)
    if path is None:
        skip_or_fail("slapd", "slapd is not installed")
    assert path is not None
    return path

"""`accessctl policies publish|approve|rollback|versions|diff|export` against a real migrated database."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from accessctl import migrate
from accessctl.cli import main
from tests.databases import fresh_database
from tests.policy_copies import EXTRA_PERMISSION, LEGEVAKT, copy_policies, edit


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        migrate.upgrade(url, quiet=True)
        yield {"ACCESSCTL_DATABASE_URL": url, "ACCESSCTL_DATA_DIR": str(tmp_path)}


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    return copy_policies(tmp_path)


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["policies", *args], env=env)


def published(env: dict[str, str], policy_dir: Path, author: str = "alice") -> str:
    result = run(env, "publish", "--author", author, "--policy-dir", str(policy_dir), "--json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["id"])


def test_publish_then_approve_by_someone_else_activates(env: dict[str, str], policy_dir: Path) -> None:
    version = published(env, policy_dir)
    assert version == "v1"
    approved = run(env, "approve", version, "--approver", "bob", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["status"] == "active"
    listed = json.loads(run(env, "versions", "--json").stdout)
    assert [(v["id"], v["status"], v["approved_by"]) for v in listed] == [("v1", "active", "bob")]


def test_author_cannot_approve_own_version_on_the_command_line(env: dict[str, str], policy_dir: Path) -> None:
    version = published(env, policy_dir)
    result = run(env, "approve", version, "--approver", "alice")
    assert result.exit_code == 1
    assert result.stdout == "" and "cannot also approve" in result.stderr


def test_rollback_prints_a_new_pending_version(env: dict[str, str], policy_dir: Path) -> None:
    first = published(env, policy_dir)
    assert run(env, "approve", first, "--approver", "bob").exit_code == 0
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    second = published(env, policy_dir)
    assert run(env, "approve", second, "--approver", "bob").exit_code == 0
    result = run(env, "rollback", first, "--author", "carol", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rollback_of"] == first and json.loads(result.stdout)["status"] == "pending"


def test_diff_and_export_read_the_active_version_and_the_database(
    env: dict[str, str], policy_dir: Path, tmp_path: Path
) -> None:
    loaded = CliRunner().invoke(main, ["demo", "load", "--users", "200", "--policies", str(policy_dir)], env=env)
    assert loaded.exit_code == 0, loaded.output
    version = published(env, policy_dir)
    assert run(env, "approve", version, "--approver", "bob").exit_code == 0
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)

    diffed = run(env, "diff", "--policy-dir", str(policy_dir), "--json")
    assert diffed.exit_code == 0, diffed.output
    body = json.loads(diffed.stdout)
    assert body["from"] == "v1" and [r["role"] for r in body["roles"]] == ["legevakt.lege"]
    assert "legevakt.lege (changed)" in run(env, "diff", "--policy-dir", str(policy_dir)).stdout

    exported = run(env, "export", "--out", str(tmp_path / "casbin"), "--json")
    assert exported.exit_code == 0, exported.output
    lines = (tmp_path / "casbin" / "policy.csv").read_text().splitlines()
    assert "policy v1" in lines[0]
    assert "p, legevakt.lege, report.quality, view" not in lines  # the active version, not the working copy
    assert any(line.startswith("g, ") for line in lines)


def test_publishing_an_invalid_set_prints_the_problems_and_fails(env: dict[str, str], policy_dir: Path) -> None:
    edit(policy_dir, LEGEVAKT, ("services: [legevakt]\n", "services: [legevakt, tannlege]\n"))
    result = run(env, "publish", "--author", "alice", "--policy-dir", str(policy_dir))
    assert result.exit_code == 1
    assert f"{LEGEVAKT}:" in result.stderr and "tannlege" in result.stderr

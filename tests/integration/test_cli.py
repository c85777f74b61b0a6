"""The accessctl command: help on every command, tokens on stdout, migrations, errors on stderr."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from accessctl.auth import KeySet, TokenVerifier
from accessctl.auth.keys import DevSigningKey
from accessctl.cli import main
from tests.databases import fresh_database

COMMANDS = [[], ["serve"], ["db"], ["db", "upgrade"], ["db", "check"], ["demo"], ["token"], ["token", "issue"]]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "accessctl")
def test_every_command_has_help(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(main, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_token_issue_prints_only_a_jwt_the_server_accepts(runner: CliRunner, tmp_path: Path) -> None:
    env = {"ACCESSCTL_DATA_DIR": str(tmp_path)}
    result = runner.invoke(
        main,
        [
            "token",
            "issue",
            "--sub",
            "portal",
            "--scope",
            "patient-log:read",
            "--claim",
            "patient=01817012345",
            "--ttl",
            "60",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.count(".") == 2 and "\n" not in token
    key = DevSigningKey.load_or_create(tmp_path / "dev-signing-key.pem")
    verifier = TokenVerifier(
        KeySet.from_jwks({"keys": [key.public_jwk()]}), issuer="accessctl-dev", audience="accessctl"
    )
    principal = asyncio.run(verifier.verify(token))
    assert principal.subject == "portal"
    assert principal.scopes == {"patient-log:read"}
    assert principal.claims["patient"] == "01817012345"


def test_token_issue_refuses_unknown_scope_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        main, ["token", "issue", "--sub", "x", "--scope", "root"], env={"ACCESSCTL_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "root" in result.stderr


def test_token_issue_refuses_to_override_reserved_claims(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        main,
        ["token", "issue", "--sub", "x", "--scope", "authz:evaluate", "--claim", "exp=99999999999"],
        env={"ACCESSCTL_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code != 0
    assert "exp" in result.stderr


def test_bad_setting_is_one_line_on_stderr(runner: CliRunner) -> None:
    result = runner.invoke(main, ["db", "check"], env={"ACCESSCTL_PORT": "eighty"})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ACCESSCTL_PORT")
    assert "Traceback" not in result.output


def test_db_upgrade_then_check_is_clean_and_check_fails_before(runner: CliRunner, tmp_path: Path) -> None:
    import os

    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        env = {"ACCESSCTL_DATABASE_URL": url, "ACCESSCTL_DATA_DIR": str(tmp_path)}
        before = runner.invoke(main, ["db", "check"], env=env)
        assert before.exit_code != 0
        assert "no revision" in before.stderr
        assert runner.invoke(main, ["db", "upgrade"], env=env).exit_code == 0
        after = runner.invoke(main, ["db", "check"], env=env)
        assert after.exit_code == 0, after.output
        assert "no drift" in after.stdout

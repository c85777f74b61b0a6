"""`accessctl audit verify` and `purge`: exit 0 with a summary, or exit 1 naming the first bad record."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.writer import AuditWriter
from accessctl.cli import main
from accessctl.db import make_engine
from tests.integration.audit.helpers import decision, tamper

# Short enough that September 2026 has expired by the time these tests run.
SHORT_RETENTION = {"ACCESSCTL_AUDIT_RETENTION_DAYS": "30"}


def _write(url: str, key: Path, count: int, at: datetime | None = None) -> AuditWriter:
    async def run() -> AuditWriter:
        engine = make_engine(url)
        writer = AuditWriter(engine, CheckpointSigner.load_or_create(key), checkpoint_every=5)
        await writer.start()
        for n in range(count):
            await writer.record(decision(n, at=at))
        await writer.close()
        await engine.dispose()
        return writer

    return asyncio.run(run())


def _count(url: str) -> int:
    async def run() -> int:
        engine = make_engine(url)
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM audit_events"))).scalar_one()
        await engine.dispose()
        return int(count)

    return asyncio.run(run())


def _tamper(url: str, sql: str) -> None:
    async def run() -> None:
        engine = make_engine(url)
        await tamper(engine, sql)
        await engine.dispose()

    asyncio.run(run())


def test_verify_prints_a_summary_and_exits_0_on_an_intact_log(audit_url: str, tmp_path: Path) -> None:
    key = tmp_path / "audit-key.pem"
    _write(audit_url, key, 12)
    env = {"ACCESSCTL_DATABASE_URL": audit_url, "ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(key)}
    result = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert result.exit_code == 0, result.output
    assert "ok: 1 chain(s), 12 record(s), 3 signed checkpoint(s)" in result.stdout


def test_verify_exits_1_naming_chain_seq_and_event_of_the_first_bad_record(audit_url: str, tmp_path: Path) -> None:
    key = tmp_path / "audit-key.pem"
    writer = _write(audit_url, key, 12)
    _tamper(audit_url, "UPDATE audit_events SET outcome = 'deny' WHERE seq = 7")
    env = {"ACCESSCTL_DATABASE_URL": audit_url, "ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(key)}
    result = CliRunner().invoke(main, ["audit", "verify", "--from", "2026-11-26"], env=env)
    assert result.exit_code == 1
    assert f"chain {writer.chain_id} seq 7 event " in result.stderr
    assert "record changed" in result.stderr


def test_verify_without_the_signing_key_is_an_error_not_a_new_key(audit_url: str, tmp_path: Path) -> None:
    key = tmp_path / "missing.pem"
    env = {"ACCESSCTL_DATABASE_URL": audit_url, "ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(key)}
    result = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert result.exit_code == 1
    assert "no audit signing key" in result.stderr
    assert not key.exists()


def _public_key(key: Path, tmp_path: Path) -> Path:
    """`accessctl audit public-key` for the key at `key`, written where an auditor would keep it."""
    result = CliRunner().invoke(main, ["audit", "public-key"], env={"ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(key)})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in result.stdout
    public = tmp_path / f"{key.stem}.pub.pem"
    public.write_text(result.stdout)
    return public


def test_an_auditor_verifies_with_public_keys_only_across_a_key_rotation(audit_url: str, tmp_path: Path) -> None:
    old_key, new_key = tmp_path / "2025.pem", tmp_path / "2026.pem"
    _write(audit_url, old_key, 6)  # one chain signed with the old key
    _write(audit_url, new_key, 6)  # the next writer's chain, after the key was replaced
    old_public, new_public = _public_key(old_key, tmp_path), _public_key(new_key, tmp_path)
    no_private_key = {"ACCESSCTL_DATABASE_URL": audit_url, "ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(tmp_path / "none")}

    both = ["--public-key", str(old_public), "--public-key", str(new_public)]
    result = CliRunner().invoke(main, ["audit", "verify", *both], env=no_private_key)
    assert result.exit_code == 0, result.output
    assert "ok: 2 chain(s), 12 record(s)" in result.stdout

    result = CliRunner().invoke(main, ["audit", "verify", "--public-key", str(new_public)], env=no_private_key)
    assert result.exit_code == 1
    assert "signed with unknown key" in result.stderr


def test_verify_with_a_file_that_is_no_ed25519_public_key_is_a_usage_error(audit_url: str, tmp_path: Path) -> None:
    private = tmp_path / "audit-key.pem"
    CheckpointSigner.load_or_create(private)
    env = {"ACCESSCTL_DATABASE_URL": audit_url}
    for wrong in (private, tmp_path / "missing.pem"):  # a private key is refused too: verify never needs one
        result = CliRunner().invoke(main, ["audit", "verify", "--public-key", str(wrong)], env=env)
        assert result.exit_code == 2, result.output
        assert "--public-key" in result.stderr


def test_purge_then_verify_on_the_command_line(audit_url: str, tmp_path: Path) -> None:
    key = tmp_path / "audit-key.pem"
    _write(audit_url, key, 6, at=datetime(2026, 9, 30, tzinfo=UTC))
    env = {"ACCESSCTL_DATABASE_URL": audit_url, "ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(key), **SHORT_RETENTION}
    purged = CliRunner().invoke(main, ["audit", "purge", "--before", "2026-10-01", "--yes"], env=env)
    assert purged.exit_code == 0, purged.output
    assert "purged 6 record(s) of 1 chain(s) before 2026-10-01" in purged.stdout
    verified = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    assert "6 purged record(s) accounted for" in verified.stdout


def test_purge_refuses_a_month_that_has_not_ended(audit_url: str, tmp_path: Path) -> None:
    env = {"ACCESSCTL_DATABASE_URL": audit_url, "ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(tmp_path / "k.pem")}
    result = CliRunner().invoke(main, ["audit", "purge", "--before", "2999-01-01", "--yes"], env=env)
    assert result.exit_code == 1
    assert "only remove months that have ended" in result.stderr


def test_purge_refuses_a_cutoff_inside_the_retention_period_and_changes_nothing(audit_url: str, tmp_path: Path) -> None:
    key = tmp_path / "audit-key.pem"
    _write(audit_url, key, 6, at=datetime(2026, 9, 30, tzinfo=UTC))
    env = {"ACCESSCTL_DATABASE_URL": audit_url, "ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(key)}  # 3650 days
    result = CliRunner().invoke(main, ["audit", "purge", "--before", "2026-10-01", "--yes"], env=env)
    assert result.exit_code == 1
    assert "--before" in result.stderr and "retention period still keeps" in result.stderr
    assert _count(audit_url) == 6


def test_purge_without_the_signing_key_is_an_error_not_a_new_key(audit_url: str, tmp_path: Path) -> None:
    _write(audit_url, tmp_path / "audit-key.pem", 6, at=datetime(2026, 9, 30, tzinfo=UTC))
    missing = tmp_path / "missing.pem"
    env = {"ACCESSCTL_DATABASE_URL": audit_url, "ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(missing), **SHORT_RETENTION}
    result = CliRunner().invoke(main, ["audit", "purge", "--before", "2026-10-01", "--yes"], env=env)
    assert result.exit_code == 1
    assert "no audit signing key" in result.stderr
    assert not missing.exists()
    assert _count(audit_url) == 6

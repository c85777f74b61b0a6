"""Checkpoint signatures: verify with the public key, fail on any changed field or a foreign key; key file 0600."""

from __future__ import annotations

import dataclasses
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

from accessctl.audit.signing import CheckpointSigner, signature_problem, signing_key_path
from accessctl.settings import Settings

AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_checkpoint_verifies_and_any_changed_field_does_not() -> None:
    signer = CheckpointSigner.generate()
    checkpoint = signer.sign(uuid.uuid4(), 1000, "a" * 64, AT)
    keys = signer.public_keys()
    assert signature_problem(checkpoint, keys) is None
    for change in ({"seq": 999}, {"hash": "b" * 64}, {"chain_id": uuid.uuid4()}, {"signed_at": AT.replace(hour=1)}):
        assert signature_problem(dataclasses.replace(checkpoint, **change), keys) == (
            "checkpoint signature does not verify"
        )


def test_checkpoint_from_an_unknown_key_is_named() -> None:
    checkpoint = CheckpointSigner.generate().sign(uuid.uuid4(), 1, "a" * 64, AT)
    problem = signature_problem(checkpoint, CheckpointSigner.generate().public_keys())
    assert problem is not None and "unknown key" in problem


def test_dev_key_is_created_once_private_to_the_owner_and_reloaded(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    path = signing_key_path(settings)
    assert path == tmp_path / "audit-signing-key.pem"
    first = CheckpointSigner.from_settings(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert CheckpointSigner.from_settings(settings).key_id == first.key_id


def test_audit_settings_come_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ACCESSCTL_AUDIT_SIGNING_KEY_PATH": str(tmp_path / "k.pem"),
            "ACCESSCTL_AUDIT_CHECKPOINT_EVERY": "50",
            "ACCESSCTL_AUDIT_CHECKPOINT_SECONDS": "3",
            "ACCESSCTL_AUDIT_RETENTION_DAYS": "4000",
        }
    )
    assert signing_key_path(settings) == tmp_path / "k.pem"
    assert (settings.audit_checkpoint_every, settings.audit_checkpoint_seconds) == (50, 3)
    assert settings.audit_retention_days == 4000


def test_writer_from_settings_uses_the_configured_key_and_interval(tmp_path: Path) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from accessctl.audit.writer import AuditWriter

    settings = Settings(data_dir=tmp_path, audit_checkpoint_every=7, audit_checkpoint_seconds=2)
    writer = AuditWriter.from_settings(create_async_engine("sqlite+aiosqlite://"), settings)
    assert (writer.checkpoint_every, writer.checkpoint_seconds) == (7, 2)
    assert writer.signer.key_id == CheckpointSigner.from_settings(settings).key_id

"""Each audit test gets its own migrated database: the writer commits, and tamper tests go around the triggers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl import migrate
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.writer import AuditWriter
from accessctl.db import make_engine
from tests.databases import fresh_database


@pytest.fixture
def audit_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        migrate.upgrade(url, quiet=True)
        yield url


@pytest.fixture
async def audit_engine(audit_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(audit_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def signer() -> CheckpointSigner:
    return CheckpointSigner.generate()


@pytest.fixture
async def writer(audit_engine: AsyncEngine, signer: CheckpointSigner) -> AsyncIterator[AuditWriter]:
    """A started writer with checkpoints every 10 records; closed (tail signed) after the test."""
    writer = AuditWriter(audit_engine, signer, checkpoint_every=10, checkpoint_seconds=60)
    await writer.start()
    yield writer
    await writer.close()

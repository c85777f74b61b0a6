"""The audit tables refuse UPDATE and DELETE on both databases, and the migration's trigger SQL matches guards."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit import guards
from accessctl.audit.writer import AuditWriter
from tests.integration.audit.helpers import decision

CHANGES = [
    "UPDATE audit_events SET patient = '02817012345'",
    "DELETE FROM audit_events",
    "UPDATE audit_checkpoints SET hash = 'x'",
    "DELETE FROM audit_checkpoints",
]


@pytest.mark.parametrize("sql", CHANGES)
async def test_update_and_delete_of_audit_rows_are_refused(
    writer: AuditWriter, audit_engine: AsyncEngine, sql: str
) -> None:
    await writer.record_many([decision(n) for n in range(10)])  # reaches a checkpoint too
    with pytest.raises(DBAPIError, match="append-only"):
        async with audit_engine.begin() as conn:
            await conn.execute(text(sql))
    async with audit_engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM audit_events"))).scalar_one() == 10
        assert (await conn.execute(text("SELECT count(*) FROM audit_checkpoints"))).scalar_one() == 1


async def test_truncate_is_refused_on_postgresql(writer: AuditWriter, audit_engine: AsyncEngine) -> None:
    if audit_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    await writer.record(decision(0))
    with pytest.raises(DBAPIError, match="append-only"):
        async with audit_engine.begin() as conn:
            await conn.execute(text("TRUNCATE audit_events"))


async def test_migration_created_the_same_triggers_guards_recreates(audit_engine: AsyncEngine) -> None:
    async with audit_engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = await conn.execute(
                text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'audit_%'")
            )
            names = {name for (name,) in rows}
            expected = {f"{t}_{kind}" for t in guards.TABLES for kind in ("no_change", "no_truncate")}
            assert names == expected
            return
        rows = await conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
        stored = {name: sql for name, sql in rows if name.startswith("audit_")}
    expected_sql = {}
    for table in guards.TABLES:
        expected_sql[f"{table}_no_update"] = guards.sqlite_update_trigger(table)
        expected_sql[f"{table}_no_delete"] = guards.sqlite_delete_trigger(table)
    assert stored == expected_sql

"""SCIM's case-insensitive lookups (userName, emails) are answered from their lower() indexes, not a table scan."""

from __future__ import annotations

import pytest
from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import User
from accessctl.hr_sync.filters import parse_filter
from accessctl.hr_sync.query import user_condition


async def _plan(session: AsyncSession, query: Select[tuple[str]]) -> str:
    connection = await session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    if connection.dialect.name == "postgresql":
        # An empty test table is cheapest to scan: forbid that, so the plan shows whether an index can answer.
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = await connection.exec_driver_sql(f"EXPLAIN {sql}")
        return "\n".join(str(row[0]) for row in rows)
    rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize(
    ("expression", "index"),
    [
        ('userName eq "Kari.Nordmann@Scimby.example"', "ix_users_lower_user_name"),
        ('emails.value eq "Kari@Scimby.example"', "ix_users_lower_email"),
        ('emails[type eq "work" and value eq "kari@scimby.example"]', "ix_users_lower_email"),
    ],
)
async def test_an_eq_filter_on_a_case_insensitive_attribute_uses_its_index(
    session: AsyncSession, expression: str, index: str
) -> None:
    plan = await _plan(session, select(User.id).where(user_condition(parse_filter(expression))))
    assert index in plan, plan

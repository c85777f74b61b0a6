"""Concurrent writes through every write route of the real server (2 workers), while decisions are audited.

On SQLite a transaction that read first cannot write once another connection has committed ("database is
locked" at once, whatever the busy timeout): before the fix, most of these requests answered 500. Every write
route now begins as a writer, and break-the-glass takes its process lock before the database's write lock.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from accessctl import migrate
from accessctl.audit import actions
from accessctl.audit.models import AuditEventRow
from accessctl.auth import DevSigningKey, issue_token
from accessctl.break_glass import BreakGlassGrant
from accessctl.db import Database
from accessctl.settings import Secret, Settings
from tests.api.break_glass_world import grant_body
from tests.api.test_authzen import evaluation
from tests.api.world import DOCTOR, OTHER_PATIENT, PATIENT, UNIT
from tests.databases import fresh_database
from tests.integration.test_audit_survives_sigkill import _seed
from tests.live_server import live_server

ROUNDS = 40  # each round sends one request of every kind below, all at once
SCOPES = ["context:write", "authz:evaluate"]


def _relation(patient: str) -> dict[str, Any]:
    return {"patient": patient, "unit": UNIT, "kind": "admission", "valid_from": "2026-01-01T00:00:00Z"}


def _block(patient: str) -> dict[str, Any]:
    return {"patient": patient, "user": DOCTOR, "reason": "asked by the patient", "valid_from": "2026-01-01T00:00:00Z"}


async def _one(client: httpx.AsyncClient, kind: str, i: int) -> tuple[str, int]:
    if kind == "put_relation":
        response = await client.put(f"/v1/care-relations/r{i % 7}", json=_relation(PATIENT))
    elif kind == "put_block":
        response = await client.put(f"/v1/patient-blocks/b{i % 7}", json=_block(OTHER_PATIENT))
    elif kind == "bulk":
        relations = [{"id": f"k{i}-{j}", **_relation(PATIENT)} for j in range(3)]
        response = await client.post("/v1/care-relations/bulk", json={"relations": relations})
    elif kind == "delete_relation":
        response = await client.delete(f"/v1/care-relations/r{(i + 3) % 7}")
    elif kind == "break_glass":
        response = await client.post("/v1/break-glass", json=grant_body())
    else:
        response = await client.post("/access/v1/evaluation", json=evaluation())
    return kind, response.status_code


async def _storm(base: str, headers: dict[str, str]) -> Counter[tuple[str, int]]:
    kinds = ["put_relation", "put_block", "bulk", "delete_relation", "break_glass", "evaluation"]
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120, limits=limits) as client:
        answers = await asyncio.gather(*(_one(client, kind, i) for i in range(ROUNDS) for kind in kinds))
    return Counter(answers)


async def _counts(url: str) -> tuple[int, int]:
    database = Database.from_settings(Settings(database_url=Secret(url)))
    try:
        async with database.sessions() as session:
            grants = await session.scalar(select(func.count()).select_from(BreakGlassGrant))
            granted = await session.scalar(
                select(func.count()).where(AuditEventRow.action == actions.BREAK_GLASS_GRANTED)
            )
            return int(grants or 0), int(granted or 0)
    finally:
        await database.dispose()


def test_concurrent_writes_never_answer_500_and_make_one_grant(tmp_path: Path) -> None:
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp_path) as url:
        migrate.upgrade(url, quiet=True)
        asyncio.run(_seed(url))
        key = DevSigningKey.load_or_create(tmp_path / "key.pem")
        token = issue_token(key, subject="emr", scopes=SCOPES, issuer="accessctl-dev", audience="accessctl")
        env = {
            "ACCESSCTL_DATABASE_URL": url,
            "ACCESSCTL_DATA_DIR": str(tmp_path),
            "ACCESSCTL_DEV_KEY_PATH": str(tmp_path / "key.pem"),
            "ACCESSCTL_POLICIES_DIR": str(migrate.PROJECT_ROOT / "policies"),
        }
        with live_server(env, tmp_path / "server.log", workers=2) as server:
            answers = asyncio.run(_storm(server.url, {"Authorization": f"Bearer {token}"}))
        failed = {answer: n for answer, n in answers.items() if answer[1] >= 500}
        assert not failed, f"{failed}; server log: {(tmp_path / 'server.log').read_text()[-3000:]}"
        assert answers[("put_relation", 200)] + answers[("put_relation", 201)] == ROUNDS, answers
        assert answers[("put_block", 200)] + answers[("put_block", 201)] == ROUNDS
        assert answers[("bulk", 200)] == ROUNDS
        assert answers[("evaluation", 200)] == ROUNDS
        # Every request for the same user and patient gets the one grant: one made it, the rest were given it.
        assert answers[("break_glass", 201)] == 1
        assert answers[("break_glass", 200)] == ROUNDS - 1
        assert asyncio.run(_counts(url)) == (1, 1)

"""The organisations and services the sample directory (docs/ldap/sample.ldif) belongs to, and helpers to decide."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl import migrate
from accessctl.db import Database
from accessctl.directory.models import Organisation, User
from accessctl.hr_sync.ldap import Ldap3Directory, LdapMapping, LdapSync, load_mapping
from accessctl.hr_sync.ldap.slapd import TemporarySlapd
from accessctl.hr_sync.ldap.wiring import policy_recompute
from accessctl.settings import Secret, Settings
from tests.api.world import PATIENT
from tests.databases import fresh_database
from tests.factories import add_unit
from tests.integration.ldap.slapd import PASSWORD, SAMPLE_MAPPING

TESTBY, ELVDAL = "310000019", "310000027"
LEGEVAKT = "testby.legevakt"
HOME_CARE = "testby.hjemmetjeneste"


async def add_sample_organisations(session: AsyncSession) -> None:
    """The two organisations (live), with the units the directory names and the services they provide."""
    for org_id, number in (("testby", TESTBY), ("elvdal", ELVDAL)):
        session.add(Organisation(id=org_id, org_number=number, name=org_id.title(), kind="municipality",
                                 go_live=date(2023, 1, 1), agreement_signed=True))  # fmt: skip
    await session.flush()
    await add_unit(session, "testby", "testby")
    await add_unit(session, LEGEVAKT, "testby", parent="testby", services=("legevakt",))
    await add_unit(session, HOME_CARE, "testby", parent="testby", services=("hjemmehjelpstjenesten",))
    await add_unit(session, "elvdal", "elvdal")
    await add_unit(session, "elvdal.legekontor", "elvdal", parent="elvdal", services=("legevakt",))
    await session.commit()


@contextmanager
def committed_sample_database(tmp: Path) -> Iterator[str]:
    """A database of its own with the sample organisations, for a command that commits for real."""
    with fresh_database(os.environ.get("ACCESSCTL_TEST_DATABASE_URL") or None, tmp) as url:
        migrate.upgrade(url, quiet=True)
        asyncio.run(_seed(url))
        yield url


async def _seed(url: str) -> None:
    database = Database.from_settings(Settings(database_url=Secret(url)))
    try:
        async with database.sessions() as session:
            await add_sample_organisations(session)
    finally:
        await database.dispose()


class AuditList:
    """An audit sink that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def record(self, event: Any) -> None:
        self.events.append(event)

    async def record_many(self, events: Sequence[Any]) -> None:
        self.events.extend(events)


async def run_sync(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    server: TemporarySlapd,
    audit: AuditList | None = None,
    *,
    mapping: LdapMapping | None = None,
    url: str | None = None,
    **options: Any,
) -> Any:
    """One sync of the sample mapping (or `mapping`), unchanged but for the URL: the test slapd's, or `url`."""
    mapping = mapping or load_mapping(SAMPLE_MAPPING)
    with Ldap3Directory(mapping.connection, Secret(PASSWORD), url=url or server.url) as directory:
        sync = LdapSync(sessions, mapping, directory, recompute=policy_recompute(settings.policies_dir), audit=audit)
        return await sync.run(**options)


async def user_id(session: AsyncSession, hr_id: str) -> str:
    found = await session.scalar(select(User.id).where(User.hr_id == hr_id))
    assert found is not None, hr_id
    return found


def evaluation(user: str, unit: str = LEGEVAKT) -> dict[str, Any]:
    return {
        "subject": {"type": "user", "id": user, "properties": {"unit": unit, "purpose_of_use": "TREAT"}},
        "action": {"name": "read"},
        "resource": {"type": "journal.note", "id": "note-1", "properties": {"patient": PATIENT}},
        "context": {"client_system": "emr", "workstation": "ws-17"},
    }


async def decide(client: httpx.AsyncClient, headers: dict[str, str], user: str, unit: str = LEGEVAKT) -> Any:
    response = await client.post("/access/v1/evaluation", json=evaluation(user, unit), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def relate(client: httpx.AsyncClient, headers: dict[str, str], unit: str = LEGEVAKT) -> None:
    """A care relation between the patient and the whole unit, so any physician on duty there may read."""
    body = {"patient": PATIENT, "unit": unit, "kind": "admission", "valid_from": "2024-01-01T00:00:00Z"}
    response = await client.put(f"/v1/care-relations/cr-{unit}", json=body, headers=headers)
    assert response.status_code == 201, response.text

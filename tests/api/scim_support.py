"""Shared pieces for the SCIM tests: headers, a world with units, a valid user body, and a client with audit kept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.migrate import PROJECT_ROOT
from accessctl.policies.assignment_sync import sync_roles
from accessctl.policies.compile import load_policy
from tests.api.conftest import TokenFactory, bearer, serving
from tests.factories import add_organisation, add_unit, org_number

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HEALTH = "urn:accessctl:scim:schemas:extension:health:1.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
UNIT = "urn:accessctl:scim:schemas:extension:unit:1.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"
CLINIC = "scimby.legevakt"
WARD = "scimby.sykehjem"
SCIMBY_SEED = 11
SCIMBY_NUMBER = org_number(SCIMBY_SEED)


def scim_headers(token: TokenFactory, *scopes: str) -> dict[str, str]:
    """A bearer token with `scopes`, sending SCIM JSON."""
    return {**bearer(token(*scopes)), "Content-Type": SCIM_JSON}


async def add_scim_world(session: AsyncSession) -> None:
    """One municipality with an out-of-hours clinic and a nursing home."""
    await add_organisation(session, "scimby", seed=SCIMBY_SEED)
    await add_unit(session, "scimby", "scimby")
    await add_unit(session, CLINIC, "scimby", parent="scimby", services=("legevakt",))
    await add_unit(session, WARD, "scimby", parent="scimby", services=("sykehjem",))
    # Role rows exist once a policy is published; hr assignments refer to them.
    await sync_roles(session, load_policy(PROJECT_ROOT / "policies"))
    await session.commit()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def days(n: float) -> str:
    """A moment `n` days from now, as SCIM dateTime."""
    return iso(datetime.now(UTC) + timedelta(days=n))


def employment(
    unit: str = CLINIC, position: str = "7006", start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    job: dict[str, Any] = {"unit": unit, "positionCode": position, "validFrom": start or "2024-01-01T00:00:00Z"}
    if end is not None:
        job["validTo"] = end
    return job


def user_body(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid joiner: physician at the out-of-hours clinic since 2024."""
    body: dict[str, Any] = {
        "schemas": [USER_URN, ENTERPRISE, HEALTH],
        "externalId": f"hr-{n:05d}",
        "userName": f"lege{n}@scimby.example",
        "name": {"givenName": "Kari", "familyName": f"Nordmann{n}"},
        "emails": [{"value": f"lege{n}@scimby.example", "type": "work", "primary": True}],
        "active": True,
        ENTERPRISE: {"employeeNumber": f"{100000 + n}", "department": "Legevakt Scimby"},
        HEALTH: {"hprNumber": "1234567", "employments": [employment()]},
    }
    body.update(overrides)
    return body


def group_body(
    unit_id: str = "scimby.akutt",
    name: str = "Akutteam",
    *,
    organisation: str = SCIMBY_NUMBER,
    parent: str | None = "scimby",
    kind: str | None = "team",
    services: list[str] | None = None,
) -> dict[str, Any]:
    """A valid new unit: a team under the municipality, providing the services given."""
    unit: dict[str, Any] = {"organisation": organisation}
    if parent is not None:
        unit["parent"] = parent
    if kind is not None:
        unit["kind"] = kind
    if services is not None:
        unit["services"] = services
    return {"schemas": [GROUP_URN, UNIT], "externalId": unit_id, "displayName": name, UNIT: unit}


class RecordedAudit:
    """Stands in for the app's audit writer: keeps the events it is given."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def record(self, event: Any) -> None:
        self.events.append(event)

    async def record_many(self, events: Sequence[Any]) -> None:
        self.events.extend(events)


@asynccontextmanager
async def serving_with_recorded_audit(app: Litestar, audit: RecordedAudit) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` whose audit events are kept in `audit` instead of the audit store."""
    async with serving(app) as client:
        app.state.audit_writer = audit
        yield client


PATIENT = "01817006872"  # synthetic: month 01 + 80


async def decide(client: httpx.AsyncClient, headers: dict[str, str], user_id: str, unit: str) -> dict[str, Any]:
    """An evaluation: may the user, acting in `unit`, read a journal note of PATIENT now?"""
    body = {
        "subject": {"type": "user", "id": user_id, "properties": {"unit": unit, "purpose_of_use": "TREAT"}},
        "action": {"name": "read"},
        "resource": {"type": "journal.note", "id": "note-1", "properties": {"patient": PATIENT}},
        "context": {"client_system": "emr", "workstation": "ws-1"},
    }
    answer = await client.post("/access/v1/evaluation", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    decision = answer.json()
    assert isinstance(decision, dict)
    return decision


async def relate(client: httpx.AsyncClient, headers: dict[str, str], user_id: str) -> None:
    """The user's own appointment with PATIENT, from 30 days ago."""
    relation = {"patient": PATIENT, "user": user_id, "kind": "appointment", "valid_from": days(-30)}
    response = await client.put(f"/v1/care-relations/cr-{user_id[:8]}", json=relation, headers=headers)
    assert response.status_code == 201, response.text

"""PUT /v1/org/units: a whole organisation's tree, idempotent; cycles, unknown parents and bad numbers are refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.directory.models import Unit
from tests.api.conftest import TokenFactory, bearer
from tests.factories import add_organisation, add_user, org_number

NUMBER = org_number(41)


@pytest.fixture
async def org(session: AsyncSession) -> None:
    await add_organisation(session, "fjordby", seed=41)
    await session.commit()


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return bearer(token("hr:write"))


def tree(*units: dict[str, Any], number: str = NUMBER) -> dict[str, Any]:
    return {"org_number": number, "units": list(units)}


ROOT = {"id": "fjordby", "name": "Fjordby kommune"}
WARD = {"id": "fjordby.legevakt", "name": "Legevakt", "parent": "fjordby", "services": ["legevakt"]}


async def _put(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return await client.put("/v1/org/units", json=body, headers=headers)


@pytest.mark.usefixtures("org")
async def test_put_tree_is_idempotent_and_removes_units_left_out(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    from accessctl.directory.models import Service

    session.add(Service(id="legevakt", name="Legevakt", group="test", shielded=False))
    await session.commit()
    extra = {"id": "fjordby.old", "name": "Old", "parent": "fjordby"}
    first = await _put(client, headers, tree(ROOT, WARD, extra))
    assert first.status_code == 200, first.text
    assert sorted(first.json()["created"]) == ["fjordby", "fjordby.legevakt", "fjordby.old"]
    again = await _put(client, headers, tree(ROOT, WARD, extra))
    assert again.json()["unchanged"] == 3 and again.json()["created"] == []
    trimmed = await _put(client, headers, tree(ROOT, WARD))
    assert trimmed.json()["removed"] == ["fjordby.old"]
    units = set(await session.scalars(select(Unit.id).where(Unit.organisation_id == "fjordby")))
    assert units == {"fjordby", "fjordby.legevakt"}


NUL_SERVICE = {"id": "a", "name": "A", "parent": "fjordby", "services": ["leg\x00evakt"]}


@pytest.mark.usefixtures("org")
@pytest.mark.parametrize(
    ("body", "field", "named"),
    [
        (tree({"id": "a", "name": "A", "parent": "b"}, {"id": "b", "name": "B", "parent": "a"}), "parent", "a"),
        (tree({"id": "a", "name": "A", "parent": "nowhere"}), "units[0].parent", "nowhere"),
        (tree(ROOT, number="123456789"), "org_number", "123456789"),
        (tree(ROOT, ROOT), "units[1].id", "fjordby"),
        (tree({**ROOT, "name": "Fjord\x00by"}), "units[0].name", "fjordby"),  # PostgreSQL's text holds no NUL
        (
            tree(ROOT, {"id": "a", "name": "A", "parent": "fjordby", "services": ["leg\x00evakt"]}),
            "units[1].services",
            "a",
        ),
    ],
)
async def test_bad_tree_is_refused_naming_the_record_and_nothing_is_written(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession, body: dict[str, Any], field: str,
    named: str,
) -> None:  # fmt: skip
    response = await _put(client, headers, body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert named in response.json()["message"]
    assert list(await session.scalars(select(Unit.id).where(Unit.organisation_id == "fjordby"))) == []


@pytest.mark.usefixtures("org")
async def test_unit_still_employing_someone_is_not_removed(
    client: httpx.AsyncClient, headers: dict[str, str], session: AsyncSession
) -> None:
    assert (await _put(client, headers, tree(ROOT, {"id": "fjordby.a", "name": "A", "parent": "fjordby"}))).is_success
    await add_user(session, "worker", unit="fjordby.a")
    await session.commit()
    response = await _put(client, headers, tree(ROOT))
    assert response.status_code == 409
    assert "fjordby.a" in response.json()["message"]
    assert await session.get(Unit, "fjordby.a") is not None


async def test_put_needs_the_hr_write_scope(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await _put(client, bearer(token("directory:read")), tree(ROOT))
    assert response.status_code == 403

"""Policy versions over HTTP: four eyes, access tests on approval, activation reaching the running engine."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.settings import Settings
from tests.api.conftest import TokenFactory, bearer
from tests.api.world import DOCTOR, UNIT, add_world
from tests.policy_copies import EXTRA_PERMISSION, LEGEVAKT, NO_NOTE_READING, copy_policies, edit

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
async def world(session: AsyncSession) -> None:
    await add_world(session)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    return copy_policies(tmp_path)


@pytest.fixture
def settings(settings: Settings, policy_dir: Path) -> Settings:
    return dataclasses.replace(settings, policies_dir=policy_dir)


def admin(token: TokenFactory, sub: str = "alice") -> dict[str, str]:
    return bearer(token("policy:admin", sub=sub))


def approver(token: TokenFactory, sub: str = "bob") -> dict[str, str]:
    return bearer(token("policy:approve", sub=sub))


async def quality_report(client: httpx.AsyncClient, token: TokenFactory) -> dict[str, Any]:
    """May the out-of-hours physician view the quality report (a request without a patient)?"""
    body = {
        "subject": {"type": "user", "id": DOCTOR, "properties": {"unit": UNIT}},
        "action": {"name": "view"},
        "resource": {"type": "report.quality", "id": "q-1", "properties": {}},
    }
    response = await client.post("/access/v1/evaluation", json=body, headers=bearer(token("authz:evaluate")))
    assert response.status_code == 200, response.text
    decision = response.json()
    assert isinstance(decision, dict)
    return decision


async def published(client: httpx.AsyncClient, token: TokenFactory, note: str = "") -> dict[str, Any]:
    response = await client.post("/v1/policies/versions", json={"note": note}, headers=admin(token))
    assert response.status_code == 201, response.text
    version = response.json()
    assert isinstance(version, dict)
    return version


async def test_activation_reaches_running_engine_without_restart(
    client: httpx.AsyncClient, token: TokenFactory, policy_dir: Path
) -> None:
    before = await quality_report(client, token)
    assert before["decision"] is False and before["context"]["reason"] == "no_permission"

    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    version = await published(client, token, "quality reports at the out-of-hours clinic")
    assert version["status"] == "pending" and version["author"] == "alice"
    assert (await quality_report(client, token))["decision"] is False  # pending changes nothing

    response = await client.post(f"/v1/policies/versions/{version['id']}/approve", headers=approver(token))
    assert response.status_code == 200, response.text
    assert response.json()["version"]["status"] == "active"
    after = await quality_report(client, token)
    assert after["decision"] is True
    assert after["context"]["policy_version"] == version["id"]


async def test_author_cannot_approve_own_version_over_http(client: httpx.AsyncClient, token: TokenFactory) -> None:
    version = await published(client, token)
    both = bearer(token("policy:admin", "policy:approve", sub="alice"))
    response = await client.post(f"/v1/policies/versions/{version['id']}/approve", headers=both)
    assert response.status_code == 409
    assert response.json()["code"] == "self_approval"


async def test_approval_refused_with_the_failures_when_an_access_test_fails(
    client: httpx.AsyncClient, token: TokenFactory, policy_dir: Path
) -> None:
    edit(policy_dir, LEGEVAKT, NO_NOTE_READING)
    version = await published(client, token)
    response = await client.post(f"/v1/policies/versions/{version['id']}/approve", headers=approver(token))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "access_tests_failed"
    assert body["failures"] and body["failures"][0]["expected"].startswith("permit")
    listed = (await client.get("/v1/policies/versions", headers=approver(token))).json()["items"]
    assert [v["status"] for v in listed] == ["pending"]


async def test_publishing_an_invalid_set_is_422_naming_the_problem(
    client: httpx.AsyncClient, token: TokenFactory, policy_dir: Path
) -> None:
    edit(policy_dir, LEGEVAKT, ("services: [legevakt]\n", "services: [legevakt, tannlege]\n"))
    response = await client.post("/v1/policies/versions", json={}, headers=admin(token))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_policy" and "tannlege" in response.json()["message"]


@pytest.mark.parametrize("relative", [LEGEVAKT, "tests/latin1.yaml"])
async def test_a_file_that_is_not_utf8_is_422_naming_it_and_nothing_is_stored(
    client: httpx.AsyncClient, token: TokenFactory, policy_dir: Path, relative: str
) -> None:
    (policy_dir / relative).write_bytes('name: "Legevaktlege æøå"\n'.encode("latin-1"))
    response = await client.post("/v1/policies/versions", json={"note": ""}, headers=admin(token))
    assert response.status_code == 422 and f"{relative}:1" in response.json()["message"]
    assert (await client.get("/v1/policies/versions", headers=admin(token))).json()["items"] == []
    response = await client.get("/v1/policies/diff", params={"from": "active", "to": "working"}, headers=admin(token))
    assert response.status_code == 422 and relative in response.json()["message"]


async def test_publish_needs_policy_admin_and_approve_needs_policy_approve(
    client: httpx.AsyncClient, token: TokenFactory
) -> None:
    assert (await client.post("/v1/policies/versions", json={}, headers=approver(token))).status_code == 403
    version = await published(client, token)
    response = await client.post(f"/v1/policies/versions/{version['id']}/approve", headers=admin(token, "carol"))
    assert response.status_code == 403
    assert (await client.get("/v1/policies/versions", headers=bearer(token("authz:evaluate")))).status_code == 403


async def test_rollback_restores_previous_permissions_after_approval_over_http(
    client: httpx.AsyncClient, token: TokenFactory, policy_dir: Path
) -> None:
    original = await published(client, token)
    await client.post(f"/v1/policies/versions/{original['id']}/approve", headers=approver(token))
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    extended = await published(client, token)
    await client.post(f"/v1/policies/versions/{extended['id']}/approve", headers=approver(token))
    assert (await quality_report(client, token))["decision"] is True

    response = await client.post(f"/v1/policies/versions/{original['id']}/rollback", headers=admin(token))
    assert response.status_code == 201, response.text
    restored = response.json()
    assert restored["rollback_of"] == original["id"] and restored["status"] == "pending"
    assert (await quality_report(client, token))["decision"] is True  # not in force until approved
    assert (await client.post(f"/v1/policies/versions/{restored['id']}/approve", headers=approver(token))).is_success
    answer = await quality_report(client, token)
    assert answer["decision"] is False and answer["context"]["policy_version"] == restored["id"]


async def test_diff_shows_role_changes_and_users_who_gain(
    client: httpx.AsyncClient, token: TokenFactory, policy_dir: Path
) -> None:
    original = await published(client, token)
    await client.post(f"/v1/policies/versions/{original['id']}/approve", headers=approver(token))
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    response = await client.get("/v1/policies/diff", params={"from": "active", "to": "working"}, headers=admin(token))
    assert response.status_code == 200, response.text
    body = response.json()
    [change] = body["roles"]
    assert change["role"] == "legevakt.lege"
    assert change["added"] == [{"resource_type": "report.quality", "action": "view", "scope": "unit"}]
    assert body["from"] == original["id"] and body["to"].startswith("sha256:")
    assert body["impact"] == [{"resource_type": "report.quality", "action": "view", "gained": 1, "lost": 0}]


async def test_rollback_to_a_pending_version_is_409_so_its_author_cannot_approve_it(
    client: httpx.AsyncClient, token: TokenFactory, policy_dir: Path
) -> None:
    original = await published(client, token)
    await client.post(f"/v1/policies/versions/{original['id']}/approve", headers=approver(token))
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    response = await client.post("/v1/policies/versions", json={"note": ""}, headers=admin(token, "mallory"))
    unreviewed = response.json()
    response = await client.post(f"/v1/policies/versions/{unreviewed['id']}/rollback", headers=admin(token))
    assert response.status_code == 409 and response.json()["field"] == "version"
    listed = (await client.get("/v1/policies/versions", headers=approver(token))).json()["items"]
    assert [v["id"] for v in listed] == [unreviewed["id"], original["id"]]


@pytest.mark.parametrize(
    ("change", "field", "after"),
    [
        (
            (
                "break_glass: {allowed: true, max_minutes: 240}\n",
                "break_glass: {allowed: true, max_minutes: 240}\naddress_access: [protected_address]\n",
            ),
            "address_access",
            ["protected_address"],
        ),
        (
            ("max_minutes: 240", "max_minutes: 720"),
            "break_glass",
            {"allowed": True, "max_minutes": 720},
        ),
    ],
    ids=["address_access", "break_glass_minutes"],
)
async def test_diff_shows_a_role_change_that_grants_no_new_permission(
    client: httpx.AsyncClient, token: TokenFactory, policy_dir: Path, change: tuple[str, str], field: str, after: Any
) -> None:
    original = await published(client, token)
    await client.post(f"/v1/policies/versions/{original['id']}/approve", headers=approver(token))
    edit(policy_dir, LEGEVAKT, change)
    response = await client.get(
        "/v1/policies/diff", params={"from": "active", "to": "working"}, headers=approver(token)
    )
    body = response.json()
    [role] = body["roles"]
    assert role["role"] == "legevakt.lege" and role["added"] == role["removed"] == []
    assert [(f["field"], f["after"]) for f in role["fields"]] == [(field, after)]
    assert [f["path"] for f in body["files"]] == [LEGEVAKT]


async def test_diff_shows_a_catalogue_change(client: httpx.AsyncClient, token: TokenFactory, policy_dir: Path) -> None:
    original = await published(client, token)
    await client.post(f"/v1/policies/versions/{original['id']}/approve", headers=approver(token))
    services = policy_dir / "services.yaml"
    services.write_text(services.read_text(encoding="utf-8").replace('"Familietiltak"', '"Familiestøtte"'), "utf-8")
    response = await client.get(
        "/v1/policies/diff", params={"from": "active", "to": "working"}, headers=approver(token)
    )
    [change] = response.json()["files"]
    assert change["path"] == "services.yaml" and any("Familiestøtte" in line for line in change["lines"])


async def test_diff_of_an_unknown_version_is_404(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await client.get("/v1/policies/diff", params={"from": "v999"}, headers=approver(token))
    assert response.status_code == 404

"""Validate, test and export the role documents over HTTP, as from the command line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import casbin
import httpx
import pytest
from litestar import Litestar

from accessctl.db import Database
from accessctl.migrate import PROJECT_ROOT
from accessctl.settings import Settings
from accessctl.web import create_app
from tests.api.conftest import TokenFactory, bearer, serving
from tests.api.world import DOCTOR, UNIT, add_world


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return bearer(token("policy:approve"))


async def test_validate_reports_the_shipped_documents_valid(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/v1/policies/validate", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"valid": True, "problems": []}


async def test_validate_names_file_line_and_field_of_a_broken_document(
    settings: Settings, database: Database, tmp_path: Path, headers: dict[str, str]
) -> None:
    broken = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", broken)
    role = broken / "roles" / "legevakt.lege.yaml"
    role.write_text(role.read_text().replace("services: [legevakt]\n", "services: [legevakt, nowhere]\n", 1))
    app: Litestar = create_app(Settings(**{**settings.__dict__, "policies_dir": broken}), database=database)
    async with serving(app) as client:
        body = (await client.post("/v1/policies/validate", headers=headers)).json()
    assert body["valid"] is False
    problem = body["problems"][0]
    assert problem["file"] == "roles/legevakt.lege.yaml"
    assert problem["field"].startswith("services")
    assert problem["line"] > 0
    assert "nowhere" in problem["message"]


async def test_access_tests_run_over_http(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/v1/policies/test", headers=headers)
    assert response.status_code == 200
    report = response.json()
    assert report["failed"] == 0
    assert report["passed"] >= 100
    assert report["problems"] == []


async def test_export_loads_in_stock_casbin_and_gives_the_role_layer(
    client: httpx.AsyncClient, headers: dict[str, str], session: Any, tmp_path: Path
) -> None:
    await add_world(session)
    response = await client.get("/v1/policies/export", headers=headers)
    assert response.status_code == 200
    export = response.json()
    (tmp_path / "model.conf").write_text(export["model_conf"])
    (tmp_path / "policy.csv").write_text(export["policy_csv"])
    enforcer = casbin.Enforcer(str(tmp_path / "model.conf"), str(tmp_path / "policy.csv"))
    assert enforcer.enforce(DOCTOR, UNIT, "journal.note", "read") is True
    assert enforcer.enforce(DOCTOR, "testby", "journal.note", "read") is False
    assert enforcer.enforce(DOCTOR, UNIT, "audit.log", "read") is False
    assert export["policy_version"] in export["policy_csv"]


async def test_checks_need_a_policy_scope(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await client.post("/v1/policies/validate", headers=bearer(token("authz:evaluate")))
    assert response.status_code == 403
    assert "policy:admin" in response.json()["message"]


async def test_a_policy_that_does_not_compile_keeps_the_service_up_but_not_ready(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    broken = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", broken)
    (broken / "roles" / "legevakt.lege.yaml").write_text("id: [unclosed\n")
    app = create_app(Settings(**{**settings.__dict__, "policies_dir": broken}), database=database)
    async with serving(app) as client:
        ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert "InvalidPolicy" in ready.json()["reason"]

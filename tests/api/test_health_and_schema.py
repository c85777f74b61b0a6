"""Probes, metrics, OpenAPI and the AuthZEN metadata answer without a token."""

from __future__ import annotations

import httpx
from litestar import Litestar

from accessctl.db import Database, make_engine
from accessctl.settings import Secret, Settings
from accessctl.web import create_app
from tests.api.conftest import serving


async def test_live_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_database_is_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


async def test_ready_is_503_while_the_audit_writer_is_not_running(client: httpx.AsyncClient, app: Litestar) -> None:
    """Every decision about a patient waits for its audit record: without the writer the process serves none."""
    writer = app.state.audit_writer
    await writer.close()
    response = await client.get("/health/ready")
    assert response.status_code == 503, response.text
    assert response.json()["reason"] == "audit writer is not running"


async def test_ready_is_503_with_reason_when_schema_is_not_migrated(settings: Settings, tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{settings.data_dir / 'empty.db'}"
    database = Database.from_settings(Settings(data_dir=settings.data_dir, database_url=Secret(url)))
    try:
        async with serving(create_app(settings, database=database)) as client:
            response = await client.get("/health/ready")
    finally:
        await database.dispose()
    assert response.status_code == 503
    assert "accessctl db upgrade" in response.json()["reason"]


async def test_ready_is_503_when_database_is_unreachable(settings: Settings) -> None:
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    from sqlalchemy.ext.asyncio import async_sessionmaker

    database = Database(engine=engine, sessions=async_sessionmaker(engine))
    try:
        async with serving(create_app(settings, database=database)) as client:
            response = await client.get("/health/ready")
    finally:
        await engine.dispose()
    assert response.status_code == 503
    assert response.json()["reason"].startswith("database unreachable")


async def test_metrics_has_latency_histogram_by_route_and_status(client: httpx.AsyncClient) -> None:
    await client.get("/health/live")
    await client.get("/v1/units/does-not-matter")  # 401, still measured by route template
    text = (await client.get("/metrics")).text
    assert "accessctl_request_duration_seconds_bucket" in text
    assert 'route="/health/live",status="200"' in text
    assert 'route="/v1/units/{unit_id}",status="401"' in text


async def test_openapi_json_is_served_and_lists_directory_routes(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/v1/users" in paths
    assert "/health/ready" in paths


async def test_authzen_metadata_lists_only_endpoints_that_exist(client: httpx.AsyncClient, app: Litestar) -> None:
    response = await client.get("/.well-known/authzen-configuration")
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["policy_decision_point"].startswith("http")
    served = {route.path for route in app.routes}
    for key, url in metadata.items():
        if key != "policy_decision_point":
            assert url.removeprefix(metadata["policy_decision_point"]) in served

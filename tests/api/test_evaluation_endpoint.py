"""The evaluation routes served before Litestar's routing: the same contract as every other route."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from accessctl.web import evaluation_endpoint
from tests.api.conftest import TokenFactory, bearer
from tests.api.test_authzen import evaluation
from tests.api.world import add_world

pytestmark = pytest.mark.usefixtures("world")

ROUTES = ("/access/v1/evaluation", "/access/v1/evaluations")


@pytest.fixture
async def world(session: Any) -> None:
    await add_world(session)


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return bearer(token("authz:evaluate"))


def body_for(route: str) -> dict[str, Any]:
    return evaluation() if route.endswith("evaluation") else {"evaluations": [evaluation(), evaluation()]}


@pytest.mark.parametrize("route", ROUTES)
async def test_without_a_token_is_401_with_the_challenge(client: httpx.AsyncClient, route: str) -> None:
    response = await client.post(route, json=body_for(route))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json() == {
        "code": "unauthenticated",
        "message": "a bearer token is required",
        "field": "authorization",
    }


@pytest.mark.parametrize("route", ROUTES)
async def test_a_forged_token_is_401(client: httpx.AsyncClient, headers: dict[str, str], route: str) -> None:
    forged = headers["Authorization"][:-4] + ("AAAA" if not headers["Authorization"].endswith("AAAA") else "BBBB")
    response = await client.post(route, json=body_for(route), headers={"Authorization": forged})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("route", ROUTES)
async def test_another_scope_is_403_naming_the_scope(
    client: httpx.AsyncClient, token: TokenFactory, route: str
) -> None:
    response = await client.post(route, json=body_for(route), headers=bearer(token("audit:read")))
    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "message": "this call needs the authz:evaluate scope",
        "field": "scope",
    }


@pytest.mark.parametrize("route", ROUTES)
async def test_malformed_json_is_400(client: httpx.AsyncClient, headers: dict[str, str], route: str) -> None:
    response = await client.post(
        route, content=b'{"subject": ', headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert "not valid JSON" in response.json()["message"]


async def test_a_wrong_type_deep_in_a_batch_names_its_path(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    body = {"evaluations": [evaluation(), {**evaluation(), "action": {"name": 7}}]}
    response = await client.post("/access/v1/evaluations", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["field"] == "evaluations[1].action.name"
    assert response.json()["message"].startswith("evaluations[1].action.name: ")


@pytest.mark.parametrize("route", ROUTES)
async def test_a_body_over_the_limit_is_413_and_decides_nothing(
    client: httpx.AsyncClient, headers: dict[str, str], route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluation_endpoint, "MAX_BODY_BYTES", 100)
    response = await client.post(route, json=body_for(route), headers=headers)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


async def test_an_unexpected_error_is_500_without_internals(
    client: httpx.AsyncClient, headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(state: object, body: bytes) -> None:
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setitem(evaluation_endpoint.EVALUATION_ROUTES, "/access/v1/evaluation", broken)
    response = await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)
    assert response.status_code == 500
    assert response.json() == {"code": "internal_error", "message": "internal error; the incident is logged"}
    assert "passwd" not in response.text


async def test_answers_are_counted_in_the_latency_histogram(
    client: httpx.AsyncClient, headers: dict[str, str], token: TokenFactory
) -> None:

    async def counted(status: str) -> float:
        page = (await client.get("/metrics")).text
        prefix = 'accessctl_request_duration_seconds_count{method="POST",route="/access/v1/evaluation",status="%s"} '
        for line in page.splitlines():
            if line.startswith(prefix % status):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before_ok, before_forbidden = await counted("200"), await counted("403")
    assert (await client.post("/access/v1/evaluation", json=evaluation(), headers=headers)).status_code == 200
    refused = await client.post("/access/v1/evaluation", json=evaluation(), headers=bearer(token("audit:read")))
    assert refused.status_code == 403
    assert await counted("200") == before_ok + 1
    assert await counted("403") == before_forbidden + 1


async def test_other_methods_still_reach_the_router(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/access/v1/evaluation", headers=headers)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


async def test_the_routes_keep_their_openapi_entries(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for route in ROUTES:
        operation = paths[route]["post"]
        assert "requestBody" in operation
        assert "200" in operation["responses"]

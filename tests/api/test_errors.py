"""The error table: bad bodies are 400 naming the field, domain errors map once, nothing leaks a trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from accessctl import errors
from accessctl.web.errors import ERROR_STATUS, EXCEPTION_HANDLERS


class Subject(msgspec.Struct):
    type: str
    id: str


class Body(msgspec.Struct):
    subject: Subject
    count: int
    kind: Literal["a", "b"]


@post("/echo", sync_to_thread=False)
def echo(data: JSONBody[Body]) -> dict[str, str]:
    return {"id": data.subject.id}


@get("/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError("secret internals /etc/passwd")


@get("/conflict", sync_to_thread=False)
def conflict() -> None:
    raise errors.Conflict("already there", field="id")


@pytest.fixture
async def client() -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = Litestar([echo, boom, conflict], exception_handlers=EXCEPTION_HANDLERS, logging_config=None)
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": 1, "kind": "a"}, "subject"),
        ({"subject": {"type": "user"}, "count": 1, "kind": "a"}, "subject.id"),
        ({"subject": {"type": "user", "id": "u"}, "count": "x", "kind": "a"}, "count"),
        ({"subject": {"type": "user", "id": "u"}, "count": 1, "kind": "z"}, "kind"),
    ],
)
async def test_bad_body_is_400_naming_the_field(
    client: AsyncTestClient[Litestar], body: dict[str, object], field: str
) -> None:
    response = await client.post("/echo", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert response.json()["field"] == field
    assert field in response.json()["message"]


async def test_malformed_json_is_400(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


async def test_unexpected_error_is_500_without_internals(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    assert "passwd" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["code"] == "internal_error"


async def test_domain_error_maps_through_the_table(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/conflict")
    assert response.status_code == ERROR_STATUS[errors.Conflict] == 409
    assert response.json() == {"code": "conflict", "message": "already there", "field": "id"}


async def test_unknown_route_is_json_404(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"

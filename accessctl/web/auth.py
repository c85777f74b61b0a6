"""Bearer-token authentication for every route but health, metrics, schema and well-known; scope guards."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from accessctl.auth import Principal, TokenVerifier
from accessctl.errors import Forbidden, Unauthenticated

PUBLIC_PATHS = ["^/health/", "^/metrics", "^/schema", "^/\\.well-known/"]


class BearerAuthentication(AbstractAuthenticationMiddleware):
    """Turns `Authorization: Bearer <jwt>` into a Principal on `request.user`."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection.headers.get("authorization", ""))
        verifier: TokenVerifier = connection.app.state.verifier
        principal = await verifier.verify(token)
        return AuthenticationResult(user=principal, auth=token)


def bearer_token(authorization: str) -> str:
    """The token of an `Authorization: Bearer <jwt>` header's value."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required", field="authorization")
    return token.strip()


def require_scope(principal: object, scopes: tuple[str, ...]) -> None:
    """Refuse a caller whose token carries none of `scopes`."""
    if not isinstance(principal, Principal) or not any(principal.has(scope) for scope in scopes):
        wanted = scopes[0] if len(scopes) == 1 else f"one of {', '.join(scopes)}"
        raise Forbidden(f"this call needs the {wanted} scope", field="scope")


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    """The authenticated caller (every route but the public ones has one: the middleware put it there)."""
    principal = request.user
    assert isinstance(principal, Principal)
    return principal


def caller(request: Request[Any, Any, Any]) -> str:
    """The authenticated caller's subject."""
    return principal_of(request).subject


def requires(*scopes: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard that lets through only callers whose token carries one of `scopes`."""

    # Async, though it never awaits: Litestar runs a sync guard in a worker thread, a hop on every request.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")
        if user is None:  # a method the authentication middleware lets by (OPTIONS): no token was checked
            raise Unauthenticated("this call needs a bearer token", field="authorization")
        require_scope(user, scopes)

    guard.__name__ = "requires_" + "_or_".join(s.replace(":", "_").replace("-", "_") for s in scopes)
    return guard

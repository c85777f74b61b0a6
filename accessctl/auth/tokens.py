"""Issuing (dev) and verifying caller tokens; scopes keep callers apart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from accessctl.auth.keys import DevSigningKey, KeySet
from accessctl.errors import Unauthenticated

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256"})
SCOPES = (
    "authz:evaluate",
    "context:write",
    "directory:read",
    "hr:write",
    "policy:admin",
    "policy:approve",
    "audit:read",
    "btg:review",
    "patient-log:read",
)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who, with which scopes, and the rest of its claims."""

    subject: str
    scopes: frozenset[str]
    claims: Mapping[str, Any] = field(default_factory=dict)

    def has(self, scope: str) -> bool:
        return scope in self.scopes


def issue_token(
    key: DevSigningKey,
    *,
    subject: str,
    scopes: Iterable[str],
    issuer: str,
    audience: str,
    ttl_s: int = 3600,
    claims: Mapping[str, Any] | None = None,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
        "scope": " ".join(sorted(set(scopes))),
    }
    payload.update(claims or {})
    return jwt.encode(payload, key.private_key, algorithm="ES256", headers={"kid": key.kid})


class TokenVerifier:
    """Checks signature, algorithm, issuer, audience, expiry and not-before; `alg: none` and HS* are refused.

    A clinical system sends the same token with thousands of requests, and an ES256 check costs about 150 µs, so
    verified tokens are remembered by their exact text (signature included: a changed token is a new key) until
    they expire, and forgotten when the key set changes. Expiry and not-before are checked on every use.
    """

    def __init__(
        self, keys: KeySet, *, issuer: str, audience: str, leeway_s: int = 30, cache_size: int = 10_000
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_s
        self._cache_size = cache_size
        self._verified: dict[str, tuple[Principal, float, float, int]] = {}

    async def verify(self, token: str) -> Principal:
        await self._keys.keep_fresh()  # before the cache: a remembered token of a withdrawn key is forgotten too
        cached = self._verified.get(token)
        if cached is not None:
            principal, not_before, expires, generation = cached
            now = time.time()
            if generation == self._keys.generation and not_before - self._leeway <= now < expires + self._leeway:
                return principal
            del self._verified[token]
        principal = await self._verify(token)
        if len(self._verified) >= self._cache_size:
            self._verified.pop(next(iter(self._verified)))  # the oldest entry
        claims = principal.claims
        self._verified[token] = (
            principal,
            float(claims.get("nbf", 0)),
            float(claims["exp"]),
            self._keys.generation,
        )
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not a well-formed JWT", field="authorization") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthenticated(f"token algorithm {alg!r} is not accepted (RS256, ES256)", field="alg")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthenticated("token header has no kid", field="kid")
        key = await self._keys.key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token has expired", field="exp") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("token is not valid yet", field="nbf") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("token audience is not accepted", field="aud") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("token issuer is not accepted", field="iss") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"token lacks the {exc.claim} claim", field=exc.claim) from None
        except jwt.PyJWTError:
            raise Unauthenticated("token signature is not valid", field="signature") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.strip():
            # Audit records, four-eyes checks and break-the-glass grants all name the caller by it.
            raise Unauthenticated("token sub must be a non-empty string", field="sub")
        return Principal(subject=subject, scopes=_scopes(claims), claims=claims)


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list):
        return frozenset(str(s) for s in raw)
    return frozenset()

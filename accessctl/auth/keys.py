"""Signing keys: the local dev key, and the JWKS the server trusts (from a file, a URL, or the dev key)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from accessctl.errors import InvalidSetting, Unauthenticated
from accessctl.secret_files import write_once
from accessctl.settings import Settings

log = logging.getLogger(__name__)

JWKS_MIN_REFRESH_S = 30.0
# A URL-backed key set is fetched again at the first token after this many seconds, so a key the identity provider
# has withdrawn (a compromised one) stops being trusted without waiting for an unknown kid or a restart.
JWKS_MAX_AGE_S = 300.0
# The issuer the local development key signs as; any other issuer needs the identity provider's keys.
DEV_ISSUER = "accessctl-dev"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class DevSigningKey:
    """An ES256 key kept under ./var for development: `accessctl token issue` signs with it."""

    private_key: ec.EllipticCurvePrivateKey
    kid: str

    @classmethod
    def load_or_create(cls, path: Path) -> DevSigningKey:
        if not path.exists():
            made = ec.generate_private_key(ec.SECP256R1())
            pem = made.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            write_once(path, pem)  # another worker may have made it first: the file is the key
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise InvalidSetting("ACCESSCTL_DEV_KEY_PATH", f"{path} is not an EC private key")
        key = loaded
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return cls(private_key=key, kid="dev-" + _b64url(hashlib.sha256(der).digest())[:16])

    def public_jwk(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big")),
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
        }


@dataclass
class KeySet:
    """The public keys the server trusts, by kid; a URL-backed set refreshes itself on an unknown kid."""

    keys: dict[str, PyJWK]
    url: str | None = None
    fetched_at: float = 0.0
    # Bumped whenever the key list changes, so verified-token caches drop what an old key signed.
    generation: int = 0
    _client: httpx.AsyncClient | None = field(default=None, repr=False)

    @classmethod
    def from_jwks(cls, document: Any, url: str | None = None) -> KeySet:
        """The usable keys of a JWKS document; a document that is no JWKS object is a ValueError."""
        if not isinstance(document, dict) or not isinstance(document.get("keys", []), list):
            raise ValueError("a JWKS is a JSON object whose 'keys' is a list")
        keys: dict[str, PyJWK] = {}
        for raw in document.get("keys", []):
            if not isinstance(raw, dict):
                continue
            kid = raw.get("kid")
            if not kid or raw.get("kty") not in {"RSA", "EC"}:
                continue
            try:
                keys[kid] = PyJWK(raw)
            except PyJWKError:
                continue
        return cls(keys=keys, url=url, fetched_at=time.monotonic())

    async def keep_fresh(self) -> None:
        """Fetch a URL-backed set again once it is JWKS_MAX_AGE_S old (a failed fetch keeps the keys we have)."""
        if self.url and time.monotonic() - self.fetched_at >= JWKS_MAX_AGE_S:
            await self.refresh()

    async def key_for(self, kid: str) -> PyJWK:
        key = self.keys.get(kid)
        if key is None and self.url and time.monotonic() - self.fetched_at >= JWKS_MIN_REFRESH_S:
            await self.refresh()
            key = self.keys.get(kid)
        if key is None:
            raise Unauthenticated("token signed with an unknown key", field="kid")
        return key

    async def refresh(self) -> None:
        if not self.url:
            return
        self.fetched_at = time.monotonic()
        client = self._client or httpx.AsyncClient(timeout=5.0)
        self._client = client
        try:
            response = await client.get(self.url)
            response.raise_for_status()
            fresh = KeySet.from_jwks(response.json(), self.url)
        except (httpx.HTTPError, ValueError):
            return  # keep the keys we have; an unknown kid is still refused
        if fresh.keys.keys() != self.keys.keys():
            self.generation += 1
        self.keys = fresh.keys

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def load_key_set(settings: Settings) -> KeySet:
    """The trusted keys: a JWKS file, else a JWKS URL, else the local dev key."""
    if settings.jwks_file is not None:
        try:
            document = json.loads(settings.jwks_file.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidSetting("ACCESSCTL_JWKS_FILE", f"cannot read a JWKS: {exc}") from None
        return KeySet.from_jwks(document)
    if settings.jwks_url:
        key_set = KeySet(keys={}, url=settings.jwks_url)
        await key_set.refresh()
        return key_set
    if settings.jwt_issuer != DEV_ISSUER:
        # An issuer of its own means a real identity provider: trusting a key this host made would let anyone who
        # can read it (or run `accessctl token issue`) mint any scope. An empty JWKS setting lands here too.
        raise InvalidSetting(
            "ACCESSCTL_JWKS_URL",
            f"ACCESSCTL_JWT_ISSUER is {settings.jwt_issuer!r}, but neither ACCESSCTL_JWKS_URL nor ACCESSCTL_JWKS_FILE "
            f"names its keys; only the development issuer {DEV_ISSUER!r} may use the local development key",
        )
    dev = DevSigningKey.load_or_create(settings.signing_key_path)
    log.warning(
        "trusting the local development signing key %s (no ACCESSCTL_JWKS_URL or ACCESSCTL_JWKS_FILE): "
        "for development only",
        settings.signing_key_path,
    )
    return KeySet.from_jwks({"keys": [dev.public_jwk()]})

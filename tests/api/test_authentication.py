"""Every protected route needs a valid bearer token with the right scope; bad tokens are refused clearly."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from accessctl.auth import DevSigningKey, KeySet, TokenVerifier, issue_token
from accessctl.db import Database
from accessctl.errors import Unauthenticated
from accessctl.settings import Settings
from accessctl.web import create_app
from tests.api.conftest import TokenFactory, bearer, serving

PROTECTED = "/v1/organisations"


async def _get(client: httpx.AsyncClient, token: str | None) -> Any:
    headers = bearer(token) if token is not None else {}
    return await client.get(PROTECTED, headers=headers)


async def test_no_token_is_401_with_json_error(client: httpx.AsyncClient) -> None:
    response = await _get(client, None)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.json()["field"] == "authorization"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_garbage_token_is_401(client: httpx.AsyncClient) -> None:
    response = await _get(client, "not.a.jwt")
    assert response.status_code == 401
    assert "Traceback" not in response.text


async def test_token_with_scope_is_let_through(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await _get(client, token("directory:read"))
    assert response.status_code == 200, response.text


async def test_valid_token_without_scope_is_403(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await _get(client, token("authz:evaluate"))
    assert response.status_code == 403
    assert "directory:read" in response.json()["message"]


async def test_alg_none_is_refused(client: httpx.AsyncClient) -> None:
    unsigned = jwt.encode(
        {"sub": "x", "iss": "accessctl-dev", "aud": "accessctl", "exp": time.time() + 60, "scope": "directory:read"},
        key="",  # PyJWT takes "" as no key for alg none, as None; its annotations allow only the former
        algorithm="none",
    )
    response = await _get(client, unsigned)
    assert response.status_code == 401
    assert response.json()["field"] == "alg"


async def test_hs256_token_is_refused(client: httpx.AsyncClient, settings: Settings) -> None:
    kid = DevSigningKey.load_or_create(settings.signing_key_path).kid
    forged = jwt.encode(
        {"sub": "x", "iss": "accessctl-dev", "aud": "accessctl", "exp": time.time() + 60, "scope": "directory:read"},
        "a shared secret that is long enough for hmac",
        algorithm="HS256",
        headers={"kid": kid},
    )
    response = await _get(client, forged)
    assert response.status_code == 401
    assert response.json()["field"] == "alg"


async def test_expired_token_is_refused(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await _get(client, token("directory:read", ttl_s=-120))
    assert response.status_code == 401
    assert response.json()["field"] == "exp"


async def test_token_from_the_future_is_refused(client: httpx.AsyncClient, token: TokenFactory) -> None:
    response = await _get(client, token("directory:read", claims={"nbf": int(time.time()) + 600}))
    assert response.status_code == 401
    assert response.json()["field"] == "nbf"


@pytest.mark.parametrize("claim", ["iss", "aud"])
async def test_wrong_issuer_or_audience_is_refused(client: httpx.AsyncClient, settings: Settings, claim: str) -> None:
    key = DevSigningKey.load_or_create(settings.signing_key_path)
    claims = {"sub": "x", "iss": "accessctl-dev", "aud": "accessctl", "exp": time.time() + 60}
    claims[claim] = "someone-else"
    forged = jwt.encode(claims, key.private_key, algorithm="ES256", headers={"kid": key.kid})
    response = await _get(client, forged)
    assert response.status_code == 401
    assert response.json()["field"] == claim


async def test_token_signed_by_an_unknown_key_is_refused(client: httpx.AsyncClient, tmp_path: Path) -> None:
    stranger = DevSigningKey.load_or_create(tmp_path / "stranger.pem")
    forged = jwt.encode(
        {"sub": "x", "iss": "accessctl-dev", "aud": "accessctl", "exp": time.time() + 60},
        stranger.private_key,
        algorithm="ES256",
        headers={"kid": stranger.kid},
    )
    response = await _get(client, forged)
    assert response.status_code == 401


def _rsa_jwk(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return private, public


def _rs256(private: rsa.RSAPrivateKey, kid: str, settings: Settings) -> str:
    claims = {
        "sub": "hr-system",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": time.time() + 60,
        "scope": "directory:read",
    }
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


async def test_rs256_token_checked_against_a_jwks_file(settings: Settings, database: Database, tmp_path: Path) -> None:
    private, public = _rsa_jwk("rsa-1")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [public]}))
    app = create_app(Settings(**{**settings.__dict__, "jwks_file": jwks}), database=database)
    async with serving(app) as client:
        assert (await _get(client, _rs256(private, "rsa-1", settings))).status_code == 200
        stranger, _ = _rsa_jwk("rsa-1")
        assert (await _get(client, _rs256(stranger, "rsa-1", settings))).status_code == 401


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """A JWKS endpoint on loopback whose key list the test may change."""
    document: dict[str, Any] = {"keys": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", document
    server.shutdown()
    server.server_close()


async def test_jwks_url_is_refetched_on_unknown_kid(
    settings: Settings, database: Database, jwks_server: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from accessctl.auth import keys

    monkeypatch.setattr(keys, "JWKS_MIN_REFRESH_S", 0.0)
    url, document = jwks_server
    first, first_jwk = _rsa_jwk("k1")
    document["keys"] = [first_jwk]
    app = create_app(Settings(**{**settings.__dict__, "jwks_url": url}), database=database)
    async with serving(app) as client:
        assert (await _get(client, _rs256(first, "k1", settings))).status_code == 200
        rotated, rotated_jwk = _rsa_jwk("k2")
        document["keys"] = [first_jwk, rotated_jwk]
        assert (await _get(client, _rs256(rotated, "k2", settings))).status_code == 200


async def test_a_remembered_token_is_still_refused_once_it_expires(settings: Settings) -> None:
    key = DevSigningKey.load_or_create(settings.signing_key_path)
    keys = KeySet.from_jwks({"keys": [key.public_jwk()]})
    verifier = TokenVerifier(keys, issuer="accessctl-dev", audience="accessctl", leeway_s=0)
    token = issue_token(
        key, subject="emr", scopes=["authz:evaluate"], issuer="accessctl-dev", audience="accessctl", ttl_s=1
    )
    assert (await verifier.verify(token)).subject == "emr"
    await asyncio.sleep(1.1)
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_a_remembered_token_is_checked_again_when_the_keys_change(settings: Settings) -> None:
    key = DevSigningKey.load_or_create(settings.signing_key_path)
    keys = KeySet.from_jwks({"keys": [key.public_jwk()]})
    verifier = TokenVerifier(keys, issuer="accessctl-dev", audience="accessctl")
    token = issue_token(key, subject="emr", scopes=["authz:evaluate"], issuer="accessctl-dev", audience="accessctl")
    await verifier.verify(token)
    keys.keys = {}  # the key was withdrawn from the JWKS
    keys.generation += 1
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_a_tampered_copy_of_a_remembered_token_is_refused(settings: Settings) -> None:
    key = DevSigningKey.load_or_create(settings.signing_key_path)
    verifier = TokenVerifier(
        KeySet.from_jwks({"keys": [key.public_jwk()]}), issuer="accessctl-dev", audience="accessctl"
    )
    token = issue_token(key, subject="emr", scopes=["authz:evaluate"], issuer="accessctl-dev", audience="accessctl")
    await verifier.verify(token)
    header, _payload, signature = token.split(".")
    forged_payload = jwt.utils.base64url_encode(
        json.dumps({**jwt.decode(token, options={"verify_signature": False}), "scope": "audit:read"}).encode()
    ).decode()
    with pytest.raises(Unauthenticated):
        await verifier.verify(f"{header}.{forged_payload}.{signature}")


async def test_a_key_withdrawn_from_the_jwks_stops_being_trusted_once_the_set_is_old(
    settings: Settings, database: Database, jwks_server: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compromised key is withdrawn at the identity provider: tokens it signs are refused without a restart."""
    from accessctl.auth import keys

    url, document = jwks_server
    withdrawn, withdrawn_jwk = _rsa_jwk("k-old")
    document["keys"] = [withdrawn_jwk]
    app = create_app(Settings(**{**settings.__dict__, "jwks_url": url}), database=database)
    async with serving(app) as client:
        token = _rs256(withdrawn, "k-old", settings)
        assert (await _get(client, token)).status_code == 200
        document["keys"] = []
        assert (await _get(client, token)).status_code == 200  # the set is fresh: not fetched again yet
        monkeypatch.setattr(keys, "JWKS_MAX_AGE_S", 0.0)
        assert (await _get(client, token)).status_code == 401


@pytest.mark.parametrize("document", [[], "keys", {"keys": "none"}, {"keys": ["x", 1]}])
def test_a_jwks_that_is_no_key_set_object_is_refused_clearly(document: Any) -> None:
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        assert KeySet.from_jwks(document).keys == {}  # entries that are no keys are skipped
    else:
        with pytest.raises(ValueError):
            KeySet.from_jwks(document)


async def test_another_issuer_without_its_keys_refuses_to_start_rather_than_trust_the_dev_key(
    settings: Settings, tmp_path: Path
) -> None:
    from accessctl.auth import load_key_set
    from accessctl.errors import InvalidSetting

    key_path = tmp_path / "dev-key.pem"
    production = Settings(
        **{**settings.__dict__, "jwt_issuer": "https://idp.example.org", "jwks_url": None, "dev_key_path": key_path}
    )
    with pytest.raises(InvalidSetting) as refused:
        await load_key_set(production)
    assert "ACCESSCTL_JWKS_URL" in str(refused.value)
    assert not key_path.exists()  # no key was made on this host


@pytest.mark.parametrize("subject", ["", "  ", 7])
async def test_a_token_whose_sub_is_empty_or_no_string_is_refused(
    client: httpx.AsyncClient, settings: Settings, subject: Any
) -> None:
    key = DevSigningKey.load_or_create(settings.signing_key_path)
    claims = {"sub": subject, "iss": settings.jwt_issuer, "aud": settings.jwt_audience, "exp": time.time() + 60}
    token = jwt.encode(
        {**claims, "scope": "directory:read"}, key.private_key, algorithm="ES256", headers={"kid": key.kid}
    )
    response = await _get(client, token)
    assert response.status_code == 401, response.text


async def test_options_on_a_protected_route_is_401_not_500(client: httpx.AsyncClient) -> None:
    response = await client.options(PROTECTED)
    assert response.status_code == 401, response.text

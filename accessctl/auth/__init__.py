"""Caller authentication: JWT bearer tokens signed with RS256 or ES256, checked against a JWKS."""

from accessctl.auth.keys import DevSigningKey, KeySet, load_key_set
from accessctl.auth.tokens import ALLOWED_ALGORITHMS, SCOPES, Principal, TokenVerifier, issue_token

__all__ = [
    "ALLOWED_ALGORITHMS",
    "SCOPES",
    "DevSigningKey",
    "KeySet",
    "Principal",
    "TokenVerifier",
    "issue_token",
    "load_key_set",
]

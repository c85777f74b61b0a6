"""`accessctl token issue`: a signed JWT from the local dev key, for development and tests."""

from __future__ import annotations

import json

import click

from accessctl.auth import SCOPES, DevSigningKey, issue_token


def _claim(value: str) -> tuple[str, object]:
    key, sep, raw = value.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--claim")
    try:
        parsed: object = json.loads(raw)
    except ValueError:
        parsed = raw
    return key, parsed


@click.group()
def token() -> None:
    """Caller tokens for development."""


@token.command()
@click.option("--sub", "subject", required=True, help="The caller's id (token subject).")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES), help="Repeatable.")
@click.option("--claim", "claims", multiple=True, help="Extra claim KEY=VALUE (VALUE parsed as JSON if it can be).")
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(1, 31 * 24 * 3600), help="Seconds.")
@click.pass_context
def issue(ctx: click.Context, subject: str, scopes: tuple[str, ...], claims: tuple[str, ...], ttl: int) -> None:
    """Print a JWT signed with the local dev key (created under the data dir on first use)."""
    from accessctl.cli import settings_of

    settings = settings_of(ctx)
    extra = dict(_claim(c) for c in claims)
    reserved = {"iss", "aud", "sub", "exp", "nbf", "iat", "jti", "scope"} & extra.keys()
    if reserved:
        raise click.BadParameter(f"{', '.join(sorted(reserved))} is set by the command", param_hint="--claim")
    key = DevSigningKey.load_or_create(settings.signing_key_path)
    click.echo(
        issue_token(
            key,
            subject=subject,
            scopes=scopes,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_s=ttl,
            claims=extra,
        )
    )

"""`accessctl audit`: verify the hash chains and signatures, export, purge by retention, forward to a SIEM."""

from __future__ import annotations

import asyncio
import signal
import socket
import ssl
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from accessctl.audit.export import events_between, write_fhir_bundle, write_syslog
from accessctl.audit.forwarder import AuditForwarder
from accessctl.audit.retention import PurgeResult, expired_cutoff, purge_before, retention_cutoff
from accessctl.audit.signing import CheckpointSigner, load_public_keys
from accessctl.audit.syslog_transport import TcpSyslogTransport, tls_context
from accessctl.audit.verify import Report, verify_log
from accessctl.db import Database, utcnow
from accessctl.errors import InvalidInput
from accessctl.settings import Settings

MOMENT = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"])


def _utc(moment: datetime | None) -> datetime | None:
    """A moment given on the command line; without a zone it is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _settings(ctx: click.Context) -> Settings:
    from accessctl.cli import settings_of

    return settings_of(ctx)


@click.group("audit")
def audit() -> None:
    """Audit log: verify the chains and signed checkpoints, export, purge by retention, forward to a SIEM."""


@audit.command("verify")
@click.option("--from", "since", type=MOMENT, help="Verify only records that occurred at or after this (UTC).")
@click.option("--to", "until", type=MOMENT, help="Verify only records that occurred before this (UTC).")
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trust the checkpoints this Ed25519 public key (PEM) signed; repeat for keys used before a rotation. "
    "Without it, the configured signing key's public half.",
)
@click.pass_context
def verify_command(
    ctx: click.Context, since: datetime | None, until: datetime | None, public_keys: tuple[Path, ...]
) -> None:
    """Recompute every hash, check links, seq continuity and signatures; exit 1 naming the first bad record."""
    settings = _settings(ctx)
    if public_keys:
        try:
            keys = load_public_keys(public_keys)
        except InvalidInput as exc:
            raise click.BadParameter(str(exc), param_hint="--public-key") from None
    else:
        keys = CheckpointSigner.from_settings(settings, create=False).public_keys()

    async def run() -> Report:
        database = Database.from_settings(settings)
        try:
            async with database.engine.connect() as conn:
                return await verify_log(conn, keys, since=_utc(since), until=_utc(until))
        finally:
            await database.dispose()

    report = asyncio.run(run())
    if report.problem is not None:
        click.echo(f"audit log NOT intact; first bad record: {report.problem}", err=True)
        ctx.exit(1)
    click.echo(
        f"ok: {report.chains} chain(s), {report.records} record(s), {report.checkpoints} signed checkpoint(s) "
        f"verified; {report.purged} purged record(s) accounted for; {report.unsigned} record(s) not yet signed"
    )


@audit.command("public-key")
@click.pass_context
def public_key_command(ctx: click.Context) -> None:
    """Print the signing key's public half (PEM): give it to auditors, and keep it to verify after a rotation."""
    click.echo(CheckpointSigner.from_settings(_settings(ctx), create=False).public_pem(), nl=False)


@audit.command("purge")
@click.option("--before", type=MOMENT, help="Remove whole months before this one (default: the retention setting).")
@click.option("--actor", help="Who runs the purge, for its audit record.")
@click.confirmation_option(prompt="This removes audit records for good. Go on?")
@click.pass_context
def purge_command(ctx: click.Context, before: datetime | None, actor: str | None) -> None:
    """Remove whole months older than the retention period, leaving a signed audit.purged record."""
    settings = _settings(ctx)
    days, now = settings.audit_retention_days, utcnow()
    cutoff = _utc(before) or retention_cutoff(now, days)
    try:
        expired_cutoff(cutoff, now, days)  # refused here, before the key is needed or anything changes
    except InvalidInput as exc:
        raise InvalidInput(f"--before: {exc.message}; nothing was purged", field="before") from exc
    # The key must be the one verify trusts: a purge signed by a key made on the spot would never verify.
    signer = CheckpointSigner.from_settings(settings, create=False)

    async def run() -> PurgeResult:
        database = Database.from_settings(settings)
        try:
            return await purge_before(database.engine, signer, cutoff, actor=actor, retention_days=days)
        finally:
            await database.dispose()

    result = asyncio.run(run())
    click.echo(
        f"purged {result.removed} record(s) of {result.chains} chain(s) before {result.before:%Y-%m-%d}"
        + (f"; purge record {result.event_id}" if result.event_id else "")
    )


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["fhir", "syslog"]), required=True)
@click.option("--from", "since", type=MOMENT, help="Events that occurred at or after this (UTC).")
@click.option("--to", "until", type=MOMENT, help="Events that occurred before this (UTC).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.pass_context
def export_command(
    ctx: click.Context, fmt: str, since: datetime | None, until: datetime | None, out: Path | None
) -> None:
    """A FHIR R4 Bundle of AuditEvents (IHE BALP), or RFC 5424 syslog lines; streamed, never held whole."""
    settings = _settings(ctx)

    async def run() -> int:
        database = Database.from_settings(settings)
        stream = out.open("w", encoding="utf-8") if out else sys.stdout
        try:
            async with database.engine.connect() as conn:
                events = events_between(conn, _utc(since), _utc(until))
                if fmt == "fhir":
                    return await write_fhir_bundle(events, stream)
                return await write_syslog(events, stream)
        finally:
            if out:
                stream.close()
            await database.dispose()

    count = asyncio.run(run())
    click.echo(f"exported {count} event(s) as {fmt}", err=True)


@audit.command("forward")
@click.option("--host", required=True, help="The SIEM's syslog receiver.")
@click.option("--port", type=click.IntRange(1, 65535), required=True)
@click.option("--tls", is_flag=True, help="Syslog over TLS (RFC 5425), verifying the server's certificate and name.")
@click.option(
    "--ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM file of the CA(s) that signed the SIEM's certificate, trusted instead of the system CAs (with --tls).",
)
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path), help="Position file.")
@click.option("--once", is_flag=True, help="Send what is there now and exit (1 if the peer cannot be reached).")
@click.option("--batch", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.pass_context
def forward_command(
    ctx: click.Context,
    host: str,
    port: int,
    tls: bool,
    ca: Path | None,
    state_path: Path | None,
    once: bool,
    batch: int,
) -> None:
    """Ship every audit record as RFC 5424 syslog over TCP (RFC 6587 framing), resuming where it stopped."""
    if ca is not None and not tls:
        raise click.UsageError("--ca is used only with --tls")
    try:
        context = tls_context(ca) if tls else None
    except ssl.SSLError as exc:
        raise click.BadParameter(f"{ca} holds no PEM CA certificate ({exc.reason})", param_hint="--ca") from exc
    settings = _settings(ctx)
    state = state_path or settings.data_dir / "audit-forwarder-state.json"
    transport = TcpSyslogTransport(host, port, tls=context)

    async def run() -> int:
        database = Database.from_settings(settings)
        forwarder = AuditForwarder(database.engine, transport, state, batch=batch, hostname=socket.gethostname())
        try:
            if once:
                return await forwarder.forward_pending()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await forwarder.run(stop)
            return 0
        finally:
            await transport.close()
            await database.dispose()

    try:
        sent = asyncio.run(run())
    except OSError as exc:
        click.echo(f"could not forward to {host}:{port}: {exc}; position kept in {state}", err=True)
        ctx.exit(1)
    if once:
        click.echo(f"forwarded {sent} record(s) to {host}:{port}; position saved in {state}", err=True)

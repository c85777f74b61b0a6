"""Syslog over TLS (RFC 5425): a peer that is not the receiver configured gets nothing counted, and the command
line's --tls --ca is how a user turns it on."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit.forwarder import AuditForwarder, Backoff, ForwarderState
from accessctl.audit.syslog_transport import TcpSyslogTransport, tls_context
from accessctl.audit.writer import AuditWriter
from accessctl.cli import main
from accessctl.migrate import PROJECT_ROOT
from tests.integration.audit.syslog_listener import WAIT_SECONDS, SyslogListener, ThrowawayCA
from tests.integration.audit.test_forwarder import BATCH, write


async def until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` (the forwarder's counters, another process's state file) for at most WAIT_SECONDS."""
    for _ in range(int(WAIT_SECONDS / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    assert condition(), what


@dataclass(frozen=True)
class Mismatch:
    """A listener the forwarder must not count as its SIEM, and the words its error names the problem with."""

    wrong_server: Callable[[ThrowawayCA, Path], ssl.SSLContext | None]
    forwarder_tls: bool
    error: str


MISMATCHES = {
    "certificate_of_another_ca": Mismatch(
        lambda ca, d: ThrowawayCA.generate("impostor CA").server_context(d),
        True,
        "does not verify against the configured CA and name: unable to get local issuer certificate",
    ),
    "certificate_for_another_name": Mismatch(
        lambda ca, d: ca.server_context(d, ("siem.example",)), True, "IP address mismatch"
    ),
    "plain_forwarder_to_tls_listener": Mismatch(
        lambda ca, d: ca.server_context(d), False, "hung up on the first batch instead of reading syslog"
    ),
    "tls_forwarder_to_plain_listener": Mismatch(lambda ca, d: None, True, "TLS handshake with"),
}


@pytest.mark.parametrize("mismatch", MISMATCHES.values(), ids=MISMATCHES.keys())
async def test_a_listener_that_is_not_the_configured_siem_gets_nothing_counted_until_it_is(
    mismatch: Mismatch,
    audit_engine: AsyncEngine,
    writer: AuditWriter,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ca = ThrowawayCA.generate()
    listener = SyslogListener(mismatch.wrong_server(ca, tmp_path / "wrong"))
    await listener.start()
    client = tls_context(ca.write(tmp_path / "siem-ca.pem")) if mismatch.forwarder_tls else None
    transport = TcpSyslogTransport("127.0.0.1", listener.port, tls=client, connect_timeout=2.0)
    state = tmp_path / "forwarder.json"
    forwarder = AuditForwarder(audit_engine, transport, state, batch=BATCH)
    written = await write(writer, 0, 25)
    stop = asyncio.Event()
    running = asyncio.create_task(forwarder.run(stop, poll_seconds=0.05, backoff=Backoff(0.02, 0.1)))

    await until(lambda: forwarder.failures >= 3, "the forwarder keeps failing against the wrong listener")
    assert listener.messages == [], "nothing delivered"
    assert ForwarderState.load(state).chains == {str(writer.chain_id): 0}, "no record marked forwarded"
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "accessctl.audit.forwarder"]
    assert len(logged) >= 3
    for level, message in logged:
        assert level == logging.ERROR, message
        assert mismatch.error in message and f"127.0.0.1:{listener.port}" in message, message
        assert "position kept" in message

    await listener.stop()  # the SIEM is put right: the certificate and protocol the forwarder was configured for
    listener.tls = ca.server_context(tmp_path / "right") if mismatch.forwarder_tls else None
    await listener.start()
    await listener.wait_for(written)
    stop.set()
    await running
    await listener.stop()
    assert listener.event_ids() == written, "everything, once, in order"
    assert ForwarderState.load(state).chains == {str(writer.chain_id): 25}


def _forward(audit_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["audit", "forward", *args], env={"ACCESSCTL_DATABASE_URL": audit_url})


async def test_forward_command_with_tls_and_ca_ships_over_tls_and_verifies_the_siem(
    audit_url: str, writer: AuditWriter, tmp_path: Path
) -> None:
    written = await write(writer, 0, 7)
    ca = ThrowawayCA.generate()
    listener = SyslogListener(ca.server_context(tmp_path / "siem"))
    await listener.start()
    state = tmp_path / "s.json"
    args = ["--host", "127.0.0.1", "--port", str(listener.port), "--state", str(state), "--once"]

    system_cas = await asyncio.to_thread(_forward, audit_url, *args, "--tls")
    assert system_cas.exit_code == 1, system_cas.output
    assert f"could not forward to 127.0.0.1:{listener.port}" in system_cas.stderr
    assert "does not verify against the configured CA" in system_cas.stderr, "without --ca only the system CAs count"
    assert ForwarderState.load(state).chains == {str(writer.chain_id): 0}

    plain = await asyncio.to_thread(_forward, audit_url, *args)
    assert plain.exit_code == 1, plain.output
    assert "hung up on the first batch" in plain.stderr and "is TLS needed?" in plain.stderr
    assert ForwarderState.load(state).chains == {str(writer.chain_id): 0}, "plain syslog to a TLS port counts nothing"

    result = await asyncio.to_thread(_forward, audit_url, *args, "--tls", "--ca", str(ca.write(tmp_path / "ca.pem")))
    assert result.exit_code == 0, result.output
    assert "forwarded 7 record(s)" in result.stderr
    await listener.wait_for(written)
    await listener.stop()
    assert listener.event_ids() == written
    assert ForwarderState.load(state).chains == {str(writer.chain_id): 7}


def test_forward_command_refuses_a_ca_file_that_holds_no_certificate_or_comes_without_tls(
    audit_url: str, tmp_path: Path
) -> None:
    not_a_ca = tmp_path / "ca.pem"
    not_a_ca.write_text("-----BEGIN NONSENSE-----\n")
    args = ["--host", "127.0.0.1", "--port", "6514", "--once", "--ca", str(not_a_ca)]
    result = _forward(audit_url, *args, "--tls")
    assert result.exit_code == 2
    assert "Invalid value for --ca" in result.stderr and "holds no PEM CA certificate" in result.stderr
    without_tls = _forward(audit_url, *args)
    assert without_tls.exit_code == 2
    assert "--ca is used only with --tls" in without_tls.stderr


async def test_a_running_forwarder_reports_an_untrusted_siem_and_ships_once_it_presents_the_right_certificate(
    audit_url: str, writer: AuditWriter, tmp_path: Path
) -> None:
    """The whole path a user configures: `accessctl audit forward --tls --ca`, as its own process, until SIGTERM."""
    written = await write(writer, 0, 25)
    ca = ThrowawayCA.generate()
    listener = SyslogListener(ThrowawayCA.generate("impostor CA").server_context(tmp_path / "impostor"))
    await listener.start()
    state = tmp_path / "s.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "accessctl.cli",
        "audit",
        "forward",
        "--host",
        "127.0.0.1",
        "--port",
        str(listener.port),
        "--tls",
        "--ca",
        str(ca.write(tmp_path / "ca.pem")),
        "--state",
        str(state),
        "--batch",
        str(BATCH),
        env={**os.environ, "ACCESSCTL_DATABASE_URL": audit_url},
        cwd=PROJECT_ROOT,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(3 * WAIT_SECONDS):
            line = (await process.stderr.readline()).decode()
        assert f"audit forwarding failed (the TLS certificate of 127.0.0.1:{listener.port} does not verify" in line
        assert "position kept, retrying in" in line
        assert listener.messages == []
        assert ForwarderState.load(state).chains == {str(writer.chain_id): 0}

        await listener.stop()
        listener.tls = ca.server_context(tmp_path / "right")
        await listener.start()
        await listener.wait_for(written)
        await until(  # the position is saved just after the peer acknowledged
            lambda: ForwarderState.load(state).chains == {str(writer.chain_id): 25}, "the position reaches the end"
        )
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(WAIT_SECONDS):
            returncode = await process.wait()
    await listener.stop()
    assert returncode == 0
    assert listener.event_ids() == written

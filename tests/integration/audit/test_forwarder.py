"""The SIEM forwarder ships every record as framed RFC 5424 syslog, over TCP or TLS, through a peer outage and its
own restart."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncEngine

from accessctl.audit.forwarder import AuditForwarder, Backoff, ForwarderState
from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.syslog_transport import TcpSyslogTransport, frame, tls_context
from accessctl.audit.writer import AuditWriter
from accessctl.cli import main
from tests.integration.audit.helpers import decision
from tests.integration.audit.syslog_listener import SyslogListener, ThrowawayCA
from tests.integration.audit.test_export import _write

BATCH = 10


async def write(writer: AuditWriter, first: int, count: int) -> list[str]:
    events = [decision(n) for n in range(first, first + count)]
    await writer.record_many(events)
    return [str(event.id) for event in events]


@dataclass(frozen=True)
class Link:
    """How forwarder and listener talk: plain TCP, or TLS with a server certificate of the CA the forwarder trusts."""

    server: ssl.SSLContext | None = None
    client: ssl.SSLContext | None = None


@pytest.fixture(params=["tcp", "tls"])
def link(request: pytest.FixtureRequest, tmp_path: Path) -> Link:
    if request.param == "tcp":
        return Link()
    ca = ThrowawayCA.generate()
    return Link(server=ca.server_context(tmp_path / "siem"), client=tls_context(ca.write(tmp_path / "siem-ca.pem")))


async def test_forwarder_resumes_after_listener_restart_without_losing_records(
    link: Link, audit_engine: AsyncEngine, writer: AuditWriter, signer: CheckpointSigner, tmp_path: Path
) -> None:
    listener = SyslogListener(link.server)
    await listener.start()
    state = tmp_path / "forwarder.json"

    def forwarder() -> AuditForwarder:
        transport = TcpSyslogTransport("127.0.0.1", listener.port, tls=link.client)
        return AuditForwarder(audit_engine, transport, state, batch=BATCH)

    def started(instance: AuditForwarder, stop: asyncio.Event) -> asyncio.Task[None]:
        return asyncio.create_task(instance.run(stop, poll_seconds=0.05, backoff=Backoff(0.02, 0.1)))

    written = await write(writer, 0, 30)
    first, stop_first = forwarder(), asyncio.Event()
    running = started(first, stop_first)
    await listener.wait_for(written)

    await listener.stop()  # the SIEM goes away under a connected forwarder
    # Meanwhile a second process (a second chain) records too.
    other = AuditWriter(audit_engine, signer, checkpoint_every=1000, checkpoint_seconds=60)
    await other.start()
    written += await write(writer, 30, 15) + await write(other, 45, 12)
    for _ in range(1000):  # reset or refused, waiting longer each time, never giving up
        if first.failures >= 3:
            break
        await asyncio.sleep(0.01)
    assert first.failures >= 3
    assert not running.done()
    await listener.start()  # same port
    await listener.wait_for(written)

    stop_first.set()  # the forwarder process stops; records keep coming
    await running
    written += await write(other, 57, 8)
    restarted, stop_restarted = forwarder(), asyncio.Event()  # a new process, the same state file
    running = started(restarted, stop_restarted)
    await listener.wait_for(written)
    stop_restarted.set()
    await running
    await other.close()
    await listener.stop()

    received = Counter(listener.event_ids())
    assert set(received) == set(written), "every record arrives"
    assert sum(received.values()) - len(written) <= BATCH, "duplicates: at most the batch in flight"
    assert listener.event_ids()[:30] == written[:30], "each chain in order"
    assert sorted(ForwarderState.load(state).chains.values()) == [20, 45]


class LosesTheAcknowledgement:
    """A peer that gets every batch, but the sender hears of a failure on the `fail_on`-th one (a crash, a reset)."""

    def __init__(self, fail_on: int) -> None:
        self.fail_on = fail_on
        self.sends = 0
        self.delivered: list[bytes] = []

    async def send(self, data: bytes) -> None:
        self.sends += 1
        self.delivered.append(data)
        if self.sends == self.fail_on:
            raise ConnectionResetError("connection reset after the bytes left")

    async def close(self) -> None:
        return None


def _ids(batches: list[bytes]) -> list[str]:
    return [part.split('"')[1] for data in batches for part in data.decode().split(" event=")[1:]]


async def test_a_failure_after_sending_resends_only_the_batch_in_flight(
    audit_engine: AsyncEngine, writer: AuditWriter, tmp_path: Path
) -> None:
    written = await write(writer, 0, 35)
    state = tmp_path / "forwarder.json"
    peer = LosesTheAcknowledgement(fail_on=2)
    with pytest.raises(ConnectionResetError):
        await AuditForwarder(audit_engine, peer, state, batch=BATCH).forward_pending()
    assert ForwarderState.load(state).chains == {str(writer.chain_id): BATCH}, "the failed batch is not counted"

    assert await AuditForwarder(audit_engine, peer, state, batch=BATCH).forward_pending() == 25
    delivered = _ids(peer.delivered)
    assert set(delivered) == set(written)
    duplicates = [event_id for event_id, seen in Counter(delivered).items() if seen > 1]
    assert duplicates == written[BATCH : 2 * BATCH], "exactly the batch in flight came twice"


async def test_messages_are_octet_counted_rfc5424_lines_with_the_event_id(
    link: Link, audit_engine: AsyncEngine, writer: AuditWriter, tmp_path: Path
) -> None:
    written = await write(writer, 0, 25)
    listener = SyslogListener(link.server)
    await listener.start()
    transport = TcpSyslogTransport("127.0.0.1", listener.port, tls=link.client)
    forwarder = AuditForwarder(audit_engine, transport, tmp_path / "s.json", batch=BATCH, hostname="audit-1")
    assert await forwarder.forward_pending() == 25
    await transport.close()
    await listener.wait_for(written)
    await listener.stop()
    assert listener.event_ids() == written, "each record once, in order"
    for minute, (message, event_id) in enumerate(zip(listener.messages, written, strict=True)):
        assert message.startswith(
            f"<86>1 2026-11-26T09:{minute:02d}:00.000000Z audit-1 accessctl - decision.permit [accessctl@"
        )
        assert f'event="{event_id}"' in message
        body = json.loads(message.split("\ufeff", 1)[1])
        assert body["resourceType"] == "AuditEvent" and body["id"] == event_id
    assert frame("blåbær") == b"8 bl\xc3\xa5b\xc3\xa6r", "the count is of octets, not characters"


async def test_nothing_new_means_nothing_sent_and_the_state_file_is_whole(
    audit_engine: AsyncEngine, writer: AuditWriter, tmp_path: Path
) -> None:
    await write(writer, 0, 3)
    (tmp_path / "state").mkdir()
    state = tmp_path / "state" / "forwarder.json"
    peer = LosesTheAcknowledgement(fail_on=0)
    assert await AuditForwarder(audit_engine, peer, state).forward_pending() == 3
    assert await AuditForwarder(audit_engine, peer, state).forward_pending() == 0
    assert peer.sends == 1
    saved = json.loads(state.read_text())
    assert saved["version"] == 1 and saved["chains"] == {str(writer.chain_id): 3}
    assert list(state.parent.iterdir()) == [state], "no temporary file left behind"


def test_state_of_another_version_is_refused_rather_than_restarting_from_zero(tmp_path: Path) -> None:
    path = tmp_path / "forwarder.json"
    path.write_text(json.dumps({"version": 99, "chains": {str(uuid.uuid4()): 5}}))
    with pytest.raises(ValueError, match="version 1"):
        ForwarderState.load(path)


def test_forward_once_command_sends_what_is_there_and_resumes_on_the_next_run(audit_url: str, tmp_path: Path) -> None:
    written = _write(audit_url, 7)
    received: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        with server:
            for _ in range(2):
                conn, _ = server.accept()
                with conn:
                    while chunk := conn.recv(65536):
                        received.append(chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    env = {"ACCESSCTL_DATABASE_URL": audit_url}
    args = ["audit", "forward", "--host", "127.0.0.1", "--port", str(port), "--state", str(tmp_path / "s.json")]
    first = CliRunner().invoke(main, [*args, "--once"], env=env)
    assert first.exit_code == 0, first.output
    assert "forwarded 7 record(s)" in first.stderr
    again = CliRunner().invoke(main, [*args, "--once"], env=env)
    assert "forwarded 0 record(s)" in again.stderr
    socket.create_connection(("127.0.0.1", port)).close()  # let the listener thread finish
    thread.join(5)
    assert _ids([b"".join(received)]) == written


def test_forward_command_exits_1_when_the_peer_cannot_be_reached(audit_url: str, tmp_path: Path) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    state = tmp_path / "s.json"
    args = ["audit", "forward", "--host", "127.0.0.1", "--port", str(port), "--state", str(state), "--once"]
    _write(audit_url, 2)
    result = CliRunner().invoke(main, args, env={"ACCESSCTL_DATABASE_URL": audit_url})
    assert result.exit_code == 1
    assert "could not forward" in result.stderr
    assert all(seq == 0 for seq in ForwarderState.load(state).chains.values())

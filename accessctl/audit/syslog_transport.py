"""Syslog over TCP with octet-counting framing (RFC 6587 §3.4.1), optionally TLS (RFC 5425), for the forwarder."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import sys
from pathlib import Path
from typing import Protocol

# Linux: bytes in a socket's send queue not yet acknowledged by the peer (ioctl SIOCOUTQ, same value as TIOCOUTQ).
_SIOCOUTQ = 0x5411


def frame(message: str) -> bytes:
    """One message as RFC 6587 octet counting frames it: its length in octets, a space, the octets."""
    octets = message.encode("utf-8")
    return str(len(octets)).encode("ascii") + b" " + octets


class SyslogTransport(Protocol):
    """Where the forwarder ships framed messages; `send` returns only once the peer holds the bytes."""

    async def send(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


class PeerRejected(ConnectionError):
    """The peer is there but is not the syslog receiver configured: its certificate does not verify, the TLS handshake
    fails (a plain receiver), or it answers or hangs up on plain syslog (a TLS receiver). A setting must change."""


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A client context that verifies the server's certificate and name, against `ca_file` or the system CAs."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class TcpSyslogTransport:
    """One TCP (or TLS) connection, opened on first send and again after any failure.

    `send` writes, drains, then (on Linux) waits until the peer's TCP stack has acknowledged every byte, so a
    batch counts as delivered only when it reached the peer host. Plain syslog has no application-level
    acknowledgement: bytes the peer's kernel accepted but its process never read (it crashed) are lost to it.
    A kernel acknowledges bytes before its process can refuse them, so the first batch on each connection counts
    only once the peer has also kept quiet for `settle` seconds: a TLS receiver sent plain syslog hangs up at once.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        connect_timeout: float = 10.0,
        ack_timeout: float = 30.0,
        settle: float = 0.5,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.connect_timeout = connect_timeout
        self.ack_timeout = ack_timeout
        self.settle = settle
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._settled = False

    @property
    def peer(self) -> str:
        """Host and port, as errors name the SIEM."""
        return f"{self.host}:{self.port}"

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        await asyncio.sleep(0)  # let a pending EOF or reset from the peer be seen before reusing the connection
        if self._reader is not None and self._writer is not None:
            if not self._reader.at_eof() and not self._writer.is_closing():
                return self._reader, self._writer
            await self.close()
        try:
            async with asyncio.timeout(self.connect_timeout):
                self._reader, self._writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self.tls, server_hostname=self.host if self.tls else None
                )
        except TimeoutError:
            kind = "TLS handshake with" if self.tls else "connection to"
            raise TimeoutError(f"no {kind} {self.peer} within {self.connect_timeout} s") from None
        except ssl.SSLCertVerificationError as exc:
            raise PeerRejected(
                f"the TLS certificate of {self.peer} does not verify against the configured CA and name: "
                f"{exc.verify_message}"
            ) from exc
        except (ssl.SSLError, ConnectionResetError, ConnectionAbortedError) as exc:
            if self.tls is None:
                raise
            reason = str(exc) or "the peer hung up"
            raise PeerRejected(f"TLS handshake with {self.peer} failed ({reason}): is it a TLS receiver?") from exc
        self._settled = False
        return self._reader, self._writer

    async def send(self, data: bytes) -> None:
        reader, writer = await self._connection()
        try:
            writer.write(data)
            await writer.drain()
            try:
                async with asyncio.timeout(self.ack_timeout):
                    await _acknowledged(writer)
            except TimeoutError:
                raise TimeoutError(f"{self.peer} acknowledged no batch within {self.ack_timeout} s") from None
            if not self._settled:
                await self._kept_quiet(reader)
                self._settled = True
        except BaseException:
            await self.close()
            raise

    async def _kept_quiet(self, reader: asyncio.StreamReader) -> None:
        """Fail unless the peer neither answers nor hangs up for `settle` seconds: a syslog receiver never writes."""
        quiet = asyncio.timeout(self.settle)
        try:
            async with quiet:
                answer = await reader.read(64)
        except TimeoutError:
            if quiet.expired():
                return
            raise
        did = f"answered {answer[:16]!r}" if answer else "hung up"
        advice = "" if self.tls else " (a TLS receiver does this: is TLS needed?)"
        raise PeerRejected(f"{self.peer} {did} on the first batch instead of reading syslog{advice}")

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


async def _acknowledged(writer: asyncio.StreamWriter) -> None:
    """Wait until the send queue is empty; a reset or a socket error fails the send.

    A peer that closes after acknowledging every byte does not fail it (the next send reconnects); one that had
    closed before answers the bytes with a reset, which empties the queue but is seen here first.
    """
    sock = writer.get_extra_info("socket")
    while True:
        await asyncio.sleep(0)
        if writer.is_closing():
            raise ConnectionResetError("the syslog connection was reset")
        if sock is None:
            return
        waiting = _unacknowledged(sock.fileno()) if sys.platform.startswith("linux") else 0
        # Read after the queue: a reset empties the queue, and sets the error before it does.
        error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            raise ConnectionResetError(error, "syslog connection failed")
        if waiting == 0 and writer.transport.get_write_buffer_size() == 0:
            return
        await asyncio.sleep(0.005)


def _unacknowledged(fd: int) -> int:
    import fcntl

    buffer = fcntl.ioctl(fd, _SIOCOUTQ, struct.pack("i", 0))
    return int(struct.unpack("i", buffer)[0])

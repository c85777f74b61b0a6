"""A SIEM stand-in for the forwarder tests: an RFC 6587 octet-counting syslog receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
import ssl

WAIT_SECONDS = 10.0
EVENT_ID = re.compile(r' event="([0-9a-f-]{36})"')


class SyslogListener:
    """Keeps every message it reads; `stop()` closes the port and every connection, `start()` opens the same port."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.port = 0
        self.messages: list[str] = []
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._arrived = asyncio.Event()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._connections):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                length = await reader.readuntil(b" ")
                self.messages.append((await reader.readexactly(int(length[:-1]))).decode("utf-8"))
                self._arrived.set()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    def event_ids(self) -> list[str]:
        return [match.group(1) for message in self.messages if (match := EVENT_ID.search(message))]

    async def wait_for(self, event_ids: list[str]) -> None:
        """Until every one of `event_ids` has arrived (duplicates do not count); at most WAIT_SECONDS."""
        async with asyncio.timeout(WAIT_SECONDS):
            while not set(event_ids) <= set(self.event_ids()):
                self._arrived.clear()
                await self._arrived.wait()

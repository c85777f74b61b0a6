"""A small HTTP/1.1 keep-alive load generator on raw asyncio, run as its own process when wrk is not installed.

`python -m accessctl.bench.loadgen < spec.json` reads {port, path, headers, bodies, connections, seconds} and
prints one JSON object: requests, seconds, p50_ms, p99_ms, errors, non_2xx. It only ever connects to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from accessctl.bench.report import mid, p99
from accessctl.bench.servers import LOOPBACK


def encode_requests(port: int, path: str, headers: dict[str, str], bodies: list[str]) -> list[bytes]:
    """Each body as a complete keep-alive POST."""
    out = []
    for body in bodies:
        raw = body.encode()
        head = [f"POST {path} HTTP/1.1", f"Host: {LOOPBACK}:{port}", f"Content-Length: {len(raw)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        out.append(("\r\n".join(head) + "\r\n\r\n").encode() + raw)
    return out


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; returns its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _connection(port: int, requests: list[bytes], offset: int, stop_at: float, out: dict[str, Any]) -> None:
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    latencies: list[float] = out["latencies"]
    i = offset
    try:
        while time.perf_counter() < stop_at:
            request = requests[i % len(requests)]
            i += 1
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            if not 200 <= status < 300:
                out["non_2xx"] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        out["errors"] += 1
    finally:
        writer.close()


async def drive(spec: dict[str, Any]) -> dict[str, Any]:
    """Keep `connections` connections busy for `seconds` and summarise the latencies."""
    port = int(spec["port"])
    requests = encode_requests(port, spec["path"], spec["headers"], spec["bodies"])
    out: dict[str, Any] = {"latencies": [], "errors": 0, "non_2xx": 0}
    started = time.perf_counter()
    stop_at = started + float(spec["seconds"])
    connections = int(spec["connections"])
    step = max(1, len(requests) // connections)
    await asyncio.gather(*(_connection(port, requests, c * step, stop_at, out) for c in range(connections)))
    elapsed = time.perf_counter() - started
    latencies: list[float] = out["latencies"]
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "p50_ms": mid(latencies) if latencies else 0.0,
        "p99_ms": p99(latencies) if latencies else 0.0,
        "errors": out["errors"],
        "non_2xx": out["non_2xx"],
    }


def main() -> None:
    spec = json.load(sys.stdin)
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # uvloop comes with uvicorn[standard]; plain asyncio still works, only slower
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        print(json.dumps(runner.run(drive(spec))))


if __name__ == "__main__":
    main()

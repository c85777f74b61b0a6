"""Several uvicorn workers, each listening on its own SO_REUSEPORT socket, so the kernel spreads connections evenly.

With uvicorn's one shared socket, the worker that wakes first accepts most of a burst of connections (seen: 30 of
32 keep-alive connections on one of two workers), and that worker's core then limits the whole server. With one
socket per worker in a SO_REUSEPORT group, the kernel assigns each new connection to a worker by its address hash.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess


def reuse_port_socket(family: int, address: Any) -> socket.socket:
    """A TCP socket bound to `address` in the port's SO_REUSEPORT group (the server makes it listen)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


class WorkerSocket(socket.socket):
    """Bound (not listening) in the supervisor, so a port in use fails at once; each worker that receives it binds
    a socket of its own to the same address instead of sharing this one."""

    def __reduce__(self) -> tuple[Any, ...]:
        # uvicorn hands its sockets to the spawned workers by pickling them; multiprocessing's reducer for sockets
        # is looked up by exact type, so this subclass is pickled by this method.
        return (reuse_port_socket, (self.family, self.getsockname()))


def _bound(host: str, port: int) -> WorkerSocket:
    sock = WorkerSocket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def run_workers(config: uvicorn.Config) -> None:
    """Run `config.workers` workers under uvicorn's supervisor (restarts, signals), each on its own socket."""
    try:
        sock = _bound(config.host, config.port)
    except OSError as exc:
        print(f"cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    with sock:
        Multiprocess(config, sockets=[sock]).run()


def serve(config: uvicorn.Config) -> None:
    """Serve `config`: one worker in this process, or several each on its own socket."""
    if config.workers > 1:
        run_workers(config)
        return
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)

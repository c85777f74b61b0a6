"""Several uvicorn workers, each listening on its own SO_REUSEPORT socket, so the kernel spreads connections evenly.

With uvicorn's one shared socket, the worker that wakes first accepts most of a burst of connections (seen: 30 of
32 keep-alive connections on one of two workers), and that worker's core then limits the whole server. With one
socket per worker in a SO_REUSEPORT group, the kernel assigns each new connection to a worker by its address hash.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

log = logging.getLogger("uvicorn.error")


def _reusing_port(sock: socket.socket, address: Any) -> socket.socket:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def reuse_port_socket(family: int, address: Any) -> socket.socket:
    """A TCP socket bound to `address` in the port's SO_REUSEPORT group (the server makes it listen)."""
    return _reusing_port(socket.socket(family, socket.SOCK_STREAM), address)


class WorkerSocket(socket.socket):
    """Bound (not listening) in the supervisor, so a port in use fails at once; each worker that receives it binds
    a socket of its own to the same address instead of sharing this one."""

    def __reduce__(self) -> tuple[Any, ...]:
        # uvicorn hands its sockets to the spawned workers by pickling them; multiprocessing's reducer for sockets
        # is looked up by exact type, so this subclass is pickled by this method.
        return (reuse_port_socket, (self.family, self.getsockname()))


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _refuse_a_taken_port(host: str, port: int) -> None:
    """Bind the address without SO_REUSEPORT first: any server listening there (another `accessctl serve` too,
    whose workers would otherwise share the port with ours) makes this fail."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: connections in TIME_WAIT are fine
        probe.bind((host, port))


def run_workers(config: uvicorn.Config) -> None:
    """Run `config.workers` workers under uvicorn's supervisor (restarts, signals), each on its own socket."""
    where = f"[{config.host}]:{config.port}" if ":" in config.host else f"{config.host}:{config.port}"
    try:
        _refuse_a_taken_port(config.host, config.port)
        sock = _reusing_port(WorkerSocket(_family(config.host), socket.SOCK_STREAM), (config.host, config.port))
    except OSError as exc:
        print(f"cannot listen on {where}: {exc}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    log.info("Uvicorn running on http://%s with %d workers, each on its own socket", where, config.workers)
    with sock:
        Multiprocess(config, sockets=[sock]).run()


def serve(config: uvicorn.Config) -> None:
    """Serve `config`: one worker in this process, or several each on its own socket (as `uvicorn.run`, else)."""
    if config.workers > 1:
        run_workers(config)
        return
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl+C it handled, once shut down
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)

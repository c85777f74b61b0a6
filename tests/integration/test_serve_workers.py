"""Several workers each listen on their own SO_REUSEPORT socket, so connections spread over the workers."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import httpx
import pytest

from accessctl import migrate
from accessctl.commands.workers import WorkerSocket
from accessctl.migrate import PROJECT_ROOT
from tests.live_server import free_port, live_server

LISTEN, ESTABLISHED = "0A", "01"


def _sockets_on(port: int, state: str) -> set[int]:
    """Inodes of this machine's IPv4 TCP sockets on local port `port` in `state` (from /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
            inodes.add(int(fields[9]))
    return inodes


def _owners(inodes: set[int], pids: list[int]) -> Counter[int]:
    """How many of the sockets each process holds."""
    held: Counter[int] = Counter()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and int(target[8:-1]) in inodes:
                held[pid] += 1
    return held


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@contextmanager
def _bare_server(port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "accessctl.bench.bare_serve", "create_bare_app", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_for_listeners(port: int, count: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while len(_sockets_on(port, LISTEN)) < count:
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{count} listening sockets never appeared: {log.read_text()}"
        time.sleep(0.2)


def test_a_worker_socket_reaches_each_worker_as_its_own_socket_on_the_same_address() -> None:
    with WorkerSocket(socket.AF_INET, socket.SOCK_STREAM) as sent:
        sent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sent.bind(("127.0.0.1", 0))
        # Unpickled as a spawned worker unpickles it.
        with pickle.loads(ForkingPickler.dumps(sent)) as received:  # noqa: S301  # bytes this test just made
            assert received.getsockname() == sent.getsockname()
            # A socket of its own, not the supervisor's passed on (which would be the same socket under a new fd).
            assert os.fstat(received.fileno()).st_ino != os.fstat(sent.fileno()).st_ino
            assert received.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads sockets from Linux's /proc")
def test_two_workers_listen_on_sockets_of_their_own_and_both_get_connections(tmp_path: Path) -> None:
    port = free_port()
    with _bare_server(port, tmp_path / "bare.log") as process:
        _wait_for_listeners(port, 2, process, tmp_path / "bare.log")
        workers = _children(process.pid)
        listeners = _owners(_sockets_on(port, LISTEN), workers)
        # One listening socket in each worker, none shared (uvicorn's own would be one socket in both).
        assert sorted(listeners.values()) == [1, 1] and len(listeners) == 2
        with ExitStack() as stack:
            clients = [stack.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{port}")) for _ in range(32)]
            for client in clients:
                assert client.post("/bare", content=b"{}").status_code == 200
            held = _owners(_sockets_on(port, ESTABLISHED), workers)
        # The kernel hashes each connection to one of the sockets: 32 connections all on one worker would be 2 ** -31.
        assert sum(held.values()) == 32 and len(held) == 2


def _serve_two_workers(port: int, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "accessctl.cli", "serve", "--port", str(port), "--workers", "2"]
    env = {**os.environ, "ACCESSCTL_DATA_DIR": str(tmp_path)}
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT, env=env)


def test_a_port_in_use_stops_the_server_at_once_with_the_reason(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve_two_workers(port, tmp_path)
    assert done.returncode == 3  # uvicorn's STARTUP_FAILURE: its supervisor does not restart such a worker
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads sockets from Linux's /proc")
def test_a_second_server_on_the_port_of_one_with_reused_ports_is_refused(tmp_path: Path) -> None:
    # Its workers' sockets would otherwise join the first server's SO_REUSEPORT group and take half its connections.
    port = free_port()
    with _bare_server(port, tmp_path / "bare.log") as first:
        _wait_for_listeners(port, 2, first, tmp_path / "bare.log")
        done = _serve_two_workers(port, tmp_path)
        assert len(_sockets_on(port, LISTEN)) == 2
    assert done.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


def test_one_worker_stopped_with_ctrl_c_exits_cleanly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'accessctl.db'}"
    migrate.upgrade(url, quiet=True)
    env = {
        "ACCESSCTL_DATABASE_URL": url,
        "ACCESSCTL_DATA_DIR": str(tmp_path),
        "ACCESSCTL_POLICIES_DIR": str(PROJECT_ROOT / "policies"),
    }
    log = tmp_path / "server.log"
    with live_server(env, log) as server:
        server.process.send_signal(signal.SIGINT)
        server.process.wait(timeout=30)
    # uvicorn re-raises the interrupt after its graceful shutdown; it is not an error (click would say "Aborted!").
    assert server.process.returncode == 0, log.read_text()[-2000:]
    assert "Aborted" not in log.read_text()

"""Start a server process on a free loopback port, wait until it is ready, and always stop it (its group too).

Also what `accessctl serve` needs for a bench: its command line, its environment, and a token it accepts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from accessctl.auth import DevSigningKey, issue_token
from accessctl.settings import Settings

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on now (raises OSError when loopback ports cannot be bound)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def clean_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any ACCESSCTL_* setting, plus `settings`: the server sees only ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCESSCTL_")}
    return {**env, **settings}


def serve_command(port: int, workers: int) -> list[str]:
    """`accessctl serve` on 127.0.0.1:`port`, the way an operator starts it."""
    command = [sys.executable, "-m", "accessctl.cli", "serve", "--host", LOOPBACK, "--port", str(port)]
    return [*command, "--workers", str(workers)]


def server_env(settings: Settings) -> dict[str, str]:
    """The environment that makes `accessctl serve` use the bench's database, data dir and policies."""
    return clean_env(
        {
            "ACCESSCTL_DATA_DIR": str(settings.data_dir),
            "ACCESSCTL_DATABASE_URL": settings.database_url.reveal(),
            "ACCESSCTL_POLICIES_DIR": str(settings.policies_dir),
            "ACCESSCTL_LOG_LEVEL": "warning",
        }
    )


def bench_token(settings: Settings, scopes: Sequence[str]) -> str:
    """An hour's bearer token with `scopes`, signed with the dev key a server started by `server_env` trusts."""
    key = DevSigningKey.load_or_create(settings.signing_key_path)
    return issue_token(
        key,
        subject="bench",
        scopes=list(scopes),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_s=3600,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group we created (the supervisor and its workers), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, log_path: Path, timeout_s: float) -> None:
    """Poll `url` until it answers 200 five times in a row (both workers up), the process dies, or time runs out."""
    deadline = time.monotonic() + timeout_s
    streak = 0
    while streak < 5:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server not ready in {timeout_s:.0f} s: {log_path.read_text()[-2000:]}")
        try:
            streak = streak + 1 if httpx.get(url, timeout=2.0).status_code == 200 else 0
        except httpx.HTTPError:
            streak = 0
        if streak == 0:
            time.sleep(0.25)


@contextmanager
def running_server(
    command: Sequence[str], env: Mapping[str, str], port: int, log_path: Path, *, ready_path: str, timeout_s: float
) -> Iterator[str]:
    """Run `command` (which must bind 127.0.0.1:`port`) in its own process group; yield its base URL once ready."""
    base = f"http://{LOOPBACK}:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command), env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_ready(process, base + ready_path, log_path, timeout_s)
            yield base
        finally:
            _stop(process)

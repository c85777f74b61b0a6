"""The load generators: wrk with a Lua script when it is installed, else `accessctl.bench.loadgen` in a process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from accessctl.bench.servers import LOOPBACK

WRK_MARK = "WRKJSON "


@dataclass(frozen=True)
class Load:
    """What to send: POSTs of `bodies` (in turn) to 127.0.0.1:`port``path`, over `connections` for `seconds`."""

    port: int
    path: str
    headers: dict[str, str]
    bodies: list[str]
    connections: int
    seconds: float


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _lua_string(text: str) -> str:
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def wrk_script(load: Load) -> str:
    """A wrk script that sends the bodies in turn and prints one JSON line of results when done."""
    headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in load.headers.items())
    bodies = ",\n".join(_lua_string(b) for b in load.bodies)
    return f"""
local bodies = {{
{bodies}
}}
local headers = {{ {headers} }}
local prepared = {{}}
local i = 0
init = function(args)
  for k, body in ipairs(bodies) do prepared[k] = wrk.format("POST", {_lua_string(load.path)}, headers, body) end
  i = math.random(#prepared)
end
request = function()
  i = i % #prepared + 1
  return prepared[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{WRK_MARK}{{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "errors": %d, "non_2xx": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def run_wrk(load: Load, workdir: Path) -> LoadResult:
    """One wrk thread (the machine has few cores) with the script above; parses its JSON line."""
    wrk = wrk_path()
    assert wrk is not None
    script = workdir / f"wrk-{load.port}-{len(load.bodies)}.lua"
    script.write_text(wrk_script(load), encoding="utf-8")
    seconds = max(1, round(load.seconds))
    command = [
        wrk,
        "-t1",
        f"-c{load.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{LOOPBACK}:{load.port}{load.path}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(WRK_MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {done.stdout[-1000:]} {done.stderr[-1000:]}")
    raw = json.loads(line.removeprefix(WRK_MARK))
    return LoadResult(
        raw["requests"],
        raw["duration_us"] / 1e6,
        raw["p50_us"] / 1000,
        raw["p99_us"] / 1000,
        raw["errors"],
        raw["non_2xx"],
    )


def run_python(load: Load) -> LoadResult:
    """The Python load generator in its own process, so its CPU is not the server's event loop."""
    spec = {
        "port": load.port,
        "path": load.path,
        "headers": load.headers,
        "bodies": load.bodies,
        "connections": load.connections,
        "seconds": load.seconds,
    }
    done = subprocess.run(
        [sys.executable, "-m", "accessctl.bench.loadgen"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=load.seconds + 60,
        check=True,
    )
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    return LoadResult(raw["requests"], raw["seconds"], raw["p50_ms"], raw["p99_ms"], raw["errors"], raw["non_2xx"])


def drive(load: Load, workdir: Path, *, use_wrk: bool) -> LoadResult:
    return run_wrk(load, workdir) if use_wrk else run_python(load)

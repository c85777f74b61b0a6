"""In-process profile of the evaluation endpoints: the app's ASGI callable called from 32 asyncio tasks, no HTTP server.

Run from the repository root: `.venv/bin/python docs/perf/inprocess.py` (prints req/s, CPU per request, p50/p99),
`... inprocess.py profile` (cProfile), or under py-spy: `py-spy record -f raw -- .venv/bin/python docs/perf/inprocess.py`.
Environment: USERS (demo region size, 3000), N (single requests, 3000), KIND (single or batch), BATCHES (20), DATA
(data directory, /tmp/prof/data), URL (a database URL instead of SQLite in DATA), SORT and LINES (cProfile output).
"""
import asyncio, cProfile, pstats, sys, time, os, resource
from dataclasses import replace
from pathlib import Path
from accessctl.settings import Settings, Secret
from accessctl.bench.region import prepare_region, read_facts, sqlite_url
from accessctl.bench.http_bench import bodies
from accessctl.bench.servers import bench_token
from accessctl.web.app import create_app

USERS = int(os.environ.get("USERS", "3000")); N = int(os.environ.get("N", "3000")); CONC = 32
MODE = sys.argv[1] if len(sys.argv) > 1 else "time"
KIND = os.environ.get("KIND", "single")  # or "batch"
data = Path(os.environ.get("DATA", "/tmp/prof/data")); data.mkdir(parents=True, exist_ok=True)
url = os.environ.get("URL") or sqlite_url(str(data))
settings = replace(Settings.from_env({}), data_dir=data, database_url=Secret(url), policies_dir=Path("policies").resolve(), change_poll_seconds=0)
prepare_region(settings, USERS, 7)
facts = read_facts(settings)
single, batched = bodies(facts, singles=N, batches=int(os.environ.get("BATCHES","20")), seed=1)
token = bench_token(settings, ["authz:evaluate"])
app = create_app(settings)
sent = single if KIND == "single" else batched
path = b"/access/v1/evaluation" if KIND == "single" else b"/access/v1/evaluations"

PR = cProfile.Profile() if MODE == 'profile' else None
async def lifespan():
    q_in: asyncio.Queue = asyncio.Queue(); q_out: asyncio.Queue = asyncio.Queue()
    await q_in.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, q_in.get, q_out.put))
    msg = await q_out.get(); assert msg["type"] == "lifespan.startup.complete", msg
    return task, q_in, q_out

async def call(body: str) -> int:
    raw = body.encode()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path.decode(), "raw_path": path, "query_string": b"", "root_path": "",
             "headers": [(b"host", b"x"), (b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode()), (b"content-length", str(len(raw)).encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    sent_body = False
    async def receive():
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.sleep(3600)
    status = 0
    async def send(msg):
        nonlocal status
        if msg["type"] == "http.response.start": status = msg["status"]
    await app(scope, receive, send)
    return status

async def main():
    task, q_in, q_out = await lifespan()
    for b in sent[:50]: assert await call(b) == 200
    queue = list(sent)
    lat = []
    async def worker():
        while queue:
            b = queue.pop()
            t = time.perf_counter(); s = await call(b); lat.append(time.perf_counter() - t); assert s == 200, s
    c0 = time.process_time(); t0 = time.perf_counter()
    if PR: PR.enable()
    await asyncio.gather(*(worker() for _ in range(CONC)))
    if PR: PR.disable()
    wall = time.perf_counter() - t0; cpu = time.process_time() - c0
    lat.sort()
    n = len(lat)
    print(f"{KIND}: {n} req in {wall:.2f}s = {n/wall:.0f}/s; cpu/req {cpu/n*1e6:.0f} us; p50 {lat[n//2]*1e3:.1f} ms p99 {lat[int(n*.99)]*1e3:.1f} ms")
    await q_in.put({"type": "lifespan.shutdown"}); await q_out.get()

if MODE == "profile":
    pr = PR; asyncio.run(main())
    pr.dump_stats("/tmp/prof/out.prof")
    st = pstats.Stats(pr); st.sort_stats(os.environ.get("SORT","tottime")).print_stats(int(os.environ.get("LINES","45")))
else:
    asyncio.run(main())

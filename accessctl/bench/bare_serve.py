"""`python -m accessctl.bench.bare_serve FACTORY PORT [--no-lifespan]`: a bare app of `bench.bare_app` on 127.0.0.1
with 2 workers, served exactly as `accessctl serve` serves the real one (so the reference differs only in the app)."""

from __future__ import annotations

import sys

import uvicorn

from accessctl.commands.workers import serve


def main(argv: list[str]) -> None:
    factory, port = argv[0], int(argv[1])
    config = uvicorn.Config(
        f"accessctl.bench.bare_app:{factory}",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=2,
        log_level="warning",
        access_log=False,
        lifespan="off" if "--no-lifespan" in argv[2:] else "auto",
    )
    serve(config)


if __name__ == "__main__":
    main(sys.argv[1:])

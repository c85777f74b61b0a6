"""`accessctl serve`: run the HTTP service with uvicorn."""

from __future__ import annotations

import click
import uvicorn

from accessctl.commands.workers import serve as workers_serve


@click.command()
@click.option("--host", default=None, help="Interface to bind (default from ACCESSCTL_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (default ACCESSCTL_PORT, 8000).")
@click.option("--workers", default=None, type=click.IntRange(1, 64), help="Worker processes (default 1).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the API. Each worker builds its settings from the same ACCESSCTL_* environment."""
    from accessctl.cli import settings_of

    settings = settings_of(ctx)
    config = uvicorn.Config(
        "accessctl.web.asgi:app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    workers_serve(config)

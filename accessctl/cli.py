"""The `accessctl` command: serve, db, demo, policies, hr, audit, token, bench."""

from __future__ import annotations

import sys
from typing import Any

import click

from accessctl.errors import AccessctlError
from accessctl.settings import Settings


class DomainErrorsToStderr(click.Group):
    """Turns domain errors into one line on stderr and exit code 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AccessctlError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(1)


@click.group(cls=DomainErrorsToStderr)
@click.pass_context
def main(ctx: click.Context) -> None:
    """accessctl: access control and audit for the regional shared patient record."""
    ctx.obj = Settings.from_env()


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)
    return settings


def _register() -> None:
    from accessctl.audit.cli import audit
    from accessctl.bench import bench
    from accessctl.commands.db import db
    from accessctl.commands.serve import serve
    from accessctl.commands.token import token
    from accessctl.demo.cli import demo
    from accessctl.hr_sync.cli import hr
    from accessctl.policies.cli import policies

    for command in (serve, db, token, demo, audit, policies, bench, hr):
        main.add_command(command)


_register()

if __name__ == "__main__":
    main()

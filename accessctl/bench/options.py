"""Options the benchmarks that load the demo region into a database of their own share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from accessctl.demo.population import DEFAULT_SEED, DEFAULT_USERS

_Command = TypeVar("_Command", bound=Callable[..., object])


def demo_region_options(command: _Command) -> _Command:
    """`--users` and `--seed` of the demo region the bench loads."""
    command = click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Demo seed.")(command)
    return click.option(
        "--users",
        type=click.IntRange(min=50),
        default=DEFAULT_USERS,
        show_default=True,
        help="Health workers in the demo region the bench loads.",
    )(command)

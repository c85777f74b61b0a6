"""`accessctl demo`: placeholder until the demo loader lands (being written now)."""

from __future__ import annotations

import click


@click.group()
def demo() -> None:
    """Demo data for the region."""

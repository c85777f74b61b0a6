"""Run and inspect the Alembic migrations programmatically (CLI, readiness, tests)."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str, *, quiet: bool = False) -> Config:
    """An Alembic config pointing at the project's migrations and the given database."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = not quiet
    return config


def upgrade(database_url: str, revision: str = "head", *, quiet: bool = False) -> None:
    command.upgrade(alembic_config(database_url, quiet=quiet), revision)


def downgrade(database_url: str, revision: str = "base", *, quiet: bool = False) -> None:
    command.downgrade(alembic_config(database_url, quiet=quiet), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes (lower(user_name)), so autogenerate leaves them out of the
        # comparison there, saying so twice; PostgreSQL's check compares them.
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression-based index")
        command.check(alembic_config(database_url, quiet=True))


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("")).get_heads()
    return ",".join(sorted(heads))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None if it has never been migrated."""
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except SQLAlchemyError:
        return None
    return ",".join(sorted(rows)) if rows else None

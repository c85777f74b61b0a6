"""The ASGI entry point for uvicorn workers: settings from the environment, built once per process."""

from __future__ import annotations

from litestar import Litestar

from accessctl.settings import Settings
from accessctl.web.app import create_app


def app_from_env() -> Litestar:
    return create_app(Settings.from_env())

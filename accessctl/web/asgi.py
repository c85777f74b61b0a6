"""The ASGI entry point for uvicorn workers: settings from the environment, built once per process."""

from __future__ import annotations

import logging

from litestar import Litestar

from accessctl.settings import Settings
from accessctl.web.app import create_app

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


def log_to_stderr(level: str) -> None:
    """Send the service's own log (`accessctl.*`) to stderr at `level`, once per process, beside uvicorn's."""
    logger = logging.getLogger("accessctl")
    if not any(isinstance(h, logging.StreamHandler) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
    logger.setLevel(level.upper())


def app_from_env() -> Litestar:
    settings = Settings.from_env()
    log_to_stderr(settings.log_level)
    return create_app(settings)

"""Under `accessctl serve`, the service's own log reaches stderr: an incident logged is an incident seen."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from accessctl.web.asgi import log_to_stderr


@pytest.fixture
def service_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("accessctl")
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_errors_of_the_service_reach_stderr_once_at_the_configured_level(
    service_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    log_to_stderr("warning")
    log_to_stderr("WARNING")  # a second worker start in the same process adds no second handler

    logging.getLogger("accessctl.web.scim").error("unhandled error on POST /scim/v2/Users")
    logging.getLogger("accessctl.web.scim").info("not shown below WARNING")

    err = capsys.readouterr().err
    assert err.count("ERROR accessctl.web.scim") == 1
    assert "unhandled error on POST /scim/v2/Users" in err
    assert "not shown" not in err

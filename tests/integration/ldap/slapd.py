"""The `slapd` fixture: a real OpenLDAP on a free loopback port with a temporary database, loaded with the sample."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from accessctl.hr_sync.ldap.slapd import TemporarySlapd
from accessctl.migrate import PROJECT_ROOT
from tests.servers import skip_or_fail, slapd_path

SAMPLE_LDIF = PROJECT_ROOT / "docs" / "ldap" / "sample.ldif"
SAMPLE_MAPPING = PROJECT_ROOT / "docs" / "ldap" / "mapping.yaml"
PASSWORD = "test-secret"


@pytest.fixture
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporarySlapd]:
    """A fresh slapd per test, holding docs/ldap/sample.ldif; stopped (only this one) afterwards."""
    binary = slapd_path()
    if shutil.which("ldapadd") is None:
        skip_or_fail("slapd", "ldapadd (ldap-utils) is not installed")
    home: Path = tmp_path_factory.mktemp("slapd")
    with TemporarySlapd(home, password=PASSWORD, binary=binary) as server:
        server.load_ldif(SAMPLE_LDIF)
        yield server

"""The `slapd` fixtures: a real OpenLDAP on a free loopback port with a temporary database, loaded with the sample.

`slapd` speaks plain LDAP; `slapd_tls` serves the same sample with a throw-away certificate (`pki`) on ldaps:// and
with StartTLS on ldap://, and refuses every operation on a connection that TLS does not protect.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from accessctl.hr_sync.ldap.slapd import ServerTls, TemporarySlapd
from accessctl.migrate import PROJECT_ROOT
from tests.integration.ldap.certificates import LoopbackPki, loopback_pki
from tests.servers import skip_or_fail, slapd_path

SAMPLE_LDIF = PROJECT_ROOT / "docs" / "ldap" / "sample.ldif"
SAMPLE_MAPPING = PROJECT_ROOT / "docs" / "ldap" / "mapping.yaml"
PASSWORD = "test-secret"


@contextmanager
def sample_slapd(home: Path, *, tls: ServerTls | None = None) -> Iterator[TemporarySlapd]:
    """A slapd holding docs/ldap/sample.ldif, stopped (only this one) afterwards; with `tls`, TLS is required.

    Skips without slapd or ldap-utils, or fails when ACCESSCTL_TEST_REQUIRE names slapd.
    """
    binary = slapd_path()
    if shutil.which("ldapadd") is None:
        skip_or_fail("slapd", "ldapadd (ldap-utils) is not installed")
    with TemporarySlapd(home, password=PASSWORD, binary=binary, tls=tls, require_tls=tls is not None) as server:
        server.load_ldif(SAMPLE_LDIF)
        yield server


@pytest.fixture
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemporarySlapd]:
    """A fresh slapd per test, holding docs/ldap/sample.ldif."""
    with sample_slapd(tmp_path_factory.mktemp("slapd")) as server:
        yield server


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LoopbackPki:
    """A throw-away CA, the loopback server certificate it signed, and a CA that signed nothing."""
    return loopback_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def slapd_tls(tmp_path_factory: pytest.TempPathFactory, pki: LoopbackPki) -> Iterator[TemporarySlapd]:
    """A fresh slapd per test with the sample, on ldaps:// (`tls_url`) and ldap:// (`url`) with StartTLS required."""
    with sample_slapd(tmp_path_factory.mktemp("slapd-tls"), tls=pki.server) as server:
        yield server

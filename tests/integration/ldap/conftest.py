"""LDAP tests run against a real slapd (see slapd.py); they skip without one unless ACCESSCTL_TEST_REQUIRE=slapd."""

from tests.api.conftest import app, client, token
from tests.integration.ldap.slapd import slapd

__all__ = ["app", "client", "slapd", "token"]

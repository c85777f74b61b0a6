"""LDAP tests run against a real slapd (see slapd.py); they skip without one unless ACCESSCTL_TEST_REQUIRE=slapd."""

from tests.api.conftest import app, client, token
from tests.integration.ldap.slapd import pki, slapd, slapd_tls

__all__ = ["app", "client", "pki", "slapd", "slapd_tls", "token"]

"""The real directory: ldap3 with paged search, LDAPS or StartTLS, and a bind password that is never logged."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from types import TracebackType

import ldap3
from ldap3.core.exceptions import LDAPCertificateError, LDAPException
from ldap3.utils.conv import escape_filter_chars

from accessctl.errors import InvalidInput, StoreUnavailable
from accessctl.hr_sync.ldap.config import Connection
from accessctl.hr_sync.ldap.source import DirectoryEntry, Search, generalized_time, normal_dn
from accessctl.settings import Secret

# Values per `(|(attr=v1)(attr=v2)...)` filter when a delta sync asks for the employments of many users.
_ANY_OF_CHUNK = 200
_SSL_SOURCE_LINE = re.compile(r" \(_ssl\.c:\d+\)$")


class DirectoryUnavailable(StoreUnavailable):
    """The directory could not be reached, bound to or searched; nothing was changed."""

    code = "directory_unavailable"


class DeltaUnsupported(DirectoryUnavailable):
    """The directory refused a `modifyTimestamp` filter: the sync falls back to a full read."""

    code = "delta_unsupported"


def compose_filter(search: Search, values: tuple[str, ...] = ()) -> str:
    """The mapping's filter, narrowed to entries changed since a time, to given attribute values, or to entries
    without an attribute."""
    parts = [search.filter if search.filter.startswith("(") else f"({search.filter})"]
    if search.modified_since is not None:
        parts.append(f"(modifyTimestamp>={generalized_time(search.modified_since)})")
    if search.any_of is not None and values:
        attribute = search.any_of[0]
        parts.append("(|" + "".join(f"({attribute}={escape_filter_chars(v)})" for v in values) + ")")
    if search.lacking is not None:
        parts.append(f"(!({search.lacking}=*))")
    return parts[0] if len(parts) == 1 else "(&" + "".join(parts) + ")"


def _tls_problem(exc: LDAPException, host: str, last_error: str | None) -> str | None:
    """What went wrong with TLS, if TLS it was.

    ldap3 raises a class it makes from its own and the `ssl` error's, so `isinstance` still tells the kind; the `ssl`
    error's text survives in the connection's `last_error`, after ldap3's prefix.
    """
    if isinstance(exc, LDAPCertificateError):
        return f"the directory's certificate is not issued for {host}"
    if not isinstance(exc, ssl.SSLError):
        return None
    detail = _SSL_SOURCE_LINE.sub("", (last_error or str(exc)).split(": ", 1)[-1])
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the directory's certificate was not accepted ({detail}); check connection.ca_file"
    return f"the TLS handshake failed ({detail})"


class Ldap3Directory:
    """A bound connection to one directory; use as a context manager so the connection is closed."""

    supports_delta = True

    def __init__(self, connection: Connection, password: Secret | None, *, url: str | None = None) -> None:
        self.settings = connection
        self.url = url or connection.url
        self.ldaps = self.url.startswith("ldaps://")
        tls = None
        if self.ldaps or connection.start_tls:
            try:
                tls = ldap3.Tls(
                    validate=ssl.CERT_REQUIRED if connection.verify_certificate else ssl.CERT_NONE,
                    ca_certs_file=connection.ca_file,
                    version=ssl.PROTOCOL_TLS_CLIENT,
                )
            except LDAPException as exc:  # ldap3 checks only that the CA file exists
                raise InvalidInput(f"connection.ca_file: {exc}", field="connection.ca_file") from None
        server = ldap3.Server(
            self.url,
            use_ssl=self.ldaps,
            tls=tls,
            get_info=ldap3.NONE,
            connect_timeout=int(connection.timeout_s),
        )
        self._connection = ldap3.Connection(
            server,
            user=connection.bind_dn,
            # Revealed only into the bind request; the Secret itself never reaches a log line or a repr.
            password=None if password is None else password.reveal(),
            receive_timeout=int(connection.timeout_s),
            raise_exceptions=False,
            read_only=True,
        )

    def __enter__(self) -> Ldap3Directory:
        self.open()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        """Connect, upgrade with StartTLS when asked, and bind; a failure names the URL, never the password."""
        try:
            self._connection.open()
            if self.settings.start_tls and not self.ldaps and not self._connection.start_tls():
                raise DirectoryUnavailable(f"StartTLS with {self.url} failed: {self._connection.result}")
            if not self._connection.bind():
                description = self._connection.result.get("description", "bind failed")
                raise DirectoryUnavailable(f"cannot bind to {self.url} as {self.settings.bind_dn}: {description}")
        except LDAPException as exc:
            problem = _tls_problem(exc, self._connection.server.host, self._connection.last_error)
            if problem is not None:
                kind = "TLS" if self.ldaps else "StartTLS"
                raise DirectoryUnavailable(f"{kind} with {self.url} failed: {problem}") from None
            raise DirectoryUnavailable(f"cannot reach {self.url}: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self._connection.unbind()

    def entries(self, search: Search) -> Iterator[DirectoryEntry]:
        if search.any_of is None:
            yield from self._paged(search, compose_filter(search))
            return
        values = search.any_of[1]
        for start in range(0, len(values), _ANY_OF_CHUNK):
            yield from self._paged(search, compose_filter(search, values[start : start + _ANY_OF_CHUNK]))

    def _paged(self, search: Search, ldap_filter: str) -> Iterator[DirectoryEntry]:
        try:
            results = self._connection.extend.standard.paged_search(
                search.base,
                ldap_filter,
                search_scope=ldap3.SUBTREE,
                attributes=list(search.attributes),
                paged_size=self.settings.page_size,
                generator=True,
            )
            base = normal_dn(search.base)
            for item in results:
                # The base itself is a container (ou=people), never a record.
                if item.get("type") != "searchResEntry" or normal_dn(item["dn"]) == base:
                    continue
                raw = item["raw_attributes"]
                attributes = {name: tuple(v.decode("utf-8") for v in values) for name, values in raw.items()}
                yield DirectoryEntry(item["dn"], attributes)
        except LDAPException as exc:
            raise DirectoryUnavailable(f"search of {search.base} failed: {type(exc).__name__}: {exc}") from None
        result = self._connection.result or {}
        code = result.get("result", 0)
        if code == 18 and search.modified_since is not None:  # inappropriateMatching: no ordering on the stamp
            raise DeltaUnsupported(f"{self.url} cannot search by modifyTimestamp")
        if code not in (0, 32):  # 32: noSuchObject, an empty base
            raise DirectoryUnavailable(f"search of {search.base} failed: {result.get('description')}")

"""A throw-away OpenLDAP `slapd` on a free loopback port with a temporary mdb database (tests and the benchmark)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SUFFIX = "dc=region,dc=example"
ROOT_DN = f"cn=admin,{SUFFIX}"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")

_CONFIG = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
pidfile {home}/slapd.pid
argsfile {home}/slapd.args
modulepath {modules}
moduleload back_mdb
{tls}database mdb
maxsize 4294967296
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {password}
directory {home}/data
# The sync's searches: by object class, by HR id and user name, employments by their user, deltas by time.
index objectClass eq
index employeeNumber,uid eq
index roleOccupant eq
index entryCSN,modifyTimestamp eq
"""

# slapd.conf spelling of cn=config's olcTLSCACertificateFile, olcTLSCertificateFile, olcTLSCertificateKeyFile.
_TLS_CONFIG = """\
TLSCACertificateFile {ca}
TLSCertificateFile {certificate}
TLSCertificateKeyFile {key}
"""
# olcSecurity: every operation but StartTLS itself is refused (confidentialityRequired) on a connection without TLS.
_REQUIRE_TLS = "security tls=1\n"


@dataclass(frozen=True, slots=True)
class ServerTls:
    """What slapd serves TLS with: its certificate, that certificate's key, and the CA that signed it (PEM files)."""

    certificate: Path
    key: Path
    ca: Path


def slapd_binary() -> str | None:
    return shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else None)


def free_port(*, besides: int | None = None) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port != besides:
            return port


class TemporarySlapd:
    """`slapd -f` with a generated config in `home`, listening on ldap://127.0.0.1:<free port>; stopped on exit.

    With `tls` it also listens on ldaps://127.0.0.1:<another port> (`tls_url`) and offers StartTLS on the plain one;
    with `require_tls` as well, the plain port serves nothing until StartTLS has upgraded the connection.
    """

    def __init__(
        self,
        home: Path,
        *,
        password: str | None = None,
        binary: str | None = None,
        tls: ServerTls | None = None,
        require_tls: bool = False,
    ) -> None:
        if require_tls and tls is None:
            raise ValueError("require_tls needs tls: a certificate to serve")
        self.home = home
        # A fresh root password per instance unless one is given; it never leaves this machine.
        self.password = password or secrets.token_urlsafe(16)
        self.binary = binary or slapd_binary() or "slapd"
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.tls = tls
        self.require_tls = require_tls
        self.tls_port = None if tls is None else free_port(besides=self.port)
        self.tls_url = None if tls is None else f"ldaps://127.0.0.1:{self.tls_port}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TemporarySlapd:
        self.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def write_config(self) -> Path:
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        tls = ""
        if self.tls is not None:
            tls = _TLS_CONFIG.format(ca=self.tls.ca, certificate=self.tls.certificate, key=self.tls.key)
            tls += _REQUIRE_TLS if self.require_tls else ""
        config = self.home / "slapd.conf"
        config.write_text(
            _CONFIG.format(
                schema=SCHEMA_DIR,
                home=self.home,
                modules=MODULE_DIR,
                tls=tls,
                suffix=SUFFIX,
                root_dn=ROOT_DN,
                password=self.password,
            )
        )
        return config

    def _listeners(self) -> list[tuple[str, int]]:
        found = [(self.url, self.port)]
        if self.tls_url is not None and self.tls_port is not None:
            found.append((self.tls_url, self.tls_port))
        return found

    def preload(self, ldif: Path) -> None:
        """Load a large LDIF offline with `slapadd -q` (before `start`): far faster than adding over the wire."""
        slapadd = str(Path(self.binary).with_name("slapadd"))
        if not Path(slapadd).exists():
            slapadd = shutil.which("slapadd") or "slapadd"
        subprocess.run(
            [slapadd, "-q", "-f", str(self.write_config()), "-l", str(ldif)], check=True, capture_output=True
        )

    def start(self, timeout_s: float = 10.0) -> None:
        config = self.write_config()
        log = (self.home / "slapd.log").open("wb")
        urls = " ".join(f"{url}/" for url, _ in self._listeners())
        # `-d 0` keeps slapd in the foreground, so this process owns it and stops exactly this instance.
        self._process = subprocess.Popen(
            [self.binary, "-f", str(config), "-h", urls, "-d", "0"], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout_s
        for url, port in self._listeners():
            while not self._listening(port):
                if self._process.poll() is not None:
                    raise RuntimeError(f"slapd exited with {self._process.returncode}; see {self.home / 'slapd.log'}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"slapd did not listen on {url} within {timeout_s} s")
                time.sleep(0.05)

    @staticmethod
    def _listening(port: int) -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def _admin(self, tool: str, *args: str, text: str | None = None) -> None:
        """Run an ldap-utils tool bound as the root DN; over ldaps:// when this server has TLS (it may demand it)."""
        url, env = self.url, None
        if self.tls is not None and self.tls_url is not None:
            # `allow`: this channel only loads data; a test may serve a certificate for another name on purpose.
            url, env = self.tls_url, {**os.environ, "LDAPTLS_CACERT": str(self.tls.ca), "LDAPTLS_REQCERT": "allow"}
        subprocess.run(
            [tool, "-x", "-H", url, "-D", ROOT_DN, "-w", self.password, *args],
            input=None if text is None else text.encode(),
            env=env,
            check=True,
            capture_output=True,
        )

    def load_ldif(self, path: Path) -> None:
        """Add every entry of an LDIF file with `ldapadd`, bound as the root DN."""
        self._admin("ldapadd", "-c", "-f", str(path))

    def modify_ldif(self, text: str) -> None:
        """Apply LDIF change records (changetype: modify / add / delete) with `ldapmodify`."""
        self._admin("ldapmodify", text=text)

"""A throw-away OpenLDAP `slapd` on a free loopback port with a temporary mdb database (tests and the benchmark)."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
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
database mdb
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


def slapd_binary() -> str | None:
    return shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TemporarySlapd:
    """`slapd -f` with a generated config in `home`, listening on ldap://127.0.0.1:<free port>; stopped on exit."""

    def __init__(self, home: Path, *, password: str | None = None, binary: str | None = None) -> None:
        self.home = home
        # A fresh root password per instance unless one is given; it never leaves this machine.
        self.password = password or secrets.token_urlsafe(16)
        self.binary = binary or slapd_binary() or "slapd"
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TemporarySlapd:
        self.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def write_config(self) -> Path:
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        config = self.home / "slapd.conf"
        config.write_text(
            _CONFIG.format(
                schema=SCHEMA_DIR,
                home=self.home,
                modules=MODULE_DIR,
                suffix=SUFFIX,
                root_dn=ROOT_DN,
                password=self.password,
            )
        )
        return config

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
        # `-d 0` keeps slapd in the foreground, so this process owns it and stops exactly this instance.
        self._process = subprocess.Popen(
            [self.binary, "-f", str(config), "-h", f"{self.url}/", "-d", "0"], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"slapd exited with {self._process.returncode}; see {self.home / 'slapd.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"slapd did not listen on {self.url} within {timeout_s} s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def load_ldif(self, path: Path) -> None:
        """Add every entry of an LDIF file with `ldapadd`, bound as the root DN."""
        subprocess.run(
            ["ldapadd", "-x", "-c", "-H", self.url, "-D", ROOT_DN, "-w", self.password, "-f", str(path)],
            check=True,
            capture_output=True,
        )

    def modify_ldif(self, text: str) -> None:
        """Apply LDIF change records (changetype: modify / add / delete) with `ldapmodify`."""
        subprocess.run(
            ["ldapmodify", "-x", "-H", self.url, "-D", ROOT_DN, "-w", self.password],
            input=text.encode(),
            check=True,
            capture_output=True,
        )

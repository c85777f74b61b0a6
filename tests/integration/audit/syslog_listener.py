"""A SIEM stand-in for the forwarder tests: an RFC 6587 octet-counting syslog receiver on 127.0.0.1, plain or TLS."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

WAIT_SECONDS = 10.0
EVENT_ID = re.compile(r' event="([0-9a-f-]{36})"')
SERVER_NAMES = ("127.0.0.1", "localhost")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass(frozen=True)
class ThrowawayCA:
    """A certificate authority made for one test, to sign the listener's certificate and be the forwarder's CA file."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def generate(cls, common_name: str = "accessctl test CA") -> ThrowawayCA:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def write(self, path: Path) -> Path:
        """The CA certificate as the PEM file a forwarder is configured with (`--ca`)."""
        path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def server_context(self, directory: Path, names: tuple[str, ...] = SERVER_NAMES) -> ssl.SSLContext:
        """A server context holding a fresh key and a certificate this CA signed for `names` (IP addresses or DNS)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        alternative_names: list[x509.GeneralName] = []
        for name in names:
            try:
                alternative_names.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alternative_names.append(x509.DNSName(name))
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        stem = directory / f"server-{certificate.serial_number:x}"
        chain, key_file = stem.with_suffix(".crt"), stem.with_suffix(".key")
        chain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(chain, key_file)
        return context


class SyslogListener:
    """Keeps every message it reads; `stop()` closes the port and every connection, `start()` opens the same port.

    With `tls` (which may be swapped between a stop and a start) it speaks syslog over TLS (RFC 5425); a peer whose
    handshake fails, or whose bytes are not octet-counted frames, is dropped as a SIEM would drop it.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.port = 0
        self.messages: list[str] = []
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._arrived = asyncio.Event()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._connections):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1  # with TLS, only connections whose handshake succeeded get here
        self._connections.add(writer)
        try:
            while True:
                length = await reader.readuntil(b" ")
                self.messages.append((await reader.readexactly(int(length[:-1]))).decode("utf-8"))
                self._arrived.set()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError, ValueError):
            pass  # ValueError: not a frame (a count that is no number, or octets that are not UTF-8)
        finally:
            self._connections.discard(writer)
            writer.close()

    def event_ids(self) -> list[str]:
        return [match.group(1) for message in self.messages if (match := EVENT_ID.search(message))]

    async def wait_for(self, event_ids: list[str]) -> None:
        """Until every one of `event_ids` has arrived (duplicates do not count); at most WAIT_SECONDS."""
        async with asyncio.timeout(WAIT_SECONDS):
            while not set(event_ids) <= set(self.event_ids()):
                self._arrived.clear()
                await self._arrived.wait()

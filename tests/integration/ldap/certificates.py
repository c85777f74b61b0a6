"""Throw-away certificates for the TLS tests: a CA, a server certificate it signs, and a CA that signed nothing."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accessctl.hr_sync.ldap.slapd import ServerTls

LOOPBACK_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True, slots=True)
class Authority:
    """A CA: its certificate (also written to `path`, PEM) and its key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    path: Path


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return builder.not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def authority(directory: Path, name: str) -> Authority:
    """A self-signed CA named `name`, written to `directory/<name>.pem`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    certificate = _validity(builder).sign(key, hashes.SHA256())
    path = directory / f"{name}.pem"
    path.write_bytes(_pem(certificate))
    return Authority(certificate, key, path)


def server_tls(directory: Path, ca: Authority, names: tuple[str, ...] = LOOPBACK_NAMES) -> ServerTls:
    """A server certificate for `names` (host names or IP addresses) signed by `ca`, with its key, for slapd."""
    key = ec.generate_private_key(ec.SECP256R1())
    alternatives: list[x509.GeneralName] = []
    for name in names:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    certificate = _validity(builder).sign(ca.key, hashes.SHA256())
    certificate_path, key_path = directory / f"server-{names[0]}.pem", directory / f"server-{names[0]}.key"
    certificate_path.write_bytes(_pem(certificate))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return ServerTls(certificate=certificate_path, key=key_path, ca=ca.path)


@dataclass(frozen=True, slots=True)
class LoopbackPki:
    """A CA with a server certificate for 127.0.0.1 and localhost, and an unrelated CA that signed nothing here."""

    ca: Authority
    server: ServerTls
    unrelated_ca: Path


def loopback_pki(directory: Path) -> LoopbackPki:
    ca = authority(directory, "test-directory-ca")
    return LoopbackPki(ca=ca, server=server_tls(directory, ca), unrelated_ca=authority(directory, "unrelated-ca").path)

"""Signed checkpoints: an Ed25519 signature over (chain, seq, hash, signed_at, key id) in canonical JSON."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from accessctl.audit.chain import canonical_json, iso_utc
from accessctl.errors import InvalidInput, InvalidSetting
from accessctl.secret_files import write_once
from accessctl.settings import Settings


@dataclass(frozen=True)
class Checkpoint:
    """The signed statement that `chain_id` had, at `seq`, the record whose hash is `hash`."""

    chain_id: uuid.UUID
    seq: int
    hash: str
    signed_at: datetime
    signature: str
    key_id: str

    def payload(self) -> bytes:
        return checkpoint_payload(self.chain_id, self.seq, self.hash, self.signed_at, self.key_id)


def checkpoint_payload(chain_id: uuid.UUID, seq: int, digest: str, signed_at: datetime, key_id: str) -> bytes:
    """The bytes signed: the checkpoint's fields as canonical JSON (see accessctl.audit.chain)."""
    fields = {"chain_id": str(chain_id), "seq": seq, "hash": digest, "signed_at": iso_utc(signed_at), "key_id": key_id}
    return canonical_json(fields)


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


def signing_key_path(settings: Settings) -> Path:
    return settings.audit_signing_key_path or settings.data_dir / "audit-signing-key.pem"


@dataclass(frozen=True)
class CheckpointSigner:
    """The writer's signing key; verification needs only `public_keys()`."""

    private_key: Ed25519PrivateKey
    key_id: str

    @classmethod
    def generate(cls) -> CheckpointSigner:
        key = Ed25519PrivateKey.generate()
        return cls(private_key=key, key_id=key_id_of(key.public_key()))

    @classmethod
    def load_or_create(cls, path: Path, *, create: bool = True) -> CheckpointSigner:
        """Load the PEM key at `path`; for development, create it (mode 0600) on first use."""
        if not path.exists() and not create:
            raise InvalidSetting("ACCESSCTL_AUDIT_SIGNING_KEY_PATH", f"no audit signing key at {path}")
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            write_once(path, pem)  # another worker may have made it first: the file is the key
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise InvalidSetting("ACCESSCTL_AUDIT_SIGNING_KEY_PATH", f"{path} is not an Ed25519 private key")
        return cls(private_key=loaded, key_id=key_id_of(loaded.public_key()))

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = True) -> CheckpointSigner:
        return cls.load_or_create(signing_key_path(settings), create=create)

    def sign(self, chain_id: uuid.UUID, seq: int, digest: str, signed_at: datetime) -> Checkpoint:
        signature = self.private_key.sign(checkpoint_payload(chain_id, seq, digest, signed_at, self.key_id))
        return Checkpoint(
            chain_id=chain_id,
            seq=seq,
            hash=digest,
            signed_at=signed_at,
            signature=base64.b64encode(signature).decode(),
            key_id=self.key_id,
        )

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        return {self.key_id: self.private_key.public_key()}

    def public_pem(self) -> str:
        """The public half, for auditors and for verifying after the key is replaced (never the private key)."""
        public = self.private_key.public_key()
        return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_keys(paths: Iterable[Path]) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 public keys in the PEM files, by key id: what verify trusts when given them."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in paths:
        try:
            loaded = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{path} is no PEM public key: {exc}", field="--public-key") from None
        if not isinstance(loaded, Ed25519PublicKey):
            raise InvalidInput(f"{path} is not an Ed25519 public key", field="--public-key")
        keys[key_id_of(loaded)] = loaded
    return keys


def signature_problem(checkpoint: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """None when the checkpoint's signature is good; otherwise what is wrong with it."""
    key = keys.get(checkpoint.key_id)
    if key is None:
        return f"signed with unknown key {checkpoint.key_id!r}"
    try:
        key.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.payload())
    except (InvalidSignature, ValueError):
        return "checkpoint signature does not verify"
    return None

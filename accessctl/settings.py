"""Settings from ACCESSCTL_* environment variables, built once and passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from accessctl.errors import InvalidSetting

DEFAULT_BREAK_GLASS_REASONS = (
    '[{"code": "emergency", "purpose_of_use": "ETREAT", "label": "Emergency treatment"},'
    ' {"code": "unconscious_patient", "purpose_of_use": "ETREAT", "label": "Unconscious patient"},'
    ' {"code": "patient_consent", "purpose_of_use": "TREAT", "label": "Oral consent from the patient"},'
    ' {"code": "other", "purpose_of_use": "BTG", "label": "Other (explain in the text)"}]'
)


class Secret:
    """A value that never shows itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _redact_url(url: str) -> str:
    """Hide the password part of a database URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with; see the README's configuration table."""

    data_dir: Path = Path("var")
    database_url: Secret = field(default_factory=lambda: Secret("sqlite+aiosqlite:///var/accessctl.db"))
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    jwt_issuer: str = "accessctl-dev"  # auth.keys.DEV_ISSUER: the only issuer the local dev key may sign as
    jwt_audience: str = "accessctl"
    jwt_leeway_s: int = 30
    jwks_file: Path | None = None
    jwks_url: str | None = None
    dev_key_path: Path | None = None
    log_level: str = "INFO"
    db_pool_size: int = 10
    policies_dir: Path = Path("policies")
    # How often each process polls the change log besides PostgreSQL NOTIFY; 0 turns following off (tests).
    change_poll_seconds: float = 0.5
    audit_signing_key_path: Path | None = None
    audit_checkpoint_every: int = 1000
    audit_checkpoint_seconds: int = 10
    audit_retention_days: int = 3650
    # The LDAP pull's bind password (the mapping file names the bind DN); a Secret, so it is never logged.
    ldap_bind_password: Secret | None = None
    # A sync or bulk change that would deactivate (or, in the LDAP pull, move) more than this share of active users
    # stops and asks first.
    mass_change_share: float = 0.05
    # SCIM sends leavers one request at a time: the guard counts every deactivation within this window (0: each alone).
    mass_change_window_seconds: int = 86400
    # Break-the-glass reason codes: a JSON list of {code, purpose_of_use, label}, or the path of a YAML file of one.
    break_glass_reasons: str = DEFAULT_BREAK_GLASS_REASONS
    break_glass_min_reason_chars: int = 10
    # The longest grant when a role document allowing break-the-glass names no maximum of its own.
    break_glass_default_max_minutes: int = 240
    break_glass_review_overdue_days: int = 7
    # Where break-the-glass notifications are POSTed; unset means they are only logged.
    notify_webhook_url: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.mass_change_share <= 1:
            raise InvalidSetting(
                "ACCESSCTL_MASS_CHANGE_SHARE", f"must be above 0 and at most 1, got {self.mass_change_share}"
            )
        if self.mass_change_window_seconds < 0:
            raise InvalidSetting(
                "ACCESSCTL_MASS_CHANGE_WINDOW_SECONDS", f"must be 0 or more, got {self.mass_change_window_seconds}"
            )

    @property
    def signing_key_path(self) -> Path:
        """The local dev signing key, trusted when no JWKS is configured."""
        return self.dev_key_path or self.data_dir / "dev-signing-key.pem"

    @property
    def database_url_redacted(self) -> str:
        return _redact_url(self.database_url.reveal())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ACCESSCTL_* variables (or the mapping given); unknown names are refused."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        known = {f.name: f for f in fields(cls)}
        for key, raw in env.items():
            if not key.startswith("ACCESSCTL_") or key.startswith("ACCESSCTL_TEST_"):
                continue
            name = key.removeprefix("ACCESSCTL_").lower()
            if name not in known:
                raise InvalidSetting(key, "unknown setting")
            values[name] = _parse(key, known[name].type, raw)
        data_dir = values.get("data_dir")
        if isinstance(data_dir, Path) and "database_url" not in values:
            values["database_url"] = Secret(f"sqlite+aiosqlite:///{data_dir / 'accessctl.db'}")
        return cls(**values)  # type: ignore[arg-type]  # values are parsed per field type above


def _parse(key: str, type_name: object, raw: str) -> object:
    kind = str(type_name)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind.startswith("Path"):
            return Path(raw) if raw else None
        if kind in ("Secret", "Secret | None"):
            return Secret(raw)
    except ValueError:
        raise InvalidSetting(key, f"expected {kind}, got {raw!r}") from None
    return raw or None if "None" in kind else raw

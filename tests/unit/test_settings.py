"""Settings come from ACCESSCTL_* variables only, are typed, and never show a secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from accessctl.errors import InvalidSetting
from accessctl.settings import Secret, Settings


def test_defaults_put_a_sqlite_file_under_var() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.reveal() == "sqlite+aiosqlite:///var/accessctl.db"
    assert settings.signing_key_path == Path("var/dev-signing-key.pem")


def test_data_dir_moves_the_default_database() -> None:
    settings = Settings.from_env({"ACCESSCTL_DATA_DIR": "/srv/ac"})
    assert settings.database_url.reveal() == "sqlite+aiosqlite:////srv/ac/accessctl.db"


def test_values_are_parsed_to_their_types() -> None:
    settings = Settings.from_env(
        {"ACCESSCTL_PORT": "9000", "ACCESSCTL_JWKS_FILE": "/etc/jwks.json", "ACCESSCTL_JWKS_URL": ""}
    )
    assert settings.port == 9000
    assert settings.jwks_file == Path("/etc/jwks.json")
    assert settings.jwks_url is None


def test_unknown_or_badly_typed_setting_is_refused_by_name() -> None:
    with pytest.raises(InvalidSetting, match="ACCESSCTL_PROT"):
        Settings.from_env({"ACCESSCTL_PROT": "1"})
    with pytest.raises(InvalidSetting, match="ACCESSCTL_PORT"):
        Settings.from_env({"ACCESSCTL_PORT": "eighty"})


def test_other_variables_and_test_variables_are_ignored() -> None:
    settings = Settings.from_env({"HOME": "/root", "ACCESSCTL_TEST_DATABASE_URL": "postgresql+asyncpg://x/y"})
    assert settings == Settings()


def test_database_password_never_appears_in_repr_str_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({"ACCESSCTL_DATABASE_URL": "postgresql+asyncpg://svc:hunter2@db/accessctl"})
    with caplog.at_level(logging.INFO):
        logging.getLogger("t").info("settings: %s %r", settings, settings.database_url)
    for text in (repr(settings), str(settings), caplog.text, settings.database_url_redacted):
        assert "hunter2" not in text
    assert settings.database_url_redacted == "postgresql+asyncpg://svc:***@db/accessctl"
    assert settings.database_url.reveal().endswith("hunter2@db/accessctl")


def test_secrets_compare_by_value_without_revealing() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert "a" not in repr(Secret("a"))


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("ACCESSCTL_MASS_CHANGE_SHARE", "0"),
        ("ACCESSCTL_MASS_CHANGE_SHARE", "1.5"),
        ("ACCESSCTL_MASS_CHANGE_WINDOW_SECONDS", "-1"),
    ],
)
def test_a_mass_change_guard_that_could_never_or_always_stop_is_refused_by_name(variable: str, raw: str) -> None:
    with pytest.raises(InvalidSetting, match=variable):
        Settings.from_env({variable: raw})

"""`accessctl hr sync-ldap`: the dry run prints the diff, the guard stops mass deactivation, no password is shown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import ColumnExpressionArgument, func, select

from accessctl import migrate
from accessctl.audit import actions
from accessctl.audit.models import AuditEventRow
from accessctl.cli import main
from accessctl.db import Database
from accessctl.directory.models import User
from accessctl.hr_sync.ldap.slapd import TemporarySlapd
from accessctl.settings import Secret, Settings
from tests.integration.ldap.slapd import PASSWORD, SAMPLE_MAPPING
from tests.integration.ldap.world import committed_sample_database

pytestmark = pytest.mark.slapd
BASE = "dc=region,dc=example"
DEACTIVATE = "changetype: modify\nadd: employeeType\nemployeeType: inactive\n"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own: the command commits for real."""
    with committed_sample_database(tmp_path) as url:
        yield url


async def _count(url: str, column: ColumnExpressionArgument[Any], *where: Any) -> int:
    database = Database.from_settings(Settings(database_url=Secret(url)))
    try:
        async with database.sessions() as session:
            return int(await session.scalar(select(func.count(column)).where(*where)) or 0)
    finally:
        await database.dispose()


def _audited(url: str, action: str) -> int:
    return asyncio.run(_count(url, AuditEventRow.id, AuditEventRow.action == action))


def _sync(database_url: str, tmp_path: Path, slapd: TemporarySlapd, *flags: str) -> tuple[int, str]:
    env = {
        "ACCESSCTL_DATABASE_URL": database_url,
        "ACCESSCTL_DATA_DIR": str(tmp_path),
        "ACCESSCTL_POLICIES_DIR": str(migrate.PROJECT_ROOT / "policies"),
        "ACCESSCTL_LDAP_BIND_PASSWORD": PASSWORD,
    }
    args = ["hr", "sync-ldap", "--config", str(SAMPLE_MAPPING), "--url", slapd.url, *flags]
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.output


def test_dry_run_prints_joiners_and_changes_nothing(database_url: str, tmp_path: Path, slapd: TemporarySlapd) -> None:
    code, output = _sync(database_url, tmp_path, slapd, "--dry-run")
    assert code == 0, output
    assert "joiner   uid=kari.lege,ou=people,dc=region,dc=example" in output
    assert "8 joiners" in output and "dry_run" in output
    assert PASSWORD not in output
    assert asyncio.run(_count(database_url, User.id)) == 0


def test_mass_deactivation_stops_until_confirmed_and_every_change_is_audited(
    database_url: str, tmp_path: Path, slapd: TemporarySlapd
) -> None:
    code, output = _sync(database_url, tmp_path, slapd)
    assert code == 0, output
    assert _audited(database_url, actions.HR_USER_CHANGED) == 8
    # The directory's units differ from the seeded ones: each organisation's tree change is audited once.
    assert _audited(database_url, actions.HR_ORG_TREE_CHANGED) == 2
    for uid in ("kari.lege", "ola.lege", "siri.sykepleier"):
        slapd.modify_ldif(f"dn: uid={uid},ou=people,{BASE}\n{DEACTIVATE}")
    code, output = _sync(database_url, tmp_path, slapd)
    assert code == 1
    assert "would deactivate 3 of" in output and "--confirm-mass-change" in output
    code, output = _sync(database_url, tmp_path, slapd, "--confirm-mass-change")
    assert code == 0, output
    assert "3 leavers" in output
    assert _audited(database_url, actions.HR_USER_CHANGED) == 11
    assert _audited(database_url, actions.HR_ORG_TREE_CHANGED) == 2

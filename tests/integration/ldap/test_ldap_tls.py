"""The LDAP pull over TLS against a real slapd: ldaps://, StartTLS, and a certificate the sync must refuse.

`slapd_tls` refuses every operation on a connection TLS does not protect (olcSecurity tls=1), so a sync that
succeeds over ldap:// with `start_tls` proves the upgrade happened; the control test shows the refusal is real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl import migrate
from accessctl.audit.models import AuditEventRow
from accessctl.cli import main
from accessctl.db import Database
from accessctl.directory.models import Employment, User
from accessctl.hr_sync.ldap import DirectoryUnavailable, LdapMapping, load_mapping
from accessctl.hr_sync.ldap.slapd import TemporarySlapd
from accessctl.hr_sync.run_models import SyncRun
from accessctl.settings import Secret, Settings
from tests.integration.ldap.certificates import LoopbackPki, server_tls
from tests.integration.ldap.slapd import PASSWORD, SAMPLE_MAPPING, sample_slapd
from tests.integration.ldap.world import (
    HOME_CARE,
    LEGEVAKT,
    add_sample_organisations,
    committed_sample_database,
    run_sync,
)

pytestmark = pytest.mark.slapd

# What docs/ldap/sample.ldif holds: HR id -> the units of that user's employments.
SAMPLE_JOBS = {
    "HR1001": [LEGEVAKT],
    "HR1002": [LEGEVAKT],
    "HR1003": [HOME_CARE],
    "HR1004": [HOME_CARE],
    "HR1005": [LEGEVAKT],
    "HR2001": ["elvdal.legekontor"],
    "HR2002": ["elvdal.legekontor", LEGEVAKT],
    "HR2003": ["elvdal.legekontor"],
}


def write_mapping(directory: Path, **connection: Any) -> Path:
    """docs/ldap/mapping.yaml with its `connection` changed as given, written to `directory`."""
    raw = yaml.safe_load(SAMPLE_MAPPING.read_text(encoding="utf-8"))
    raw["connection"].update({k: str(v) if isinstance(v, Path) else v for k, v in connection.items()})
    path = directory / "mapping.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def tls_mapping(directory: Path, url: str, ca_file: Path, *, start_tls: bool = False) -> LdapMapping:
    return load_mapping(write_mapping(directory, url=url, ca_file=ca_file, start_tls=start_tls))


async def synced_jobs(session: AsyncSession) -> dict[str, list[str]]:
    """HR id -> the units of that user's employments, as the database holds them."""
    rows = await session.execute(select(User.hr_id, Employment.unit_id).join(Employment, Employment.user_id == User.id))
    jobs: dict[str, list[str]] = {}
    for hr_id, unit_id in rows:
        jobs.setdefault(hr_id, []).append(unit_id)
    return {hr_id: sorted(units) for hr_id, units in jobs.items()}


@pytest.fixture
async def orgs(session: AsyncSession) -> None:
    await add_sample_organisations(session)


@pytest.mark.usefixtures("orgs")
async def test_sync_over_ldaps_with_the_ca_brings_every_user_and_employment(
    slapd_tls: TemporarySlapd,
    pki: LoopbackPki,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
    tmp_path: Path,
) -> None:
    assert slapd_tls.tls_url is not None and slapd_tls.tls_url.startswith("ldaps://127.0.0.1:")
    mapping = tls_mapping(tmp_path, slapd_tls.tls_url, pki.server.ca)
    outcome = await run_sync(sessions, settings, slapd_tls, mapping=mapping, url=slapd_tls.tls_url)
    assert outcome.report.outcome == "applied", outcome.report.errors
    assert outcome.report.errors == []
    assert outcome.report.counts["joiners"] == 8
    assert await synced_jobs(session) == SAMPLE_JOBS


@pytest.mark.usefixtures("orgs")
async def test_start_tls_upgrades_the_plain_port_and_the_sync_goes_through(
    slapd_tls: TemporarySlapd,
    pki: LoopbackPki,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
    tmp_path: Path,
) -> None:
    assert slapd_tls.url.startswith("ldap://127.0.0.1:")
    mapping = tls_mapping(tmp_path, slapd_tls.url, pki.server.ca, start_tls=True)
    outcome = await run_sync(sessions, settings, slapd_tls, mapping=mapping, url=slapd_tls.url)
    assert outcome.report.outcome == "applied", outcome.report.errors
    assert outcome.report.counts["joiners"] == 8
    assert await synced_jobs(session) == SAMPLE_JOBS


@pytest.mark.usefixtures("orgs")
async def test_tls_only_directory_refuses_a_sync_that_does_not_start_tls(
    slapd_tls: TemporarySlapd,
    pki: LoopbackPki,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """The control for the StartTLS test: without the upgrade this server binds no one, so that test proves it."""
    mapping = tls_mapping(tmp_path, slapd_tls.url, pki.server.ca, start_tls=False)
    with pytest.raises(DirectoryUnavailable, match="confidentialityRequired") as refused:
        await run_sync(sessions, settings, slapd_tls, mapping=mapping, url=slapd_tls.url)
    assert slapd_tls.url in refused.value.message
    assert await session.scalar(select(func.count(User.id))) == 0


@pytest.mark.parametrize("start_tls", [False, True], ids=["ldaps", "start_tls"])
@pytest.mark.usefixtures("orgs")
async def test_certificate_for_another_host_is_refused_though_a_trusted_ca_signed_it(
    start_tls: bool,
    pki: LoopbackPki,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> None:
    elsewhere = server_tls(tmp_path, pki.ca, names=("directory.example.invalid",))
    with sample_slapd(tmp_path_factory.mktemp("slapd-elsewhere"), tls=elsewhere) as server:
        assert server.tls_url is not None
        url = server.url if start_tls else server.tls_url
        mapping = tls_mapping(tmp_path, url, pki.server.ca, start_tls=start_tls)
        with pytest.raises(DirectoryUnavailable) as refused:
            await run_sync(sessions, settings, server, mapping=mapping, url=url)
    kind = "StartTLS" if start_tls else "TLS"
    assert refused.value.message == f"{kind} with {url} failed: the directory's certificate is not issued for 127.0.0.1"
    assert await session.scalar(select(func.count(User.id))) == 0


@pytest.fixture
def committed_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own with the sample organisations: the command commits for real."""
    with committed_sample_database(tmp_path) as url:
        yield url


async def _counts(url: str) -> dict[str, int]:
    database = Database.from_settings(Settings(database_url=Secret(url)))
    try:
        async with database.sessions() as session:
            tables = {"users": User.id, "employments": Employment.id, "runs": SyncRun.id, "audit": AuditEventRow.id}
            return {name: int(await session.scalar(select(func.count(column))) or 0) for name, column in tables.items()}
    finally:
        await database.dispose()


def sync_ldap(database_url: str, tmp_path: Path, config: Path, url: str) -> tuple[int, str]:
    """`accessctl hr sync-ldap --config <config> --url <url>`: its exit code and everything it printed."""
    env = {
        "ACCESSCTL_DATABASE_URL": database_url,
        "ACCESSCTL_DATA_DIR": str(tmp_path),
        "ACCESSCTL_POLICIES_DIR": str(migrate.PROJECT_ROOT / "policies"),
        "ACCESSCTL_LDAP_BIND_PASSWORD": PASSWORD,
    }
    result = CliRunner().invoke(main, ["hr", "sync-ldap", "--config", str(config), "--url", url], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.output


@pytest.mark.parametrize("start_tls", [False, True], ids=["ldaps", "start_tls"])
def test_certificate_from_a_ca_that_did_not_sign_it_fails_naming_the_url_and_changes_nothing(
    start_tls: bool, slapd_tls: TemporarySlapd, pki: LoopbackPki, committed_database: str, tmp_path: Path
) -> None:
    assert slapd_tls.tls_url is not None
    url = slapd_tls.url if start_tls else slapd_tls.tls_url
    config = write_mapping(tmp_path, url=url, ca_file=pki.unrelated_ca, start_tls=start_tls)
    code, output = sync_ldap(committed_database, tmp_path, config, url)
    assert code == 1, output
    kind = "StartTLS" if start_tls else "TLS"
    assert output.startswith(f"error: {kind} with {url} failed: the directory's certificate was not accepted ("), output
    assert "check connection.ca_file" in output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1
    assert PASSWORD not in output
    assert asyncio.run(_counts(committed_database)) == {"users": 0, "employments": 0, "runs": 0, "audit": 0}
    # The same command with the right CA goes through: the failure was the certificate, not the set-up.
    good = write_mapping(tmp_path, url=url, ca_file=pki.server.ca, start_tls=start_tls)
    code, output = sync_ldap(committed_database, tmp_path, good, url)
    assert code == 0, output
    assert asyncio.run(_counts(committed_database))["users"] == len(SAMPLE_JOBS)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read {path}: No such file or directory"),
        (b"not a certificate\n", "{path} holds no PEM certificate"),
    ],
    ids=["missing", "not_pem"],
)
def test_unusable_ca_file_is_a_mapping_error_naming_the_field(
    content: bytes | None, problem: str, tmp_path: Path
) -> None:
    ca_file = tmp_path / "directory-ca.pem"
    if content is not None:
        ca_file.write_bytes(content)
    config = write_mapping(tmp_path, url="ldaps://127.0.0.1:1", ca_file=ca_file)
    env = {"ACCESSCTL_DATA_DIR": str(tmp_path), "ACCESSCTL_LDAP_BIND_PASSWORD": PASSWORD}
    result = CliRunner().invoke(main, ["hr", "sync-ldap", "--config", str(config)], env=env)
    assert result.exit_code == 1
    assert result.output == f"error: connection.ca_file: {problem.format(path=ca_file)}\n"

"""The LDAP pull against a real slapd holding docs/ldap/sample.ldif, read with docs/ldap/mapping.yaml unchanged.

Joiners, movers and leavers are checked where they matter: in an AuthZEN evaluation on the app.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import yaml
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accessctl.audit import actions
from accessctl.directory.models import Employment, Unit, User
from accessctl.hr_sync.ldap import LdapMapping, mapping_from_dict
from accessctl.hr_sync.ldap.slapd import TemporarySlapd
from accessctl.hr_sync.run_models import SyncRun
from accessctl.policies.models import RoleAssignment
from accessctl.settings import Settings
from tests.api.conftest import TokenFactory, bearer
from tests.integration.ldap.slapd import SAMPLE_MAPPING
from tests.integration.ldap.world import (
    HOME_CARE,
    LEGEVAKT,
    AuditList,
    add_sample_organisations,
    decide,
    relate,
    run_sync,
    user_id,
)

pytestmark = pytest.mark.slapd

BASE = "dc=region,dc=example"
KARI = f"uid=kari.lege,ou=people,{BASE}"
DEACTIVATE = "changetype: modify\nadd: employeeType\nemployeeType: inactive\n"


@pytest.fixture
async def orgs(session: AsyncSession) -> None:
    await add_sample_organisations(session)


@pytest.fixture
def headers(token: TokenFactory) -> dict[str, str]:
    return bearer(token("authz:evaluate", "context:write"))


async def _caught_up(app: Litestar) -> None:
    await app.state.decision_point.catch_up()


@pytest.mark.usefixtures("orgs")
async def test_first_sync_brings_joiners_whose_roles_follow_from_the_role_documents(
    slapd: TemporarySlapd,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
    app: Litestar,
    client: httpx.AsyncClient,
    headers: dict[str, str],
) -> None:
    audit = AuditList()
    outcome = await run_sync(sessions, settings, slapd, audit)
    assert outcome.report.outcome == "applied", outcome.report.errors
    assert outcome.report.errors == []
    assert outcome.report.counts["joiners"] == 8
    kari = await user_id(session, "HR1001")
    roles = set(await session.scalars(select(RoleAssignment.role_id).where(RoleAssignment.user_id == kari)))
    assert roles == {"legevakt.lege"}
    # Each user change is audited, and so is each organisation's unit tree the directory changed.
    assert {e.action for e in audit.events} == {actions.HR_USER_CHANGED, actions.HR_ORG_TREE_CHANGED}
    assert len([e for e in audit.events if e.action == actions.HR_USER_CHANGED]) == 8
    await _caught_up(app)
    await relate(client, headers)
    answer = await decide(client, headers, kari)
    assert answer["decision"] is True, answer
    # A future-dated joiner holds the role from the start date, and no access before it.
    nora = await user_id(session, "HR1005")
    starts = await session.scalar(select(RoleAssignment.valid_from).where(RoleAssignment.user_id == nora))
    assert starts is not None and starts.year == 2030
    assert (await decide(client, headers, nora))["decision"] is False
    # Nothing changed: a second full run changes nothing.
    again = await run_sync(sessions, settings, slapd)
    assert again.report.counts["unchanged"] == 8 and again.plan.changes == []


@pytest.mark.usefixtures("orgs")
async def test_deactivated_leaver_loses_access_at_once_and_a_mover_keeps_nothing_of_the_old_unit(
    slapd: TemporarySlapd,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
    app: Litestar,
    client: httpx.AsyncClient,
    headers: dict[str, str],
) -> None:
    await run_sync(sessions, settings, slapd)
    await _caught_up(app)
    await relate(client, headers)
    kari, ola = await user_id(session, "HR1001"), await user_id(session, "HR1002")
    assert (await decide(client, headers, kari))["decision"] is True
    assert (await decide(client, headers, ola))["decision"] is True

    slapd.modify_ldif(f"dn: {KARI}\nchangetype: modify\nadd: employeeType\nemployeeType: inactive\n")
    slapd.modify_ldif(f"dn: cn=HR1002-1,ou=employments,{BASE}\nchangetype: modify\nreplace: ou\nou: {HOME_CARE}\n")
    outcome = await run_sync(sessions, settings, slapd)
    kinds = {c.hr_id: c.kind for c in outcome.plan.changes}
    assert kinds == {"HR1001": "leaver", "HR1002": "mover"}
    await _caught_up(app)
    left = await decide(client, headers, kari)
    assert left["decision"] is False
    assert left["context"]["reason"] == "subject_inactive"
    moved = await decide(client, headers, ola)
    assert moved["decision"] is False
    roles = set(await session.scalars(select(RoleAssignment.unit_id).where(RoleAssignment.user_id == ola)))
    assert "testby.legevakt" not in roles


@pytest.mark.usefixtures("orgs")
async def test_leaver_with_an_end_date_keeps_access_until_it(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    await run_sync(sessions, settings, slapd)
    slapd.modify_ldif(
        f"dn: cn=HR1001-1,ou=employments,{BASE}\nchangetype: modify\nreplace: description\n"
        "description: position=7006 from=2024-01-01 to=2031-01-01\n"
    )
    outcome = await run_sync(sessions, settings, slapd)
    assert [(c.hr_id, c.kind) for c in outcome.plan.changes] == [("HR1001", "leaver")]
    kari = await user_id(session, "HR1001")
    ends = await session.scalar(select(RoleAssignment.valid_to).where(RoleAssignment.user_id == kari))
    assert ends is not None and ends.year == 2031
    still = await session.get(User, kari, populate_existing=True)
    assert still is not None and (still.status, still.deactivated_at) == ("active", None)


@pytest.mark.usefixtures("orgs")
async def test_user_gone_from_the_directory_is_a_leaver_on_a_full_sync_only(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    await run_sync(sessions, settings, slapd)
    slapd.modify_ldif(f"dn: cn=HR1001-1,ou=employments,{BASE}\nchangetype: delete\n\ndn: {KARI}\nchangetype: delete\n")
    delta = await run_sync(sessions, settings, slapd, mode="delta")
    assert delta.report.mode == "delta" and delta.plan.changes == []
    full = await run_sync(sessions, settings, slapd)
    assert [(c.hr_id, c.kind) for c in full.plan.changes] == [("HR1001", "leaver")]
    kari = await session.get(User, await user_id(session, "HR1001"), populate_existing=True)
    assert kari is not None and kari.status == "inactive"
    assert kari.deactivated_at is not None and kari.deactivated_at >= full.report.started_at
    open_jobs = await session.scalars(
        select(Employment).where(Employment.user_id == kari.id, Employment.valid_to.is_(None))
    )
    assert list(open_jobs) == []


@pytest.mark.usefixtures("orgs")
async def test_delta_sync_reads_only_what_changed(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await asyncio.sleep(1.1)  # modifyTimestamp counts whole seconds: the sample must be older than the first run
    await run_sync(sessions, settings, slapd)
    slapd.modify_ldif(f"dn: {KARI}\nchangetype: modify\nreplace: sn\nsn: Lege-Berg\n")
    outcome = await run_sync(sessions, settings, slapd, mode="delta")
    assert outcome.report.mode == "delta"
    assert [(c.hr_id, c.kind, c.fields) for c in outcome.plan.changes] == [("HR1001", "changed", ("family_name",))]
    assert outcome.report.counts["entries_read"] < 10


@pytest.mark.usefixtures("orgs")
async def test_mass_deactivation_stops_changes_nothing_and_goes_through_when_confirmed(
    slapd: TemporarySlapd,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
    app: Litestar,
    client: httpx.AsyncClient,
    headers: dict[str, str],
) -> None:
    await run_sync(sessions, settings, slapd)
    await _caught_up(app)
    await relate(client, headers)
    kari = await user_id(session, "HR1001")
    for uid in ("kari.lege", "ola.lege"):
        slapd.modify_ldif(f"dn: uid={uid},ou=people,{BASE}\n{DEACTIVATE}")
    stopped = await run_sync(sessions, settings, slapd)
    assert stopped.report.outcome == "stopped"
    assert "would deactivate 2 of" in (stopped.report.stop_reason or "")
    await _caught_up(app)
    assert (await decide(client, headers, kari))["decision"] is True
    runs = list(await session.scalars(select(SyncRun).order_by(SyncRun.id)))
    assert [r.outcome for r in runs][-1] == "stopped" and runs[-1].counts["leavers"] == 2
    confirmed = await run_sync(sessions, settings, slapd, confirmed=True)
    assert confirmed.report.outcome == "applied" and confirmed.report.counts["leavers"] == 2
    await _caught_up(app)
    assert (await decide(client, headers, kari))["decision"] is False


@pytest.mark.usefixtures("orgs")
async def test_mass_move_stops_changes_nothing_and_goes_through_when_confirmed(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    await run_sync(sessions, settings, slapd)
    before = await _current_jobs(session)
    # A broken export: two users get another unit, and a third's job in a second organisation ends (he stays).
    for cn in ("HR1001-1", "HR1002-1"):
        slapd.modify_ldif(f"dn: cn={cn},ou=employments,{BASE}\nchangetype: modify\nreplace: ou\nou: {HOME_CARE}\n")
    slapd.modify_ldif(
        f"dn: cn=HR2002-2,ou=employments,{BASE}\nchangetype: modify\nreplace: description\n"
        "description: position=7006 from=2025-01-01 to=2031-01-01\n"
    )
    stopped = await run_sync(sessions, settings, slapd)
    assert stopped.report.outcome == "stopped" and stopped.report.counts["movers"] == 3
    assert "would move 3 of 7 active users" in (stopped.report.stop_reason or "")
    assert (stopped.verdict.moves, stopped.verdict.deactivations) == (3, 0)
    assert await _current_jobs(session) == before
    confirmed = await run_sync(sessions, settings, slapd, confirmed=True)
    assert confirmed.report.outcome == "applied" and confirmed.report.counts["movers"] == 3
    moved = await _current_jobs(session)
    assert moved[await user_id(session, "HR1001")] == {(HOME_CARE, None)}


async def _current_jobs(session: AsyncSession) -> dict[str, set[tuple[str, Any]]]:
    """Each user's employments as (unit, valid_to), read afresh."""
    session.expire_all()
    jobs: dict[str, set[tuple[str, Any]]] = {}
    for job in await session.scalars(select(Employment)):
        jobs.setdefault(job.user_id, set()).add((job.unit_id, job.valid_to))
    return jobs


@pytest.mark.usefixtures("orgs")
async def test_dry_run_prints_the_diff_and_changes_nothing(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    outcome = await run_sync(sessions, settings, slapd, dry_run=True)
    assert outcome.report.outcome == "dry_run" and outcome.report.counts["joiners"] == 8
    assert await session.scalar(select(User.id).where(User.hr_id == "HR1001")) is None
    last_run = await session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert last_run is not None and last_run.dry_run


@pytest.mark.usefixtures("orgs")
async def test_bad_records_are_rejected_by_name_and_field_while_the_rest_apply(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    bad = [
        ("bad.hpr", "HR9001", "labeledURI: urn:oid:2.16.578.1.12.4.1.4.4:12AB", "position=7006 from=2024-01-01"),
        ("bad.dates", "HR9002", "", "position=7006 from=2024-01-01 to=2023-01-01"),
        ("no.unit", "HR9003", "", "position=7006 from=2024-01-01"),
        ("dup.one", "HR1002", "", "position=7006 from=2024-01-01"),
    ]
    ldif = []
    for uid, hr, extra, description in bad:
        dn = f"uid={uid},ou=people,{BASE}"
        unit = "nowhere" if uid == "no.unit" else "testby.legevakt"
        ldif.append(f"dn: {dn}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: X\nsn: X\ngivenName: X\n"
                    f"employeeNumber: {hr}\n{extra + chr(10) if extra else ''}")  # fmt: skip
        ldif.append(f"dn: cn={hr}-{uid},ou=employments,{BASE}\nchangetype: add\nobjectClass: organizationalRole\n"
                    f"cn: {hr}-{uid}\nroleOccupant: {dn}\nou: {unit}\ndescription: {description}\n")  # fmt: skip
    ldif.append(f"dn: uid=no.name,ou=people,{BASE}\nchangetype: add\nobjectClass: inetOrgPerson\nuid: no.name\n"
                "cn: X\nsn: X\nemployeeNumber: HR9004\n")  # fmt: skip
    slapd.modify_ldif("\n".join(ldif))
    outcome = await run_sync(sessions, settings, slapd)
    problems = {(e.record.split(",")[0], e.field) for e in outcome.report.errors}
    assert ("uid=bad.hpr", "hpr_number") in problems
    assert ("cn=HR9002-bad.dates", "valid_to") in problems
    assert ("uid=no.unit", "employments.unit") in problems
    assert ("uid=dup.one", "hr_id") in problems and ("uid=ola.lege", "hr_id") in problems
    assert ("uid=no.name", "given_name") in problems
    assert outcome.report.counts["joiners"] == 7  # all the good ones but Ola, whose HR id is now ambiguous
    for hr_id in ("HR9001", "HR9002", "HR9003", "HR9004"):
        assert await session.scalar(select(User.id).where(User.hr_id == hr_id)) is None
    runs = await session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert runs is not None and len(runs.errors) == len(outcome.report.errors)


@pytest.mark.usefixtures("orgs")
async def test_unit_tree_is_read_from_organisational_units(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    slapd.modify_ldif(
        f"dn: ou=testby.akutt,ou=testby.legevakt,ou=testby,ou=units,{BASE}\nchangetype: add\n"
        "objectClass: organizationalUnit\nou: testby.akutt\ndescription: Akutteam\n"
    )
    audit = AuditList()
    await run_sync(sessions, settings, slapd, audit)
    unit: Any = await session.get(Unit, "testby.akutt", populate_existing=True)
    assert unit is not None and unit.parent_id == "testby.legevakt" and unit.organisation_id == "testby"
    [tree] = [e for e in audit.events if e.action == actions.HR_ORG_TREE_CHANGED and e.resource_id == "testby"]
    assert tree.user_id == "ldap:sample-openldap"
    assert "testby.akutt" in tree.detail["units"]["created"]


def _jobs_named_by_patterned_hr_id(*, digits_only: bool = False) -> LdapMapping:
    """The sample mapping, but an employment names its user by the HR id at the start of its cn (HR1001-1).

    With `digits_only`, the HR id is cut by a pattern on the users' side too: HR1001 is the user with HR id 1001.
    """
    raw = yaml.safe_load(SAMPLE_MAPPING.read_text(encoding="utf-8"))
    raw["employments"]["user_refers_to"] = "hr_id"
    raw["employments"]["fields"]["user"] = {"attribute": "cn", "pattern": r"^HR(\d+)-" if digits_only else r"^(HR\d+)-"}
    if digits_only:
        raw["users"]["fields"]["hr_id"] = {"attribute": "employeeNumber", "pattern": r"^HR(\d+)$"}
    return mapping_from_dict(raw)


@pytest.mark.usefixtures("orgs")
async def test_bad_employment_rejects_its_user_named_by_a_patterned_hr_id_who_keeps_what_is_stored(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    mapping = _jobs_named_by_patterned_hr_id()
    first = await run_sync(sessions, settings, slapd, mapping=mapping)
    assert first.report.errors == [] and first.report.counts["joiners"] == 8
    before = await _current_jobs(session)
    slapd.modify_ldif(
        f"dn: cn=HR1001-1,ou=employments,{BASE}\nchangetype: modify\nreplace: description\n"
        "description: position=7006 from=2024-13-45\n"
    )
    outcome = await run_sync(sessions, settings, slapd, mapping=mapping)
    problems = {(e.record.split(",")[0], e.field) for e in outcome.report.errors}
    assert problems == {("cn=HR1001-1", "valid_from"), ("uid=kari.lege", "employments")}
    assert outcome.plan.changes == [] and outcome.report.outcome == "applied"
    assert await _current_jobs(session) == before


@pytest.mark.usefixtures("orgs")
@pytest.mark.parametrize("digits_only", [False, True], ids=["jobs-patterned", "both-patterned"])
async def test_delta_run_moves_the_user_of_a_changed_employment_named_through_a_pattern_as_a_full_run_would(
    slapd: TemporarySlapd,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
    digits_only: bool,
) -> None:
    mapping = _jobs_named_by_patterned_hr_id(digits_only=digits_only)
    jon_hr_id = "2002" if digits_only else "HR2002"
    await asyncio.sleep(1.1)  # modifyTimestamp counts whole seconds: the sample must be older than the first run
    first = await run_sync(sessions, settings, slapd, mapping=mapping)
    assert first.report.errors == [] and first.report.counts["joiners"] == 8
    # Only the employment entry changes: Jon's second job moves; his first (not changed) must be read too.
    slapd.modify_ldif(f"dn: cn=HR2002-2,ou=employments,{BASE}\nchangetype: modify\nreplace: ou\nou: {HOME_CARE}\n")
    delta = await run_sync(sessions, settings, slapd, mapping=mapping, mode="delta")
    assert delta.report.mode == "delta" and delta.report.errors == []
    assert [(c.hr_id, c.kind) for c in delta.plan.changes] == [(jon_hr_id, "mover")]
    jobs = await _current_jobs(session)
    assert jobs[await user_id(session, jon_hr_id)] == {("elvdal.legekontor", None), (HOME_CARE, None)}
    full = await run_sync(sessions, settings, slapd, mapping=mapping)
    assert full.plan.changes == [] and await _current_jobs(session) == jobs


@pytest.mark.usefixtures("orgs")
@pytest.mark.parametrize("digits_only", [False, True], ids=["jobs-patterned", "both-patterned"])
async def test_delta_run_of_a_changed_user_named_through_a_pattern_keeps_the_employments_it_did_not_change(
    slapd: TemporarySlapd,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    settings: Settings,
    digits_only: bool,
) -> None:
    mapping = _jobs_named_by_patterned_hr_id(digits_only=digits_only)
    await asyncio.sleep(1.1)  # modifyTimestamp counts whole seconds: the sample must be older than the first run
    await run_sync(sessions, settings, slapd, mapping=mapping)
    before = await _current_jobs(session)
    slapd.modify_ldif(f"dn: uid=jon.fastlege,ou=people,{BASE}\nchangetype: modify\nreplace: sn\nsn: Elv-Dal\n")
    delta = await run_sync(sessions, settings, slapd, mapping=mapping, mode="delta")
    assert delta.report.mode == "delta" and delta.report.errors == []
    jon_hr_id = "2002" if digits_only else "HR2002"
    assert [(c.hr_id, c.kind, c.fields) for c in delta.plan.changes] == [(jon_hr_id, "changed", ("family_name",))]
    assert await _current_jobs(session) == before


@pytest.mark.usefixtures("orgs")
async def test_employment_entry_naming_no_user_is_rejected_and_no_user_loses_a_job_for_it(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    await run_sync(sessions, settings, slapd)
    before = await _current_jobs(session)
    # Kari's only employment entry loses the attribute that names her: it may be anyone's.
    slapd.modify_ldif(f"dn: cn=HR1001-1,ou=employments,{BASE}\nchangetype: modify\ndelete: roleOccupant\n")
    outcome = await run_sync(sessions, settings, slapd)
    problems = {(e.record.split(",")[0], e.field) for e in outcome.report.errors}
    assert problems == {("cn=HR1001-1", "user"), ("uid=kari.lege", "employments")}
    assert outcome.plan.changes == []
    assert await _current_jobs(session) == before
    kari = await session.get(User, await user_id(session, "HR1001"), populate_existing=True)
    assert kari is not None and kari.status == "active"


@pytest.mark.usefixtures("orgs")
async def test_delta_run_holds_back_job_losses_while_an_older_employment_entry_names_no_user(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    await asyncio.sleep(1.1)  # modifyTimestamp counts whole seconds: the sample must be older than the first run
    await run_sync(sessions, settings, slapd)
    before = await _current_jobs(session)
    slapd.modify_ldif(f"dn: cn=HR1001-1,ou=employments,{BASE}\nchangetype: modify\ndelete: roleOccupant\n")
    await asyncio.sleep(1.1)  # the entry naming no user is to be older than the last applied run
    held = await run_sync(sessions, settings, slapd)
    assert held.report.outcome == "applied" and held.plan.changes == []
    slapd.modify_ldif(f"dn: {KARI}\nchangetype: modify\nreplace: sn\nsn: Lege-Berg\n")
    delta = await run_sync(sessions, settings, slapd, mode="delta")
    problems = {(e.record.split(",")[0], e.field) for e in delta.report.errors}
    assert problems == {("cn=HR1001-1", "user"), ("uid=kari.lege", "employments")}
    assert delta.plan.changes == [] and await _current_jobs(session) == before


@pytest.mark.usefixtures("orgs")
async def test_bad_unit_entry_leaves_its_organisations_tree_as_stored_while_other_trees_change(
    slapd: TemporarySlapd, sessions: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    legevakt = f"ou={LEGEVAKT},ou=testby,ou=units,{BASE}"
    add = "changetype: add\nobjectClass: organizationalUnit"
    slapd.modify_ldif(f"dn: ou=testby.akutt,{legevakt}\n{add}\nou: testby.akutt\ndescription: Akutteam\n")
    await run_sync(sessions, settings, slapd)
    assert await session.get(Unit, "testby.akutt") is not None
    # The unit no one works in loses its name (a bad entry); the same run adds a unit and renames one elsewhere.
    slapd.modify_ldif(
        f"dn: ou=testby.akutt,{legevakt}\nchangetype: modify\ndelete: description\n\n"
        f"dn: ou=testby.natt,{legevakt}\n{add}\nou: testby.natt\ndescription: Nattevakt\n\n"
        f"dn: ou=elvdal.legekontor,ou=elvdal,ou=units,{BASE}\nchangetype: modify\nreplace: description\n"
        "description: Elvdal fastlegekontor\n"
    )
    outcome = await run_sync(sessions, settings, slapd)
    problems = {(e.record.split(",")[0], e.field) for e in outcome.report.errors}
    assert problems == {("ou=testby.akutt", "name"), ("organisation 310000019 (testby)", "units")}
    assert outcome.report.counts["units_changed"] == 1
    session.expire_all()
    akutt = await session.get(Unit, "testby.akutt")
    assert akutt is not None and akutt.name == "Akutteam"
    assert await session.get(Unit, "testby.natt") is None  # all or nothing for the organisation
    elvdal = await session.get(Unit, "elvdal.legekontor")
    assert elvdal is not None and elvdal.name == "Elvdal fastlegekontor"

"""Policy versions with four eyes: publish, approve on the version's own access tests, supersede, roll back."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.events import AuditEvent
from accessctl.changes import changes_since
from accessctl.directory.models import Service
from accessctl.errors import AccessTestsFailed, Conflict, InvalidPolicy, PolicyUnchanged, SelfApproval
from accessctl.pdp.policy_source import active_policy
from accessctl.policies.catalogue_sync import service_catalogue
from accessctl.policies.compile import load_policy
from accessctl.policies.models import PolicyVersion, Role
from accessctl.policies.versions import approve, publish, rollback, version_files, version_policy, versions
from tests.policy_copies import EXTRA_PERMISSION, LEGEVAKT, NO_NOTE_READING, copy_policies, edit


class Recorded:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    async def record_many(self, events: Sequence[AuditEvent]) -> None:
        self.events.extend(events)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    return copy_policies(tmp_path)


def grants(policy_version: PolicyVersion, role: str, resource_type: str, action: str) -> bool:
    permissions = version_policy(policy_version).roles[role].permissions
    return any(p.resource_type == resource_type and p.action == action for p in permissions)


async def test_publish_stores_a_pending_version_with_every_file(session: AsyncSession, policy_dir: Path) -> None:
    version = await publish(session, policy_dir, "alice", "first")
    assert version.status == "pending" and version.author == "alice" and version.note == "first"
    assert LEGEVAKT in version.source and "tests/fixtures.yaml" in version.source
    assert version_policy(version).version == f"v{version.id}"
    assert [v.id for v in await versions(session)] == [version.id]


async def test_publish_refuses_an_invalid_set_naming_the_problem(session: AsyncSession, policy_dir: Path) -> None:
    edit(policy_dir, LEGEVAKT, ("services: [legevakt]\n", "services: [legevakt, tannlege]\n"))
    with pytest.raises(InvalidPolicy) as refused:
        await publish(session, policy_dir, "alice")
    assert any(p.file == LEGEVAKT and "tannlege" in p.message for p in refused.value.problems)
    assert await versions(session) == []


async def test_author_cannot_approve_own_version(session: AsyncSession, policy_dir: Path) -> None:
    version = await publish(session, policy_dir, "alice")
    for same in ("alice", "Alice", " ALICE "):  # however the identity provider spells the subject
        with pytest.raises(SelfApproval):
            await approve(session, version.id, same)
    assert version.status == "pending"


async def test_approval_refused_when_an_access_test_fails(session: AsyncSession, policy_dir: Path) -> None:
    edit(policy_dir, LEGEVAKT, NO_NOTE_READING)
    version = await publish(session, policy_dir, "alice")
    with pytest.raises(AccessTestsFailed) as refused:
        await approve(session, version.id, "bob")
    failure = refused.value.failures[0]
    file, expected = failure["file"], failure["expected"]
    assert isinstance(file, str) and isinstance(expected, str)
    assert file.startswith("tests/") and expected.startswith("permit")
    assert version.status == "pending"


async def test_approval_refused_when_deleted_cases_leave_a_role_uncovered(
    session: AsyncSession, policy_dir: Path
) -> None:
    edit(policy_dir, LEGEVAKT, NO_NOTE_READING)  # the cases that would catch this are deleted with it
    for name in ("gp-and-legevakt.yaml", "shielded.yaml", "blocks-and-break-glass.yaml"):
        (policy_dir / "tests" / name).unlink()
    version = await publish(session, policy_dir, "alice")
    with pytest.raises(AccessTestsFailed, match="without a passing case") as refused:
        await approve(session, version.id, "bob")
    gaps = {(gap["field"], gap["value"]) for gap in refused.value.failures}
    assert ("coverage.role", "legevakt.lege") in gaps
    assert version.status == "pending"


async def test_access_tests_run_from_the_stored_files_not_the_working_dir(
    session: AsyncSession, policy_dir: Path
) -> None:
    edit(policy_dir, LEGEVAKT, NO_NOTE_READING)
    version = await publish(session, policy_dir, "alice")
    edit(policy_dir, LEGEVAKT, (NO_NOTE_READING[1], NO_NOTE_READING[0]))  # the working dir is fixed afterwards
    with pytest.raises(AccessTestsFailed):
        await approve(session, version.id, "bob")


async def test_approval_activates_supersedes_and_tells_engines(session: AsyncSession, policy_dir: Path) -> None:
    audit = Recorded()
    first = await publish(session, policy_dir, "alice", audit=audit)
    await approve(session, first.id, "bob", audit=audit)
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    second = await publish(session, policy_dir, "alice")
    activation = await approve(session, second.id, "carol", audit=audit)

    assert activation.tests_passed > 0
    assert (first.status, second.status) == ("superseded", "active")
    assert second.approved_by == "carol" and second.approved_at is not None
    policy = await active_policy(session, fallback_dir=policy_dir)
    assert policy.version == f"v{second.id}"
    assert any(p.resource_type == "report.quality" for p in policy.roles["legevakt.lege"].permissions)
    await session.commit()  # the change log is written at commit
    assert ("policy", f"v{second.id}") in [(c.kind, c.key) for c in await changes_since(session, 0)]
    assert await session.get(Role, "legevakt.lege") is not None
    assert [e.action for e in audit.events] == [
        actions.POLICY_PUBLISHED,
        actions.POLICY_APPROVED,
        actions.POLICY_APPROVED,
    ]
    assert audit.events[-1].user_id == "carol" and audit.events[-1].policy_version == f"v{second.id}"


async def test_publishing_content_identical_to_the_active_version_is_refused(
    session: AsyncSession, policy_dir: Path
) -> None:
    version = await publish(session, policy_dir, "alice")
    await approve(session, version.id, "bob")
    with pytest.raises(PolicyUnchanged):
        await publish(session, policy_dir, "alice")


async def test_only_a_pending_version_can_be_approved(session: AsyncSession, policy_dir: Path) -> None:
    version = await publish(session, policy_dir, "alice")
    await approve(session, version.id, "bob")
    with pytest.raises(Conflict):
        await approve(session, version.id, "carol")


async def test_rollback_restores_previous_permissions_after_approval(session: AsyncSession, policy_dir: Path) -> None:
    original = await publish(session, policy_dir, "alice")
    await approve(session, original.id, "bob")
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    extended = await publish(session, policy_dir, "alice")
    await approve(session, extended.id, "bob")
    assert grants(extended, "legevakt.lege", "report.quality", "view")

    restored = await rollback(session, original.id, "alice")
    assert restored.status == "pending" and restored.rollback_of == original.id
    assert restored.content_hash == original.content_hash and restored.source == original.source
    policy = await active_policy(session, fallback_dir=policy_dir)
    assert any(p.resource_type == "report.quality" for p in policy.roles["legevakt.lege"].permissions)

    await approve(session, restored.id, "bob")
    policy = await active_policy(session, fallback_dir=policy_dir)
    assert policy.version == f"v{restored.id}"
    assert not any(p.resource_type == "report.quality" for p in policy.roles["legevakt.lege"].permissions)
    active = await session.scalars(select(PolicyVersion.id).where(PolicyVersion.status == "active"))
    assert list(active) == [restored.id]


async def test_rollback_to_the_active_version_is_refused(session: AsyncSession, policy_dir: Path) -> None:
    version = await publish(session, policy_dir, "alice")
    await approve(session, version.id, "bob")
    with pytest.raises(PolicyUnchanged):
        await rollback(session, version.id, "carol")


async def test_rollback_to_a_version_never_approved_is_refused_and_stores_nothing(
    session: AsyncSession, policy_dir: Path
) -> None:
    first = await publish(session, policy_dir, "alice")
    await approve(session, first.id, "bob")
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    unreviewed = await publish(session, policy_dir, "mallory")
    with pytest.raises(Conflict, match="never approved") as refused:
        await rollback(session, unreviewed.id, "alice")
    assert refused.value.field == "version"
    assert [v.id for v in await versions(session)] == [unreviewed.id, first.id]


async def test_an_older_pending_version_cannot_be_approved_over_a_newer_active_one(
    session: AsyncSession, policy_dir: Path
) -> None:
    older = await publish(session, policy_dir, "alice")
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    newer = await publish(session, policy_dir, "alice")
    await approve(session, newer.id, "bob")
    with pytest.raises(Conflict, match=f"older than the active version v{newer.id}") as refused:
        await approve(session, older.id, "carol")
    assert refused.value.field == "version" and older.status == "pending" and newer.status == "active"


async def test_active_policy_falls_back_to_working_documents_before_any_approval(
    session: AsyncSession, policy_dir: Path
) -> None:
    await publish(session, policy_dir, "alice")  # pending only: not in force
    policy = await active_policy(session, fallback_dir=policy_dir)
    assert policy.version == load_policy(policy_dir).version
    assert policy.version.startswith("sha256:")


async def test_the_active_version_is_decoded_once_and_a_new_approval_is_in_force_at_once(
    session: AsyncSession, policy_dir: Path
) -> None:
    first = await publish(session, policy_dir, "alice")
    await approve(session, first.id, "bob")
    policy = await active_policy(session, fallback_dir=policy_dir)
    assert await active_policy(session, fallback_dir=policy_dir) is policy
    edit(policy_dir, LEGEVAKT, EXTRA_PERMISSION)
    second = await publish(session, policy_dir, "alice")

    await approve(session, second.id, "carol")

    now = await active_policy(session, fallback_dir=policy_dir)
    assert now.version == f"v{second.id}"
    assert any(p.resource_type == "report.quality" for p in now.roles["legevakt.lege"].permissions)


async def _services(session: AsyncSession) -> dict[str, tuple[str, bool]]:
    rows = await session.execute(select(Service.id, Service.name, Service.shielded))
    return {service_id: (name, shielded) for service_id, name, shielded in rows}


async def test_the_approved_versions_service_catalogue_becomes_the_services_table(
    session: AsyncSession, policy_dir: Path
) -> None:
    """HR may name only services the table holds, and the engine reads shielding from it: the approved catalogue
    fills it (on a fresh install nothing else does)."""
    first = await publish(session, policy_dir, "alice")
    await approve(session, first.id, "bob")
    catalogue = service_catalogue(version_files(first))
    assert catalogue is not None
    assert await _services(session) == {s.id: (s.name, s.shielded) for s in catalogue.services}
    assert (await _services(session))["familietiltak"][1] is True

    unshielded = '{id: radgiving, name: "Rådgiving", group: "Tjenester på dagtid uten vedtak", shielded: false}'
    edit(policy_dir, "services.yaml", (unshielded, unshielded.replace("shielded: false", "shielded: true")))
    second = await publish(session, policy_dir, "alice")
    await approve(session, second.id, "carol")
    assert (await _services(session))["radgiving"] == ("Rådgiving", True)

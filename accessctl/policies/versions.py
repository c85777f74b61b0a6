"""Policy versions with four eyes: publish the files as a pending version; a second person approves it into force.

A version stores every policy file and its compiled rules, so the version that is approved, exported or rolled
back to is exactly the one that was reviewed. Approval runs the version's own access tests on its stored files,
activates it, recomputes the hr role assignments, and logs a `policy` change so every engine reloads.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit import actions
from accessctl.audit.sink import AuditSink
from accessctl.auth.people import same_person
from accessctl.changes import log_change
from accessctl.db import serialise, utcnow
from accessctl.engine.types import CompiledPolicy
from accessctl.errors import AccessTestsFailed, Conflict, InvalidInput, NotFound, PolicyUnchanged, SelfApproval
from accessctl.policies.assignment_sync import SyncResult, recompute_all, sync_roles
from accessctl.policies.audit_hook import record_policy_change
from accessctl.policies.catalogue_sync import sync_services
from accessctl.policies.compiled_cache import COMPILED_POLICIES
from accessctl.policies.models import PolicyVersion
from accessctl.policies.policy_files import (
    PolicyFiles,
    compile_files,
    content_hash,
    files_from_json,
    files_json,
    policy_from_json,
    policy_json,
    read_policy_files,
    run_stored_access_tests,
)


@dataclass(frozen=True, slots=True)
class Activation:
    """An approved version and what its activation did to the hr role assignments."""

    version: PolicyVersion
    assignments: SyncResult
    tests_passed: int


APPROVAL_TURN = "policy_versions:approve"


def version_name(version_id: int) -> str:
    """How engines, decisions and the audit log name a version: `v7`."""
    return f"v{version_id}"


def parse_version_name(text: str) -> int:
    """`v7` or `7` as a version id."""
    digits = text.strip().removeprefix("v")
    if not digits.isdigit():
        raise InvalidInput(f"version {text!r} is not a version id; expected e.g. v7", field="version")
    return int(digits)


def _cache_key(version_id: int, content_hash: str) -> tuple[str, int, str]:
    return ("version", version_id, content_hash)


def version_policy(version: PolicyVersion) -> CompiledPolicy:
    """A version's compiled rules, named `v<id>`; decoded once per process (a stored version never changes)."""
    return COMPILED_POLICIES.get_or_compile(
        _cache_key(version.id, version.content_hash),
        lambda: policy_from_json(version.compiled, version=version_name(version.id)),
    )


def version_files(version: PolicyVersion) -> PolicyFiles:
    return files_from_json(version.source)


async def versions(session: AsyncSession) -> list[PolicyVersion]:
    """Every version, newest first."""
    return list(await session.scalars(select(PolicyVersion).order_by(PolicyVersion.id.desc())))


async def get_version(session: AsyncSession, version_id: int, *, fresh: bool = False) -> PolicyVersion:
    """The version by id; `fresh` reads it from the database even when this session has it already."""
    version = await session.get(PolicyVersion, version_id, populate_existing=fresh)
    if version is None:
        raise NotFound(f"no policy version {version_name(version_id)}", field="version")
    return version


async def active_version(session: AsyncSession) -> PolicyVersion | None:
    """The version in force; None until a first version is approved."""
    found: PolicyVersion | None = await session.scalar(select(PolicyVersion).where(PolicyVersion.status == "active"))
    return found


async def active_version_policy(session: AsyncSession) -> CompiledPolicy | None:
    """The compiled rules of the version in force (None until one is approved); its stored text is read only when
    this process has not decoded that version yet."""
    found = (
        await session.execute(
            select(PolicyVersion.id, PolicyVersion.content_hash).where(PolicyVersion.status == "active")
        )
    ).one_or_none()
    if found is None:
        return None
    version_id, content_hash = found
    cached = COMPILED_POLICIES.get(_cache_key(version_id, content_hash))
    return cached if cached is not None else version_policy(await get_version(session, version_id))


async def publish(
    session: AsyncSession, policy_dir: Path | str, author: str, note: str = "", *, audit: AuditSink | None = None
) -> PolicyVersion:
    """Store the policy files in `policy_dir` as a new pending version; refuses an invalid or unchanged set."""
    files = await asyncio.to_thread(read_policy_files, policy_dir)
    return await _store(session, files, author=_who(author, "author"), note=note, rollback_of=None, audit=audit)


async def rollback(
    session: AsyncSession, version_id: int, author: str, *, audit: AuditSink | None = None
) -> PolicyVersion:
    """A new pending version with exactly the files of an earlier one; it is approved like any other.

    Only a version that was approved (in force before) can be rolled back to: the rollback is authored by whoever
    asks for it, so a pending version's own author could otherwise approve their unreviewed content.
    """
    earlier = await get_version(session, version_id)
    if earlier.status == "active":
        raise PolicyUnchanged(f"{version_name(earlier.id)} is already the active version")
    if earlier.approved_by is None:
        raise Conflict(
            f"{version_name(earlier.id)} was never approved; a rollback can only return to a version that was in force",
            field="version",
        )
    note = f"rollback to {version_name(earlier.id)}"
    return await _store(
        session, version_files(earlier), author=_who(author, "author"), note=note, rollback_of=earlier.id, audit=audit
    )


async def approve(
    session: AsyncSession, version_id: int, approver: str, *, audit: AuditSink | None = None
) -> Activation:
    """Activate a pending version: a second person, and every access test of the version passing."""
    # Approvals take turns, and each re-reads the version once it has its turn: two at once would otherwise both
    # find it pending (the second overwriting approved_by) or both supersede (the one-active index then fails).
    await serialise(session, APPROVAL_TURN)
    version = await get_version(session, version_id, fresh=True)
    name = version_name(version.id)
    approver = _who(approver, "approver")
    if version.status != "pending":
        raise Conflict(f"{name} is {version.status}; only a pending version can be approved", field="version")
    if same_person(approver, version.author):
        raise SelfApproval(f"{approver} published {name} and cannot also approve it; a second person must")
    active = await active_version(session)
    if active is not None and active.id > version.id:
        # Approving it would silently undo the newer active version; going back is an explicit rollback.
        newer = version_name(active.id)
        raise Conflict(
            f"{name} is older than the active version {newer} and would undo it; publish its files again "
            f"to have them reviewed against {newer}, or roll back to a version that was in force",
            field="version",
        )
    outcome = await asyncio.to_thread(run_stored_access_tests, version_files(version))
    if outcome.failures:
        raise AccessTestsFailed(f"{name} fails {outcome.failed} access test(s); not activated", outcome.failures)
    if outcome.uncovered:
        gaps = len(outcome.uncovered)
        raise AccessTestsFailed(
            f"{name}'s access tests leave {gaps} role(s) or reason(s) without a passing case; not activated",
            outcome.uncovered,
        )
    # Supersede first: the partial unique index allows one active row at a time.
    await session.execute(update(PolicyVersion).where(PolicyVersion.status == "active").values(status="superseded"))
    version.status, version.approved_by, version.approved_at = "active", approver, utcnow()
    await session.flush()
    policy = version_policy(version)
    await sync_roles(session, policy)
    await sync_services(session, version_files(version))
    assignments = await recompute_all(session, policy)
    await log_change(session, "policy", name)
    await record_policy_change(
        audit,
        actions.POLICY_APPROVED,
        actor=approver,
        policy_version=name,
        detail={"author": version.author, "tests_passed": outcome.passed, "users_changed": assignments.users_changed},
    )
    return Activation(version=version, assignments=assignments, tests_passed=outcome.passed)


async def _store(
    session: AsyncSession,
    files: PolicyFiles,
    *,
    author: str,
    note: str,
    rollback_of: int | None,
    audit: AuditSink | None,
) -> PolicyVersion:
    digest = content_hash(files)
    active = await active_version(session)
    if active is not None and active.content_hash == digest:
        raise PolicyUnchanged(f"the policy files are identical to the active version {version_name(active.id)}")
    policy = await asyncio.to_thread(compile_files, files)
    version = PolicyVersion(
        content_hash=digest,
        source=files_json(files),
        compiled=policy_json(policy),
        author=author,
        note=note,
        status="pending",
        rollback_of=rollback_of,
        created_at=utcnow(),
    )
    session.add(version)
    await session.flush()
    action = actions.POLICY_PUBLISHED if rollback_of is None else actions.POLICY_ROLLED_BACK
    detail = {"note": note, "content_hash": digest, "rollback_of": rollback_of}
    await record_policy_change(audit, action, actor=author, policy_version=version_name(version.id), detail=detail)
    return version


def _who(name: str, field: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(f"{field} is required", field=field)
    return name

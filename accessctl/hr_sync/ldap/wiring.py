"""A sync run wired to the service: the active policy's role recompute, the audit writer, the real directory."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.writer import AuditWriter
from accessctl.db import Database
from accessctl.hr_sync.hooks import AssignmentRecompute
from accessctl.hr_sync.ldap.config import LdapMapping
from accessctl.hr_sync.ldap.ldap3_source import Ldap3Directory
from accessctl.hr_sync.ldap.sync import LdapSync, RecomputeFactory, SyncOutcome
from accessctl.pdp.policy_source import active_policy
from accessctl.policies.assignment_sync import recompute_user, sync_roles
from accessctl.settings import Settings


def policy_recompute(policies_dir: Path) -> RecomputeFactory:
    """Role assignments follow the active policy's rules (the documents in `policies_dir` before any approval)."""

    async def factory(session: AsyncSession) -> AssignmentRecompute:
        policy = await active_policy(session, fallback_dir=policies_dir)
        await sync_roles(session, policy)

        async def recompute(session: AsyncSession, user_id: str) -> object:
            return await recompute_user(session, policy, user_id)

        return recompute

    return factory


async def run_ldap_sync(
    settings: Settings,
    mapping: LdapMapping,
    *,
    dry_run: bool = False,
    confirmed: bool = False,
    mode: Literal["full", "delta"] = "full",
    url: str | None = None,
) -> SyncOutcome:
    """One run as `accessctl hr sync-ldap` makes it; audit events are recorded after the run's commit."""
    database = Database.from_settings(settings)
    writer = AuditWriter(database.engine, CheckpointSigner.from_settings(settings))
    try:
        await writer.start()
        with Ldap3Directory(mapping.connection, settings.ldap_bind_password, url=url) as directory:
            sync = LdapSync(
                database.sessions,
                mapping,
                directory,
                recompute=policy_recompute(settings.policies_dir),
                audit=writer,
                share=settings.mass_change_share,
            )
            return await sync.run(dry_run=dry_run, confirmed=confirmed, mode=mode)
    finally:
        await writer.close()
        await database.dispose()

"""What the `policies publish|approve|rollback|versions|diff|export` commands do against the database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from accessctl.audit.sink import AuditOutbox
from accessctl.db import Database, utcnow
from accessctl.errors import AccessctlError, AccessTestsFailed, InvalidPolicy
from accessctl.policies import versions as service
from accessctl.policies.casbin_export import write_export
from accessctl.policies.diff import diff_text
from accessctl.policies.impact import ACTIVE, named_policy, policy_impact
from accessctl.policies.live_assignments import live_assignments
from accessctl.policies.models import PolicyVersion
from accessctl.settings import Settings


@dataclass
class Output:
    """What a command prints: `data` for --json, `text` for people."""

    data: Any
    text: str


@dataclass
class Run:
    """What a command body gets: a session (committed after it returns), settings, and an audit outbox."""

    session: AsyncSession
    settings: Settings
    outbox: AuditOutbox = field(default_factory=AuditOutbox)

    def policy_dir(self, given: Path | None) -> Path:
        return given if given is not None else self.settings.policies_dir


Step = Callable[[Run], Awaitable[Output]]


def run(ctx: click.Context, as_json: bool, step: Step) -> None:
    """Run one command body in a transaction; a domain error goes to stderr with exit code 1."""
    from accessctl.cli import settings_of

    try:
        output = asyncio.run(_run(settings_of(ctx), step))
    except AccessctlError as exc:
        _print_error(exc, as_json)
        ctx.exit(1)
    click.echo(json.dumps(output.data, indent=2, ensure_ascii=False, default=str) if as_json else output.text)


async def _run(settings: Settings, step: Step) -> Output:
    database = Database.from_settings(settings)
    try:
        async with database.sessions() as session:
            context = Run(session, settings)
            output = await step(context)
            await context.outbox.stage(session)
            await session.commit()
        if context.outbox.events:
            await _deliver(database, settings, context.outbox)
        return output
    finally:
        await database.dispose()


async def _deliver(database: Database, settings: Settings, outbox: AuditOutbox) -> None:
    from accessctl.audit.signing import CheckpointSigner
    from accessctl.audit.writer import AuditWriter

    writer = AuditWriter(database.engine, CheckpointSigner.from_settings(settings))
    await writer.start()
    try:
        await outbox.deliver(writer)
    finally:
        await writer.close()


def _print_error(exc: AccessctlError, as_json: bool) -> None:
    problems = [p.as_dict() for p in exc.problems] if isinstance(exc, InvalidPolicy) else []
    failures = list(exc.failures) if isinstance(exc, AccessTestsFailed) else []
    if as_json:
        body = {"code": exc.code, "message": exc.message, "problems": problems, "failures": failures}
        click.echo(json.dumps(body, indent=2, ensure_ascii=False), err=True)
        return
    for problem in problems:
        click.echo(f"{problem['file']}:{problem['line']}: {problem['field']}: {problem['message']}", err=True)
    for failure in failures:
        click.echo(f"FAIL {failure['file']}:{failure['line']}: {failure['name']}", err=True)
        if failure.get("expected"):
            click.echo(f"  expected {failure['expected']}, got {failure['got']}", err=True)
    click.echo(f"error: {exc.message}", err=True)


def version_data(version: PolicyVersion) -> dict[str, Any]:
    """A version as JSON-ready data (without its files)."""
    return {
        "id": service.version_name(version.id),
        "status": version.status,
        "author": version.author,
        "note": version.note,
        "content_hash": version.content_hash,
        "created_at": version.created_at.isoformat(),
        "approved_by": version.approved_by,
        "approved_at": version.approved_at.isoformat() if version.approved_at else None,
        "rollback_of": None if version.rollback_of is None else service.version_name(version.rollback_of),
    }


def publish(author: str, note: str, policy_dir: Path | None) -> Step:
    async def step(run: Run) -> Output:
        version = await service.publish(run.session, run.policy_dir(policy_dir), author, note, audit=run.outbox)
        return Output(version_data(version), service.version_name(version.id))

    return step


def approve(name: str, approver: str) -> Step:
    async def step(run: Run) -> Output:
        activation = await service.approve(run.session, service.parse_version_name(name), approver, audit=run.outbox)
        data = {
            **version_data(activation.version),
            "tests_passed": activation.tests_passed,
            "users_changed": activation.assignments.users_changed,
        }
        text = (
            f"{data['id']} is active ({activation.tests_passed} access tests passed; "
            f"hr role assignments changed for {activation.assignments.users_changed} user(s))"
        )
        return Output(data, text)

    return step


def rollback(name: str, author: str) -> Step:
    async def step(run: Run) -> Output:
        version = await service.rollback(run.session, service.parse_version_name(name), author, audit=run.outbox)
        return Output(version_data(version), service.version_name(version.id))

    return step


def listing() -> Step:
    async def step(run: Run) -> Output:
        rows = [version_data(v) for v in await service.versions(run.session)]
        lines = [
            f"{r['id']:>6}  {r['status']:<10}  {r['created_at'][:19]}  {r['author']}"
            + (f" (approved by {r['approved_by']})" if r["approved_by"] else "")
            + (f"  {r['note']}" if r["note"] else "")
            for r in rows
        ]
        return Output(rows, "\n".join(lines) or "no published versions")

    return step


def impact(from_name: str, to_name: str, policy_dir: Path | None) -> Step:
    async def step(run: Run) -> Output:
        result = await policy_impact(run.session, run.policy_dir(policy_dir), from_name=from_name, to_name=to_name)
        return Output(result.as_json(), diff_text(result))

    return step


def export(out_dir: Path, policy_dir: Path | None) -> Step:
    async def step(run: Run) -> Output:
        now = utcnow()
        policy = await named_policy(run.session, ACTIVE, run.policy_dir(policy_dir))
        assignments = await live_assignments(run.session, now)
        model_path, policy_path = write_export(out_dir, policy, assignments, now)
        data = {"model": str(model_path), "policy": str(policy_path), "policy_version": policy.version}
        return Output(data, f"wrote {model_path} and {policy_path} (policy {policy.version})")

    return step

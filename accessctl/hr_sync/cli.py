"""The `hr` command group: pull a directory (`sync-ldap`) and list the recorded sync runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from accessctl.errors import PreconditionFailed

if TYPE_CHECKING:
    from accessctl.hr_sync.ldap.diff import UserChange


@click.group("hr")
def hr() -> None:
    """HR sync: pull joiners, movers and leavers (and the unit tree) from a directory."""


@hr.command("sync-ldap")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The mapping file (see docs/ldap/mapping.yaml).")  # fmt: skip
@click.option(
    "--dry-run", is_flag=True, help="Print the diff (joiners, movers, leavers, changed fields); change nothing."
)
@click.option("--confirm-mass-change", is_flag=True,
              help="Let a run deactivate or move more than the allowed share of users, or a whole org.")  # fmt: skip
@click.option(
    "--delta", is_flag=True, help="Read only what changed since the last applied run (finds no deleted entries)."
)
@click.option("--url", help="Directory URL instead of the mapping's connection.url (ldap:// or ldaps://).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as a JSON object.")
@click.pass_context
def sync_ldap(
    ctx: click.Context,
    config_path: Path,
    dry_run: bool,
    confirm_mass_change: bool,
    delta: bool,
    url: str | None,
    as_json: bool,
) -> None:
    """Pull users, employments and units from an LDAP directory; exit 1 when stopped or failed, 2 when some
    records were rejected (the others were applied)."""
    from accessctl.cli import settings_of
    from accessctl.hr_sync.ldap.config import load_mapping

    settings = settings_of(ctx)
    mapping = load_mapping(config_path)
    from accessctl.hr_sync.ldap.diff import plan_text
    from accessctl.hr_sync.ldap.wiring import run_ldap_sync

    mode: Literal["full", "delta"] = "delta" if delta else "full"
    outcome = asyncio.run(
        run_ldap_sync(settings, mapping, dry_run=dry_run, confirmed=confirm_mass_change, mode=mode, url=url)
    )

    report = outcome.report
    if as_json:
        data = {**report.as_dict(), "changes": [_change(c) for c in outcome.plan.changes]}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        if dry_run:
            click.echo(plan_text(outcome.plan, outcome.names))
        for error in report.errors:
            click.echo(f"rejected {error}", err=True)
        counts = ", ".join(f"{v} {k}" for k, v in report.counts.items())
        click.echo(f"run {report.id} ({report.mode}, {report.outcome}) in {report.duration_s:.1f} s: {counts}")
    if report.outcome == "stopped":
        raise PreconditionFailed(f"{report.stop_reason}; run again with --confirm-mass-change if this is right")
    if report.errors:
        ctx.exit(2)


def _change(change: UserChange) -> dict[str, Any]:
    return {"hr_id": change.hr_id, "kind": change.kind, "fields": list(change.fields), "user_id": change.user_id}

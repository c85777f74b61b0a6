"""`accessctl audit export` streams stored events as a FHIR Bundle or syslog lines, limited by time."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from accessctl.audit.signing import CheckpointSigner
from accessctl.audit.writer import AuditWriter
from accessctl.cli import main
from accessctl.db import make_engine
from tests.integration.audit.helpers import decision


def _write(url: str, count: int) -> list[str]:
    async def run() -> list[str]:
        engine = make_engine(url)
        writer = AuditWriter(engine, CheckpointSigner.generate())
        await writer.start()
        events = [decision(n) for n in range(count)]
        await writer.record_many(events)
        await writer.close()
        await engine.dispose()
        return [str(e.id) for e in events]

    return asyncio.run(run())


def test_fhir_export_is_a_bundle_of_the_events_in_the_window_in_time_order(audit_url: str, tmp_path: Path) -> None:
    ids = _write(audit_url, 1200)  # more than one fetch of 500 rows
    out = tmp_path / "audit.json"
    env = {"ACCESSCTL_DATABASE_URL": audit_url}
    args = ["audit", "export", "--format", "fhir", "--from", "2026-11-26T09:10:00", "--to", "2026-12-01", "--out"]
    result = CliRunner().invoke(main, [*args, str(out)], env=env)
    assert result.exit_code == 0, result.output
    bundle = json.loads(out.read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    exported = [entry["resource"]["id"] for entry in bundle["entry"]]
    assert exported == ids[10:]
    assert "total" not in bundle  # R4 bdl-1: total only in a searchset or history Bundle
    assert all(entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}" for entry in bundle["entry"])


def test_syslog_export_writes_one_line_per_event_to_stdout(audit_url: str) -> None:
    _write(audit_url, 3)
    result = CliRunner().invoke(
        main,
        ["audit", "export", "--format", "syslog", "--to", "2026-11-26T09:02:00"],
        env={"ACCESSCTL_DATABASE_URL": audit_url},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("<86>1 2026-11-26T09:0") for line in lines)

"""Benchmark of the LDAP pull: the demo region as a directory in a temporary slapd, synced unchanged and 1 % changed.

    python -m accessctl.hr_sync.ldap_bench [--users 34000] [--changed 0.01] [--database-url URL]

Loads the demo region (N users) into a fresh database, writes the same people, employments and unit trees as an
LDIF, loads it into a throw-away slapd (`slapadd`), then times two full syncs: one where nothing differs, one after
1 % of the users changed in the directory (a third change their name, a third move unit, a third are deactivated).
Prints a table and a JSON line. Targets at 34,000 users: no change <= 60 s, 1 % changed <= 90 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ldap3.utils.dn import escape_rdn
from sqlalchemy import select

from accessctl import migrate
from accessctl.db import Database
from accessctl.directory.models import Employment, Organisation, Unit, User
from accessctl.hr_sync.ldap.config import LdapMapping, load_mapping, mapping_from_dict
from accessctl.hr_sync.ldap.slapd import SUFFIX, TemporarySlapd
from accessctl.hr_sync.ldap.source import generalized_time
from accessctl.hr_sync.ldap.wiring import run_ldap_sync
from accessctl.settings import Secret, Settings

SAMPLE_MAPPING = migrate.PROJECT_ROOT / "docs" / "ldap" / "mapping.yaml"
TARGETS_S = {"no change": 60.0, "1 % changed": 90.0}


def _entry(dn: str, *lines: str) -> str:
    return "\n".join([f"dn: {dn}", *lines]) + "\n"


async def _region(settings: Settings, users: int) -> dict[str, Any]:
    """Load the demo region and read back what the directory should hold."""
    from accessctl.demo.load import load_population
    from accessctl.demo.policy_inputs import read_policy_inputs
    from accessctl.demo.population import build_population
    from accessctl.demo.region import load_region

    population = build_population(load_region(), read_policy_inputs(settings.policies_dir), users=users, patients=0)
    database = Database.from_settings(settings)
    try:
        async with database.engine.begin() as conn:
            await load_population(conn, population)
        async with database.sessions() as session:
            return {
                "organisations": list(await session.scalars(select(Organisation))),
                "units": list(await session.scalars(select(Unit))),
                "users": list(await session.scalars(select(User))),
                "employments": list(await session.scalars(select(Employment))),
            }
    finally:
        await database.dispose()


def _ldif(region: dict[str, Any]) -> Iterator[str]:
    """The region as directory entries, in the shape docs/ldap/mapping.yaml reads."""
    yield _entry(SUFFIX, "objectClass: dcObject", "objectClass: organization", "o: Region", "dc: region")
    for ou in ("people", "employments", "units"):
        yield _entry(f"ou={ou},{SUFFIX}", "objectClass: organizationalUnit", f"ou: {ou}")
    numbers = {o.id: o.org_number for o in region["organisations"]}
    units = {u.id: u for u in region["units"]}
    dns: dict[str, str] = {}

    def unit_dn(unit_id: str) -> str:
        if unit_id not in dns:
            parent = units[unit_id].parent_id
            above = unit_dn(parent) if parent else f"ou=units,{SUFFIX}"
            dns[unit_id] = f"ou={escape_rdn(unit_id)},{above}"
        return dns[unit_id]

    for unit in sorted(units.values(), key=lambda u: unit_dn(u.id).count(",")):
        extra = [] if unit.parent_id else [f"businessCategory: {numbers[unit.organisation_id]}"]
        yield _entry(
            unit_dn(unit.id), "objectClass: organizationalUnit", f"ou: {unit.id}", f"description: {unit.name}", *extra
        )
    user_dn = {}
    for user in region["users"]:
        user_dn[user.id] = f"uid={escape_rdn(user.user_name)},ou=people,{SUFFIX}"
        lines = [
            "objectClass: inetOrgPerson",
            f"uid: {user.user_name}",
            f"cn: {user.display_name}",
            f"sn: {user.family_name}",
            f"givenName: {user.given_name}",
            f"employeeNumber: {user.hr_id}",
        ]
        if user.email:
            lines.append(f"mail: {user.email}")
        if user.hpr_number:
            lines.append(f"labeledURI: urn:oid:2.16.578.1.12.4.1.4.4:{user.hpr_number}")
        if user.status != "active":
            lines.append("employeeType: inactive")
        yield _entry(user_dn[user.id], *lines)
    for job in region["employments"]:
        to = f" to={generalized_time(job.valid_to)}" if job.valid_to else ""
        description = f"position={job.position_code} from={generalized_time(job.valid_from)}{to}"
        yield _entry(
            f"cn=job-{job.id},ou=employments,{SUFFIX}",
            "objectClass: organizationalRole",
            f"cn: job-{job.id}",
            f"roleOccupant: {user_dn[job.user_id]}",
            f"ou: {job.unit_id}",
            f"description: {description}",
        )


def _changes(region: dict[str, Any], share: float, rng: random.Random) -> str:
    """LDIF changes for `share` of the active users: renamed, moved to another unit of their organisation, or left."""
    active = [u for u in region["users"] if u.status == "active"]
    jobs: dict[str, list[Employment]] = {}
    for job in region["employments"]:
        if job.valid_to is None:
            jobs.setdefault(job.user_id, []).append(job)
    by_org: dict[str, list[str]] = {}
    for unit in region["units"]:
        by_org.setdefault(unit.organisation_id, []).append(unit.id)
    org_of = {u.id: u.organisation_id for u in region["units"]}
    picked = rng.sample([u for u in active if u.id in jobs], int(len(active) * share))
    out = []
    for index, user in enumerate(picked):
        dn = f"uid={escape_rdn(user.user_name)},ou=people,{SUFFIX}"
        if index % 3 == 0:
            out.append(f"dn: {dn}\nchangetype: modify\nreplace: sn\nsn: {user.family_name}-Endret\n")
        elif index % 3 == 1:
            job = jobs[user.id][0]
            others = [u for u in by_org[org_of[job.unit_id]] if u != job.unit_id] or [job.unit_id]
            target = rng.choice(others)
            out.append(f"dn: cn=job-{job.id},ou=employments,{SUFFIX}\nchangetype: modify\nreplace: ou\nou: {target}\n")
        else:
            out.append(f"dn: {dn}\nchangetype: modify\nadd: employeeType\nemployeeType: inactive\n")
    return "\n".join(out)


def _mapping(region: dict[str, Any]) -> LdapMapping:
    """docs/ldap/mapping.yaml, covering every organisation of the region."""
    import yaml

    raw = yaml.safe_load(SAMPLE_MAPPING.read_text(encoding="utf-8"))
    raw["source"] = "bench-region"
    raw["organisations"] = sorted(o.org_number for o in region["organisations"])
    load_mapping(SAMPLE_MAPPING)  # the shipped file must stay valid too
    return mapping_from_dict(raw)


async def _timed(settings: Settings, mapping: LdapMapping, url: str) -> dict[str, Any]:
    started = time.perf_counter()
    outcome = await run_ldap_sync(settings, mapping, url=url, confirmed=False)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "outcome": outcome.report.outcome,
        **outcome.report.counts,
        "errors": len(outcome.report.errors),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=34_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="An empty database (default: a SQLite file in a temporary directory)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ldap-bench-") as tmp:
        home = Path(tmp)
        url = args.database_url or f"sqlite+aiosqlite:///{home / 'bench.db'}"
        migrate.upgrade(url, quiet=True)
        server = TemporarySlapd(home / "slapd")
        settings = Settings(
            data_dir=home,
            database_url=Secret(url),
            policies_dir=migrate.PROJECT_ROOT / "policies",
            ldap_bind_password=Secret(server.password),
            dev_key_path=home / "key.pem",
        )
        t0 = time.perf_counter()
        region = asyncio.run(_region(settings, args.users))
        ldif = home / "region.ldif"
        with ldif.open("w", encoding="utf-8") as out:
            out.writelines(entry + "\n" for entry in _ldif(region))
        server.preload(ldif)
        setup_s = time.perf_counter() - t0
        rows: dict[str, dict[str, Any]] = {}
        with server:
            mapping = _mapping(region)
            rows["no change"] = asyncio.run(_timed(settings, mapping, server.url))
            server.modify_ldif(_changes(region, args.changed, random.Random(args.seed)))
            rows["1 % changed"] = asyncio.run(_timed(settings, mapping, server.url))
    print(
        f"LDAP full sync, {args.users} users ({len(region['employments'])} employments, {len(region['units'])} "
        f"units); set-up {setup_s:.1f} s, database {url.split(':', 1)[0]}"
    )
    print(
        f"{'run':<12} {'seconds':>8} {'target':>7} {'joiners':>8} {'movers':>7} {'leavers':>8} {'changed':>8} "
        f"{'unchanged':>10} {'errors':>7}"
    )
    for name, row in rows.items():
        print(
            f"{name:<12} {row['seconds']:>8.1f} {TARGETS_S[name]:>7.0f} {row['joiners']:>8} {row['movers']:>7} "
            f"{row['leavers']:>8} {row['changed']:>8} {row['unchanged']:>10} {row['errors']:>7}"
        )
    print(json.dumps({"users": args.users, "runs": rows, "targets_s": TARGETS_S}))


if __name__ == "__main__":
    main()

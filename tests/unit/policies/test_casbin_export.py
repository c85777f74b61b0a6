"""The export loads into stock Casbin unchanged, and Casbin permits exactly what the role documents grant."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import casbin
import pytest

from accessctl.engine.types import AssignmentFacts, CompiledPolicy
from accessctl.errors import InvalidInput
from accessctl.policies.casbin_export import MODEL_CONF, grouping_lines, policy_lines, write_export
from accessctl.policies.compile import load_policy

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def policy(repo_policy_dir: Path) -> CompiledPolicy:
    return load_policy(repo_policy_dir)


def assignment(
    user: str, role: str, unit: str, start: datetime = NOW - DAY, end: datetime | None = None
) -> AssignmentFacts:
    return AssignmentFacts(user_id=user, role_id=role, unit_id=unit, valid_from=start, valid_to=end)


POPULATION = [
    assignment("u-gp", "fastlege.lege", "gp-office-1"),
    assignment("u-gp", "legevakt.lege", "legevakt-1"),
    assignment("u-nurse", "sykehus.sykepleier", "ward-med"),
    assignment("u-nurse", "leder.enhet", "ward-med"),
    assignment("u-privacy", "personvern.radgiver", "privacy-office"),
    assignment("u-left", "sykehus.lege", "ward-med", NOW - 10 * DAY, NOW - DAY),  # ended
    assignment("u-future", "sykehus.lege", "ward-med", NOW + DAY),  # not started
    assignment("u-until-now", "sykehus.lege", "ward-med", NOW - DAY, NOW),  # ends exactly now: half-open
]


def test_committed_model_conf_is_the_one_the_export_writes(repo_policy_dir: Path) -> None:
    assert (repo_policy_dir / "model.conf").read_text(encoding="utf-8") == MODEL_CONF


def test_policy_lines_list_each_role_permission_once_sorted(policy: CompiledPolicy) -> None:
    lines = policy_lines(policy)
    assert lines == sorted(set(lines))
    assert "p, fastlege.lege, journal.note, sign" in lines
    assert "p, pasient.innbygger, patient.access_log, read" in lines
    assert len(lines) == len({(r.id, p.resource_type, p.action) for r in policy.roles.values() for p in r.permissions})


def test_grouping_lines_hold_only_assignments_valid_now() -> None:
    assert grouping_lines(POPULATION, NOW) == [
        "g, u-gp, fastlege.lege, gp-office-1",
        "g, u-gp, legevakt.lege, legevakt-1",
        "g, u-nurse, leder.enhet, ward-med",
        "g, u-nurse, sykehus.sykepleier, ward-med",
        "g, u-privacy, personvern.radgiver, privacy-office",
    ]


@pytest.mark.parametrize("bad", ["ward,1", 'ward"1', "ward(1)", "#ward", " ward", "ward\n1", ""])
def test_ids_that_casbin_would_misread_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        grouping_lines([assignment("u-1", "sykehus.lege", bad)], NOW)
    assert raised.value.field == "unit_id"


def test_a_user_id_equal_to_a_role_id_is_refused(policy: CompiledPolicy) -> None:
    with pytest.raises(InvalidInput):
        grouping_lines([assignment("fastlege.lege", "sykehus.lege", "ward-med")], NOW, role_ids=policy.roles)


def test_stock_casbin_permits_exactly_what_the_roles_held_in_the_unit_grant(
    policy: CompiledPolicy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="casbin")  # Casbin logs every request; capturing them is slow
    model_path, policy_path = write_export(tmp_path, policy, POPULATION, NOW)
    enforcer = casbin.Enforcer(str(model_path), str(policy_path))
    held = {
        (a.user_id, a.unit_id, a.role_id)
        for a in POPULATION
        if a.valid_from <= NOW and (a.valid_to is None or a.valid_to > NOW)
    }
    grants = {role.id: {(p.resource_type, p.action) for p in role.permissions} for role in policy.roles.values()}
    users = sorted({a.user_id for a in POPULATION})
    units = sorted({a.unit_id for a in POPULATION})
    # For each user: every pair a role they were ever given grants, pairs only other roles grant, and one nobody
    # grants (a denied enforce scans every policy line, so the catalogue's whole cross product would be slow).
    other_pairs = {("patient.address", "read"), ("audit.log", "export"), ("hr.employment", "write"), ("x", "y")}
    pairs = {
        user: sorted(other_pairs.union(*(grants[a.role_id] for a in POPULATION if a.user_id == user))) for user in users
    }
    permits = 0
    for user in users:
        for unit in units:
            for resource_type, action in pairs[user]:
                expected = any(
                    (resource_type, action) in grants[role] for u, un, role in held if u == user and un == unit
                )
                assert enforcer.enforce(user, unit, resource_type, action) is expected, (
                    user,
                    unit,
                    resource_type,
                    action,
                )
                permits += expected
    assert permits > 50  # the comparison is not vacuous


def test_export_file_starts_with_the_policy_version(policy: CompiledPolicy, tmp_path: Path) -> None:
    _, policy_path = write_export(tmp_path / "out", policy, [], NOW)
    first = policy_path.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# accessctl policy {policy.version}, role assignments valid at {NOW.isoformat()}"

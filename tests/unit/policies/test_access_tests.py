"""The access tests: the shipped suite passes and covers every role and reason; failures and bad cases are located."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pytest
from click.testing import CliRunner

from accessctl.context.models import BLOCK_CATEGORIES, CARE_RELATION_KINDS
from accessctl.engine.reasons import Reason
from accessctl.errors import InvalidPolicy
from accessctl.policies.access_case_format import BlockCategory, CareRelationKind
from accessctl.policies.access_tests import run_access_tests
from accessctl.policies.cli import policies

Edit = Callable[[str, str, str], int]

HOSPITAL = "tests/hospital.yaml"
FIRST_PERMIT = "    expect: {decision: permit, reason: permit_care_relation, roles: [sykehus.lege]}\n"


def test_shipped_suite_passes_with_every_role_and_reason_covered(repo_policy_dir: Path) -> None:
    report = run_access_tests(repo_policy_dir, repo_policy_dir / "tests")
    failures = [f"{r.file}:{r.line}: {r.name}: expected {r.expected.describe()}, got {r.got}" for r in report.failures]
    assert report.problems == ()
    assert failures == []
    assert len(report.results) >= 100
    assert report.coverage.roles_missing == ()
    assert report.coverage.reasons_missing == ()
    assert set(report.coverage.roles) == {p.stem for p in (repo_policy_dir / "roles").glob("*.yaml")}
    assert set(report.coverage.reasons) == {reason.value for reason in Reason}


def test_case_format_literals_match_the_context_tables() -> None:
    assert set(get_args(CareRelationKind)) == set(CARE_RELATION_KINDS)
    assert set(get_args(BlockCategory)) == set(BLOCK_CATEGORIES)


def test_wrong_expectation_is_reported_with_file_line_and_both_decisions(
    policy_dir: Path, edit_policy: Edit, policy_line: Callable[[str, str], int]
) -> None:
    edit_policy(HOSPITAL, FIRST_PERMIT, "    expect: {decision: deny, reason: no_care_relation}\n")
    case_line = policy_line(HOSPITAL, "- name: ward consultant reads a note")
    report = run_access_tests(policy_dir, policy_dir / "tests")
    [failure] = report.failures
    assert (failure.file, failure.line) == (str(policy_dir / HOSPITAL), case_line)
    assert failure.decision.allowed is True
    assert failure.decision.roles == ("sykehus.lege",)

    result = CliRunner().invoke(policies, ["test", str(policy_dir)])
    assert result.exit_code == 1
    assert f"FAIL {policy_dir / HOSPITAL}:{case_line}: ward consultant reads a note" in result.stdout
    assert "expected: deny (no_care_relation)" in result.stdout
    assert "got:      permit (permit_care_relation)" in result.stdout
    assert "roles:    sykehus.lege" in result.stdout
    assert f"{report.passed} passed, 1 failed" in result.stdout


def test_cli_json_report_lists_each_case_for_scripts(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy(HOSPITAL, FIRST_PERMIT, "    expect: {decision: deny, reason: no_care_relation}\n")
    result = CliRunner().invoke(policies, ["test", "--json", str(policy_dir)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    [failed] = [case for case in data["cases"] if not case["passed"]]
    assert failed["expected"]["decision"] == "deny"
    assert failed["got"] == {
        "decision": "permit",
        "reason": "permit_care_relation",
        "break_glass_available": False,
        "roles": ["sykehus.lege"],
        "grant_id": None,
    }


def test_cli_passes_on_the_shipped_suite_and_names_the_coverage(policy_dir: Path) -> None:
    result = CliRunner().invoke(policies, ["test", str(policy_dir), "--coverage"])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.stdout
    assert "roles no permit case grants by: none" in result.stdout
    assert "reasons no case produces: none" in result.stdout


@pytest.mark.parametrize(
    ("old", "new", "field", "message", "on_line_of"),
    [
        (
            "    unit: sto.medisin.sengepost\n    action: read\n",
            "    unit: sto.medisin.sengepost\n    acton: read\n",
            "cases[0].acton",
            "unknown field; expected one of: name, subject",
            "acton:",
        ),
        (FIRST_PERMIT, "", "cases[0].expect", "required field is missing", "- name: ward consultant reads a note"),
        (
            '"15837048599", unit: sto.medisin.sengepost, service',
            '"15837048598", unit: sto.medisin.sengepost, service',
            "cases[0].resource.patient",
            "not a valid synthetic",
            "15837048598",
        ),
        (
            '"15837048599", unit: sto.medisin.sengepost, service',
            '"15037048599", unit: sto.medisin.sengepost, service',
            "cases[0].resource.patient",
            "not a valid synthetic",
            "15037048599",
        ),
        (
            "reason: permit_care_relation, roles",
            "reason: permit_relation, roles",
            "cases[0].expect.reason",
            "unknown reason 'permit_relation'",
            "permit_relation",
        ),
        (
            "{unit: sto.medisin.sengepost, kind: admission}",
            "{unit: sto.medisn, kind: admission}",
            "cases[0].care_relations[0].unit",
            "unknown unit 'sto.medisn'",
            "sto.medisn",
        ),
    ],
)
def test_malformed_case_is_reported_with_file_line_and_field(
    policy_dir: Path,
    edit_policy: Edit,
    policy_line: Callable[[str, str], int],
    old: str,
    new: str,
    field: str,
    message: str,
    on_line_of: str,
) -> None:
    edit_policy(HOSPITAL, old, new)
    line = policy_line(HOSPITAL, on_line_of)
    report = run_access_tests(policy_dir, policy_dir / "tests")
    [problem] = report.problems
    assert (problem.file, problem.line, problem.field) == (str(policy_dir / HOSPITAL), line, field)
    assert message in problem.message
    assert "ward consultant reads a note of a patient admitted to her ward" not in {r.name for r in report.results}

    result = CliRunner().invoke(policies, ["test", str(policy_dir)])
    assert result.exit_code == 1
    assert f"{policy_dir / HOSPITAL}:{line}: {field}: " in result.stderr


def test_broken_role_document_fails_before_any_case_runs(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy("roles/sykehus.lege.yaml", "scope: unit}", "scope: ward}")
    with pytest.raises(InvalidPolicy) as raised:
        run_access_tests(policy_dir, policy_dir / "tests")
    assert [p.file for p in raised.value.problems] == ["roles/sykehus.lege.yaml"]

    result = CliRunner().invoke(policies, ["test", str(policy_dir)])
    assert result.exit_code == 1
    assert "roles/sykehus.lege.yaml" in result.stderr
    assert "no access test was run" in result.stderr
    assert "passed" not in result.stdout


def test_role_change_is_caught_by_the_cases_that_depend_on_it(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy("roles/fastlege.lege.yaml", "vaccination, actions: [read, write, sign]", "vaccination, actions: [read]")
    report = run_access_tests(policy_dir, policy_dir / "tests")
    failed = {result.name for result in report.failures}
    assert "GP registers a vaccination for a patient on her list" in failed
    assert "fastlege.lege" not in report.coverage.roles_missing  # still granted by its other permit cases

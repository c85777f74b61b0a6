"""Renders an access-test report for people (failures first, then one summary line) and for scripts (JSON)."""

from __future__ import annotations

from typing import Any

from accessctl.policies.access_tests import CaseResult, TestReport


def failure_text(result: CaseResult) -> str:
    """One failed case: where it is, what it asked, expected against got, and the roles that granted."""
    roles = ", ".join(result.decision.roles) or "(none)"
    return "\n".join(
        (
            f"FAIL {result.file}:{result.line}: {result.name}",
            f"  request:  {result.request}",
            f"  expected: {result.expected.describe()}",
            f"  got:      {result.got}",
            f"  roles:    {roles}",
        )
    )


def summary_line(report: TestReport) -> str:
    """`N passed, M failed`, with the problems and what no case covers."""
    text = f"{report.passed} passed, {report.failed} failed"
    if report.problems:
        text += f", {len(report.problems)} problem(s) in the case files"
    coverage = report.coverage
    roles_covered = len(coverage.roles) - len(coverage.roles_missing)
    reasons_covered = len(coverage.reasons) - len(coverage.reasons_missing)
    text += (
        f" (policy {report.policy_version}; roles covered {roles_covered}/{len(coverage.roles)}, "
        f"reasons covered {reasons_covered}/{len(coverage.reasons)})"
    )
    return text


def coverage_text(report: TestReport) -> str:
    """Which roles and reasons no passing case touches, and how often each one is touched."""
    coverage = report.coverage
    lines = [
        "roles no permit case grants by: " + (", ".join(coverage.roles_missing) or "none"),
        "reasons no case produces: " + (", ".join(coverage.reasons_missing) or "none"),
        "cases per role:",
        *(f"  {role}: {count}" for role, count in coverage.roles.items()),
        "cases per reason:",
        *(f"  {reason}: {count}" for reason, count in coverage.reasons.items()),
    ]
    return "\n".join(lines)


def report_json(report: TestReport) -> dict[str, Any]:
    """The whole report as JSON-ready data."""
    return {
        "policy_version": report.policy_version,
        "passed": report.passed,
        "failed": report.failed,
        "problems": [problem.as_dict() for problem in report.problems],
        "cases": [
            {
                "file": result.file,
                "line": result.line,
                "name": result.name,
                "request": result.request,
                "passed": result.passed,
                "expected": {
                    "decision": result.expected.decision,
                    "reason": result.expected.reason,
                    "break_glass_available": result.expected.break_glass_available,
                    "roles": None if result.expected.roles is None else list(result.expected.roles),
                },
                "got": {
                    "decision": "permit" if result.decision.allowed else "deny",
                    "reason": result.decision.reason,
                    "break_glass_available": result.break_glass_available,
                    "roles": list(result.decision.roles),
                    "grant_id": result.decision.grant_id,
                },
            }
            for result in report.results
        ],
        "coverage": {
            "roles_missing": list(report.coverage.roles_missing),
            "reasons_missing": list(report.coverage.reasons_missing),
            "roles": report.coverage.roles,
            "reasons": report.coverage.reasons,
        },
    }

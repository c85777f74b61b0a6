"""Access tests: policy acceptance cases that decide real requests against the role documents.

Each case in `policies/tests/*.yaml` is decided by its own engine, built from the fixture population, the case's
subject and patient context, and role assignments derived from the role documents' position rules, so the
cases check the documents themselves. An invalid policy raises `InvalidPolicy` before any case runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from accessctl.engine.engine import Engine
from accessctl.engine.reasons import Reason
from accessctl.engine.types import Decision
from accessctl.errors import InvalidPolicy
from accessctl.policies.access_case_checks import case_problems
from accessctl.policies.access_case_files import LocatedCase, case_files, read_fixtures, walk_cases
from accessctl.policies.access_population import PolicyCatalogue, Population, build_population
from accessctl.policies.access_world import case_world, request_line
from accessctl.policies.compile import compile_policy
from accessctl.policies.problems import WHOLE_FILE, Problem
from accessctl.policies.validate import checked_source


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a case expects."""

    decision: str
    reason: str
    break_glass_available: bool | None = None
    roles: tuple[str, ...] | None = None

    def describe(self) -> str:
        text = f"{self.decision} ({self.reason})"
        if self.break_glass_available is not None:
            text += ", break glass " + ("available" if self.break_glass_available else "not available")
        if self.roles is not None:
            text += f", roles {', '.join(self.roles) or '(none)'}"
        return text


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case, decided: what it asked, what it expected, what the engine answered."""

    file: str
    line: int
    name: str
    request: str
    expected: Expectation
    decision: Decision

    @property
    def got(self) -> str:
        d = self.decision
        text = f"{'permit' if d.allowed else 'deny'} ({d.reason})"
        if d.break_glass is not None and d.break_glass.available:
            text += ", break glass available"
        return text

    @property
    def break_glass_available(self) -> bool:
        return self.decision.break_glass is not None and self.decision.break_glass.available

    @property
    def passed(self) -> bool:
        e, d = self.expected, self.decision
        return (
            d.allowed == (e.decision == "permit")
            and d.reason == e.reason
            and (e.break_glass_available is None or e.break_glass_available == self.break_glass_available)
            and (e.roles is None or sorted(e.roles) == sorted(d.roles))
        )


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which roles granted in a passing permit case, and which reasons a passing case produced."""

    roles: dict[str, int]
    reasons: dict[str, int]
    roles_missing: tuple[str, ...]
    reasons_missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TestReport:
    """The outcome of one run: every decided case and every problem in the case files."""

    __test__ = False  # not a pytest test class, despite the name

    policy_version: str
    results: tuple[CaseResult, ...]
    problems: tuple[Problem, ...]
    coverage: Coverage
    files: tuple[str, ...]

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(result for result in self.results if not result.passed)

    @property
    def ok(self) -> bool:
        return not self.problems and self.failed == 0


def run_access_tests(policy_dir: Path | str, tests_dir: Path | str) -> TestReport:
    """Decide every case in `tests_dir` against the policy in `policy_dir` and compare with its expectation."""
    source, policy_problems = checked_source(Path(policy_dir))
    if policy_problems:
        raise InvalidPolicy(policy_problems)
    policy = compile_policy(source, version=source.digest)
    catalogue = PolicyCatalogue(
        policy=policy,
        services={s.id: s.shielded for s in source.services.document.services} if source.services else {},
        positions=frozenset(p.code for p in source.positions.document.positions) if source.positions else frozenset(),
        actions={entry.name: frozenset(entry.actions) for entry in source.resource_types.document.resource_types}
        if source.resource_types
        else {},
    )
    tests = Path(tests_dir)
    problems: list[Problem] = []
    files = case_files(tests)
    if not files:
        problems.append(Problem(str(tests), 1, WHOLE_FILE, "no case files; expected <area>.yaml beside fixtures.yaml"))
    fixtures = read_fixtures(tests, problems)
    population = None if fixtures is None else build_population(fixtures, catalogue, problems)
    results: list[CaseResult] = []
    if population is not None:
        names: dict[tuple[str, str], int] = {}
        for located in walk_cases(files, problems):
            found = case_problems(located, population, catalogue)
            key = (located.file, located.case.name)
            if key in names:
                found.append(_duplicate_name(located, names[key]))
            names.setdefault(key, located.line)
            problems.extend(found)
            if not found:
                results.append(_decide(located, population, catalogue))
    return TestReport(
        policy_version=policy.version,
        results=tuple(results),
        problems=tuple(sorted(set(problems))),
        coverage=_coverage(policy.roles, results),
        files=tuple(str(path) for path in files),
    )


def _decide(located: LocatedCase, population: Population, catalogue: PolicyCatalogue) -> CaseResult:
    world = case_world(located, population, catalogue)
    decision = Engine(catalogue.policy, world.snapshot).decide(world.request, now=world.now)
    expect = located.case.expect
    return CaseResult(
        file=located.file,
        line=located.line,
        name=located.case.name,
        request=request_line(world.request),
        expected=Expectation(
            expect.decision,
            expect.reason,
            expect.break_glass_available,
            None if expect.roles is None else tuple(expect.roles),
        ),
        decision=decision,
    )


def _duplicate_name(located: LocatedCase, first_line: int) -> Problem:
    message = f"case name {located.case.name!r} is also used at line {first_line}; expected each name once per file"
    return Problem(located.file, located.line_of("name"), located.field("name"), message)


def _coverage(role_ids: Iterable[str], results: list[CaseResult]) -> Coverage:
    roles = dict.fromkeys(sorted(role_ids), 0)
    reasons = dict.fromkeys(sorted(reason.value for reason in Reason), 0)
    for result in results:
        if not result.passed:
            continue
        reasons[result.decision.reason] = reasons.get(result.decision.reason, 0) + 1
        if result.decision.allowed:
            for role in result.decision.roles:
                roles[role] = roles.get(role, 0) + 1
    return Coverage(
        roles=roles,
        reasons=reasons,
        roles_missing=tuple(role for role, count in roles.items() if not count),
        reasons_missing=tuple(reason for reason, count in reasons.items() if not count),
    )

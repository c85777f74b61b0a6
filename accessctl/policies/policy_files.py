"""A policy directory as plain data (path -> text): read, hashed, compiled and access-tested from that data alone.

A published version stores these files, so approving, exporting or rolling back never reads the working
directory again: what was reviewed is exactly what runs.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from accessctl.engine.types import CompiledPolicy
from accessctl.errors import InvalidPolicy
from accessctl.policies.access_tests import run_access_tests
from accessctl.policies.compile import compile_policy
from accessctl.policies.problems import WHOLE_FILE, Problem
from accessctl.policies.validate import checked_source

PolicyFiles = dict[str, str]

# The files the compiler and the access-test runner read, relative to the policy directory.
_PATTERNS = ("*.yaml", "roles/*.yaml", "tests/*.yaml")
TESTS_DIR = "tests"


def read_policy_files(root: Path | str) -> PolicyFiles:
    """Every catalogue, role document and access-test file under `root`, by relative path.

    Raises `InvalidPolicy` naming each file that is not UTF-8 text, as validation does.
    """
    base = Path(root)
    found = {path for pattern in _PATTERNS for path in base.glob(pattern) if path.is_file()}
    files: PolicyFiles = {}
    problems: list[Problem] = []
    for path in sorted(found):
        relative = path.relative_to(base).as_posix()
        try:
            files[relative] = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(relative, 1, WHOLE_FILE, "not UTF-8 text; expected a UTF-8 YAML file"))
    if problems:
        raise InvalidPolicy(problems)
    return files


def content_hash(files: Mapping[str, str]) -> str:
    """`sha256:<hex>` over every path and text; equal hashes mean the same files."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + files[path].encode() + b"\0")
    return f"sha256:{digest.hexdigest()}"


def files_json(files: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(files.items())), ensure_ascii=False)


def files_from_json(text: str) -> PolicyFiles:
    data = json.loads(text)
    assert isinstance(data, dict)
    return {str(path): str(body) for path, body in data.items()}


@contextmanager
def materialised(files: Mapping[str, str]) -> Iterator[Path]:
    """The files written into a private temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="accessctl-policy-") as tmp:
        root = Path(tmp)
        for relative, body in files.items():
            target = root / relative
            if root not in target.resolve().parents:
                raise ValueError(f"policy file path {relative!r} leaves the policy directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        yield root


def compile_files(files: Mapping[str, str], *, version: str | None = None) -> CompiledPolicy:
    """Validate and compile the files; raises `InvalidPolicy` naming every problem."""
    with materialised(files) as root:
        source, problems = checked_source(root)
    if problems:
        raise InvalidPolicy(problems)
    return compile_policy(source, version=version or source.digest)


@dataclass(frozen=True, slots=True)
class AccessTestOutcome:
    """How a set of files fared in its own access tests; each failure and case-file problem as JSON-ready data,
    and each role no passing permit case is granted by, and each reason no passing case produces."""

    passed: int
    failed: int
    failures: tuple[dict[str, Any], ...]
    uncovered: tuple[dict[str, Any], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures and not self.uncovered


def run_stored_access_tests(files: Mapping[str, str]) -> AccessTestOutcome:
    """Run the access tests stored with the files against the role documents stored with them.

    This is the one place versions reach the access-test runner. Coverage is part of the outcome (every role
    granted by some passing permit case, every reason produced by some passing case; docs/role-documents.md), so
    an author cannot empty the approval's gate by deleting the cases that would catch a change.
    """
    with materialised(files) as root:
        report = run_access_tests(root, root / TESTS_DIR)
        prefix = f"{root}/"
    failures = [
        {
            "file": result.file.removeprefix(prefix),
            "line": result.line,
            "name": result.name,
            "request": result.request,
            "expected": result.expected.describe(),
            "got": result.got,
        }
        for result in report.failures
    ]
    failures += [
        {**problem.as_dict(), "file": problem.file.removeprefix(prefix), "name": None} for problem in report.problems
    ]
    coverage = report.coverage
    uncovered = [
        _gap("role", role, f"no passing permit case is granted by role {role}") for role in coverage.roles_missing
    ]
    uncovered += [
        _gap("reason", reason, f"no passing case produces reason {reason}") for reason in coverage.reasons_missing
    ]
    return AccessTestOutcome(
        passed=report.passed, failed=len(failures), failures=tuple(failures), uncovered=tuple(uncovered)
    )


def _gap(kind: str, name: str, message: str) -> dict[str, Any]:
    """A coverage gap, shaped like a case-file problem (no case or line to name: the gap is a missing case)."""
    return {
        "file": f"{TESTS_DIR}/",
        "line": None,
        "name": None,
        "field": f"coverage.{kind}",
        "value": name,
        "message": message,
    }


def policy_json(policy: CompiledPolicy) -> str:
    """The compiled rules as JSON (keys and sets sorted, so equal policies give equal text)."""
    return msgspec.json.encode(policy, order="sorted").decode()


def policy_from_json(text: str, *, version: str) -> CompiledPolicy:
    """The compiled rules stored by `policy_json`, under the given version name."""
    policy = msgspec.json.decode(text, type=CompiledPolicy)
    return CompiledPolicy(
        version=version, roles=policy.roles, resource_types=policy.resource_types, actions=policy.actions
    )

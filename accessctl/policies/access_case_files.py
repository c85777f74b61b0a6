"""Reads the access-test files into typed cases, naming file, line and field for anything malformed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TypeVar

import msgspec

from accessctl.policies.access_case_format import CaseEntry, CaseFileDocument, FixturesDocument
from accessctl.policies.problems import WHOLE_FILE, Problem
from accessctl.policies.source import _type_problem  # the same located messages `validate` gives
from accessctl.policies.yaml_source import NodePath, YamlDocument, YamlSyntaxError, dotted, load_yaml

FIXTURES_FILE = "fixtures.yaml"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LocatedCase:
    """A well-typed case with the file it came from and the line of each of its fields."""

    file: str
    index: int
    case: CaseEntry
    yaml: YamlDocument

    @property
    def line(self) -> int:
        return self.yaml.line_of(("cases", self.index))

    def line_of(self, *path: str | int) -> int:
        """The line of a field of this case (or of its nearest ancestor)."""
        return self.yaml.line_of(("cases", self.index, *path))

    def field(self, *path: str | int) -> str:
        """The dotted name of a field of this case, as problems name it."""
        return dotted(("cases", self.index, *path))


@dataclass(frozen=True, slots=True)
class LocatedFixtures:
    """The fixture population with its file and lines."""

    file: str
    document: FixturesDocument
    yaml: YamlDocument

    def problem(self, path: NodePath, message: str) -> Problem:
        return Problem(self.file, self.yaml.line_of(path), dotted(path), message)


def case_files(tests_dir: Path) -> list[Path]:
    """Every case file of the directory, in name order (the fixtures file is not a case file)."""
    return sorted(path for path in tests_dir.glob("*.yaml") if path.name != FIXTURES_FILE)


def read_fixtures(tests_dir: Path, problems: list[Problem]) -> LocatedFixtures | None:
    """Parse `fixtures.yaml`; None (with the problem recorded) when it is missing or malformed."""
    path = tests_dir / FIXTURES_FILE
    document = _parse(path, problems)
    if document is None:
        return None
    fixtures = _convert(str(path), document, (), document.data, FixturesDocument, problems)
    return None if fixtures is None else LocatedFixtures(str(path), fixtures, document)


def read_case_file(path: Path, problems: list[Problem]) -> list[LocatedCase]:
    """The well-typed cases of one file; each malformed case is reported and left out, the others kept."""
    document = _parse(path, problems)
    if document is None:
        return []
    file = str(path)
    top = _convert(file, document, (), document.data, CaseFileDocument, problems)
    if top is None:
        return []
    cases: list[LocatedCase] = []
    for index, raw in enumerate(top.cases):
        case = _convert(file, document, ("cases", index), raw, CaseEntry, problems)
        if case is not None:
            cases.append(LocatedCase(file, index, case, document))
    return cases


def _parse(path: Path, problems: list[Problem]) -> YamlDocument | None:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(file, 1, WHOLE_FILE, "file not found"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(file, 1, WHOLE_FILE, "not UTF-8 text; expected a UTF-8 YAML file"))
        return None
    try:
        document = load_yaml(text)
    except YamlSyntaxError as exc:
        problems.append(Problem(file, exc.line, WHOLE_FILE, f"YAML syntax error: {exc.message}"))
        return None
    problems.extend(
        Problem(file, line, dotted(at), "key appears twice; expected each key once")
        for at, line in document.duplicate_keys
    )
    return YamlDocument(_with_datetimes(document.data), document.lines, document.duplicate_keys)


def _convert(
    file: str, document: YamlDocument, at: NodePath, data: object, kind: type[T], problems: list[Problem]
) -> T | None:
    """Type-check the node at `at`; a problem names the field under it with the line it is on."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        depth = len(at)
        below = {path[depth:]: line for path, line in document.lines.items() if path[:depth] == at}
        problem = _type_problem(file, YamlDocument(data, below), kind, str(exc))
        problems.append(Problem(file, problem.line, _joined(at, problem.field), problem.message))
        return None


def _joined(at: NodePath, field: str) -> str:
    prefix = dotted(at)
    if not prefix:
        return field
    if field == WHOLE_FILE:
        return prefix
    return prefix + field if field.startswith("[") else f"{prefix}.{field}"


def _with_datetimes(data: object) -> object:
    """YAML reads `2025-06-02` as a date: make it midnight UTC, so every moment in a case file is a datetime."""
    if isinstance(data, dict):
        return {key: _with_datetimes(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_with_datetimes(item) for item in data]
    if isinstance(data, date) and not isinstance(data, datetime):
        return datetime.combine(data, time(0), tzinfo=UTC)
    return data


def walk_cases(files: list[Path], problems: list[Problem]) -> Iterator[LocatedCase]:
    """Every well-typed case of every file, in file and then case order."""
    for path in files:
        yield from read_case_file(path, problems)

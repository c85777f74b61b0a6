"""`accessctl policies validate` prints each problem as file:line: field: message and exits nonzero."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from accessctl.policies.cli import policies
from accessctl.policies.documents import role_document_schema_text

Edit = Callable[[str, str, str], int]

GP = "roles/fastlege.lege.yaml"


def test_validate_exits_zero_on_the_committed_documents(policy_dir: Path) -> None:
    result = CliRunner().invoke(policies, ["validate", str(policy_dir)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout


def test_validate_prints_each_problem_with_file_line_and_field_to_stderr(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "services: [fastlege]\n", "services: [fastlege, tannlege]\n")
    result = CliRunner().invoke(policies, ["validate", str(policy_dir)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{policy_dir / GP}:{line}: services[1]: unknown service 'tannlege'" in result.stderr


def test_validate_json_lists_problems_for_scripts(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "services: [fastlege]\n", "services: [fastlege, tannlege]\n")
    result = CliRunner().invoke(policies, ["validate", "--json", str(policy_dir)])
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)
    assert (problem["file"], problem["line"], problem["field"]) == (GP, line, "services[1]")


def test_schema_prints_the_role_document_schema() -> None:
    result = CliRunner().invoke(policies, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == role_document_schema_text()

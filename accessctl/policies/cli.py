"""The `policies` command group: validate role documents, run their access tests, print their schema, export them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from accessctl.errors import InvalidPolicy
from accessctl.policies.access_report import coverage_text, failure_text, report_json, summary_line
from accessctl.policies.access_tests import run_access_tests
from accessctl.policies.documents import role_document_schema_text
from accessctl.policies.validate import validate_policy_dir

DEFAULT_POLICY_DIR = "policies"
DEFAULT_TESTS_SUBDIR = "tests"


# Loads the role assignments valid at a moment (from the database, in the real command), given the policy.
@click.group("policies")
def policies() -> None:
    """Role documents: validate them, run their access tests, print their schema, export them."""


@policies.command("validate")
@click.argument("directory", default=DEFAULT_POLICY_DIR, type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as a JSON list, for scripts.")
def validate_command(directory: Path, as_json: bool) -> None:
    """Check every role document in DIRECTORY; exit 1 if anything is wrong."""
    problems = validate_policy_dir(directory)
    if as_json:
        click.echo(json.dumps([problem.as_dict() for problem in problems], indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            click.echo(f"{directory / problem.file}:{problem.line}: {problem.field}: {problem.message}", err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {directory}", err=True)
        raise SystemExit(1)
    if not as_json:
        click.echo(f"{directory}: all role documents are valid")


@policies.command("test")
@click.argument("directory", default=DEFAULT_POLICY_DIR, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--tests",
    "tests_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The access-test directory (default: DIRECTORY/tests).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON, for scripts.")
@click.option("--coverage", "show_coverage", is_flag=True, help="List roles and reasons no case touches.")
def test_command(directory: Path, tests_dir: Path | None, as_json: bool, show_coverage: bool) -> None:
    """Decide every access test against the role documents in DIRECTORY; exit 1 on any failure or bad case."""
    tests = tests_dir if tests_dir is not None else directory / DEFAULT_TESTS_SUBDIR
    try:
        report = run_access_tests(directory, tests)
    except InvalidPolicy as exc:
        for problem in exc.problems:
            click.echo(f"{directory / problem.file}:{problem.line}: {problem.field}: {problem.message}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) in {directory}; no access test was run", err=True)
        raise SystemExit(1) from exc
    if as_json:
        click.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    else:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        for result in report.failures:
            click.echo(failure_text(result))
        if show_coverage:
            click.echo(coverage_text(report))
        click.echo(summary_line(report))
    if not report.ok:
        raise SystemExit(1)


@policies.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of a role document (committed as policies/role-document.schema.json)."""
    click.echo(role_document_schema_text(), nl=False)


# --- Published versions, impact diffs and the database-backed export (appended; see policies/versions.py). ---


@policies.command("publish")
@click.option("--author", required=True, help="Who publishes; someone else must approve.")
@click.option("--note", default="", help="What changed and why, for the approver.")
@click.option("--policy-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: the server's.")
@click.option("--json", "as_json", is_flag=True, help="Print the new version as a JSON object.")
@click.pass_context
def publish_command(ctx: click.Context, author: str, note: str, policy_dir: Path | None, as_json: bool) -> None:
    """Store the policy files as a new pending version and print its id."""
    from accessctl.policies import version_commands

    version_commands.run(ctx, as_json, version_commands.publish(author, note, policy_dir))


@policies.command("approve")
@click.argument("version")
@click.option("--approver", required=True, help="Who approves; not the author.")
@click.option("--json", "as_json", is_flag=True, help="Print the activated version as a JSON object.")
@click.pass_context
def approve_command(ctx: click.Context, version: str, approver: str, as_json: bool) -> None:
    """Activate VERSION (e.g. v7) once its access tests pass; every engine reloads it."""
    from accessctl.policies import version_commands

    version_commands.run(ctx, as_json, version_commands.approve(version, approver))


@policies.command("rollback")
@click.argument("version")
@click.option("--author", required=True, help="Who asks for the rollback; someone else must approve.")
@click.option("--json", "as_json", is_flag=True, help="Print the new version as a JSON object.")
@click.pass_context
def rollback_command(ctx: click.Context, version: str, author: str, as_json: bool) -> None:
    """Publish a new pending version with exactly the files of VERSION."""
    from accessctl.policies import version_commands

    version_commands.run(ctx, as_json, version_commands.rollback(version, author))


@policies.command("versions")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as a JSON list.")
@click.pass_context
def versions_command(ctx: click.Context, as_json: bool) -> None:
    """List every published version, newest first."""
    from accessctl.policies import version_commands

    version_commands.run(ctx, as_json, version_commands.listing())


@policies.command("diff")
@click.option("--from", "from_name", default="active", show_default=True, help="active, working or a version.")
@click.option("--to", "to_name", default="working", show_default=True, help="active, working or a version.")
@click.option("--policy-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: the server's.")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as a JSON object.")
@click.pass_context
def diff_command(ctx: click.Context, from_name: str, to_name: str, policy_dir: Path | None, as_json: bool) -> None:
    """Permissions each role gains and loses, and how many users gain or lose each permission."""
    from accessctl.policies import version_commands

    version_commands.run(ctx, as_json, version_commands.impact(from_name, to_name, policy_dir))


@policies.command("export")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--policy-dir", type=click.Path(file_okay=False, path_type=Path), help="Fallback before any approval.")
@click.option("--json", "as_json", is_flag=True, help="Print the written paths as a JSON object.")
@click.pass_context
def export_db_command(ctx: click.Context, out_dir: Path, policy_dir: Path | None, as_json: bool) -> None:
    """Write model.conf and policy.csv for stock Casbin: the active version and the assignments valid now."""
    from accessctl.policies import version_commands

    version_commands.run(ctx, as_json, version_commands.export(out_dir, policy_dir))

"""Private copies of the committed policy directory, to change one thing in before publishing it."""

from __future__ import annotations

import shutil
from pathlib import Path

from accessctl.migrate import PROJECT_ROOT

REPO_POLICIES = PROJECT_ROOT / "policies"

# Gives the out-of-hours physician a permission the committed documents do not: viewing quality reports.
LEGEVAKT = "roles/legevakt.lege.yaml"
EXTRA_PERMISSION = (
    "  - {resource_type: patient.appointment, actions: [read, write], scope: unit}\n",
    "  - {resource_type: patient.appointment, actions: [read, write], scope: unit}\n"
    "  - {resource_type: report.quality, actions: [view], scope: unit}\n",
)
# Takes reading notes away from the out-of-hours physician: access tests expect it, so they fail.
NO_NOTE_READING = (
    "{resource_type: journal.note, actions: [read, write, sign, print], scope: care_relation}",
    "{resource_type: journal.note, actions: [write, sign, print], scope: care_relation}",
)


def copy_policies(tmp: Path) -> Path:
    root = tmp / "policies"
    shutil.copytree(REPO_POLICIES, root)
    return root


def edit(root: Path, relative: str, change: tuple[str, str]) -> None:
    """Replace the first `change[0]` with `change[1]` in one file of the copy."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert change[0] in text, f"{change[0]!r} not in {relative}"
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")

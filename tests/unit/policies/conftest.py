"""Fixtures for the role-document tests: a private copy of the real policy directory to break one thing in."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def repo_policy_dir() -> Path:
    """The committed `policies/` directory (read only)."""
    return Path(__file__).resolve().parents[3] / "policies"


@pytest.fixture
def policy_dir(tmp_path: Path, repo_policy_dir: Path) -> Path:
    """The real policy directory, copied so a test may break one thing in it."""
    root = tmp_path / "policies"
    shutil.copytree(repo_policy_dir, root)
    return root


@pytest.fixture
def edit_policy(policy_dir: Path) -> Callable[[str, str, str], int]:
    """Replace the first `old` with `new` in one file of the copy; returns the 1-based line where it started."""

    def edit(relative: str, old: str, new: str) -> int:
        path = policy_dir / relative
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return text[: text.index(old)].count("\n") + 1

    return edit


@pytest.fixture
def policy_line(policy_dir: Path) -> Callable[[str, str], int]:
    """The 1-based line where `needle` first appears in one file of the copy."""

    def line(relative: str, needle: str) -> int:
        text = (policy_dir / relative).read_text(encoding="utf-8")
        assert needle in text, f"{needle!r} not in {relative}"
        return text[: text.index(needle)].count("\n") + 1

    return line

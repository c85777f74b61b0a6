"""The working documents are compiled once per content: every HR write reads the policy, none compiles it again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accessctl.policies import compiled_cache
from accessctl.policies.compile import load_policy
from accessctl.policies.compiled_cache import CompiledPolicyCache, directory_fingerprint, directory_policy
from accessctl.policies.source import content_digest

ROLE = "roles/legevakt.lege.yaml"


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as settled at once: the stat alone identifies them, as it does two seconds after a change."""
    monkeypatch.setattr(compiled_cache, "SETTLE_NS", 0)


async def test_the_same_documents_compile_once(policy_dir: Path) -> None:
    cache = CompiledPolicyCache()

    first = await directory_policy(policy_dir, cache)
    again = await directory_policy(policy_dir, cache)

    assert again is first
    assert first.version == load_policy(policy_dir).version
    assert len(cache) == 1


async def test_an_edit_is_compiled_even_with_the_same_size_and_times_as_before(policy_dir: Path) -> None:
    cache = CompiledPolicyCache()
    role = policy_dir / ROLE
    before = await directory_policy(policy_dir, cache)
    text = role.read_text(encoding="utf-8")
    times = role.stat()
    # Same length, same mtime: only the bytes (or the change time) tell the two apart.
    role.write_text(text.replace('name: "Legevaktlege"', 'name: "Legevaktlegf"', 1), encoding="utf-8")
    os.utime(role, ns=(times.st_atime_ns, times.st_mtime_ns))

    after = await directory_policy(policy_dir, cache)

    assert after.roles["legevakt.lege"].name == "Legevaktlegf"
    assert after.version == load_policy(policy_dir).version != before.version


@pytest.mark.usefixtures("settled")
async def test_once_settled_a_file_is_known_by_its_stat_and_a_change_still_shows(policy_dir: Path) -> None:
    cache = CompiledPolicyCache()
    before = await directory_policy(policy_dir, cache)
    fingerprint = directory_fingerprint(policy_dir)
    assert isinstance(fingerprint, tuple)
    assert fingerprint[0] == "stat"
    role = policy_dir / ROLE
    role.write_text(role.read_text(encoding="utf-8") + "\n", encoding="utf-8")

    after = await directory_policy(policy_dir, cache)

    assert after is not before
    assert after.version == load_policy(policy_dir).version


async def test_a_new_role_document_is_a_new_policy(policy_dir: Path) -> None:
    cache = CompiledPolicyCache()
    before = await directory_policy(policy_dir, cache)
    text = (policy_dir / ROLE).read_text(encoding="utf-8")
    copy = text.replace("id: legevakt.lege", "id: legevakt.kopi", 1).replace(
        "    services: [legevakt]", "    additive: true\n    services: [legevakt]", 1
    )
    (policy_dir / "roles/legevakt.kopi.yaml").write_text(copy, encoding="utf-8")

    after = await directory_policy(policy_dir, cache)

    assert "legevakt.kopi" in after.roles and "legevakt.kopi" not in before.roles


def test_the_content_digest_covers_exactly_what_the_compiled_version_names(policy_dir: Path) -> None:
    version = load_policy(policy_dir).version
    assert content_digest(policy_dir).startswith(version)
    (policy_dir / "tests" / "extra.yaml").write_text("cases: []\n", encoding="utf-8")  # not compiled
    assert content_digest(policy_dir).startswith(version)


def test_the_cache_keeps_only_the_most_recently_used(policy_dir: Path) -> None:
    cache = CompiledPolicyCache(capacity=2)
    policy = load_policy(policy_dir)
    for key in ("a", "b", "c"):
        cache.put(key, policy)
    assert cache.get("a") is None
    assert cache.get("b") is policy and cache.get("c") is policy

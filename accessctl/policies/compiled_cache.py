"""Compiled policies, kept once per process under a key that changes whenever what they were compiled from does.

Compiling the role documents takes tens of milliseconds, and every HR write re-derives role assignments under the
active policy: without this, each SCIM write compiled the policy directory again. A key never goes stale: a policy
directory is keyed by its files' stat, or their bytes just after a change (`directory_fingerprint`, looked at on
every lookup: about 0.2 ms); a published version by its id and content hash (a stored version never changes).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

from accessctl.engine.types import CompiledPolicy
from accessctl.policies.compile import load_policy
from accessctl.policies.source import content_digest, source_files

# A few working directories and versions at most are live in one process (the active one, one being approved).
CAPACITY = 8
# Files changed more recently than this are identified by their bytes, not their stat (see `directory_fingerprint`).
SETTLE_NS = 2_000_000_000


class CompiledPolicyCache:
    """The most recently used compiled policies by key; an entry is only ever replaced, never changed."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, CompiledPolicy] = OrderedDict()

    def get(self, key: Hashable) -> CompiledPolicy | None:
        policy = self._entries.get(key)
        if policy is not None:
            self._entries.move_to_end(key)
        return policy

    def put(self, key: Hashable, policy: CompiledPolicy) -> None:
        self._entries[key] = policy
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def get_or_compile(self, key: Hashable, compile_: Callable[[], CompiledPolicy]) -> CompiledPolicy:
        policy = self.get(key)
        if policy is None:
            policy = compile_()
            self.put(key, policy)
        return policy

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


COMPILED_POLICIES = CompiledPolicyCache()


def directory_fingerprint(root: Path) -> Hashable:
    """What identifies the content of a policy directory's files: their names, sizes, inodes and change times.

    Any write to a file sets its change time to now, but a timestamp only moves every few milliseconds, so a second
    write within the same tick would look unchanged. While any file changed within `SETTLE_NS`, the fingerprint is
    therefore the digest of the files' bytes; once they have settled, their stat can no longer hide a change.
    """
    stats = []
    base = os.fspath(root)
    for relative in source_files(root):
        try:
            found = os.stat(os.path.join(base, relative))
        except FileNotFoundError:
            continue
        stats.append((relative, found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino, found.st_dev))
    newest = max((max(mtime, ctime) for _, _, mtime, ctime, _, _ in stats), default=0)
    if time.time_ns() - newest < SETTLE_NS:
        return ("content", content_digest(root))
    return ("stat", str(root), tuple(stats))


async def directory_policy(path: Path, cache: CompiledPolicyCache = COMPILED_POLICIES) -> CompiledPolicy:
    """`load_policy(path)`, compiled once per content of the directory; an invalid one raises every time."""
    key = ("directory", directory_fingerprint(path))
    policy = cache.get(key)
    if policy is None:
        # Two requests missing at once both compile; the second result replaces an equal first.
        policy = await asyncio.to_thread(load_policy, path)
        cache.put(key, policy)
    return policy

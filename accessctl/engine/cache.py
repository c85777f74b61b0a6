"""A bounded decision cache; each entry carries the window it holds for and the generations it was built on.

An entry is served only while `lo <= now < hi` (no time-bounded fact crosses a boundary inside the window) and
while the user's and the patient's generation counters are the ones it was built under: a change to either
bumps the counter, so every entry built on the old facts stops being served at once, without finding and
deleting them. Eviction is two-generation (a cheap approximation of LRU): when the young half fills, it
becomes the old half and the previous old half is dropped; a hit in the old half moves back to the young one.
"""

from __future__ import annotations

from datetime import datetime

from accessctl.engine.types import Decision

# user, acting unit, action, resource type, patient, resource unit, service, categories
CacheKey = tuple[str, str | None, str, str, str | None, str | None, str | None, frozenset[str]]
# decision, valid from, valid until, user generation, patient generation
CacheEntry = tuple[Decision, datetime, datetime, int, int]


class DecisionCache:
    """At most `max_entries` decisions, in two halves."""

    __slots__ = ("_half", "_old", "_young")

    def __init__(self, max_entries: int = 200_000) -> None:
        if max_entries < 2:
            raise ValueError("a decision cache needs room for at least 2 entries")
        self._half = max_entries // 2
        self._young: dict[CacheKey, CacheEntry] = {}
        self._old: dict[CacheKey, CacheEntry] = {}

    def get(self, key: CacheKey) -> CacheEntry | None:
        entry = self._young.get(key)
        if entry is None:
            entry = self._old.pop(key, None)
            if entry is not None:
                self.put(key, entry)
        return entry

    def put(self, key: CacheKey, entry: CacheEntry) -> None:
        if len(self._young) >= self._half:
            self._old = self._young
            self._young = {}
        self._young[key] = entry

    def clear(self) -> None:
        self._young = {}
        self._old = {}

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

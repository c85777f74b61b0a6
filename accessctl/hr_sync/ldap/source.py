"""The directory behind a Protocol: entries by base, filter and change time; an in-memory one for tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One entry: its DN and its attributes (names as the mapping spells them, every value a string)."""

    dn: str
    attributes: Mapping[str, Sequence[str]]

    def values(self, attribute: str) -> Sequence[str]:
        found = self.attributes.get(attribute)
        if found is None:
            lowered = attribute.lower()
            found = next((v for k, v in self.attributes.items() if k.lower() == lowered), ())
        return found

    @property
    def parent_dn(self) -> str:
        return split_dn(self.dn)[1]


@dataclass(frozen=True, slots=True)
class Search:
    """What to read: entries under `base` matching `filter`, optionally changed since a time or with given values."""

    base: str
    filter: str
    attributes: Sequence[str]
    modified_since: datetime | None = None
    # attribute -> values: only entries holding one of them (a delta sync's "the employments of these users").
    any_of: tuple[str, tuple[str, ...]] | None = None
    # Only entries without this attribute (a delta sync's "employments that name no user").
    lacking: str | None = None


class DirectorySource(Protocol):
    """A directory to pull from; `supports_delta` says whether `modified_since` can be asked of it."""

    @property
    def supports_delta(self) -> bool: ...

    def entries(self, search: Search) -> Iterator[DirectoryEntry]: ...


def split_dn(dn: str) -> tuple[str, str]:
    """(first RDN, the rest) of a DN, honouring backslash escapes."""
    escaped = False
    for index, char in enumerate(dn):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            return dn[:index].strip(), dn[index + 1 :].strip()
    return dn.strip(), ""


def normal_dn(dn: str) -> str:
    """A DN compared the way a directory would: case and spaces around separators do not matter."""
    parts: list[str] = []
    rest = dn
    while rest:
        first, rest = split_dn(rest)
        name, _, value = first.partition("=")
        parts.append(f"{name.strip().lower()}={value.strip().lower()}")
    return ",".join(parts)


def generalized_time(moment: datetime) -> str:
    """LDAP GeneralizedTime in UTC, as `modifyTimestamp` holds it."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


@dataclass
class InMemoryDirectory:
    """A small directory for unit tests: base, `modified_since`, `any_of`, `lacking` and an `(objectClass=x)` in
    the filter are honoured; the rest of the filter text is not."""

    entries_by_dn: dict[str, DirectoryEntry] = field(default_factory=dict)
    supports_delta: bool = True
    searches: list[Search] = field(default_factory=list)

    def put(self, dn: str, attributes: Mapping[str, Iterable[str] | str], *, modified: datetime | None = None) -> None:
        values = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in attributes.items()}
        values["modifyTimestamp"] = (generalized_time(modified or datetime.now(UTC)),)
        self.entries_by_dn[normal_dn(dn)] = DirectoryEntry(dn, values)

    def remove(self, dn: str) -> None:
        del self.entries_by_dn[normal_dn(dn)]

    def entries(self, search: Search) -> Iterator[DirectoryEntry]:
        self.searches.append(search)
        base = normal_dn(search.base)
        wanted_class = _object_class(search.filter)
        for key, entry in sorted(self.entries_by_dn.items()):
            if key == base or not key.endswith("," + base):
                continue
            if wanted_class and wanted_class not in {c.lower() for c in entry.values("objectClass")}:
                continue
            if search.modified_since is not None:
                stamp = entry.values("modifyTimestamp")[0]
                if stamp < generalized_time(search.modified_since):
                    continue
            if search.any_of is not None:
                attribute, accepted = search.any_of
                held = (entry.dn,) if attribute.lower() == "entrydn" else entry.values(attribute)
                if not {normal_dn(v) for v in held} & {normal_dn(v) for v in accepted}:
                    continue
            if search.lacking is not None and entry.values(search.lacking):
                continue
            yield entry


def _object_class(ldap_filter: str) -> str | None:
    """The object class a simple filter asks for (`(objectClass=x)` anywhere in it), lower-cased."""
    marker = "objectclass="
    lowered = ldap_filter.lower()
    start = lowered.find(marker)
    if start < 0:
        return None
    end = lowered.find(")", start)
    value = lowered[start + len(marker) : end if end >= 0 else None]
    return None if value == "*" else value

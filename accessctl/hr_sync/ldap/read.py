"""Read what a run needs from the directory: everything (full), or what changed since the last run (delta)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from accessctl.hr_sync.ldap.config import EntrySet, FieldSpec, LdapMapping
from accessctl.hr_sync.ldap.entries import UserRead, employment_owner, read_users, user_key
from accessctl.hr_sync.ldap.source import DirectoryEntry, DirectorySource, Search, normal_dn
from accessctl.hr_sync.ldap.units import UnitRead, read_units


@dataclass
class DirectoryRead:
    """Users (by HR id, each with all its employments), units by organisation number, and rejected entries."""

    users: UserRead
    units: UnitRead = field(default_factory=UnitRead)
    entries_read: int = 0


def _search(entries: list[DirectoryEntry], source: DirectorySource, search: Search) -> list[DirectoryEntry]:
    found = list(source.entries(search))
    entries.extend(found)
    return found


def read_directory(source: DirectorySource, mapping: LdapMapping, since: datetime | None = None) -> DirectoryRead:
    """Read units, users and employments; with `since`, only users and employments changed since then.

    A delta read still gives each changed user all of their employments: the changed employment entries name the
    users to re-read, and every employment of those users is read again. A key that a pattern (or a default) gives
    cannot be searched for: the whole user or employment set is then read and kept by key.
    """
    seen: list[DirectoryEntry] = []
    users_set, jobs_set = mapping.users, mapping.employments
    user_attrs, job_attrs = users_set.attributes(), jobs_set.attributes()
    users = _search(seen, source, Search(users_set.base, users_set.filter, user_attrs, modified_since=since))
    if since is None:
        jobs = _search(seen, source, Search(jobs_set.base, jobs_set.filter, job_attrs))
    else:
        changed_jobs = _search(seen, source, Search(jobs_set.base, jobs_set.filter, job_attrs, modified_since=since))
        users, jobs = _complete_delta(seen, source, mapping, users, changed_jobs)
    read = DirectoryRead(read_users(users, jobs, users_set, jobs_set))
    if mapping.units is not None:
        units = _search(seen, source, Search(mapping.units.base, mapping.units.filter, mapping.units.attributes()))
        read.units = read_units(units, mapping.units)
    read.entries_read = len(seen)
    return read


def _complete_delta(
    seen: list[DirectoryEntry],
    source: DirectorySource,
    mapping: LdapMapping,
    users: list[DirectoryEntry],
    changed_jobs: list[DirectoryEntry],
) -> tuple[list[DirectoryEntry], list[DirectoryEntry]]:
    """The changed users plus the users of changed employments, every employment of all of them, the changed
    employments, and those naming no readable user (they hold back job losses, as in a full run).

    Users and employments are keyed as a full run keys them, patterns included.
    """
    users_set, jobs_set = mapping.users, mapping.employments
    by_dn = jobs_set.user_refers_to == "dn"

    def key_of(entry: DirectoryEntry) -> str | None:
        return user_key(entry, users_set, jobs_set)

    def owner_of(entry: DirectoryEntry) -> str | None:
        return employment_owner(entry, jobs_set)

    keys = {k for u in users if (k := key_of(u)) is not None}
    missing = {k for j in changed_jobs if (k := owner_of(j)) is not None} - keys
    if missing:
        attribute = "entryDN" if by_dn else _searchable(users_set.spec("hr_id"))
        users = users + _holding(seen, source, users_set, (attribute, sorted(missing)), key_of, missing)
    wanted = {k for u in users if (k := key_of(u)) is not None}
    jobs: list[DirectoryEntry] = []
    if wanted:
        attribute = _searchable(jobs_set.spec("user"))
        values = sorted({u.dn for u in users if key_of(u) in wanted} if by_dn else wanted)
        # Employments that name no readable user may be anyone's: with them in the read, no user loses a job.
        jobs = _holding(seen, source, jobs_set, (attribute, values), owner_of, {*wanted, None})
        if attribute is not None:  # read whole otherwise, the unnamed ones included
            lacking = Search(jobs_set.base, jobs_set.filter, jobs_set.attributes(), lacking=attribute)
            jobs += _search(seen, source, lacking)
    return users, _distinct(jobs + changed_jobs)


def _searchable(spec: FieldSpec | None) -> str | None:
    """The attribute to search by equality for a field's values; None when a pattern or a default makes the value
    differ from what the directory holds (a pattern's key may be any part of the attribute's value)."""
    assert spec is not None
    return spec.attribute if spec.pattern is None and spec.default is None else None


def _holding(
    seen: list[DirectoryEntry],
    source: DirectorySource,
    entries: EntrySet,
    match: tuple[str | None, list[str]],
    key_of: Callable[[DirectoryEntry], str | None],
    keys: Collection[str | None],
) -> list[DirectoryEntry]:
    """The entries of a set whose key is one of `keys`: searched by the attribute's values, or, when the attribute
    cannot be searched for them, the whole set read and kept by key (a search may also match more, or differ in case).
    """
    attribute, values = match
    any_of = None if attribute is None else (attribute, tuple(values))
    found = _search(seen, source, Search(entries.base, entries.filter, entries.attributes(), any_of=any_of))
    return [e for e in found if key_of(e) in keys]


def _distinct(entries: list[DirectoryEntry]) -> list[DirectoryEntry]:
    """Each entry once (a changed employment is also found among its user's)."""
    return list({normal_dn(e.dn): e for e in entries}.values())

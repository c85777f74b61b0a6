"""Read what a run needs from the directory: everything (full), or what changed since the last run (delta)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from accessctl.hr_sync.ldap.config import LdapMapping
from accessctl.hr_sync.ldap.entries import UserRead, read_users
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
    users to re-read, and every employment of those users is read again.
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
    """The changed users plus the users of changed employments, and every employment of all of them."""
    users_set, jobs_set = mapping.users, mapping.employments
    by_dn = jobs_set.user_refers_to == "dn"
    user_spec, hr_spec = jobs_set.spec("user"), users_set.spec("hr_id")
    assert user_spec is not None and hr_spec is not None

    def key_of(entry: DirectoryEntry) -> str:
        if by_dn:
            return normal_dn(entry.dn)
        values = entry.values(hr_spec.attribute)
        return values[0] if values else entry.dn

    keys = {key_of(u) for u in users}
    referred = {normal_dn(v) if by_dn else v for j in changed_jobs for v in j.values(user_spec.attribute)}
    missing = tuple(sorted(referred - keys))
    if missing:
        match = ("entryDN", missing) if by_dn else (hr_spec.attribute, missing)
        users = users + _search(
            seen, source, Search(users_set.base, users_set.filter, users_set.attributes(), any_of=match)
        )
    wanted = tuple(sorted({e.dn if by_dn else key_of(e) for e in users}))
    if not wanted:
        return users, []
    jobs = _search(
        seen,
        source,
        Search(jobs_set.base, jobs_set.filter, jobs_set.attributes(), any_of=(user_spec.attribute, wanted)),
    )
    return users, jobs

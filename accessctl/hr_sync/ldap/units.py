"""Unit entries to each organisation's tree; an organisation with a rejected entry keeps its stored tree that run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from accessctl.hr_sync.ldap.config import PARENT_ENTRY, EntrySet
from accessctl.hr_sync.ldap.entries import FieldProblem, field_value
from accessctl.hr_sync.ldap.source import DirectoryEntry, normal_dn
from accessctl.hr_sync.org_tree import UnitRecord
from accessctl.hr_sync.runs import RecordError
from accessctl.identifiers import is_valid_org_number

# unit id -> (the unit, its own organisation number if it carries one, the DN of the entry above it)
_Found = dict[str, tuple[UnitRecord, str | None, str]]


@dataclass
class UnitRead:
    """Units by organisation number, the rejected entries, and which trees a rejected entry may belong to.

    Putting a tree removes the units it leaves out, so a tree that lost a rejected entry must not be put.
    """

    trees: dict[str, list[UnitRecord]] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)
    # Organisation numbers a rejected entry belongs to, and the unit ids rejected entries name.
    doubtful_numbers: set[str] = field(default_factory=set)
    doubtful_units: set[str] = field(default_factory=set)
    # A rejected entry could be tied to no organisation and named no unit: it may belong to any tree.
    unplaced: bool = False

    def doubtful(self, stored_units: Mapping[str, Iterable[str]]) -> set[str]:
        """The organisation numbers whose tree must stay as stored; `stored_units`: number -> its stored unit ids."""
        if self.unplaced:
            return set(stored_units) | set(self.trees)
        named = {number for number, ids in stored_units.items() if not self.doubtful_units.isdisjoint(ids)}
        return self.doubtful_numbers | named


def _field(entry: DirectoryEntry, units: EntrySet, name: str, *, required: bool = False) -> str | None:
    return field_value(entry, name, units.spec(name), required=required)


def _need(entry: DirectoryEntry, units: EntrySet, name: str) -> str:
    value = _field(entry, units, name, required=True)
    assert value is not None  # a required field raises FieldProblem rather than be None
    return value


def _lenient(entry: DirectoryEntry, units: EntrySet, name: str) -> str | None:
    """A field of a rejected entry, when it can be read at all."""
    try:
        return _field(entry, units, name)
    except FieldProblem:
        return None


def _number_above(found: _Found, parent: str | None, number: str | None) -> str | None:
    """`number`, or the first organisation number on the way up from `parent`."""
    steps = 0
    while number is None and parent in found and steps <= len(found):
        record, number, _ = found[parent]
        parent = record.parent
        steps += 1
    return number


def read_units(entries: Iterable[DirectoryEntry], units: EntrySet) -> UnitRead:
    """Units grouped by organisation number; a unit without one takes its parent's (the tree's root carries it)."""
    read = UnitRead()
    found: _Found = {}
    id_of_dn: dict[str, str] = {}
    rejected: list[DirectoryEntry] = []
    parent_spec = units.spec("parent")
    by_entry = parent_spec is not None and parent_spec.attribute == PARENT_ENTRY
    for entry in entries:
        try:
            unit_id = _need(entry, units, "id")
            number = _field(entry, units, "organisation_number")
            if number is not None and not is_valid_org_number(number):
                raise FieldProblem("organisation_number", f"organisation number {number!r} is not valid")
            parent = _field(entry, units, "parent") if parent_spec is not None and not by_entry else None
            kind = _field(entry, units, "kind")
            record = UnitRecord(unit_id, _need(entry, units, "name"), parent, kind)
        except FieldProblem as problem:
            read.errors.append(RecordError(entry.dn, problem.name, problem.message))
            rejected.append(entry)
            continue
        found[unit_id] = (record, number, entry.parent_dn)
        id_of_dn[normal_dn(entry.dn)] = unit_id
    if by_entry:
        found = {
            unit_id: (UnitRecord(r.id, r.name, id_of_dn.get(normal_dn(parent_dn)), r.kind), n, parent_dn)
            for unit_id, (r, n, parent_dn) in found.items()
        }
    for entry in rejected:
        if by_entry:
            above = id_of_dn.get(normal_dn(entry.parent_dn))
        else:
            above = _lenient(entry, units, "parent") if parent_spec is not None else None
        _place_rejected(read, entry, units, found, above)
    by_org: dict[str, list[UnitRecord]] = defaultdict(list)
    for unit_id, (record, own_number, _) in found.items():
        number = _number_above(found, record.parent, own_number)
        if number is None:
            read.errors.append(RecordError(unit_id, "organisation_number", "no organisation number on it or above it"))
            read.doubtful_units.add(unit_id)
            continue
        by_org[number].append(record)
    read.trees = dict(by_org)
    return read


def _place_rejected(read: UnitRead, entry: DirectoryEntry, units: EntrySet, found: _Found, above: str | None) -> None:
    """Note the tree a rejected entry belongs to (by its own number, or the one above it) and the unit it names."""
    unit_id = _lenient(entry, units, "id")
    number = _lenient(entry, units, "organisation_number")
    if number is not None and not is_valid_org_number(number):
        number = None
    number = _number_above(found, above, number)
    if unit_id is not None:
        read.doubtful_units.add(unit_id)
    if number is not None:
        read.doubtful_numbers.add(number)
    if unit_id is None and number is None:
        read.unplaced = True

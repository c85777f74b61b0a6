"""The patient side of the indexes: care relations, blocks and break-the-glass grants, per patient.

A patient has few facts, so each patient's index is rebuilt whole when one of them changes; the raw facts are
kept by id so a change or removal can find its patient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from accessctl.engine.timeline import aware, boundaries, until
from accessctl.engine.types import BreakGlassGrantFacts, CareRelationFacts, PatientBlockFacts

Window = tuple[datetime, datetime]
# (valid_from, valid_to, relation id, kind)
RelationEntry = tuple[datetime, datetime, str, str]
# (valid_from, end, grant id), where end is the earlier of expires_at and ended_at
GrantEntry = tuple[datetime, datetime, str]


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """One patient's context, indexed for the lookups of rules 3, 5 and 6. Entries are sorted by id."""

    relations_by_user: dict[str, tuple[RelationEntry, ...]]
    relations_by_unit: dict[str, tuple[RelationEntry, ...]]
    user_blocks: dict[str, tuple[Window, ...]]
    unit_blocks: tuple[tuple[str, datetime, datetime], ...]
    category_blocks: dict[str, tuple[Window, ...]]
    grants_by_user: dict[str, tuple[GrantEntry, ...]]
    # Every start and end of every fact above: a decision about this patient holds no longer than that.
    edges: tuple[datetime, ...]


def grant_end(grant: BreakGlassGrantFacts) -> datetime:
    """A grant lasts until it expires or is ended, whichever comes first."""
    expires = aware(grant.expires_at, "grant.expires_at")
    if grant.ended_at is None:
        return expires
    return min(expires, aware(grant.ended_at, "grant.ended_at"))


def index_patient(
    relations: Iterable[CareRelationFacts],
    blocks: Iterable[PatientBlockFacts],
    grants: Iterable[BreakGlassGrantFacts],
) -> PatientFacts:
    """Index one patient's facts."""
    by_user: dict[str, list[RelationEntry]] = {}
    by_unit: dict[str, list[RelationEntry]] = {}
    edges: list[datetime] = []
    for r in sorted(relations, key=lambda r: r.id):
        entry = (
            aware(r.valid_from, "care_relation.valid_from"),
            until(r.valid_to, "care_relation"),
            r.id,
            r.kind,
        )
        edges += entry[:2]
        if r.user_id is not None:
            by_user.setdefault(r.user_id, []).append(entry)
        if r.unit_id is not None:
            by_unit.setdefault(r.unit_id, []).append(entry)
    user_blocks: dict[str, list[Window]] = {}
    unit_blocks: list[tuple[str, datetime, datetime]] = []
    category_blocks: dict[str, list[Window]] = {}
    for b in sorted(blocks, key=lambda b: b.id):
        window = (aware(b.valid_from, "block.valid_from"), until(b.valid_to, "block"))
        edges += window
        if b.user_id is not None:
            user_blocks.setdefault(b.user_id, []).append(window)
        if b.unit_id is not None:
            unit_blocks.append((b.unit_id, *window))
        if b.category is not None:
            category_blocks.setdefault(b.category, []).append(window)
    by_grantee: dict[str, list[GrantEntry]] = {}
    for g in sorted(grants, key=lambda g: g.id):
        entry_g = (aware(g.valid_from, "grant.valid_from"), grant_end(g), g.id)
        edges += entry_g[:2]
        by_grantee.setdefault(g.user_id, []).append(entry_g)
    return PatientFacts(
        relations_by_user={k: tuple(v) for k, v in by_user.items()},
        relations_by_unit={k: tuple(v) for k, v in by_unit.items()},
        user_blocks={k: tuple(v) for k, v in user_blocks.items()},
        unit_blocks=tuple(unit_blocks),
        category_blocks={k: tuple(v) for k, v in category_blocks.items()},
        grants_by_user={k: tuple(v) for k, v in by_grantee.items()},
        edges=boundaries(edges),
    )


@dataclass(slots=True)
class _PatientRecord:
    relations: dict[str, CareRelationFacts] = field(default_factory=dict)
    blocks: dict[str, PatientBlockFacts] = field(default_factory=dict)
    grants: dict[str, BreakGlassGrantFacts] = field(default_factory=dict)


class PatientContext:
    """All patients' facts: the raw facts by id, and each patient's index for decisions."""

    __slots__ = ("_block_patient", "_grant_patient", "_records", "_relation_patient", "facts")

    def __init__(
        self,
        relations: Iterable[CareRelationFacts] = (),
        blocks: Iterable[PatientBlockFacts] = (),
        grants: Iterable[BreakGlassGrantFacts] = (),
    ) -> None:
        self.facts: dict[str, PatientFacts] = {}
        self._records: dict[str, _PatientRecord] = {}
        self._relation_patient: dict[str, str] = {}
        self._block_patient: dict[str, str] = {}
        self._grant_patient: dict[str, str] = {}
        for r in relations:
            self._record(r.patient).relations[r.id] = r
            self._relation_patient[r.id] = r.patient
        for b in blocks:
            self._record(b.patient).blocks[b.id] = b
            self._block_patient[b.id] = b.patient
        for g in grants:
            self._record(g.patient).grants[g.id] = g
            self._grant_patient[g.id] = g.patient
        for patient in self._records:
            self._reindex(patient)

    def _record(self, patient: str) -> _PatientRecord:
        record = self._records.get(patient)
        if record is None:
            record = self._records[patient] = _PatientRecord()
        return record

    def _reindex(self, patient: str) -> None:
        record = self._records[patient]
        if not (record.relations or record.blocks or record.grants):
            del self._records[patient]
            self.facts.pop(patient, None)
            return
        self.facts[patient] = index_patient(record.relations.values(), record.blocks.values(), record.grants.values())

    def put_relation(self, relation: CareRelationFacts) -> set[str]:
        """Add or replace a care relation; returns the patients whose facts changed."""
        touched = self.remove_relation(relation.id)
        self._record(relation.patient).relations[relation.id] = relation
        self._relation_patient[relation.id] = relation.patient
        self._reindex(relation.patient)
        return touched | {relation.patient}

    def remove_relation(self, relation_id: str) -> set[str]:
        patient = self._relation_patient.pop(relation_id, None)
        if patient is None:
            return set()
        del self._records[patient].relations[relation_id]
        self._reindex(patient)
        return {patient}

    def put_block(self, block: PatientBlockFacts) -> set[str]:
        touched = self.remove_block(block.id)
        self._record(block.patient).blocks[block.id] = block
        self._block_patient[block.id] = block.patient
        self._reindex(block.patient)
        return touched | {block.patient}

    def remove_block(self, block_id: str) -> set[str]:
        patient = self._block_patient.pop(block_id, None)
        if patient is None:
            return set()
        del self._records[patient].blocks[block_id]
        self._reindex(patient)
        return {patient}

    def put_grant(self, grant: BreakGlassGrantFacts) -> set[str]:
        touched = self.remove_grant(grant.id)
        self._record(grant.patient).grants[grant.id] = grant
        self._grant_patient[grant.id] = grant.patient
        self._reindex(grant.patient)
        return touched | {grant.patient}

    def remove_grant(self, grant_id: str) -> set[str]:
        patient = self._grant_patient.pop(grant_id, None)
        if patient is None:
            return set()
        del self._records[patient].grants[grant_id]
        self._reindex(patient)
        return {patient}

    def grant(self, grant_id: str) -> BreakGlassGrantFacts | None:
        patient = self._grant_patient.get(grant_id)
        return None if patient is None else self._records[patient].grants[grant_id]

    def all_relations(self) -> tuple[CareRelationFacts, ...]:
        return tuple(r for rec in self._records.values() for r in rec.relations.values())

    def all_blocks(self) -> tuple[PatientBlockFacts, ...]:
        return tuple(b for rec in self._records.values() for b in rec.blocks.values())

    def all_grants(self) -> tuple[BreakGlassGrantFacts, ...]:
        return tuple(g for rec in self._records.values() for g in rec.grants.values())

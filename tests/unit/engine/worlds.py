"""A small named world for the engine's tests: a hospital, a few workers, one synthetic patient."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from accessctl.engine import (
    AccessRequest,
    AssignmentFacts,
    BreakGlassGrantFacts,
    CareRelationFacts,
    CompiledPolicy,
    CompiledRole,
    EmploymentFacts,
    Engine,
    OrganisationFacts,
    PatientBlockFacts,
    Permission,
    ResourceType,
    Snapshot,
    UnitFacts,
    UserFacts,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
# Synthetic national ids (month + 80): nobody real.
PATIENT = "15857900011"
OTHER_PATIENT = "02918500022"
SHIELDED = "psykisk-helsevern-spesialist"

POLICY = CompiledPolicy(
    version="test-1",
    resource_types={
        "journal.note": ResourceType("journal.note", "a clinical note", patient_bound=True),
        "report.activity": ResourceType("report.activity", "a unit's activity report", patient_bound=False),
    },
    roles={
        "nurse": CompiledRole(
            "nurse",
            "Nurse",
            (
                Permission("journal.note", "read", "care_relation"),
                Permission("journal.note", "write", "care_relation"),
            ),
            break_glass=True,
            break_glass_max_minutes=240,
        ),
        "doctor": CompiledRole(
            "doctor",
            "Doctor",
            (
                Permission("journal.note", "read", "unit_subtree"),
                Permission("report.activity", "read", "unit"),
            ),
            break_glass=True,
            break_glass_max_minutes=60,
        ),
        "psychiatrist": CompiledRole(
            "psychiatrist",
            "Psychiatrist",
            (Permission("journal.note", "read", "care_relation"),),
            shielded_services=frozenset({SHIELDED}),
        ),
        "records_officer": CompiledRole(
            "records_officer",
            "Records officer",
            (Permission("journal.note", "read", "organisation"),),
            address_categories=frozenset({"protected_address"}),
        ),
        "citizen": CompiledRole("citizen", "Own record", (Permission("journal.note", "read", "self"),)),
        "auditor": CompiledRole("auditor", "Auditor", (Permission("journal.note", "read", "any"),)),
        "ward_clerk": CompiledRole("ward_clerk", "Ward clerk", (Permission("journal.note", "print", "unit"),)),
    },
)

ORGANISATIONS = (
    OrganisationFacts("trust", date(2024, 1, 1), agreement_signed=True),
    OrganisationFacts("gp-office", date(2024, 1, 1), agreement_signed=True),
    OrganisationFacts("not-yet", date(2027, 1, 1), agreement_signed=True),
    OrganisationFacts("unsigned", date(2024, 1, 1), agreement_signed=False),
    OrganisationFacts("no-date", None, agreement_signed=True),
)
UNITS = (
    UnitFacts("hospital", "trust", None),
    UnitFacts("medicine", "trust", "hospital", frozenset({"sengepost-medisin"})),
    UnitFacts("ward", "trust", "medicine", frozenset({"sengepost-medisin"})),
    UnitFacts("psych", "trust", "hospital", frozenset({SHIELDED})),
    UnitFacts("surgery", "trust", "hospital"),
    UnitFacts("gp", "gp-office", None, frozenset({"fastlege"})),
    UnitFacts("not-yet-unit", "not-yet", None),
    UnitFacts("unsigned-unit", "unsigned", None),
    UnitFacts("no-date-unit", "no-date", None),
)

# user -> (active, national id, [(role or None for employment only, unit)])
_PEOPLE: dict[str, tuple[bool, str | None, list[tuple[str | None, str]]]] = {
    "nina": (True, None, [("nurse", "ward")]),
    "dag": (True, None, [("doctor", "medicine")]),
    "olga": (False, None, [("nurse", "ward")]),
    "erik": (True, None, [(None, "ward")]),
    "pia": (True, None, [("psychiatrist", "psych"), ("nurse", "psych")]),
    "rolf": (True, None, [("records_officer", "surgery")]),
    "selma": (True, PATIENT, [("citizen", "gp")]),
    "aud": (True, None, [("auditor", "ward")]),
    "kari": (True, None, [("ward_clerk", "ward")]),
    "vera": (True, None, [("doctor", "medicine"), ("auditor", "medicine")]),
    "fred": (True, None, [("nurse", "not-yet-unit")]),
    "ulla": (True, None, [("nurse", "unsigned-unit")]),
    "nora": (True, None, [("nurse", "no-date-unit")]),
}


def base_snapshot() -> Snapshot:
    users: list[UserFacts] = []
    jobs: list[EmploymentFacts] = []
    roles: list[AssignmentFacts] = []
    for user_id, (active, national_id, places) in _PEOPLE.items():
        users.append(UserFacts(user_id, active=active, national_id=national_id))
        for role_id, unit in places:
            jobs.append(EmploymentFacts(user_id, unit, "P1", LONG_AGO, None))
            if role_id is not None:
                roles.append(AssignmentFacts(user_id, role_id, unit, LONG_AGO, None))
    return Snapshot(
        organisations=ORGANISATIONS,
        units=UNITS,
        users=tuple(users),
        employments=tuple(jobs),
        assignments=tuple(roles),
        shielded_services=frozenset({SHIELDED}),
    )


def engine_with(
    care_relations: tuple[CareRelationFacts, ...] = (),
    blocks: tuple[PatientBlockFacts, ...] = (),
    grants: tuple[BreakGlassGrantFacts, ...] = (),
) -> Engine:
    """The base world with extra care relations, blocks or grants."""
    snapshot = replace(base_snapshot(), care_relations=care_relations, blocks=blocks, grants=grants)
    return Engine(POLICY, snapshot)


def note_read(user: str, unit: str | None, **fields: Any) -> AccessRequest:
    """Reading a clinical note about PATIENT, written in `ward` unless said otherwise."""
    request = AccessRequest(
        user_id=user,
        unit_id=unit,
        action="read",
        resource_type="journal.note",
        patient=PATIENT,
        resource_unit="ward",
    )
    return replace(request, **fields)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)

"""The whole demo region as table rows: the same seed, size and date always give the same rows."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from accessctl.demo.organisations import build_organisations
from accessctl.demo.patients import build_patients
from accessctl.demo.policy_inputs import PolicyInputs
from accessctl.demo.region import Region
from accessctl.demo.roles import assignment_rows, role_rows
from accessctl.demo.specs import start_of_day
from accessctl.demo.units import build_units
from accessctl.demo.workforce import build_workforce

Row = dict[str, object]
DEFAULT_SEED = 42
DEFAULT_USERS = 34_000
# The demo's "today"; employments, care relations and go-lives are placed around it.
DEMO_DATE = date(2026, 11, 26)
# Tables in insert order: parents before the tables whose foreign keys point at them.
TABLES = (
    "services", "organisations", "units", "unit_services", "users", "employments", "roles",
    "role_assignments", "care_relations", "patient_blocks",
)  # fmt: skip


@dataclass(frozen=True)
class Population:
    """Rows per table, in `TABLES` order, and the patients' synthetic national ids."""

    tables: dict[str, list[Row]]
    patients: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}


def build_population(
    region: Region,
    inputs: PolicyInputs,
    *,
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
    as_of: date = DEMO_DATE,
    patients: int | None = None,
) -> Population:
    """Organisations, unit trees, health workers, roles, patients and care relations for `users` workers.

    Each part draws from its own generator seeded from `seed`, so scaling the workforce leaves the organisations
    as they are.
    """
    stamp = start_of_day(as_of)
    organisations = build_organisations(region, random.Random(f"{seed}:organisations"))
    units = build_units(organisations)
    workforce = build_workforce(
        organisations, units, inputs.professions, users, random.Random(f"{seed}:workforce"), as_of
    )
    records = build_patients(
        users // 2 if patients is None else patients,
        organisations,
        units,
        workforce.current_jobs,
        random.Random(f"{seed}:patients"),
        as_of,
    )
    tables: dict[str, list[Row]] = {
        "services": [{"id": s.id, "name": s.name, "group": s.group, "shielded": s.shielded} for s in inputs.services],
        "organisations": [
            {
                "id": o.id,
                "org_number": o.org_number,
                "name": o.name,
                "kind": o.kind,
                "go_live": o.go_live,
                "agreement_signed": o.agreement_signed,
                "updated_at": stamp,
            }
            for o in organisations
        ],
        "units": [
            {
                "id": u.id,
                "organisation_id": u.organisation_id,
                "parent_id": u.parent_id,
                "name": u.name,
                "kind": u.kind,
                "updated_at": stamp,
            }
            for u in units
        ],
        "unit_services": [{"unit_id": u.id, "service_id": s} for u in units for s in u.services],
        "users": [{**row, "version": 1, "created_at": stamp, "updated_at": stamp} for row in workforce.users],
        "employments": workforce.employments,
        "roles": role_rows(inputs, stamp),
        "role_assignments": assignment_rows(inputs, units, workforce.employments, stamp),
        "care_relations": [{**row, "updated_at": stamp} for row in records.care_relations],
        "patient_blocks": [{**row, "updated_at": stamp} for row in records.patient_blocks],
    }
    return Population({name: tables[name] for name in TABLES}, tuple(records.patients))

"""Synthetic health workers and their employments, spread over the units by headcount.

About 5 % hold a second job in another organisation (a GP's shifts at the out-of-hours clinic, a physio's
municipal hours, a hospital nurse's nursing-home shifts), about 2 % are joiners whose job starts later,
about 2 % moved from another unit, and about 1.5 % have left (all jobs ended, status inactive).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from accessctl.demo.names import FAMILY_NAMES, GIVEN_NAMES, user_name_part
from accessctl.demo.second_jobs import second_jobs
from accessctl.demo.specs import OrganisationSpec, UnitSpec, start_of_day
from accessctl.demo.staffing import LEADER_CODE, LEADER_FROM_HEADCOUNT, NON_CLINICAL_PROFESSIONS, staff_mix

Row = dict[str, object]
JOINER_SHARE = 0.02
LEAVER_SHARE = 0.015
MOVER_SHARE = 0.02
FIXED_TERM_SHARE = 0.04
MOVER_FROM = JOINER_SHARE + LEAVER_SHARE + FIXED_TERM_SHARE
SECOND_JOB_SHARE = 0.05


@dataclass
class Workforce:
    """The `users` and `employments` rows, and each user's current jobs for the steps that follow."""

    users: list[Row] = field(default_factory=list)
    employments: list[Row] = field(default_factory=list)
    # user id -> (unit id, position code) of each job that is current on the demo date
    current_jobs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def apportion(units: list[UnitSpec], total: int) -> list[int]:
    """Split `total` people over units in proportion to headcount (largest remainder), deterministically."""
    weight = sum(u.headcount for u in units)
    exact = [u.headcount * total / weight for u in units]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(units)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def build_workforce(
    organisations: list[OrganisationSpec],
    units: list[UnitSpec],
    professions: dict[str, str],
    size: int,
    rng: random.Random,
    as_of: date,
) -> Workforce:
    kinds = {o.id: o.kind for o in organisations}
    staffed = [u for u in units if u.headcount > 0]
    slots: list[tuple[UnitSpec, str]] = []
    for unit, count in zip(staffed, apportion(staffed, size), strict=True):
        mix = staff_mix(unit.services, unit.organisation_id)
        codes, weights = [c for c, _ in mix], [w for _, w in mix]
        has_leader = count >= LEADER_FROM_HEADCOUNT and kinds[unit.organisation_id] in {"health_trust", "municipality"}
        for i in range(count):
            if i == 0:
                code = codes[0]
            elif i == 1 and has_leader:
                code = LEADER_CODE.get(unit.kind, "7050")
            else:
                code = rng.choices(codes, weights)[0]
            slots.append((unit, code))
    rng.shuffle(slots)

    workforce = Workforce()
    hr_numbers = rng.sample(range(100_000, 1_000_000), size)
    hpr_numbers = iter(rng.sample(range(1_000_000, 1_000_000_000), size))
    taken: dict[str, int] = {}
    units_by_org: dict[str, list[UnitSpec]] = {}
    for u in staffed:
        units_by_org.setdefault(u.organisation_id, []).append(u)

    for index, (unit, code) in enumerate(slots):
        user_id = f"u{index + 1:06d}"
        given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
        if rng.random() < 0.08:
            family = f"{rng.choice(FAMILY_NAMES)} {family}"
        base = f"{user_name_part(given)}.{user_name_part(family)}"
        taken[base] = taken.get(base, 0) + 1
        user_name = base if taken[base] == 1 else f"{base}{taken[base]}"
        clinical = professions[code] not in NON_CLINICAL_PROFESSIONS
        fate = rng.random()
        start = as_of - timedelta(days=rng.randint(60, 25 * 365))
        end: date | None = None
        if fate < JOINER_SHARE:
            start = as_of + timedelta(days=rng.randint(1, 60))
        elif fate < JOINER_SHARE + LEAVER_SHARE:
            end = as_of - timedelta(days=rng.randint(1, 365))
            start = min(start, end - timedelta(days=rng.randint(30, 3000)))
        elif fate < JOINER_SHARE + LEAVER_SHARE + FIXED_TERM_SHARE:
            start = as_of - timedelta(days=rng.randint(1, 300))
            end = as_of + timedelta(days=rng.randint(30, 365))
        workforce.users.append(
            {
                "id": user_id,
                "hr_id": f"HR{hr_numbers[index]}",
                "user_name": user_name,
                "given_name": given,
                "family_name": family,
                "email": f"{user_name}@{unit.organisation_id}.example",
                "hpr_number": str(next(hpr_numbers)) if clinical else None,
                "status": "inactive" if end is not None and end <= as_of else "active",
            }
        )
        _employ(workforce, user_id, unit.id, code, start, end, as_of)
        if MOVER_FROM <= fate < MOVER_FROM + MOVER_SHARE:
            _move_in(workforce, rng, user_id, unit, code, start, units_by_org[unit.organisation_id], as_of)

    for user_id, unit_id, code, start in second_jobs(workforce.current_jobs, units, organisations,
                                                   SECOND_JOB_SHARE, rng, as_of):  # fmt: skip
        _employ(workforce, user_id, unit_id, code, start, None, as_of)
    workforce.employments.sort(key=lambda row: (str(row["user_id"]), str(row["valid_from"])))
    return workforce


def _move_in(
    workforce: Workforce,
    rng: random.Random,
    user_id: str,
    unit: UnitSpec,
    code: str,
    start: date,
    colleagues: list[UnitSpec],
    as_of: date,
) -> None:
    """A mover: an ended job in another unit of the same organisation with the same position before this one."""
    earlier = [u for u in colleagues if u.id != unit.id and code in dict(staff_mix(u.services, u.organisation_id))]
    if earlier:
        previous = rng.choice(earlier)
        _employ(workforce, user_id, previous.id, code, start - timedelta(days=rng.randint(200, 3000)), start, as_of)


def _employ(
    workforce: Workforce, user_id: str, unit_id: str, code: str, start: date, end: date | None, as_of: date
) -> None:
    workforce.employments.append(
        {
            "user_id": user_id,
            "unit_id": unit_id,
            "position_code": code,
            "valid_from": start_of_day(start),
            "valid_to": None if end is None else start_of_day(end),
        }
    )
    if start <= as_of and (end is None or end > as_of):
        workforce.current_jobs.setdefault(user_id, []).append((unit_id, code))

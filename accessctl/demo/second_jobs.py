"""Second jobs in another organisation: the combinations that are common in the region.

A GP takes shifts at the municipality's out-of-hours clinic (legevakt), a private physiotherapist has hours in
the municipal physiotherapy service, a hospital nurse takes nursing-home shifts, a care worker also works in the
home care of a neighbouring municipality.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from accessctl.demo.specs import OrganisationSpec, UnitSpec

GP_SHIFT_SHARE = 0.4
PHYSIO_MUNICIPAL_SHARE = 0.3
SecondJob = tuple[str, str, str, date]  # user id, unit id, position code, start


def second_jobs(
    current_jobs: dict[str, list[tuple[str, str]]],
    units: list[UnitSpec],
    organisations: list[OrganisationSpec],
    share: float,
    rng: random.Random,
    as_of: date,
) -> Iterator[SecondJob]:
    """About `share` of the users with one current job get a second one in another organisation."""
    organisation_of = {u.id: u.organisation_id for u in units}
    by_id = {o.id: o for o in organisations}
    legevakt = _by_organisation(units, "legevakt")
    physio = _by_organisation(units, "fysioterapi")
    home_care = [u for u in units if "hjemmehjelpstjenesten" in u.services]
    nursing_homes = [u for u in units if "sykehjem" in u.services]
    target = round(share * len(current_jobs))
    single = [(user, jobs[0]) for user, jobs in sorted(current_jobs.items()) if len(jobs) == 1]

    def start() -> date:
        return as_of - timedelta(days=rng.randint(30, 2000))

    chosen: set[str] = set()
    for user, (unit, code) in single:
        organisation = by_id[organisation_of[unit]]
        municipality = organisation.municipality or ""
        if code == "7002" and organisation.kind == "gp_office" and municipality in legevakt:
            share_of_kind, second = GP_SHIFT_SHARE, (legevakt[municipality], "7006")
        elif code == "7030" and organisation.kind == "physiotherapist" and municipality in physio:
            share_of_kind, second = PHYSIO_MUNICIPAL_SHARE, (physio[municipality], "7030")
        else:
            continue
        if rng.random() < share_of_kind:
            chosen.add(user)
            yield user, second[0], second[1], start()
    carers = [
        (user, unit, code)
        for user, (unit, code) in single
        if user not in chosen
        and (
            (code in {"7010", "7011"} and by_id[organisation_of[unit]].kind == "health_trust")
            or (code == "7020" and by_id[organisation_of[unit]].kind == "municipality")
        )
    ]
    remaining = target - len(chosen)
    if remaining <= 0 or not carers:
        return
    odds = min(1.0, remaining / len(carers))
    for user, unit, code in carers:
        if rng.random() >= odds:
            continue
        if code == "7020":
            others = [u for u in home_care if u.organisation_id != organisation_of[unit]]
            if others:
                yield user, rng.choice(others).id, "7020", start()
        elif nursing_homes:
            yield user, rng.choice(nursing_homes).id, "7010", start()


def _by_organisation(units: list[UnitSpec], service: str) -> dict[str, str]:
    """The first unit of each organisation that provides `service`."""
    found: dict[str, str] = {}
    for u in units:
        if service in u.services:
            found.setdefault(u.organisation_id, u.id)
    return found

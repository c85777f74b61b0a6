"""Synthetic patients (national ids with month + 80), their care relations and a few patient blocks.

Each patient lives in a municipality (weighted by population): most are on the list of a GP working there,
older ones may have a home-care decision from its home-care service, and some are admitted to a ward, have an
appointment with a clinic or a private practitioner, or are referred to an outpatient clinic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from accessctl.demo.organisations import MUNICIPALITY_SIZE
from accessctl.demo.specs import OrganisationSpec, UnitSpec, start_of_day
from accessctl.identifiers import synthetic_national_id

Row = dict[str, object]
GP_LIST_SHARE = 0.95
ADMISSION_SHARE = 0.06
HOME_CARE_SHARE_OVER_67 = 0.15
APPOINTMENT_SHARE = 0.12
REFERRAL_SHARE = 0.04
WARD_SERVICES = frozenset(
    {
        "sengepost-medisin",
        "sengepost-kirurgi",
        "intensiv",
        "fodeavdeling",
        "psykisk-helsevern-spesialist",
        "rusbehandling-spesialist",
        "kommunal-akutt-dognenhet",
    }
)
CLINIC_SERVICES = frozenset({"poliklinikk", "barne-og-ungdomspsykiatri"})
PRACTITIONER_CODES = frozenset({"7004", "7032", "7030", "7031"})
# Blocks per patient, with the minimum so that even a small demo has one of each.
BLOCKS = (
    ("user", 0.003, "Pasienten har sperret journalen mot navngitt helsepersonell"),
    ("unit", 0.002, "Pasienten har sperret journalen mot enheten"),
    ("protected_address", 0.001, "Fortrolig adresse"),
    ("strictly_protected_address", 0.0003, "Strengt fortrolig adresse"),
)


@dataclass
class PatientRecords:
    patients: list[str] = field(default_factory=list)
    care_relations: list[Row] = field(default_factory=list)
    patient_blocks: list[Row] = field(default_factory=list)

    def relate(
        self,
        patient: str,
        kind: str,
        start: date,
        end: date | None,
        *,
        user: str | None = None,
        unit: str | None = None,
    ) -> None:
        self.care_relations.append(
            {
                "id": f"cr-{len(self.care_relations) + 1:07d}",
                "patient": patient,
                "user_id": user,
                "unit_id": unit,
                "kind": kind,
                "valid_from": start_of_day(start),
                "valid_to": None if end is None else start_of_day(end),
            }
        )


@dataclass
class CareProviders:
    """Who a patient can be related to: GPs per municipality, practitioners, and units by what they provide."""

    gps: dict[str, list[str]] = field(default_factory=dict)
    practitioners: list[str] = field(default_factory=list)
    home_care: dict[str, list[str]] = field(default_factory=dict)
    wards: list[str] = field(default_factory=list)
    clinics: list[str] = field(default_factory=list)

    @property
    def all_gps(self) -> list[str]:
        return sorted({user for users in self.gps.values() for user in users})


def care_providers(
    organisations: list[OrganisationSpec], units: list[UnitSpec], current_jobs: dict[str, list[tuple[str, str]]]
) -> CareProviders:
    by_id = {o.id: o for o in organisations}
    unit_org = {u.id: by_id[u.organisation_id] for u in units}
    providers = CareProviders()
    for user, jobs in sorted(current_jobs.items()):
        for unit, code in jobs:
            org = unit_org[unit]
            if code == "7002":
                providers.gps.setdefault(org.municipality or "", []).append(user)
            elif code in PRACTITIONER_CODES and org.kind in {"specialist", "physiotherapist", "other"}:
                providers.practitioners.append(user)
    for u in units:
        if "hjemmehjelpstjenesten" in u.services:
            providers.home_care.setdefault(u.organisation_id, []).append(u.id)
    providers.wards = [u.id for u in units if WARD_SERVICES & set(u.services)]
    providers.clinics = [u.id for u in units if CLINIC_SERVICES & set(u.services)]
    return providers


def build_patients(
    count: int,
    organisations: list[OrganisationSpec],
    units: list[UnitSpec],
    current_jobs: dict[str, list[tuple[str, str]]],
    rng: random.Random,
    as_of: date,
) -> PatientRecords:
    providers = care_providers(organisations, units, current_jobs)
    all_gps = providers.all_gps
    municipalities = [o for o in organisations if o.kind == "municipality"]
    weights = [MUNICIPALITY_SIZE.get(o.name.removesuffix(" kommune"), 2_000) for o in municipalities]
    records = PatientRecords()
    seen: set[str] = set()
    for _ in range(count):
        age = rng.randint(0, 99)
        born = as_of - timedelta(days=age * 365 + rng.randint(0, 364))
        patient = synthetic_national_id(born, rng)
        while patient in seen:
            patient = synthetic_national_id(born, rng)
        seen.add(patient)
        records.patients.append(patient)
        home = rng.choices(municipalities, weights)[0].id
        since = max(born, as_of - timedelta(days=rng.randint(30, 20 * 365)))
        local_gps = providers.gps.get(home) or all_gps
        if local_gps and rng.random() < GP_LIST_SHARE:
            records.relate(patient, "gp_list", since, None, user=rng.choice(local_gps))
        if age >= 67 and home in providers.home_care and rng.random() < HOME_CARE_SHARE_OVER_67:
            records.relate(patient, "home_care_decision", since, None, unit=rng.choice(providers.home_care[home]))
        _hospital_and_practice(records, providers, patient, rng, as_of)
    records.patient_blocks = _blocks(records.patients, sorted(current_jobs), [u.id for u in units], rng, as_of)
    return records


def _hospital_and_practice(
    records: PatientRecords, providers: CareProviders, patient: str, rng: random.Random, as_of: date
) -> None:
    """Admissions to wards, appointments with clinics or practitioners, referrals to outpatient clinics."""
    if providers.wards and rng.random() < ADMISSION_SHARE:
        if rng.random() < 0.5:
            admitted, discharged = as_of - timedelta(days=rng.randint(0, 14)), None
        else:
            admitted = as_of - timedelta(days=rng.randint(15, 700))
            discharged = admitted + timedelta(days=rng.randint(1, 14))
        records.relate(patient, "admission", admitted, discharged, unit=rng.choice(providers.wards))
    if rng.random() < APPOINTMENT_SHARE:
        day = as_of + timedelta(days=rng.randint(-30, 60))
        if providers.practitioners and rng.random() < 0.4:
            records.relate(
                patient, "appointment", day, day + timedelta(days=1), user=rng.choice(providers.practitioners)
            )
        elif providers.clinics:
            records.relate(patient, "appointment", day, day + timedelta(days=1), unit=rng.choice(providers.clinics))
    if providers.clinics and rng.random() < REFERRAL_SHARE:
        referred = as_of - timedelta(days=rng.randint(0, 120))
        records.relate(
            patient, "referral", referred, referred + timedelta(days=180), unit=rng.choice(providers.clinics)
        )


def _blocks(patients: list[str], users: list[str], units: list[str], rng: random.Random, as_of: date) -> list[Row]:
    blocks: list[Row] = []
    if not patients:
        return blocks
    for target, share, reason in BLOCKS:
        for patient in rng.sample(patients, min(len(patients), max(1, round(share * len(patients))))):
            if target == "user" and not users:
                continue
            block: Row = {
                "id": f"pb-{len(blocks) + 1:06d}",
                "patient": patient,
                "user_id": None,
                "unit_id": None,
                "category": None,
                "reason": reason,
                "valid_from": start_of_day(as_of - timedelta(days=rng.randint(1, 3000))),
                "valid_to": None,
            }
            if target == "user":
                block["user_id"] = rng.choice(users)
            elif target == "unit":
                block["unit_id"] = rng.choice(units)
            else:
                block["category"] = target
            blocks.append(block)
    return blocks

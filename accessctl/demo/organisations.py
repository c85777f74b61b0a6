"""The demo's organisations: the region's trusts and municipalities, and synthetic GP offices and practices.

Go-live dates come from the region's waves. All waves are in the past by now, so for realism a fixed handful
of municipalities is held back (the region's own figures show live and signed drifting apart: 19 live but only
15 with a signed service agreement in Nov 2023):

- Meråker, Frosta and Snåsa (wave KI5) postponed to a planned wave in 2027; Meråker has signed, the other
  two have not.
- Leka and Røyrvik went live with wave KI4 but their service agreement is still unsigned.

Private practices lie in a municipality (weighted by its approximate population) and share its go-live and
agreement. Every organisation number is synthetic (3-series) with a valid check digit.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date

from accessctl.demo.region import Region
from accessctl.demo.specs import OrganisationSpec, slug
from accessctl.identifiers import synthetic_org_number

POSTPONED_GO_LIVE = date(2027, 3, 6)
POSTPONED = {"Meråker": True, "Frosta": False, "Snåsa": False}  # name -> agreement signed
LIVE_UNSIGNED = frozenset({"Leka", "Røyrvik"})

# Approximate populations, only to weight staff and practices towards the bigger municipalities.
MUNICIPALITY_SIZE = {
    "Trondheim": 214_000, "Ålesund": 58_000, "Molde": 32_500, "Stjørdal": 25_000, "Kristiansund": 24_500,
    "Steinkjer": 24_300, "Levanger": 20_600, "Orkland": 18_800, "Melhus": 17_000, "Verdal": 15_200,
    "Namsos": 15_200, "Malvik": 14_500, "Hustadvika": 13_400, "Volda": 11_000, "Ørsta": 10_900,
    "Indre Fosen": 10_000, "Nærøysund": 9_800, "Sula": 9_800, "Herøy": 8_900, "Ulstein": 8_700,
    "Giske": 8_600, "Skaun": 8_500, "Ørland": 8_300, "Sykkylven": 7_600, "Rauma": 7_400, "Oppdal": 7_000,
    "Sunndal": 7_000, "Inderøy": 6_800, "Vestnes": 6_600, "Midtre Gauldal": 6_300, "Heim": 5_900,
    "Averøy": 5_800, "Surnadal": 5_800, "Røros": 5_600, "Frøya": 5_300, "Hitra": 5_200, "Hareid": 5_200,
    "Stranda": 4_500, "Åfjord": 4_300, "Selbu": 4_100, "Overhalla": 3_900, "Aukra": 3_600, "Aure": 3_500,
    "Vanylven": 3_100, "Tingvoll": 3_000, "Gjemnes": 2_600, "Frosta": 2_600, "Fjord": 2_500,
    "Rennebu": 2_500, "Meråker": 2_400, "Sande": 2_400, "Grong": 2_300, "Smøla": 2_100, "Rindal": 2_000,
    "Snåsa": 2_000, "Holtålen": 2_000, "Os": 1_900, "Bindal": 1_400, "Lierne": 1_300, "Høylandet": 1_200,
    "Flatanger": 1_100, "Osen": 950, "Namsskogan": 850, "Tydal": 780, "Leka": 560, "Røyrvik": 440,
}  # fmt: skip

PLACES = (
    "Sentrum", "Torget", "Elvebakken", "Sjøsiden", "Parken", "Stasjonen", "Brygga", "Bakken", "Moen",
    "Haugen", "Lia", "Nordre", "Søndre", "Øvre", "Nedre", "Fjordgata", "Kirkebakken", "Vika",
)  # fmt: skip

# (id part, name part, kind, service) of the practices in the "physiotherapists and others" group.
SPECIALTIES = (
    ("oyelege", "øyelegepraksis"), ("hudlege", "hudlegepraksis"), ("psykiater", "psykiaterpraksis"),
    ("psykolog", "psykologpraksis"), ("gynekolog", "gynekologpraksis"), ("onh", "øre-nese-hals-praksis"),
    ("indremedisin", "indremedisinsk praksis"), ("revmatolog", "revmatologpraksis"),
)  # fmt: skip
OTHER_PRACTICES = (("ergo", "ergoterapi", "ergoterapi"), ("horsel", "hørselssentral", "horsel-og-syn"))
OTHER_SHARE = 0.12  # of the physiotherapists-and-others group


def build_organisations(region: Region, rng: random.Random) -> list[OrganisationSpec]:
    """Every organisation of the demo, trusts first, in a stable order."""
    numbers = _org_numbers(rng)
    organisations = [
        OrganisationSpec(t.key, next(numbers), t.name, "health_trust", region.wave_of(t.key).date, True, None)
        for t in region.health_trusts
    ]
    municipalities = {name: _municipality(region, name, next(numbers)) for name in region.municipalities}
    organisations.extend(municipalities.values())
    names = list(region.municipalities)
    weights = [MUNICIPALITY_SIZE.get(name, 2_000) for name in names]
    counts: dict[tuple[str, str], int] = {}

    def practice(kind: str, id_part: str, name: str, municipality: str) -> OrganisationSpec:
        home = municipalities[municipality]
        key = (municipality, id_part)
        counts[key] = counts.get(key, 0) + 1
        return OrganisationSpec(
            id=f"{home.id}-{id_part}-{counts[key]:02d}",
            org_number=next(numbers),
            name=name,
            kind=kind,
            go_live=home.go_live,
            agreement_signed=home.agreement_signed,
            municipality=home.id,
        )

    for _ in range(region.scale.gp_offices):
        m = rng.choices(names, weights)[0]
        label = f"{m} legesenter" if (m, "legesenter") not in counts else f"{m} legesenter {rng.choice(PLACES)}"
        organisations.append(practice("gp_office", "legesenter", label, m))
    for _ in range(region.scale.contract_specialists):
        m = rng.choices(names, weights)[0]
        id_part, label = rng.choice(SPECIALTIES)
        organisations.append(practice("specialist", id_part, f"{m} {label}", m))
    for _ in range(region.scale.physiotherapists_and_others):
        m = rng.choices(names, weights)[0]
        if rng.random() < OTHER_SHARE:
            id_part, label, _service = rng.choice(OTHER_PRACTICES)
            organisations.append(practice("other", id_part, f"{m} {label}", m))
        else:
            organisations.append(practice("physiotherapist", "fysio", f"{m} fysioterapi {rng.choice(PLACES)}", m))
    return organisations


def _municipality(region: Region, name: str, org_number: str) -> OrganisationSpec:
    if name in POSTPONED:
        go_live, signed = POSTPONED_GO_LIVE, POSTPONED[name]
    else:
        go_live, signed = region.wave_of(name).date, name not in LIVE_UNSIGNED
    return OrganisationSpec(slug(name), org_number, f"{name} kommune", "municipality", go_live, signed, slug(name))


def _org_numbers(rng: random.Random) -> Iterator[str]:
    seen: set[str] = set()
    while True:
        number = synthetic_org_number(rng)
        if number not in seen:
            seen.add(number)
            yield number


def service_of_practice(organisation: OrganisationSpec) -> str:
    """The catalogue service a private practice provides."""
    if organisation.kind == "gp_office":
        return "fastlege"
    if organisation.kind == "specialist":
        return "avtalespesialist"
    if organisation.kind == "physiotherapist":
        return "privat-fysioterapi"
    part = organisation.id.rsplit("-", 2)[-2]
    return next(service for id_part, _, service in OTHER_PRACTICES if id_part == part)

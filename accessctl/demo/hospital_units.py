"""A health trust's unit tree: clinics with one ward per hospital site, providing the hospital services."""

from __future__ import annotations

from accessctl.demo.specs import OrganisationSpec, UnitSpec, slug

# Hospital sites per trust with their size relative to the trust's main site.
SITES = {
    "st-olavs": (("Trondheim", 1.0), ("Orkdal", 0.3), ("Røros", 0.15)),
    "helse-more-og-romsdal": (("Ålesund", 1.0), ("Molde", 0.6), ("Kristiansund", 0.4), ("Volda", 0.3)),
    "helse-nord-trondelag": (("Levanger", 1.0), ("Namsos", 0.7)),
}
TRUST_SCALE = {"st-olavs": 10.0, "helse-more-og-romsdal": 3.0, "helse-nord-trondelag": 2.2}
PHARMACY_SITES: tuple[tuple[str, float], ...] = (
    ("Trondheim", 80), ("Ålesund", 35), ("Molde", 25), ("Kristiansund", 20), ("Levanger", 25), ("Namsos", 15),
    ("Volda", 12),
)  # fmt: skip
SMALL_SITE = 0.3  # sites below this have no maternity, surgery or child units

# clinic id part, clinic name, wards: (ward id part, ward name, services, headcount at a main site)
Ward = tuple[str, str, tuple[str, ...], float]
CLINICS: tuple[tuple[str, str, tuple[Ward, ...]], ...] = (
    ("akutt", "Klinikk for akutt- og mottaksmedisin", (
        ("akuttmottak", "Akuttmottak", ("akuttmottak",), 60),
        ("intensiv", "Intensiv", ("intensiv",), 50),
    )),
    ("medisin", "Medisinsk klinikk", (
        ("hjerte", "Sengepost hjerte", ("sengepost-medisin",), 45),
        ("lunge", "Sengepost lunge", ("sengepost-medisin",), 40),
        ("geriatri", "Sengepost geriatri", ("sengepost-medisin",), 35),
        ("med-poli", "Medisinsk poliklinikk", ("poliklinikk",), 40),
    )),
    ("kirurgi", "Kirurgisk klinikk", (
        ("ortopedi", "Sengepost ortopedi", ("sengepost-kirurgi",), 45),
        ("gastrokir", "Sengepost gastrokirurgi", ("sengepost-kirurgi",), 40),
        ("kir-poli", "Kirurgisk poliklinikk", ("poliklinikk",), 40),
    )),
    ("kvinne-barn", "Kvinne- og barneklinikken", (
        ("fodeavdeling", "Fødeavdeling", ("fodeavdeling",), 50),
        ("barn", "Barnesengepost", ("sengepost-medisin",), 35),
        ("bup", "Barne- og ungdomspsykiatrisk poliklinikk", ("barne-og-ungdomspsykiatri",), 35),
    )),
    ("psykisk", "Klinikk for psykisk helsevern", (
        ("dps-dogn", "DPS døgnavdeling", ("psykisk-helsevern-spesialist",), 50),
        ("dps-poli", "DPS poliklinikk", ("psykisk-helsevern-spesialist", "poliklinikk"), 40),
        ("rus", "Avdeling for rusbehandling", ("rusbehandling-spesialist",), 30),
    )),
    ("prehospital", "Prehospitalt senter", (
        ("ambulanse", "Ambulansestasjon", ("ambulanse",), 40),
    )),
)  # fmt: skip
MAIN_SITE_ONLY = frozenset({"intensiv", "fodeavdeling", "bup", "gastrokir"})


def hospital_units(trust: OrganisationSpec) -> list[UnitSpec]:
    """The units of one health trust, root first."""
    t = trust.id
    units = [UnitSpec(t, t, None, trust.name, "organisation")]
    if t == "sykehusapotekene":
        for site, staff in PHARMACY_SITES:
            units.append(UnitSpec(f"{t}.{slug(site)}", t, t, f"Sykehusapoteket {site}", "department",
                                  ("sykehusapotek",), staff))  # fmt: skip
        return units
    if t == "hemit":
        units.append(UnitSpec(f"{t}.pasientportal", t, t, "Forvaltning pasientportal", "department",
                              ("pasientportal",), 60))  # fmt: skip
        units.append(UnitSpec(f"{t}.analyse", t, t, "Analyse og rapportering", "department",
                              ("styring-og-rapportering",), 80))  # fmt: skip
        return units
    scale = TRUST_SCALE.get(t, 1.0)
    for clinic, clinic_name, wards in CLINICS:
        units.append(UnitSpec(f"{t}.{clinic}", t, t, clinic_name, "clinic"))
        for site, size in SITES.get(t, (("Sentrum", 1.0),)):
            for ward, ward_name, services, staff in wards:
                if size < SMALL_SITE and clinic in {"kirurgi", "kvinne-barn"}:
                    continue
                if size < 1.0 and ward in MAIN_SITE_ONLY:
                    continue
                units.append(
                    UnitSpec(
                        f"{t}.{clinic}.{ward}-{slug(site)}",
                        t,
                        f"{t}.{clinic}",
                        f"{ward_name} {site}",
                        "ward",
                        services,
                        staff * size * scale,
                    )
                )
    return units

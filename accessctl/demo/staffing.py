"""Which positions (policies/positions.yaml codes) staff a unit, by the first service the unit provides.

The first code of each mix is the unit's core position: the first person hired into a unit holds it, so a GP
office always has a GP and a ward a nurse before anyone else.
"""

from __future__ import annotations

StaffMix = tuple[tuple[str, float], ...]

STAFF_MIX: dict[str, StaffMix] = {
    # municipal services
    "legevakt": (("7006", 4), ("7010", 4), ("7040", 1)),
    "helsestasjon": (("7012", 6), ("7013", 1), ("7001", 1), ("7040", 1)),
    "smittevern": (("7012", 2), ("7001", 1), ("7010", 2)),
    "fysioterapi": (("7030", 3), ("7031", 2)),
    "ambulant-tjeneste": (("7014", 3), ("7033", 3), ("7034", 1), ("7035", 1)),
    "kommunepsykolog": (("7032", 3), ("7014", 1), ("7035", 1)),
    "fastlege": (("7002", 5), ("7003", 1), ("7040", 3), ("7010", 1)),
    "helsestasjon-for-ungdom": (("7012", 3), ("7001", 1)),
    "kommunal-akutt-dognenhet": (("7010", 4), ("7011", 2), ("7001", 1), ("7020", 2)),
    "krisesenter": (("7035", 2), ("7033", 2)),
    "fengselstjeneste": (("7010", 2), ("7001", 1)),
    "kommunal-phr-dogn": (("7014", 3), ("7033", 3), ("7020", 1)),
    "hjemmehjelpstjenesten": (("7010", 4), ("7020", 5), ("7021", 2), ("7011", 1)),
    "sykehjem": (("7020", 5), ("7010", 3), ("7021", 2), ("7001", 0.3)),
    "saksbehandling-helse": (("7042", 4), ("7010", 1), ("7041", 1)),
    "hukommelsesteam": (("7010", 2), ("7031", 1), ("7015", 1)),
    "bo-og-aktivitetstilbud": (("7034", 3), ("7033", 2), ("7020", 2)),
    "hjelpemiddeltekniker": (("7080", 2), ("7081", 1), ("7031", 1)),
    "rehabilitering-og-habilitering-kommune": (("7030", 2), ("7031", 2), ("7010", 2), ("7020", 2)),
    "trygghetspatruljen": (("7020", 2), ("7010", 1)),
    "familietiltak": (("7036", 3), ("7035", 2), ("7032", 1), ("7012", 1)),
    "helse-og-avlastningstjenesten-for-barn-og-unge": (("7034", 3), ("7020", 2)),
    # hospital services
    "akuttmottak": (("7011", 4), ("7010", 4), ("7004", 2), ("7005", 2), ("7003", 1), ("7040", 1)),
    "intensiv": (("7011", 6), ("7004", 1), ("7005", 1)),
    "sengepost-medisin": (("7010", 8), ("7020", 3), ("7005", 2), ("7004", 1), ("7011", 1), ("7040", 1)),
    "sengepost-kirurgi": (("7010", 8), ("7020", 3), ("7005", 2), ("7004", 1), ("7011", 1), ("7040", 1)),
    "poliklinikk": (("7010", 3), ("7004", 3), ("7005", 1), ("7040", 2)),
    "fodeavdeling": (("7013", 5), ("7010", 2), ("7004", 1)),
    "psykisk-helsevern-spesialist": (("7014", 4), ("7033", 3), ("7032", 2), ("7004", 1)),
    "rusbehandling-spesialist": (("7033", 3), ("7014", 2), ("7032", 1), ("7004", 1)),
    "barne-og-ungdomspsykiatri": (("7032", 3), ("7036", 2), ("7014", 1), ("7004", 1)),
    "ambulanse": (("7071", 2), ("7072", 2)),
    "sykehusapotek": (("7070", 1),),
    "pasientportal": (("7062", 2), ("7041", 1)),
    # private practices
    "avtalespesialist": (("7004", 3), ("7040", 1)),
    "privat-fysioterapi": (("7030", 1),),
    "ergoterapi": (("7031", 1),),
    "horsel-og-syn": (("7081", 2), ("7080", 1)),
    # administration
    "personvern-og-informasjonssikkerhet": (("7060", 1),),
    "hr-og-personal": (("7061", 3), ("7041", 1)),
    "styring-og-rapportering": (("7062", 3), ("7041", 1)),
}
# A psychologist's or psychiatrist's practice is staffed by its specialty, not by the avtalespesialist mix.
PSYCHOLOGIST_PRACTICE_MIX: StaffMix = (("7032", 3), ("7040", 1))
LEADER_CODE = {"ward": "7051", "department": "7050"}
LEADER_FROM_HEADCOUNT = 10
# Professions that carry an HPR number (authorised health personnel); the rest have none.
NON_CLINICAL_PROFESSIONS = frozenset({"clerical", "manager", "privacy", "hr", "analyst"})


def staff_mix(services: tuple[str, ...], organisation_id: str) -> StaffMix:
    """The position mix for a unit providing `services` (its first service decides)."""
    if services == ("avtalespesialist",) and "-psykolog-" in organisation_id:
        return PSYCHOLOGIST_PRACTICE_MIX
    return STAFF_MIX[services[0]]

"""Every organisation's unit tree, each with an administrative unit for privacy, HR and reporting."""

from __future__ import annotations

from accessctl.demo.hospital_units import hospital_units
from accessctl.demo.municipal_units import municipal_units
from accessctl.demo.organisations import MUNICIPALITY_SIZE, service_of_practice
from accessctl.demo.specs import OrganisationSpec, UnitSpec

ADMIN_SERVICES = ("personvern-og-informasjonssikkerhet", "hr-og-personal", "styring-og-rapportering")
# Staff of a practice's clinical unit at full scale.
PRACTICE_STAFF = {"gp_office": 4.5, "specialist": 1.8, "physiotherapist": 1.3, "other": 1.5}
TRUST_ADMIN_STAFF = {"st-olavs": 40.0, "helse-more-og-romsdal": 25.0, "helse-nord-trondelag": 15.0}


def build_units(organisations: list[OrganisationSpec]) -> list[UnitSpec]:
    """The units of all organisations, each tree root first and parents before children."""
    units: list[UnitSpec] = []
    for organisation in organisations:
        if organisation.kind == "health_trust":
            tree = hospital_units(organisation)
            tree.extend(_admin_units(organisation, TRUST_ADMIN_STAFF.get(organisation.id, 5.0)))
        elif organisation.kind == "municipality":
            size = MUNICIPALITY_SIZE.get(organisation.name.removesuffix(" kommune"), 2_000)
            tree = municipal_units(organisation, size)
            tree.extend(_admin_units(organisation, 0.5 + size / 1000 * 0.05))
        else:
            tree = _practice_units(organisation)
        units.extend(tree)
    return units


def _practice_units(practice: OrganisationSpec) -> list[UnitSpec]:
    """A practice: root, one clinical unit, and one administrative unit holding all three admin services."""
    p = practice.id
    service = service_of_practice(practice)
    return [
        UnitSpec(p, p, None, practice.name, "organisation"),
        UnitSpec(f"{p}.praksis", p, p, practice.name, "department", (service,), PRACTICE_STAFF[practice.kind]),
        UnitSpec(f"{p}.admin", p, p, "Administrasjon", "department", ADMIN_SERVICES),
    ]


def _admin_units(organisation: OrganisationSpec, staff: float) -> list[UnitSpec]:
    """An administration unit with one section per admin service; `staff` is per section."""
    o = organisation.id
    admin = f"{o}.admin"
    return [
        UnitSpec(admin, o, o, "Administrasjon", "department"),
        UnitSpec(
            f"{admin}.personvern",
            o,
            admin,
            "Personvern og informasjonssikkerhet",
            "section",
            ("personvern-og-informasjonssikkerhet",),
            staff * 0.3,
        ),
        UnitSpec(f"{admin}.hr", o, admin, "HR og personal", "section", ("hr-og-personal",), staff),
        UnitSpec(
            f"{admin}.styring",
            o,
            admin,
            "Styring og rapportering",
            "section",
            ("styring-og-rapportering",),
            staff * 0.7,
        ),
    ]

"""A municipality's unit tree: sectors for health, care and children, with leaf units that provide services.

Bigger municipalities get more districts (a health station and a home-care team per district), more nursing
homes, and the units smaller ones buy from a neighbour (crisis centre, acute beds, prison health service).
"""

from __future__ import annotations

from accessctl.demo.specs import OrganisationSpec, UnitSpec, slug

DISTRICTS = {
    "trondheim": ("Midtbyen", "Østbyen", "Lerkendal", "Heimdal", "Byåsen", "Saupstad"),
    "alesund": ("Sentrum", "Spjelkavik", "Hessa", "Ellingsøy"),
}
GENERIC_DISTRICTS = ("Sentrum", "Nord", "Sør", "Øst")
NURSING_HOMES = (
    "Tempe", "Havstein", "Løkkan", "Moholt", "Ila", "Ladesletta", "Kattem", "Valentinlyst",
    "Fjordsyn", "Solbakken", "Furulund", "Lindegården",
)  # fmt: skip
HOSTS_CRISIS_CENTRE = frozenset({"trondheim", "alesund", "molde", "kristiansund", "steinkjer", "namsos"})
HOSTS_PRISON_HEALTH = frozenset({"trondheim", "alesund", "kristiansund", "verdal"})


def municipal_units(municipality: OrganisationSpec, size: int) -> list[UnitSpec]:
    """The units of one municipality, root first; headcounts grow with its population."""
    m = municipality.id
    town = municipality.name.removesuffix(" kommune")
    per_1000 = size / 1000
    districts = _districts(m, size)
    units = [
        UnitSpec(m, m, None, municipality.name, "organisation"),
        UnitSpec(f"{m}.helse", m, m, "Helse", "sector"),
        UnitSpec(f"{m}.omsorg", m, m, "Helse og omsorg", "sector"),
    ]

    def leaf(parent: str, part: str, name: str, services: tuple[str, ...], staff: float) -> None:
        units.append(UnitSpec(f"{m}.{parent}.{part}", m, f"{m}.{parent}", name, "department", services, staff))

    leaf("helse", "legevakt", f"{town} legevakt", ("legevakt",), 2 + per_1000 * 0.25)
    for district in districts:
        leaf(
            "helse",
            f"helsestasjon-{slug(district)}",
            f"Helsestasjon {district}" if len(districts) > 1 else f"{town} helsestasjon",
            ("helsestasjon", "jordmortjeneste-helsestasjon", "skolehelsetjeneste"),
            1 + per_1000 * 0.3 / len(districts),
        )
    leaf("helse", "smittevern", "Smittevern og flyktninghelse", ("smittevern", "flyktningehelsetjenesten"),
         0.5 + per_1000 * 0.05)  # fmt: skip
    leaf("helse", "fysio-ergo", "Fysio- og ergoterapi", ("fysioterapi", "ergoterapi", "friskliv-og-mestring"),
         1 + per_1000 * 0.2)  # fmt: skip
    leaf("helse", "psykisk-helse-rus", "Psykisk helse og rus", ("ambulant-tjeneste", "botiltak"),
         1 + per_1000 * 0.4)  # fmt: skip
    leaf("helse", "kommunepsykolog", "Kommunepsykolog og kriseteam", ("kommunepsykolog", "psykososialt-kriseteam"),
         0.5 + per_1000 * 0.05)  # fmt: skip
    if size < 10_000:
        leaf("helse", "fastlege", f"{town} kommunale legekontor", ("fastlege",), 2 + per_1000 * 0.6)
    if size >= 10_000:
        leaf("helse", "helsestasjon-for-ungdom", "Helsestasjon for ungdom", ("helsestasjon-for-ungdom",),
             per_1000 * 0.03)  # fmt: skip
        leaf("helse", "kad", "Kommunal akutt døgnenhet", ("kommunal-akutt-dognenhet",), 4 + per_1000 * 0.1)
    if m in HOSTS_CRISIS_CENTRE:
        leaf("helse", "krisesenter", f"{town} krisesenter", ("krisesenter",), 3 + per_1000 * 0.02)
    if m in HOSTS_PRISON_HEALTH:
        leaf("helse", "fengselshelse", "Helsetjenesten i fengselet", ("fengselstjeneste",), 2)
    if size >= 30_000:
        leaf("helse", "phr-dogn", "Psykisk helse og rus døgn", ("kommunal-phr-dogn",), per_1000 * 0.1)

    for district in districts:
        leaf(
            "omsorg",
            f"hjemmetjeneste-{slug(district)}",
            f"Hjemmetjenesten {district}" if len(districts) > 1 else "Hjemmetjenesten",
            ("hjemmehjelpstjenesten",),
            3 + per_1000 * 4.0 / len(districts),
        )
    homes = NURSING_HOMES[: max(1, min(len(NURSING_HOMES), round(size / 15_000)))]
    for home in homes:
        name = f"{home} helsehus" if len(homes) > 1 else f"{town} sykehjem"
        leaf("omsorg", f"sykehjem-{slug(home)}", name, ("sykehjem", "sykehjem-korttid"),
             4 + per_1000 * 5.0 / len(homes))  # fmt: skip
    leaf("omsorg", "tildeling", "Tildelingskontoret", ("saksbehandling-helse", "sengeplanlegging", "okonomi"),
         1 + per_1000 * 0.08)  # fmt: skip
    leaf("omsorg", "hukommelse-kreft", "Hukommelsesteam og kreftkoordinator", ("hukommelsesteam", "kreftkoordinator"),
         0.5 + per_1000 * 0.03)  # fmt: skip
    leaf("omsorg", "bo-aktivitet", "Bo- og aktivitetstilbud",
         ("bo-og-aktivitetstilbud", "aktivitetstilbud", "tilrettelagt-fritid"), 1 + per_1000 * 0.5)  # fmt: skip
    leaf("omsorg", "hjelpemidler", "Hjelpemidler, hørsel og syn", ("hjelpemiddeltekniker", "horsel-og-syn"),
         0.5 + per_1000 * 0.04)  # fmt: skip
    leaf("omsorg", "rehabilitering", "Rehabilitering", ("rehabilitering-og-habilitering-kommune",
         "rehabiliteringsavdeling"), 1 + per_1000 * 0.15)  # fmt: skip
    if size >= 20_000:
        leaf("omsorg", "trygghetspatruljen", "Trygghetspatruljen", ("trygghetspatruljen",), per_1000 * 0.05)
    if size >= 8_000:
        units.append(UnitSpec(f"{m}.oppvekst", m, m, "Oppvekst", "sector"))
        leaf("oppvekst", "familietiltak", "Familietiltak og Helse 0-20",
             ("familietiltak", "helse-0-20", "radgiving"), 1 + per_1000 * 0.1)  # fmt: skip
        leaf("oppvekst", "avlastning", "Helse- og avlastningstjenesten for barn og unge",
             ("helse-og-avlastningstjenesten-for-barn-og-unge",), 1 + per_1000 * 0.2)  # fmt: skip
    else:
        leaf("helse", "familietiltak", "Familietiltak", ("familietiltak", "helse-0-20", "radgiving"),
             0.5 + per_1000 * 0.1)  # fmt: skip
    return units


def _districts(m: str, size: int) -> tuple[str, ...]:
    if m in DISTRICTS:
        return DISTRICTS[m]
    count = 3 if size >= 30_000 else 2 if size >= 15_000 else 1
    return GENERIC_DISTRICTS[:count]

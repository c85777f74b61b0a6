"""The demo's organisations and unit trees: kinds, go-live from the waves, services the units provide."""

from __future__ import annotations

from collections import Counter
from datetime import date

from accessctl.demo.organisations import LIVE_UNSIGNED, POSTPONED
from accessctl.demo.policy_inputs import PolicyInputs
from accessctl.demo.population import DEMO_DATE, Population
from accessctl.demo.region import Region
from accessctl.demo.specs import slug
from accessctl.demo.units import ADMIN_SERVICES
from accessctl.identifiers import is_valid_org_number


def test_every_organisation_kind_in_the_regions_numbers(population: Population, region: Region) -> None:
    kinds = Counter(o["kind"] for o in population.tables["organisations"])
    assert kinds["health_trust"] == 5
    assert kinds["municipality"] == 66
    assert kinds["gp_office"] == region.scale.gp_offices == 170
    assert kinds["specialist"] == region.scale.contract_specialists == 140
    assert kinds["physiotherapist"] > 0 and kinds["other"] > 0
    assert kinds["physiotherapist"] + kinds["other"] == region.scale.physiotherapists_and_others


def test_organisation_numbers_are_synthetic_valid_and_unique(population: Population) -> None:
    numbers = [str(o["org_number"]) for o in population.tables["organisations"]]
    assert len(set(numbers)) == len(numbers)
    assert all(is_valid_org_number(n) and n.startswith("3") for n in numbers)


def test_go_live_comes_from_the_waves_except_the_held_back_few(population: Population, region: Region) -> None:
    by_name = {str(o["name"]): o for o in population.tables["organisations"]}
    for name in region.municipalities:
        organisation = by_name[f"{name} kommune"]
        if name in POSTPONED:
            assert isinstance(organisation["go_live"], date) and organisation["go_live"] > DEMO_DATE
        else:
            assert organisation["go_live"] == region.wave_of(name).date
    for trust in region.health_trusts:
        assert by_name[trust.name]["go_live"] == region.wave_of(trust.key).date


def test_a_handful_of_municipalities_are_not_live_or_not_signed(population: Population) -> None:
    municipalities = [o for o in population.tables["organisations"] if o["kind"] == "municipality"]
    not_live = {o["id"] for o in municipalities if isinstance(o["go_live"], date) and o["go_live"] > DEMO_DATE}
    unsigned = {o["id"] for o in municipalities if not o["agreement_signed"]}
    assert 2 <= len(not_live) <= 6
    assert 2 <= len(unsigned) <= 6
    assert {slug(name) for name in LIVE_UNSIGNED} <= unsigned - not_live


def test_practices_share_their_municipalitys_go_live(population: Population) -> None:
    organisations = {o["id"]: o for o in population.tables["organisations"]}
    practices = [o for o in organisations.values() if o["kind"] not in {"health_trust", "municipality"}]
    for practice in practices:
        municipality = organisations[str(practice["id"]).rsplit("-", 2)[0]]
        assert municipality["kind"] == "municipality"
        assert practice["go_live"] == municipality["go_live"]
        assert practice["agreement_signed"] == municipality["agreement_signed"]
    assert any(isinstance(p["go_live"], date) and p["go_live"] > DEMO_DATE for p in practices)


def test_unit_trees_are_rooted_in_their_organisation(population: Population) -> None:
    units = {u["id"]: u for u in population.tables["units"]}
    roots = {u["organisation_id"] for u in units.values() if u["parent_id"] is None}
    assert roots == {o["id"] for o in population.tables["organisations"]}
    for unit in units.values():
        unit_id = str(unit["id"])
        assert len(unit_id) <= 64 and not set(unit_id) & {",", "'", '"', " "}
        if unit["parent_id"] is None:
            assert unit_id == unit["organisation_id"]
        else:
            assert units[unit["parent_id"]]["organisation_id"] == unit["organisation_id"]
            assert unit_id.startswith(f"{unit['parent_id']}.")


def test_units_provide_every_catalogue_service(population: Population, policy_inputs: PolicyInputs) -> None:
    provided = {row["service_id"] for row in population.tables["unit_services"]}
    assert provided == {s.id for s in policy_inputs.services}


def test_every_organisation_has_the_admin_services(population: Population) -> None:
    organisation_of = {u["id"]: u["organisation_id"] for u in population.tables["units"]}
    provided: dict[object, set[object]] = {}
    for row in population.tables["unit_services"]:
        provided.setdefault(organisation_of[row["unit_id"]], set()).add(row["service_id"])
    for organisation in population.tables["organisations"]:
        assert set(ADMIN_SERVICES) <= provided[organisation["id"]], organisation["id"]


def test_named_units_provide_their_service(population: Population) -> None:
    services = {(row["unit_id"], row["service_id"]) for row in population.tables["unit_services"]}
    assert ("trondheim.helse.legevakt", "legevakt") in services
    assert ("trondheim.helse.helsestasjon-midtbyen", "helsestasjon") in services
    assert ("st-olavs.akutt.akuttmottak-trondheim", "akuttmottak") in services
    kinds = {o["id"]: o["kind"] for o in population.tables["organisations"]}
    by_kind = {"gp_office": "fastlege", "specialist": "avtalespesialist", "physiotherapist": "privat-fysioterapi"}
    for organisation_id, kind in kinds.items():
        if kind in by_kind:
            assert (f"{organisation_id}.praksis", by_kind[kind]) in services


def test_bigger_municipalities_get_more_units(population: Population) -> None:
    count = Counter(u["organisation_id"] for u in population.tables["units"])
    assert count["trondheim"] > count["alesund"] > count["molde"] > count["royrvik"]
    assert count["steinkjer"] > count["royrvik"]

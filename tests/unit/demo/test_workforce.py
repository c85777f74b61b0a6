"""Health workers and employments: positions fit the units, second jobs, joiners, leavers, HPR numbers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from accessctl.demo.policy_inputs import PolicyInputs
from accessctl.demo.population import DEMO_DATE, Population
from accessctl.demo.specs import start_of_day

TODAY = start_of_day(DEMO_DATE)
NON_CLINICAL = {"clerical", "hr", "analyst", "privacy"}


def _current(row: dict[str, object]) -> bool:
    valid_from, valid_to = row["valid_from"], row["valid_to"]
    assert isinstance(valid_from, datetime)
    return valid_from <= TODAY and (valid_to is None or (isinstance(valid_to, datetime) and valid_to > TODAY))


def _starts_later(row: dict[str, object]) -> bool:
    valid_from = row["valid_from"]
    return isinstance(valid_from, datetime) and valid_from > TODAY


def test_employment_positions_exist_in_the_position_catalogue(
    population: Population, policy_inputs: PolicyInputs
) -> None:
    codes = Counter(str(e["position_code"]) for e in population.tables["employments"])
    assert set(codes) <= {p.code for p in policy_inputs.positions}
    assert len(codes) >= 25  # a realistic mix, not one code for everyone


def test_positions_fit_the_units_service(population: Population) -> None:
    services: dict[object, set[object]] = {}
    for row in population.tables["unit_services"]:
        services.setdefault(row["unit_id"], set()).add(row["service_id"])
    by_code: dict[str, Counter[object]] = {}
    for e in population.tables["employments"]:
        for service in services[e["unit_id"]]:
            by_code.setdefault(str(e["position_code"]), Counter())[service] += 1
    assert set(by_code["7012"]) <= {"helsestasjon", "smittevern", "helsestasjon-for-ungdom", "familietiltak",
                                    "jordmortjeneste-helsestasjon", "skolehelsetjeneste", "flyktningehelsetjenesten",
                                    "helse-0-20", "radgiving"}  # fmt: skip
    assert by_code["7002"]["fastlege"] == sum(by_code["7002"].values())
    assert by_code["7006"]["legevakt"] == sum(by_code["7006"].values())
    assert by_code["7020"]["hjemmehjelpstjenesten"] > 0 and by_code["7020"]["sykehjem"] > 0


def test_about_five_percent_hold_jobs_in_two_organisations(population: Population) -> None:
    organisation_of = {u["id"]: u["organisation_id"] for u in population.tables["units"]}
    organisations: dict[object, set[object]] = {}
    for e in population.tables["employments"]:
        if _current(e):
            organisations.setdefault(e["user_id"], set()).add(organisation_of[e["unit_id"]])
    dual = {user for user, orgs in organisations.items() if len(orgs) > 1}
    assert 0.03 <= len(dual) / len(population.tables["users"]) <= 0.07
    gp_at_legevakt = {
        e["user_id"] for e in population.tables["employments"] if e["position_code"] == "7006" and e["user_id"] in dual
    }
    gps = {e["user_id"] for e in population.tables["employments"] if e["position_code"] == "7002"}
    assert gp_at_legevakt & gps


def test_joiners_leavers_and_inactive_users(population: Population) -> None:
    employments: dict[object, list[dict[str, object]]] = {}
    for e in population.tables["employments"]:
        employments.setdefault(e["user_id"], []).append(e)
    users = population.tables["users"]
    inactive = [u for u in users if u["status"] == "inactive"]
    assert 0.01 <= len(inactive) / len(users) <= 0.02
    for user in inactive:
        assert all(isinstance(e["valid_to"], datetime) and e["valid_to"] <= TODAY for e in employments[user["id"]])
    joiners = [u for u in users if all(_starts_later(e) for e in employments[u["id"]])]
    assert joiners and all(u["status"] == "active" for u in joiners)
    assert any(not _current(e) for u in users if u["status"] == "active" for e in employments[u["id"]])


def test_hpr_numbers_only_for_clinical_professions(population: Population, policy_inputs: PolicyInputs) -> None:
    profession = policy_inputs.professions
    primary: dict[object, str] = {}
    for e in population.tables["employments"]:
        primary.setdefault(e["user_id"], profession[str(e["position_code"])])
    hpr = [u["hpr_number"] for u in population.tables["users"] if u["hpr_number"] is not None]
    assert len(set(hpr)) == len(hpr)
    assert all(isinstance(n, str) and n.isdigit() and 7 <= len(n) <= 9 for n in hpr)
    for user in population.tables["users"]:
        if primary[user["id"]] in NON_CLINICAL:
            assert user["hpr_number"] is None
    assert sum(1 for u in population.tables["users"] if u["hpr_number"] is None) > 0


def test_user_names_and_hr_ids_are_unique(population: Population) -> None:
    users = population.tables["users"]
    assert len({u["user_name"] for u in users}) == len(users)
    assert len({u["hr_id"] for u in users}) == len(users)
    assert all(str(u["email"]).endswith(".example") for u in users)

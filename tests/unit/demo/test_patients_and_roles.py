"""Patients with synthetic ids, their care relations and blocks, and the roles derived from employments."""

from __future__ import annotations

from collections import Counter

from accessctl.demo.policy_inputs import PolicyInputs
from accessctl.demo.population import Population, build_population
from accessctl.demo.region import Region
from accessctl.identifiers import is_synthetic_national_id


def test_patients_have_synthetic_unique_national_ids(population: Population) -> None:
    assert len(set(population.patients)) == len(population.patients)
    assert all(is_synthetic_national_id(p) for p in population.patients)
    assert {r["patient"] for r in population.tables["care_relations"]} <= set(population.patients)


def test_care_relations_of_every_kind_point_at_the_right_party(population: Population) -> None:
    relations = population.tables["care_relations"]
    assert set(Counter(r["kind"] for r in relations)) == {
        "gp_list", "admission", "appointment", "referral", "home_care_decision"
    }  # fmt: skip
    services: dict[object, set[object]] = {}
    for row in population.tables["unit_services"]:
        services.setdefault(row["unit_id"], set()).add(row["service_id"])
    gps = {e["user_id"] for e in population.tables["employments"] if e["position_code"] == "7002"}
    for r in relations:
        assert (r["user_id"] is None) != (r["unit_id"] is None)
        if r["kind"] == "gp_list":
            assert r["user_id"] in gps
        elif r["kind"] == "home_care_decision":
            assert "hjemmehjelpstjenesten" in services[r["unit_id"]]
        elif r["kind"] == "admission":
            assert services[r["unit_id"]] & {"sengepost-medisin", "sengepost-kirurgi", "intensiv", "fodeavdeling",
                                             "psykisk-helsevern-spesialist", "rusbehandling-spesialist",
                                             "kommunal-akutt-dognenhet"}  # fmt: skip
    gp_listed = {r["patient"] for r in relations if r["kind"] == "gp_list"}
    assert len(gp_listed) >= 0.9 * len(population.patients)


def test_patient_blocks_of_each_kind(population: Population) -> None:
    blocks = population.tables["patient_blocks"]
    assert any(b["user_id"] for b in blocks)
    assert any(b["unit_id"] for b in blocks)
    assert {b["category"] for b in blocks} >= {"protected_address", "strictly_protected_address"}
    for b in blocks:
        assert sum(b[k] is not None for k in ("user_id", "unit_id", "category")) == 1


def test_roles_come_from_the_role_documents(population: Population, policy_inputs: PolicyInputs) -> None:
    assert policy_inputs.policy is not None
    assert {r["id"] for r in population.tables["roles"]} == set(policy_inputs.policy.roles)


def test_assignments_are_derived_from_employments(population: Population) -> None:
    employed = {(e["user_id"], e["unit_id"]) for e in population.tables["employments"]}
    assignments = population.tables["role_assignments"]
    assert len(assignments) >= 0.9 * len(population.tables["users"])
    assert all(a["source"] == "hr" and a["approver"] is None for a in assignments)
    assert all((a["user_id"], a["unit_id"]) in employed for a in assignments)
    gp_roles = {a["role_id"] for a in assignments if str(a["unit_id"]).endswith(".praksis")
                and "legesenter" in str(a["unit_id"])}  # fmt: skip
    assert "fastlege.lege" in gp_roles


def test_without_role_documents_no_roles_are_loaded(region: Region, policy_inputs: PolicyInputs) -> None:
    catalogues_only = PolicyInputs(policy_inputs.services, policy_inputs.positions)
    population = build_population(region, catalogues_only, users=300)
    assert population.tables["roles"] == [] and population.tables["role_assignments"] == []
    assert len(population.tables["employments"]) >= 300

"""The same seed gives the same rows; another seed gives other rows; the size scales users and patients."""

from __future__ import annotations

from accessctl.demo.policy_inputs import PolicyInputs
from accessctl.demo.population import build_population
from accessctl.demo.region import Region


def test_same_seed_gives_the_same_rows(region: Region, policy_inputs: PolicyInputs) -> None:
    first = build_population(region, policy_inputs, users=800, seed=5)
    second = build_population(region, policy_inputs, users=800, seed=5)
    assert first.tables == second.tables
    assert first.patients == second.patients


def test_other_seed_gives_other_rows(region: Region, policy_inputs: PolicyInputs) -> None:
    first = build_population(region, policy_inputs, users=800, seed=5)
    other = build_population(region, policy_inputs, users=800, seed=6)
    assert [o["org_number"] for o in first.tables["organisations"]] != [
        o["org_number"] for o in other.tables["organisations"]
    ]
    assert first.tables["users"] != other.tables["users"]
    assert set(first.patients) != set(other.patients)


def test_size_sets_users_and_patients(region: Region, policy_inputs: PolicyInputs) -> None:
    small = build_population(region, policy_inputs, users=600, seed=5)
    assert len(small.tables["users"]) == 600
    assert len(small.patients) == 300
    assert len(build_population(region, policy_inputs, users=600, seed=5, patients=40).patients) == 40


def test_organisations_do_not_depend_on_the_size(region: Region, policy_inputs: PolicyInputs) -> None:
    small = build_population(region, policy_inputs, users=200, seed=5)
    large = build_population(region, policy_inputs, users=900, seed=5)
    assert small.tables["organisations"] == large.tables["organisations"]
    assert small.tables["units"] == large.tables["units"]

"""One demo population per module, built from the repository's own policy directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from accessctl.demo.policy_inputs import PolicyInputs, read_policy_inputs
from accessctl.demo.population import Population, build_population
from accessctl.demo.region import Region, load_region

POLICIES = Path(__file__).resolve().parents[3] / "policies"


@pytest.fixture(scope="session")
def region() -> Region:
    return load_region()


@pytest.fixture(scope="session")
def policy_inputs() -> PolicyInputs:
    return read_policy_inputs(POLICIES)


@pytest.fixture(scope="session")
def population(region: Region, policy_inputs: PolicyInputs) -> Population:
    return build_population(region, policy_inputs, users=6_000)

"""Synthetic demo data for the region: organisations, unit trees, health workers, roles and patients.

The database loader lives in `accessctl.demo.load`, so importing the identifiers pulls in no SQLAlchemy.
"""

from accessctl.demo.population import Population, build_population
from accessctl.identifiers import (
    is_synthetic_national_id,
    is_valid_national_id,
    is_valid_org_number,
    org_number_check_digit,
    synthetic_national_id,
    synthetic_org_number,
)

__all__ = [
    "Population",
    "build_population",
    "is_synthetic_national_id",
    "is_valid_national_id",
    "is_valid_org_number",
    "org_number_check_digit",
    "synthetic_national_id",
    "synthetic_org_number",
]

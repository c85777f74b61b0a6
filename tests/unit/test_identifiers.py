"""Organisation numbers and national identity numbers: check digits, the synthetic mark, known good and bad."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from accessctl.identifiers import (
    is_synthetic_national_id,
    is_valid_national_id,
    is_valid_org_number,
    org_number_check_digit,
    synthetic_national_id,
    synthetic_org_number,
)

# Public organisation numbers of two well-known registered entities (Brønnøysundregistrene, Equinor ASA).
KNOWN_VALID_ORG_NUMBERS = ("974760673", "923609016")


@pytest.mark.parametrize("number", KNOWN_VALID_ORG_NUMBERS)
def test_known_organisation_numbers_are_valid(number: str) -> None:
    assert is_valid_org_number(number)


def test_check_digit_is_eleven_minus_weighted_sum_mod_eleven() -> None:
    # 9*3 + 7*2 + 4*7 + 7*6 + 6*5 + 0*4 + 6*3 + 7*2 = 173; 173 % 11 = 8; 11 - 8 = 3
    assert org_number_check_digit("97476067") == 3


def test_remainder_one_leaves_no_valid_organisation_number() -> None:
    # 3*3 + 1*2 + 6*2 = 23; 23 % 11 = 1, so the check digit would be 10: no number starts 31000006.
    assert org_number_check_digit("31000006") is None
    assert not any(is_valid_org_number(f"31000006{d}") for d in range(10))


@pytest.mark.parametrize("number", ["974760674", "97476067", "9747606733", "97476067a", "", "923609015"])
def test_wrong_check_digit_or_shape_is_invalid(number: str) -> None:
    assert not is_valid_org_number(number)


def test_synthetic_organisation_numbers_are_valid_and_in_the_3_series() -> None:
    rng = random.Random(7)
    numbers = [synthetic_org_number(rng) for _ in range(500)]
    assert all(is_valid_org_number(n) and n.startswith("3") for n in numbers)


def test_known_synthetic_national_id_is_valid() -> None:
    # 01 81 90 006: k1 = 11 - (0*3+1*7+8*6+1*1+9*8+0*9+0*4+6*5+8*2 = 174) % 11 = 2;
    # k2 = 11 - (0*5+1*4+8*3+1*2+9*7+0*6+0*5+6*4+8*3+2*2 = 145) % 11 = 9.
    assert is_valid_national_id("01819006829")
    assert is_synthetic_national_id("01819006829")


@pytest.mark.parametrize(
    "number",
    [
        "01819006828",  # second check digit wrong
        "01819006839",  # first check digit wrong
        "32819006829",  # day 32
        "01939006829",  # month 13 + 80
        "0181900682",  # ten digits
        "0181900682x",
    ],
)
def test_known_invalid_national_ids(number: str) -> None:
    assert not is_valid_national_id(number)
    assert not is_synthetic_national_id(number)


def test_synthetic_national_ids_carry_month_plus_80_and_both_check_digits() -> None:
    rng = random.Random(11)
    day = date(1925, 1, 1)
    while day < date(2026, 12, 31):
        number = synthetic_national_id(day, rng)
        assert number[:6] == f"{day.day:02d}{day.month + 80:02d}{day.year % 100:02d}"
        assert is_synthetic_national_id(number), number
        day += timedelta(days=97)


def test_synthetic_national_id_century_follows_the_individual_number() -> None:
    rng = random.Random(3)
    assert int(synthetic_national_id(date(2010, 5, 5), rng)[6:9]) >= 500
    assert int(synthetic_national_id(date(1960, 5, 5), rng)[6:9]) < 500


def test_hpr_numbers_are_seven_to_nine_digits_without_leading_zero() -> None:
    from accessctl.identifiers import is_valid_hpr_number

    assert is_valid_hpr_number("1234567")
    assert is_valid_hpr_number("123456789")
    assert not is_valid_hpr_number("123456")
    assert not is_valid_hpr_number("1234567890")
    assert not is_valid_hpr_number("0123456")
    assert not is_valid_hpr_number("12345a7")

"""Norwegian organisation numbers and national identity numbers: check digits, validation, synthetic ones.

Organisation numbers (organisasjonsnummer) are 8 digits and a mod-11 check digit (weights 3,2,7,6,5,4,3,2); a
remainder that gives check digit 10 makes the number invalid. National identity numbers (fødselsnummer) are
DDMMYY, a 3-digit individual number and two mod-11 check digits. The national register marks *synthetic* persons
(test data that can never be a real person) by adding 80 to the month; D-numbers add 40 to the day and H-numbers
40 to the month.
"""

from __future__ import annotations

import random
from datetime import date
from functools import lru_cache

_ORG_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
_NATIONAL_ID_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_NATIONAL_ID_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
SYNTHETIC_MONTH_OFFSET = 80
_D_NUMBER_DAY_OFFSET = 40
_H_NUMBER_MONTH_OFFSET = 40


def _mod11(digits: str, weights: tuple[int, ...]) -> int | None:
    """The mod-11 check digit of `digits`, or None when the remainder leaves no valid digit."""
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check


def org_number_check_digit(first_eight: str) -> int | None:
    """The check digit for the first 8 digits of an organisation number; None if no number can end them."""
    if len(first_eight) != 8 or not first_eight.isdigit():
        raise ValueError(f"expected 8 digits, got {first_eight!r}")
    return _mod11(first_eight, _ORG_WEIGHTS)


def is_valid_org_number(value: str) -> bool:
    """True for 9 digits whose last one is the mod-11 check digit of the first 8."""
    if len(value) != 9 or not value.isdigit():
        return False
    return org_number_check_digit(value[:8]) == int(value[8])


def _birth_year(two_digit_year: int, individual: int) -> int | None:
    """The century rule of the national register: the individual number tells which century YY is in."""
    if individual < 500:
        return 1900 + two_digit_year
    if individual < 750 and two_digit_year >= 54:
        return 1800 + two_digit_year
    if individual >= 900 and two_digit_year >= 40:
        return 1900 + two_digit_year
    if two_digit_year < 40:
        return 2000 + two_digit_year
    return None


def _national_id_checks(first_nine: str) -> str | None:
    first = _mod11(first_nine, _NATIONAL_ID_WEIGHTS_1)
    if first is None:
        return None
    second = _mod11(first_nine + str(first), _NATIONAL_ID_WEIGHTS_2)
    return None if second is None else f"{first}{second}"


@lru_cache(maxsize=65_536)  # every evaluation about a patient checks one; the same patients come back
def is_valid_national_id(value: str) -> bool:
    """True for 11 digits with a real date (plain, D-, H- or synthetic number) and both check digits right."""
    if len(value) != 11 or not value.isdigit():
        return False
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    if day > _D_NUMBER_DAY_OFFSET:
        day -= _D_NUMBER_DAY_OFFSET
    if month > SYNTHETIC_MONTH_OFFSET:
        month -= SYNTHETIC_MONTH_OFFSET
    elif month > _H_NUMBER_MONTH_OFFSET:
        month -= _H_NUMBER_MONTH_OFFSET
    full_year = _birth_year(year, int(value[6:9]))
    if full_year is None:
        return False
    try:
        date(full_year, month, day)
    except ValueError:
        return False
    return _national_id_checks(value[:9]) == value[9:]


def is_synthetic_national_id(value: str) -> bool:
    """True for a valid national identity number whose month carries the register's +80 synthetic mark."""
    return is_valid_national_id(value) and int(value[2:4]) > SYNTHETIC_MONTH_OFFSET


def _individual_range(birth_year: int) -> range:
    if 1900 <= birth_year <= 1999:
        return range(0, 500)
    if 2000 <= birth_year <= 2039:
        return range(500, 1000)
    raise ValueError(f"no synthetic numbers for birth year {birth_year}")


def synthetic_national_id(birth_date: date, rng: random.Random) -> str:
    """A synthetic national identity number (month + 80) for `birth_date`, with both check digits valid."""
    individuals = _individual_range(birth_date.year)
    stem = f"{birth_date.day:02d}{birth_date.month + SYNTHETIC_MONTH_OFFSET:02d}{birth_date.year % 100:02d}"
    while True:
        first_nine = f"{stem}{rng.choice(individuals):03d}"
        checks = _national_id_checks(first_nine)
        if checks is not None:
            return first_nine + checks


def synthetic_org_number(rng: random.Random) -> str:
    """A 9-digit organisation number with a valid check digit, starting with 3.

    Real entities' numbers start with 8 or 9; the test registers use the 2- and 3-series, so these stay clear.
    """
    while True:
        first_eight = f"3{rng.randrange(10_000_000):07d}"
        check = org_number_check_digit(first_eight)
        if check is not None:
            return f"{first_eight}{check}"


def is_valid_hpr_number(value: str) -> bool:
    """An HPR number (national health-personnel register): 7 to 9 digits, no leading zero."""
    return 7 <= len(value) <= 9 and value.isdigit() and value[0] != "0"

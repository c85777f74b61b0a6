"""Who a caller is, as the four-eyes checks compare people."""

from __future__ import annotations


def same_person(one: str, other: str) -> bool:
    """User ids are compared as the directory compares user names: ignoring surrounding space and case.

    A second person's check (policy approval, a break-the-glass review, a manual grant) must not be passed by the
    same id spelled `Alice` or `alice ` where an identity provider keeps the case the user typed.
    """
    return one.strip().casefold() == other.strip().casefold()

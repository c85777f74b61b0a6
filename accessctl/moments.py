"""Moments as the service stores them: with a zone, and inside what UTC can hold."""

from __future__ import annotations

from datetime import UTC, datetime

from accessctl.errors import InvalidInput


def utc_moment(moment: datetime, field: str) -> datetime:
    """The moment in UTC; a 400 naming `field` when it has no zone or no UTC moment.

    Every moment is stored in UTC, and one near the ends of the calendar may not exist there: 0001-01-01T00:00+01:00
    is before year 1 in UTC, 9999-12-31T23:30-01:00 after year 9999.
    """
    if moment.tzinfo is None:
        raise InvalidInput(f"{field} needs a time zone (e.g. Z or +01:00)", field=field)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{field} is out of range once in UTC (years 1 to 9999)", field=field) from None

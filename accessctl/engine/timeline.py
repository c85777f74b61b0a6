"""Time windows: when a fact holds, and how long an answer built from facts stays true.

Every window is half-open, [valid_from, valid_to). A decision stays true from the last boundary at or before
`now` to the first boundary after it, where the boundaries are the starts and ends of every fact it looked at;
the cache keeps the answer exactly that long, so nothing time-bounded is served past its boundary.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime, time

# Stand-ins for "since forever" and "until further notice", so comparisons need no None checks.
BEGINNING = datetime.min.replace(tzinfo=UTC)
FOREVER = datetime.max.replace(tzinfo=UTC)


def aware(moment: datetime, what: str) -> datetime:
    """Refuse a naive datetime: comparing it with an aware one would raise in the middle of a decision."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")
    return moment


def until(valid_to: datetime | None, what: str) -> datetime:
    """The end of a window, FOREVER when open-ended."""
    return FOREVER if valid_to is None else aware(valid_to, what)


def start_of_day(day: date) -> datetime:
    """An organisation goes live at 00:00 UTC on its go-live date."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def boundaries(moments: Iterable[datetime]) -> tuple[datetime, ...]:
    """The sorted, distinct moments at which something starts or ends (FOREVER and BEGINNING left out)."""
    return tuple(sorted({m for m in moments if m is not FOREVER and m is not BEGINNING}))


def narrow(edges: tuple[datetime, ...], now: datetime, lo: datetime, hi: datetime) -> tuple[datetime, datetime]:
    """Narrow [lo, hi) to the stretch between two of `edges` that contains `now`."""
    if not edges:
        return lo, hi
    i = bisect_right(edges, now)
    if i and edges[i - 1] > lo:
        lo = edges[i - 1]
    if i < len(edges) and edges[i] < hi:
        hi = edges[i]
    return lo, hi

"""The demo's organisations and units as plain data, before they become table rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


@dataclass(frozen=True, slots=True)
class OrganisationSpec:
    """An organisation of the demo region; `municipality` is the one it lies in (itself for a municipality)."""

    id: str
    org_number: str
    name: str
    kind: str
    go_live: date | None
    agreement_signed: bool
    municipality: str | None


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """A unit of an organisation's tree; `headcount` is its staff at full scale (34,000 health workers)."""

    id: str
    organisation_id: str
    parent_id: str | None
    name: str
    kind: str
    services: tuple[str, ...] = ()
    headcount: float = 0.0


def slug(name: str) -> str:
    """A readable id part from a Norwegian name: lower case, æøå folded, words joined by hyphens."""
    folded = name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    kept = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in folded)
    return "-".join(kept.split())


def start_of_day(day: date) -> datetime:
    """Midnight in Norway on `day`, as an aware UTC timestamp (HR dates are local calendar days)."""
    return datetime.combine(day, time(), tzinfo=OSLO).astimezone(UTC)

"""The region's facts (health trusts, municipalities, go-live waves, scale) as typed data from region.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

REGION_FILE = Path(__file__).resolve().parent.parent / "data" / "region.json"


@dataclass(frozen=True, slots=True)
class HealthTrust:
    key: str
    name: str
    go_live: date


@dataclass(frozen=True, slots=True)
class GoLiveWave:
    """One go-live date and the organisations (trust keys or municipality names) that went live on it."""

    key: str
    date: date
    organisations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RegionScale:
    gp_offices: int
    contract_specialists: int
    physiotherapists_and_others: int
    health_workers: int
    municipalities_live_nov_2023: int
    municipalities_signed_nov_2023: int


@dataclass(frozen=True, slots=True)
class Region:
    health_trusts: tuple[HealthTrust, ...]
    municipalities: tuple[str, ...]
    waves: tuple[GoLiveWave, ...]
    scale: RegionScale

    def wave_of(self, organisation: str) -> GoLiveWave:
        """The wave that took a health trust (by key) or a municipality (by name) live."""
        for wave in self.waves:
            if organisation in wave.organisations:
                return wave
        raise KeyError(f"{organisation} is in no go-live wave")


def parse_region(raw: dict[str, Any]) -> Region:
    scale = raw["scale"]
    return Region(
        health_trusts=tuple(
            HealthTrust(t["key"], t["name"], date.fromisoformat(t["go_live"])) for t in raw["health_trusts"]
        ),
        municipalities=tuple(raw["municipalities"]),
        waves=tuple(
            GoLiveWave(w["key"], date.fromisoformat(w["date"]), tuple(w["organisations"]))
            for w in raw["go_live_waves"]["waves"]
        ),
        scale=RegionScale(
            gp_offices=scale["gp_offices"],
            contract_specialists=scale["contract_specialists"],
            physiotherapists_and_others=scale["contract_physiotherapists_and_other_actors"],
            health_workers=scale["health_workers_using_the_platform"],
            municipalities_live_nov_2023=scale["municipalities_live_nov_2023"],
            municipalities_signed_nov_2023=scale["municipalities_with_signed_service_agreement_nov_2023"],
        ),
    )


@cache
def load_region() -> Region:
    """The region shipped with the package (accessctl/data/region.json)."""
    text = REGION_FILE.read_text(encoding="utf-8")
    return parse_region(json.loads(text))

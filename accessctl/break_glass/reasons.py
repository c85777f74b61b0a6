"""The configured break-the-glass reason codes, each mapped to an HL7 PurposeOfUse code (v3-ActReason)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from accessctl.errors import InvalidInput, InvalidSetting

SETTING = "ACCESSCTL_BREAK_GLASS_REASONS"

# The HL7 PurposeOfUse codes a break-the-glass reason may map to (a subset of v3-ActReason).
PURPOSES_OF_USE = frozenset({"ETREAT", "BTG", "ERTREAT", "TREAT", "CAREMGT", "PATRQT", "FAMRQT", "PWATRNY"})


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """One reason a clinician may pick, the purpose of use it is audited under, and its label."""

    code: str
    purpose_of_use: str
    label: str


@dataclass(frozen=True, slots=True)
class ReasonCatalogue:
    """The reason codes on offer, in the order a clinical system should show them."""

    reasons: tuple[ReasonCode, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def lookup(self, code: str) -> ReasonCode:
        """The reason for `code`, or InvalidInput naming the field and the codes on offer."""
        for reason in self.reasons:
            if reason.code == code:
                return reason
        raise InvalidInput(f"reason_code must be one of {', '.join(self.codes)}", field="reason_code")


def load_reasons(value: str) -> ReasonCatalogue:
    """Parse the setting: a JSON list, or the path of a YAML file holding the same list."""
    text = value.strip()
    try:
        if text.startswith("["):
            raw: Any = json.loads(text)
        else:
            raw = yaml.safe_load(Path(text).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise InvalidSetting(SETTING, f"neither a JSON list nor a readable YAML file: {exc}") from None
    return _catalogue(raw)


def _catalogue(raw: Any) -> ReasonCatalogue:
    if not isinstance(raw, list) or not raw:
        raise InvalidSetting(SETTING, "expected a non-empty list of {code, purpose_of_use, label}")
    reasons: list[ReasonCode] = []
    for index, item in enumerate(raw):
        where = f"item {index}"
        if not isinstance(item, dict):
            raise InvalidSetting(SETTING, f"{where}: expected a mapping")
        code, purpose, label = item.get("code"), item.get("purpose_of_use"), item.get("label", item.get("code"))
        if not isinstance(code, str) or not code.isidentifier() or code != code.lower():
            raise InvalidSetting(SETTING, f"{where}: code must be a lower-case snake_case word")
        if purpose not in PURPOSES_OF_USE:
            raise InvalidSetting(SETTING, f"{where}: purpose_of_use must be one of {sorted(PURPOSES_OF_USE)}")
        if not isinstance(label, str) or not label:
            raise InvalidSetting(SETTING, f"{where}: label must be a non-empty string")
        if any(r.code == code for r in reasons):
            raise InvalidSetting(SETTING, f"{where}: code {code!r} is given twice")
        reasons.append(ReasonCode(code, str(purpose), label))
    return ReasonCatalogue(tuple(reasons))

"""The configured reason list (JSON or a YAML file) and the outbox's retry backoff."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from accessctl.break_glass import backoff, load_reasons
from accessctl.errors import InvalidInput, InvalidSetting
from accessctl.settings import Settings


def test_default_reasons_cover_emergency_unconscious_consent_and_other_with_purposes_of_use() -> None:
    reasons = load_reasons(Settings().break_glass_reasons)
    assert reasons.codes == ("emergency", "unconscious_patient", "patient_consent", "other")
    assert reasons.lookup("emergency").purpose_of_use == "ETREAT"
    assert reasons.lookup("other").purpose_of_use == "BTG"


def test_reasons_come_from_a_yaml_file_when_the_setting_is_a_path(tmp_path: Path) -> None:
    path = tmp_path / "reasons.yaml"
    path.write_text("- {code: stroke_team, purpose_of_use: ETREAT, label: Stroke alert}\n", encoding="utf-8")
    reasons = load_reasons(str(path))
    assert reasons.codes == ("stroke_team",)
    assert reasons.lookup("stroke_team").label == "Stroke alert"


@pytest.mark.parametrize(
    "value",
    [
        "[]",
        '[{"code": "x", "purpose_of_use": "MARKETING"}]',
        '[{"code": "Not A Code", "purpose_of_use": "ETREAT"}]',
        '[{"code": "a", "purpose_of_use": "ETREAT"}, {"code": "a", "purpose_of_use": "TREAT"}]',
        "/no/such/reasons.yaml",
    ],
)
def test_a_bad_reason_list_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(InvalidSetting, match="ACCESSCTL_BREAK_GLASS_REASONS"):
        load_reasons(value)


def test_an_unknown_reason_code_names_the_field_and_the_codes_on_offer() -> None:
    with pytest.raises(InvalidInput, match="emergency") as problem:
        load_reasons(Settings().break_glass_reasons).lookup("because")
    assert problem.value.field == "reason_code"


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    waits = [backoff(n, base_s=5, max_s=60) for n in range(1, 7)]
    assert waits == [timedelta(seconds=s) for s in (5, 10, 20, 40, 60, 60)]


def test_break_glass_settings_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"ACCESSCTL_BREAK_GLASS_MIN_REASON_CHARS": "20", "ACCESSCTL_NOTIFY_WEBHOOK_URL": "https://siem.example/hook"}
    )
    assert settings.break_glass_min_reason_chars == 20
    assert settings.notify_webhook_url == "https://siem.example/hook"
    assert Settings().notify_webhook_url is None

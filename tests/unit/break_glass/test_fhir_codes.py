"""Break-the-glass events in FHIR: DICOM 110113 Security Alert, 110127 when it starts, 110138 when it ends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from accessctl.audit import AuditEvent, ChainedEvent, actions
from accessctl.audit.fhir import to_fhir

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _fhir(action: str, **fields: Any) -> dict[str, Any]:
    event = AuditEvent(action=action, occurred_at=AT, break_glass_grant_id="g-1", **fields)
    return to_fhir(ChainedEvent(event, uuid.uuid4(), 1, "0" * 64, "1" * 64, AT))


def test_a_grant_is_an_emergency_override_started_under_its_reasons_purpose() -> None:
    resource = _fhir(actions.BREAK_GLASS_GRANTED, purpose_of_use="BTG", break_glass_reason_code="other")
    assert resource["type"] == {
        "system": "http://dicom.nema.org/resources/ontology/DCM",
        "code": "110113",
        "display": "Security Alert",
    }
    assert resource["subtype"] == [
        {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110127",
            "display": "Emergency Override Started",
        }
    ]
    assert resource["purposeOfEvent"] == [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "BTG"}]}
    ]


def test_the_end_of_a_grant_is_an_emergency_override_stopped() -> None:
    resource = _fhir(actions.BREAK_GLASS_ENDED, reason="expired")
    assert resource["subtype"] == [
        {
            "system": "http://dicom.nema.org/resources/ontology/DCM",
            "code": "110138",
            "display": "Emergency Override Stopped",
        }
    ]

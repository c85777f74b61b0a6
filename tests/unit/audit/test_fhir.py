"""The FHIR AuditEvent (IHE BALP) and RFC 5424 shapes of an audit event."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

from accessctl.audit import actions
from accessctl.audit.chain import GENESIS_HASH, link
from accessctl.audit.events import AuditEvent, ChainedEvent
from accessctl.audit.export import syslog_line
from accessctl.audit.fhir import DCM, HPR, NATIONAL_ID, to_fhir

AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def _chained(**overrides: object) -> ChainedEvent:
    decision_id = uuid.uuid4()
    fields: dict[str, object] = {
        "action": actions.DECISION_PERMIT,
        "occurred_at": AT,
        "id": decision_id,
        "decision_id": decision_id,
        "user_id": "u1",
        "hpr_number": "1234567",
        "roles": ("nurse",),
        "unit_id": "ward-7",
        "patient": "01817012345",
        "resource_type": "journal.note",
        "resource_id": "note-1",
        "data_action": "read",
        "outcome": "permit",
        "reason": "care_relation",
        "purpose_of_use": "TREAT",
        "client_system": "record-system",
        "workstation": "ws-17",
    }
    fields.update(overrides)
    event = AuditEvent(**fields)  # type: ignore[arg-type]  # test builder over the dataclass fields
    return link(event, chain_id=uuid.uuid4(), seq=1, prev_hash=GENESIS_HASH, recorded_at=AT)


def test_read_permit_is_a_rest_read_by_the_user_about_the_patient() -> None:
    resource = to_fhir(_chained())
    assert resource["resourceType"] == "AuditEvent"
    assert resource["type"]["code"] == "rest" and resource["subtype"][0]["code"] == "read"
    assert (resource["action"], resource["outcome"], resource["recorded"]) == ("R", "0", "2026-11-26T09:30:00.000000Z")
    assert resource["purposeOfEvent"][0]["coding"][0]["code"] == "TREAT"
    user, client = resource["agent"]
    assert user["requestor"] is True and user["who"]["identifier"] == {"system": HPR, "value": "1234567"}
    assert user["role"][0]["coding"][0]["code"] == "nurse"
    assert client["requestor"] is False and client["who"]["display"] == "record-system"
    assert client["network"] == {"address": "ws-17", "type": "1"}
    patient, data = resource["entity"]
    assert patient["what"]["identifier"] == {"system": NATIONAL_ID, "value": "01817012345"}
    assert patient["role"]["code"] == "1"
    assert data["what"] == {"display": "journal.note", "identifier": {"value": "note-1"}}
    assert resource["source"]["observer"]["display"] == "accessctl"


def test_deny_is_a_minor_failure_with_its_reason() -> None:
    resource = to_fhir(_chained(action=actions.DECISION_DENY, outcome="deny", reason="no_care_relation"))
    assert (resource["outcome"], resource["outcomeDesc"]) == ("4", "no_care_relation")


def test_break_the_glass_is_a_security_alert_for_emergency_treatment() -> None:
    resource = to_fhir(_chained(break_glass_grant_id="g-1", break_glass_reason_code="emergency"))
    assert resource["type"] == {"system": DCM, "code": "110113", "display": "Security Alert"}
    assert resource["subtype"][0]["code"] == "110127"
    assert resource["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
    assert resource["entity"][-1]["detail"] == [{"type": "reason_code", "valueString": "emergency"}]


def test_syslog_line_is_rfc5424_with_escaped_structured_data() -> None:
    chained = _chained(action=actions.DECISION_DENY, outcome="deny", user_id='ev"il]\\')
    line = syslog_line(chained, "host1")
    header = re.match(r"<(\d+)>1 (\S+) host1 accessctl - decision\.deny \[accessctl@32473 ", line)
    assert header is not None and header[1] == "85" and header[2] == "2026-11-26T09:30:00.000000Z"
    assert 'user="ev\\"il\\]\\\\"' in line
    assert "\n" not in line
    message = line.split("\ufeff", 1)[1]
    assert json.loads(message)["id"] == str(chained.event.id)

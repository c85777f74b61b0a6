"""An audit event as a FHIR R4 AuditEvent following IHE Basic Audit Log Patterns (BALP)."""

from __future__ import annotations

from typing import Any

from accessctl.audit import actions
from accessctl.audit.chain import iso_utc
from accessctl.audit.events import ChainedEvent

DCM = "http://dicom.nema.org/resources/ontology/DCM"
EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL = "http://hl7.org/fhir/restful-interaction"
PURPOSE = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
NATIONAL_ID = "urn:oid:2.16.578.1.12.4.1.4.1"  # Norwegian national identity number (fodselsnummer)
HPR = "urn:oid:2.16.578.1.12.4.1.4.4"  # national health-personnel register number
ROLE_SYSTEM = "urn:accessctl:role"
OBSERVER = "accessctl"

# Data action -> FHIR AuditEvent.action (C create, R read, U update, D delete, E execute).
ACTION_CODES = {"read": "R", "print": "R", "export": "R", "create": "C", "write": "U", "sign": "U", "delete": "D"}
INTERACTIONS = {"R": "read", "C": "create", "U": "update", "D": "delete"}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


# Break-the-glass as DICOM 110113 Security Alert: started (a grant, or an access it opened), stopped, refused.
_OVERRIDE_STARTED = ("110127", "Emergency Override Started")
_OVERRIDE_STOPPED = ("110138", "Emergency Override Stopped")


def _override(chained: ChainedEvent) -> tuple[str, str] | None:
    """The DICOM 110113 subtype of a break-the-glass event, or None for any other event."""
    event = chained.event
    if event.action == actions.BREAK_GLASS_ENDED:
        return _OVERRIDE_STOPPED
    if event.action in {actions.BREAK_GLASS_GRANTED, actions.BREAK_GLASS_REFUSED}:
        return _OVERRIDE_STARTED
    if event.action in actions.DECISIONS and event.break_glass_grant_id is not None:
        return _OVERRIDE_STARTED
    return None


def _agents(chained: ChainedEvent) -> list[dict[str, Any]]:
    event = chained.event
    agents: list[dict[str, Any]] = []
    if event.user_id is not None:
        who: dict[str, Any] = {"display": event.user_id}
        if event.hpr_number:
            who["identifier"] = {"system": HPR, "value": event.hpr_number}
        user: dict[str, Any] = {
            "type": {"coding": [_coding(PARTICIPATION, "IRCP", "information recipient")]},
            "who": who,
            "requestor": True,
            "role": [{"coding": [_coding(ROLE_SYSTEM, role)]} for role in event.roles],
        }
        if event.unit_id or event.organisation_id:
            user["location"] = {"display": event.unit_id or event.organisation_id}
        agents.append(user)
    if event.client_system is not None:
        client: dict[str, Any] = {
            "type": {"coding": [_coding(DCM, "110150", "Application")]},
            "who": {"display": event.client_system},
            "requestor": False,
        }
        if event.workstation:
            client["network"] = {"address": event.workstation, "type": "1"}  # 1 = machine name
        agents.append(client)
    return agents


def _entities(chained: ChainedEvent) -> list[dict[str, Any]]:
    event = chained.event
    entities: list[dict[str, Any]] = []
    if event.patient is not None:
        entities.append(
            {
                "what": {"identifier": {"system": NATIONAL_ID, "value": event.patient}},
                "type": _coding(ENTITY_TYPE, "1", "Person"),
                "role": _coding(OBJECT_ROLE, "1", "Patient"),
            }
        )
    if event.resource_type is not None:
        entity: dict[str, Any] = {
            "what": {"display": event.resource_type},
            "type": _coding(ENTITY_TYPE, "2", "System Object"),
            "role": _coding(OBJECT_ROLE, "4", "Domain Resource"),
        }
        if event.resource_id:
            entity["what"]["identifier"] = {"value": event.resource_id}
        entities.append(entity)
    if event.break_glass_grant_id is not None:
        grant: dict[str, Any] = {"what": {"identifier": {"value": event.break_glass_grant_id}}, "name": "break-glass"}
        if event.break_glass_reason_code:
            grant["detail"] = [{"type": "reason_code", "valueString": event.break_glass_reason_code}]
        entities.append(grant)
    return entities


def to_fhir(chained: ChainedEvent) -> dict[str, Any]:
    """The BALP AuditEvent: type `rest` (or DICOM 110113 Security Alert for break-the-glass), who, what, why."""
    event = chained.event
    code = ACTION_CODES.get(event.data_action or "", "E")
    override = _override(chained)
    if override is not None:
        event_type = _coding(DCM, "110113", "Security Alert")
        subtype = [_coding(DCM, *override)]
    else:
        event_type = _coding(EVENT_TYPE, "rest", "RESTful Operation")
        subtype = [_coding(RESTFUL, INTERACTIONS.get(code, "operation"))]
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.id),
        "type": event_type,
        "subtype": subtype,
        "action": code,
        "period": {"start": iso_utc(event.occurred_at), "end": iso_utc(event.occurred_at)},
        "recorded": iso_utc(chained.recorded_at),
        "outcome": "4" if event.outcome == "deny" else "0",
        "agent": _agents(chained),
        "source": {"observer": {"display": OBSERVER}, "type": [_coding(SOURCE_TYPE, "4", "Application Server")]},
        "entity": _entities(chained),
    }
    if event.reason:
        resource["outcomeDesc"] = event.reason
    # A grant is audited under its reason's configured purpose; what it opens, as emergency treatment.
    granted = event.action == actions.BREAK_GLASS_GRANTED and event.purpose_of_use
    purpose = (event.purpose_of_use if granted else "ETREAT") if override is not None else event.purpose_of_use
    if purpose:
        resource["purposeOfEvent"] = [{"coding": [_coding(PURPOSE, purpose)]}]
    return resource

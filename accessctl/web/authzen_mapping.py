"""Between AuthZEN shapes and the engine's AccessRequest and Decision."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from accessctl.audit.events import MAX_LENGTHS
from accessctl.engine import AccessRequest, Decision
from accessctl.errors import InvalidInput
from accessctl.identifiers import is_valid_national_id
from accessctl.web.authzen_schemas import (
    EvaluationItem,
    EvaluationRequest,
    EvaluationResponse,
    EvaluationsRequest,
)

_Part = TypeVar("_Part")
_ABSENT: list[str] = []  # "categories" not given (compared by identity)


def _text(properties: dict[str, Any], name: str, part: str, prefix: str) -> str | None:
    value = properties.get(name)
    if value is None or (type(value) is str and value):
        return value
    field = f"{prefix}{part}.properties.{name}"  # spelled only when it is wrong: this runs for every decision
    raise InvalidInput(f"{field} must be a non-empty string", field=field)


# The request's parts that the audit record keeps: where each is in the request and the engine's request, and how
# long the record's field may be.
_RECORDED = tuple(
    (part, attribute, MAX_LENGTHS[field])
    for part, attribute, field in (
        ("subject.id", "user_id", "user_id"),
        ("subject.properties.unit", "unit_id", "unit_id"),
        ("subject.properties.purpose_of_use", "purpose_of_use", "purpose_of_use"),
        ("action.name", "action", "data_action"),
        ("resource.type", "resource_type", "resource_type"),
        ("resource.id", "resource_id", "resource_id"),
    )
)


def _unrecordable(request: AccessRequest, prefix: str) -> None:
    """A 400 naming the first part longer than its audit field holds, or holding a NUL (the engine would only deny
    it, but the record could not be stored, and a batch's other decisions share its commit)."""
    for part, attribute, longest in _RECORDED:
        value = getattr(request, attribute)
        if value is not None and (len(value) > longest or "\x00" in value):
            field = f"{prefix}{part}"
            problem = f"is longer than {longest} characters" if len(value) > longest else "contains a NUL character"
            raise InvalidInput(f"{field} {problem}", field=field)


def access_request(evaluation: EvaluationRequest, prefix: str = "") -> AccessRequest:
    """The engine's request; properties that decide are type-checked and named when wrong."""
    subject, resource = evaluation.subject.properties, evaluation.resource.properties
    patient = _text(resource, "patient", "resource", prefix)
    if patient is not None and not is_valid_national_id(patient):
        raise InvalidInput(
            "patient must be an 11-digit national identity number with valid check digits",
            field=f"{prefix}resource.properties.patient",
        )
    categories = resource.get("categories", _ABSENT)
    if categories is not _ABSENT and (
        not isinstance(categories, list) or not all(isinstance(c, str) for c in categories)
    ):
        raise InvalidInput("categories must be a list of strings", field=f"{prefix}resource.properties.categories")
    request = AccessRequest(
        user_id=evaluation.subject.id,
        unit_id=_text(subject, "unit", "subject", prefix),
        action=evaluation.action.name,
        resource_type=evaluation.resource.type,
        resource_id=evaluation.resource.id,
        patient=patient,
        resource_unit=_text(resource, "unit", "resource", prefix),
        service=_text(resource, "service", "resource", prefix),
        confidentiality=_text(resource, "confidentiality", "resource", prefix),
        categories=frozenset(categories) if categories else frozenset(),
        purpose_of_use=_text(subject, "purpose_of_use", "subject", prefix),
    )
    _unrecordable(request, prefix)
    return request


def merged(batch: EvaluationsRequest, item: EvaluationItem, index: int) -> EvaluationRequest:
    """One evaluation of a batch: the item's own parts, else the request's top-level defaults."""
    context = {**(batch.context or {}), **(item.context or {})}
    return EvaluationRequest(
        subject=_required(item.subject or batch.subject, "subject", index),
        action=_required(item.action or batch.action, "action", index),
        resource=_required(item.resource or batch.resource, "resource", index),
        context=context,
    )


def _required(value: _Part | None, name: str, index: int) -> _Part:
    if value is None:
        raise InvalidInput(
            f"evaluations[{index}] has no {name} and the request gives no default", field=f"evaluations[{index}].{name}"
        )
    return value


def response(decision: Decision, decision_id: uuid.UUID) -> EvaluationResponse:
    context: dict[str, Any] = {
        "decision_id": str(decision_id),
        "policy_version": decision.policy_version,
        "reason": decision.reason,
    }
    if decision.roles:
        context["roles"] = list(decision.roles)
    if decision.obligations:
        context["obligations"] = list(decision.obligations)
    if decision.grant_id:
        context["break_glass_grant"] = decision.grant_id
    if decision.break_glass is not None and decision.break_glass.available:
        context["break_glass"] = {
            "available": True,
            "reasons": list(decision.break_glass.reasons),
            "max_minutes": decision.break_glass.max_minutes,
        }
    return EvaluationResponse(decision=decision.allowed, context=context)

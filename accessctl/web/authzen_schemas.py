"""AuthZEN 1.0 request and response shapes. Unknown fields are ignored, as the specification asks."""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class Subject(msgspec.Struct):
    type: str
    id: str
    properties: dict[str, Any] = {}


class Action(msgspec.Struct):
    name: str
    properties: dict[str, Any] = {}


class Resource(msgspec.Struct):
    type: str
    id: str
    properties: dict[str, Any] = {}


class EvaluationRequest(msgspec.Struct):
    subject: Subject
    action: Action
    resource: Resource
    context: dict[str, Any] = {}


class EvaluationResponse(msgspec.Struct):
    decision: bool
    context: dict[str, Any]


class EvaluationItem(msgspec.Struct):
    """One entry of `evaluations`: whatever it leaves out comes from the request's top level."""

    subject: Subject | None = None
    action: Action | None = None
    resource: Resource | None = None
    context: dict[str, Any] | None = None


class EvaluationsOptions(msgspec.Struct):
    evaluations_semantic: Literal["execute_all", "deny_on_first_deny", "permit_on_first_permit"] = "execute_all"


class EvaluationsRequest(msgspec.Struct):
    subject: Subject | None = None
    action: Action | None = None
    resource: Resource | None = None
    context: dict[str, Any] | None = None
    evaluations: list[EvaluationItem] = []
    options: EvaluationsOptions = msgspec.field(default_factory=EvaluationsOptions)


class EvaluationsResponse(msgspec.Struct):
    evaluations: list[EvaluationResponse]

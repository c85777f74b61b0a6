"""AuthZEN 1.0 access evaluation endpoints (scope authz:evaluate)."""

from __future__ import annotations

from litestar import Controller, post
from litestar.datastructures import State
from litestar.params import JSONBody

from accessctl.audit import AuditEvent, AuditWriter
from accessctl.audit.events import new_event_id
from accessctl.db import utcnow
from accessctl.errors import InvalidInput
from accessctl.pdp import DecisionPoint
from accessctl.pdp.recording import decision_event
from accessctl.web.auth import requires
from accessctl.web.authzen_mapping import access_request, merged, response
from accessctl.web.authzen_schemas import (
    EvaluationItem,
    EvaluationRequest,
    EvaluationResponse,
    EvaluationsRequest,
    EvaluationsResponse,
)

MAX_BATCH = 1000
EVALUATE_SCOPE = "authz:evaluate"


Semantic = str


def _stops(semantic: Semantic, allowed: bool) -> bool:
    return (semantic == "deny_on_first_deny" and not allowed) or (semantic == "permit_on_first_permit" and allowed)


async def decide_and_record(
    state: State, evaluations: list[EvaluationRequest], semantic: Semantic = "execute_all"
) -> list[EvaluationResponse]:
    """Decide in order, then answer only once every decision about a patient has its audit record committed."""
    requests = [
        access_request(e, f"evaluations[{i}]." if len(evaluations) > 1 else "") for i, e in enumerate(evaluations)
    ]
    point: DecisionPoint = state.decision_point
    writer: AuditWriter = state.audit_writer
    async with point.gate.deciding():
        engine = point.engine
        now = utcnow()
        answers: list[EvaluationResponse] = []
        events: list[AuditEvent] = []
        for evaluation, request in zip(evaluations, requests, strict=True):
            decision = engine.decide(request, now)
            decision_id = new_event_id()  # also its audit event's id
            answers.append(response(decision, decision_id))
            if request.patient is not None:
                events.append(decision_event(engine, request, decision, decision_id, evaluation.context, now))
            if _stops(semantic, decision.allowed):
                break
        if events:
            await writer.record_many(events)
    return answers


async def evaluate_one(state: State, data: EvaluationRequest) -> EvaluationResponse:
    return (await decide_and_record(state, [data]))[0]


async def evaluate_many(state: State, data: EvaluationsRequest) -> EvaluationsResponse:
    if len(data.evaluations) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} evaluations in one request", field="evaluations")
    items = data.evaluations or [EvaluationItem()]
    requests = [merged(data, item, index) for index, item in enumerate(items)]
    answers = await decide_and_record(state, requests, data.options.evaluations_semantic)
    return EvaluationsResponse(evaluations=answers)


class AuthZenController(Controller):
    """Declares the two routes, their scope and shapes (and so their OpenAPI entries).

    The app serves a POST to exactly these paths through `web.evaluation_endpoint` before routing, which calls
    the same functions; these handlers answer what reaches Litestar's router (a trailing slash, for one).
    """

    path = "/access/v1"
    guards = [requires(EVALUATE_SCOPE)]
    tags = ["authzen"]

    @post("/evaluation", status_code=200)
    async def evaluation(self, state: State, data: JSONBody[EvaluationRequest]) -> EvaluationResponse:
        """May this subject do this action on this resource, now?"""
        return await evaluate_one(state, data)

    @post("/evaluations", status_code=200)
    async def evaluations(self, state: State, data: JSONBody[EvaluationsRequest]) -> EvaluationsResponse:
        """Many evaluations with top-level defaults; `options.evaluations_semantic` may stop early."""
        return await evaluate_many(state, data)

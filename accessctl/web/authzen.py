"""AuthZEN 1.0 access evaluation endpoints (scope authz:evaluate)."""

from __future__ import annotations

import uuid

from litestar import Controller, post
from litestar.datastructures import State
from litestar.params import JSONBody

from accessctl.errors import InvalidInput
from accessctl.pdp import DecisionPoint
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


def _evaluate(point: DecisionPoint, evaluation: EvaluationRequest, prefix: str = "") -> EvaluationResponse:
    decision = point.decide(access_request(evaluation, prefix))
    return response(decision, uuid.uuid4())


class AuthZenController(Controller):
    path = "/access/v1"
    guards = [requires("authz:evaluate")]
    tags = ["authzen"]

    @post("/evaluation", status_code=200)
    async def evaluation(self, state: State, data: JSONBody[EvaluationRequest]) -> EvaluationResponse:
        """May this subject do this action on this resource, now?"""
        return _evaluate(state.decision_point, data)

    @post("/evaluations", status_code=200)
    async def evaluations(self, state: State, data: JSONBody[EvaluationsRequest]) -> EvaluationsResponse:
        """Many evaluations with top-level defaults; `options.evaluations_semantic` may stop early."""
        if len(data.evaluations) > MAX_BATCH:
            raise InvalidInput(f"at most {MAX_BATCH} evaluations in one request", field="evaluations")
        items = data.evaluations or [EvaluationItem()]
        requests = [merged(data, item, index) for index, item in enumerate(items)]
        semantic = data.options.evaluations_semantic
        answers: list[EvaluationResponse] = []
        for index, request in enumerate(requests):
            answer = _evaluate(state.decision_point, request, f"evaluations[{index}].")
            answers.append(answer)
            if (semantic == "deny_on_first_deny" and not answer.decision) or (
                semantic == "permit_on_first_permit" and answer.decision
            ):
                break
        return EvaluationsResponse(evaluations=answers)

"""AuthZEN 1.0 PDP metadata: lists only the endpoints that exist in this app."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

AUTHZEN_ENDPOINTS = {
    "access_evaluation_endpoint": "/access/v1/evaluation",
    "access_evaluations_endpoint": "/access/v1/evaluations",
    "search_subject_endpoint": "/access/v1/search/subject",
    "search_resource_endpoint": "/access/v1/search/resource",
    "search_action_endpoint": "/access/v1/search/action",
}


@get("/.well-known/authzen-configuration", tags=["authzen"])
async def authzen_configuration(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The PDP's base URL and each AuthZEN endpoint this app serves."""
    base = str(request.base_url).rstrip("/")
    served = {route.path for route in request.app.routes}
    metadata = {"policy_decision_point": base}
    for name, path in AUTHZEN_ENDPOINTS.items():
        if path in served:
            metadata[name] = base + path
    return metadata

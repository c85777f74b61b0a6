"""What /ServiceProviderConfig, /ResourceTypes and /Schemas answer (RFC 7643 §5-7): plain documents."""

from __future__ import annotations

from typing import Any

from accessctl.hr_sync.schemas import (
    ENTERPRISE,
    ENTERPRISE_SCHEMA,
    GROUP,
    GROUP_SCHEMA,
    HEALTH,
    HEALTH_SCHEMA,
    RESOURCE_TYPE,
    SCHEMA,
    SERVICE_PROVIDER_CONFIG,
    UNIT,
    UNIT_SCHEMA,
    USER,
    USER_SCHEMA,
    attribute,
    schema_document,
)

MAX_RESULTS = 1000
DOCS = "https://accessctl.example/docs/hr-integration"


def service_provider_config() -> dict[str, Any]:
    """The features this server supports, advertised as they are."""
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": DOCS,
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A JWT bearer token carrying the hr:write scope",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/ServiceProviderConfig"},
    }


RESOURCE_TYPES: list[dict[str, Any]] = [
    {
        "schemas": [RESOURCE_TYPE],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "Health workers",
        "schema": USER,
        "schemaExtensions": [{"schema": ENTERPRISE, "required": False}, {"schema": HEALTH, "required": True}],
        "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/User"},
    },
    {
        "schemas": [RESOURCE_TYPE],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "Units of the organisations, with the users employed in them now",
        "schema": GROUP,
        "schemaExtensions": [{"schema": UNIT, "required": True}],
        "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/Group"},
    },
]

_RO = "readOnly"


def _ro(name: str, kind: str = "string", **kw: Any) -> dict[str, Any]:
    return attribute(name, kind, mutability=_RO, **kw)


_META_SCHEMAS = [
    schema_document(
        SERVICE_PROVIDER_CONFIG,
        "ServiceProviderConfig",
        "Service Provider Configuration",
        [
            _ro("documentationUri", "reference", references=["external"]),
            _ro("patch", "complex", required=True, sub=[_ro("supported", "boolean", required=True)]),
            _ro(
                "bulk",
                "complex",
                required=True,
                sub=[
                    _ro("supported", "boolean", required=True),
                    _ro("maxOperations", "integer", required=True),
                    _ro("maxPayloadSize", "integer", required=True),
                ],
            ),
            _ro(
                "filter",
                "complex",
                required=True,
                sub=[_ro("supported", "boolean", required=True), _ro("maxResults", "integer", required=True)],
            ),
            _ro("changePassword", "complex", required=True, sub=[_ro("supported", "boolean", required=True)]),
            _ro("sort", "complex", required=True, sub=[_ro("supported", "boolean", required=True)]),
            _ro("etag", "complex", required=True, sub=[_ro("supported", "boolean", required=True)]),
            _ro(
                "authenticationSchemes",
                "complex",
                multi=True,
                required=True,
                sub=[
                    _ro("type", required=True),
                    _ro("name", required=True),
                    _ro("description", required=True),
                    _ro("specUri", "reference", references=["external"]),
                    _ro("documentationUri", "reference", references=["external"]),
                    _ro("primary", "boolean"),
                ],
            ),
        ],
    ),
    schema_document(
        RESOURCE_TYPE,
        "ResourceType",
        "Resource Type",
        [
            _ro("id"),
            _ro("name", required=True),
            _ro("description"),
            _ro("endpoint", "reference", required=True, references=["uri"]),
            _ro("schema", "reference", required=True, case_exact=True, references=["uri"]),
            _ro(
                "schemaExtensions",
                "complex",
                multi=True,
                sub=[
                    _ro("schema", "reference", required=True, case_exact=True, references=["uri"]),
                    _ro("required", "boolean", required=True),
                ],
            ),
        ],
    ),
    schema_document(
        SCHEMA,
        "Schema",
        "Specifies the schema attributes",
        [
            _ro("id", required=True),
            _ro("name", required=True),
            _ro("description"),
            _ro(
                "attributes",
                "complex",
                multi=True,
                required=True,
                sub=[
                    _ro("name", required=True, case_exact=True),
                    _ro(
                        "type",
                        required=True,
                        canonical=[
                            "string",
                            "complex",
                            "boolean",
                            "decimal",
                            "integer",
                            "dateTime",
                            "reference",
                            "binary",
                        ],
                    ),
                    _ro("multiValued", "boolean", required=True),
                    _ro("description"),
                    _ro("required", "boolean"),
                    _ro("canonicalValues", multi=True),
                    _ro("caseExact", "boolean"),
                    _ro("mutability", canonical=["readOnly", "readWrite", "immutable", "writeOnly"]),
                    _ro("returned", canonical=["always", "never", "default", "request"]),
                    _ro("uniqueness", canonical=["none", "server", "global"]),
                    _ro("referenceTypes", multi=True),
                    _ro("subAttributes", "complex", multi=True),
                ],
            ),
        ],
    ),
]

SCHEMAS: list[dict[str, Any]] = [
    USER_SCHEMA,
    ENTERPRISE_SCHEMA,
    HEALTH_SCHEMA,
    GROUP_SCHEMA,
    UNIT_SCHEMA,
    *_META_SCHEMAS,
]


def schema_by_id(urn: str) -> dict[str, Any] | None:
    return next((s for s in SCHEMAS if s["id"] == urn), None)


def resource_type_by_id(name: str) -> dict[str, Any] | None:
    return next((r for r in RESOURCE_TYPES if r["id"] == name), None)

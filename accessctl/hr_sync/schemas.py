"""The schemas accessctl publishes at /Schemas: only the attributes it stores, with their real mutability."""

from __future__ import annotations

from typing import Any

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HEALTH = "urn:accessctl:scim:schemas:extension:health:1.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
USER_EXTENSIONS = (ENTERPRISE, HEALTH)


def attribute(
    name: str,
    kind: str = "string",
    *,
    description: str = "",
    multi: bool = False,
    required: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    case_exact: bool = False,
    sub: list[dict[str, Any]] | None = None,
    canonical: list[str] | None = None,
    references: list[str] | None = None,
) -> dict[str, Any]:
    """One attribute definition (RFC 7643 §7)."""
    definition: dict[str, Any] = {
        "name": name,
        "type": kind,
        "multiValued": multi,
        "description": description or name,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": uniqueness,
    }
    if sub is not None:
        definition["subAttributes"] = sub
    if canonical is not None:
        definition["canonicalValues"] = canonical
    if references is not None:
        definition["referenceTypes"] = references
    return definition


def schema_document(urn: str, name: str, description: str, attributes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [SCHEMA],
        "id": urn,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": f"/Schemas/{urn}"},
    }


USER_SCHEMA = schema_document(
    USER,
    "User",
    "A health worker as HR knows them",
    [
        attribute(
            "externalId",
            description="The HR id: stable, unique, set by the HR system",
            required=True,
            case_exact=True,
            uniqueness="server",
        ),
        attribute("userName", description="Unique login name", required=True, uniqueness="server"),
        attribute(
            "name",
            "complex",
            required=True,
            sub=[
                attribute("givenName", required=True),
                attribute("familyName", required=True),
            ],
        ),
        attribute("displayName", description="Given and family name", mutability="readOnly"),
        attribute(
            "emails",
            "complex",
            multi=True,
            description="One work address is kept: of those sent, the primary, else the work one, else the first",
            sub=[
                attribute("value"),
                attribute("type", canonical=["work"]),
            ],
        ),
        attribute(
            "active",
            "boolean",
            required=True,
            description="False for a deactivated user: every access is denied; true when left out on create",
        ),
    ],
)

ENTERPRISE_SCHEMA = schema_document(
    ENTERPRISE,
    "EnterpriseUser",
    "Enterprise User (RFC 7643 §4.3): the HR id and the employing organisation",
    [
        attribute("employeeNumber", description="The HR id (same as externalId)", mutability="readOnly"),
        attribute("organization", description="Organisation of the current employment", mutability="readOnly"),
        attribute("department", description="Unit of the current employment", mutability="readOnly"),
    ],
)

HEALTH_SCHEMA = schema_document(
    HEALTH,
    "HealthWorker",
    "accessctl: HPR number and effective-dated employments",
    [
        attribute("hprNumber", description="Health-personnel register number: 7 to 9 digits", case_exact=True),
        attribute(
            "employments",
            "complex",
            multi=True,
            required=True,
            description="Every employment; replaced as a whole on each write",
            sub=[
                attribute("unit", required=True, case_exact=True, description="accessctl unit id"),
                attribute("positionCode", required=True, case_exact=True),
                attribute("validFrom", "dateTime", required=True),
                attribute("validTo", "dateTime", description="Exclusive end; absent while open"),
            ],
        ),
    ],
)

GROUP_SCHEMA = schema_document(
    GROUP,
    "Group",
    "A unit of an organisation, with the users employed in it now; read-only (the org feed owns units)",
    [
        attribute("displayName", required=True, mutability="readOnly"),
        attribute(
            "members",
            "complex",
            multi=True,
            mutability="readOnly",
            sub=[
                attribute("value", mutability="readOnly", case_exact=True),
                attribute("$ref", "reference", mutability="readOnly", references=["User"]),
                attribute("display", mutability="readOnly"),
                attribute("type", mutability="readOnly", canonical=["User"]),
            ],
        ),
    ],
)

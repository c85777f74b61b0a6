"""The schemas accessctl publishes at /Schemas: only the attributes it stores, with their real mutability."""

from __future__ import annotations

from typing import Any

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HEALTH = "urn:accessctl:scim:schemas:extension:health:1.0:User"
UNIT = "urn:accessctl:scim:schemas:extension:unit:1.0:Group"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
# Every extension URN an attribute path may start with, Users' and Groups'.
EXTENSIONS = (ENTERPRISE, HEALTH, UNIT)


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
    "Enterprise User (RFC 7643 §4.3): HR's data, stored and returned as sent; access decisions never read it",
    [
        attribute("employeeNumber", description="HR's employee number"),
        attribute("costCenter", description="Cost center"),
        attribute("organization", description="Organisation name, as HR has it"),
        attribute("division", description="Division"),
        attribute("department", description="Department, as HR names it (employments, not this, place the user)"),
        attribute(
            "manager",
            "complex",
            description="The user's manager",
            sub=[attribute("value", case_exact=True, description="The manager's id, as HR sends it")],
        ),
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
    "A unit of an organisation: HR creates, renames, moves and removes units here or with PUT /v1/org/units",
    [
        attribute(
            "externalId",
            description="The unit id HR gives it, also the Group's id: employments name the unit by it",
            required=True,
            mutability="immutable",
            case_exact=True,
            uniqueness="server",
        ),
        attribute("displayName", description="The unit's name", required=True),
        attribute(
            "members",
            "complex",
            multi=True,
            mutability="readOnly",
            description="The active users employed in the unit now (from their employments; set on the User)",
            sub=[
                attribute("value", mutability="readOnly", case_exact=True),
                attribute("$ref", "reference", mutability="readOnly", references=["User"]),
                attribute("display", mutability="readOnly"),
                attribute("type", mutability="readOnly", canonical=["User"]),
            ],
        ),
    ],
)

UNIT_SCHEMA = schema_document(
    UNIT,
    "Unit",
    "accessctl: where the unit sits (organisation, parent), its kind and the catalogue services it provides",
    [
        attribute(
            "organisation",
            description="Organisation number (9 digits, mod-11) of the organisation the unit belongs to",
            required=True,
            mutability="immutable",
            case_exact=True,
        ),
        attribute(
            "parent", case_exact=True, description="The parent unit's id, in the same organisation; none: a root"
        ),
        attribute(
            "kind",
            required=True,
            description="department, section, ward, clinic, team, ...; department when left out",
        ),
        attribute(
            "services",
            multi=True,
            case_exact=True,
            description="Catalogue service ids the unit provides; role documents assign roles by them",
        ),
    ],
)

"""The typed model of the policy files: role documents and the catalogues they refer to.

The committed JSON Schema (`policies/role-document.schema.json`) is generated from `RoleDocument`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import msgspec

from accessctl.engine.types import Scope

# Ids end up in Casbin's CSV policy, which splits on commas and treats brackets specially: the patterns keep
# them to letters, digits and a few separators. Role ids fit the `roles.id` column (64 characters).
ROLE_ID_PATTERN = r"^[a-z][a-z0-9]*([._-][a-z0-9]+)*$"
SERVICE_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
RESOURCE_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
ACTION_PATTERN = r"^[a-z][a-z0-9_]*$"
POSITION_CODE_PATTERN = r"^[0-9A-Za-z]{2,16}$"
# `regional`, an organisation kind (as in accessctl.directory.models.ORGANISATION_KINDS), or a 9-digit
# organisation number.
OWNER_PATTERN = r"^(regional|health_trust|municipality|gp_office|specialist|physiotherapist|other|[0-9]{9})$"
BREAK_GLASS_MAX_MINUTES = 720

RoleId = Annotated[str, msgspec.Meta(pattern=ROLE_ID_PATTERN, max_length=64)]
ServiceId = Annotated[str, msgspec.Meta(pattern=SERVICE_ID_PATTERN, max_length=64)]
ResourceTypeName = Annotated[str, msgspec.Meta(pattern=RESOURCE_TYPE_PATTERN, max_length=64)]
ActionName = Annotated[str, msgspec.Meta(pattern=ACTION_PATTERN, max_length=32)]
PositionCode = Annotated[str, msgspec.Meta(pattern=POSITION_CODE_PATTERN)]
AddressCategory = Literal["protected_address", "strictly_protected_address"]
NonEmptyText = Annotated[str, msgspec.Meta(min_length=1)]


class PermissionDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Actions the role may take on one resource type, limited by scope."""

    resource_type: ResourceTypeName
    actions: Annotated[list[ActionName], msgspec.Meta(min_length=1)]
    scope: Scope


class PositionRuleDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Employments with one of these positions, in a unit providing one of these services, get the role."""

    # Without `additive`, two roles whose rules name the same position in overlapping services conflict (an
    # empty `services` overlaps every service); `additive: true` says the role comes on top of the other one.
    positions: Annotated[list[PositionCode], msgspec.Meta(min_length=1)]
    services: list[ServiceId] = []
    additive: bool = False


class BreakGlassDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Whether holders may request emergency access, and for at most how many minutes per grant."""

    allowed: bool
    max_minutes: Annotated[int, msgspec.Meta(ge=0, le=BREAK_GLASS_MAX_MINUTES)] = 0


class RoleDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One approved role: what it may do, where, which positions get it, and its emergency access."""

    id: Annotated[RoleId, msgspec.Meta(description="Stable role id; the file is named <id>.yaml.")]
    name: Annotated[NonEmptyText, msgspec.Meta(description="The role's name as health workers know it.")]
    description: Annotated[NonEmptyText, msgspec.Meta(description="Who holds the role and what it is for.")]
    owner: Annotated[
        str,
        msgspec.Meta(
            pattern=OWNER_PATTERN,
            description="Who maintains it: regional, an organisation kind, or a 9-digit organisation number.",
        ),
    ]
    services: Annotated[
        list[ServiceId], msgspec.Meta(description="Catalogue services the role applies to; empty: every service.")
    ]
    assign: Annotated[
        list[PositionRuleDocument],
        msgspec.Meta(description="Position rules that give the role; empty: granted by hand only."),
    ] = []
    permissions: Annotated[list[PermissionDocument], msgspec.Meta(min_length=1)]
    break_glass: BreakGlassDocument
    shielded_services: Annotated[
        list[ServiceId], msgspec.Meta(description="Shielded services whose records the role may see.")
    ] = []
    address_access: Annotated[
        list[AddressCategory], msgspec.Meta(description="Protected-address categories the role may see.")
    ] = []
    change_note: Annotated[NonEmptyText, msgspec.Meta(description="What changed in this version, and why.")]


class ResourceTypeDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A kind of data or function a permission can name, with the actions valid for it."""

    name: ResourceTypeName
    description: NonEmptyText
    patient_bound: bool
    actions: Annotated[list[ActionName], msgspec.Meta(min_length=1)]


class ResourceTypeCatalogue(msgspec.Struct, forbid_unknown_fields=True):
    """`policies/resource-types.yaml`."""

    resource_types: Annotated[list[ResourceTypeDocument], msgspec.Meta(min_length=1)]


class ServiceEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A service from the catalogue; records written in a shielded one stay within it."""

    id: ServiceId
    name: NonEmptyText
    group: str
    shielded: bool


class ServiceCatalogue(msgspec.Struct, forbid_unknown_fields=True):
    """`policies/services.yaml`."""

    services: Annotated[list[ServiceEntry], msgspec.Meta(min_length=1)]


class PositionEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A position code (stillingskode) that position rules may name."""

    code: PositionCode
    title: NonEmptyText
    profession: str


class PositionCatalogue(msgspec.Struct, forbid_unknown_fields=True):
    """`policies/positions.yaml`."""

    positions: Annotated[list[PositionEntry], msgspec.Meta(min_length=1)]


def role_document_schema() -> dict[str, Any]:
    """The JSON Schema of a role document, as committed in `policies/role-document.schema.json`."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": "Generated from accessctl.policies.documents.RoleDocument; do not edit by hand.",
        **msgspec.json.schema(RoleDocument),
    }
    return schema


def role_document_schema_text() -> str:
    """The schema as the committed file holds it: sorted keys, two-space indent, trailing newline."""
    return json.dumps(role_document_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

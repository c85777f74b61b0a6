"""The typed shape of the access-test files: `policies/tests/fixtures.yaml` and the case files beside it.

Dates may be written as `2025-06-02` (midnight UTC) or as timestamps with a zone (`2025-06-02T10:00:00Z`); a
timestamp without a zone is refused, so no case silently depends on the machine's clock zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from accessctl.policies.documents import NonEmptyText, PositionCode

Moment = Annotated[datetime, msgspec.Meta(tz=True)]
Status = Literal["active", "inactive"]
Outcome = Literal["permit", "deny"]
# The same values as accessctl.context.models (a test keeps them equal); repeated so mypy can check them.
CareRelationKind = Literal["admission", "appointment", "referral", "home_care_decision", "gp_list"]
BlockCategory = Literal["protected_address", "strictly_protected_address", "psychiatry", "sexual_health", "genetics"]


class EmploymentEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A user's job in one unit with one position code, over [from, to)."""

    unit: str
    position: PositionCode
    from_: Moment = msgspec.field(name="from")
    to: Moment | None = None


class ManualAssignmentEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A role granted by hand (roles with no position rule), always with an end date."""

    role: str
    unit: str
    from_: Moment = msgspec.field(name="from")
    to: Moment
    approver: str | None = None


class OrganisationEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A legal entity; it is live from its go-live date, and only with a signed agreement."""

    id: str
    name: str = ""
    kind: str = ""
    go_live: Moment | None
    agreement_signed: bool = True


class UnitEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A node of an organisation's tree and the catalogue services it provides."""

    id: str
    organisation: str
    name: str = ""
    parent: str | None = None
    services: list[str] = []


class UserEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A health worker of the fixture population."""

    id: str
    name: str = ""
    status: Status = "active"
    national_id: str | None = None
    employments: list[EmploymentEntry] = []
    assignments: list[ManualAssignmentEntry] = []


class FixturesDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`policies/tests/fixtures.yaml`: the moment cases are decided at, and the population they share."""

    at: Moment
    organisations: Annotated[list[OrganisationEntry], msgspec.Meta(min_length=1)]
    units: Annotated[list[UnitEntry], msgspec.Meta(min_length=1)]
    users: list[UserEntry] = []


class SubjectEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Who asks: a fixture `user`, an `unknown_user` the directory lacks, or an inline user with employments."""

    user: str | None = None
    unknown_user: str | None = None
    id: str | None = None
    status: Status = "active"
    national_id: str | None = None
    employments: list[EmploymentEntry] = []
    assignments: list[ManualAssignmentEntry] = []


class ResourceEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The resource's properties: whose data, where it lives, which service wrote it, its categories."""

    patient: str | None = None
    unit: str | None = None
    service: str | None = None
    categories: list[BlockCategory] = []


class CareRelationEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A care relation of the case's patient with a user or a unit (from: 30 days before the case by default)."""

    user: str | None = None
    unit: str | None = None
    kind: CareRelationKind
    from_: Moment | None = msgspec.field(default=None, name="from")
    to: Moment | None = None


class BlockEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A block on the case's patient, against exactly one of a user, a unit or a category."""

    user: str | None = None
    unit: str | None = None
    category: BlockCategory | None = None
    from_: Moment | None = msgspec.field(default=None, name="from")
    to: Moment | None = None


class BreakGlassEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A break-the-glass grant for the case's patient (to the subject unless `user` says otherwise)."""

    user: str | None = None
    reason_code: NonEmptyText = "emergency"
    from_: Moment | None = msgspec.field(default=None, name="from")
    minutes: Annotated[int, msgspec.Meta(ge=1)] = 60
    ended: Moment | None = None


class ExpectEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The decision the approvers expect; `roles`, when given, are exactly the roles the decision names."""

    decision: Outcome
    reason: str
    break_glass_available: bool | None = None
    roles: list[str] | None = None


class CaseEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One access test: who asks, from which unit, to do what, in which patient context, and the answer."""

    name: NonEmptyText
    subject: SubjectEntry
    unit: str | None
    action: str
    resource_type: str
    resource: ResourceEntry = msgspec.field(default_factory=ResourceEntry)
    care_relations: list[CareRelationEntry] = []
    blocks: list[BlockEntry] = []
    break_glass: BreakGlassEntry | None = None
    at: Moment | None = None
    expect: ExpectEntry
    note: str = ""


class CaseFileDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A case file: a description and its cases (each case is checked on its own, so one bad case is not all)."""

    description: str = ""
    cases: Annotated[list[object], msgspec.Meta(min_length=1)]

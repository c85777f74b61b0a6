"""SCIM problems as domain errors: each carries the RFC 7644 `scimType` and names the attribute, never an HTTP code."""

from __future__ import annotations

from accessctl.errors import AccessctlError, Conflict, InvalidInput, NotFound, PreconditionFailed


class ScimProblem(AccessctlError):
    """Base of the problems a SCIM caller can fix; `scim_type` is the RFC 7644 §3.12 keyword (or None)."""

    scim_type: str | None = None


class InvalidFilter(ScimProblem, InvalidInput):
    scim_type = "invalidFilter"


class InvalidSyntax(ScimProblem, InvalidInput):
    scim_type = "invalidSyntax"


class InvalidValue(ScimProblem, InvalidInput):
    scim_type = "invalidValue"


class InvalidPath(ScimProblem, InvalidInput):
    scim_type = "invalidPath"


class NoTarget(ScimProblem, InvalidInput):
    scim_type = "noTarget"


class MutabilityViolation(ScimProblem, InvalidInput):
    scim_type = "mutability"


class TooMany(ScimProblem, InvalidInput):
    scim_type = "tooMany"


class UniquenessViolation(ScimProblem, Conflict):
    scim_type = "uniqueness"


class ResourceNotFound(ScimProblem, NotFound):
    """No such resource, or a user SCIM has deleted (a leaver)."""


class VersionMismatch(ScimProblem, PreconditionFailed):
    """The `If-Match` version is not the stored one: someone changed the resource since the caller read it."""

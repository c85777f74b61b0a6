"""Domain errors. They carry no HTTP codes: the web layer maps them in one table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accessctl.policies.problems import Problem


class AccessctlError(Exception):
    """Base of every error the service raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidSetting(AccessctlError):
    code = "invalid_setting"

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}", field=name)


class InvalidInput(AccessctlError):
    """The caller sent something that breaks a domain rule; names the field."""

    code = "invalid_request"


class NotFound(AccessctlError):
    code = "not_found"


class Conflict(AccessctlError):
    code = "conflict"


class PreconditionFailed(AccessctlError):
    code = "precondition_failed"


class Unauthenticated(AccessctlError):
    code = "unauthenticated"


class Forbidden(AccessctlError):
    code = "forbidden"


class StoreUnavailable(AccessctlError):
    """The database cannot be reached; decisions about patients fail closed."""

    code = "store_unavailable"


class InvalidPolicy(AccessctlError):
    """The role documents do not validate, so nothing was compiled; each problem names file, line, field."""

    code = "invalid_policy"

    def __init__(self, problems: Sequence[Problem]) -> None:
        shown = "; ".join(str(problem) for problem in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(f"{len(problems)} problem(s) in the role documents: {shown}{more}")
        self.problems = tuple(problems)


class SelfApproval(Conflict):
    """Four eyes: the author of a policy version (or the grantee of an assignment) may not approve it."""

    code = "self_approval"


class PolicyUnchanged(Conflict):
    """The files are identical to the active policy version, so there is nothing to publish."""

    code = "policy_unchanged"


class AccessTestsFailed(AccessctlError):
    """A policy version failed its access tests, so it was not activated; `failures` lists each failing case."""

    code = "access_tests_failed"

    def __init__(self, message: str, failures: Sequence[dict[str, object]]) -> None:
        super().__init__(message)
        self.failures = tuple(failures)

"""HR sync: the SCIM 2.0 mapping, filter language and user service that joiners, movers and leavers go through."""

from accessctl.hr_sync.errors import ScimProblem
from accessctl.hr_sync.filters import Filter, matches, parse_filter
from accessctl.hr_sync.hooks import AssignmentRecompute, LeaverGuard, NoLeaverGuard
from accessctl.hr_sync.mapping import user_from_scim, user_to_scim
from accessctl.hr_sync.patch import apply_patch
from accessctl.hr_sync.projection import project
from accessctl.hr_sync.records import EmploymentRecord, StoredUser, UserRecord
from accessctl.hr_sync.service import HrUserService
from accessctl.hr_sync.store import search_users

__all__ = [
    "AssignmentRecompute",
    "EmploymentRecord",
    "Filter",
    "HrUserService",
    "LeaverGuard",
    "NoLeaverGuard",
    "ScimProblem",
    "StoredUser",
    "UserRecord",
    "apply_patch",
    "matches",
    "parse_filter",
    "project",
    "search_users",
    "user_from_scim",
    "user_to_scim",
]

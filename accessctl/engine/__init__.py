"""The hot path: compiled indexes, a decision cache and decide(). No web framework, no database session."""

from accessctl.engine.bench import BenchResult, measure
from accessctl.engine.cache import DecisionCache
from accessctl.engine.engine import Engine
from accessctl.engine.reasons import (
    BREAK_GLASS_OPENS,
    DEFAULT_BREAK_GLASS_REASONS,
    DENY_REASONS,
    PERMIT_REASONS,
    SCOPE_PREFERENCE,
    Reason,
)
from accessctl.engine.snapshot import Snapshot
from accessctl.engine.types import (
    ADDRESS_CATEGORIES,
    SCOPES,
    AccessRequest,
    AssignmentFacts,
    BreakGlassGrantFacts,
    BreakGlassOffer,
    CareRelationFacts,
    CompiledPolicy,
    CompiledRole,
    Decision,
    EmploymentFacts,
    OrganisationFacts,
    PatientBlockFacts,
    Permission,
    PositionRule,
    ResourceType,
    Scope,
    UnitFacts,
    UserFacts,
)

__all__ = [
    "ADDRESS_CATEGORIES",
    "BREAK_GLASS_OPENS",
    "DEFAULT_BREAK_GLASS_REASONS",
    "DENY_REASONS",
    "PERMIT_REASONS",
    "SCOPES",
    "SCOPE_PREFERENCE",
    "AccessRequest",
    "AssignmentFacts",
    "BenchResult",
    "BreakGlassGrantFacts",
    "BreakGlassOffer",
    "CareRelationFacts",
    "CompiledPolicy",
    "CompiledRole",
    "Decision",
    "DecisionCache",
    "EmploymentFacts",
    "Engine",
    "OrganisationFacts",
    "PatientBlockFacts",
    "Permission",
    "PositionRule",
    "Reason",
    "ResourceType",
    "Scope",
    "Snapshot",
    "UnitFacts",
    "UserFacts",
    "measure",
]

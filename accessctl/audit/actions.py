"""Audit actions as dotted constants: callers, queries and exports key on these strings, so only add."""

from __future__ import annotations

DECISION_PERMIT = "decision.permit"
DECISION_DENY = "decision.deny"
BREAK_GLASS_GRANTED = "break_glass.granted"
BREAK_GLASS_ENDED = "break_glass.ended"
BREAK_GLASS_REVIEWED = "break_glass.reviewed"
BREAK_GLASS_REFUSED = "break_glass.refused"
POLICY_PUBLISHED = "policy.published"
POLICY_APPROVED = "policy.approved"
POLICY_ROLLED_BACK = "policy.rolled_back"
ASSIGNMENT_CHANGED = "assignment.changed"
HR_USER_CHANGED = "hr.user_changed"
HR_UNIT_CHANGED = "hr.unit_changed"
HR_ORG_TREE_CHANGED = "hr.org_tree_changed"
CONTEXT_CHANGED = "context.changed"
AUDIT_PURGED = "audit.purged"
AUDIT_EXPORTED = "audit.exported"

DECISIONS = frozenset({DECISION_PERMIT, DECISION_DENY})
ALL = frozenset(
    {
        DECISION_PERMIT,
        DECISION_DENY,
        BREAK_GLASS_GRANTED,
        BREAK_GLASS_ENDED,
        BREAK_GLASS_REVIEWED,
        BREAK_GLASS_REFUSED,
        POLICY_PUBLISHED,
        POLICY_APPROVED,
        POLICY_ROLLED_BACK,
        ASSIGNMENT_CHANGED,
        HR_USER_CHANGED,
        HR_UNIT_CHANGED,
        HR_ORG_TREE_CHANGED,
        CONTEXT_CHANGED,
        AUDIT_PURGED,
        AUDIT_EXPORTED,
    }
)

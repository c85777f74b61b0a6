"""Break the glass: emergency access to one patient, audited before it exists, time-boxed, and reviewed."""

from accessctl.break_glass.eligibility import BreakGlassRefused, Eligibility, eligibility
from accessctl.break_glass.models import BreakGlassGrant, BreakGlassReview, OutboxNotification
from accessctl.break_glass.reasons import ReasonCatalogue, ReasonCode, load_reasons
from accessctl.break_glass.relay import NotificationRelay, backoff
from accessctl.break_glass.reviews import AlreadyReviewed, ReviewFilter, ReviewItem, ReviewQueue, SelfReview
from accessctl.break_glass.scope import ReviewerScope
from accessctl.break_glass.senders import LogSender, Notification, NotificationSender, WebhookSender, sender_for
from accessctl.break_glass.service import BreakGlassRules, BreakGlassService, GrantRequest
from accessctl.break_glass.stats import GROUPS, GroupStats, break_glass_stats

__all__ = [
    "GROUPS",
    "AlreadyReviewed",
    "BreakGlassGrant",
    "BreakGlassRefused",
    "BreakGlassReview",
    "BreakGlassRules",
    "BreakGlassService",
    "Eligibility",
    "GrantRequest",
    "GroupStats",
    "LogSender",
    "Notification",
    "NotificationRelay",
    "NotificationSender",
    "OutboxNotification",
    "ReasonCatalogue",
    "ReasonCode",
    "ReviewFilter",
    "ReviewItem",
    "ReviewQueue",
    "ReviewerScope",
    "SelfReview",
    "WebhookSender",
    "backoff",
    "break_glass_stats",
    "eligibility",
    "load_reasons",
    "sender_for",
]

"""The audit log: append-only, hash-chained events, group-committed, with signed checkpoints and verify."""

from accessctl.audit.events import AuditEvent, ChainedEvent
from accessctl.audit.retention import PurgeResult, purge_before, retention_cutoff
from accessctl.audit.signing import Checkpoint, CheckpointSigner
from accessctl.audit.sink import AuditOutbox, AuditSink, StagedAuditSink
from accessctl.audit.verify import Problem, Report, verify_log
from accessctl.audit.writer import AuditWriter

__all__ = [
    "AuditEvent",
    "AuditOutbox",
    "AuditSink",
    "AuditWriter",
    "ChainedEvent",
    "Checkpoint",
    "CheckpointSigner",
    "Problem",
    "PurgeResult",
    "Report",
    "StagedAuditSink",
    "purge_before",
    "retention_cutoff",
    "verify_log",
]

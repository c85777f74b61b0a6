"""The change log: every write that can change a decision is logged in its own transaction, so engines catch up.

Writers call `log_change` inside the transaction that makes the change; on PostgreSQL that also sends a NOTIFY,
which PostgreSQL delivers only when the transaction commits. Engines read the log from the last sequence they
applied, so a lost notification (a reconnect) delays an update but never loses it.
"""

from accessctl.changes.log import (
    CHANGES_READ_AT_ONCE,
    CHANNEL,
    ChangeKind,
    ChangeRef,
    changes_since,
    latest_seq,
    log_change,
    logged_through,
)

__all__ = [
    "CHANGES_READ_AT_ONCE",
    "CHANNEL",
    "ChangeKind",
    "ChangeRef",
    "changes_since",
    "latest_seq",
    "log_change",
    "logged_through",
]

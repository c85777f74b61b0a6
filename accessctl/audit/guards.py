"""The triggers that make the audit tables append-only, and the SQL the retention purge needs to go around them.

PostgreSQL: a row trigger refuses UPDATE and DELETE and a statement trigger refuses TRUNCATE, on both tables;
retention detaches and drops whole monthly partitions, which fires no row trigger. SQLite: BEFORE UPDATE and
BEFORE DELETE triggers RAISE(ABORT); the purge (accessctl.audit.retention) is the one path that drops the delete
trigger, deletes, and recreates it in the same transaction, so the trigger is back whether it commits or not.
The migration `0003` holds a frozen copy of this SQL; keep the two equal (a test checks it).
"""

from __future__ import annotations

TABLES = ("audit_events", "audit_checkpoints")
REFUSAL = "audit log is append-only"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def pg_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    ]


def sqlite_update_trigger(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: UPDATE on {table} refused'); END"
    )


def sqlite_delete_trigger(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}: DELETE on {table} refused'); END"
    )

"""audit log: hash-chained events (monthly partitions on PostgreSQL), signed checkpoints, append-only triggers

The trigger SQL is a frozen copy of accessctl.audit.guards at this revision (a test keeps them equal).
Partitions of audit_events are created at run time by accessctl.audit.partitions, never here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 14:23:30.796719
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accessctl.db


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_checkpoints',
    sa.Column('chain_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', 'seq', name=op.f('pk_audit_checkpoints'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('chain_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('hpr_number', sa.String(length=9), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('organisation_id', sa.String(length=64), nullable=True),
    sa.Column('patient', sa.String(length=11), nullable=True),
    sa.Column('resource_type', sa.String(length=64), nullable=True),
    sa.Column('resource_id', sa.String(length=128), nullable=True),
    sa.Column('data_action', sa.String(length=16), nullable=True),
    sa.Column('outcome', sa.String(length=8), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('purpose_of_use', sa.String(length=16), nullable=True),
    sa.Column('break_glass_grant_id', sa.String(length=64), nullable=True),
    sa.Column('break_glass_reason_code', sa.String(length=64), nullable=True),
    sa.Column('client_system', sa.String(length=128), nullable=True),
    sa.Column('workstation', sa.String(length=128), nullable=True),
    sa.Column('policy_version', sa.String(length=64), nullable=True),
    sa.Column('decision_id', sa.Uuid(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', 'occurred_at', name=op.f('pk_audit_events')),
    postgresql_partition_by='RANGE (occurred_at)'
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_action_occurred_at', ['action', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_events_break_glass_grant_id', ['break_glass_grant_id'], unique=False)
        batch_op.create_index('ix_audit_events_chain_id_seq', ['chain_id', 'seq'], unique=False)
        batch_op.create_index('ix_audit_events_occurred_at', ['occurred_at'], unique=False)
        batch_op.create_index('ix_audit_events_organisation_id_occurred_at', ['organisation_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_events_patient_occurred_at', ['patient', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_events_unit_id_occurred_at', ['unit_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_audit_events_user_id_occurred_at', ['user_id', 'occurred_at'], unique=False)

    _create_guards()


def downgrade() -> None:
    _drop_guards()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_user_id_occurred_at')
        batch_op.drop_index('ix_audit_events_unit_id_occurred_at')
        batch_op.drop_index('ix_audit_events_patient_occurred_at')
        batch_op.drop_index('ix_audit_events_organisation_id_occurred_at')
        batch_op.drop_index('ix_audit_events_occurred_at')
        batch_op.drop_index('ix_audit_events_chain_id_seq')
        batch_op.drop_index('ix_audit_events_break_glass_grant_id')
        batch_op.drop_index('ix_audit_events_action_occurred_at')

    op.drop_table('audit_events')  # on PostgreSQL this drops every partition with it
    op.drop_table('audit_checkpoints')


_TABLES = ("audit_events", "audit_checkpoints")
_REFUSAL = "audit log is append-only"


def _create_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{_REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$
""")
        for table in _TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
            )
        return
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}: UPDATE on {table} refused'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}: DELETE on {table} refused'); END"
        )


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
        return
    for table in _TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")

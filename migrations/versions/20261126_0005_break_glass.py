"""break the glass: grants (audited before they exist), their reviews, and the notification outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 14:43:52.272006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accessctl.db


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows stay until a sender confirms them, so no notification is lost across restarts.
    op.create_table('notification_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', accessctl.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_notification_outbox_event_id'))
    )
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_notification_outbox_sent_at_next_attempt_at', ['sent_at', 'next_attempt_at'], unique=False)

    op.create_table('break_glass_grants',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('role_id', sa.String(length=64), nullable=False),
    sa.Column('patient', sa.String(length=11), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('purpose_of_use', sa.String(length=16), nullable=False),
    sa.Column('reason_text', sa.Text(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('granted_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', accessctl.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=200), nullable=True),
    sa.Column('end_recorded_at', accessctl.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('client_system', sa.String(length=128), nullable=True),
    sa.Column('workstation', sa.String(length=128), nullable=True),
    sa.Column('audit_event_id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_break_glass_grants_duration')),
    sa.CheckConstraint('expires_at > granted_at', name=op.f('ck_break_glass_grants_time_box')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_break_glass_grants_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_break_glass_grants_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_break_glass_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_break_glass_grants'))
    )
    with op.batch_alter_table('break_glass_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_break_glass_grants_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_break_glass_grants_granted_at'), ['granted_at'], unique=False)
        batch_op.create_index('ix_break_glass_grants_organisation_id_granted_at', ['organisation_id', 'granted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_break_glass_grants_patient'), ['patient'], unique=False)
        batch_op.create_index(batch_op.f('ix_break_glass_grants_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_break_glass_grants_user_id_patient', ['user_id', 'patient'], unique=False)

    op.create_table('break_glass_reviews',
    sa.Column('grant_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reviewer', sa.String(length=200), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('reviewed_at', accessctl.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue_notified_at', accessctl.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'justified', 'unjustified', 'follow_up')", name=op.f('ck_break_glass_reviews_status')),
    sa.ForeignKeyConstraint(['grant_id'], ['break_glass_grants.id'], name=op.f('fk_break_glass_reviews_grant_id_break_glass_grants')),
    sa.PrimaryKeyConstraint('grant_id', name=op.f('pk_break_glass_reviews'))
    )
    with op.batch_alter_table('break_glass_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_break_glass_reviews_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('break_glass_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_break_glass_reviews_status'))

    op.drop_table('break_glass_reviews')
    with op.batch_alter_table('break_glass_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_break_glass_grants_user_id_patient')
        batch_op.drop_index(batch_op.f('ix_break_glass_grants_unit_id'))
        batch_op.drop_index(batch_op.f('ix_break_glass_grants_patient'))
        batch_op.drop_index('ix_break_glass_grants_organisation_id_granted_at')
        batch_op.drop_index(batch_op.f('ix_break_glass_grants_granted_at'))
        batch_op.drop_index(batch_op.f('ix_break_glass_grants_expires_at'))

    op.drop_table('break_glass_grants')
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_outbox_sent_at_next_attempt_at')

    op.drop_table('notification_outbox')
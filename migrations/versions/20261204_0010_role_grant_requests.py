"""role_grant_requests: manual role grants asked for by one person, waiting for a second to approve

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:21:16.091158
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accessctl.db


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('role_grant_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('role_id', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('valid_from', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_to', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('approved_at', accessctl.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'approved')", name=op.f('ck_role_grant_requests_status')),
    sa.CheckConstraint('valid_to > valid_from', name=op.f('ck_role_grant_requests_valid_range')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_role_grant_requests_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_role_grant_requests_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grant_requests'))
    )
    with op.batch_alter_table('role_grant_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_grant_requests_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('role_grant_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_grant_requests_status'))

    op.drop_table('role_grant_requests')

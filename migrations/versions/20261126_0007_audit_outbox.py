"""audit outbox: a change's audit events, staged in the change's transaction until the writer chains them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accessctl.db


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_outbox',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('staged_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_outbox'))
    )
    with op.batch_alter_table('audit_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_outbox_staged_at'), ['staged_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_outbox_staged_at'))
    op.drop_table('audit_outbox')

"""users: indexes on lower(user_name) and lower(email); deactivated_at for the mass-change guard

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accessctl.db


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', accessctl.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_deactivated_at'), ['deactivated_at'], unique=False)
    # When users already inactive were deactivated was never stored: the guard read it from updated_at until now,
    # so they keep that reading, and a window of leavers that spans the upgrade is still counted whole.
    op.execute("UPDATE users SET deactivated_at = updated_at WHERE status <> 'active'")
    # SCIM looks users up by lower(userName) and lower(email). On SQLite a batch that recreates `users` (dropping
    # or altering a column) loses these two, as reflection cannot see expression indexes: such a later migration
    # must create them again.
    op.create_index('ix_users_lower_user_name', 'users', [sa.text('lower(user_name)')], unique=False)
    op.create_index('ix_users_lower_email', 'users', [sa.text('lower(email)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_users_lower_email', table_name='users')
    op.drop_index('ix_users_lower_user_name', table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_deactivated_at'))
        batch_op.drop_column('deactivated_at')

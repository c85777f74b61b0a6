"""hr sync runs: one row per LDAP pull or bulk change, with counts, errors and the guard's verdict

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:45:11.777690
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accessctl.db


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hr_sync_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('started_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', accessctl.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('stop_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint("mode IN ('full', 'delta')", name=op.f('ck_hr_sync_runs_mode')),
    sa.CheckConstraint("outcome IN ('running', 'applied', 'dry_run', 'stopped', 'failed')", name=op.f('ck_hr_sync_runs_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_sync_runs'))
    )
    # The delta sync reads the last applied run of its source.
    with op.batch_alter_table('hr_sync_runs', schema=None) as batch_op:
        batch_op.create_index('ix_hr_sync_runs_source_started_at', ['source', 'started_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('hr_sync_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_hr_sync_runs_source_started_at')

    op.drop_table('hr_sync_runs')

"""policy versions: published policy files with four-eyes approval; who granted a manual role assignment

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 14:29:26.665509
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accessctl.db


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONLY_ACTIVE = "status = 'active'"


def upgrade() -> None:
    op.create_table('policy_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('content_hash', sa.String(length=71), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('compiled', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rollback_of', sa.Integer(), nullable=True),
    sa.Column('created_at', accessctl.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('approved_at', accessctl.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'active', 'superseded', 'rejected')", name=op.f('ck_policy_versions_status')),
    sa.CheckConstraint('approved_by IS NULL OR approved_by <> author', name=op.f('ck_policy_versions_four_eyes')),
    sa.ForeignKeyConstraint(['rollback_of'], ['policy_versions.id'], name=op.f('fk_policy_versions_rollback_of_policy_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_versions'))
    )
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_versions_content_hash'), ['content_hash'], unique=False)
        # At most one active version: a partial unique index, on both SQLite and PostgreSQL.
        batch_op.create_index('uq_policy_versions_active', ['status'], unique=True,
                              sqlite_where=sa.text(_ONLY_ACTIVE), postgresql_where=sa.text(_ONLY_ACTIVE))

    # Nullable, so code already deployed keeps inserting rows without it.
    with op.batch_alter_table('role_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('granted_by', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('role_assignments', schema=None) as batch_op:
        batch_op.drop_column('granted_by')

    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_index('uq_policy_versions_active',
                            sqlite_where=sa.text(_ONLY_ACTIVE), postgresql_where=sa.text(_ONLY_ACTIVE))
        batch_op.drop_index(batch_op.f('ix_policy_versions_content_hash'))

    op.drop_table('policy_versions')

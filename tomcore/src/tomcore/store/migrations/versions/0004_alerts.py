"""alerts: saved broker queries and their runs.

Owned by the alerts area. Before the first release this revision is edited in place when
the models of its area change (the models/migrations test keeps them in agreement).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tomcore.store.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_queries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('broker', sa.String(length=64), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('target_list', sa.String(length=200), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_run', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.String(length=16), nullable=True),
    sa.Column('last_success', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_queries')),
    sa.UniqueConstraint('name', name=op.f('uq_alert_queries_name'))
    )
    op.create_table('alert_query_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('query_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('since', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('alerts', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('unchanged_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('points_added', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['query_id'], ['alert_queries.id'], name=op.f('fk_alert_query_runs_query_id_alert_queries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_query_runs'))
    )
    with op.batch_alter_table('alert_query_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_query_runs_query_id'), ['query_id'], unique=False)

    op.create_table('alert_query_run_targets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('object_id', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('points_added', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['alert_query_runs.id'], name=op.f('fk_alert_query_run_targets_run_id_alert_query_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_alert_query_run_targets_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_query_run_targets'))
    )
    with op.batch_alter_table('alert_query_run_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_query_run_targets_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_query_run_targets_target_id'), ['target_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('alert_query_run_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_query_run_targets_target_id'))
        batch_op.drop_index(batch_op.f('ix_alert_query_run_targets_run_id'))

    op.drop_table('alert_query_run_targets')
    with op.batch_alter_table('alert_query_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_query_runs_query_id'))

    op.drop_table('alert_query_runs')
    op.drop_table('alert_queries')


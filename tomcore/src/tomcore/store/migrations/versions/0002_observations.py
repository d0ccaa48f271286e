"""observations: observation records and status history.

Owned by the observations area. Before the first release this revision is edited in place when
the models of its area change (the models/migrations test keeps them in agreement).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tomcore.store.base

revision = "0002"
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('observation_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('observation_type', sa.String(length=64), nullable=False),
    sa.Column('facility_ids', sa.JSON(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('terminal', sa.Boolean(), nullable=False),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('scheduled_start', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('scheduled_end', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('group_name', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_observation_records_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_records'))
    )
    with op.batch_alter_table('observation_records', schema=None) as batch_op:
        batch_op.create_index('ix_observation_records_facility_terminal', ['facility', 'terminal'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_records_target_id'), ['target_id'], unique=False)

    op.create_table('observation_status_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('record_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('time', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['observation_records.id'], name=op.f('fk_observation_status_history_record_id_observation_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_status_history'))
    )
    with op.batch_alter_table('observation_status_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_status_history_record_id'), ['record_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('observation_status_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_status_history_record_id'))

    op.drop_table('observation_status_history')
    with op.batch_alter_table('observation_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_records_target_id'))
        batch_op.drop_index('ix_observation_records_facility_terminal')

    op.drop_table('observation_records')

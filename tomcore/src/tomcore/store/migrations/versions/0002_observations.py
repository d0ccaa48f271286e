"""observations: records and status history, groups, templates, cadences and epochs, runner
steps, notification log.

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
    op.create_table('notification_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('time', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('notification', sa.JSON(), nullable=False),
    sa.Column('sent_at', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_log'))
    )
    with op.batch_alter_table('notification_log', schema=None) as batch_op:
        batch_op.create_index('ix_notification_log_status_time', ['status', 'time'], unique=False)

    op.create_table('observation_groups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_observation_groups_name'))
    )
    op.create_table('observation_templates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('observation_type', sa.String(length=64), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_templates')),
    sa.UniqueConstraint('name', name=op.f('uq_observation_templates_name'))
    )
    op.create_table('runner_steps',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('last_started', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_finished', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_ok', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('lease_owner', sa.String(length=200), nullable=True),
    sa.Column('lease_until', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_runner_steps'))
    )
    op.create_table('cadences',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('observation_type', sa.String(length=64), nullable=False),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('strategy_params', sa.JSON(), nullable=False),
    sa.Column('observation_params', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('next_at', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['observation_groups.id'], name=op.f('fk_cadences_group_id_observation_groups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_cadences_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cadences')),
    sa.UniqueConstraint('name', name=op.f('uq_cadences_name'))
    )
    with op.batch_alter_table('cadences', schema=None) as batch_op:
        batch_op.create_index('ix_cadences_state_next', ['state', 'next_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cadences_target_id'), ['target_id'], unique=False)

    op.create_table('observation_records',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('facility', sa.String(length=64), nullable=False),
    sa.Column('observation_type', sa.String(length=64), nullable=False),
    sa.Column('facility_id', sa.String(length=128), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('terminal', sa.Boolean(), nullable=False),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('terminal_at', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('scheduled_start', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('scheduled_end', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cadence_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('template', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('last_checked', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('data_checked', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('data_count', sa.Integer(), nullable=False),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cadence_id'], ['cadences.id'], name=op.f('fk_observation_records_cadence_id_cadences'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['observation_groups.id'], name=op.f('fk_observation_records_group_id_observation_groups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_observation_records_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_records')),
    sa.UniqueConstraint('facility', 'facility_id', name=op.f('uq_observation_records_facility_facility_id'))
    )
    with op.batch_alter_table('observation_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_records_cadence_id'), ['cadence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_records_created'), ['created'], unique=False)
        batch_op.create_index('ix_observation_records_facility_terminal', ['facility', 'terminal'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_records_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_records_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_records_target_id'), ['target_id'], unique=False)

    op.create_table('cadence_epochs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cadence_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('due_at', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_start', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_end', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('params', sa.JSON(), nullable=True),
    sa.Column('observation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('submission_name', sa.String(length=200), nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_at', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cadence_id'], ['cadences.id'], name=op.f('fk_cadence_epochs_cadence_id_cadences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['observation_id'], ['observation_records.id'], name=op.f('fk_cadence_epochs_observation_id_observation_records'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cadence_epochs')),
    sa.UniqueConstraint('cadence_id', 'number', 'attempt', name=op.f('uq_cadence_epochs_cadence_id_number_attempt'))
    )
    with op.batch_alter_table('cadence_epochs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cadence_epochs_cadence_id'), ['cadence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cadence_epochs_observation_id'), ['observation_id'], unique=False)

    op.create_table('observation_status_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('record_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('time', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
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
    with op.batch_alter_table('cadence_epochs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cadence_epochs_observation_id'))
        batch_op.drop_index(batch_op.f('ix_cadence_epochs_cadence_id'))

    op.drop_table('cadence_epochs')
    with op.batch_alter_table('observation_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_records_target_id'))
        batch_op.drop_index(batch_op.f('ix_observation_records_status'))
        batch_op.drop_index(batch_op.f('ix_observation_records_group_id'))
        batch_op.drop_index('ix_observation_records_facility_terminal')
        batch_op.drop_index(batch_op.f('ix_observation_records_created'))
        batch_op.drop_index(batch_op.f('ix_observation_records_cadence_id'))

    op.drop_table('observation_records')
    with op.batch_alter_table('cadences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cadences_target_id'))
        batch_op.drop_index('ix_cadences_state_next')

    op.drop_table('cadences')
    op.drop_table('runner_steps')
    op.drop_table('observation_templates')
    op.drop_table('observation_groups')
    with op.batch_alter_table('notification_log', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_log_status_time')

    op.drop_table('notification_log')

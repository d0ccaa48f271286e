"""targets: targets, names, extras and target lists.

Owned by the targets area. Before the first release this revision is edited in place when
the models of its area change (the models/migrations test keeps them in agreement).

Revision ID: 0001
Revises: None
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tomcore.store.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('target_lists',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_target_lists')),
    sa.UniqueConstraint('name', name=op.f('uq_target_lists_name'))
    )
    op.create_table('targets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('ra', sa.Float(), nullable=True),
    sa.Column('dec', sa.Float(), nullable=True),
    sa.Column('epoch', sa.Float(), nullable=True),
    sa.Column('pm_ra', sa.Float(), nullable=True),
    sa.Column('pm_dec', sa.Float(), nullable=True),
    sa.Column('parallax', sa.Float(), nullable=True),
    sa.Column('distance', sa.Float(), nullable=True),
    sa.Column('distance_err', sa.Float(), nullable=True),
    sa.Column('galactic_lng', sa.Float(), nullable=True),
    sa.Column('galactic_lat', sa.Float(), nullable=True),
    sa.Column('hpx', sa.BigInteger(), nullable=True),
    sa.Column('cx', sa.Float(), nullable=True),
    sa.Column('cy', sa.Float(), nullable=True),
    sa.Column('cz', sa.Float(), nullable=True),
    sa.Column('scheme', sa.String(length=24), nullable=True),
    sa.Column('epoch_of_elements', sa.Float(), nullable=True),
    sa.Column('mean_anomaly', sa.Float(), nullable=True),
    sa.Column('arg_of_perihelion', sa.Float(), nullable=True),
    sa.Column('eccentricity', sa.Float(), nullable=True),
    sa.Column('lng_asc_node', sa.Float(), nullable=True),
    sa.Column('inclination', sa.Float(), nullable=True),
    sa.Column('mean_daily_motion', sa.Float(), nullable=True),
    sa.Column('semimajor_axis', sa.Float(), nullable=True),
    sa.Column('epoch_of_perihelion', sa.Float(), nullable=True),
    sa.Column('perihdist', sa.Float(), nullable=True),
    sa.Column('abs_mag', sa.Float(), nullable=True),
    sa.Column('slope', sa.Float(), nullable=True),
    sa.Column('ephemeris_period', sa.Float(), nullable=True),
    sa.Column('ephemeris_period_err', sa.Float(), nullable=True),
    sa.Column('ephemeris_epoch', sa.Float(), nullable=True),
    sa.Column('ephemeris_epoch_err', sa.Float(), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('modified', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets')),
    sa.UniqueConstraint('name', name=op.f('uq_targets_name'))
    )
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_targets_created'), ['created'], unique=False)
        batch_op.create_index(batch_op.f('ix_targets_hpx'), ['hpx'], unique=False)

    op.create_table('target_extras',
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value_type', sa.String(length=8), nullable=False),
    sa.Column('value_text', sa.Text(), nullable=False),
    sa.Column('value_num', sa.Float(), nullable=True),
    sa.Column('value_bool', sa.Boolean(), nullable=True),
    sa.Column('value_time', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_target_extras_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('target_id', 'key', name=op.f('pk_target_extras')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('target_extras', schema=None) as batch_op:
        batch_op.create_index('ix_target_extras_key_num', ['key', 'value_num'], unique=False, sqlite_where=sa.text('value_num IS NOT NULL'), postgresql_where=sa.text('value_num IS NOT NULL'))
        batch_op.create_index('ix_target_extras_key_time', ['key', 'value_time'], unique=False, sqlite_where=sa.text('value_time IS NOT NULL'), postgresql_where=sa.text('value_time IS NOT NULL'))

    op.create_table('target_list_members',
    sa.Column('list_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('added', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['target_lists.id'], name=op.f('fk_target_list_members_list_id_target_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_target_list_members_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('list_id', 'target_id', name=op.f('pk_target_list_members'))
    )
    with op.batch_alter_table('target_list_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_list_members_target_id'), ['target_id'], unique=False)

    op.create_table('target_names',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('norm', sa.String(length=200), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_target_names_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_target_names')),
    sa.UniqueConstraint('name', name=op.f('uq_target_names_name'))
    )
    with op.batch_alter_table('target_names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_target_names_norm'), ['norm'], unique=False)
        batch_op.create_index(batch_op.f('ix_target_names_target_id'), ['target_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('target_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_names_target_id'))
        batch_op.drop_index(batch_op.f('ix_target_names_norm'))

    op.drop_table('target_names')
    with op.batch_alter_table('target_list_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_target_list_members_target_id'))

    op.drop_table('target_list_members')
    with op.batch_alter_table('target_extras', schema=None) as batch_op:
        batch_op.drop_index('ix_target_extras_key_time')
        batch_op.drop_index('ix_target_extras_key_num')

    op.drop_table('target_extras')
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_targets_hpx'))
        batch_op.drop_index(batch_op.f('ix_targets_created'))

    op.drop_table('targets')
    op.drop_table('target_lists')

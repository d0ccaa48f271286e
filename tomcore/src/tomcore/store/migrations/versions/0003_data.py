"""data: data products, photometry, spectra and other reduced values.

Owned by the data area. Before the first release this revision is edited in place when
the models of its area change (the models/migrations test keeps them in agreement).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tomcore.store.base

revision = "0003"
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_products',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('observation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('data_type', sa.String(length=32), nullable=False),
    sa.Column('storage', sa.String(length=1024), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('original_name', sa.String(length=512), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('checksum', sa.String(length=64), nullable=True),
    sa.Column('md5', sa.String(length=32), nullable=True),
    sa.Column('provenance', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('product_id', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('processor', sa.String(length=64), nullable=True),
    sa.Column('reduced', sa.JSON(), nullable=True),
    sa.Column('meta', sa.JSON(), nullable=True),
    sa.Column('moved_from', sa.String(length=2048), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed', tomcore.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['observation_id'], ['observation_records.id'], name=op.f('fk_data_products_observation_id_observation_records'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_data_products_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_products')),
    sa.UniqueConstraint('storage', 'path', name=op.f('uq_data_products_storage_path'))
    )
    with op.batch_alter_table('data_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_products_checksum'), ['checksum'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_products_md5'), ['md5'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_products_observation_id'), ['observation_id'], unique=False)
        batch_op.create_index('ix_data_products_target_type', ['target_id', 'data_type'], unique=False)

    op.create_table('photometry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('time', sa.Float(), nullable=False),
    sa.Column('band', sa.String(length=32), nullable=False),
    sa.Column('mag', sa.Float(), nullable=True),
    sa.Column('mag_err', sa.Float(), nullable=True),
    sa.Column('flux', sa.Float(), nullable=True),
    sa.Column('flux_err', sa.Float(), nullable=True),
    sa.Column('flux_unit', sa.String(length=16), nullable=True),
    sa.Column('mag_limit', sa.Float(), nullable=True),
    sa.Column('telescope', sa.String(length=64), nullable=True),
    sa.Column('instrument', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=128), nullable=True),
    sa.Column('query_name', sa.String(length=200), nullable=True),
    sa.Column('data_product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['data_product_id'], ['data_products.id'], name=op.f('fk_photometry_data_product_id_data_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_photometry_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photometry')),
    sa.UniqueConstraint('target_id', 'time', 'band', 'source', name=op.f('uq_photometry_target_id_time_band_source'))
    )
    with op.batch_alter_table('photometry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photometry_data_product_id'), ['data_product_id'], unique=False)

    op.create_table('reduced_values',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('time', sa.Float(), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('error', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('telescope', sa.String(length=64), nullable=True),
    sa.Column('instrument', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('data_product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['data_product_id'], ['data_products.id'], name=op.f('fk_reduced_values_data_product_id_data_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_reduced_values_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reduced_values')),
    sa.UniqueConstraint('target_id', 'digest', name=op.f('uq_reduced_values_target_id_digest'))
    )
    with op.batch_alter_table('reduced_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reduced_values_data_product_id'), ['data_product_id'], unique=False)
        batch_op.create_index('ix_reduced_values_target_kind_time', ['target_id', 'kind', 'time'], unique=False)

    op.create_table('spectra',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('time', sa.Float(), nullable=True),
    sa.Column('telescope', sa.String(length=64), nullable=True),
    sa.Column('instrument', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('n_points', sa.Integer(), nullable=False),
    sa.Column('wavelength_min', sa.Float(), nullable=True),
    sa.Column('wavelength_max', sa.Float(), nullable=True),
    sa.Column('wavelength_unit', sa.String(length=32), nullable=False),
    sa.Column('flux_unit', sa.String(length=64), nullable=False),
    sa.Column('wavelength', sa.LargeBinary(), nullable=False),
    sa.Column('flux', sa.LargeBinary(), nullable=False),
    sa.Column('flux_err', sa.LargeBinary(), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('data_product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created', tomcore.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['data_product_id'], ['data_products.id'], name=op.f('fk_spectra_data_product_id_data_products'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_spectra_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spectra')),
    sa.UniqueConstraint('target_id', 'digest', name=op.f('uq_spectra_target_id_digest'))
    )
    with op.batch_alter_table('spectra', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spectra_data_product_id'), ['data_product_id'], unique=False)
        batch_op.create_index('ix_spectra_target_time', ['target_id', 'time'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('spectra', schema=None) as batch_op:
        batch_op.drop_index('ix_spectra_target_time')
        batch_op.drop_index(batch_op.f('ix_spectra_data_product_id'))

    op.drop_table('spectra')
    with op.batch_alter_table('reduced_values', schema=None) as batch_op:
        batch_op.drop_index('ix_reduced_values_target_kind_time')
        batch_op.drop_index(batch_op.f('ix_reduced_values_data_product_id'))

    op.drop_table('reduced_values')
    with op.batch_alter_table('photometry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photometry_data_product_id'))

    op.drop_table('photometry')
    with op.batch_alter_table('data_products', schema=None) as batch_op:
        batch_op.drop_index('ix_data_products_target_type')
        batch_op.drop_index(batch_op.f('ix_data_products_observation_id'))
        batch_op.drop_index(batch_op.f('ix_data_products_md5'))
        batch_op.drop_index(batch_op.f('ix_data_products_checksum'))

    op.drop_table('data_products')

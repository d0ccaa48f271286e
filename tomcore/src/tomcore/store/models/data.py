"""Data products (files in storage) and typed reduced data: photometry, spectra, values.

A photometry point is unique by (target, source, band, time), so re-ingesting a light
curve or re-uploading a file adds nothing twice. The unique index is ordered (target, time,
band, source) so that it also serves a target's light curve in time order.

A spectrum keeps its arrays as little-endian float64 bytes (``LargeBinary``): a 4,000-pixel
spectrum is one 32 kB value, not 4,000 rows or a JSON list. A spectrum is unique by target
and ``digest`` (a SHA-256 of its arrays and units), so the same spectrum arriving again in
another file, or through the API, adds nothing.

A data product records where its file is: ``storage`` (the storage's URL) and ``path``
inside it, so products stay readable when ``storage.url`` changes, and a storage migration
moves them one by one (``moved_from`` keeps the old place until the old file is removed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tomcore.store.base import Base, BigIntPK, utcnow


class DataProductRow(Base):
    __tablename__ = "data_products"
    __table_args__ = (
        UniqueConstraint("storage", "path"),
        Index("ix_data_products_target_type", "target_id", "data_type"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    observation_id: Mapped[int | None] = mapped_column(
        ForeignKey("observation_records.id", ondelete="SET NULL"), index=True
    )
    data_type: Mapped[str] = mapped_column(String(32))
    storage: Mapped[str] = mapped_column(String(1024))
    path: Mapped[str] = mapped_column(String(1024))
    original_name: Mapped[str] = mapped_column(String(512))
    size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(String(64), index=True)  # SHA-256, hex
    md5: Mapped[str | None] = mapped_column(String(32), index=True)
    provenance: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))
    product_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="stored")
    error: Mapped[str | None] = mapped_column(Text)
    processor: Mapped[str | None] = mapped_column(String(64))
    reduced: Mapped[dict[str, Any] | None] = mapped_column()
    meta: Mapped[dict[str, Any] | None] = mapped_column()
    moved_from: Mapped[str | None] = mapped_column(String(2048))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    processed: Mapped[datetime | None] = mapped_column()


class PhotometryRow(Base):
    __tablename__ = "photometry"
    __table_args__ = (UniqueConstraint("target_id", "time", "band", "source"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    time: Mapped[float] = mapped_column(Float)  # MJD, UTC
    band: Mapped[str] = mapped_column(String(32))
    mag: Mapped[float | None] = mapped_column(Float)
    mag_err: Mapped[float | None] = mapped_column(Float)
    flux: Mapped[float | None] = mapped_column(Float)
    flux_err: Mapped[float | None] = mapped_column(Float)
    flux_unit: Mapped[str | None] = mapped_column(String(16))
    mag_limit: Mapped[float | None] = mapped_column(Float)
    telescope: Mapped[str | None] = mapped_column(String(64))
    instrument: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64), default="")
    source_id: Mapped[str | None] = mapped_column(String(128))
    query_name: Mapped[str | None] = mapped_column(String(200))
    data_product_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_products.id", ondelete="SET NULL"), index=True
    )
    created: Mapped[datetime] = mapped_column(default=utcnow)
    extra: Mapped[dict[str, Any] | None] = mapped_column()


class SpectrumRow(Base):
    __tablename__ = "spectra"
    __table_args__ = (
        Index("ix_spectra_target_time", "target_id", "time"),
        UniqueConstraint("target_id", "digest"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    time: Mapped[float | None] = mapped_column(Float)  # MJD, UTC
    telescope: Mapped[str | None] = mapped_column(String(64))
    instrument: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64), default="")
    n_points: Mapped[int] = mapped_column(Integer)
    wavelength_min: Mapped[float | None] = mapped_column(Float)
    wavelength_max: Mapped[float | None] = mapped_column(Float)
    wavelength_unit: Mapped[str] = mapped_column(String(32))
    flux_unit: Mapped[str] = mapped_column(String(64))
    wavelength: Mapped[bytes] = mapped_column(LargeBinary)  # float64, little-endian
    flux: Mapped[bytes] = mapped_column(LargeBinary)
    flux_err: Mapped[bytes | None] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of units and arrays, hex
    data_product_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_products.id", ondelete="SET NULL"), index=True
    )
    created: Mapped[datetime] = mapped_column(default=utcnow)
    extra: Mapped[dict[str, Any] | None] = mapped_column()


class ReducedValueRow(Base):
    __tablename__ = "reduced_values"
    __table_args__ = (
        Index("ix_reduced_values_target_kind_time", "target_id", "kind", "time"),
        UniqueConstraint("target_id", "digest"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    time: Mapped[float | None] = mapped_column(Float)  # MJD, UTC
    value: Mapped[float | None] = mapped_column(Float)
    error: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any] | None] = mapped_column()
    telescope: Mapped[str | None] = mapped_column(String(64))
    instrument: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64), default="")
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of what the value says, hex
    data_product_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_products.id", ondelete="SET NULL"), index=True
    )
    created: Mapped[datetime] = mapped_column(default=utcnow)

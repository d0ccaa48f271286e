"""Data products (files in storage) and typed reduced data.

A photometry point is unique by (target, source, band, time), so re-ingesting a light
curve or re-uploading a file adds nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tomcore.store.base import Base, BigIntPK, utcnow


class DataProductRow(Base):
    __tablename__ = "data_products"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    observation_id: Mapped[int | None] = mapped_column(
        ForeignKey("observation_records.id", ondelete="SET NULL"), index=True
    )
    data_type: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    original_name: Mapped[str] = mapped_column(String(512))
    size: Mapped[int | None] = mapped_column(BigInteger)
    checksum: Mapped[str | None] = mapped_column(String(80))
    provenance: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="stored")
    error: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    processed: Mapped[datetime | None] = mapped_column()


class PhotometryRow(Base):
    __tablename__ = "photometry"
    __table_args__ = (
        UniqueConstraint("target_id", "source", "band", "time"),
        Index("ix_photometry_target_time", "target_id", "time"),
    )

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

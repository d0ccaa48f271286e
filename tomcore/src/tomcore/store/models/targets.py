"""Targets, their names, typed extras and target lists.

Every name of a target (the primary name and each alias) is a row of ``target_names`` with
its normalised form indexed, so the matcher finds "SN 2024abc" from "AT2024ABC" with one
indexed query. Sidereal positions carry a HEALPix nested index at order 29 (``hpx``) and
the unit vector (``cx, cy, cz``) for exact, indexed cone searches on every backend.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tomcore.store.base import Base, BigIntPK, utcnow


class TargetRow(Base):
    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    # sidereal
    ra: Mapped[float | None] = mapped_column(Float)
    dec: Mapped[float | None] = mapped_column(Float)
    epoch: Mapped[float | None] = mapped_column(Float)
    pm_ra: Mapped[float | None] = mapped_column(Float)
    pm_dec: Mapped[float | None] = mapped_column(Float)
    parallax: Mapped[float | None] = mapped_column(Float)
    distance: Mapped[float | None] = mapped_column(Float)
    distance_err: Mapped[float | None] = mapped_column(Float)
    galactic_lng: Mapped[float | None] = mapped_column(Float)
    galactic_lat: Mapped[float | None] = mapped_column(Float)
    hpx: Mapped[int | None] = mapped_column(BigInteger, index=True)
    cx: Mapped[float | None] = mapped_column(Float)
    cy: Mapped[float | None] = mapped_column(Float)
    cz: Mapped[float | None] = mapped_column(Float)
    # non-sidereal
    scheme: Mapped[str | None] = mapped_column(String(24))
    epoch_of_elements: Mapped[float | None] = mapped_column(Float)
    mean_anomaly: Mapped[float | None] = mapped_column(Float)
    arg_of_perihelion: Mapped[float | None] = mapped_column(Float)
    eccentricity: Mapped[float | None] = mapped_column(Float)
    lng_asc_node: Mapped[float | None] = mapped_column(Float)
    inclination: Mapped[float | None] = mapped_column(Float)
    mean_daily_motion: Mapped[float | None] = mapped_column(Float)
    semimajor_axis: Mapped[float | None] = mapped_column(Float)
    epoch_of_perihelion: Mapped[float | None] = mapped_column(Float)
    perihdist: Mapped[float | None] = mapped_column(Float)
    abs_mag: Mapped[float | None] = mapped_column(Float)
    slope: Mapped[float | None] = mapped_column(Float)
    ephemeris_period: Mapped[float | None] = mapped_column(Float)
    ephemeris_period_err: Mapped[float | None] = mapped_column(Float)
    ephemeris_epoch: Mapped[float | None] = mapped_column(Float)
    ephemeris_epoch_err: Mapped[float | None] = mapped_column(Float)
    created: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    names: Mapped[list[TargetNameRow]] = relationship(
        back_populates="target", cascade="all, delete-orphan", passive_deletes=True, order_by="TargetNameRow.id"
    )
    extras: Mapped[list[TargetExtraRow]] = relationship(
        back_populates="target", cascade="all, delete-orphan", passive_deletes=True, order_by="TargetExtraRow.key"
    )


class TargetNameRow(Base):
    """Every name of a target, the primary one included; unique across all targets."""

    __tablename__ = "target_names"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    norm: Mapped[str] = mapped_column(String(200), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(default=utcnow)

    target: Mapped[TargetRow] = relationship(back_populates="names")


class TargetExtraRow(Base):
    """A typed extra value. ``value_type`` says which typed column holds it; ``value_text``
    always holds its text form (for display and string filters).

    The key is ``(target_id, key)`` (a WITHOUT ROWID table on SQLite: one B-tree, written
    in order by bulk imports); the partial indexes serve typed filters and sorting by one
    key without indexing the values of the other types.
    """

    __tablename__ = "target_extras"
    __table_args__ = (
        Index("ix_target_extras_key_num", "key", "value_num",
              sqlite_where=text("value_num IS NOT NULL"), postgresql_where=text("value_num IS NOT NULL")),
        Index("ix_target_extras_key_time", "key", "value_time",
              sqlite_where=text("value_time IS NOT NULL"), postgresql_where=text("value_time IS NOT NULL")),
        {"sqlite_with_rowid": False},
    )

    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value_type: Mapped[str] = mapped_column(String(8))
    value_text: Mapped[str] = mapped_column(Text)
    value_num: Mapped[float | None] = mapped_column(Float)
    value_bool: Mapped[bool | None] = mapped_column(Boolean)
    value_time: Mapped[datetime | None] = mapped_column()

    target: Mapped[TargetRow] = relationship(back_populates="extras")


class TargetListRow(Base):
    """A target list (a group of targets)."""

    __tablename__ = "target_lists"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TargetListMemberRow(Base):
    __tablename__ = "target_list_members"

    list_id: Mapped[int] = mapped_column(ForeignKey("target_lists.id", ondelete="CASCADE"), primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True, index=True)
    added: Mapped[datetime] = mapped_column(default=utcnow)

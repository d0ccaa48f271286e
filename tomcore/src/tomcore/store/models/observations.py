"""Observation records and their status history.

A record keeps the exact payload submitted to the facility, its current status and every
change of status with its time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tomcore.store.base import Base, BigIntPK, utcnow


class ObservationRecordRow(Base):
    __tablename__ = "observation_records"
    __table_args__ = (Index("ix_observation_records_facility_terminal", "facility", "terminal"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    facility: Mapped[str] = mapped_column(String(64))
    observation_type: Mapped[str] = mapped_column(String(64))
    facility_ids: Mapped[list[Any]] = mapped_column()
    parameters: Mapped[dict[str, Any]] = mapped_column()
    payload: Mapped[dict[str, Any] | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(64))
    terminal: Mapped[bool] = mapped_column(Boolean, default=False)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_start: Mapped[datetime | None] = mapped_column()
    scheduled_end: Mapped[datetime | None] = mapped_column()
    group_name: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    history: Mapped[list[ObservationStatusRow]] = relationship(
        back_populates="record", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ObservationStatusRow.id",
    )


class ObservationStatusRow(Base):
    """One status of a record, in the order they were seen."""

    __tablename__ = "observation_status_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("observation_records.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any] | None] = mapped_column()

    record: Mapped[ObservationRecordRow] = relationship(back_populates="history")

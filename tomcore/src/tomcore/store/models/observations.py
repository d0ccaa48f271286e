"""Observation records, their status history, groups, templates, cadences and their epochs,
the runner's step state and the notification log.

A record keeps the exact payload submitted to the facility, its current status and every
change of status with its time. One record per request the facility made (its id in
``facility_id``, unique per facility). A cadence epoch is unique per (cadence, number,
attempt): the database, not the runner, guarantees that two runners never submit the same
epoch twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tomcore.store.base import Base, BigIntPK, utcnow


class ObservationGroupRow(Base):
    """A named set of records (a multi-request submission, a cadence, a user's grouping)."""

    __tablename__ = "observation_groups"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class ObservationRecordRow(Base):
    __tablename__ = "observation_records"
    __table_args__ = (
        Index("ix_observation_records_facility_terminal", "facility", "terminal"),
        UniqueConstraint("facility", "facility_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    facility: Mapped[str] = mapped_column(String(64))
    observation_type: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    parameters: Mapped[dict[str, Any]] = mapped_column()
    payload: Mapped[dict[str, Any] | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(64), index=True)
    terminal: Mapped[bool] = mapped_column(Boolean, default=False)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    terminal_at: Mapped[datetime | None] = mapped_column()
    scheduled_start: Mapped[datetime | None] = mapped_column()
    scheduled_end: Mapped[datetime | None] = mapped_column()
    group_id: Mapped[int | None] = mapped_column(ForeignKey("observation_groups.id", ondelete="SET NULL"), index=True)
    cadence_id: Mapped[int | None] = mapped_column(ForeignKey("cadences.id", ondelete="SET NULL"), index=True)
    template: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    last_checked: Mapped[datetime | None] = mapped_column()
    data_checked: Mapped[datetime | None] = mapped_column()
    data_count: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(default=utcnow, index=True)
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
    source: Mapped[str] = mapped_column(String(16), default="update")
    detail: Mapped[dict[str, Any] | None] = mapped_column()

    record: Mapped[ObservationRecordRow] = relationship(back_populates="history")


class ObservationTemplateRow(Base):
    """Saved observation parameters for a facility (``tom observe --template NAME``)."""

    __tablename__ = "observation_templates"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    facility: Mapped[str] = mapped_column(String(64))
    observation_type: Mapped[str | None] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column()
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CadenceRow(Base):
    """A cadence: a strategy submitting observations of one target at one facility over time.

    ``state`` is ``active`` until the strategy, the user or a failure policy ends it
    (``completed``, ``stopped`` or ``failed``, with ``reason``).
    """

    __tablename__ = "cadences"
    __table_args__ = (Index("ix_cadences_state_next", "state", "next_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    facility: Mapped[str] = mapped_column(String(64))
    observation_type: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(64))
    strategy_params: Mapped[dict[str, Any]] = mapped_column()
    observation_params: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="active")
    reason: Mapped[str | None] = mapped_column(Text)
    next_at: Mapped[datetime | None] = mapped_column()
    group_id: Mapped[int | None] = mapped_column(ForeignKey("observation_groups.id", ondelete="SET NULL"))
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ended: Mapped[datetime | None] = mapped_column()


class CadenceEpochRow(Base):
    """One planned observation of a cadence, and each retry of it (``attempt``).

    ``state``: ``claimed`` (a runner is submitting it), ``submitted``, ``skipped`` (not
    observable, or its window passed), ``rejected`` (the facility refused it), ``error``
    (the outcome could not be established).
    """

    __tablename__ = "cadence_epochs"
    __table_args__ = (UniqueConstraint("cadence_id", "number", "attempt"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cadence_id: Mapped[int] = mapped_column(ForeignKey("cadences.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column()
    window_start: Mapped[datetime | None] = mapped_column()
    window_end: Mapped[datetime | None] = mapped_column()
    params: Mapped[dict[str, Any] | None] = mapped_column()
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("observation_records.id", ondelete="SET NULL"), index=True)
    submission_name: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class RunnerStepRow(Base):
    """What ``tom run`` knows of one of its steps: when it last ran, how, and who holds it."""

    __tablename__ = "runner_steps"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started: Mapped[datetime | None] = mapped_column()
    last_finished: Mapped[datetime | None] = mapped_column()
    last_ok: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any] | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column()


class NotificationLogRow(Base):
    """Every delivery of a notification to a channel; failed ones are retried by the runner."""

    __tablename__ = "notification_log"
    __table_args__ = (Index("ix_notification_log_status_time", "status", "time"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text)
    notification: Mapped[dict[str, Any]] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()

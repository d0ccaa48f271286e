"""Saved broker queries and their runs.

A saved query (``alert_queries``) is a broker with validated parameters under a name. Each
run (``alert_query_runs``) records when it started and finished, the time filter it sent,
its counts and its error; ``alert_query_run_targets`` records which target every ingested
alert went to and what happened to it (created, updated, unchanged), so "what did last
night's run bring in" is one query. Counts and items are written in the same transaction as
the page they describe, so an interrupted run's record matches what was committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tomcore.store.base import Base, BigIntPK, utcnow

__all__ = ["AlertQueryRow", "AlertQueryRunRow", "AlertQueryRunTargetRow"]


class AlertQueryRow(Base):
    __tablename__ = "alert_queries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    broker: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column()
    #: The target list every target it ingests is added to, if any.
    target_list: Mapped[str | None] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    modified: Mapped[datetime] = mapped_column(default=utcnow)
    #: When a run last started, and how it ended.
    last_run: Mapped[datetime | None] = mapped_column()
    last_status: Mapped[str | None] = mapped_column(String(16))
    #: When the last run that finished without error started: the next run asks for data
    #: newer than this (less the overlap).
    last_success: Mapped[datetime | None] = mapped_column()


class AlertQueryRunRow(Base):
    __tablename__ = "alert_query_runs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("alert_queries.id", ondelete="CASCADE"), index=True)
    started: Mapped[datetime] = mapped_column(default=utcnow)
    finished: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="running")
    since: Mapped[datetime | None] = mapped_column()
    pages: Mapped[int] = mapped_column(Integer, default=0)
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    points_added: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[Any] | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)


class AlertQueryRunTargetRow(Base):
    __tablename__ = "alert_query_run_targets"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("alert_query_runs.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"), index=True)
    object_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    points_added: Mapped[int] = mapped_column(Integer, default=0)

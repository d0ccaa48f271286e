"""Observation records in the database: reading them as :class:`ObservationInfo`, creating
them, and applying a status change (history, terminal bookkeeping) in the caller's
transaction. Used by the observation, update and cadence services."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tomcore.domain.observations import ObservationInfo, StatusChange, StatusEntry

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.contracts.facilities import Facility, RequestStatus
    from tomcore.store.models import ObservationRecordRow

#: The status of a record whose submission is under way (its outcome not yet known).
SUBMITTING = "SUBMITTING"
#: A submission that never reached the facility (found when recovering an interrupted one).
NOT_SUBMITTED = "NOT_SUBMITTED"
CHUNK = 900


def jsonable(value: Any) -> Any:
    """Parameters as JSON: datetimes as ISO 8601, tuples as lists, NaN as None."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def flags(facility: Facility | None, status: str) -> tuple[bool, bool, bool]:
    """(terminal, failed, success) of ``status`` at ``facility`` (unknown facility: none)."""
    if status == NOT_SUBMITTED:
        return True, True, False
    if facility is None or status == SUBMITTING:
        return False, False, False
    return facility.is_terminal(status), facility.is_failed(status), facility.is_success(status)


def row_to_info(row: ObservationRecordRow, target_name: str, group: str | None = None,
                history: Sequence[StatusEntry] | None = None) -> ObservationInfo:
    return ObservationInfo(
        id=row.id, target_id=row.target_id, target_name=target_name, facility=row.facility,
        observation_type=row.observation_type, facility_id=row.facility_id, status=row.status, name=row.name,
        parameters=dict(row.parameters or {}), payload=row.payload, scheduled_start=row.scheduled_start,
        scheduled_end=row.scheduled_end, terminal=row.terminal, failed=row.failed, success=row.success,
        terminal_at=row.terminal_at, group=group, cadence_id=row.cadence_id, template=row.template, note=row.note,
        url=row.url, data_count=row.data_count or 0, created=row.created, modified=row.modified,
        history=list(history) if history is not None else None,
    )


def load_infos(session: Session, rows: Iterable[ObservationRecordRow], *, with_history: bool = False) -> list[ObservationInfo]:
    """Infos for rows, with target and group names (a query per 900 rows), in the rows' order."""
    from sqlalchemy import select

    from tomcore.store.models import ObservationGroupRow, ObservationStatusRow, TargetRow

    rows = list(rows)
    names: dict[int, str] = {}
    groups: dict[int, str] = {}
    history: dict[int, list[StatusEntry]] = {}
    target_ids = sorted({r.target_id for r in rows})
    group_ids = sorted({r.group_id for r in rows if r.group_id is not None})
    for start in range(0, len(target_ids), CHUNK):
        chunk = target_ids[start:start + CHUNK]
        names.update((tid, name) for tid, name in session.execute(
            select(TargetRow.id, TargetRow.name).where(TargetRow.id.in_(chunk))))
    for start in range(0, len(group_ids), CHUNK):
        chunk = group_ids[start:start + CHUNK]
        groups.update((gid, name) for gid, name in session.execute(
            select(ObservationGroupRow.id, ObservationGroupRow.name).where(ObservationGroupRow.id.in_(chunk))))
    if with_history:
        ids = [r.id for r in rows]
        for start in range(0, len(ids), CHUNK):
            for entry in session.execute(
                select(ObservationStatusRow).where(ObservationStatusRow.record_id.in_(ids[start:start + CHUNK]))
                .order_by(ObservationStatusRow.id)
            ).scalars():
                history.setdefault(entry.record_id, []).append(
                    StatusEntry(status=entry.status, time=entry.time, source=entry.source, detail=entry.detail))
    return [
        row_to_info(r, names.get(r.target_id, "?"), groups.get(r.group_id) if r.group_id else None,
                    history.get(r.id, []) if with_history else None)
        for r in rows
    ]


def group_id(session: Session, name: str | None) -> int | None:
    """The id of the observation group ``name``, created if needed (None for no group)."""
    if not name:
        return None
    from sqlalchemy import select

    from tomcore.store.models import ObservationGroupRow

    found = session.execute(select(ObservationGroupRow.id).where(ObservationGroupRow.name == name)).scalar()
    if found is not None:
        return int(found)
    row = ObservationGroupRow(name=name)
    session.add(row)
    session.flush()
    return row.id


def add_history(session: Session, row: ObservationRecordRow, status: str, time: datetime, source: str,
                detail: dict[str, Any] | None = None) -> None:
    from tomcore.store.models import ObservationStatusRow

    session.add(ObservationStatusRow(record_id=row.id, status=status, time=time, source=source,
                                     detail=jsonable(detail) if detail else None))


def apply_status(
    session: Session,
    row: ObservationRecordRow,
    facility: Facility | None,
    status: str,
    now: datetime,
    *,
    source: str,
    remote: RequestStatus | None = None,
    detail: dict[str, Any] | None = None,
) -> tuple[str | None, bool] | None:
    """Set a record's status (and schedule) in ``session``; add a history entry when the
    status changed. Returns ``(old status, reopened)`` on a change, else None."""
    changed_schedule = False
    if remote is not None:
        for attr in ("scheduled_start", "scheduled_end"):
            value = getattr(remote, attr)
            if value is not None and getattr(row, attr) != value:
                setattr(row, attr, value)
                changed_schedule = True
    old = row.status
    if status == old:
        if changed_schedule:
            row.modified = now
        return None
    terminal, failed, success = flags(facility, status)
    reopened = bool(row.terminal) and not terminal and old not in (SUBMITTING, NOT_SUBMITTED)
    if terminal and (not row.terminal or old != status):
        row.terminal_at = now
    elif not terminal:
        row.terminal_at = None
    if success and not row.success:
        row.data_checked = None  # look for its data (again, after a reopen)
    row.status, row.terminal, row.failed, row.success = status, terminal, failed, success
    row.modified = now
    info = dict(detail or {})
    if remote is not None and remote.detail:
        info.update(remote.detail)
    if reopened:
        info["reopened"] = True
    add_history(session, row, status, now, source, info or None)
    return old, reopened


def changes_for(session: Session, applied: Sequence[tuple[ObservationRecordRow, str | None, bool]], now: datetime,
                details: Mapping[int, dict[str, Any]] | None = None) -> list[StatusChange]:
    """:class:`StatusChange` events for rows changed in ``session`` (call before commit)."""
    infos = {info.id: info for info in load_infos(session, [row for row, _old, _reopened in applied])}
    return [
        StatusChange(observation=infos[row.id], old_status=old, new_status=row.status, time=now,
                     detail=(details or {}).get(row.id), reopened=reopened)
        for row, old, reopened in applied
    ]

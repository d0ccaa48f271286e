"""Writing and reading photometry points, idempotently.

A point is unique by (target, source, band, time). :func:`insert_points` writes only the
points not already stored (it looks up the existing keys of the targets involved, then
inserts the rest with ``ON CONFLICT DO NOTHING`` against races), and returns exactly the
points it added, so callers can report them and fire ``on_reduced_data_saved``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tomcore.domain.data import PhotometryPoint

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

CHUNK = 900
INSERT_CHUNK = 5000

#: Columns of the photometry table written from a point (besides target and provenance).
POINT_COLUMNS = ("time", "band", "mag", "mag_err", "flux", "flux_err", "flux_unit", "telescope",
                 "instrument", "source", "source_id", "extra")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def point_row(target_id: int, point: PhotometryPoint) -> dict[str, Any]:
    row = {c: _clean(getattr(point, c)) for c in POINT_COLUMNS}
    row["mag_limit"] = _clean(point.limit)
    row["target_id"] = target_id
    row["source"] = point.source or ""
    return row


def existing_keys(session: Session, target_ids: Iterable[int]) -> set[tuple[int, str, str, float]]:
    """(target, source, band, time) of every stored point of these targets."""
    from sqlalchemy import select

    from tomcore.store.models import PhotometryRow

    ids = sorted(set(target_ids))
    keys: set[tuple[int, str, str, float]] = set()
    for start in range(0, len(ids), CHUNK):
        keys.update(session.execute(
            select(PhotometryRow.target_id, PhotometryRow.source, PhotometryRow.band, PhotometryRow.time)
            .where(PhotometryRow.target_id.in_(ids[start:start + CHUNK]))
        ).all())
    return keys


def insert_rows(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert photometry rows (table column names), skipping any that already exist."""
    from tomcore.store.models import PhotometryRow

    if not rows:
        return
    table = PhotometryRow.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).on_conflict_do_nothing(index_elements=["target_id", "source", "band", "time"])
    connection = session.connection()
    for start in range(0, len(rows), INSERT_CHUNK):
        connection.execute(statement, list(rows[start:start + INSERT_CHUNK]))


def insert_points(
    session: Session,
    points: Mapping[int, Sequence[PhotometryPoint]],
    *,
    query_name: str | None = None,
    data_product_id: int | None = None,
    now: datetime | None = None,
) -> dict[int, list[PhotometryPoint]]:
    """Store new points, by target id; return the points actually added, by target id.

    Points already stored (same target, source, band and time), and repeats within
    ``points``, are left out. Non-finite numbers are stored as NULL.
    """
    from tomcore.store.base import utcnow

    existing = existing_keys(session, points)
    now = now or utcnow()
    added: dict[int, list[PhotometryPoint]] = defaultdict(list)
    rows: list[dict[str, Any]] = []
    for target_id, target_points in points.items():
        for point in target_points:
            if not isinstance(point.time, (int, float)) or not math.isfinite(point.time) or not point.band:
                continue
            key = (target_id, point.source or "", point.band, float(point.time))
            if key in existing:
                continue
            existing.add(key)
            row = point_row(target_id, point)
            row.update(query_name=query_name, data_product_id=data_product_id, created=now)
            rows.append(row)
            added[target_id].append(point)
    insert_rows(session, rows)
    return dict(added)


def row_to_point(row: Any) -> PhotometryPoint:
    return PhotometryPoint(
        time=row.time, band=row.band, mag=row.mag, mag_err=row.mag_err, flux=row.flux, flux_err=row.flux_err,
        flux_unit=row.flux_unit, limit=row.mag_limit, telescope=row.telescope, instrument=row.instrument,
        source=row.source, source_id=row.source_id, extra=row.extra,
    )


def points_of(session: Session, target_id: int, *, band: str | None = None, since: float | None = None) -> list[PhotometryPoint]:
    """The stored points of a target, by time."""
    from sqlalchemy import select

    from tomcore.store.models import PhotometryRow

    query = select(PhotometryRow).where(PhotometryRow.target_id == target_id)
    if band is not None:
        query = query.where(PhotometryRow.band == band)
    if since is not None:
        query = query.where(PhotometryRow.time >= since)
    return [row_to_point(r) for r in session.execute(query.order_by(PhotometryRow.time, PhotometryRow.band)).scalars()]

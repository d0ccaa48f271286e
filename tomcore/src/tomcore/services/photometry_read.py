"""Reading stored photometry: a target's points as :class:`PhotometryPoint` objects or as
columns (a ``pyarrow.Table`` with the canonical schema), by time, filtered by band and time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tomcore.domain.data import PhotometryPoint

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from sqlalchemy.orm import Session


def row_to_point(row: Any) -> PhotometryPoint:
    return PhotometryPoint(
        time=row.time, band=row.band, mag=row.mag, mag_err=row.mag_err, flux=row.flux, flux_err=row.flux_err,
        flux_unit=row.flux_unit, limit=row.mag_limit, telescope=row.telescope, instrument=row.instrument,
        source=row.source, source_id=row.source_id, extra=row.extra,
    )


def _filtered(query: Any, band: str | Sequence[str] | None, since: float | None, until: float | None = None) -> Any:
    from tomcore.store.models import PhotometryRow

    if band is not None:
        bands = [band] if isinstance(band, str) else list(band)
        query = query.where(PhotometryRow.band.in_(bands))
    if since is not None:
        query = query.where(PhotometryRow.time >= since)
    if until is not None:
        query = query.where(PhotometryRow.time <= until)
    return query


def points_of(session: Session, target_id: int, *, band: str | Sequence[str] | None = None,
              since: float | None = None, until: float | None = None) -> list[PhotometryPoint]:
    """The stored points of a target, by time."""
    from sqlalchemy import select

    from tomcore.store.models import PhotometryRow

    query = _filtered(select(PhotometryRow).where(PhotometryRow.target_id == target_id), band, since, until)
    return [row_to_point(r) for r in session.execute(query.order_by(PhotometryRow.time, PhotometryRow.band)).scalars()]


def table_of(session: Session, target_id: int, *, band: str | Sequence[str] | None = None,
             since: float | None = None, until: float | None = None) -> pa.Table:
    """The stored points of a target as columns (canonical schema, ``target_id`` set), by time."""
    import pyarrow as pa
    from sqlalchemy import select

    from tomcore.store.models import PhotometryRow as P

    columns = [P.target_id, P.time, P.band, P.mag, P.mag_err, P.flux, P.flux_err, P.flux_unit, P.mag_limit,
               P.telescope, P.instrument, P.source, P.source_id, P.extra]
    query = _filtered(select(*columns).where(P.target_id == target_id), band, since, until).order_by(P.time, P.band)
    rows = session.execute(query).all()
    from tomcore.services.photometry import schema

    target = schema()
    if not rows:
        return target.empty_table()
    values = list(zip(*rows, strict=True))
    values[-1] = tuple(None if v is None else json.dumps(v) for v in values[-1])
    return pa.Table.from_arrays([pa.array(v, f.type) for v, f in zip(values, target, strict=True)], schema=target)

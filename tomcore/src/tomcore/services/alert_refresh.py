"""Refresh the light curves of objects already in the TOM from their brokers.

The objects are those a broker's photometry came from (``photometry.source`` is the
broker, ``source_id`` its object id), as the TOM Toolkit's ``updatereduceddata`` does for
every broker that is a data source: each object's light curve is fetched again
(:meth:`Broker.light_curves`, ``workers`` at a time) and the new points are added to the
target already holding that object's points. Stored points are never duplicated (unique by
target, source, band and time). Objects are done in chunks, one transaction each, so an
interruption keeps every finished chunk; an object the broker no longer knows, or cannot
read, is reported and the others go on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tomcore.domain.alerts import RefreshSummary
from tomcore.domain.data import PhotometryPoint, ReducedDataBatch

if TYPE_CHECKING:  # pragma: no cover
    from tomcore.app import Tom
    from tomcore.contracts.brokers import Broker

#: Objects fetched and written per transaction.
CHUNK = 100


def stored_objects(tom: Tom, broker: str, target_ids: Sequence[int] | None = None) -> dict[str, set[int]]:
    """Object id -> ids of the targets holding photometry from it, for one broker."""
    from sqlalchemy import select

    from tomcore.store.models import PhotometryRow

    query = (select(PhotometryRow.source_id, PhotometryRow.target_id)
             .where(PhotometryRow.source == broker, PhotometryRow.source_id.is_not(None))
             .distinct())
    if target_ids is not None:
        query = query.where(PhotometryRow.target_id.in_(list(target_ids)))
    found: dict[str, set[int]] = defaultdict(set)
    with tom.db.session(readonly=True) as session:
        for object_id, target_id in session.execute(query):
            found[str(object_id)].add(int(target_id))
    return dict(sorted(found.items()))


def refresh(tom: Tom, broker: Broker, *, target_ids: Sequence[int] | None = None, chunk: int = CHUNK,
            progress: Callable[[int], None] | None = None) -> RefreshSummary:
    """Fetch again the light curves of ``broker``'s stored objects (of ``target_ids`` only,
    if given) and add what is new. A :class:`ServiceError` (the broker gave up) is raised
    after the chunks already written were committed."""
    from tomcore.services.photometry import insert_points

    objects = stored_objects(tom, broker.name, target_ids)
    summary = RefreshSummary(broker=broker.name, objects=len(objects))
    ids = list(objects)
    touched: set[int] = set()
    for start in range(0, len(ids), max(1, chunk)):
        part = ids[start:start + chunk]
        curves = broker.light_curves(part)
        summary.problems.extend(curves.problems)
        points: dict[int, list[PhotometryPoint]] = defaultdict(list)
        for object_id in part:
            for target_id in objects[object_id]:
                points[target_id].extend(curves.points.get(object_id, ()))
        added: dict[int, list[PhotometryPoint]] = {}
        if any(points.values()):
            with tom.db.session() as session:
                added = insert_points(session, points, now=tom.now())
        if added:
            touched.update(added)
            summary.points_added += sum(len(p) for p in added.values())
            _emit(tom, broker.name, added)
        if progress is not None:
            progress(len(part))
    summary.targets_updated = len(touched)
    return summary


def _emit(tom: Tom, broker: str, added: dict[int, list[PhotometryPoint]]) -> None:
    from sqlalchemy import select

    from tomcore.store.models import TargetRow

    with tom.db.session(readonly=True) as session:
        names = dict(session.execute(select(TargetRow.id, TargetRow.name).where(TargetRow.id.in_(list(added)))).all())
    tom.emit("on_reduced_data_saved", batch=ReducedDataBatch(
        kind="photometry", counts={tid: len(p) for tid, p in added.items()},
        target_names={tid: names.get(tid, "") for tid in added}, source=broker, photometry=added))

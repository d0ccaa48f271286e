"""Updating existing targets in batches: what ``save(on_duplicate="update")`` does to the
targets a batch matched, set-based.

The matched targets are read once (:meth:`TargetService.load`: a few queries per 900
targets), the changes are worked out in memory, and each kind of change is written for the
whole batch with one statement shape (executemany, or COPY and one statement on PostgreSQL
for many rows): an ``UPDATE`` of the changed fields per set of fields changed (with the sky
columns of moved targets computed vectorised), an ``INSERT`` of the new names, an upsert of
the extras, an ``INSERT`` of the list memberships. The targets as saved are the loaded ones
with the changes applied, in the form a new load would give (no second read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from tomcore.domain.targets import NUMERIC_FIELDS, SIDEREAL, Target, normalise_name

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.services.targets import SaveOutcome, TargetService

#: Fields an update (or an edit) may set (besides the name).
EDITABLE = ("type", *NUMERIC_FIELDS, "scheme")
_EDITABLE_GET = attrgetter(*EDITABLE)
#: Columns derived from ra/dec.
SKY_COLUMNS = ("hpx", "cx", "cy", "cz", "galactic_lng", "galactic_lat")


def stored_value(value: Any) -> Any:
    """An extra value as it reads back from the database: datetimes aware in UTC, a date
    as midnight UTC, anything else unchanged."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def sky_values(ra: Sequence[float], dec: Sequence[float]) -> dict[str, list[Any]]:
    """The derived sky columns (:data:`SKY_COLUMNS`) of positions in degrees, vectorised."""
    from tomcore.services.sky import galactic, sky_columns

    if not len(ra):
        return {c: [] for c in SKY_COLUMNS}
    sky = sky_columns(ra, dec)
    gl, gb = galactic(ra, dec)
    return {"hpx": sky["hpx"].tolist(), "cx": sky["cx"].tolist(), "cy": sky["cy"].tolist(), "cz": sky["cz"].tolist(),
            "galactic_lng": gl.tolist(), "galactic_lat": gb.tolist()}


def set_extras(session: Session, values: Mapping[int, Mapping[str, Any]],
               remove: Mapping[int, Sequence[str]] | None = None) -> None:
    """Set (``values``; a None value removes the key) and delete (``remove``) extras of
    targets by id: one upsert and one delete statement for all."""
    from tomcore.services.target_write import EXTRA_COLUMNS, BulkWriter

    writer = BulkWriter(session)
    gone = [(tid, key) for tid, keys in (remove or {}).items() for key in dict.fromkeys(keys)
            if key not in values.get(tid, {})]
    gone += [(tid, key) for tid, given in values.items() for key, value in given.items() if value is None]
    writer.delete_keys("target_extras", ("target_id", "key"), gone)
    rows = writer.extra_rows((tid, dict(given)) for tid, given in values.items())
    writer.upsert("target_extras", EXTRA_COLUMNS, ("target_id", "key"), rows)


def update_rows(session: Session, fields: Mapping[int, Mapping[str, Any]], touched: Sequence[int], now: Any) -> None:
    """Write changed fields of targets by id (one UPDATE shape per set of fields) and set
    ``modified`` to ``now`` on every target in ``touched``."""
    from tomcore.services.target_write import BulkWriter

    writer = BulkWriter(session)
    stamp = writer.time(now)
    shapes: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for tid in touched:
        changes = fields.get(tid, {})
        shape = tuple(sorted(changes))
        shapes.setdefault(shape, []).append((*(changes[c] for c in shape), stamp, tid))
    for shape, rows in shapes.items():
        writer.update("targets", (*shape, "modified"), rows)


def update_matched(service: TargetService, session: Session, targets: Sequence[Target], outcomes: list[SaveOutcome],
                   overwrite: bool, source: str | None, now: Any, overwrite_extras: bool | None = None) -> None:
    """Apply incoming targets to the existing targets they matched (``save(on_duplicate=
    "update")``): names become aliases; fields are set (all, or only empty ones unless
    ``overwrite``); extras are set (all, or only missing ones unless ``overwrite_extras``,
    which defaults to ``overwrite``); lists are added. Sets each outcome's action to
    ``updated`` or ``unchanged`` and its target to the target as saved."""
    from tomcore.services.lists import add_memberships
    from tomcore.services.target_write import NAME_COLUMNS, BulkWriter

    if overwrite_extras is None:
        overwrite_extras = overwrite
    session.flush()  # pending ORM changes first: the writes below go through the driver
    ids = [o.candidates[0].target_id for o in outcomes]
    existing = service.load(session, ids)
    writer = BulkWriter(session)
    taken = writer.existing_names(n for o in outcomes for n in targets[o.index].names)
    stamp = writer.time(now)
    new_names: list[tuple[Any, ...]] = []
    fields: dict[int, dict[str, Any]] = {}
    extras: dict[int, dict[str, Any]] = {}
    memberships: dict[int, list[str]] = {}
    changed_ids: dict[int, None] = {}
    for outcome in outcomes:
        incoming, tid = targets[outcome.index], outcome.candidates[0].target_id
        current = existing[tid]
        changed = False
        for field, value, old in zip(EDITABLE, _EDITABLE_GET(incoming), _EDITABLE_GET(current), strict=True):
            if value is None or value == old or (field == "type" and value == SIDEREAL and incoming.ra is None):
                continue  # (a bare name carries no type)
            if overwrite or old is None:
                setattr(current, field, value)
                fields.setdefault(tid, {})[field] = value
                changed = True
        for name in incoming.names:
            if name not in taken and name not in current.names:
                taken.add(name)
                new_names.append((tid, name, normalise_name(name), False, source, stamp))
                current.aliases.append(name)
                changed = True
        for key, value in incoming.extras.items():
            if value is None or (key in current.extras and not overwrite_extras):
                continue
            value = stored_value(value)
            old = current.extras.get(key, _MISSING)
            if old is _MISSING or old != value or old.__class__ is not value.__class__:
                current.extras[key] = value
                extras.setdefault(tid, {})[key] = value
                changed = True
        new_lists = [name.strip() for name in incoming.lists if name.strip() not in current.lists]
        if new_lists:
            memberships.setdefault(tid, []).extend(new_lists)
            current.lists.extend(dict.fromkeys(new_lists))
            changed = True
        if changed:
            changed_ids[tid] = None
        outcome.action = "updated" if changed else "unchanged"
    moved = [tid for tid, f in fields.items() if ("ra" in f or "dec" in f)
             and existing[tid].ra is not None and existing[tid].dec is not None]
    if moved:
        sky = sky_values([existing[t].ra for t in moved], [existing[t].dec for t in moved])  # type: ignore[misc]
        for k, tid in enumerate(moved):
            for column in SKY_COLUMNS:
                fields[tid][column] = sky[column][k]
            existing[tid].galactic_lng, existing[tid].galactic_lat = sky["galactic_lng"][k], sky["galactic_lat"][k]
    update_rows(session, fields, list(changed_ids), now)
    writer.insert("target_names", NAME_COLUMNS, new_names)
    if extras:
        set_extras(session, extras)
    if memberships:
        add_memberships(session, memberships, now)
    saved_at = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    for tid in changed_ids:
        target = existing[tid]
        target.modified = saved_at
        if tid in extras:
            target.extras = dict(sorted(target.extras.items()))
        if tid in memberships:
            target.lists.sort()
    for outcome in outcomes:
        tid = outcome.candidates[0].target_id
        outcome.target = existing[tid]
        if outcome.action == "unchanged" and tid in changed_ids:
            outcome.action = "updated"  # an earlier row of the batch changed the same target


_MISSING = object()

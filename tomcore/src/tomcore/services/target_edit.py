"""Changing existing targets: updates from a save batch, edits, aliases, deletion.

Every change goes through the same checks as creation (:meth:`Target.problems`, names
unique across names and aliases through the matcher), is written in one transaction, and
fires ``on_targets_updated`` once with the changed targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from tomcore.domain.targets import Target, normalise_name
from tomcore.errors import DuplicateError, NotFoundError, ValidationError
from tomcore.services.target_update import EDITABLE, set_extras, update_matched

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.services.targets import TargetService

__all__ = ["EDITABLE", "update_matched"]  # kept importable from here


def set_sky(row: Any) -> None:
    """Recompute a ``targets`` row's derived sky columns from its ra/dec."""
    from tomcore.services.sky import galactic, sky_columns

    if row.ra is None or row.dec is None:
        row.hpx = row.cx = row.cy = row.cz = row.galactic_lng = row.galactic_lat = None
        return
    sky = sky_columns([row.ra], [row.dec])
    row.hpx, row.cx, row.cy, row.cz = int(sky["hpx"][0]), float(sky["cx"][0]), float(sky["cy"][0]), float(sky["cz"][0])
    gl, gb = galactic([row.ra], [row.dec])
    row.galactic_lng, row.galactic_lat = float(gl[0]), float(gb[0])


def replace_extras(session: Session, values: Mapping[int, Mapping[str, Any]], remove: Mapping[int, Sequence[str]] | None = None) -> None:
    """Set (``values``) and delete (``remove``) extras of targets by id (set-based; see
    :func:`tomcore.services.target_update.set_extras`)."""
    set_extras(session, values, remove)


def check_names_free(service: TargetService, session: Session, names: Sequence[str], target_id: int | None) -> None:
    """Refuse names already used (exactly, or normalised) by another target."""
    if not names:
        return
    hits = service.tom.matcher.by_names(session, names)
    clashes = []
    for name in names:
        for tid, primary, matched in hits.get(normalise_name(name), ()):
            if tid != target_id:
                clashes.append(f"{name!r} is already " + ("the name" if matched == primary else f"an alias ({matched!r})")
                               + f" of target {primary!r}")
    if clashes:
        raise DuplicateError("; ".join(dict.fromkeys(clashes)))


def edit_target(service: TargetService, name: str, *, fields: Mapping[str, Any] | None = None,
                rename: str | None = None, keep_old_name: bool = False, extras: Mapping[str, Any] | None = None,
                remove_extras: Sequence[str] = ()) -> Target:
    """Change a target's fields, name and extras; return it as saved.

    ``fields`` holds typed values (None clears a field); ``rename`` gives it a new primary
    name (the old one is dropped, or kept as an alias with ``keep_old_name``).
    """
    from sqlalchemy import delete, select

    from tomcore.store.models import TargetNameRow, TargetRow

    fields = dict(fields or {})
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ValidationError(f"cannot set {', '.join(unknown)}", {f: ["is not an editable field"] for f in unknown})
    tom = service.tom
    with tom.db.session() as session:
        tid = service.resolve_id(session, name)
        current = service.load(session, [tid])[tid]
        changed = attrs.evolve(current, aliases=list(current.aliases), extras=dict(current.extras), lists=list(current.lists))
        for field, value in fields.items():
            setattr(changed, field, value)
        missing = [k for k in remove_extras if k not in current.extras]
        if missing:
            raise NotFoundError(f"target {current.name!r} has no extra {', '.join(repr(k) for k in missing)}")
        new_name = rename.strip() if rename is not None else None
        if new_name is not None and new_name != current.name:
            changed.name = new_name
            changed.aliases = [a for a in changed.aliases if a != new_name]
            if keep_old_name:
                changed.aliases.append(current.name)
            check_names_free(service, session, [new_name], tid)
        for key in remove_extras:
            changed.extras.pop(key, None)
        changed.extras.update(extras or {})
        problems = changed.problems()
        if problems:
            raise ValidationError(f"target {current.name!r} cannot be changed so", problems)
        row = session.get(TargetRow, tid)
        assert row is not None
        for field in fields:
            setattr(row, field, getattr(changed, field))
        if {"ra", "dec"} & set(fields):
            set_sky(row)
        if changed.name != current.name:
            row.name = changed.name
            old = session.execute(select(TargetNameRow).where(TargetNameRow.target_id == tid,
                                                              TargetNameRow.is_primary.is_(True))).scalar_one()
            # an alias becoming the name: drop the alias row first
            session.execute(delete(TargetNameRow).where(TargetNameRow.name == changed.name,
                                                        TargetNameRow.target_id == tid))
            if keep_old_name:
                old.is_primary = False
                session.flush()
                session.add(TargetNameRow(target_id=tid, name=changed.name, norm=normalise_name(changed.name),
                                          is_primary=True, source="edit", created=tom.now()))
            else:
                old.name, old.norm = changed.name, normalise_name(changed.name)
        if extras or remove_extras:
            replace_extras(session, {tid: dict(extras or {})}, {tid: list(remove_extras)})
        row.modified = tom.now()
        session.flush()
        saved = service.load(session, [tid])[tid]
    tom.emit("on_targets_updated", targets=[saved])
    return saved


def add_aliases(service: TargetService, name: str, aliases: Sequence[str], source: str | None = "manual") -> Target:
    """Give a target more names; refused when another target has one of them."""
    from tomcore.services.target_write import NAME_COLUMNS, BulkWriter

    wanted = list(dict.fromkeys(a.strip() for a in aliases if a and a.strip()))
    if not wanted:
        raise ValidationError("no alias given")
    tom = service.tom
    with tom.db.session() as session:
        tid = service.resolve_id(session, name)
        current = service.load(session, [tid])[tid]
        new = [a for a in wanted if a not in current.names]
        if not new:
            return current
        too_long = [a for a in new if len(a) > 200]
        if too_long:
            raise ValidationError("alias too long", {a[:40] + "...": ["is longer than 200 characters"] for a in too_long})
        check_names_free(service, session, new, tid)
        writer = BulkWriter(session)
        now = tom.now()
        writer.insert("target_names", NAME_COLUMNS,
                      [(tid, a, normalise_name(a), False, source, writer.time(now)) for a in new])
        _touch(session, tid, now)
        saved = service.load(session, [tid])[tid]
    tom.emit("on_targets_updated", targets=[saved])
    return saved


def remove_aliases(service: TargetService, name: str, aliases: Sequence[str]) -> Target:
    """Remove aliases of a target (never its primary name)."""
    from sqlalchemy import delete

    from tomcore.store.models import TargetNameRow

    tom = service.tom
    with tom.db.session() as session:
        tid = service.resolve_id(session, name)
        current = service.load(session, [tid])[tid]
        unknown = [a for a in aliases if a not in current.aliases]
        if current.name in aliases:
            raise ValidationError(f"{current.name!r} is the target's name, not an alias; rename it with "
                                  "`tom targets edit --name`")
        if unknown:
            raise NotFoundError(f"target {current.name!r} has no alias {', '.join(repr(a) for a in unknown)}"
                                + (f" (its aliases: {', '.join(current.aliases)})" if current.aliases else ""))
        session.execute(delete(TargetNameRow).where(TargetNameRow.target_id == tid, TargetNameRow.name.in_(list(aliases)),
                                                    TargetNameRow.is_primary.is_(False)))
        _touch(session, tid, tom.now())
        saved = service.load(session, [tid])[tid]
    tom.emit("on_targets_updated", targets=[saved])
    return saved


def _touch(session: Session, tid: int, now: Any) -> None:
    from sqlalchemy import update

    from tomcore.store.models import TargetRow

    session.execute(update(TargetRow).where(TargetRow.id == tid).values(modified=now))


def dependents(session: Session, target_ids: Sequence[int]) -> dict[str, int]:
    """How many rows of each other table refer to these targets (observations, data
    products, photometry...; every foreign key to ``targets.id``), by table name."""
    from sqlalchemy import func, select

    counts: dict[str, int] = {}
    for table, column in target_references():
        count = session.execute(select(func.count()).select_from(table).where(column.in_(list(target_ids)))).scalar_one()
        if count:
            counts[table.name] = int(count)
    return counts


#: Tables of the targets area itself (handled explicitly by merge and delete).
OWN_TABLES = ("target_names", "target_extras", "target_list_members")


def target_references() -> list[tuple[Any, Any]]:
    """``(table, column)`` of every foreign key to ``targets.id`` outside the targets
    area's own tables (found in the models' metadata, so tables added later count too)."""
    from tomcore.store.models import Base

    found = []
    for table in Base.metadata.sorted_tables:
        if table.name in OWN_TABLES or table.name == "targets":
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == "targets" and fk.column.name == "id":
                found.append((table, fk.parent))
    return found


def delete_targets(service: TargetService, names: Sequence[str]) -> list[Target]:
    """Delete targets (and, through the foreign keys, their names, extras, list memberships,
    observations, data products and photometry). Returns the targets deleted."""
    from sqlalchemy import delete

    from tomcore.store.models import TargetRow

    with service.tom.db.session() as session:
        ids = list(dict.fromkeys(service.resolve_ids(session, names).values()))
        gone = list(service.load(session, ids).values())
        for start in range(0, len(ids), 900):
            session.execute(delete(TargetRow).where(TargetRow.id.in_(ids[start:start + 900])))
    return gone

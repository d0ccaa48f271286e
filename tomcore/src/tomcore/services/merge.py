"""Merging two targets that are the same object (``tom targets merge KEEP OTHER``).

In one transaction: OTHER's name and aliases become aliases of KEEP; fields KEEP lacks are
filled from OTHER; extras KEEP lacks and OTHER's list memberships move to KEEP; every row of
any other table pointing at OTHER (observation records, data products, photometry, and any
table added later with a foreign key to ``targets.id``) is re-pointed to KEEP, dropping the
rows that would then duplicate one of KEEP's under a unique constraint (a photometry point
KEEP already has); then OTHER is deleted and ``on_targets_updated`` fires with KEEP.

Two targets whose positions differ by more than the match radius, or whose types differ,
are refused unless ``force``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from tomcore.domain.targets import NUMERIC_FIELDS, Target
from tomcore.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session

    from tomcore.app import Tom


@attrs.define
class MergePlan:
    """What a merge would do: the two targets, their separation, rows that would move."""

    keep: Target
    other: Target
    separation_arcsec: float | None
    related: dict[str, int]
    conflicts: list[str]

    def describe(self) -> str:
        parts = []
        if self.separation_arcsec is not None:
            parts.append(f'{self.separation_arcsec:.2f}" apart')
        parts += [f"{count} {table.replace('_', ' ')}" for table, count in self.related.items()]
        return f" ({'; '.join(parts)})" if parts else ""


@attrs.define
class MergeResult:
    """The merged target, the name of the one removed, and rows moved/dropped by table."""

    target: Target
    other_name: str
    moved: dict[str, int] = attrs.Factory(dict)
    dropped: dict[str, int] = attrs.Factory(dict)

    def describe(self) -> str:
        parts = [f"{count} {table.replace('_', ' ')} moved" for table, count in self.moved.items()]
        parts += [f"{count} duplicate {table.replace('_', ' ')} dropped" for table, count in self.dropped.items()]
        return "; ".join(parts)


def _pair(tom: Tom, session: Session, keep: str, other: str) -> tuple[int, int, Target, Target]:
    keep_id = tom.targets.resolve_id(session, keep)
    other_id = tom.targets.resolve_id(session, other)
    if keep_id == other_id:
        raise ValidationError(f"{keep!r} and {other!r} are the same target")
    loaded = tom.targets.load(session, [keep_id, other_id])
    return keep_id, other_id, loaded[keep_id], loaded[other_id]


def _conflicts(tom: Tom, a: Target, b: Target) -> tuple[float | None, list[str]]:
    from tomcore.services.sky import separation_deg

    conflicts = []
    separation = None
    if a.ra is not None and a.dec is not None and b.ra is not None and b.dec is not None:
        separation = float(separation_deg(a.ra, a.dec, b.ra, b.dec)) * 3600.0
        radius = tom.matcher.radius_arcsec
        if separation > radius:
            conflicts.append(f'they are {separation:.2f}" apart, beyond the match radius of {radius:g}"')
    if a.type != b.type:
        conflicts.append(f"{a.name!r} is {a.type} and {b.name!r} is {b.type}")
    return separation, conflicts


def plan_merge(tom: Tom, keep: str, other: str, *, force: bool = False) -> MergePlan:
    """Check a merge (refused on conflicts unless ``force``) and say what it would move."""
    from tomcore.services.target_edit import dependents

    with tom.db.session(readonly=True) as session:
        _keep_id, other_id, a, b = _pair(tom, session, keep, other)
        separation, conflicts = _conflicts(tom, a, b)
        related = dependents(session, [other_id])
    if conflicts and not force:
        raise ValidationError(f"refusing to merge {b.name!r} into {a.name!r}: {'; '.join(conflicts)} (--force merges anyway)")
    return MergePlan(a, b, separation, related, conflicts)


def _unique_sets(table: Any, column: str) -> list[list[str]]:
    """Column sets of ``table``'s unique constraints and unique indexes holding ``column``."""
    from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

    sets = []
    for constraint in table.constraints:
        if isinstance(constraint, (UniqueConstraint, PrimaryKeyConstraint)):
            names = [c.name for c in constraint.columns]
            if column in names and len(names) > 1:
                sets.append(names)
    for index in table.indexes:
        names = [c.name for c in index.columns]
        if index.unique and column in names and len(names) > 1:
            sets.append(names)
    return sets


def repoint(session: Session, keep_id: int, other_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """Re-point every foreign key to ``targets.id`` from OTHER to KEEP (tables outside the
    targets area), dropping OTHER's rows that would break a unique constraint. Returns the
    rows moved and dropped, by table."""
    from sqlalchemy import and_, delete, exists, select, update

    from tomcore.services.target_edit import target_references

    moved: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for table, column in target_references():
        for names in _unique_sets(table, column.name):
            kept = table.alias("kept")
            same = [kept.c[column.name] == keep_id] + [kept.c[n] == table.c[n] for n in names if n != column.name]
            result = session.execute(delete(table).where(
                column == other_id, exists(select(kept.c[column.name]).where(and_(*same)))))
            if result.rowcount:  # type: ignore[attr-defined]
                dropped[table.name] = dropped.get(table.name, 0) + int(result.rowcount)  # type: ignore[attr-defined]
        result = session.execute(update(table).where(column == other_id).values({column.name: keep_id}))
        if result.rowcount:  # type: ignore[attr-defined]
            moved[table.name] = moved.get(table.name, 0) + int(result.rowcount)  # type: ignore[attr-defined]
    return moved, dropped


def merge(tom: Tom, keep: str, other: str, *, force: bool = False) -> MergeResult:
    """Merge target ``other`` into ``keep`` (names or aliases); see the module docs."""
    from sqlalchemy import delete, update

    from tomcore.services.lists import add_memberships
    from tomcore.services.target_edit import set_sky
    from tomcore.store.models import TargetExtraRow, TargetNameRow, TargetRow

    with tom.db.session() as session:
        keep_id, other_id, a, b = _pair(tom, session, keep, other)
        _separation, conflicts = _conflicts(tom, a, b)
        if conflicts and not force:
            raise ValidationError(f"refusing to merge {b.name!r} into {a.name!r}: {'; '.join(conflicts)} "
                                  "(--force merges anyway)")
        now = tom.now()
        row = session.get(TargetRow, keep_id)
        assert row is not None
        filled = False
        for field in (*NUMERIC_FIELDS, "scheme"):
            if getattr(a, field) is None and getattr(b, field) is not None:
                setattr(row, field, getattr(b, field))
                filled = filled or field in ("ra", "dec")
        if filled:
            set_sky(row)
        row.modified = now
        session.execute(update(TargetNameRow).where(TargetNameRow.target_id == other_id)
                        .values(target_id=keep_id, is_primary=False))
        keep_keys = list(a.extras)
        move_extras = update(TargetExtraRow).where(TargetExtraRow.target_id == other_id)
        if keep_keys:
            move_extras = move_extras.where(TargetExtraRow.key.not_in(keep_keys))
        session.execute(move_extras.values(target_id=keep_id))
        if b.lists:
            add_memberships(session, {keep_id: b.lists}, now)
        moved, dropped = repoint(session, keep_id, other_id)
        session.flush()
        session.execute(delete(TargetRow).where(TargetRow.id == other_id))
        session.expire_all()
        merged = tom.targets.load(session, [keep_id])[keep_id]
    tom.emit("on_targets_updated", targets=[merged])
    return MergeResult(merged, b.name, moved, dropped)
